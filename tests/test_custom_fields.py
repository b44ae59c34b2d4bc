"""Custom fields: typed values checked on every write, defaults, required and unique
fields, keys kept in step with the definitions, NetBox's ``custom_field_data`` filters,
choice sets, groups, and tags restricted to some object types."""

from __future__ import annotations

from typing import Any

import pytest
from dcim_lab import Lab

SITE_FIELDS = "query($id: ID!) { site(id: $id) { custom_fields } }"


async def field(lab: Lab, name: str, kind: str, **settings: Any) -> str:
    settings.setdefault("object_types", ["dcim.site"])
    return await lab.make("custom_field", name=name, type=f"TYPE_{kind.upper()}", **settings)


async def site_fields(api: Any, site: str) -> dict[str, Any]:
    return (await api.data(SITE_FIELDS, id=site))["site"]["custom_fields"]


async def every_kind(lab: Lab) -> dict[str, str]:
    """One field of each of NetBox's types on sites."""
    colours = await lab.make("custom_field_choice_set", name="Colours", extra_choices=[["red", "Red"], ["green", "Green"], ["blue", "Blue"]])
    airports = await lab.make("custom_field_choice_set", name="Airports", base_choices="IATA", extra_choices=[["XXX", "Test"]])
    made = {
        "code": await field(lab, "code", "text", validation_regex=r"[A-Z]{3}-\d+$"),
        "notes": await field(lab, "notes", "longtext"),
        "racks_planned": await field(lab, "racks_planned", "integer", validation_minimum="1", validation_maximum="500"),
        "power_kw": await field(lab, "power_kw", "decimal", validation_minimum="0.5"),
        "staffed": await field(lab, "staffed", "boolean"),
        "opened": await field(lab, "opened", "date"),
        "audited": await field(lab, "audited", "datetime"),
        "portal": await field(lab, "portal", "url"),
        "extra": await field(lab, "extra", "json", validation_schema={"type": "object", "properties": {"floors": {"type": "integer"}}, "required": ["floors"]}),
        "colour": await field(lab, "colour", "select", choice_set=colours),
        "colours": await field(lab, "colours", "multiselect", choice_set=colours),
        "airport": await field(lab, "airport", "select", choice_set=airports),
        "carrier": await field(lab, "carrier", "object", related_object_type="circuits.provider"),
        "carriers": await field(lab, "carriers", "multiobject", related_object_type="circuits.provider"),
    }
    return made


GOOD = {
    "code": "AMS-1",
    "notes": "line one\nline two",
    "racks_planned": 40,
    "power_kw": 12.5,
    "staffed": True,
    "opened": "2019-04-01",
    "audited": "2026-11-01T10:00:00+00:00",
    "portal": "https://dc.example.net/ams",
    "extra": {"floors": 3, "lift": True},
    "colour": "green",
    "colours": ["red", "blue"],
    "airport": "AMS",
}


