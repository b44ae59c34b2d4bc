"""Nested models listed as NetBox's TreeManager lists them: depth first, each parent before
its children, siblings and roots by natural name (models/tree.py). The key is kept by the
database, so it is checked here after API writes, after set-based SQL (the importer's way:
children first, parents set afterwards) and under row-level security. Every query runs
through both read paths (the suite's shadow mode compares them)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from registry_samples import Samples
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from models.base import all_models, is_tree, table_of
from models.dcim.sites import Region
from models.registry import spec_for, specs
from models.tree import TRIGGERS
from permissions.principal import Principal
from resolvers.writes import integrity_error

# Flat by name these sort a, a b, b, Region 2, Region 10, x, z, Zone 9, Zone 10; as a tree:
TREE = [
    ("a", None),
    ("z", "a"),
    ("a b", None),
    ("Region 2", None),
    ("b", "Region 2"),
    ("Region 10", None),
    ("Zone 9", "Region 10"),
    ("x", "Zone 9"),
    ("Zone 10", "Region 10"),
]


async def make_tree(api: Any, tenant: uuid.UUID, model: str = "region") -> dict[str, str]:
    """TREE through the API, created in reverse so that neither creation order nor ids
    give the tree's order; name → id."""
    made: dict[str, str] = {}
    while len(made) < len(TREE):
        for name, parent in reversed(TREE):
            if name not in made and (parent is None or parent in made):
                made[name] = await create(api, tenant, model, name, made[parent] if parent else None)
    return made


async def create(api: Any, tenant: uuid.UUID, model: str, name: str, parent: str | None = None) -> str:
    fields: dict[str, Any] = {"name": name, "slug": f"s-{uuid.uuid4().hex[:12]}", "tenant": str(tenant), "parent": parent}
    type_name = "".join(part.title() for part in model.split("_"))
    query = f"mutation($i: {type_name}CreateInput!) {{ {model}_create(input: $i) {{ id }} }}"
    return (await api.data(query, i=fields))[f"{model}_create"]["id"]


async def names(api: Any, query: str = "{ region_list { name } }", root: str = "region_list") -> list[str]:
    return [row["name"] for row in (await api.data(query))[root]]


async def test_regions_list_as_a_tree_with_natural_names(api, org):
    await make_tree(api, org.tenant_ids[0])
    assert await names(api) == [name for name, _ in TREE]
    # A filter keeps the order of what it keeps; pages are slices of the whole order.
    assert await names(api, '{ region_list(filters: {name: {i_contains: "o"}}) { name } }') == ["Region 2", "Region 10", "Zone 9", "Zone 10"]
    assert await names(api, "{ region_list(pagination: {offset: 2, limit: 4}) { name } }") == ["a b", "Region 2", "b", "Region 10"]
    roots = "{ region_list(filters: {parent_id: {is_null: true}}, pagination: {offset: 1, limit: 3}) { name } }"
    assert await names(api, roots) == ["a b", "Region 2", "Region 10"]
    nested = await api.data('{ region_list(filters: {name: {exact: "Region 10"}}) { children { name children { name } } } }')
    assert nested["region_list"] == [{"children": [{"name": "Zone 9", "children": [{"name": "x"}]}, {"name": "Zone 10", "children": []}]}]


async def test_renaming_and_moving_carry_the_subtree(api, org):
    made = await make_tree(api, org.tenant_ids[0])
    update = "mutation($id: ID!, $i: RegionUpdateInput!) { region_update(id: $id, input: $i) { id } }"
    # Region 10 becomes Region 1: it and its whole subtree move before Region 2.
    await api.data(update, id=made["Region 10"], i={"name": "Region 1"})
    assert await names(api) == ["a", "z", "a b", "Region 1", "Zone 9", "x", "Zone 10", "Region 2", "b"]
    # Zone 9 (with x) moves under a, after its sibling z.
    await api.data(update, id=made["Zone 9"], i={"parent": made["a"]})
    assert await names(api) == ["a", "z", "Zone 9", "x", "a b", "Region 1", "Zone 10", "Region 2", "b"]
    # To the top: a root among roots, its child with it.
    await api.data(update, id=made["Zone 9"], i={"parent": None})
    assert await names(api) == ["a", "z", "a b", "Region 1", "Zone 10", "Region 2", "b", "Zone 9", "x"]
    # A case-only rename keeps the key: nothing below is rewritten, the order holds.
    await api.data(update, id=made["Region 2"], i={"name": "REGION 2"})
    assert await names(api) == ["a", "z", "a b", "Region 1", "Zone 10", "REGION 2", "b", "Zone 9", "x"]


