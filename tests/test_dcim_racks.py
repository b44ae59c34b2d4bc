"""Racks and device placement, primary addresses, device bays: NetBox's rules refuse what
does not fit, naming the field, and write nothing."""

from __future__ import annotations

from dcim_lab import Lab


async def rack_setup(lab: Lab) -> tuple[dict[str, str], str, dict[str, str]]:
    c = await lab.catalogue()
    rack = await lab.make("rack", name="R1", site=c["site"], u_height=10, width=19)
    kinds = {
        "1u": await lab.device_type(c, "1U", u_height="1"),
        "2u": await lab.device_type(c, "2U", u_height="2"),
        "half": await lab.device_type(c, "Shelf", u_height="0.5", is_full_depth=False),
        "shallow": await lab.device_type(c, "Shallow", u_height="1", is_full_depth=False),
    }
    return c, rack, kinds


async def test_devices_fit_the_rack_and_overlap_nothing(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c, rack, kinds = await rack_setup(lab)
    await lab.device(c, kinds["2u"], "core", rack=rack, position="1", face="FACE_FRONT")  # U1–U2
    await lab.device(c, kinds["shallow"], "front", rack=rack, position="5", face="FACE_FRONT")
    await lab.device(c, kinds["shallow"], "back", rack=rack, position="5", face="FACE_REAR")  # the other face is free
    await lab.device(c, kinds["half"], "shelf", rack=rack, position="3.5", face="FACE_REAR")
    before = await api.data("{ device_list { name position face } }")
    refused = [
        ({"position": "2"}, "1u", "CONFLICT", "position"),  # over the 2U device's top unit
        ({"position": "5", "face": "FACE_REAR"}, "1u", "CONFLICT", "position"),  # full depth: both faces
        ({"position": "10"}, "2u", "BAD_USER_INPUT", "position"),  # past the top (U10 is the last)
        ({"position": "0.5"}, "1u", "BAD_USER_INPUT", "position"),  # below the first unit
        ({"position": "6.5"}, "1u", "BAD_USER_INPUT", "position"),  # whole-unit devices start on a whole unit
        ({"position": "7", "face": None}, "1u", "BAD_USER_INPUT", "face"),  # a position needs a face
    ]
    for fields, kind, code, field in refused:
        fields = {"face": "FACE_FRONT", **fields}
        data = {k: v for k, v in fields.items() if v is not None}
        error = await lab.refuse("device", name="x", device_type=kinds[kind], role=c["role"], site=c["site"], rack=rack, **data)
        assert error["extensions"] == {"code": code, "field": field}, (fields, error)
    assert await api.data("{ device_list { name position face } }") == before
    blade = await lab.device_type(c, "Blade", subdevice_role="ROLE_CHILD", u_height="0")
    error = await lab.refuse("device", name="b1", device_type=blade, role=c["role"], site=c["site"], rack=rack, position="8", face="FACE_FRONT")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "position"}  # a child sits in a device bay
    other_site = await lab.make("site", name="FRA1", slug="fra1")
    error = await lab.refuse("device", name="y", device_type=kinds["1u"], role=c["role"], site=other_site, rack=rack)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "rack"}  # a rack of another site
    listed = await api.data('{ rack_list(filters: {name: {exact: "R1"}}) { name width u_height devices { name } } }')
    assert listed["rack_list"][0]["width"] == 19 and len(listed["rack_list"][0]["devices"]) == 4


async def test_rack_widths_are_netbox_widths(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    error = await lab.refuse("rack", name="R2", site=c["site"], width=20)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "width"}
    other_site = await lab.make("site", name="FRA1", slug="fra1")
    await lab.make("rack", name="R1", site=c["site"])
    await lab.make("rack", name="R1", site=other_site)  # a name is unique per site (and location)
    error = await lab.refuse("rack", name="R1", site=c["site"])
    assert error["extensions"] == {"code": "CONFLICT", "field": "name"}
    reservation_rack = await lab.make("rack", name="R3", site=c["site"], u_height=4)
    error = await lab.refuse("rack_reservation", rack=reservation_rack, units=[4, 5], description="cage")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "units"}
    await lab.make("rack_reservation", rack=reservation_rack, units=[4, 3, 3], description="cage")
    got = await api.data("{ rack_reservation_list { units status description } }")
    assert got == {"rack_reservation_list": [{"units": [3, 4], "status": "active", "description": "cage"}]}


