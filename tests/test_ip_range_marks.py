"""IP ranges marked utilised or populated (NetBox 4.3+): what they change in their prefix's
utilisation, its available addresses, allocation, and the creation of addresses."""

from __future__ import annotations

from tests.factories import change_settings
from tests.test_ipam import create_ip, create_prefix

USE = "query($id: ID!) { prefix(id: $id) { utilisation available_ips(limit: 20) } }"
UTILISATION = "query($id: ID!) { prefix(id: $id) { utilisation } }"  # compiled to SQL


async def create_range(api, start: str, end: str, tenant, **extra) -> dict:
    fields = "".join(f", {k}: {v}" for k, v in extra.items())
    data = await api.data(
        f'mutation {{ ip_range_create(input: {{start_address: "{start}", end_address: "{end}", tenant: "{tenant}"{fields}}}) {{ id mark_populated mark_utilized }} }}'
    )
    return data["ip_range_create"]


async def _vrf(api, tenant) -> str:
    return (await api.data(f'mutation {{ vrf_create(input: {{name: "blue", tenant: "{tenant}"}}) {{ id }} }}'))["vrf_create"]["id"]


async def test_marks_default_to_false(api, org):
    made = await create_range(api, "192.0.2.10/24", "192.0.2.20/24", org.tenant_ids[0])
    assert (made["mark_populated"], made["mark_utilized"]) == (False, False)


async def test_utilised_ranges_count_whole_in_their_prefix(app, api, org, monkeypatch):
    tenant = org.tenant_ids[0]
    subnet = await create_prefix(api, "192.0.2.0/28", tenant=f'"{tenant}"')  # 14 usable
    # Two overlapping utilised ranges cover .1-.6: six addresses, counted once.
    await create_range(api, "192.0.2.1/28", "192.0.2.4/28", tenant, mark_utilized="true")
    await create_range(api, "192.0.2.3/28", "192.0.2.6/28", tenant, mark_utilized="true")
    # Not counted: a range not marked, one reaching outside the prefix, one in another VRF.
    await create_range(api, "192.0.2.11/28", "192.0.2.12/28", tenant)
    await create_range(api, "192.0.2.14/24", "192.0.2.20/24", tenant, mark_utilized="true")
    await create_range(api, "192.0.2.7/28", "192.0.2.9/28", tenant, mark_utilized="true", vrf=f'"{await _vrf(api, tenant)}"')
    await create_ip(api, "192.0.2.2/28", tenant=f'"{tenant}"')  # inside a utilised range: already counted
    await create_ip(api, "192.0.2.10/28", tenant=f'"{tenant}"')
    await create_ip(api, "192.0.2.13/28", tenant=f'"{tenant}"')
    expected = round(100 * (6 + 2) / 14, 2)
    assert expected == 57.14
    assert (await api.data(UTILISATION, id=subnet["id"]))["prefix"]["utilisation"] == expected
    assert await api.paths(UTILISATION, id=subnet["id"]) == {"prefix": "sql"}
    change_settings(app, monkeypatch, compile_reads=False)
    assert (await api.data(UTILISATION, id=subnet["id"]))["prefix"]["utilisation"] == expected
    # In a list (the resolvers' batch statement), the same.
    listed = await api.data('{ prefix_list(filters: {prefix: {exact: "192.0.2.0/28"}}) { utilisation } }')
    assert listed["prefix_list"] == [{"utilisation": expected}]


async def test_utilised_ranges_saturate_at_100(api, org):
    tenant = org.tenant_ids[0]
    subnet = await create_prefix(api, "198.51.100.0/30", tenant=f'"{tenant}"')  # 2 usable
    await create_range(api, "198.51.100.0/30", "198.51.100.3/30", tenant, mark_utilized="true")
    assert (await api.data(USE, id=subnet["id"]))["prefix"]["utilisation"] == 100.0


async def test_populated_ranges_offer_no_addresses(api, org):
    tenant = org.tenant_ids[0]
    subnet = await create_prefix(api, "10.0.0.0/28", tenant=f'"{tenant}"')
    await create_range(api, "10.0.0.0/28", "10.0.0.2/28", tenant, mark_populated="true")  # from the network address
    await create_range(api, "10.0.0.5/28", "10.0.0.9/28", tenant, mark_populated="true")
    await create_range(api, "10.0.0.11/28", "10.0.0.11/28", tenant)  # not marked: its address stays free
    await create_range(api, "10.0.0.12/28", "10.0.0.13/28", tenant, mark_populated="true", vrf=f'"{await _vrf(api, tenant)}"')
    await create_ip(api, "10.0.0.4/28", tenant=f'"{tenant}"')
    free = (await api.data(USE, id=subnet["id"]))["prefix"]["available_ips"]
    assert free == ["10.0.0.3/28", "10.0.0.10/28", "10.0.0.11/28", "10.0.0.12/28", "10.0.0.13/28", "10.0.0.14/28"]
    # Marking populated does not count towards utilisation (NetBox: only utilised ranges do).
    assert (await api.data(USE, id=subnet["id"]))["prefix"]["utilisation"] == round(100 / 14, 2)
    # Allocation skips them too.
    allocate = "mutation($p: ID!) { prefix_allocate_ip(prefix: $p) { address } }"
    got = [(await api.data(allocate, p=subnet["id"]))["prefix_allocate_ip"]["address"] for _ in range(3)]
    assert got == ["10.0.0.3/28", "10.0.0.10/28", "10.0.0.11/28"]


