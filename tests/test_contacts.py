"""Contacts and their assignments to objects of any type: checked like a reference
(exists, visible, same tenant), answered on every type as ``contacts``, deleted with
their object."""

from __future__ import annotations

from dcim_lab import Lab

SITE_CONTACTS = """query($id: ID!) { site(id: $id) { contacts { priority object_type object_id contact { name email groups { name } }
  role { name } } } }"""


async def test_contacts_are_assigned_to_objects_of_any_type(api, org):
    lab = Lab(api, org.tenant_ids[0])
    group = await lab.make("contact_group", name="NOC", slug="noc")
    alice = await lab.make("contact", name="Alice Ünï", email="alice@example.net", groups=[group])
    owner = await lab.make("contact_role", name="Owner", slug="owner")
    site = await lab.make("site", name="AMS1", slug="ams1")
    provider = await lab.make("provider", name="Carrier", slug="carrier")
    await lab.make("contact_assignment", object_type="dcim.site", object_id=site, contact=alice, role=owner, priority="PRIORITY_PRIMARY")
    await lab.make("contact_assignment", object_type="circuits.provider", object_id=provider, contact=alice)
    got = (await api.data(SITE_CONTACTS, id=site))["site"]["contacts"]
    assert got == [
        {
            "priority": "primary",
            "object_type": "dcim.site",
            "object_id": site,
            "contact": {"name": "Alice Ünï", "email": "alice@example.net", "groups": [{"name": "NOC"}]},
            "role": {"name": "Owner"},
        }
    ]
    assert (await api.data("query($id: ID!) { contact(id: $id) { assignments { object_type } } }", id=alice))["contact"]["assignments"] == [
        {"object_type": "dcim.site"},
        {"object_type": "circuits.provider"},
    ]
    # An assignment goes with its object, through the write path (change log included).
    await api.data("mutation($id: ID!) { site_delete(id: $id) { id } }", id=site)
    assert await api.count("contact_assignment") == 1


async def test_an_assignment_names_a_real_visible_object(api, org):
    tenant_a, tenant_b = org.tenant_ids
    lab, other = Lab(api, tenant_a), Lab(api, tenant_b)
    alice = await lab.make("contact", name="Alice")
    theirs = await other.make("site", name="B1", slug="b1")
    nowhere = "6a1c3f3e-0000-4000-8000-000000000000"
    cases = [
        ({"object_type": "dcim.nothing", "object_id": nowhere}, "BAD_USER_INPUT", "object_type"),
        ({"object_type": "tenancy.contactassignment", "object_id": nowhere}, "BAD_USER_INPUT", "object_type"),
        ({"object_type": "dcim.site", "object_id": "not-an-id"}, "BAD_USER_INPUT", "object_id"),
        ({"object_type": "dcim.site", "object_id": nowhere}, "NOT_FOUND", "object_id"),
        ({"object_type": "dcim.site", "object_id": theirs}, "NOT_FOUND", "object_id"),  # another tenant's: as if absent
    ]
    answers = []
    for fields, code, field in cases:
        error = await lab.refuse("contact_assignment", contact=alice, **fields)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (code, field), error
        answers.append(error["message"].replace(str(theirs), "ID").replace(nowhere, "ID"))
    assert answers[3] == answers[4]  # no existence oracle
    assert await api.count("contact_assignment") == 0
