"""NetBox's tree filters (``TreeNodeFilter``): ``region_id``, ``group_id``, ``location_id``
and ``tenant_group_id`` take ``{id, match_type}`` and match objects in, under or above one
node of a nested model, as NetBox's MPTT lookups do (resolvers/filters.py: _tree_nodes).
Every query here is answered by both read paths (DANBYTE_COMPILER_SHADOW)."""

from __future__ import annotations

from typing import Any

from dcim_lab import Lab

SITES = "query($f: SiteFilter) { site_list(filters: $f) { name } }"
DEVICES = "query($f: DeviceFilter) { device_list(filters: $f) { name } }"


async def _regions(api: Any, tenant: Any) -> tuple[Lab, dict[str, str]]:
    """Europe > Western Europe > {NL, BE}; Europe > Nordics > SE; Americas; a site in each."""
    lab = Lab(api, tenant)
    r: dict[str, str] = {}
    r["Europe"] = await lab.make("region", name="Europe", slug="europe")
    r["Americas"] = await lab.make("region", name="Americas", slug="americas")
    r["Western Europe"] = await lab.make("region", name="Western Europe", slug="we", parent=r["Europe"])
    r["Nordics"] = await lab.make("region", name="Nordics", slug="nordics", parent=r["Europe"])
    r["NL"] = await lab.make("region", name="NL", slug="nl", parent=r["Western Europe"])
    r["BE"] = await lab.make("region", name="BE", slug="be", parent=r["Western Europe"])
    r["SE"] = await lab.make("region", name="SE", slug="se", parent=r["Nordics"])
    for name, region in r.items():
        await lab.make("site", name=f"site in {name}", slug=f"s-{region[:8]}", region=region)
    return lab, r


async def _sites(api: Any, region: str, match: str) -> set[str]:
    found = await api.data(SITES, f={"region_id": {"id": region, "match_type": match}})
    return {site["name"].removeprefix("site in ") for site in found["site_list"]}


async def test_each_match_type_over_a_region_tree(api, org):
    _, r = await _regions(api, org.tenant_ids[0])
    assert await _sites(api, r["Europe"], "EXACT") == {"Europe"}
    assert await _sites(api, r["Europe"], "DESCENDANTS") == {"Western Europe", "Nordics", "NL", "BE", "SE"}
    assert await _sites(api, r["Europe"], "SELF_AND_DESCENDANTS") == {"Europe", "Western Europe", "Nordics", "NL", "BE", "SE"}
    assert await _sites(api, r["Europe"], "CHILDREN") == {"Western Europe", "Nordics"}
    assert await _sites(api, r["NL"], "SIBLINGS") == {"BE"}
    assert await _sites(api, r["Europe"], "SIBLINGS") == set()  # NetBox: a top-level node has none
    assert await _sites(api, r["NL"], "ANCESTORS") == {"Western Europe", "Europe"}
    assert await _sites(api, r["NL"], "PARENT") == {"Western Europe"}
    assert await _sites(api, r["Europe"], "PARENT") == set()
    assert await _sites(api, r["SE"], "DESCENDANTS") == set()
    # Combined with other filters, and inside OR.
    found = await api.data(
        SITES, f={"region_id": {"id": r["Europe"], "match_type": "DESCENDANTS"}, "OR": {"region_id": {"id": r["Americas"], "match_type": "EXACT"}}}
    )
    assert len(found["site_list"]) == 6