async def test_each_type_takes_its_values_and_refuses_others(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await every_kind(lab)
    carrier = await lab.make("provider", name="Carrier", slug="carrier")
    other = await lab.make("provider", name="Other", slug="other")
    values = {**GOOD, "carrier": carrier, "carriers": [carrier, other, carrier]}
    site = await lab.make("site", name="AMS1", slug="ams1", custom_fields=values)
    assert await site_fields(api, site) == {**values, "carriers": [carrier, other]}  # a repeated object once

    wrong = [
        ("code", "ams-1", "does not match the pattern"),
        ("code", 17, "is not text"),
        ("racks_planned", 0, "less than the minimum 1"),
        ("racks_planned", 501, "more than the maximum 500"),
        ("racks_planned", 2.5, "is not an integer"),
        ("racks_planned", True, "is not an integer"),
        ("racks_planned", "12", "is not an integer"),
        ("racks_planned", 2**70, "out of range"),
        ("power_kw", 0.25, "less than the minimum 0.5"),
        ("power_kw", "lots", "is not a number"),
        ("staffed", "yes", "is not true or false"),
        ("opened", "2019-02-30", "is not a date"),
        ("audited", "yesterday", "is not an ISO 8601 date and time"),
        ("portal", "javascript:alert(1)", "is not a URL"),
        ("portal", "https://", "is not a URL"),
        ("extra", {"lift": True}, "does not satisfy the field's schema"),
        ("colour", "purple", "is not one of the field's choices"),
        ("colours", "red", "give a list of choices"),
        ("airport", "Amsterdam", "is not one of the field's choices"),
        ("carrier", "not-an-id", "is not an object id"),
        ("carriers", [carrier, 5], "is not an object id"),
        ("nonexistent", 1, "has no custom field 'nonexistent'"),
    ]
    for name, value, message in wrong:
        error = await lab.refuse("site", name="Bad", slug="bad", custom_fields={name: value})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (name, error)
        assert error["extensions"]["field"].startswith(f"custom_fields.{name}"), (name, error)
        assert message in error["message"], (name, error)
    # A multiselect's bad member is named by its index.
    error = await lab.refuse("site", name="Bad", slug="bad", custom_fields={"colours": ["red", "pink"]})
    assert error["extensions"]["field"] == "custom_fields.colours.1"
    # An object of another type, or of another tenant, is no such object.
    for wrong_id in (site, await Lab(api, org.tenant_ids[1]).make("provider", name="Theirs", slug="theirs")):
        error = await lab.refuse("site", name="Bad", slug="bad", custom_fields={"carrier": wrong_id})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "custom_fields.carrier")
    assert await api.count("site") == 1  # no refused site was written
    # The same checks on update; a refused update changes nothing.
    error = await lab.update_error("site", site, custom_fields={"racks_planned": 9000})
    assert error["extensions"]["field"] == "custom_fields.racks_planned"
    assert (await site_fields(api, site))["racks_planned"] == 40


async def test_defaults_required_merges_and_unique(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await field(lab, "tier", "integer", default=2)
    await field(lab, "owner_team", "text", required=True, default="netops")
    await field(lab, "asset_ref", "text", unique=True)
    await field(lab, "contract", "text", required=True)
    # Missing required value (no default): refused, naming it.
    error = await lab.refuse("site", name="A", slug="a")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "custom_fields.contract")
    site = await lab.make("site", name="A", slug="a", custom_fields={"contract": "C-1", "asset_ref": "X1"})
    assert await site_fields(api, site) == {"tier": 2, "owner_team": "netops", "asset_ref": "X1", "contract": "C-1"}
    # An update merges the keys it gives; null clears an optional one, not a required one.
    await lab.update("site", site, custom_fields={"tier": 3, "asset_ref": None})
    assert await site_fields(api, site) == {"tier": 3, "owner_team": "netops", "asset_ref": None, "contract": "C-1"}
    error = await lab.update_error("site", site, custom_fields={"owner_team": None})
    assert error["extensions"]["field"] == "custom_fields.owner_team"
    # An update that does not mention custom fields leaves them alone.
    await lab.update("site", site, description="renamed")
    assert (await site_fields(api, site))["tier"] == 3
    # Unique: another site may not take the value; the site itself may keep it.
    await lab.update("site", site, custom_fields={"asset_ref": "X1"})
    await lab.update("site", site, custom_fields={"asset_ref": "X1", "tier": 4})
    error = await lab.refuse("site", name="B", slug="b", custom_fields={"contract": "C-2", "asset_ref": "X1"})
    assert (error["extensions"]["field"], "unique" in error["message"]) == ("custom_fields.asset_ref", True)
    # ... nor can two sites of one batch.
    batch = "mutation($i: [SiteCreateInput!]!) { site_create_many(inputs: $i) { id } }"
    twins = [{"name": n, "slug": n, "tenant": str(org.tenant_ids[0]), "custom_fields": {"contract": "C", "asset_ref": "Z9"}} for n in ("c", "d")]
    error = await api.error(batch, i=twins)
    assert "unique" in error["message"] and error["extensions"]["field"].endswith("custom_fields.asset_ref")
    assert await api.count("site") == 1
    # ... also where a batch is written set-based (providers: no rule runs per row).
    await field(lab, "account_ref", "text", unique=True, object_types=["circuits.provider"])
    batch = "mutation($i: [ProviderCreateInput!]!) { provider_create_many(inputs: $i) { id } }"
    twins = [{"name": n, "slug": n, "tenant": str(org.tenant_ids[0]), "custom_fields": {"account_ref": "R1"}} for n in ("p", "q")]
    error = await api.error(batch, i=twins)
    assert error["extensions"]["field"].endswith("custom_fields.account_ref") and "1" in error["extensions"]["field"]
    assert await api.count("provider") == 0
    # Another tenant has its own fields: none of these, so a value for them is unknown there.
    other = Lab(api, org.tenant_ids[1])
    error = await other.refuse("site", name="T2", slug="t2", custom_fields={"tier": 1})
    assert error["extensions"]["field"] == "custom_fields.tier"
    assert await site_fields(api, await other.make("site", name="T2", slug="t2")) == {}