async def test_a_write_runs_as_many_statements_whatever_the_subtree(api, org):
    """The database re-keys the subtree (triggers): the write path sends no statement per
    descendant."""
    tenant = org.tenant_ids[0]
    small = await create(api, tenant, "region", "small")
    await create(api, tenant, "region", "only", small)
    big = await create(api, tenant, "region", "big")
    level = [big]
    for depth in range(3):
        level = [await create(api, tenant, "region", f"n{depth}-{i}", parent) for parent in level for i in range(3)]
    update = "mutation($id: ID!, $i: RegionUpdateInput!) { region_update(id: $id, input: $i) { id } }"
    counts = [await api.sql_statements(update, id=region, i={"name": name}) for region, name in ((small, "b small"), (big, "a big"))]
    assert counts[0] == counts[1], counts
    listed = [row["name"] for row in (await api.data("{ region_list { name } }"))["region_list"]]
    assert listed[:5] == ["a big", "n0-0", "n1-0", "n2-0", "n2-1"]
    assert listed[-2:] == ["b small", "only"]
    assert len(listed) == 2 + 1 + 3 + 9 + 27


async def test_the_tree_key_is_no_input(api, org):
    tenant = org.tenant_ids[0]
    error = await api.error(f'mutation {{ region_create(input: {{name: "r", slug: "r", tenant: "{tenant}", _tree: "\\u0001"}}) {{ id }} }}')
    assert "_tree" in error["message"]
    region = await create(api, tenant, "region", "r")
    error = await api.error(f'mutation {{ region_update(id: "{region}", input: {{_tree: "x"}}) {{ id }} }}')
    assert "_tree" in error["message"]
    # Not readable either: a hidden column.
    error = await api.error("{ region_list { _tree } }")
    assert "_tree" in error["message"]


@pytest.mark.parametrize("name", sorted(spec.name for spec in specs().values() if is_tree(spec.model)))
async def test_every_nested_model_lists_as_a_tree(api, org, name):
    """Generated from the registry: each nested model, through its own API."""
    spec = spec_for(next(s.type_name for s in specs().values() if s.name == name))
    samples = Samples(api)
    tenant = org.tenant_ids[0] if spec.tenant_scoped else None
    made: dict[str, str] = {}
    for label, parent in [row for row in TREE if row[1] is None] + [row for row in TREE if row[1] is not None]:
        refs = {"parent": made[parent]} if parent else {}
        made[label] = (await samples.create(spec, tenant, refs=refs, values={"name": label})).id
    query = f"query($ids: [ID!]) {{ {spec.name}_list(filters: {{id: {{in_list: $ids}}}}) {{ name }} }}"
    listed = (await api.data(query, ids=list(made.values())))[f"{spec.name}_list"]
    assert [row["name"] for row in listed] == [label for label, _ in TREE]


def test_every_nested_model_is_a_tree():
    """A model nesting in itself as NetBox's MPTT models do (``parent``, reverse
    ``children``) is a TreeNode, so it carries the key and its ordering."""
    for model in all_models():
        column = table_of(model).c.get("parent_id")
        ref = column.info.get("ref") if column is not None else None
        if ref is not None and ref.target == model.__name__ and ref.related_name == "children":
            assert is_tree(model), model.__name__
    assert [m.__name__ for m in all_models() if is_tree(m)], "no nested model found"


async def test_every_nested_table_carries_the_triggers(db):
    """Generated from the registry: a nested model declared later fails here until its
    migration creates the triggers (models/tree.triggers_sql)."""
    tables = sorted(table_of(m).name for m in all_models() if is_tree(m))
    async with db.system_transaction() as conn:
        found = (
            await conn.execute(
                sa.text(
                    "SELECT c.relname, array_agg(t.tgname::text ORDER BY t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE t.tgname = ANY(:names) AND NOT t.tgisinternal GROUP BY c.relname"
                ),
                {"names": list(TRIGGERS)},
            )
        ).all()
    carrying = {table: sorted(triggers) for table, triggers in found}
    for table in tables:
        assert carrying.get(table) == sorted(TRIGGERS), table
    assert set(carrying) == set(tables), "triggers on a table whose model is no tree"


# --- set-based writers, concurrency of keys, row-level security --------------------------

REGION = table_of(Region)


async def keys(conn: Any, tenant: uuid.UUID) -> dict[str, str | None]:
    rows = await conn.execute(sa.select(REGION.c.name, REGION.c._tree).where(REGION.c.tenant_id == tenant))
    return {row.name: row._tree for row in rows}


def region_row(tenant: uuid.UUID, name: str, parent: uuid.UUID | None = None, numid: int | None = None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant,
        "name": name,
        "_name": name.casefold(),
        "slug": f"s-{uuid.uuid4().hex[:12]}",
        "parent_id": parent,
        "numid": numid,
    }


