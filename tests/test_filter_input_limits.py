"""Filter and list input the database would choke on is refused as BAD_USER_INPUT naming the
path, before any SQL that could fail: invalid regular expressions, lists past
``max_list_values``, scoped IPv6 addresses, filters nested past ``max_filter_depth``."""

from __future__ import annotations

import dataclasses

import pytest

SITE_LIST = "query($f: SiteFilter) { site_list(filters: $f) { name } }"


def with_tenant(text: str, org) -> str:
    return text.replace("TENANT", f'"{org.tenant_ids[0]}"')


async def make_sites(api, org, *names: str) -> None:
    for name in names:
        await api.data(f'mutation {{ site_create(input: {{name: "{name}", slug: "{name.lower()}", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}')


async def site_names(api, filters: dict) -> list[str]:
    return sorted(s["name"] for s in (await api.data(SITE_LIST, f=filters))["site_list"])


def nest(key: str, depth: int, leaf: dict, sibling: dict | None = None) -> dict:
    """``{key: {key: … leaf}}``, ``depth`` levels; each level also carries ``sibling``."""
    filters = leaf
    for _ in range(depth):
        filters = {**(sibling or {}), key: filters}
    return filters


# --- regular expressions --------------------------------------------------------------


@pytest.mark.parametrize("lookup", ["regex", "i_regex"])
@pytest.mark.parametrize("pattern", ["([", "a{2,1}", "x)"])
async def test_invalid_regex_names_the_lookup(api, org, lookup, pattern):
    await make_sites(api, org, "Berlin")
    # The other root field runs its SQL on the same read transaction as the refused one.
    query = "query($f: SiteFilter) { tenant_list { id } site_list(filters: $f) { id } }"
    body = await api.query(query, {"f": {"name": {lookup: pattern}}})
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"filters.name.{lookup}"}, error
    assert "not a valid regular expression" in error["message"]
    assert error["path"] == ["site_list"]
    # The request's connection is intact: the same client keeps working.
    assert await site_names(api, {"name": {lookup: "^b" if lookup == "i_regex" else "^B"}}) == ["Berlin"]


async def test_invalid_regex_leaves_the_read_transaction_usable(app, org):
    """Root fields of one request share a read transaction: the refused pattern must not
    abort it for the others (a failed statement would)."""
    from models.registry import spec_for
    from permissions.tokens import principal_for_key
    from resolvers import reads
    from resolvers.context import RequestContext
    from resolvers.errors import BadUserInput
    from schema.lookups import StrFilterLookup

    state = app.state.danbyte
    async with state.db.system_transaction() as conn:
        principal = await principal_for_key(conn, org.admin_key)
    ctx = RequestContext(db=state.db, principal=principal, events=None, settings=state.settings)
    site = spec_for("Site")

    @dataclasses.dataclass
    class Filter:  # the generated SiteFilter is a dataclass of the same shape
        name: StrFilterLookup

    try:
        # A valid pattern still filters (its check runs in a savepoint of the same transaction).
        assert await reads.list_rows(ctx, site, Filter(name=StrFilterLookup(regex="^B"))) == []
        with pytest.raises(BadUserInput) as refused:
            await reads.list_rows(ctx, site, Filter(name=StrFilterLookup(i_regex="a{2,1}")))
        assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "filters.name.i_regex"}
        tenants = await reads.list_rows(ctx, spec_for("Tenant"))
        assert len(tenants) == 2
    finally:
        await ctx.close()


async def test_the_invalid_pattern_among_valid_ones_is_named(api, org):
    await make_sites(api, org, "Berlin")
    filters = {
        "name": {"regex": "^B", "i_regex": "^b"},
        "AND": {"slug": {"regex": "[a-z]+"}},
        "OR": {"description": {"regex": "x"}, "NOT": {"slug": {"i_regex": "(?x) a{3,2}"}}},
    }
    error = await api.error(SITE_LIST, f=filters)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.OR.NOT.slug.i_regex"}
    # Without it, the same valid patterns are checked together and filter as usual.
    del filters["OR"]
    assert await site_names(api, filters) == ["Berlin"]