async def test_objects_follow_their_fields(api, org):
    lab = Lab(api, org.tenant_ids[0])
    site = await lab.make("site", name="A", slug="a")
    provider = await lab.make("provider", name="P", slug="p")
    assert await site_fields(api, site) == {}
    # A new field reaches the existing objects of its types, with its default.
    tier = await field(lab, "tier", "integer", default=1, object_types=["dcim.site", "circuits.provider"])
    await field(lab, "remark", "text")
    assert await site_fields(api, site) == {"tier": 1, "remark": None}
    await lab.update("site", site, custom_fields={"tier": 7})
    # Renamed: the key moves with its value.
    await lab.update("custom_field", tier, name="site_tier")
    assert await site_fields(api, site) == {"site_tier": 7, "remark": None}
    # A type dropped from the field loses the key; the others keep it.
    await lab.update("custom_field", tier, object_types=["circuits.provider"])
    assert await site_fields(api, site) == {"remark": None}
    provider_fields = await api.data("query($id: ID!) { provider(id: $id) { custom_fields } }", id=provider)
    assert provider_fields["provider"]["custom_fields"] == {"site_tier": 1}
    # Deleted: the key goes from every object.
    await api.data("mutation($id: ID!) { custom_field_delete(id: $id) { id } }", id=tier)
    provider_fields = await api.data("query($id: ID!) { provider(id: $id) { custom_fields } }", id=provider)
    assert provider_fields["provider"]["custom_fields"] == {}
    # A field defined in the same request as the objects that use it (one transaction here).
    await field(lab, "floor", "integer")
    assert await site_fields(api, await lab.make("site", name="B", slug="b", custom_fields={"floor": 2})) == {"remark": None, "floor": 2}


FILTERED = "query($f: SiteFilter) { site_list(filters: $f) { name } }"


async def names(api: Any, flt: dict[str, Any]) -> list[str]:
    return sorted(site["name"] for site in (await api.data(FILTERED, f=flt))["site_list"])


async def test_custom_field_data_filters(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await field(lab, "code", "text")
    await field(lab, "racks", "integer")
    await field(lab, "ratio", "decimal")
    await field(lab, "staffed", "boolean")
    await field(lab, "opened", "date")
    await field(lab, "extra", "json")
    rows = {
        "A": {"code": "AMS-1", "racks": 40, "ratio": 0.5, "staffed": True, "opened": "2019-04-01", "extra": {"power": {"feeds": 2}}},
        "B": {"code": "LON-2", "racks": 8, "ratio": 1.25, "staffed": False, "opened": "2021-01-15", "extra": {"power": {"feeds": "two"}}},
        "C": {},
    }
    for name, values in rows.items():
        await lab.make("site", name=name, slug=name.lower(), custom_fields=values)

    def on(path: str, lookup: str, **ops: Any) -> dict[str, Any]:
        return {"custom_field_data": {"path": path, "lookup": {lookup: ops}}}

    assert await names(api, on("code", "string_lookup", exact="AMS-1")) == ["A"]
    assert await names(api, on("code", "string_lookup", i_starts_with="lon")) == ["B"]
    assert await names(api, on("code", "string_lookup", in_=["AMS-1", "LON-2"])) == ["A", "B"]
    assert await names(api, on("code", "string_lookup", isnull=True)) == ["C"]
    assert await names(api, on("code", "string_lookup", regex="^[A-Z]{3}-[12]$")) == ["A", "B"]
    assert await names(api, on("racks", "int_comparison_lookup", gt=10)) == ["A"]
    assert await names(api, on("racks", "int_range_lookup", start=8, end=40)) == ["A", "B"]
    assert await names(api, on("ratio", "float_comparison_lookup", lte=1.0)) == ["A"]
    assert await names(api, on("staffed", "boolean_lookup", exact=False)) == ["B"]
    assert await names(api, on("opened", "date_lookup", gte="2020-01-01")) == ["B"]
    # A nested path; a value of another JSON type does not match (and does not fail).
    assert await names(api, on("extra__power__feeds", "int_comparison_lookup", exact=2)) == ["A"]
    assert await names(api, on("extra__power__feeds", "string_lookup", exact="two")) == ["B"]
    # Combined with other filters, and under NOT.
    assert await names(api, {"NOT": on("code", "string_lookup", exact="AMS-1"), "name": {"in_list": ["A", "B"]}}) == ["B"]
    # A path that is not one, or two lookups at once: refused, named.
    error = await api.error(FILTERED, f=on("code'); --", "string_lookup", exact="x"))
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "filters.custom_field_data.path")
    error = await api.error(FILTERED, f={"custom_field_data": {"path": "code", "lookup": {"string_lookup": {"exact": "a"}, "boolean_lookup": {"exact": True}}}})
    assert "exactly one" in error["message"]
    error = await api.error(FILTERED, f=on("code", "string_lookup", regex="(unclosed"))
    assert error["extensions"]["field"] == "filters.custom_field_data.lookup.string_lookup.regex"


