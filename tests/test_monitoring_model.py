"""Monitoring's foundation: check templates whose parameters are checked against what the
checks/ probes take, assignments to six kinds of object, and the resolution of which
(template, address, port) checks they make: each target kind, prefix inheritance with the
most specific assignment winning, disabled assignments, and tenants kept apart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from worker_rows import insert_worker_row

from checks import probe_from_dict
from checks.probes import PROBE_TYPES
from models.monitoring import CheckKind, CheckState
from permissions.principal import Principal
from resolvers.monitoring import PARAMETERS, checks_for, probe_dict, purge_results


def ref(kind: str, object_id: str) -> dict[str, str]:
    return {"type": kind, "id": object_id}


async def template(lab: Lab, name: str, kind: str = "KIND_ICMP", **fields: Any) -> str:
    return await lab.make("check_template", name=name, kind=kind, **fields)


async def assign(lab: Lab, template_id: str, kind: str, object_id: str, **fields: Any) -> str:
    return await lab.make("check_assignment", template=template_id, assigned_object=ref(kind, object_id), **fields)


async def resolved(db: Any, tenant: Any, **filters: Any) -> set[tuple[str, str, int | None]]:
    """(template id, address, port) of a tenant's checks."""
    async with db.system_transaction() as conn:
        found = await checks_for(conn, tenant_id=uuid.UUID(str(tenant)), **filters)
    return {(str(c.template_id), c.address, c.port) for c in found}


def test_the_kinds_are_the_probes():
    assert {kind.value for kind in CheckKind} == set(PROBE_TYPES) == set(PARAMETERS)


@pytest.mark.parametrize(
    ("kind", "parameters", "field"),
    [
        ("KIND_TCP", [22], "parameters"),
        ("KIND_TCP", {"port": 0}, "parameters.port"),
        ("KIND_TCP", {"port": "22"}, "parameters.port"),
        ("KIND_TCP", {"community": "public"}, "parameters.community"),
        ("KIND_UDP", {"port": 53}, "parameters.payload"),
        ("KIND_SNMP", {}, "parameters.oid"),
        ("KIND_SNMP", {"oid": "1.3.6.1.2.1.1.3.0", "community": "x"}, "parameters.community"),
        ("KIND_SNMP", {"oid": "not an oid"}, "parameters.oid"),
        ("KIND_SNMP", {"oid": "1.3.6.1.2.1.1.3.0", "expect": {"op": "<<", "operand": 1}}, "parameters.expect.op"),
        ("KIND_SNMP", {"oid": "1.3.6.1.2.1.1.3.0", "expect": {"op": "matches", "operand": "("}}, "parameters"),
        ("KIND_HTTP", {"path": "health"}, "parameters.path"),
        ("KIND_HTTP", {"expect_status": [200, 999]}, "parameters.expect_status"),
        ("KIND_HTTP", {"body_pattern": "(unclosed"}, "parameters.body_pattern"),
        ("KIND_HTTP", {"headers": {"X-Evil": "a\r\nInjected: 1"}}, "parameters.headers.X-Evil"),
        ("KIND_HTTP", {"scheme": "gopher"}, "parameters.scheme"),
        ("KIND_DNS", {"record_type": "A"}, "parameters.name"),
        ("KIND_DNS", {"name": "example.net", "expect": ["x" * 300]}, "parameters.expect"),
        ("KIND_ICMP", {"count": 10_000}, "parameters.count"),
        ("KIND_ICMP", {"count": True}, "parameters.count"),
        ("KIND_SSH", {"port": 22, "expect": "[" * 2000}, "parameters.expect"),
    ],
)
async def test_parameters_are_checked_per_kind(api, org, kind, parameters, field):
    lab = Lab(api, org.tenant_ids[0])
    error = await lab.refuse("check_template", name="bad", kind=kind, parameters=parameters)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    assert (await api.data("{ check_template_list { id } }"))["check_template_list"] == []


