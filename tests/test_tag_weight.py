"""Tags sort by (weight, name), as NetBox 4.3+ lists them: root lists and an object's tags,
on the compiled SQL path and through the resolvers."""

from __future__ import annotations

from tests.factories import change_settings

QUERY = "query($id: ID!) { tag_list { name weight } site(id: $id) { tags { name weight } } }"
EXPECTED = [("beta", 10), ("delta", 10), ("gamma", 1000), ("alpha", 2000)]


async def _tagged_site(api, org) -> str:
    ids = []
    for name, weight in (("alpha", 2000), ("beta", 10), ("gamma", None), ("delta", 10)):
        extra = f", weight: {weight}" if weight is not None else ""
        made = await api.data(f'mutation {{ tag_create(input: {{name: "{name}", slug: "{name}"{extra}}}) {{ id weight }} }}')
        assert made["tag_create"]["weight"] == (weight if weight is not None else 1000)  # NetBox's default
        ids.append(made["tag_create"]["id"])
    site = await api.data(
        "mutation($t: ID!, $tags: [ID!]) { site_create(input: {name: 'x', slug: 'x', tenant: $t, tags: $tags}) { id } }".replace("'", '"'),
        t=str(org.tenant_ids[0]),
        tags=ids,
    )
    return site["site_create"]["id"]


def _names(data: dict) -> tuple[list, list]:
    return [(t["name"], t["weight"]) for t in data["tag_list"]], [(t["name"], t["weight"]) for t in data["site"]["tags"]]


async def test_tags_come_lightest_first_then_by_name_on_both_paths(app, api, org, monkeypatch):
    site_id = await _tagged_site(api, org)
    # The compiled SQL answers (and, with the shadow on, the resolvers must agree).
    assert await api.paths(QUERY, id=site_id) == {"tag_list": "sql", "site": "sql"}
    assert _names(await api.data(QUERY, id=site_id)) == (EXPECTED, EXPECTED)
    # The resolvers alone give the same order.
    change_settings(app, monkeypatch, compile_reads=False)
    assert _names(await api.data(QUERY, id=site_id)) == (EXPECTED, EXPECTED)


async def test_reweighing_a_tag_moves_it(api, org):
    site_id = await _tagged_site(api, org)
    alpha = (await api.data('{ tag_list(filters: {name: {exact: "alpha"}}) { id } }'))["tag_list"][0]["id"]
    await api.data("mutation($id: ID!) { tag_update(id: $id, input: {weight: 0}) { id } }", id=alpha)
    tags, on_site = _names(await api.data(QUERY, id=site_id))
    assert tags == on_site == [("alpha", 0), ("beta", 10), ("delta", 10), ("gamma", 1000)]


async def test_weight_out_of_range_is_refused(api, org):
    for weight in (-1, 32768):
        error = await api.error(f'mutation {{ tag_create(input: {{name: "bad", slug: "bad", weight: {weight}}}) {{ id }} }}')
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"].get("field") == "weight", error
    assert await api.count("tag") == 0
