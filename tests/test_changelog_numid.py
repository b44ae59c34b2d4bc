"""Change log entries and per-tenant numids."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from models.base import table_of
from models.ipam import VLAN
from models.numid import assign_missing_numids, numbered_tables


async def test_each_mutation_writes_one_change_entry(api, org):
    tenant = org.tenant_ids[0]
    created = await api.data(f'mutation {{ vrf_create(input: {{name: "red", tenant: "{tenant}"}}) {{ id numid }} }}')
    vrf = created["vrf_create"]
    await api.data(f'mutation {{ vrf_update(id: "{vrf["id"]}", input: {{name: "crimson", rd: "65000:1"}}) {{ id }} }}')
    await api.data(f'mutation {{ vrf_delete(id: "{vrf["id"]}") {{ id }} }}')
    query = """query($id: ID!) { changelog_list(filters: {object_id: {exact: $id}}) {
        action object_type object_id object_numid user_name request_id changed_fields prechange_data postchange_data time } }"""
    entries = (await api.data(query, id=vrf["id"]))["changelog_list"]
    by_action = {e["action"]: e for e in entries}
    assert sorted(by_action) == ["create", "delete", "update"]
    update = by_action["update"]
    assert update["changed_fields"] == ["name", "rd"]
    assert (update["prechange_data"]["name"], update["postchange_data"]["name"]) == ("red", "crimson")
    assert update["object_numid"] == vrf["numid"] and update["object_type"] == "vrf"
    assert update["user_name"].startswith("admin-")
    assert by_action["delete"]["postchange_data"] is None
    assert len({e["request_id"] for e in entries}) == 3


async def test_changelog_filters_by_user_and_time(api, org):
    await api.data(f'mutation {{ vrf_create(input: {{name: "a", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}')
    mine = await api.data(f'{{ changelog_list(filters: {{user_id: {{exact: "{org.admin_id}"}}}}) {{ id }} }}')
    assert len(mine["changelog_list"]) == 1
    nobody = await api.data(f'{{ changelog_list(filters: {{user_id: {{exact: "{uuid.uuid4()}"}}}}) {{ id }} }}')
    assert nobody["changelog_list"] == []
    future = await api.data('{ changelog_list(filters: {time: {gt: "2999-01-01T00:00:00+00:00"}}) { id } }')
    assert future["changelog_list"] == []
    past = await api.data('{ changelog_list(filters: {time: {gt: "2000-01-01T00:00:00+00:00"}}) { id } }')
    assert len(past["changelog_list"]) == 1


async def test_failed_mutation_leaves_no_change_entry(api, org):
    await api.error('mutation { prefix_create(input: {prefix: "10.0.0.1/8"}) { id } }')
    assert (await api.data("{ changelog_list { id } }"))["changelog_list"] == []


async def test_numids_per_tenant_and_type_and_stable(api, org):
    first, second = org.tenant_ids

    async def create(kind: str, tenant: uuid.UUID, name: str) -> dict:
        data = await api.data(f'mutation {{ {kind}_create(input: {{name: "{name}", tenant: "{tenant}"}}) {{ id numid }} }}')
        return data[f"{kind}_create"]

    a, b = await create("vrf", first, "a"), await create("vrf", first, "b")
    c = await create("vrf", second, "c")
    rt = await create("route_target", first, "65000:1")
    assert (a["numid"], b["numid"], c["numid"], rt["numid"]) == (1, 2, 1, 1)
    await api.data(f'mutation {{ vrf_update(id: "{a["id"]}", input: {{name: "renamed"}}) {{ id }} }}')
    await api.data(f'mutation {{ vrf_delete(id: "{b["id"]}") {{ id }} }}')
    d = await create("vrf", first, "d")
    assert d["numid"] == 3  # never reused
    # Addressable by numid: ambiguous across tenants until the tenant is given.
    error = await api.error("{ vrf(numid: 1) { name } }")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tenant"}
    data = await api.data(f'{{ vrf(numid: 1, tenant: "{first}") {{ id name numid }} }}')
    assert data["vrf"] == {"id": a["id"], "name": "renamed", "numid": 1}
    restricted = api.as_key(await org.user_key(is_admin=True, token_tenant_ids=[second]))
    assert (await restricted.data("{ vrf(numid: 1) { name } }"))["vrf"]["name"] == "c"


async def test_assign_numids_backfills_in_creation_order_and_is_idempotent(api, org, db):
    tenant = org.tenant_ids[0]
    await api.data(f'mutation {{ vlan_create(input: {{vid: 1, name: "numbered", tenant: "{tenant}"}}) {{ id }} }}')
    async with db.system_transaction() as conn:
        # Every numbered table. Rows other tests committed unnumbered (jobs, sites, roles
        # written by hand across connections) are numbered first, in this rolled-back
        # transaction, so what follows counts this test's rows only.
        await assign_missing_numids(conn)
        for vid in (30, 20, 10):  # inserted in this order, one second apart in created
            await conn.execute(
                sa.text("INSERT INTO vlan (tenant_id, vid, name, created) VALUES (:t, :v, 'imported', now() + make_interval(secs => :s))"),
                {"t": tenant, "v": vid, "s": 40 - vid},
            )
        assert await assign_missing_numids(conn) == 3
        assert await assign_missing_numids(conn) == 0
        left = [t.name for t in numbered_tables() if (await conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.numid.is_(None)))).scalar_one()]
        assert left == []
        rows = (await conn.execute(sa.text("SELECT vid, numid FROM vlan WHERE tenant_id = :t ORDER BY numid"), {"t": tenant})).all()
    assert [(r.vid, r.numid) for r in rows] == [(1, 1), (30, 2), (20, 3), (10, 4)]
    created = await api.data(f'mutation {{ vlan_create(input: {{vid: 99, name: "next", tenant: "{tenant}"}}) {{ numid }} }}')
    assert created["vlan_create"]["numid"] == 5


async def test_backfill_continues_after_hand_numbered_rows_per_tenant_in_two_statements_a_table(api, org, db):
    first, second = org.tenant_ids[:2]
    async with db.system_transaction() as conn:
        # A row imported with its number (NetBox's id) sets where the second tenant goes on.
        await conn.execute(sa.text("INSERT INTO vlan (tenant_id, vid, name, numid) VALUES (:t, 1, 'imported', 10)"), {"t": second})
        for tenant, vid in ((first, 2), (second, 3), (first, 4), (second, 5)):
            await conn.execute(
                sa.text("INSERT INTO vlan (tenant_id, vid, name, created) VALUES (:t, :v, 'bare', now() + make_interval(secs => :v))"),
                {"t": tenant, "v": vid},
            )
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        sa.event.listen(conn.sync_connection, "before_cursor_execute", count)
        try:
            assert await assign_missing_numids(conn, [table_of(VLAN)]) == 4
        finally:
            sa.event.remove(conn.sync_connection, "before_cursor_execute", count)
        assert len(statements) == 2, statements  # counter catch-up, then one numbering statement
        rows = (await conn.execute(sa.text("SELECT tenant_id, vid, numid FROM vlan WHERE tenant_id IN (:a, :b) ORDER BY vid"), {"a": first, "b": second})).all()
        counters = dict(
            (
                await conn.execute(
                    sa.text("SELECT tenant_id, last FROM numid_counter WHERE object_type = 'vlan' AND tenant_id IN (:a, :b)"), {"a": first, "b": second}
                )
            ).all()
        )
    assert [(r.vid, r.numid) for r in rows] == [(1, 10), (2, 1), (3, 11), (4, 2), (5, 12)]
    assert counters == {first: 2, second: 12}