async def test_valid_regex_filters_as_before(api, org):
    await make_sites(api, org, "Amsterdam-1", "amsterdam-2", "Berlin")
    assert await site_names(api, {"name": {"regex": "^[A-Z]"}}) == ["Amsterdam-1", "Berlin"]
    assert await site_names(api, {"name": {"i_regex": "^AMS.*[0-9]$"}}) == ["Amsterdam-1", "amsterdam-2"]
    # PostgreSQL's dialect, not Python's: \m is a word start in ARE (an error in Python's re).
    assert await site_names(api, {"name": {"regex": r"\mBer"}}) == ["Berlin"]


# --- list sizes ------------------------------------------------------------------------


async def test_in_list_over_the_limit_is_refused(api, app):
    limit = app.state.danbyte.settings.max_list_values
    names = [f"n{i}" for i in range(65_536)]
    assert len(names) > limit
    body = await api.query("query($ids: [String!]) { site_list(filters: {name: {in_list: $ids}}) { id } }", {"ids": names})
    assert len(body["errors"]) == 1, str(body)[:500]
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.name.in_list"}
    assert f"65536 values; at most {limit}" in error["message"]


async def test_in_list_at_the_limit_works(api, org, app):
    limit = app.state.danbyte.settings.max_list_values
    await make_sites(api, org, "Berlin", "Paris", "Rome")
    names = [f"n{i}" for i in range(limit - 2)] + ["Berlin", "Rome"]
    data = await api.data("query($ids: [String!]) { site_list(filters: {name: {in_list: $ids}}) { name } }", ids=names)
    assert sorted(s["name"] for s in data["site_list"]) == ["Berlin", "Rome"]


async def test_many_full_lists_in_one_filter(api, org, app):
    """Seven lists at the limit: 70,000 values, past PostgreSQL's 65,535 parameters per
    statement if each value were its own parameter."""
    limit = app.state.danbyte.settings.max_list_values
    await make_sites(api, org, "Berlin", "Paris")
    names = [f"n{i}" for i in range(limit - 1)] + ["Paris"]
    filters = "{name: {in_list: $ids}}"
    for _ in range(6):
        filters = f"{{name: {{in_list: $ids}}, OR: {filters}}}"
    data = await api.data(f"query($ids: [String!]) {{ site_list(filters: {filters}) {{ name }} }}", ids=names)
    assert data["site_list"] == [{"name": "Paris"}]