async def test_templates_that_checks_can_run(api, org):
    lab = Lab(api, org.tenant_ids[0])
    good = {
        "KIND_ICMP": {"count": 3, "interval": 0.2},
        "KIND_TCP": {"port": 443, "send": "PING\r\n", "expect": "PONG"},
        "KIND_UDP": {"port": 123, "payload": "hello"},
        "KIND_HTTP": {"scheme": "https", "path": "/health", "expect_status": [200, 204], "body_pattern": "ok", "headers": {"Host": "portal"}},
        "KIND_SNMP": {"oid": "1.3.6.1.2.1.1.3.0", "expect": {"op": "gt", "operand": 100}},
        "KIND_SSH": {"expect": "OpenSSH"},
        "KIND_DNS": {"name": "example.net", "record_type": "AAAA", "expect": ["2001:db8::1"]},
    }
    for kind, parameters in good.items():
        await template(lab, kind, kind, parameters=parameters, degraded_latency_ms=250)
    got = (await api.data("{ check_template_list { kind parameters interval_seconds rise fall } }"))["check_template_list"]
    assert len(got) == 7 and {t["kind"] for t in got} == {k.value for k in CheckKind}
    # Each makes a probe checks/ accepts, for any target.
    for kind, parameters in good.items():
        name = kind.removeprefix("KIND_").lower()
        probe = probe_from_dict(probe_dict(name, parameters, "2001:db8::7", 8443))
        assert probe.kind == name
    assert probe_dict("http", good["KIND_HTTP"], "2001:db8::7", 8443)["url"] == "https://[2001:db8::7]:8443/health"

    # Timing and degraded thresholds.
    error = await lab.refuse("check_template", name="slow", kind="KIND_ICMP", interval_seconds=10, timeout_seconds=10)
    assert error["extensions"]["field"] == "timeout_seconds"
    error = await lab.refuse("check_template", name="half", kind="KIND_ICMP", degraded_value_op="OP_GT")
    assert error["extensions"]["field"] == "degraded_value"
    error = await lab.refuse("check_template", name="regex", kind="KIND_SSH", degraded_value_op="OP_MATCHES", degraded_value="(")
    assert error["extensions"]["field"] == "degraded_value"
    error = await lab.refuse("check_template", name="fast", kind="KIND_ICMP", interval_seconds=1)
    assert error["extensions"]["field"] == "interval_seconds"
    await template(lab, "lossy", degraded_value_op="OP_GT", degraded_value="0.2")
    # An update is judged with the row's other values.
    icmp = (await api.data('{ check_template_list(filters: {name: {exact: "lossy"}}) { id } }'))["check_template_list"][0]["id"]
    error = await lab.update_error("check_template", icmp, parameters={"oid": "1.3.6.1"})
    assert error["extensions"]["field"] == "parameters.oid"
    # Only SNMP checks take an SNMP profile.
    snmp_profile = await lab.make("snmp_profile", name="p", community="c")
    error = await lab.update_error("check_template", icmp, snmp_profile=snmp_profile)
    assert error["extensions"]["field"] == "snmp_profile"


async def _world(lab: Lab) -> dict[str, str]:
    """Two devices in a site and a role, addresses in nested prefixes, a service."""
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    w = dict(c)
    w["core"] = await lab.device(c, kind, "core1", management_address="192.0.2.1")
    other_role = await lab.make("device_role", name="Edge", slug="edge")
    other_site = await lab.make("site", name="FRA1", slug="fra1")
    w["edge"] = await lab.device({**c, "role": other_role, "site": other_site}, kind, "edge1")
    w["edge_role"], w["edge_site"] = other_role, other_site
    eth0 = await lab.make("interface", device=w["edge"], name="eth0", type="TYPE_1000BASE_T")
    w["edge_ip"] = await lab.make("ip_address", address="10.1.2.3/24", assigned_object=ref("dcim.interface", eth0))
    await lab.update("device", w["edge"], primary_ip4=w["edge_ip"])
    for prefix in ("10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/28"):
        w[prefix] = await lab.make("prefix", prefix=prefix)
    for address in ("10.1.2.4/24", "10.1.9.9/16", "10.200.0.1/8", "172.16.0.1/12"):
        w[address] = await lab.make("ip_address", address=address)
    w["service"] = await lab.make(
        "service", name="web", protocol="ROLE_TCP", ports=[80, 8080], parent=ref("dcim.device", w["core"]), ipaddresses=[w["10.1.2.4/24"]]
    )
    w["bare_service"] = await lab.make("service", name="ssh", protocol="ROLE_TCP", ports=[2222], parent=ref("dcim.device", w["core"]))
    return w


