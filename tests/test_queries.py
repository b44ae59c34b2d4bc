"""NetBox-style reads: lookups, related-object filters, AND/OR/NOT, pagination, debug figures."""

from __future__ import annotations

import pytest


@pytest.fixture
async def sites(api, org):
    tenant = org.tenant_ids[0]
    region = (await api.data(f'mutation {{ region_create(input: {{name: "Europe", slug: "eu", tenant: "{tenant}"}}) {{ id }} }}'))["region_create"]["id"]
    names = {}
    for name, status in (("Amsterdam-1", "active"), ("amsterdam-2", "planned"), ("Berlin", "active"), ("Paris_1", "retired")):
        slug = name.lower().replace("_", "-")
        in_region = f', region: "{region}"' if name != "Paris_1" else ""
        created = await api.data(
            f'mutation {{ site_create(input: {{name: "{name}", slug: "{slug}", status: STATUS_{status.upper()}, tenant: "{tenant}"{in_region}}}) {{ id numid }} }}'
        )
        names[name] = created["site_create"]
    return names


async def names(api, filters: str) -> list[str]:
    data = await api.data(f"{{ site_list(filters: {filters}) {{ name }} }}")
    return sorted(s["name"] for s in data["site_list"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ('{name: {exact: "Berlin"}}', ["Berlin"]),
        ('{name: {i_exact: "berlin"}}', ["Berlin"]),
        ('{name: {contains: "msterdam"}}', ["Amsterdam-1", "amsterdam-2"]),
        ('{name: {i_contains: "AMSTER"}}', ["Amsterdam-1", "amsterdam-2"]),
        ('{name: {starts_with: "A"}}', ["Amsterdam-1"]),
        ('{name: {contains: "_"}}', ["Paris_1"]),  # LIKE wildcards are escaped
        ('{name: {in_list: ["Berlin", "Paris_1", "Nowhere"]}}', ["Berlin", "Paris_1"]),
        ("{status: {exact: STATUS_ACTIVE}}", ["Amsterdam-1", "Berlin"]),
        ("{status: {in_list: [STATUS_PLANNED, STATUS_RETIRED]}}", ["Paris_1", "amsterdam-2"]),
        ("{numid: {gte: 2, lt: 4}}", ["Berlin", "amsterdam-2"]),
        ('{region: {slug: {exact: "eu"}}}', ["Amsterdam-1", "Berlin", "amsterdam-2"]),
        ('{status: {exact: STATUS_ACTIVE}, OR: {name: {exact: "Paris_1"}}}', ["Amsterdam-1", "Berlin", "Paris_1"]),
        ('{status: {exact: STATUS_ACTIVE}, NOT: {name: {starts_with: "B"}}}', ["Amsterdam-1"]),
        ('{name: {i_contains: "a"}, AND: {status: {exact: STATUS_PLANNED}}}', ["amsterdam-2"]),
    ],
)
async def test_site_filters(api, sites, filters, expected):
    assert await names(api, filters) == expected


async def test_filters_on_network_fields(api, org):
    tenant = org.tenant_ids[0]
    for prefix in ("10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24", "192.168.0.0/16", "2001:db8::/32"):
        await api.data(f'mutation {{ prefix_create(input: {{prefix: "{prefix}", tenant: "{tenant}"}}) {{ id }} }}')

    async def prefixes(filters: str) -> list[str]:
        data = await api.data(f"{{ prefix_list(filters: {filters}) {{ prefix }} }}")
        return sorted(p["prefix"] for p in data["prefix_list"])

    assert await prefixes('{prefix: {net_contained: "10.0.0.0/8"}}') == ["10.1.0.0/16", "10.1.1.0/24"]
    assert await prefixes('{prefix: {net_contains: "10.1.1.7"}}') == ["10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24"]
    assert await prefixes("{prefix: {family: 6}}") == ["2001:db8::/32"]
    # NetBox's own spelling: a family filter on the type, with its enum.
    assert await prefixes("{family: FAMILY_6}") == ["2001:db8::/32"]
    assert len(await prefixes("{family: FAMILY_4}")) == 4
    data = await api.data('{ prefix_list(filters: {prefix: {exact: "10.1.0.0/16"}}) { family { value label } } }')
    assert data["prefix_list"] == [{"family": {"value": 4, "label": "IPv4"}}]
    assert await prefixes('{prefix: {starts_with: "192."}}') == ["192.168.0.0/16"]
    assert await prefixes('{prefix: {exact: "10.1.0.0/16"}}') == ["10.1.0.0/16"]


async def test_offset_and_keyset_pagination(api, sites):
    # Lists come in NetBox's order (sites by name); offsets page through that order.
    listed = (await api.data("{ site_list { id name } }"))["site_list"]
    assert len(listed) == 4 and [s["name"] for s in listed] == sorted((s["name"] for s in listed), key=str.casefold)
    page = await api.data("{ site_list(pagination: {offset: 1, limit: 2}) { id } }")
    assert [s["id"] for s in page["site_list"]] == [s["id"] for s in listed[1:3]]
    # A cursor (start) pages in id order, as NetBox's does.
    by_id = sorted(s["id"] for s in listed)
    after = await api.data(f'{{ site_list(pagination: {{start: "{by_id[1]}", limit: 10}}) {{ id }} }}')
    assert [s["id"] for s in after["site_list"]] == by_id[2:]


