"""Tenant isolation is a property of the database, and permissions gate object types."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, ProgrammingError

from permissions.principal import Principal


async def seed(api, org) -> None:
    for index, tenant in enumerate(org.tenant_ids):
        await api.data(f'mutation {{ vrf_create(input: {{name: "vrf-{index}", tenant: "{tenant}"}}) {{ id }} }}')
        await api.data(f'mutation {{ prefix_create(input: {{prefix: "10.{index}.0.0/16", tenant: "{tenant}"}}) {{ id }} }}')


async def test_unfiltered_select_in_a_request_sees_only_permitted_tenants(api, org, db):
    await seed(api, org)
    first = org.tenant_ids[0]
    principal = Principal(user_id=None, username="t", org_id=org.org_id, tenant_ids=frozenset({first}), is_admin=True)
    async with db.request_transaction(principal) as conn:
        rows = (await conn.execute(sa.text("SELECT tenant_id, prefix FROM prefix"))).all()
        vrfs = (await conn.execute(sa.text("SELECT tenant_id FROM vrf"))).all()
        tenants = (await conn.execute(sa.text("SELECT id FROM tenant"))).all()
        role = (await conn.execute(sa.text("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
    assert [(r.tenant_id, r.prefix) for r in rows] == [(first, "10.0.0.0/16")]
    assert {v.tenant_id for v in vrfs} == {first}
    assert [t.id for t in tenants] == [first]
    assert (role.rolsuper, role.rolbypassrls) == (False, False)


async def test_a_principal_of_another_organisation_sees_nothing(api, org, db):
    await seed(api, org)
    from factories import make_org

    stranger = await make_org(db, tenants=1)
    principal = Principal(user_id=None, username="x", org_id=stranger.org_id, tenant_ids=frozenset(stranger.tenant_ids), all_tenants=True, is_admin=True)
    async with db.request_transaction(principal) as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM prefix"))).scalar_one() == 0
        assert (await conn.execute(sa.text("SELECT count(*) FROM tenant"))).scalar_one() == 1


async def test_restricted_token_sees_only_its_tenants_through_the_api(api, org):
    await seed(api, org)
    key = await org.user_key(is_admin=True, token_tenant_ids=[org.tenant_ids[1]])
    restricted = api.as_key(key)
    data = await restricted.data("{ prefix_list { prefix tenant { id } } vrf_list { name } tenant_list { id } }")
    assert [p["prefix"] for p in data["prefix_list"]] == ["10.1.0.0/16"]
    assert [v["name"] for v in data["vrf_list"]] == ["vrf-1"]
    assert [t["id"] for t in data["tenant_list"]] == [str(org.tenant_ids[1])]
    other = (await api.data('{ prefix_list(filters: {prefix: {exact: "10.0.0.0/16"}}) { id } }'))["prefix_list"][0]["id"]
    error = await restricted.error(f'{{ prefix(id: "{other}") {{ id }} }}')
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await restricted.error(f'mutation {{ prefix_delete(id: "{other}") {{ id }} }}')
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_direct_sql_cannot_point_into_another_tenant(api, org, db):
    await seed(api, org)
    async with db.system_transaction() as conn:  # the owner: row-level security does not apply
        other_vrf = (await conn.execute(sa.text("SELECT id FROM vrf WHERE tenant_id = :t"), {"t": org.tenant_ids[1]})).scalar_one()
    with pytest.raises(IntegrityError, match="fk_prefix_tenant_id_vrf_id"):
        async with db.system_transaction() as conn:
            await conn.execute(
                sa.text("INSERT INTO prefix (tenant_id, prefix, vrf_id) VALUES (:t, '192.0.2.0/24', :v)"),
                {"t": org.tenant_ids[0], "v": other_vrf},
            )


async def test_request_role_cannot_insert_into_a_tenant_it_does_not_have(org, db):
    principal = Principal(user_id=None, username="t", org_id=org.org_id, tenant_ids=frozenset({org.tenant_ids[0]}))
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with db.request_transaction(principal) as conn:
            await conn.execute(sa.text("INSERT INTO vrf (tenant_id, name) VALUES (:t, 'sneaky')"), {"t": org.tenant_ids[1]})


async def test_every_table_has_the_policies_its_declaration_asks_for(db):
    """A model added later is protected without a hand-written step: `danbyte migrate`
    applies each table's policies from its place on the model ladder."""
    from models import Base
    from permissions.rls import applied_digests, expected_policies, policy_digest

    async with db.system_transaction() as conn:
        protected = {
            r.relname
            for r in await conn.execute(
                sa.text("SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r' AND relnamespace = 'public'::regnamespace")
            )
        }
        applied = await conn.run_sync(applied_digests)
        tables = {r.tablename for r in await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    expected = expected_policies(Base.metadata)
    assert tables - {"alembic_version"} == set(expected) == protected
    assert applied == {table: policy_digest(table, policy) for table, policy in expected.items()}


async def test_a_table_without_a_declared_kind_is_refused():
    from permissions.rls import table_kind

    stray = sa.Table("stray", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    with pytest.raises(LookupError, match="stray"):
        table_kind(stray)


async def test_object_permissions(api, org):
    await seed(api, org)
    key = await org.user_key(grants={"prefix": ["view"], "vrf": ["view", "add"]})
    user = api.as_key(key)
    assert len((await user.data("{ prefix_list { id vrf { id } } }"))["prefix_list"]) == 2
    error = await user.error("{ site_list { id } }")
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await user.error(f'mutation {{ prefix_create(input: {{prefix: "10.7.0.0/16", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}')
    assert error["extensions"]["code"] == "FORBIDDEN"
    created = await user.data(f'mutation {{ vrf_create(input: {{name: "mine", tenant: "{org.tenant_ids[0]}"}}) {{ name }} }}')
    assert created["vrf_create"]["name"] == "mine"
    # Relations to types the user may not view resolve to nothing rather than leaking.
    data = await user.data("{ prefix_list { tenant { id } } }")
    assert all(p["tenant"] is None for p in data["prefix_list"])


async def test_admin_creates_user_and_token(api, org):
    user = await api.data(
        'mutation { user_create(input: {username: "ops-bot", password: "pw", permissions: [{object_types: ["prefix"], actions: ["view"]}]}) { id username is_admin } }'
    )
    user_id = user["user_create"]["id"]
    token = await api.data(
        f'mutation {{ token_create(input: {{user: "{user_id}", tenants: ["{org.tenant_ids[0]}"], write_enabled: false}}) {{ key write_enabled tenants }} }}'
    )
    key = token["token_create"]["key"]
    assert key.startswith("dbt_") and token["token_create"]["tenants"] == [str(org.tenant_ids[0])]
    ops = api.as_key(key)
    assert (await ops.data("{ me { username } }"))["me"]["username"] == "ops-bot"
    assert (await ops.error("{ vrf_list { id } }"))["extensions"]["code"] == "FORBIDDEN"
    # Only admins manage users.
    error = await ops.error('mutation { user_create(input: {username: "x"}) { id } }')
    assert error["extensions"]["code"] == "FORBIDDEN"
    # The secret is stored hashed and never shown again.
    changes = await api.data('{ changelog_list(filters: {object_type: {in_list: ["user", "token"]}}) { object_type postchange_data } }')
    logged = {c["object_type"]: c["postchange_data"] for c in changes["changelog_list"]}
    assert "password_hash" not in logged["user"] and logged["user"]["username"] == "ops-bot"
    assert "key_hash" not in logged["token"] and logged["token"]["write_enabled"] is False


async def test_direct_sql_cannot_point_into_another_organisation(api, org, db):
    from factories import make_org

    stranger = await make_org(db, tenants=1)
    group = (await api.data('mutation { tenant_group_create(input: {name: "g", slug: "g"}) { id } }'))["tenant_group_create"]["id"]
    with pytest.raises(IntegrityError, match="fk_tenant_org_id_group_id"):
        async with db.system_transaction() as conn:  # the owner: only the key stands in the way
            await conn.execute(sa.text("UPDATE tenant SET group_id = :g WHERE id = :t"), {"g": group, "t": stranger.tenant_ids[0]})
    with pytest.raises(IntegrityError, match="fk_tenant_group_org_id_parent_id"):
        async with db.system_transaction() as conn:
            await conn.execute(
                sa.text("INSERT INTO tenant_group (org_id, name, slug, parent_id) VALUES (:o, 'x', 'x', :g)"),
                {"o": stranger.org_id, "g": group},
            )


async def test_no_table_with_a_tenant_shows_another_tenants_rows(api, org, db):
    """Every table with a tenant_id, filled with rows of tenant B through the API (objects,
    tags, many-to-many links, counters, change log), shows none of them to tenant A."""
    from registry_samples import LINK_OWNER_VALUES, Samples, all_specs, creatable
    from worker_rows import referenced_row

    from models import Base
    from models.registry import spec_for

    a, b = org.tenant_ids
    samples = Samples(api)
    tag = (await api.data('mutation { tag_create(input: {name: "t", slug: "t"}) { id } }'))["tag_create"]["id"]
    for spec in all_specs():
        if not (spec.tenant_scoped and creatable(spec)):
            continue
        extra: dict = {"tags": [tag]} if spec.tagged else {}
        for many in spec.many:
            extra[many.name] = [(await samples.link_target(spec_for(many.target), b)).id]
            extra.update(LINK_OWNER_VALUES.get((spec.type_name, many.name), {}))
        await samples.create(spec, b, values=extra)
    tables = [t for t in sorted(Base.metadata.tables.values(), key=lambda t: t.name) if "tenant_id" in t.c]
    async with db.system_transaction() as conn:  # the owner sees B's rows: the check below can fail
        for spec in all_specs():
            if spec.tenant_scoped and spec.read_only and not spec.tenant_from:
                # Written by jobs, not by the API (a webhook's delivery log): a row as the owner.
                await conn.execute(sa.insert(spec.table).values(tenant_id=b, **await referenced_row(conn, spec.table, b)))
        for table in tables:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == b))).scalar_one()
            if count == 0:
                # A table only jobs write (a job's items, discovery's observations of a
                # device): a row pointing at B's rows.
                await conn.execute(sa.insert(table).values(tenant_id=b, **await referenced_row(conn, table, b)))
                count = 1
            assert count > 0, f"{table.name} got no row of tenant B: the test does not cover it"
    principal = Principal(user_id=None, username="a", org_id=org.org_id, tenant_ids=frozenset({a}), is_admin=True)
    async with db.request_transaction(principal) as conn:
        for table in tables:
            leaked = (await conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id != a))).scalar_one()
            assert leaked == 0, table.name