@pytest.mark.parametrize(
    ("settings", "field_name", "message"),
    [
        ({"name": "Has Space", "type": "TYPE_TEXT"}, "name", "lower-case letters"),
        ({"name": "double__under", "type": "TYPE_TEXT"}, "name", "single underscores"),
        ({"name": "pick", "type": "TYPE_SELECT"}, "choice_set", "need a choice set"),
        ({"name": "ref", "type": "TYPE_OBJECT"}, "related_object_type", "needs the type"),
        ({"name": "ref", "type": "TYPE_OBJECT", "related_object_type": "dcim.nothing"}, "related_object_type", "names no type"),
        ({"name": "t", "type": "TYPE_TEXT", "related_object_type": "dcim.site"}, "related_object_type", "only object fields"),
        ({"name": "t", "type": "TYPE_TEXT", "validation_regex": "(unclosed"}, "validation_regex", "not a regular expression"),
        ({"name": "t", "type": "TYPE_BOOLEAN", "validation_regex": "x"}, "validation_regex", "only text"),
        ({"name": "n", "type": "TYPE_INTEGER", "validation_minimum": "10", "validation_maximum": "5"}, "validation_maximum", "below the minimum"),
        ({"name": "n", "type": "TYPE_TEXT", "validation_minimum": "1"}, "validation_minimum", "only integer and decimal"),
        ({"name": "n", "type": "TYPE_INTEGER", "validation_maximum": "5", "default": 6}, "default", "more than the maximum"),
        ({"name": "n", "type": "TYPE_INTEGER", "default": "six"}, "default", "not an integer"),
        ({"name": "j", "type": "TYPE_JSON", "validation_schema": {"type": 12}}, "validation_schema", "not a JSON Schema"),
        ({"name": "j", "type": "TYPE_TEXT", "validation_schema": {"type": "object"}}, "validation_schema", "only JSON fields"),
        ({"name": "o", "type": "TYPE_TEXT", "object_types": ["dcim.nothing"]}, "object_types.0", "names no type"),
        ({"name": "o", "type": "TYPE_TEXT", "object_types": ["dcim.site", "tenancy.tag"]}, "object_types.1", "take no custom fields"),
    ],
)
async def test_a_field_definition_that_cannot_work_is_refused(api, org, settings, field_name, message):
    lab = Lab(api, org.tenant_ids[0])
    settings = {"object_types": ["dcim.site"], **settings}
    error = await lab.refuse("custom_field", **settings)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field_name), error
    assert message in error["message"]
    assert await api.count("custom_field") == 0


