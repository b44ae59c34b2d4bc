"""Bad input gets a clear error with a code and the field, and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import change_settings


def tenant(org, index: int = 0) -> str:
    return f'"{org.tenant_ids[index]}"'


@pytest.mark.parametrize(
    ("mutation", "code", "field", "words"),
    [
        ('prefix_create(input: {prefix: "10.0.0.300/24", tenant: T}) { id }', "BAD_USER_INPUT", "prefix", "not a valid CIDR"),
        ('prefix_create(input: {prefix: "not-a-prefix", tenant: T}) { id }', "BAD_USER_INPUT", "prefix", "not a valid CIDR"),
        ('prefix_create(input: {prefix: "10.1.2.3/16", tenant: T}) { id }', "BAD_USER_INPUT", "prefix", "did you mean 10.1.0.0/16"),
        ('ip_address_create(input: {address: "300.1.1.1/24", tenant: T}) { id }', "BAD_USER_INPUT", "address", "not a valid IP"),
        ('ip_address_create(input: {address: "10.0.0.1/33", tenant: T}) { id }', "BAD_USER_INPUT", "address", "not a valid IP"),
        ('vlan_create(input: {vid: 4095, name: "x", tenant: T}) { id }', "BAD_USER_INPUT", "vid", "out of range 1..4094"),
        ('vlan_create(input: {vid: 0, name: "x", tenant: T}) { id }', "BAD_USER_INPUT", "vid", "out of range"),
        ("asn_create(input: {asn: 4294967296, tenant: T}) { id }", "BAD_USER_INPUT", "asn", "out of range"),
        ('tag_create(input: {name: "t", slug: "t", color: "red"}) { id }', "BAD_USER_INPUT", "color", "hex colour"),
        ('site_create(input: {name: "s", slug: "s", custom_fields: [1, 2], tenant: T}) { id }', "BAD_USER_INPUT", "custom_fields", "JSON object"),
        ('site_create(input: {name: "s", slug: "s", custom_fields: "text", tenant: T}) { id }', "BAD_USER_INPUT", "custom_fields", "JSON object"),
        ('site_create(input: {name: "LONG", slug: "s", tenant: T}) { id }', "BAD_USER_INPUT", "name", "at most 100"),
        ('site_create(input: {name: "s", slug: "s", latitude: "NaN", tenant: T}) { id }', "BAD_USER_INPUT", "latitude", "not a number"),
        ('prefix_create(input: {prefix: "10.0.0.0/8", vrf: "00000000-0000-0000-0000-000000000001", tenant: T}) { id }', "NOT_FOUND", "vrf", "no vrf with id"),
        ('prefix_create(input: {prefix: "10.0.0.0/8", vrf: "nope", tenant: T}) { id }', "BAD_USER_INPUT", "vrf", "not a valid id"),
        ('prefix_create(input: {prefix: "10.0.0.0/8"}) { id }', "BAD_USER_INPUT", "tenant", "tenant is required"),
    ],
)
async def test_rejected_and_nothing_written(api, org, mutation, code, field, words):
    before = await api.count("prefix") + await api.count("site") + await api.count("vlan")
    mutation = mutation.replace("T", tenant(org)).replace("LONG", "x" * 101)
    error = await api.error(f"mutation {{ {mutation} }}")
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["field"] == field, error
    assert words in error["message"], error
    assert await api.count("prefix") + await api.count("site") + await api.count("vlan") == before
    assert await api.count("changelog") == 0


async def test_duplicate_prefix_in_global_vrf_conflicts(api, org):
    create = f'mutation {{ prefix_create(input: {{prefix: "10.9.0.0/16", tenant: {tenant(org)}}}) {{ id }} }}'
    await api.data(create)
    error = await api.error(create)
    assert error["extensions"] == {"code": "CONFLICT", "field": "prefix"}
    assert await api.count("prefix") == 1
    # The same prefix in another tenant, or in a VRF, is a different prefix.
    await api.data(create.replace(tenant(org), tenant(org, 1)))
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "v", tenant: {tenant(org)}}}) {{ id }} }}'))["vrf_create"]["id"]
    await api.data(f'mutation {{ prefix_create(input: {{prefix: "10.9.0.0/16", vrf: "{vrf}", tenant: {tenant(org)}}}) {{ id }} }}')


async def test_duplicate_ip_and_vlan_conflict(api, org):
    ip = f'mutation {{ ip_address_create(input: {{address: "10.0.0.1/24", tenant: {tenant(org)}}}) {{ id }} }}'
    await api.data(ip)
    assert (await api.error(ip))["extensions"] == {"code": "CONFLICT", "field": "address"}
    # The same host with another mask is the same address.
    same_host = ip.replace("10.0.0.1/24", "10.0.0.1/32")
    assert (await api.error(same_host))["extensions"] == {"code": "CONFLICT", "field": "address"}
    # A VID is unique inside its VLAN group (NetBox's rule; ungrouped VLANs may repeat one).
    group = (await api.data(f'mutation {{ vlan_group_create(input: {{name: "g", slug: "g", tenant: {tenant(org)}}}) {{ id }} }}'))["vlan_group_create"]["id"]
    vlan = f'mutation {{ vlan_create(input: {{vid: 10, name: "a", group: "{group}", tenant: {tenant(org)}}}) {{ id }} }}'
    await api.data(vlan)
    assert (await api.error(vlan.replace('name: "a"', 'name: "b"')))["extensions"] == {"code": "CONFLICT", "field": "vid"}
    assert (await api.error(vlan.replace("vid: 10", "vid: 11")))["extensions"] == {"code": "CONFLICT", "field": "name"}
    ungrouped = vlan.replace(f'group: "{group}", ', "")
    await api.data(ungrouped)
    await api.data(ungrouped)


async def test_reference_into_another_tenant_is_refused(api, org):
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "other", tenant: {tenant(org, 1)}}}) {{ id }} }}'))["vrf_create"]["id"]
    error = await api.error(f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/8", vrf: "{vrf}", tenant: {tenant(org)}}}) {{ id }} }}')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "vrf"}
    assert "another tenant" in error["message"]
    assert await api.count("prefix") == 0


async def test_cyclic_parent_is_refused(api, org):
    async def region(name: str, parent: str | None = None) -> str:
        parent_arg = f', parent: "{parent}"' if parent else ""
        query = f'mutation {{ region_create(input: {{name: "{name}", slug: "{name}", tenant: {tenant(org)}{parent_arg}}}) {{ id }} }}'
        return (await api.data(query))["region_create"]["id"]

    top = await region("top")
    middle = await region("middle", top)
    bottom = await region("bottom", middle)
    for new_parent in (bottom, top):
        error = await api.error(f'mutation {{ region_update(id: "{top}", input: {{parent: "{new_parent}"}}) {{ id }} }}')
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "parent"}
    data = await api.data(f'{{ region(id: "{top}") {{ parent {{ id }} }} }}')
    assert data["region"]["parent"] is None


async def test_location_parent_must_be_in_the_same_site(api, org):
    tenant = tenant_arg = f'"{org.tenant_ids[0]}"'
    first = (await api.data(f'mutation {{ site_create(input: {{name: "a", slug: "a", tenant: {tenant}}}) {{ id }} }}'))["site_create"]["id"]
    second = (await api.data(f'mutation {{ site_create(input: {{name: "b", slug: "b", tenant: {tenant_arg}}}) {{ id }} }}'))["site_create"]["id"]
    hall = (await api.data(f'mutation {{ location_create(input: {{name: "hall", slug: "hall", site: "{first}", tenant: {tenant}}}) {{ id }} }}'))[
        "location_create"
    ]["id"]
    error = await api.error(
        f'mutation {{ location_create(input: {{name: "room", slug: "room", site: "{second}", parent: "{hall}", tenant: {tenant}}}) {{ id }} }}'
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "parent"}
    room = await api.data(
        f'mutation {{ location_create(input: {{name: "room", slug: "room", site: "{first}", parent: "{hall}", tenant: {tenant}}}) {{ parent {{ name }} site {{ name }} }} }}'
    )
    assert room["location_create"] == {"parent": {"name": "hall"}, "site": {"name": "a"}}


async def test_page_size_over_ceiling(api, app):
    ceiling = app.state.danbyte.settings.max_page_size
    error = await api.error(f"{{ prefix_list(pagination: {{limit: {ceiling + 1}}}) {{ id }} }}")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "pagination.limit"}


async def test_query_over_depth_limit(api):
    deep = "{ prefix_list { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } }"
    error = await api.error(deep)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "exceeds maximum operation depth" in error["message"]


async def test_too_many_aliases(api):
    aliases = " ".join(f"a{i}: prefix_list {{ id }}" for i in range(40))
    error = await api.error(f"{{ {aliases} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_filter_choice(api):
    """Choices are NetBox-named enums: an unknown one is refused before anything runs."""
    error = await api.error("{ prefix_list(filters: {status: {exact: STATUS_BOGUS}}) { id } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "PrefixStatusEnum" in error["message"]
    error = await api.error("query($s: [PrefixStatusEnum!]) { prefix_list(filters: {status: {in_list: $s}}) { id } }", s=["active"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "authentication required"),
        ("Bearer dbt_wrong", "invalid token"),
        ("Basic abc", "malformed Authorization header"),
    ],
)
async def test_missing_or_wrong_token(api, header, message):
    headers = {"Authorization": header} if header else {}
    client = api.as_key(None)
    body = await client.query("{ prefix_list { id } }", headers=headers)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert message in body["errors"][0]["message"]


async def test_expired_token(api, org):
    key = await org.user_key(is_admin=True, expires=datetime.now(UTC) - timedelta(minutes=1))
    error = await api.as_key(key).error("{ prefix_list { id } }")
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in error["message"]


async def test_netbox_token_scheme_is_accepted(api, org):
    body = await api.as_key(None).query("{ tenant_list { id } }", headers={"Authorization": f"Token {org.admin_key}"})
    assert len(body["data"]["tenant_list"]) == 2


async def test_read_only_token_cannot_write(api, org):
    key = await org.user_key(is_admin=True, write_enabled=False)
    reader = api.as_key(key)
    assert (await reader.data("{ prefix_list { id } }"))["prefix_list"] == []
    error = await reader.error(f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/8", tenant: {tenant(org)}}}) {{ id }} }}')
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await api.count("prefix") == 0


async def test_unexpected_errors_are_masked(api, app, monkeypatch):
    from resolvers import reads

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    change_settings(app, monkeypatch, compile_reads=False)
    monkeypatch.setattr(reads, "list_rows", broken)
    response = await api.post("{ prefix_list { id } }")
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in response.text


async def test_a_compiler_defect_costs_no_answer(api, app, monkeypatch, caplog):
    """Outside the test suite's shadow mode, a field the compiler fails on is answered by
    the resolvers, and the failure is logged for the operators, not shown to the client."""
    from resolvers.compiled import Compiler

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    change_settings(app, monkeypatch, compiler_shadow=False)
    monkeypatch.setattr(Compiler, "root", broken)
    await api.data('mutation { tag_create(input: {name: "gold", slug: "gold"}) { id } }')
    body = await api.query("{ tag_list { name } }", headers={"X-Danbyte-Debug": "1"})
    assert body["data"] == {"tag_list": [{"name": "gold"}]}
    assert body["extensions"]["paths"] == {"tag_list": "resolvers: compiler error (logged)"}
    assert "secret internals" in caplog.text and "secret" not in json.dumps(body)


async def test_a_failing_compiled_statement_costs_no_answer(api, app, monkeypatch):
    """A statement that fails in the database aborts its transaction: the resolvers answer
    on a fresh one."""
    from resolvers.compiled import Compiler, RootPlan

    def failing(self, *args, **kwargs):
        return RootPlan("SELECT (1 / 0)::text FROM ", " t", [])

    change_settings(app, monkeypatch, compiler_shadow=False)
    monkeypatch.setattr(Compiler, "root", failing)
    await api.data('mutation { tag_create(input: {name: "gold", slug: "gold"}) { id } }')
    body = await api.query("{ tag_list { name } vrf_list { name } }", headers={"X-Danbyte-Debug": "1"})
    assert body["data"] == {"tag_list": [{"name": "gold"}], "vrf_list": []}
    assert set(body["extensions"]["paths"].values()) == {"resolvers: compiler error (logged)"}


async def test_a_list_the_ceiling_cuts_short_says_so(api, app, org, monkeypatch):
    """Without pagination a list stops at the page ceiling, and the response says where:
    an inventory never silently misses rows."""
    import dataclasses

    state = app.state.danbyte
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, max_page_size=3))
    tenant = str(org.tenant_ids[0])
    for i in range(4):
        await api.data(f'mutation {{ site_create(input: {{name: "s{i}", slug: "s{i}", tenant: "{tenant}"}}) {{ id }} }}')
    body = await api.query("{ all: site_list { name } few: site_list(pagination: {limit: 2}) { name } }")
    assert [s["name"] for s in body["data"]["all"]] == ["s0", "s1", "s2"]
    assert body["extensions"]["truncated"] == [{"path": ["all"], "limit": 3}]  # the client's own limit is no cut
    await api.data(
        "mutation($id: ID!) { site_delete(id: $id) { id } }", id=(await api.data('{ site_list(filters: {name: {exact: "s3"}}) { id } }'))["site_list"][0]["id"]
    )
    body = await api.query("{ site_list { name } }")
    assert len(body["data"]["site_list"]) == 3 and "truncated" not in (body.get("extensions") or {})


async def test_a_nested_list_the_ceiling_cuts_short_says_so(api, app, org, monkeypatch):
    """A nested list stops at DANBYTE_MAX_NESTED_LIST objects per parent (a container
    prefix's addresses, a chassis's interfaces), and the response names the field."""
    import dataclasses

    from dcim_lab import Lab

    state = app.state.danbyte
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, max_nested_list=2))
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    big, small = await lab.device(c, kind, "big"), await lab.device(c, kind, "small")
    for name in ("eth0", "eth1", "eth2"):
        await lab.make("interface", device=big, name=name, type="TYPE_1000BASE_T")
    await lab.make("interface", device=small, name="eth0", type="TYPE_1000BASE_T")
    await lab.make("prefix", prefix="192.0.2.0/24")
    for host in (1, 2, 3):
        await lab.make("ip_address", address=f"192.0.2.{host}/24")
    body = await api.query("{ devices: device_list { name interfaces { name } } prefix_list { ip_addresses { address } } }")
    assert body["data"]["devices"] == [{"name": "big", "interfaces": [{"name": "eth0"}, {"name": "eth1"}]}, {"name": "small", "interfaces": [{"name": "eth0"}]}]
    assert [a["address"] for a in body["data"]["prefix_list"][0]["ip_addresses"]] == ["192.0.2.1/24", "192.0.2.2/24"]
    assert body["extensions"]["truncated"] == [
        {"path": ["devices", "interfaces"], "limit": 2},
        {"path": ["prefix_list", "ip_addresses"], "limit": 2},
    ]