async def test_set_based_writes_children_before_parents(db, org):
    """One INSERT listing children before their parents, rows without numids numbered
    afterwards, parents set afterwards in one UPDATE (the importer's ways): the keys end
    up as the API's would."""
    tenant = org.tenant_ids[0]
    root, middle = region_row(tenant, "root", numid=1), region_row(tenant, "middle", numid=2)
    middle["parent_id"] = root["id"]
    leaf = region_row(tenant, "leaf", middle["id"])  # no numid yet
    loose = [region_row(tenant, f"loose {n}", numid=10 + n) for n in range(2)]
    async with db.system_transaction() as conn:
        await conn.execute(sa.insert(REGION).values([leaf, middle, root, *loose]))  # one statement
        got = await keys(conn, tenant)
        assert got["leaf"].startswith(got["middle"]) and got["middle"].startswith(got["root"])
        await conn.execute(sa.update(REGION).where(REGION.c.id == leaf["id"]).values(numid=3))
        await conn.execute(
            sa.text(
                "UPDATE region SET parent_id = v.parent FROM (VALUES (CAST(:a AS uuid), CAST(:p AS uuid)), (CAST(:b AS uuid), CAST(:a AS uuid))) v(id, parent) WHERE region.id = v.id"
            ),
            {"a": loose[0]["id"], "b": loose[1]["id"], "p": leaf["id"]},
        )
        got = await keys(conn, tenant)
        order = [name for name, _ in sorted(got.items(), key=lambda item: item[1] or "")]
        assert order == ["root", "middle", "leaf", "loose 0", "loose 1"]
        assert all(got.values())
        # The key is the database's: one written by hand does not survive.
        await conn.execute(sa.update(REGION).where(REGION.c.id == root["id"]).values(_tree="zzz"))
        assert (await keys(conn, tenant)) == got
        # A cycle the write path would refuse is refused by the database too.
        # (Through the API only two concurrent moves could get here: each write path's
        # check passes, the second trigger reads the first's committed key.)
        with pytest.raises(IntegrityError, match="nested inside itself") as refused:
            async with conn.begin_nested():
                await conn.execute(sa.update(REGION).where(REGION.c.id == root["id"]).values(parent_id=loose[1]["id"]))
        error = integrity_error(refused.value)
        assert (error.extensions["code"], error.extensions["field"]) == ("BAD_USER_INPUT", "parent")
        assert str(error) == "parent: a region cannot be nested inside itself or its own descendants"


async def test_the_triggers_stay_inside_the_writers_tenant(db, org):
    """As the request role: a tenant's writer cannot make the triggers read or write another
    tenant's rows, and a writer who may not read the parent still gets the right key."""
    mine, theirs = org.tenant_ids
    their_root, their_child = region_row(theirs, "theirs", numid=1), region_row(theirs, "their child", numid=2)
    their_child["parent_id"] = their_root["id"]
    my_root = region_row(mine, "mine", numid=1)
    async with db.system_transaction() as conn:
        await conn.execute(sa.insert(REGION).values([their_root, their_child, my_root]))
        before = await keys(conn, theirs)
    admin = Principal(user_id=None, username="a", org_id=org.org_id, tenant_ids=frozenset({mine}), is_admin=True)
    # A row claiming the other tenant, under its region, numbered as its root (a cycle there
    # would answer differently if the trigger could read it): refused by the policy alone.
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with db.request_transaction(admin, writing=True) as conn:
            await conn.execute(sa.insert(REGION).values(region_row(theirs, "x", their_child["id"], numid=1)))
    async with db.request_transaction(admin, writing=True) as conn:
        # Renaming the other tenant's root reaches no row; its children keep their keys.
        changed = await conn.execute(sa.update(REGION).where(REGION.c.id == their_root["id"]).values(name="renamed", _name="renamed"))
        assert changed.rowcount == 0
        # A parent in the other tenant is no parent here (the composite key refuses it).
        with pytest.raises(DBAPIError):
            async with conn.begin_nested():
                await conn.execute(sa.insert(REGION).values(region_row(mine, "y", their_root["id"], numid=5)))
    # A writer who may add regions but not read them: the key is computed as the owner.
    adder = Principal(user_id=None, username="b", org_id=org.org_id, tenant_ids=frozenset({mine}), grants={"region": frozenset({"add"})})
    child = region_row(mine, "my child", my_root["id"], numid=2)
    async with db.request_transaction(adder) as conn:
        await conn.execute(sa.insert(REGION).values(child))
        assert (await conn.execute(sa.select(sa.func.count()).select_from(REGION))).scalar_one() == 0  # reads nothing
    async with db.system_transaction() as conn:
        assert await keys(conn, theirs) == before
        mine_now = await keys(conn, mine)
        assert mine_now["my child"] is not None and mine_now["my child"].startswith(mine_now["mine"])