async def test_limits_come_from_settings(api, org, app, monkeypatch):
    state = app.state.danbyte
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, max_list_values=3, max_filter_depth=2))
    await make_sites(api, org, "Berlin")
    error = await api.error(SITE_LIST, f={"name": {"in_list": ["a", "b", "c", "d"]}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.name.in_list"}
    error = await api.error(SITE_LIST, f={"tag": ["a", "b", "c", "d"]})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.tag"}
    assert await site_names(api, {"name": {"in_list": ["a", "Berlin", "c"]}}) == ["Berlin"]
    assert await site_names(api, nest("NOT", 2, {"name": {"exact": "Berlin"}})) == ["Berlin"]
    error = await api.error(SITE_LIST, f=nest("NOT", 3, {"name": {"exact": "Berlin"}}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.NOT.NOT.NOT"}
    tag = (await api.data('mutation { tag_create(input: {name: "t", slug: "t"}) { id } }'))["tag_create"]["id"]
    create = 'mutation($tags: [ID!]) { site_create(input: {name: "s", slug: "s", tenant: TENANT, tags: $tags}) { id } }'
    create = with_tenant(create, org)
    error = await api.error(create, tags=[tag] * 4)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tags"}


@pytest.mark.parametrize(
    ("type_name", "create", "filters", "expected"),
    [
        (
            "site",
            'site_create(input: {name: "a", slug: "a", status: STATUS_PLANNED, tenant: TENANT}) { id }',
            {"status": {"in_list": ["STATUS_PLANNED", "STATUS_RETIRED"]}},
            1,
        ),
        ("vlan", 'vlan_create(input: {vid: 10, name: "a", tenant: TENANT}) { id }', {"vid": {"in_list": [10, 20, 32767]}}, 1),
        ("asn", "asn_create(input: {asn: 4200000000, tenant: TENANT}) { id }", {"asn": {"in_list": [4200000000, 65000]}}, 1),
        ("prefix", 'prefix_create(input: {prefix: "10.0.0.0/8", tenant: TENANT}) { id }', {"prefix": {"in_list": ["10.0.0.0/8", "2001:db8::/32"]}}, 1),
        (
            "ip_address",
            'ip_address_create(input: {address: "10.0.0.1/24", tenant: TENANT}) { id }',
            {"address": {"in_list": ["10.0.0.1/24", "10.0.0.2/24"]}},
            1,
        ),
        ("site", 'site_create(input: {name: "a", slug: "a", tenant: TENANT}) { id }', {"name": {"in_list": ["a" * 100 + "b", "a"]}}, 1),
        ("site", 'site_create(input: {name: "a", slug: "a", tenant: TENANT}) { id }', {"name": {"in_list": ["a" * 100 + "b"]}}, 0),
        ("site", 'site_create(input: {name: "a", slug: "a", tenant: TENANT}) { id }', {"name": {"in_list": []}}, 0),
    ],
)
async def test_in_list_of_every_kind(api, org, type_name, create, filters, expected):
    await api.data(f"mutation {{ {with_tenant(create, org)} }}")
    type_names = {"site": "Site", "vlan": "VLAN", "asn": "ASN", "prefix": "Prefix", "ip_address": "IPAddress"}
    query = f"query($f: {type_names[type_name]}Filter) {{ {type_name}_list(filters: $f) {{ id }} }}"
    data = await api.data(query, f=filters)
    assert len(data[f"{type_name}_list"]) == expected


async def test_negated_in_list(api, org):
    """NOT (x = ANY(list)) is "in none of them", not "differs from one of them"."""
    await make_sites(api, org, "Berlin", "Paris", "Rome")
    assert await site_names(api, {"NOT": {"name": {"in_list": ["Berlin", "Rome"]}}}) == ["Paris"]
    assert await site_names(api, {"name": {"i_contains": "r"}, "NOT": {"name": {"in_list": ["Paris"]}}}) == ["Berlin", "Rome"]


async def test_in_list_of_ids(api, org):
    created = await api.data(f'mutation {{ site_create(input: {{name: "a", slug: "a", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}')
    site_id = created["site_create"]["id"]
    data = await api.data(
        "query($ids: [ID!]) { site_list(filters: {id: {in_list: $ids}}) { id } }",
        ids=[site_id, "00000000-0000-0000-0000-000000000001"],
    )
    assert data["site_list"] == [{"id": site_id}]
    data = await api.data("query($ids: [ID!]) { site_list(filters: {tenant_id: {in_list: $ids}}) { id } }", ids=[str(org.tenant_ids[0])])
    assert data["site_list"] == [{"id": site_id}]


@pytest.mark.parametrize(("filters", "field"), [({"vid": {"exact": 70000}}, "filters.vid.exact"), ({"vid": {"in_list": [1, 70000]}}, "filters.vid.in_list")])
async def test_integer_beyond_the_column_is_refused(api, filters, field):
    error = await api.error("query($f: VLANFilter) { vlan_list(filters: $f) { id } }", f=filters)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert "out of range" in error["message"]


async def tag_ids(api, *names: str) -> list[str]:
    ids = []
    for name in names:
        ids.append((await api.data(f'mutation {{ tag_create(input: {{name: "{name}", slug: "{name}"}}) {{ id }} }}'))["tag_create"]["id"])
    return ids


SITE_CREATE = 'mutation($tags: [ID!], $vrfs: [ID!]) { site_create(input: {name: "s", slug: "s", tenant: TENANT, tags: $tags, vrfs: $vrfs}) { id tags { slug } vrfs { name } } }'


async def test_too_many_tags_are_refused_and_nothing_written(api, org, app):
    limit = app.state.danbyte.settings.max_list_values
    (tag,) = await tag_ids(api, "core")
    changes = await api.count("changelog")
    create = with_tenant(SITE_CREATE, org)
    error = await api.error(create, tags=[tag] * (limit + 1))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tags"}
    assert f"{limit + 1} ids; at most {limit}" in error["message"]
    assert await api.count("site") == 0
    assert await api.count("changelog") == changes


async def test_too_many_many_to_many_ids_are_refused(api, org, app):
    limit = app.state.danbyte.settings.max_list_values
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "blue", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}'))["vrf_create"]["id"]
    changes = await api.count("changelog")
    create = with_tenant(SITE_CREATE, org)
    error = await api.error(create, vrfs=[vrf] * (limit + 1))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "vrfs"}
    assert await api.count("site") == 0
    assert await api.count("changelog") == changes
    # An update too: refused, and the site keeps what it had.
    site = (await api.data(create, vrfs=[vrf]))["site_create"]["id"]
    error = await api.error(f'mutation($vrfs: [ID!]) {{ site_update(id: "{site}", input: {{vrfs: $vrfs}}) {{ id }} }}', vrfs=[vrf] * (limit + 1))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "vrfs"}
    assert (await api.data(f'{{ site(id: "{site}") {{ vrfs {{ name }} }} }}'))["site"]["vrfs"] == [{"name": "blue"}]


async def test_repeated_ids_within_the_limit_work(api, org, app):
    limit = app.state.danbyte.settings.max_list_values
    tags = await tag_ids(api, "core", "edge")
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "blue", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}'))["vrf_create"]["id"]
    create = with_tenant(SITE_CREATE, org)
    site = (await api.data(create, tags=tags * (limit // 2), vrfs=[vrf] * limit))["site_create"]
    assert sorted(t["slug"] for t in site["tags"]) == ["core", "edge"]
    assert site["vrfs"] == [{"name": "blue"}]
    # A missing id among repeats is still reported.
    missing = "00000000-0000-0000-0000-000000000001"
    error = await api.error(f'mutation($tags: [ID!]) {{ site_update(id: "{site["id"]}", input: {{tags: $tags}}) {{ id }} }}', tags=[*tags, missing, *tags])
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "tags"}


# --- scoped IPv6 addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ prefix_list(filters: {prefix: {net_contains: "fe80::1%eth0"}}) { id } }', "filters.prefix.net_contains"),
        ('{ prefix_list(filters: {prefix: {exact: "fe80::%eth0/64"}}) { id } }', "filters.prefix.exact"),
        ('{ ip_address_list(filters: {address: {in_list: ["10.0.0.1/24", "fe80::1%25/64"]}}) { id } }', "filters.address.in_list"),
        ('{ ip_address_list(filters: {address: {net_contained: "fe80::%1/64"}}) { id } }', "filters.address.net_contained"),
    ],
)
async def test_scoped_address_in_filter(api, query, field):
    error = await api.error(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    assert "scoped IPv6 address" in error["message"]


@pytest.mark.parametrize(
    ("mutation", "field", "suggestion"),
    [
        ('ip_address_create(input: {address: "fe80::1%eth0/64", tenant: TENANT}) { id }', "address", "fe80::1/64"),
        ('ip_address_create(input: {address: "fe80::1%eth0", tenant: TENANT}) { id }', "address", "fe80::1"),
        ('prefix_create(input: {prefix: "fe80::%eth0/64", tenant: TENANT}) { id }', "prefix", "fe80::/64"),
        ('prefix_create(input: {prefix: "fe80::1%eth0/64", tenant: TENANT}) { id }', "prefix", "fe80::1/64"),
    ],
)
async def test_scoped_address_in_create(api, org, mutation, field, suggestion):
    error = await api.error(f"mutation {{ {with_tenant(mutation, org)} }}")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field, "suggestion": suggestion}, error
    assert "scoped IPv6 address" in error["message"]
    assert await api.count("prefix") + await api.count("ip_address") == 0
    assert await api.count("changelog") == 0


