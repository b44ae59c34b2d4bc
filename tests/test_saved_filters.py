"""Saved filters (NetBox's extras.SavedFilter): named parameters for some object types,
checked when written, listed lightest weight first, seen within their tenant only."""

from __future__ import annotations

from dcim_lab import Lab

SAVED = "query($id: ID!) { saved_filter(id: $id) { name slug description object_types weight enabled shared parameters tenant { id } } }"


async def test_a_saved_filter_is_written_and_read_with_netbox_names(api, org):
    lab = Lab(api, org.tenant_ids[0])
    active = await lab.make(
        "saved_filter",
        name="Active leaves",
        slug="active-leaves",
        description="what the NOC watches",
        object_types=["dcim.device", "virtualization.virtualmachine", "dcim.device"],
        parameters={"status": ["active"], "role": ["leaf"], "q": "Ünï"},
        shared=False,
    )
    got = (await api.data(SAVED, id=active))["saved_filter"]
    assert got == {
        "name": "Active leaves",
        "slug": "active-leaves",
        "description": "what the NOC watches",
        "object_types": ["dcim.device", "virtualization.virtualmachine"],  # a type named twice is kept once
        "weight": 100,
        "enabled": True,
        "shared": False,
        "parameters": {"status": ["active"], "role": ["leaf"], "q": "Ünï"},
        "tenant": {"id": str(org.tenant_ids[0])},
    }
    await lab.make("saved_filter", name="b-heavy", slug="b-heavy", object_types=["ipam.prefix"], parameters={}, weight=500)
    await lab.make("saved_filter", name="a-light", slug="a-light", object_types=["ipam.prefix"], parameters={}, weight=10, enabled=False)
    query = """{ all: saved_filter_list { slug }
      enabled: saved_filter_list(filters: {enabled: {exact: true}}) { slug }
      named: saved_filter_list(filters: {name: {i_contains: "LEAVES"}}) { slug } }"""
    assert await api.data(query) == {
        "all": [{"slug": "a-light"}, {"slug": "active-leaves"}, {"slug": "b-heavy"}],  # by weight, then name
        "enabled": [{"slug": "active-leaves"}, {"slug": "b-heavy"}],
        "named": [{"slug": "active-leaves"}],
    }
    await lab.update("saved_filter", active, object_types=["ipam.ipaddress"], parameters={"vrf_id": ["null"]})
    got = (await api.data(SAVED, id=active))["saved_filter"]
    assert (got["object_types"], got["parameters"]) == (["ipam.ipaddress"], {"vrf_id": ["null"]})


async def test_bad_saved_filters_are_refused_naming_the_field(api, org):
    lab = Lab(api, org.tenant_ids[0])
    base = {"name": "f", "slug": "f", "object_types": ["dcim.site"], "parameters": {"region": ["eu"]}}
    kept = await lab.make("saved_filter", **base)
    cases = [
        ({"object_types": ["dcim.site", "dcim.nothing"]}, "BAD_USER_INPUT", "object_types.1"),
        ({"object_types": ["users.token"]}, "BAD_USER_INPUT", "object_types.0"),  # not a type of the graph
        ({"object_types": []}, "BAD_USER_INPUT", "object_types"),  # a filter applies to some type
        ({"parameters": ["status", "active"]}, "BAD_USER_INPUT", "parameters"),  # NetBox: a dictionary of keyword arguments
        ({"parameters": "status=active"}, "BAD_USER_INPUT", "parameters"),
        ({"weight": 40000}, "BAD_USER_INPUT", "weight"),
        ({"name": "x" * 101}, "BAD_USER_INPUT", "name"),
        ({"name": "other"}, "CONFLICT", "slug"),  # slug f again
        ({"slug": "other"}, "CONFLICT", "name"),  # name f again
    ]
    for change, code, field in cases:
        error = await lab.refuse("saved_filter", **{**base, **change})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (code, field), (change, error)
        if code == "BAD_USER_INPUT" and field != "object_types":
            assert field.split(".")[0] in error["message"], error
    # Null is refused by GraphQL itself (the input is non-null): still coded, naming the field in its message.
    error = await lab.refuse("saved_filter", **{**base, "parameters": None})
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and ".parameters" in error["message"], error
    for change, field in (({"object_types": ["dcim.nothing"]}, "object_types.0"), ({"parameters": [1]}, "parameters")):
        error = await lab.update_error("saved_filter", kept, **change)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    assert (await api.data(SAVED, id=kept))["saved_filter"]["object_types"] == ["dcim.site"]
    assert await api.count("saved_filter") == 1


async def test_a_saved_filter_stays_in_its_tenant(api, org):
    lab = Lab(api, org.tenant_ids[0])
    saved = await lab.make("saved_filter", name="f", slug="f", object_types=["dcim.site"], parameters={})
    # Another tenant may reuse the name, and its readers see only their own filters.
    theirs = await Lab(api, org.tenant_ids[1]).make("saved_filter", name="f", slug="f", object_types=["dcim.site"], parameters={})
    reader = api.as_key(await org.user_key(tenant_ids=[org.tenant_ids[1]], grants={"saved_filter": ["view", "change", "delete"]}))
    error = await reader.error(SAVED, id=saved)
    assert error["extensions"]["code"] == "NOT_FOUND", error
    assert (await reader.data("{ saved_filter_list { id } }"))["saved_filter_list"] == [{"id": theirs}]
    # Nor may it change or delete the first tenant's.
    error = await Lab(reader, org.tenant_ids[1]).update_error("saved_filter", saved, name="mine now")
    assert error["extensions"]["code"] == "NOT_FOUND", error
    error = await reader.error("mutation($id: ID!) { saved_filter_delete(id: $id) { id } }", id=saved)
    assert error["extensions"]["code"] == "NOT_FOUND", error
    assert (await api.data(SAVED, id=saved))["saved_filter"]["name"] == "f"
    # Without the view grant, none at all.
    blind = api.as_key(await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"site": ["view"]}))
    error = await blind.error("{ saved_filter_list { id } }")
    assert error["extensions"]["code"] == "FORBIDDEN", error
