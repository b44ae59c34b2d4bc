"""One-of references (NetBox's generic foreign keys) on an exclusive arc: a prefix's scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from factories import change_settings
from sqlalchemy.exc import IntegrityError

SCOPE = "scope { __typename ... on SiteType { name } ... on LocationType { name } ... on RegionType { name } ... on SiteGroupType { name } }"


async def make(api, mutation: str) -> str:
    data = await api.data(f"mutation {{ {mutation} }}")
    return next(iter(data.values()))["id"]


async def places(api, tenant) -> dict[str, str]:
    t = f'tenant: "{tenant}"'
    site = await make(api, f'site_create(input: {{name: "S1", slug: "s1", {t}}}) {{ id }}')
    return {
        "site": site,
        "location": await make(api, f'location_create(input: {{name: "L1", slug: "l1", site: "{site}", {t}}}) {{ id }}'),
        "region": await make(api, f'region_create(input: {{name: "R1", slug: "r1", {t}}}) {{ id }}'),
    }


async def test_scope_points_at_one_object_of_several_types(api, org):
    tenant = org.tenant_ids[0]
    where = await places(api, tenant)
    created = await api.data(
        f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/24", tenant: "{tenant}", scope: {{type: "dcim.site", id: "{where["site"]}"}}}}) {{ id {SCOPE} }} }}'
    )
    prefix = created["prefix_create"]
    assert prefix["scope"] == {"__typename": "SiteType", "name": "S1"}
    moved = await api.data(
        f'mutation {{ prefix_update(id: "{prefix["id"]}", input: {{scope: {{type: "dcim.location", id: "{where["location"]}"}}}}) {{ {SCOPE} }} }}'
    )
    assert moved["prefix_update"]["scope"] == {"__typename": "LocationType", "name": "L1"}
    # Filters as NetBox spells them.
    by_type = '{ prefix_list(filters: {scope_type: {app_label: {exact: "dcim"}, model: {exact: "location"}}}) { id } }'
    assert [p["id"] for p in (await api.data(by_type))["prefix_list"]] == [prefix["id"]]
    assert (await api.data(by_type.replace('"location"', '"site"')))["prefix_list"] == []
    by_id = await api.data(f'{{ prefix_list(filters: {{scope_id: "{where["location"]}"}}) {{ id }} }}')
    assert [p["id"] for p in by_id["prefix_list"]] == [prefix["id"]]
    # Moving it cleared the site: one member is set at a time, and null clears them all.
    cleared = await api.data(f'mutation {{ prefix_update(id: "{prefix["id"]}", input: {{scope: null}}) {{ {SCOPE} }} }}')
    assert cleared["prefix_update"]["scope"] is None
    changes = await api.data(f'{{ changelog_list(filters: {{object_id: {{exact: "{prefix["id"]}"}}}}) {{ changed_fields }} }}')
    assert ["scope_location_id", "scope_site_id"] in [c["changed_fields"] for c in changes["changelog_list"]]


@pytest.mark.parametrize(
    ("scope", "code", "field"),
    [
        ('{type: "dcim.rack", id: "ID"}', "BAD_USER_INPUT", "scope.type"),
        ('{type: "dcim.site", id: "not-an-id"}', "BAD_USER_INPUT", "scope.id"),
        ('{type: "dcim.site", id: "00000000-0000-0000-0000-000000000001"}', "NOT_FOUND", "scope"),
        ('{type: "dcim.site", id: "OTHER"}', "BAD_USER_INPUT", "scope"),
    ],
)
async def test_bad_scopes_are_refused_and_write_nothing(api, org, scope, code, field):
    tenant, other = org.tenant_ids
    mine = await places(api, tenant)
    theirs = await make(api, f'site_create(input: {{name: "T", slug: "t", tenant: "{other}"}}) {{ id }}')
    scope = scope.replace("OTHER", theirs).replace("ID", mine["site"])
    error = await api.error(f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/24", tenant: "{tenant}", scope: {scope}}}) {{ id }} }}')
    assert error["extensions"] == {"code": code, "field": field}, error
    assert (await api.data("{ prefix_list { id } }"))["prefix_list"] == []


async def test_the_database_keeps_the_arc_exclusive_and_inside_the_tenant(api, org, db):
    tenant, other = org.tenant_ids
    where = await places(api, tenant)
    theirs = await make(api, f'site_create(input: {{name: "T", slug: "t", tenant: "{other}"}}) {{ id }}')
    with pytest.raises(IntegrityError, match="ck_prefix_scope_one_of"):
        async with db.system_transaction() as conn:
            await conn.execute(
                sa.text("INSERT INTO prefix (tenant_id, prefix, scope_site_id, scope_region_id) VALUES (:t, '10.9.0.0/16', :s, :r)"),
                {"t": tenant, "s": where["site"], "r": where["region"]},
            )
    with pytest.raises(IntegrityError, match="fk_prefix_tenant_id_scope_site_id"):
        async with db.system_transaction() as conn:
            await conn.execute(sa.text("INSERT INTO prefix (tenant_id, prefix, scope_site_id) VALUES (:t, '10.9.0.0/16', :s)"), {"t": tenant, "s": theirs})


@pytest.mark.parametrize("compiled", [True, False], ids=["sql", "resolvers"])
async def test_scope_loads_per_member_type_not_per_row(api, org, app, monkeypatch, compiled):
    tenant = org.tenant_ids[0]
    where = await places(api, tenant)
    query = f"{{ prefix_list {{ prefix {SCOPE} }} }}"

    async def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            kind = ("site", "location", "region")[n % 3]
            await api.data(
                f'mutation {{ prefix_create(input: {{prefix: "10.{n}.0.0/16", tenant: "{tenant}", scope: {{type: "dcim.{kind}", id: "{where[kind]}"}}}}) {{ id }} }}'
            )

    change_settings(app, monkeypatch, compile_reads=compiled)
    await add(3, 0)
    few = await api.sql_statements(query)
    await add(9, 3)
    # Compiled: one statement after the set-up; resolvers: the list, then one per member type present.
    assert await api.sql_statements(query) == few == (2 if compiled else 5)