async def test_get_by_id_and_numid(api, sites, org):
    berlin = sites["Berlin"]
    by_id = await api.data(f'{{ site(id: "{berlin["id"]}") {{ name numid }} }}')
    by_numid = await api.data(f"{{ site(numid: {berlin['numid']}) {{ name id }} }}")
    assert by_id["site"]["name"] == by_numid["site"]["name"] == "Berlin"
    missing = await api.error("{ site(numid: 999) { name } }")
    assert missing["extensions"] == {"code": "NOT_FOUND", "field": "numid"}


async def test_many_to_many_and_tags(api, org):
    tenant = org.tenant_ids[0]
    rt = (await api.data(f'mutation {{ route_target_create(input: {{name: "65000:1", tenant: "{tenant}"}}) {{ id }} }}'))["route_target_create"]["id"]
    tag = (await api.data('mutation { tag_create(input: {name: "Core", slug: "core", color: "FF0000"}) { id color } }'))["tag_create"]
    assert tag["color"] == "ff0000"
    vrf = await api.data(
        f'mutation {{ vrf_create(input: {{name: "blue", tenant: "{tenant}", import_targets: ["{rt}"], tags: ["{tag["id"]}"]}}) {{ id import_targets {{ name }} tags {{ slug }} }} }}'
    )
    assert vrf["vrf_create"]["import_targets"] == [{"name": "65000:1"}]
    assert vrf["vrf_create"]["tags"] == [{"slug": "core"}]
    site = await api.data(
        f'mutation {{ site_create(input: {{name: "s", slug: "s", tenant: "{tenant}", vrfs: ["{vrf["vrf_create"]["id"]}"]}}) {{ vrfs {{ name }} }} }}'
    )
    assert site["site_create"]["vrfs"] == [{"name": "blue"}]
    reverse = await api.data(f'{{ route_target(id: "{rt}") {{ importing_vrfs {{ name sites {{ name }} }} }} }}')
    assert reverse["route_target"]["importing_vrfs"] == [{"name": "blue", "sites": [{"name": "s"}]}]
    tagged = await api.data('{ vrf_list(filters: {tag: ["core"]}) { name } }')
    assert tagged["vrf_list"] == [{"name": "blue"}]


async def test_debug_figures_only_for_admins(api, org):
    body = await api.query("{ site_list { id } }", headers={"X-Danbyte-Debug": "1"})
    assert body["extensions"]["sql_statements"] == 2 and body["extensions"]["sql_ms"] >= 0
    viewer = api.as_key(await org.user_key(grants={"site": ["view"]}))
    body = await viewer.query("{ site_list { id } }", headers={"X-Danbyte-Debug": "1"})
    assert "sql_statements" not in (body.get("extensions") or {})


async def test_token_limit(api, app):
    fields = " ".join(["id"] * (app.state.danbyte.settings.max_tokens + 1))
    error = await api.error(f"{{ site_list {{ {fields} }} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_refused_root_field_leaves_its_siblings_and_the_next_request_intact(committed_api, committed_org):
    """graphql-core cancels the other root fields when one fails; a statement cancelled
    mid-flight used to break the shared read connection and the whole response."""
    tenant = committed_org.tenant_ids[0]
    for index in range(20):
        await committed_api.data(f'mutation {{ site_create(input: {{name: "s{index}", slug: "s{index}", tenant: "{tenant}"}}) {{ id }} }}')
    for order in (
        'site_list(filters: {name: {regex: "(["}}) { id } tenant_list { id } prefix_list { id }',
        "tenant_list { id } site_list(pagination: {limit: -1}) { id } site_list_again: site_list { id }",
    ):
        body = await committed_api.query(f"{{ {order} }}")
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert len((await committed_api.data("{ site_list { id } }"))["site_list"]) == 20


def test_a_plain_selection_reads_only_its_columns():
    """Root lists read the columns their selection needs; a computed field (it may read
    anything) keeps every column."""
    from models.registry import spec_for
    from resolvers.reads import needed_columns

    spec = spec_for("IPAddress")
    narrowed = needed_columns(spec, {"__typename", "address", "vrf", "tags", "assigned_object"})
    assert narrowed is not None
    assert [c.name for c in narrowed] == [
        "address",
        "assigned_object_fhrp_group_id",
        "assigned_object_interface_id",
        "assigned_object_vm_interface_id",
        "id",
        "vrf_id",
    ]
    assert needed_columns(spec, {"address", "family"}) is None
    assert needed_columns(spec, {"address", "prefix"}) is None


async def test_narrowed_and_full_reads_answer_alike(api, org):
    tenant = str(org.tenant_ids[0])
    await api.data('mutation($t: ID) { ip_address_create(input: {address: "192.0.2.1/24", description: "gw", tenant: $t}) { id } }', t=tenant)
    plain = await api.data("{ ip_address_list { id address description vrf { name } tenant { id } } }")
    full = await api.data("{ ip_address_list { id address description vrf { name } tenant { id } family { value } } }")
    assert [{k: v for k, v in ip.items() if k != "family"} for ip in full["ip_address_list"]] == plain["ip_address_list"]
