"""Sites as NetBox 4.6 has them: site groups, facility, time zone, addresses, coordinates,
comments and ASNs; locations with their own status set and facility."""

from __future__ import annotations


async def test_site_carries_netbox_fields(api, org):
    tenant = org.tenant_ids[0]
    group = (await api.data(f'mutation {{ site_group_create(input: {{name: "Edge", slug: "edge", tenant: "{tenant}"}}) {{ id }} }}'))["site_group_create"]["id"]
    asn = (await api.data(f'mutation {{ asn_create(input: {{asn: 65001, tenant: "{tenant}"}}) {{ id }} }}'))["asn_create"]["id"]
    created = await api.data(
        f"""mutation {{ site_create(input: {{name: "AMS1", slug: "ams1", tenant: "{tenant}", group: "{group}", asns: ["{asn}"],
            facility: "Equinix AM3", time_zone: "Europe/Amsterdam", physical_address: "Science Park 610", latitude: "52.356358",
            longitude: "4.954147", comments: "Cage 12"}}) {{
          name facility time_zone physical_address latitude longitude comments group {{ slug }} asns {{ asn }} }} }}"""
    )
    assert created["site_create"] == {
        "name": "AMS1",
        "facility": "Equinix AM3",
        "time_zone": "Europe/Amsterdam",
        "physical_address": "Science Park 610",
        "latitude": "52.356358",
        "longitude": "4.954147",
        "comments": "Cage 12",
        "group": {"slug": "edge"},
        "asns": [{"asn": 65001}],
    }
    found = await api.data(
        '{ site_list(filters: {latitude: {comparison_lookup: {gt: 50}}, group: {slug: {exact: "edge"}}}) { name } asn_list { sites { name } } }'
    )
    assert found == {"site_list": [{"name": "AMS1"}], "asn_list": [{"sites": [{"name": "AMS1"}]}]}
    # Decimals filter with NetBox's FloatLookup: one of a comparison, a range or a plain lookup.
    for lookup, hits in (
        ("{comparison_lookup: {lt: 50}}", []),
        ("{range_lookup: {start: 52, end: 53}}", ["AMS1"]),
        ("{range_lookup: {start: 53, end: 54}}", []),
        ("{filter_lookup: {exact: 52.356358}}", ["AMS1"]),
    ):
        data = await api.data(f"{{ site_list(filters: {{latitude: {lookup}}}) {{ name }} }}")
        assert [s["name"] for s in data["site_list"]] == hits, lookup
    error = await api.error("{ site_list(filters: {latitude: {comparison_lookup: {gt: 1}, range_lookup: {start: 1}}}) { id } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"  # one of them only, as NetBox


async def test_site_refuses_unknown_time_zones_and_impossible_coordinates(api, org):
    tenant = org.tenant_ids[0]
    for field, value in (("time_zone", '"Mars/Olympus_Mons"'), ("latitude", '"91"'), ("longitude", '"-180.5"')):
        error = await api.error(f'mutation {{ site_create(input: {{name: "x", slug: "x", tenant: "{tenant}", {field}: {value}}}) {{ id }} }}')
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, (field, error)
    assert (await api.data("{ site_list { id } }"))["site_list"] == []


async def test_site_groups_nest_and_locations_have_their_own_status(api, org):
    tenant = org.tenant_ids[0]
    parent = (await api.data(f'mutation {{ site_group_create(input: {{name: "P", slug: "p", tenant: "{tenant}"}}) {{ id }} }}'))["site_group_create"]["id"]
    await api.data(f'mutation {{ site_group_create(input: {{name: "C", slug: "c", parent: "{parent}", tenant: "{tenant}"}}) {{ id }} }}')
    tree = await api.data('{ site_group_list(filters: {slug: {exact: "p"}}) { children { slug } } }')
    assert tree["site_group_list"] == [{"children": [{"slug": "c"}]}]
    site = (await api.data(f'mutation {{ site_create(input: {{name: "S", slug: "s", tenant: "{tenant}"}}) {{ id }} }}'))["site_create"]["id"]
    location = await api.data(
        f'mutation {{ location_create(input: {{name: "Hall", slug: "hall", site: "{site}", status: STATUS_PLANNED, facility: "Hall B", tenant: "{tenant}"}}) {{ status facility }} }}'
    )
    assert location["location_create"] == {"status": "planned", "facility": "Hall B"}
    listed = await api.data("{ location_list(filters: {status: {exact: STATUS_PLANNED}}) { name } }")
    assert listed["location_list"] == [{"name": "Hall"}]