async def test_unscoped_link_local_still_works(api, org):
    await api.data(f'mutation {{ ip_address_create(input: {{address: "fe80::1/64", tenant: "{org.tenant_ids[0]}"}}) {{ id }} }}')
    data = await api.data('{ ip_address_list(filters: {address: {net_contained: "fe80::/10"}}) { address } }')
    assert data["ip_address_list"] == [{"address": "fe80::1/64"}]


# --- nesting -------------------------------------------------------------------------------


LEAF = {"name": {"exact": "Berlin"}}
SIBLING = {"name": {"i_contains": "e"}}


@pytest.mark.parametrize("sibling", [None, SIBLING], ids=["bare", "with-sibling"])
async def test_not_nested_86_deep_is_refused(api, app, sibling):
    limit = app.state.danbyte.settings.max_filter_depth
    error = await api.error(SITE_LIST, f=nest("NOT", 86, LEAF, sibling))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters" + ".NOT" * (limit + 1)}
    assert f"at most {limit} levels" in error["message"]


@pytest.mark.parametrize("key", ["AND", "OR", "NOT"])
async def test_combinators_over_the_limit_are_refused(api, app, key):
    limit = app.state.danbyte.settings.max_filter_depth
    error = await api.error(SITE_LIST, f=nest(key, limit + 1, LEAF, SIBLING))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters" + f".{key}" * (limit + 1)}