async def test_each_target_kind(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    tenant = org.tenant_ids[0]
    w = await _world(lab)
    ping = await template(lab, "ping")
    ssh = await template(lab, "ssh", "KIND_SSH")
    tcp = await template(lab, "tcp", "KIND_TCP")  # no port: services only
    assert await resolved(db, tenant) == set()

    # A device: its management address, else its primary IP.
    await assign(lab, ping, "dcim.device", w["core"])
    await assign(lab, ping, "dcim.device", w["edge"])
    assert await resolved(db, tenant) == {(ping, "192.0.2.1", None), (ping, "10.1.2.3", None)}
    # A role or a site: every device of it (the same check made twice is one check).
    await assign(lab, ssh, "dcim.devicerole", w["role"])
    await assign(lab, ssh, "dcim.site", w["edge_site"])
    assert {c for c in await resolved(db, tenant) if c[0] == ssh} == {(ssh, "192.0.2.1", 22), (ssh, "10.1.2.3", 22)}
    # An IP address: that address.
    await assign(lab, ping, "ipam.ipaddress", w["172.16.0.1/12"])
    assert (ping, "172.16.0.1", None) in await resolved(db, tenant)
    # A service: its addresses and each port; with none, its device's address.
    await assign(lab, tcp, "ipam.service", w["service"])
    await assign(lab, tcp, "ipam.service", w["bare_service"])
    assert {c for c in await resolved(db, tenant) if c[0] == tcp} == {(tcp, "10.1.2.4", 80), (tcp, "10.1.2.4", 8080), (tcp, "192.0.2.1", 2222)}
    # A portless TCP template assigned anywhere else would check nothing: refused.
    error = await lab.refuse("check_assignment", template=tcp, assigned_object=ref("dcim.device", w["core"]))
    assert error["extensions"]["field"] == "template", error
    # Nor can a template assigned elsewhere lose its port.
    error = await lab.update_error("check_template", ssh, kind="KIND_TCP")
    assert error["extensions"]["field"] == "parameters.port", error
    await lab.update("check_template", tcp, parameters={"send": "x"})  # only on services: no port needed
    # A template is applied to an object once.
    error = await lab.refuse("check_assignment", template=ping, assigned_object=ref("dcim.device", w["core"]))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "assigned_object"), error

    # The checks resolved for given objects, and what each is attributed to.
    async with db.system_transaction() as conn:
        by_device = await checks_for(conn, device_ids=[uuid.UUID(w["edge"])])
        by_service = await checks_for(conn, service_ids=[uuid.UUID(w["service"])])
        by_ip = await checks_for(conn, ip_address_ids=[uuid.UUID(w["edge_ip"])])
    assert {(str(c.template_id), c.address, c.port) for c in by_device} == {(ping, "10.1.2.3", None), (ssh, "10.1.2.3", 22)}
    assert {c.ip_address_id for c in by_device} == {uuid.UUID(w["edge_ip"])}
    assert {(c.address, c.port, str(c.device_id)) for c in by_service} == {("10.1.2.4", 80, w["core"]), ("10.1.2.4", 8080, w["core"])}
    assert {c.address for c in by_ip} == {"10.1.2.3"}  # the device's checks, through its primary IP