async def test_a_field_keeps_its_type_and_group(api, org):
    lab = Lab(api, org.tenant_ids[0])
    group = await lab.make("custom_field_group", name="Facilities", weight=10)
    made = await field(lab, "racks", "integer", group=group, label="Racks")
    error = await lab.update_error("custom_field", made, type="TYPE_TEXT")
    assert error["extensions"]["field"] == "type"
    got = await api.data(
        "query($id: ID!) { custom_field(id: $id) { name label type group_name group { name fields { name } } object_types } }",
        id=made,
    )
    assert got["custom_field"] == {
        "name": "racks",
        "label": "Racks",
        "type": "integer",
        "group_name": "Facilities",
        "group": {"name": "Facilities", "fields": [{"name": "racks"}]},
        "object_types": ["dcim.site"],
    }
    await lab.update("custom_field", made, group=None)
    got = await api.data("query($id: ID!) { custom_field(id: $id) { group_name } }", id=made)
    assert got["custom_field"]["group_name"] == ""


async def test_choice_sets(api, org):
    lab = Lab(api, org.tenant_ids[0])
    for extra, where in (
        ([["a"]], "extra_choices.0"),
        ([["", "blank"]], "extra_choices.0"),
        ([["a", "A"], ["a", "again"]], "extra_choices"),
        ("a,b", "extra_choices"),
        (None, "extra_choices"),
    ):
        error = await lab.refuse("custom_field_choice_set", name="Bad", extra_choices=extra)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", where), extra
    colours = await lab.make("custom_field_choice_set", name="Colours", extra_choices=[["red", "Red"], ["green", "Green"], ["blue", "Blue"]])
    await field(lab, "colour", "select", choice_set=colours)
    await field(lab, "colours", "multiselect", choice_set=colours)
    await lab.make("site", name="A", slug="a", custom_fields={"colour": "red", "colours": ["blue"]})
    # A choice no object holds may go; one an object holds (as a value or in a list) may not.
    await lab.update("custom_field_choice_set", colours, extra_choices=[["red", "Red"], ["blue", "Blue"]])
    for kept in ([["blue", "Blue"]], [["red", "Red"]]):
        error = await lab.update_error("custom_field_choice_set", colours, extra_choices=kept)
        assert (error["extensions"]["field"], "still hold" in error["message"]) == ("extra_choices", True)
    got = await api.data("{ custom_field_choice_set_list { name extra_choices choices_for { name } } }")
    assert got["custom_field_choice_set_list"] == [
        {"name": "Colours", "extra_choices": [["red", "Red"], ["blue", "Blue"]], "choices_for": [{"name": "colour"}, {"name": "colours"}]}
    ]
    # A set in use cannot be deleted (NetBox's PROTECT).
    error = await api.error("mutation($id: ID!) { custom_field_choice_set_delete(id: $id) { id } }", id=colours)
    assert error["extensions"]["code"] in ("CONFLICT", "BAD_USER_INPUT")


async def test_tags_apply_to_their_object_types_only(api, org):
    lab = Lab(api, org.tenant_ids[0])
    tag = await lab.make("tag", name="Core", slug="core", object_types=["dcim.device", "dcim.site"])
    anywhere = await lab.make("tag", name="Any", slug="any")
    await lab.make("site", name="A", slug="a", tags=[tag, anywhere])
    error = await lab.refuse("provider", name="P", slug="p", tags=[anywhere, tag])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "tags")
    assert "core" in error["message"]
    error = await lab.refuse("tag", name="Bad", slug="bad", object_types=["dcim.nothing"])
    assert error["extensions"]["field"] == "object_types.0"


async def test_grants_around_custom_fields(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await field(lab, "racks", "integer", validation_maximum="100")
    # A writer of sites who may not view custom fields is checked all the same.
    writer = api.as_key(await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"site": ["view", "add", "change"]}))
    mutation = "mutation($i: SiteCreateInput!) { site_create(input: $i) { id custom_fields } }"
    error = await writer.error(mutation, i={"name": "A", "slug": "a", "custom_fields": {"racks": 101}})
    assert error["extensions"]["field"] == "custom_fields.racks"
    made = (await writer.data(mutation, i={"name": "A", "slug": "a", "custom_fields": {"racks": 10}}))["site_create"]
    assert made["custom_fields"] == {"racks": 10}
    # Defining a field on a type needs the right to change that type's objects.
    definer = api.as_key(await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"custom_field": ["view", "add"]}))
    create = "mutation($i: CustomFieldCreateInput!) { custom_field_create(input: $i) { id } }"
    error = await definer.error(create, i={"name": "x", "type": "TYPE_TEXT", "object_types": ["dcim.site"], "required": True})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("FORBIDDEN", "object_types.0")
