"""Journal entries: dated notes on objects of any type, their author set by the write path."""

from __future__ import annotations

from dcim_lab import Lab


async def test_a_journal_on_a_device_and_a_provider(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "edge-1")
    provider = await lab.make("provider", name="Carrier", slug="carrier")
    await lab.make("journal_entry", assigned_object_type="dcim.device", assigned_object_id=device, kind="KIND_WARNING", comments="PSU 2 failed; RMA 4711")
    await lab.make("journal_entry", assigned_object_type="dcim.device", assigned_object_id=device, comments="PSU replaced")
    await lab.make("journal_entry", assigned_object_type="circuits.provider", assigned_object_id=provider, comments="new account manager")
    got = await api.data("query($id: ID!) { device(id: $id) { journal_entries { kind comments created_by assigned_object_type } } }", id=device)
    author = (await api.data("{ me { username } }"))["me"]["username"]
    # (In a test every write shares one transaction, so both entries have one timestamp.)
    assert sorted(got["device"]["journal_entries"], key=lambda entry: entry["kind"]) == [
        {"kind": "info", "comments": "PSU replaced", "created_by": author, "assigned_object_type": "dcim.device"},
        {"kind": "warning", "comments": "PSU 2 failed; RMA 4711", "created_by": author, "assigned_object_type": "dcim.device"},
    ]
    # The id of a provider under the device type names nothing.
    error = await lab.refuse("journal_entry", assigned_object_type="dcim.device", assigned_object_id=provider, comments="wrong type")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "assigned_object_id")
    # The device's journal goes with it.
    await api.data("mutation($id: ID!) { device_delete(id: $id) { id } }", id=device)
    assert await api.count("journal_entry") == 1