async def test_prefix_inheritance_and_the_most_specific_wins(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    tenant = org.tenant_ids[0]
    w = await _world(lab)
    ping = await template(lab, "ping")
    http = await template(lab, "http", "KIND_HTTP", parameters={"path": "/"})

    # A prefix: every address inside it, down the tree.
    await assign(lab, ping, "ipam.prefix", w["10.0.0.0/8"])
    inside = {"10.1.2.3", "10.1.2.4", "10.1.9.9", "10.200.0.1"}
    assert await resolved(db, tenant) == {(ping, a, None) for a in inside}

    # A disabled assignment on a more specific prefix switches its addresses off...
    off = await assign(lab, ping, "ipam.prefix", w["10.1.0.0/16"], enabled=False)
    assert await resolved(db, tenant) == {(ping, "10.200.0.1", None)}
    # ...and an enabled one deeper still switches them back on below it.
    await assign(lab, ping, "ipam.prefix", w["10.1.2.0/28"])
    assert await resolved(db, tenant) == {(ping, a, None) for a in ("10.200.0.1", "10.1.2.3", "10.1.2.4")}
    # An address's own assignment beats every prefix.
    await assign(lab, ping, "ipam.ipaddress", w["10.1.9.9/16"])
    assert (ping, "10.1.9.9", None) in await resolved(db, tenant)
    # A disabled device assignment beats the prefix above its primary address.
    await assign(lab, ping, "dcim.device", w["edge"], enabled=False)
    assert (ping, "10.1.2.3", None) not in await resolved(db, tenant)
    # Enabling the /16 again brings its addresses back; the winner is reported.
    await lab.update("check_assignment", off, enabled=True)
    async with db.system_transaction() as conn:
        found = {c.address: str(c.assignment_id) for c in await checks_for(conn, tenant_id=uuid.UUID(str(tenant)), template_ids=[uuid.UUID(ping)])}
    assert set(found) == {"10.200.0.1", "10.1.2.4", "10.1.9.9"} and found["10.200.0.1"] != found["10.1.2.4"]

    # Other templates are resolved independently; a VRF's addresses are not in the global prefix.
    vrf = await lab.make("vrf", name="blue")
    await lab.make("ip_address", address="10.7.7.7/8", vrf=vrf)
    await assign(lab, http, "ipam.prefix", w["10.0.0.0/8"])
    assert {c[1] for c in await resolved(db, tenant, template_ids=[uuid.UUID(http)])} == inside
    assert {c[2] for c in await resolved(db, tenant, template_ids=[uuid.UUID(http)])} == {80}


async def test_disabled_and_deleted(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    tenant = org.tenant_ids[0]
    w = await _world(lab)
    ping = await template(lab, "ping")
    one = await assign(lab, ping, "dcim.device", w["core"], enabled=False)
    assert await resolved(db, tenant) == set()
    await lab.update("check_assignment", one, enabled=True)
    assert await resolved(db, tenant) == {(ping, "192.0.2.1", None)}
    # Deleting the device deletes its assignments.
    await api.data("mutation($id: ID!) { service_delete(id: $id) { id } }", id=w["service"])
    await api.data("mutation($id: ID!) { service_delete(id: $id) { id } }", id=w["bare_service"])
    await api.data("mutation($id: ID!) { device_delete(id: $id) { id } }", id=w["core"])
    assert await resolved(db, tenant) == set()
    assert (await api.data("{ check_assignment_list { id } }"))["check_assignment_list"] == []


async def test_other_tenants_are_invisible(api, org, db):
    a, b = (Lab(api, tenant) for tenant in org.tenant_ids)
    wa, wb = await _world(a), await _world(b)
    ping_a, ping_b = await template(a, "ping"), await template(b, "ping")
    await assign(a, ping_a, "ipam.prefix", wa["10.0.0.0/8"])
    await assign(b, ping_b, "dcim.device", wb["core"])
    # Each tenant's prefix holds only its own addresses.
    assert {c[0] for c in await resolved(db, org.tenant_ids[0])} == {ping_a}
    assert await resolved(db, org.tenant_ids[1]) == {(ping_b, "192.0.2.1", None)}
    # Another tenant's template or object cannot be used.
    error = await a.refuse("check_assignment", template=ping_b, assigned_object=ref("dcim.device", wa["core"]))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "template"), error
    error = await a.refuse("check_assignment", template=ping_a, assigned_object=ref("dcim.device", wb["core"]))
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    # Under a request's row-level security a reader of one tenant resolves its checks only.
    key = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"check_assignment": ["view"], "check_template": ["view"]})
    listed = await api.as_key(key).data("{ check_assignment_list { template { id } } check_template_list { id } }")
    assert {x["template"]["id"] for x in listed["check_assignment_list"]} == {ping_a}
    assert [x["id"] for x in listed["check_template_list"]] == [ping_a]


DEVICES = """{ device_list { name checks { template_name kind address port state since message flapping }
  services { name checks { address port state } }
  site { name check_summary { up degraded down unknown } } } }"""
IP_CHECKS = "query($id: ID!) { ip_address(id: $id) { address checks { template_name address port state last_latency_ms } } }"
TENANTS = "{ tenant_list { name check_summary { up degraded down unknown } } }"


async def state(db: Any, tenant: Any, template_id: str, address: str, port: int | None, value: str, **fields: Any) -> None:
    async with db.system_transaction() as conn:
        await insert_worker_row(
            conn,
            CheckState,
            tenant_id=tenant,
            template_id=template_id,
            address=address,
            port=port,
            state=value,
            message=fields.get("message", ""),
            last_latency_ms=fields.get("latency"),
        )