async def test_locations_groups_and_tenant_groups(api, org):
    tenant = org.tenant_ids[0]
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    device_type = await lab.make("device_type", manufacturer=c["manufacturer"], model="X1", slug="x1")
    building = await lab.make("location", name="Building", slug="building", site=c["site"])
    floor = await lab.make("location", name="Floor 1", slug="floor-1", site=c["site"], parent=building)
    room = await lab.make("location", name="Room 101", slug="room-101", site=c["site"], parent=floor)
    for name, location in (("in-building", building), ("in-room", room), ("nowhere", None)):
        await lab.make("device", name=name, device_type=device_type, role=c["role"], site=c["site"], location=location)
    found = await api.data(DEVICES, f={"location_id": {"id": building, "match_type": "SELF_AND_DESCENDANTS"}})
    assert {d["name"] for d in found["device_list"]} == {"in-building", "in-room"}
    found = await api.data(DEVICES, f={"location_id": {"id": floor, "match_type": "DESCENDANTS"}})
    assert {d["name"] for d in found["device_list"]} == {"in-room"}
    racks = await api.data("query($f: RackFilter) { rack_list(filters: $f) { name } }", f={"location_id": {"id": building, "match_type": "DESCENDANTS"}})
    assert racks["rack_list"] == []

    # Site groups, and tenants by their group's subtree (NetBox's TenancyFilterMixin).
    top = (await api.data('mutation { tenant_group_create(input: {name: "Customers", slug: "customers"}) { id } }'))["tenant_group_create"]["id"]
    sub = (await api.data('mutation($p: ID) { tenant_group_create(input: {name: "Gold", slug: "gold", parent: $p}) { id } }', p=top))["tenant_group_create"][
        "id"
    ]
    await api.data("mutation($t: ID!, $g: ID) { tenant_update(id: $t, input: {group: $g}) { id } }", t=str(tenant), g=sub)
    found = await api.data(DEVICES, f={"tenant_group_id": {"id": top, "match_type": "DESCENDANTS"}})
    assert {d["name"] for d in found["device_list"]} == {"in-building", "in-room", "nowhere"}
    assert (await api.data(DEVICES, f={"tenant_group_id": {"id": top, "match_type": "EXACT"}}))["device_list"] == []
    assert len((await api.data(DEVICES, f={"tenant_group": {"slug": {"exact": "gold"}}}))["device_list"]) == 3
    tenants = await api.data("query($f: TenantFilter) { tenant_list(filters: $f) { id } }", f={"group_id": {"id": top, "match_type": "CHILDREN"}})
    assert tenants["tenant_list"] == [{"id": str(tenant)}]
    group = await lab.make("site_group", name="Edge", slug="edge")
    await lab.make("site", name="edge site", slug="edge-site", group=group)
    assert (await api.data(SITES, f={"group_id": {"id": group, "match_type": "EXACT"}}))["site_list"] == [{"name": "edge site"}]


async def test_one_statement_however_deep_the_tree(api, org):
    lab, r = await _regions(api, org.tenant_ids[0])
    parent = r["SE"]
    for depth in range(8):
        parent = await lab.make("region", name=f"level {depth}", slug=f"level-{depth}", parent=parent)
    await lab.make("site", name="site in deepest", slug="deepest", region=parent)
    shallow = await api.sql_statements(SITES, f={"region_id": {"id": r["Western Europe"], "match_type": "DESCENDANTS"}})
    deep = await api.sql_statements(SITES, f={"region_id": {"id": r["Europe"], "match_type": "DESCENDANTS"}})
    assert shallow == deep
    assert "deepest" in await _sites(api, r["Europe"], "DESCENDANTS")
    assert await _sites(api, parent, "ANCESTORS") == {"SE", "Nordics", "Europe"}  # the levels between hold no site


async def test_bad_ids_other_tenants_and_missing_grants(api, org):
    mine, theirs = org.tenant_ids
    _, r = await _regions(api, mine)
    _, their = await _regions(api, theirs)
    # Another tenant's region matches nothing for a reader limited to this tenant.
    reader = api.as_key(await org.user_key(tenant_ids=[mine], grants={"site": ["view"], "region": ["view"]}))
    assert await _sites(reader, their["Europe"], "SELF_AND_DESCENDANTS") == set()
    assert len(await _sites(reader, r["Europe"], "SELF_AND_DESCENDANTS")) == 6
    error = await api.error(SITES, f={"region_id": {"id": "not-an-id", "match_type": "EXACT"}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.region_id.id"}, error
    error = await api.error(SITES, f={"region_id": {"id": r["Europe"], "match_type": "COUSINS"}})
    assert "COUSINS" in error["message"]
    # The filter tells which region a site is in: a reader who may not view regions is refused.
    blind = api.as_key(await org.user_key(grants={"site": ["view"]}))
    error = await blind.error(SITES, f={"region_id": {"id": r["Europe"], "match_type": "DESCENDANTS"}})
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filters.region_id"}, error
    # Through the tenant to its group: each type on the way needs view.
    for grants in ({"site": ["view"], "tenant": ["view"]}, {"site": ["view"], "tenant_group": ["view"]}):
        reader = api.as_key(await org.user_key(grants=grants))
        for flt in ({"tenant_group_id": {"id": r["Europe"], "match_type": "EXACT"}}, {"tenant_group": {"slug": {"exact": "x"}}}):
            error = await reader.error(SITES, f=flt)
            assert error["extensions"] == {"code": "FORBIDDEN", "field": f"filters.{next(iter(flt))}"}, (grants, error)