async def test_no_address_is_created_inside_a_populated_range(api, org):
    first, second = org.tenant_ids
    await create_range(api, "10.9.0.10/24", "10.9.0.20/24", first, mark_populated="true")
    error = await api.error(f'mutation {{ ip_address_create(input: {{address: "10.9.0.15/24", tenant: "{first}"}}) {{ id }} }}')
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "address", error
    assert "marked populated" in error["message"]
    for edge in ("10.9.0.10/32", "10.9.0.20/24"):  # the ends belong to the range, whatever the mask
        error = await api.error(f'mutation {{ ip_address_create(input: {{address: "{edge}", tenant: "{first}"}}) {{ id }} }}')
        assert error["extensions"]["field"] == "address"
    # A batch is refused whole: nothing half-written.
    batch = f'mutation {{ ip_address_create_many(inputs: [{{address: "10.9.0.5/24", tenant: "{first}"}}, {{address: "10.9.0.11/24", tenant: "{first}"}}]) {{ id }} }}'
    error = await api.error(batch)
    assert error["extensions"]["field"] == "inputs.1.address", error
    assert await api.count("ip_address") == 0
    # Outside the range, in another VRF or another tenant, addresses are created.
    await create_ip(api, "10.9.0.21/24", tenant=f'"{first}"')
    await create_ip(api, "10.9.0.15/24", tenant=f'"{first}"', vrf=f'"{await _vrf(api, first)}"')
    await create_ip(api, "10.9.0.15/24", tenant=f'"{second}"')
    # An address already there when the range is marked stays, and may be edited (NetBox
    # judges creation only).
    plain = await create_range(api, "10.9.0.30/24", "10.9.0.40/24", first)
    inside = await create_ip(api, "10.9.0.35/24", tenant=f'"{first}"')
    await api.data(f'mutation {{ ip_range_update(id: "{plain["id"]}", input: {{mark_populated: true}}) {{ id }} }}')
    edited = await api.data(f'mutation {{ ip_address_update(id: "{inside["id"]}", input: {{dns_name: "kept.example"}}) {{ dns_name }} }}')
    assert edited["ip_address_update"]["dns_name"] == "kept.example"
    assert await api.count("ip_address") == 4


RANGES = "{ ip_range_list { start_address utilization } }"


async def test_range_utilization_on_both_paths(app, api, org, monkeypatch):
    first, second = org.tenant_ids
    await create_range(api, "192.0.2.10/24", "192.0.2.17/24", first)  # 8 addresses
    await create_range(api, "192.0.2.20/24", "192.0.2.22/24", first)  # 3 addresses
    await create_range(api, "192.0.2.30/24", "192.0.2.31/24", first, mark_utilized="true")
    await create_range(api, "2001:db8::10/64", "2001:db8::20/64", first)
    await create_range(api, "2001:db8::30/64", "2001:db8::ffff:ffff:ffff/64", first, mark_utilized="true")
    for address in ("192.0.2.10/24", "192.0.2.12/32", "192.0.2.17/24", "192.0.2.18/24", "192.0.2.21/24", "2001:db8::11/64"):
        await create_ip(api, address, tenant=f'"{first}"')
    # Not counted: an address of another VRF or of another tenant.
    await create_ip(api, "192.0.2.11/24", tenant=f'"{first}"', vrf=f'"{await _vrf(api, first)}"')
    await create_ip(api, "192.0.2.13/24", tenant=f'"{second}"')
    expected = {
        "192.0.2.10/24": 37.5,  # 3 of 8
        "192.0.2.20/24": 33.33,  # 1 of 3
        "192.0.2.30/24": 100.0,  # marked, though empty
        "2001:db8::10/64": None,
        "2001:db8::30/64": 100.0,
    }
    assert await api.paths(RANGES) == {"ip_range_list": "sql"}
    assert {r["start_address"]: r["utilization"] for r in (await api.data(RANGES))["ip_range_list"]} == expected
    change_settings(app, monkeypatch, compile_reads=False)
    assert {r["start_address"]: r["utilization"] for r in (await api.data(RANGES))["ip_range_list"]} == expected