async def test_checks_and_their_state_in_the_graph(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    tenant = org.tenant_ids[0]
    w = await _world(lab)
    ping = await template(lab, "ping")
    web = await template(lab, "web", "KIND_TCP")
    await assign(lab, ping, "dcim.site", w["site"])
    await assign(lab, ping, "ipam.prefix", w["10.1.0.0/16"])
    await assign(lab, web, "ipam.service", w["service"])
    await state(db, tenant, ping, "192.0.2.1", None, "down", message="timeout")
    await state(db, tenant, ping, "10.1.2.3", None, "degraded", latency=812.5)
    await state(db, tenant, web, "10.1.2.4", 80, "up")

    got = {d["name"]: d for d in (await api.data(DEVICES))["device_list"]}
    core, edge = got["core1"], got["edge1"]
    # A device's checks include its services'.
    assert [(c["template_name"], c["address"], c["port"], c["state"], c["message"]) for c in core["checks"]] == [
        ("ping", "192.0.2.1", None, "down", "timeout"),
        ("web", "10.1.2.4", 80, "up", ""),
        ("web", "10.1.2.4", 8080, "unknown", ""),
    ]
    assert core["checks"][0]["since"] is not None
    # The service's checks are its own (its address is not the device's).
    assert {s["name"]: [(c["address"], c["port"], c["state"]) for c in s["checks"]] for s in core["services"]} == {
        "web": [("10.1.2.4", 80, "up"), ("10.1.2.4", 8080, "unknown")],
        "ssh": [],
    }
    # edge1's primary address is in the prefix: the prefix's check is the device's.
    assert [(c["address"], c["state"]) for c in edge["checks"]] == [("10.1.2.3", "degraded")]
    assert core["site"]["check_summary"] == {"up": 1, "degraded": 0, "down": 1, "unknown": 1}
    assert edge["site"]["check_summary"] == {"up": 0, "degraded": 1, "down": 0, "unknown": 0}
    ip = (await api.data(IP_CHECKS, id=w["edge_ip"]))["ip_address"]
    assert ip["checks"] == [{"template_name": "ping", "address": "10.1.2.3", "port": None, "state": "degraded", "last_latency_ms": "812.500"}]
    loose = (await api.data(IP_CHECKS, id=w["10.1.9.9/16"]))["ip_address"]["checks"]
    assert [(c["address"], c["state"]) for c in loose] == [("10.1.9.9", "unknown")]
    tenants = {t["name"]: t["check_summary"] for t in (await api.data(TENANTS))["tenant_list"]}
    assert sorted(tenants.values(), key=lambda s: -sum(s.values()))[0] == {"up": 1, "degraded": 1, "down": 1, "unknown": 3}

    # The statements a list answers in do not grow with the list.
    small = await api.sql_statements(DEVICES)
    c = {"manufacturer": w["manufacturer"], "role": w["role"], "site": w["site"]}
    kind = (await api.data("{ device_type_list { id } }"))["device_type_list"][0]["id"]
    for n in range(4):
        await lab.device(c, kind, f"more{n}", management_address=f"192.0.2.{10 + n}")
    assert len((await api.data(DEVICES))["device_list"]) == 6
    assert await api.sql_statements(DEVICES) == small


async def test_the_graph_shows_a_reader_its_own_checks_only(api, org, db):
    a, b = (Lab(api, tenant) for tenant in org.tenant_ids)
    wa, wb = await _world(a), await _world(b)
    ping_a, ping_b = await template(a, "ping"), await template(b, "ping")
    await assign(a, ping_a, "dcim.device", wa["core"])
    await assign(b, ping_b, "dcim.device", wb["core"])
    await state(db, org.tenant_ids[1], ping_b, "192.0.2.1", None, "down")
    # A reader of tenant A: A's checks, never B's state for the same address.
    key = await org.user_key(
        tenant_ids=[org.tenant_ids[0]], grants={name: ["view"] for name in ("device", "site", "tenant", "service", "check_assignment", "check_template")}
    )
    got = {d["name"]: d for d in (await api.as_key(key).data(DEVICES))["device_list"]}
    assert set(got) == {"core1", "edge1"}
    assert [(c["address"], c["state"]) for c in got["core1"]["checks"]] == [("192.0.2.1", "unknown")]
    summaries = [t["check_summary"] for t in (await api.as_key(key).data(TENANTS))["tenant_list"]]
    assert summaries == [{"up": 0, "degraded": 0, "down": 0, "unknown": 1}]
    # Without the view grant of assignments, no checks resolve for it.
    blind = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view"], "site": ["view"], "service": ["view"]})
    got = {d["name"]: d for d in (await api.as_key(blind).data(DEVICES))["device_list"]}
    assert got["core1"]["checks"] == [] and got["core1"]["site"]["check_summary"]["unknown"] == 0


async def test_results_are_kept_for_their_retention_and_stay_in_their_tenant(api, org, db):
    a = Lab(api, org.tenant_ids[0])
    wa = await _world(a)
    ping = await template(a, "ping")
    await assign(a, ping, "dcim.device", wa["core"])
    await state(db, org.tenant_ids[0], ping, "192.0.2.1", None, "up")
    now = datetime.now(UTC)
    async with db.system_transaction() as conn:
        check = (await conn.execute(sa.text("SELECT id FROM check_state WHERE template_id = :t"), {"t": ping})).scalar_one()
        for days in (0, 3, 15, 40):
            await conn.execute(
                sa.text("INSERT INTO check_result (tenant_id, check_state_id, at, status, latency_ms) VALUES (:t, :c, :at, 0, 1.5)"),
                {"t": str(org.tenant_ids[0]), "c": check, "at": now - timedelta(days=days)},
            )
        # A result of another tenant's check is refused by the composite key.
        with pytest.raises(sa.exc.IntegrityError):
            async with conn.begin_nested():
                await conn.execute(
                    sa.text("INSERT INTO check_result (tenant_id, check_state_id, at, status) VALUES (:t, :c, now(), 0)"),
                    {"t": str(org.tenant_ids[1]), "c": check},
                )
        assert await purge_results(conn) == 2  # DANBYTE_CHECK_RETENTION_DAYS: 14
        assert await purge_results(conn, days=1) == 1
        assert (await conn.execute(sa.text("SELECT count(*) FROM check_result"))).scalar_one() == 1
    # Under the other tenant's row-level security: neither the state nor its results.
    other = Principal(user_id=None, username="b", org_id=org.org_id, tenant_ids=frozenset({org.tenant_ids[1]}), is_admin=True)
    async with db.request_transaction(other) as conn:
        for table in ("check_result", "check_state", "check_assignment", "check_template"):
            assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0, table
        assert await checks_for(conn) == []
    own = Principal(user_id=None, username="a", org_id=org.org_id, tenant_ids=frozenset({org.tenant_ids[0]}), is_admin=True)
    async with db.request_transaction(own) as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM check_result"))).scalar_one() == 1
        assert [c.address for c in await checks_for(conn)] == ["192.0.2.1"]


async def test_states_are_read_only(api, org):
    body = await api.query("{ __schema { mutationType { fields { name } } } }", {})
    names = {f["name"] for f in body["data"]["__schema"]["mutationType"]["fields"]}
    assert {"check_template_create", "check_assignment_update"} <= names
    assert not {n for n in names if n.startswith(("check_state_", "state_transition_"))}


async def test_an_effective_check_runs_on_the_checks_runner(api, org, db):
    """From the graph to a probe: a TCP template on a service listening on loopback, and
    one on a closed port, run by checks/ with the template's policy."""
    import asyncio

    from checks import CheckStatus, HealthState, StateTracker, run_checks
    from resolvers.monitoring import check_of

    served = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = served.sockets[0].getsockname()[1]
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "local", management_address="127.0.0.1")
    service = await lab.make("service", name="app", protocol="ROLE_TCP", ports=[port], parent=ref("dcim.device", device))
    tcp = await template(lab, "tcp", "KIND_TCP", rise=1, fall=1, degraded_latency_ms=60_000, degraded_value_op="OP_CONTAINS", degraded_value="never")
    closed = await template(lab, "closed", "KIND_TCP", parameters={"port": 1}, rise=1, fall=1)
    await assign(lab, tcp, "ipam.service", service)
    await assign(lab, closed, "dcim.device", device)
    async with db.system_transaction() as conn:
        found = await checks_for(conn, tenant_id=uuid.UUID(str(org.tenant_ids[0])))
        rows = {str(r.id): r for r in await conn.execute(sa.text("SELECT * FROM check_template"))}
    runnable = [check_of(rows[str(f.template_id)], f) for f in found]
    assert {(c.probe.host, c.probe.port) for c in runnable} == {("127.0.0.1", port), ("127.0.0.1", 1)}
    assert {c.policy.max_latency for c in runnable} == {60.0, None}
    results = {r.check_id: r.result for r in await run_checks(runnable)}
    served.close()
    by_port = {c.probe.port: results[c.id] for c in runnable}
    assert by_port[port].status is CheckStatus.UP and by_port[1].status is CheckStatus.DOWN
    tracker = StateTracker()
    for check in runnable:
        tracker.observe(check.id, results[check.id], 0.0, check.policy)
    assert {c.probe.port: tracker.state(c.id) for c in runnable} == {port: HealthState.UP, 1: HealthState.DOWN}