PRIMARY = "mutation($id: ID!, $ip: ID) { device_update(id: $id, input: {primary_ip4: $ip}) { primary_ip4 { address } } }"


async def test_primary_addresses_are_on_the_devices_own_interfaces(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Router")
    mine, other = await lab.device(c, kind, "r1"), await lab.device(c, kind, "r2")
    eth = await lab.make("interface", device=mine, name="eth0", type="TYPE_1000BASE_T")
    elsewhere = await lab.make("interface", device=other, name="eth0", type="TYPE_1000BASE_T")
    v4 = await lab.make("ip_address", address="192.0.2.1/24", assigned_object={"type": "dcim.interface", "id": eth})
    v6 = await lab.make("ip_address", address="2001:db8::1/64", assigned_object={"type": "dcim.interface", "id": eth})
    theirs = await lab.make("ip_address", address="192.0.2.2/24", assigned_object={"type": "dcim.interface", "id": elsewhere})
    loose = await lab.make("ip_address", address="192.0.2.3/24")
    for address in (theirs, loose, v6):
        error = await api.error(PRIMARY, id=mine, ip=address)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "primary_ip4"}, error
    assert (await api.data("query($id: ID!) { device(id: $id) { primary_ip4 { id } } }", id=mine))["device"]["primary_ip4"] is None
    assert (await api.data(PRIMARY, id=mine, ip=v4))["device_update"]["primary_ip4"] == {"address": "192.0.2.1/24"}
    got = await api.data("query($id: ID!) { interface(id: $id) { ip_addresses { address } } }", id=eth)
    assert sorted(a["address"] for a in got["interface"]["ip_addresses"]) == ["192.0.2.1/24", "2001:db8::1/64"]
    listed = await api.data('{ ip_address_list(filters: {assigned_object_type: {app_label: {exact: "dcim"}, model: {exact: "interface"}}}) { address } }')
    assert len(listed["ip_address_list"]) == 3


async def test_primary_mac_address_and_device_bays(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    chassis = await lab.device(c, await lab.device_type(c, "Chassis", subdevice_role="ROLE_PARENT"), "chassis")
    blade = await lab.device(c, await lab.device_type(c, "Blade", subdevice_role="ROLE_CHILD", u_height="0"), "blade1")
    plain = await lab.device(c, await lab.device_type(c, "Plain"), "plain")
    bay = await lab.make("device_bay", device=chassis, name="bay1")
    error = await lab.update_error("device_bay", bay, installed_device=plain)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "installed_device"}
    await lab.update("device_bay", bay, installed_device=blade)
    got = await api.data("query($id: ID!) { device(id: $id) { parent_bay { name device { name } } } }", id=blade)
    assert got["device"]["parent_bay"] == {"name": "bay1", "device": {"name": "chassis"}}
    eth = await lab.make("interface", device=plain, name="eth0", type="TYPE_1000BASE_T")
    stray = await lab.make("mac_address", mac_address="00-1a-2b-3c-4d-5e")
    error = await lab.update_error("interface", eth, primary_mac_address=stray)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "primary_mac_address"}
    own = await lab.make("mac_address", mac_address="001a.2b3c.4d5f", assigned_object={"type": "dcim.interface", "id": eth})
    await lab.update("interface", eth, primary_mac_address=own)
    got = await api.data("query($id: ID!) { interface(id: $id) { primary_mac_address { mac_address } mac_addresses { mac_address } } }", id=eth)
    assert got["interface"] == {"primary_mac_address": {"mac_address": "00:1A:2B:3C:4D:5F"}, "mac_addresses": [{"mac_address": "00:1A:2B:3C:4D:5F"}]}


