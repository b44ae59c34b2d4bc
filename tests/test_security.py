"""The holes found by trying Danbyte as an attacker: change-log leaks, privilege
escalation, shared organisation objects, view grants through relations, stale principals.

The registry-generated guard (test_security_registry.py) covers every model; these are
the concrete cases that were reported, each of which failed before its fix."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from permissions.principal import Principal


def ids(rows: list[dict]) -> set[str]:
    return {row["id"] for row in rows}


async def make_tenant(api, name: str) -> dict:
    return (await api.data(f'mutation {{ tenant_create(input: {{name: "{name}", slug: "{name}"}}) {{ id name }} }}'))["tenant_create"]


# 1. The change log


async def test_changelog_of_organisation_objects_stays_with_who_may_see_them(api, org):
    a = org.tenant_ids[0]
    fresh = await make_tenant(api, "brand-new")
    await api.data('mutation { tag_create(input: {name: "gold", slug: "gold"}) { id } }')
    await api.data('mutation { user_create(input: {username: "someone", is_admin: true}) { id } }')
    narrowed = api.as_key(await org.user_key(is_admin=True, token_tenant_ids=[a]))
    query = "{ changelog_list(filters: {tenant_id: {is_null: true}}) { object_type object_repr } }"
    seen = {(c["object_type"], c["object_repr"]) for c in (await narrowed.data(query))["changelog_list"]}
    # Organisation-wide tags are everyone's; another tenant, users and tokens are not.
    assert seen == {("tag", "gold")}
    everything = (await narrowed.data("{ changelog_list { object_type object_id } }"))["changelog_list"]
    assert fresh["id"] not in {c["object_id"] for c in everything}
    assert not {c["object_type"] for c in everything} & {"user", "token", "tenant"}
    # The unrestricted administrator sees all of it; the tenant's own entry carries its id.
    full = (await api.data("{ changelog_list { object_type object_id tenant_id audience } }"))["changelog_list"]
    by_type = {c["object_type"]: c for c in full}
    assert {"tenant", "tag", "user"} <= set(by_type)
    assert by_type["tenant"]["tenant_id"] == fresh["id"] and by_type["tenant"]["audience"] == "tenant"
    assert by_type["user"]["audience"] == "administrators"
    assert by_type["tag"]["audience"] == "organization"
    # A principal of the new tenant sees that tenant's creation record.
    member = api.as_key(await org.user_key(is_admin=True, tenant_ids=[uuid.UUID(fresh["id"])]))
    own = (await member.data("{ changelog_list { object_type object_id } }"))["changelog_list"]
    assert {(c["object_type"], c["object_id"]) for c in own} >= {("tenant", fresh["id"])}


async def test_changelog_hides_entries_of_types_the_user_may_not_view(api, org):
    a = org.tenant_ids[0]
    await api.data(f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/24", tenant: "{a}"}}) {{ id }} }}')
    await api.data(f'mutation {{ ip_address_create(input: {{address: "10.0.0.1/24", dns_name: "secret.example", tenant: "{a}"}}) {{ id }} }}')
    viewer = api.as_key(await org.user_key(grants={"prefix": ["view"], "object_change": ["view"]}))
    entries = (await viewer.data("{ changelog_list { object_type object_repr postchange_data } }"))["changelog_list"]
    assert [e["object_type"] for e in entries] == ["prefix"]


# 2. Nobody grants more than they hold


async def test_narrowed_admin_token_mints_only_narrowed_tokens(api, org):
    a, b = org.tenant_ids
    narrowed = api.as_key(await org.user_key(is_admin=True, token_tenant_ids=[a]))
    me = await narrowed.data("{ me { id } }")
    token = (await narrowed.data(f'mutation {{ token_create(input: {{user: "{me["me"]["id"]}"}}) {{ key tenants }} }}'))["token_create"]
    assert token["tenants"] == [str(a)]
    minted = api.as_key(token["key"])
    assert [t["id"] for t in (await minted.data("{ tenant_list { id } }"))["tenant_list"]] == [str(a)]
    error = await narrowed.error(f'mutation {{ token_create(input: {{user: "{me["me"]["id"]}", tenants: ["{b}"]}}) {{ key }} }}')
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "tenants"}


async def test_limited_admin_cannot_create_organisation_wide_users_or_act_as_the_org_admin(api, org):
    a = org.tenant_ids[0]
    limited = api.as_key(await org.user_key(is_admin=True, tenant_ids=[a]))
    created = await limited.data('mutation { user_create(input: {username: "helper", is_admin: true}) { id is_admin } }')
    helper_id = created["user_create"]["id"]
    # The new administrator is limited to the creator's tenant, not the organisation.
    key = (await api.data(f'mutation {{ token_create(input: {{user: "{helper_id}"}}) {{ key }} }}'))["token_create"]["key"]
    assert [t["id"] for t in (await api.as_key(key).data("{ tenant_list { id } }"))["tenant_list"]] == [str(a)]
    # No key for the unrestricted organisation administrator, not even a narrowed one.
    error = await limited.error(f'mutation {{ token_create(input: {{user: "{org.admin_id}", tenants: ["{a}"]}}) {{ key }} }}')
    assert error["extensions"]["code"] == "FORBIDDEN"
    # A token for a user within reach is fine.
    assert (await limited.data(f'mutation {{ token_create(input: {{user: "{helper_id}"}}) {{ tenants }} }}'))["token_create"]["tenants"] == [str(a)]
    tokens = (await api.data('{ changelog_list(filters: {object_type: {exact: "token"}}) { object_id } }'))["changelog_list"]
    assert len(tokens) == 2


async def test_token_cannot_outlive_the_token_that_mints_it(api, org):
    soon = datetime.now(UTC) + timedelta(days=1)
    short = api.as_key(await org.user_key(is_admin=True, expires=soon))
    me = (await short.data("{ me { id } }"))["me"]["id"]
    later = (soon + timedelta(days=30)).isoformat()
    error = await short.error(f'mutation {{ token_create(input: {{user: "{me}", expires: "{later}"}}) {{ key }} }}')
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "expires"}
    token = (await short.data(f'mutation {{ token_create(input: {{user: "{me}"}}) {{ expires }} }}'))["token_create"]
    assert datetime.fromisoformat(token["expires"]) == soon


async def test_grants_must_name_real_object_types(api):
    error = await api.error('mutation { user_create(input: {username: "x", permissions: [{object_types: ["prefix", "starship"], actions: ["view"]}]}) { id } }')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "permissions.0.object_types"}
    assert "starship" in error["message"]
    error = await api.error('mutation { user_create(input: {username: "x", permissions: [{object_types: ["prefix"], actions: ["fly"]}]}) { id } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api.data('{ changelog_list(filters: {object_type: {exact: "user"}}) { id } }'))["changelog_list"] == []


# 3. Shared organisation objects


async def test_tenant_limited_principal_cannot_change_shared_objects(api, org, db):
    a = org.tenant_ids[0]
    tag = (await api.data('mutation { tag_create(input: {name: "shared", slug: "shared"}) { id } }'))["tag_create"]["id"]
    prefix = await api.data(f'mutation {{ prefix_create(input: {{prefix: "10.1.0.0/16", tenant: "{org.tenant_ids[1]}", tags: ["{tag}"]}}) {{ id }} }}')
    limited = api.as_key(await org.user_key(is_admin=True, tenant_ids=[a]))
    for mutation in (
        f'tag_delete(id: "{tag}") {{ id }}',
        f'tag_update(id: "{tag}", input: {{name: "mine"}}) {{ id }}',
        'tag_create(input: {name: "n", slug: "n"}) { id }',
        'tenant_group_create(input: {name: "g", slug: "g"}) { id }',
        f'tenant_update(id: "{a}", input: {{name: "renamed"}}) {{ id }}',
        'tenant_create(input: {name: "t", slug: "t"}) { id }',
    ):
        error = await limited.error(f"mutation {{ {mutation} }}")
        assert error["extensions"]["code"] == "FORBIDDEN", (mutation, error)
    # Tagging its own objects with the shared tag is still allowed.
    await limited.data(f'mutation {{ vrf_create(input: {{name: "v", tenant: "{a}", tags: ["{tag}"]}}) {{ id }} }}')
    data = await api.data(f'{{ prefix(id: "{prefix["prefix_create"]["id"]}") {{ tags {{ name }} }} }}')
    assert data["prefix"]["tags"] == [{"name": "shared"}]
    # The database refuses it too, whatever the application does.
    principal = Principal(user_id=None, username="x", org_id=org.org_id, tenant_ids=frozenset({a}), is_admin=True)
    async with db.request_transaction(principal, writing=True) as conn:
        assert (await conn.execute(sa.text("DELETE FROM tag WHERE id = :id"), {"id": tag})).rowcount == 0
        assert (await conn.execute(sa.text("UPDATE tenant SET name = 'x' WHERE id = :id"), {"id": a})).rowcount == 0


# 4. View grants through relations


async def test_view_grants_hold_through_relations_tags_and_filters(api, org):
    a = org.tenant_ids[0]
    tag = (await api.data('mutation { tag_create(input: {name: "t1", slug: "t1"}) { id } }'))["tag_create"]["id"]
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "secret-vrf", tenant: "{a}"}}) {{ id }} }}'))["vrf_create"]["id"]
    await api.data(f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/24", vrf: "{vrf}", tenant: "{a}", tags: ["{tag}"]}}) {{ id }} }}')
    await api.data(f'mutation {{ ip_address_create(input: {{address: "10.0.0.7/24", vrf: "{vrf}", dns_name: "db.secret", tenant: "{a}"}}) {{ id }} }}')
    viewer = api.as_key(await org.user_key(grants={"prefix": ["view"]}))
    assert (await viewer.error("{ ip_address_list { id } }"))["extensions"]["code"] == "FORBIDDEN"
    data = await viewer.data("{ prefix_list { prefix vrf { name } tags { name } ip_addresses { address dns_name } parent { id } } }")
    assert data["prefix_list"] == [{"prefix": "10.0.0.0/24", "vrf": None, "tags": [], "ip_addresses": [], "parent": None}]
    # A related filter on a type the user may not view gives no yes/no answer.
    answers = []
    for pattern in ("^secret", "^nothing-like-it"):
        body = await viewer.query(f'{{ prefix_list(filters: {{vrf: {{name: {{regex: "{pattern}"}}}}}}) {{ id }} }}')
        answers.append((body.get("data"), [e["extensions"]["code"] for e in body.get("errors", [])]))
    assert answers[0] == answers[1] == (None, ["FORBIDDEN"])
    error = await viewer.error('{ prefix_list(filters: {tag: ["t1"]}) { id } }')
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filters.tag"}
    # With the grants, the same query sees everything.
    full = api.as_key(await org.user_key(grants={"prefix": ["view"], "vrf": ["view"], "tag": ["view"], "ip_address": ["view"]}))
    data = await full.data("{ prefix_list { vrf { name } tags { name } ip_addresses { dns_name } } }")
    assert data["prefix_list"] == [{"vrf": {"name": "secret-vrf"}, "tags": [{"name": "t1"}], "ip_addresses": [{"dns_name": "db.secret"}]}]


async def test_write_grant_returns_the_written_object_but_not_its_hidden_relations(api, org):
    a = org.tenant_ids[0]
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "hidden", tenant: "{a}"}}) {{ id }} }}'))["vrf_create"]["id"]
    writer = api.as_key(await org.user_key(grants={"prefix": ["add"]}))
    created = await writer.data(f'mutation {{ prefix_create(input: {{prefix: "10.9.0.0/16", tenant: "{a}"}}) {{ prefix tenant {{ id }} }} }}')
    assert created["prefix_create"] == {"prefix": "10.9.0.0/16", "tenant": None}
    # It cannot point at what it cannot see.
    error = await writer.error(f'mutation {{ prefix_create(input: {{prefix: "10.8.0.0/16", vrf: "{vrf}", tenant: "{a}"}}) {{ id }} }}')
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "vrf"}


# Small things: required inputs, stale principals


async def test_create_inputs_mark_required_fields_and_refuse_blanks(api, org):
    data = await api.data('{ __type(name: "SiteCreateInput") { inputFields { name type { kind } } } }')
    kinds = {f["name"]: f["type"]["kind"] for f in data["__type"]["inputFields"]}
    assert kinds["name"] == kinds["slug"] == "NON_NULL"
    assert kinds["description"] != "NON_NULL"
    tenant_input = await api.data('{ __type(name: "TenantCreateInput") { inputFields { name type { kind } } } }')
    assert {f["name"]: f["type"]["kind"] for f in tenant_input["__type"]["inputFields"]}["slug"] == "NON_NULL"
    error = await api.error(f'mutation {{ site_create(input: {{name: "  ", slug: "s", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}
    assert (await api.data("{ site_list { id } }"))["site_list"] == []


async def test_new_tenant_can_be_named_at_once_and_revoked_tokens_stop_at_once(api, org):
    # Warm the cache of the admin's principal, then create a tenant and use it straight away.
    await api.data("{ me { id } }")
    fresh = await make_tenant(api, "just-made")
    token = await api.data(f'mutation {{ token_create(input: {{user: "{org.admin_id}", tenants: ["{fresh["id"]}"]}}) {{ id key }} }}')
    key, token_id = token["token_create"]["key"], token["token_create"]["id"]
    client = api.as_key(key)
    assert (await client.data("{ tenant_list { id } }"))["tenant_list"] == [{"id": fresh["id"]}]
    await api.data(f'mutation {{ token_delete(id: "{token_id}") }}')
    body = await client.query("{ tenant_list { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_token_stops_at_its_expiry_even_when_cached(api, org):
    key = await org.user_key(is_admin=True, expires=datetime.now(UTC) + timedelta(seconds=1.5))
    client = api.as_key(key)
    await client.data("{ me { id } }")
    await asyncio.sleep(1.6)
    body = await client.query("{ me { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]


async def test_revocation_reaches_every_server_process(app, committed_org, database_url, redis_url):
    from factories import Api

    from danbyte.app import create_app

    other = create_app(database_url, redis_url)  # another process: its own principal cache
    try:
        async with Api.connect(app, committed_org.admin_key) as first, Api.connect(other, committed_org.admin_key) as second:
            created = await first.data(f'mutation {{ token_create(input: {{user: "{committed_org.admin_id}"}}) {{ id key }} }}')
            key, token_id = created["token_create"]["key"], created["token_create"]["id"]
            assert (await second.as_key(key).data("{ me { id } }"))["me"]["id"] == str(committed_org.admin_id)
            await first.data(f'mutation {{ token_delete(id: "{token_id}") }}')
            body = await second.as_key(key).query("{ me { id } }")
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        await other.state.danbyte.close()


async def test_change_events_follow_the_same_rule_as_the_change_log(api, org, db):
    """Subscriptions filter events in Python (Principal.may_see_change); the change log is
    filtered by row-level security. Both must let through exactly the same changes."""
    from permissions.tokens import principal_for_key

    a, b = org.tenant_ids
    await make_tenant(api, "third")
    await api.data('mutation { tag_create(input: {name: "x", slug: "x"}) { id } }')
    await api.data('mutation { user_create(input: {username: "u1"}) { id } }')
    for tenant in (a, b):
        await api.data(f'mutation {{ prefix_create(input: {{prefix: "10.0.0.0/24", tenant: "{tenant}"}}) {{ id }} }}')
        await api.data(f'mutation {{ vrf_create(input: {{name: "v", tenant: "{tenant}"}}) {{ id }} }}')
    async with db.system_transaction() as conn:
        changes = (await conn.execute(sa.text("SELECT id, object_type, tenant_id, audience FROM object_change WHERE org_id = :o"), {"o": org.org_id})).all()
    keys = [
        org.admin_key,
        await org.user_key(is_admin=True, token_tenant_ids=[a]),
        await org.user_key(is_admin=True, tenant_ids=[b]),
        await org.user_key(grants={"prefix": ["view"], "tag": ["view"], "object_change": ["view"]}),
        await org.user_key(tenant_ids=[a], grants={"vrf": ["view"], "tenant": ["view"], "object_change": ["view"]}),
    ]
    for key in keys:
        async with db.system_transaction() as conn:
            principal = await principal_for_key(conn, key)
        by_events = {str(c.id) for c in changes if principal.may_see_change(c.object_type, c.tenant_id, c.audience)}
        by_database = ids((await api.as_key(key).data("{ changelog_list { id } }"))["changelog_list"])
        assert by_events == by_database, principal
        assert by_events  # every principal here sees something, so the comparison is not vacuous