async def test_mixed_nesting_over_the_limit_is_refused(api, app):
    """AND, OR, NOT and related-object filters all count, in any mix."""
    limit = app.state.danbyte.settings.max_filter_depth
    keys = ["AND", "OR", "NOT", "region", "parent"]  # site → region → region's parent …
    path = [keys[i] if i < 4 else "parent" for i in range(limit + 1)]
    filters: dict = {"name": {"exact": "x"}}
    for key in reversed(path):
        filters = {key: filters}
    error = await api.error(SITE_LIST, f=filters)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters." + ".".join(path)}


async def test_related_object_nesting_over_the_limit_is_refused(api, app):
    limit = app.state.danbyte.settings.max_filter_depth
    query = "query($f: PrefixFilter) { prefix_list(filters: $f) { id } }"
    filters = {"vrf": {"tenant": nest("OR", limit - 1, {"name": {"exact": "x"}})}}
    error = await api.error(query, f=filters)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.vrf.tenant" + ".OR" * (limit - 1)}
    region = "query($f: RegionFilter) { region_list(filters: $f) { id } }"
    error = await api.error(region, f=nest("parent", limit + 1, {"slug": {"exact": "x"}}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters" + ".parent" * (limit + 1)}


@pytest.mark.parametrize("key", ["AND", "OR", "NOT"])
async def test_nesting_at_the_limit_is_accepted(api, org, app, key):
    limit = app.state.danbyte.settings.max_filter_depth
    await make_sites(api, org, "Berlin", "Bern", "Paris")
    filters = nest(key, limit, LEAF, SIBLING)
    expected = {
        "AND": ["Berlin"],  # e AND (e AND (… AND Berlin))
        "OR": ["Berlin", "Bern"],  # e OR (e OR (… OR Berlin)): the names with an e
        # e AND NOT (e AND NOT (… Berlin)): Berlin after an even number of NOTs, else Bern.
        "NOT": ["Berlin"] if limit % 2 == 0 else ["Bern"],
    }[key]
    assert await site_names(api, filters) == expected
    assert await site_names(api, nest("NOT", limit, LEAF)) == ["Berlin"]


async def test_related_object_nesting_at_the_limit_is_accepted(api, org, app):
    limit = app.state.danbyte.settings.max_filter_depth
    tenant = org.tenant_ids[0]
    parent = None
    for i in range(limit + 1):
        parent_arg = f', parent: "{parent}"' if parent else ""
        parent = (await api.data(f'mutation {{ region_create(input: {{name: "r{i}", slug: "r{i}", tenant: "{tenant}"{parent_arg}}}) {{ id }} }}'))[
            "region_create"
        ]["id"]
    data = await api.data("query($f: RegionFilter) { region_list(filters: $f) { name } }", f=nest("parent", limit, {"slug": {"exact": "r0"}}))
    assert data["region_list"] == [{"name": f"r{limit}"}]