async def test_a_rack_shows_its_units_and_utilisation(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c, rack, kinds = await rack_setup(lab)  # 10 units
    await lab.device(c, kinds["2u"], "core", rack=rack, position="1", face="FACE_FRONT")
    await lab.device(c, kinds["shallow"], "patch", rack=rack, position="4", face="FACE_REAR")
    got = await api.data("query($id: ID!) { rack(id: $id) { utilization units { unit front { name } rear { name } } } }", id=rack)
    assert got["rack"]["utilization"] == 30.0
    units = {float(u["unit"]): (u["front"], u["rear"]) for u in got["rack"]["units"]}
    assert [float(u["unit"]) for u in got["rack"]["units"]][:2] == [10.0, 9.0]  # top first
    assert units[1.0] == units[2.0] == ({"name": "core"}, {"name": "core"})  # full depth: both faces
    assert units[4.0] == (None, {"name": "patch"}) and units[3.0] == (None, None)


async def test_a_power_feed_shows_its_power(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Server"), "srv")
    panel = await lab.make("power_panel", site=c["site"], name="P1")
    feed = await lab.make("power_feed", power_panel=panel, name="F1", voltage=400, amperage=32, max_utilization=80, phase="PHASE_THREE_PHASE")
    psu = await lab.make("power_port", device=device, name="PSU1", allocated_draw=300, maximum_draw=500)
    cable = "mutation($i: CableCreateInput!) { cable_create(input: $i) { id } }"
    await api.data(
        cable, i={"a_terminations": [{"type": "dcim.powerfeed", "id": feed}], "b_terminations": [{"type": "dcim.powerport", "id": psu}], "tenant": lab.tenant}
    )
    got = await api.data("query($id: ID!) { power_feed(id: $id) { available_power allocated_draw maximum_draw } }", id=feed)
    assert got["power_feed"] == {"available_power": 17736, "allocated_draw": 300, "maximum_draw": 500}  # 400 V × 32 A × 80 % × √3


async def test_deleting_a_device_logs_each_component_and_frees_its_cables(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    a, b = await lab.device(c, kind, "a"), await lab.device(c, kind, "b")
    ea = await lab.make("interface", device=a, name="eth0", type="TYPE_1000BASE_T")
    eb = await lab.make("interface", device=b, name="eth0", type="TYPE_1000BASE_T")
    cable = "mutation($i: CableCreateInput!) { cable_create(input: $i) { id } }"
    await api.data(
        cable, i={"a_terminations": [{"type": "dcim.interface", "id": ea}], "b_terminations": [{"type": "dcim.interface", "id": eb}], "tenant": lab.tenant}
    )
    parent = await lab.make("inventory_item", device=a, name="chassis")
    await lab.make("inventory_item", device=a, name="fan", parent=parent)  # goes with its parent and its device
    await api.data("mutation($id: ID!) { device_delete(id: $id) { id } }", id=a)
    log = (await api.data("{ changelog_list { object_type object_id action } }"))["changelog_list"]
    deletes = [(e["object_type"], e["object_id"]) for e in log if e["action"] == "delete"]
    assert ("interface", ea) in deletes and ("device", a) in deletes
    assert len(deletes) == len(set(deletes))  # each object logged once, however many ways it cascades
    assert [t for t, _ in deletes].count("cable_termination") == 1  # the end that went away (no reverse field)
    assert [t for t, _ in deletes].count("inventory_item") == 2
    # The far end still has its cable (NetBox keeps a cable whose other end went away).
    got = await api.data("query($id: ID!) { interface(id: $id) { cable { id } link_peers { __typename } } }", id=eb)
    assert got["interface"]["cable"] is not None and got["interface"]["link_peers"] == []
