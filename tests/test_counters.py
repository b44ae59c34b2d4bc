"""Interface counters end to end: counter_poll jobs run by a real dramatiq worker against
snmpsim (whose recordings are static: two polls give zero rates), rates stored per
matched interface and read back as ``utilisation`` and ``counter_samples``; an agent
restart and an impossible 32-bit wrap give NULL, not a spike; retention; isolation; and
the statement count of a list of interfaces."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from snmp_agent import RECORDINGS, SNMP_DATA, SnmpAgent, community_of
from test_jobs_runtime import START, wait_for

from permissions.principal import Principal

ARISTA = next(path for path in RECORDINGS if path.stem == "arista_eos")
APC = next(path for path in RECORDINGS if path.stem.startswith("apc_"))

COUNTERS = """query($id: ID!) { device(id: $id) { interfaces { name speed
  utilisation { in_bps out_bps in_percent out_percent at }
  counter_samples { taken_at in_bps out_bps in_errors_per_second out_discards_per_second } } } }"""


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    served = SnmpAgent(tmp_path_factory.mktemp("snmpsim"), data_dirs=[SNMP_DATA])
    with served.start(probe_community=community_of(ARISTA)):
        yield served


async def run_job(app: Any, api: Any, tenant: Any, kind: str, **parameters: Any) -> Any:
    started = (await api.data(START, kind=kind, p=parameters, t=str(tenant)))["job_start"]
    row = await wait_for(app.state.danbyte.db, started["id"], "completed", "failed", "errored", timeout=60)
    assert row.status == "completed", (row.error, row.log)
    return row.result


async def state_of(db: Any, device: str) -> dict[str, Any]:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT sample FROM device_counter_state WHERE device_id = :d"), {"d": device})).scalar_one()


async def put_state(db: Any, device: str, sample: dict[str, Any]) -> None:
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE device_counter_state SET sample = CAST(:s AS jsonb) WHERE device_id = :d"), {"s": json.dumps(sample), "d": device})


async def by_name(api: Any, device: str) -> dict[str, Any]:
    return {i["name"]: i for i in (await api.data(COUNTERS, id=device))["device"]["interfaces"]}


async def test_counter_polls_keep_rates_without_false_spikes(app, committed_org, committed_api, worker, agent):
    db = app.state.danbyte.db
    tenant, other = committed_org.tenant_ids
    lab = Lab(committed_api, tenant)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "7050")
    profiles = {}
    for recording in (ARISTA, APC):
        profiles[recording] = await lab.make(
            "snmp_profile", name=recording.stem, version="V2C", community=community_of(recording), port=agent.port, timeout="2", retries=0
        )
    leaf = await lab.device(c, kind, "leaf-1", management_address="127.0.0.1", snmp_profile=profiles[ARISTA])
    pdu = await lab.device(c, kind, "pdu-1", management_address="127.0.0.1", snmp_profile=profiles[APC])
    undiscovered = await lab.device(c, kind, "new-1", management_address="127.0.0.1", snmp_profile=profiles[ARISTA])
    await run_job(app, committed_api, tenant, "discovery", devices=[leaf, pdu])

    # Modelled: two of the leaf's ports (one with its speed, one taking the agent's), a
    # port the agent does not have, and the PDU's 32-bit interface.
    for name, speed in (("Ethernet1", 1_000_000), ("Ethernet2", None), ("Ethernet999", 1_000_000)):
        await lab.make("interface", device=leaf, name=name, type="TYPE_1000BASE_T", speed=speed)
    await lab.make("interface", device=pdu, name="vmac0", type="TYPE_100BASE_TX", speed=10_000)

    first = await run_job(app, committed_api, tenant, "counter_poll", site=c["site"], concurrency=2)
    assert (first["polled"], first["samples"], first["unreachable"]) == (2, 0, 0), first
    assert first["skipped"] == {"no interface to poll": [undiscovered]}
    second = await run_job(app, committed_api, tenant, "counter_poll", devices=[leaf, pdu])
    assert second["samples"] == 3, second  # one per matched interface: Ethernet999 has no index
    ports = await by_name(committed_api, leaf)
    for name in ("Ethernet1", "Ethernet2"):
        assert len(ports[name]["counter_samples"]) == 1
        # The recording does not move: zero, not a spike and not unknown.
        assert ports[name]["utilisation"]["in_bps"] == 0.0 and ports[name]["utilisation"]["out_bps"] == 0.0
        assert ports[name]["counter_samples"][0]["in_errors_per_second"] == 0.0
    assert ports["Ethernet1"]["utilisation"]["in_percent"] == 0.0, "percent of the modelled speed"
    assert ports["Ethernet2"]["utilisation"]["in_percent"] == 0.0, "percent of the speed the agent reported"
    assert ports["Ethernet999"]["utilisation"] is None and ports["Ethernet999"]["counter_samples"] == []

    # (a) The leaf's agent restarted: its earlier sysUpTime was higher, and its counters
    # were lower (taken as they are, they would read as hundreds of Gbit/s).
    leaf_state = await state_of(db, leaf)
    leaf_state["taken_at"] -= 60
    leaf_state["uptime_ticks"] += 10_000_000
    for counters in leaf_state["interfaces"]:
        counters["in_octets"], counters["out_octets"] = 0, 0
    await put_state(db, leaf, leaf_state)
    # (b) The PDU's 32-bit ifInOctets "went down" by one a minute ago: a wrap, which would
    # mean 570 Mbit/s on a 10 Mbit/s link; its ifOutOctets rose by 750 octets (100 bit/s).
    pdu_state = await state_of(db, pdu)
    pdu_state["taken_at"] -= 60
    (vmac,) = pdu_state["interfaces"]
    assert vmac["counter_bits"] == 32
    vmac["in_octets"] += 1
    vmac["out_octets"] -= 750
    await put_state(db, pdu, pdu_state)
    third = await run_job(app, committed_api, tenant, "counter_poll", devices=[leaf, pdu])
    assert third["samples"] == 3, third
    ports = await by_name(committed_api, leaf)
    for name in ("Ethernet1", "Ethernet2"):
        latest = ports[name]["counter_samples"][0]
        assert len(ports[name]["counter_samples"]) == 2
        assert (latest["in_bps"], latest["out_bps"]) == (None, None), latest
        assert ports[name]["utilisation"]["in_bps"] is None and ports[name]["utilisation"]["in_percent"] is None
    vmac0 = (await by_name(committed_api, pdu))["vmac0"]
    assert vmac0["utilisation"]["in_bps"] is None, "an impossible wrap is unknown, not a spike"
    interval = 60 + 0.0  # the out rate is real: 750 octets over a minute and a little
    assert 90 < vmac0["utilisation"]["out_bps"] <= 750 * 8 / interval + 0.01
    assert vmac0["utilisation"]["out_percent"] == pytest.approx(vmac0["utilisation"]["out_bps"] * 100 / 10_000_000, abs=1e-3)

    # Retention: rows older than DANBYTE_COUNTER_RETENTION_DAYS (7) go with the next poll.
    ethernet1 = (
        await committed_api.data('query($d: [ID!]) { interface_list(filters: {device_id: {in_list: $d}, name: {exact: "Ethernet1"}}) { id } }', d=[leaf])
    )["interface_list"][0]["id"]
    async with db.system_transaction() as conn:
        for days in (8, 30):
            await conn.execute(
                sa.text("INSERT INTO interface_counter_sample (tenant_id, interface_id, taken_at, in_bps) VALUES (:t, :i, :at, 5)"),
                {"t": tenant, "i": ethernet1, "at": datetime.now(UTC) - timedelta(days=days)},
            )
        await conn.execute(
            sa.text("INSERT INTO interface_counter_sample (tenant_id, interface_id, taken_at, in_bps) VALUES (:t, :i, :at, 6)"),
            {"t": tenant, "i": ethernet1, "at": datetime.now(UTC) - timedelta(days=6)},
        )
    fourth = await run_job(app, committed_api, tenant, "counter_poll", devices=[leaf])
    assert fourth["purged"] == 2 and fourth["retention_days"] == 7, fourth
    kept = (await by_name(committed_api, leaf))["Ethernet1"]["counter_samples"]
    assert [s["in_bps"] for s in kept][-1] == 6.0 and len(kept) == 4

    # Another tenant: none of these rows, through the API or under its own row-level security.
    async with db.system_transaction() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM interface_counter_sample WHERE tenant_id = :t"), {"t": tenant})).scalar_one() > 0
    principal = Principal(user_id=None, username="b", org_id=committed_org.org_id, tenant_ids=frozenset({other}), is_admin=True)
    async with db.request_transaction(principal) as conn:
        for table in ("interface_counter_sample", "device_counter_state"):
            assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0, table


async def test_counter_poll_parameters_are_checked(api, org):
    for parameters, field in (
        ({"concurrency": 65}, "concurrency"),
        ({"devices": []}, "devices"),
        ({"devices": ["nope"]}, "devices.0"),
        ({"role": "x"}, "role"),
        ({"interval": 5}, "interval"),
    ):
        error = await api.error(START, kind="counter_poll", p=parameters, t=str(org.tenant_ids[0]))
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and field in error["extensions"]["field"], (parameters, error)


async def samples_for(db: Any, tenant: Any, interfaces: list[str], count: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {"t": tenant, "i": interface, "at": now - timedelta(minutes=5 * n), "in": 1000.0 * (n + 1), "out": 2000.0}
        for interface in interfaces
        for n in range(count)
    ]
    async with db.system_transaction() as conn:
        await conn.execute(
            sa.text("INSERT INTO interface_counter_sample (tenant_id, interface_id, taken_at, in_bps, out_bps) VALUES (:t, :i, :at, :in, :out)"), rows
        )


QUERY = "{ interface_list(pagination: {limit: 500}) { name utilisation { in_bps in_percent at } counter_samples(limit: 2) { in_bps } } }"


async def test_utilisation_and_samples_cost_the_same_for_5_and_50_interfaces(api, org, db):
    tenant = org.tenant_ids[0]
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    device = await lab.device(c, kind, "box-1")
    made = [await lab.make("interface", device=device, name=f"eth{n}", type="TYPE_1000BASE_T", speed=1_000_000) for n in range(5)]
    await samples_for(db, tenant, made, 3)
    small = await api.sql_statements(QUERY)
    answer = (await api.data(QUERY))["interface_list"]
    assert len(answer) == 5
    for interface in answer:
        # Newest first: the latest sample is 1000 bit/s of a 1 Gbit/s port.
        assert interface["utilisation"]["in_bps"] == 1000.0 and interface["utilisation"]["in_percent"] == pytest.approx(0.0001)
        assert [s["in_bps"] for s in interface["counter_samples"]] == [1000.0, 2000.0]
    async with db.system_transaction() as conn:
        ids = (
            await conn.execute(
                sa.text(
                    "INSERT INTO interface (tenant_id, device_id, name, type) SELECT tenant_id, device_id, 'bulk' || n, type"
                    " FROM interface, generate_series(1, 45) n WHERE id = :first RETURNING id"
                ),
                {"first": made[0]},
            )
        ).scalars()
        bulk = [str(i) for i in ids]
    await samples_for(db, tenant, bulk, 3)
    large = await api.sql_statements(QUERY)
    answer = (await api.data(QUERY))["interface_list"]
    assert len(answer) == 50
    assert all(i["utilisation"]["in_percent"] is None for i in answer if i["name"].startswith("bulk")), "no speed, no percent"
    assert small == large, (small, large)


async def test_counter_samples_arguments_are_checked(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "box-1")
    interface = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    await samples_for(db, org.tenant_ids[0], [interface], 4)
    query = "query($id: ID!, $since: DateTime, $limit: Int!) { interface(id: $id) { counter_samples(since: $since, limit: $limit) { taken_at in_bps } } }"
    since = (datetime.now(UTC) - timedelta(minutes=7)).isoformat()
    recent = (await api.data(query, id=interface, since=since, limit=100))["interface"]["counter_samples"]
    assert [s["in_bps"] for s in recent] == [1000.0, 2000.0], "since is inclusive, newest first"
    for since, limit, field in ((None, 0, "limit"), (None, 5001, "limit"), (None, -1, "limit"), ("2026-11-30T12:00:00", 5, "since")):
        error = await api.error(query, id=interface, since=since, limit=limit)
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == field, error
    error = await api.error(query, id=interface, since="yesterday", limit=5)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error


def counters(index: int, octets: int) -> Any:
    import snmp

    return snmp.InterfaceCounters(index, 64, octets, octets, 0, 0, 0, 0, speed_bps=1_000_000_000)


async def test_a_poll_stores_only_what_still_exists_and_what_it_can_know(api, org, db):
    """store_poll on its own: an interface or device deleted while the agent was asked, an
    index renumbered onto another interface, a sample older than the stored one."""
    import snmp
    from jobs.counters import Mapped, store_poll

    tenant = org.tenant_ids[0]
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "box-1")
    eth0, eth1 = [uuid.UUID(await lab.make("interface", device=device, name=f"eth{n}", type="TYPE_1000BASE_T")) for n in range(2)]
    gone = uuid.uuid4()  # an interface deleted after the job read the mapping
    now = time.time()

    async def poll(mapping: dict[int, uuid.UUID], taken_at: float, octets: int, on: Any = device) -> int:
        sample = snmp.CounterSample(taken_at, 1000 + int(taken_at - now) * 100, tuple(counters(index, octets) for index in mapping))
        mapped = Mapped({index: (interface, None) for index, interface in mapping.items()})
        async with db.system_transaction() as conn:
            return await conn.run_sync(lambda sync: store_poll(sync, tenant, uuid.UUID(str(on)), mapped, sample))

    assert await poll({1: eth0, 2: gone}, now - 120, 1000) == 0  # the first poll: a state only
    assert await poll({1: eth0, 2: gone}, now - 60, 1750) == 1  # no row for the deleted one
    assert await poll({1: eth0}, now - 90, 5000) == 0, "older than the stored sample"
    # ifIndex 1 now names eth1 (renumbered after a reload): no rate across two ports.
    assert await poll({1: eth1}, now, 2500) == 0
    assert await poll({1: eth1}, now + 60, 3250) == 1
    assert await poll({1: eth0}, now + 120, 4000, on=uuid.uuid4()) == 0, "a deleted device"
    async with db.system_transaction() as conn:
        rows = (
            await conn.execute(sa.text("SELECT interface_id, in_bps FROM interface_counter_sample WHERE tenant_id = :t ORDER BY taken_at"), {"t": tenant})
        ).all()
        state = (await conn.execute(sa.text("SELECT interfaces FROM device_counter_state WHERE device_id = :d"), {"d": device})).scalar_one()
    assert [(row.interface_id, row.in_bps) for row in rows] == [(eth0, 100.0), (eth1, 100.0)]
    assert state == {"1": str(eth1)}


async def test_samples_follow_the_interface_view_grant(api, org, db):
    tenant, other = org.tenant_ids
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "box-1")
    interface = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    await samples_for(db, tenant, [interface], 2)
    query = "{ interface_list { id utilisation { in_bps } counter_samples { in_bps } } }"

    async def token(permissions: str, tenants: list[Any]) -> Any:
        made = await api.data(
            f'mutation {{ user_create(input: {{username: "u{uuid.uuid4().hex[:8]}", password: "pw", permissions: [{permissions}]}}) {{ id }} }}'
        )
        listed = ", ".join(f'"{t}"' for t in tenants)
        key = await api.data(f'mutation {{ token_create(input: {{user: "{made["user_create"]["id"]}", tenants: [{listed}]}}) {{ key }} }}')
        return api.as_key(key["token_create"]["key"])

    viewer = await token('{object_types: ["interface"], actions: ["view"]}', [tenant])
    seen = (await viewer.data(query))["interface_list"]
    assert seen == [{"id": interface, "utilisation": {"in_bps": 1000.0}, "counter_samples": [{"in_bps": 1000.0}, {"in_bps": 2000.0}]}]
    stranger = await token('{object_types: ["interface"], actions: ["view"]}', [other])
    assert (await stranger.data(query))["interface_list"] == []
    blind = await token('{object_types: ["device"], actions: ["view"]}', [tenant])
    assert (await blind.error(query))["extensions"]["code"] == "FORBIDDEN"
    # Below the API: the rows themselves are under the interface's view grant.
    principal = Principal(user_id=None, username="b", org_id=org.org_id, tenant_ids=frozenset({other}), is_admin=True)
    async with db.request_transaction(principal) as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM interface_counter_sample"))).scalar_one() == 0


SCHEDULE = """mutation($i: JobScheduleCreateInput!) { job_schedule_create(input: $i) { id kind parameters interval_seconds } }"""


async def test_counter_polls_are_scheduled_like_any_kind(api, org):
    tenant = str(org.tenant_ids[0])
    good = {"name": "counters", "kind": "counter_poll", "parameters": {"concurrency": 8}, "interval_seconds": 300, "tenant": tenant}
    created = (await api.data(SCHEDULE, i=good))["job_schedule_create"]
    assert created["parameters"] == {"concurrency": 8} and created["interval_seconds"] == 300
    error = await api.error(SCHEDULE, i={**good, "name": "bad", "parameters": {"devices": "all"}})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "parameters.devices")
    # It runs with the grants of whoever set it: polling needs to view interfaces.
    no_interfaces = api.as_key(
        await org.user_key(grants={"job_schedule": ["view", "add"], "job": ["view", "add"], "device": ["view"], "snmp_profile": ["view"]})
    )
    error = await no_interfaces.error(SCHEDULE, i={**good, "name": "x"})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("FORBIDDEN", "kind")
