"""Components and templates: a device's type stamps out its components in the same
transaction; a module's type stamps out the module's, ``{module}`` replaced by its bay's
position; names order naturally; the rules refuse what NetBox refuses."""

from __future__ import annotations

from dcim_lab import Lab


async def typed_device(lab: Lab, c: dict[str, str]) -> tuple[str, str]:
    """A device type with one template of every kind, and a device of that type."""
    kind = await lab.device_type(c, "Switch", subdevice_role="ROLE_PARENT")
    t = {"device_type": kind}
    for name in ("Gi0/0/10", "Gi0/0/2", "Po1"):
        await lab.make("interface_template", name=name, type="TYPE_LAG" if name == "Po1" else "TYPE_1000BASE_T", **t)
    await lab.make("console_port_template", name="con0", type="TYPE_RJ_45", **t)
    await lab.make("console_server_port_template", name="line1", **t)
    psu = await lab.make("power_port_template", name="PSU1", maximum_draw=350, **t)
    await lab.make("power_outlet_template", name="out1", power_port=psu, feed_leg="FEED_LEG_A", **t)
    front = await lab.make("front_port_template", name="F1", type="TYPE_8P8C", **t)
    rear = await lab.make("rear_port_template", name="R1", type="TYPE_8P8C", positions=2, **t)
    await lab.make("port_template_mapping", front_port=front, rear_port=rear, rear_port_position=2, **t)
    await lab.make("module_bay_template", name="slot{module}", position="1", **t)
    await lab.make("device_bay_template", name="bay1", **t)
    await lab.make("inventory_item_template", name="fan", component={"type": "dcim.rearporttemplate", "id": rear}, **t)
    return kind, await lab.device(c, kind, "sw1")


COMPONENTS = """query($id: ID!) { device(id: $id) {
  interfaces { name type module { id } } consoleports { name type } consoleserverports { name }
  powerports { name maximum_draw } poweroutlets { name feed_leg power_port { name } }
  frontports { name mappings { rear_port { name } rear_port_position } } rearports { name positions }
  modulebays { name position } devicebays { name } inventoryitems { name component { __typename ... on RearPortType { name } } }
  interface_count console_port_count power_outlet_count front_port_count inventory_item_count
} }"""


async def test_a_device_gets_its_types_components(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind, device = await typed_device(lab, c)
    got = (await api.data(COMPONENTS, id=device))["device"]
    # NetBox's interface order: Gi0/0/2 before Gi0/0/10, the port channel after the ports.
    assert [(i["name"], i["type"]) for i in got["interfaces"]] == [("Gi0/0/2", "1000base-t"), ("Gi0/0/10", "1000base-t"), ("Po1", "lag")]
    assert got["consoleports"] == [{"name": "con0", "type": "rj-45"}]
    assert got["consoleserverports"] == [{"name": "line1"}]
    assert got["powerports"] == [{"name": "PSU1", "maximum_draw": 350}]
    # A template's reference to another template becomes one to the stamped component.
    assert got["poweroutlets"] == [{"name": "out1", "feed_leg": "A", "power_port": {"name": "PSU1"}}]
    assert got["frontports"] == [{"name": "F1", "mappings": [{"rear_port": {"name": "R1"}, "rear_port_position": 2}]}]
    assert got["rearports"] == [{"name": "R1", "positions": 2}]
    assert got["modulebays"] == [{"name": "slot{module}", "position": "1"}]
    assert got["devicebays"] == [{"name": "bay1"}]
    assert got["inventoryitems"] == [{"name": "fan", "component": {"__typename": "RearPortType", "name": "R1"}}]
    assert [got[k] for k in ("interface_count", "console_port_count", "power_outlet_count", "front_port_count", "inventory_item_count")] == [3, 1, 1, 1, 1]
    counts = await api.data("query($id: ID!) { device_type(id: $id) { interface_template_count device_count interfacetemplates { name } } }", id=kind)
    assert counts["device_type"]["interface_template_count"] == 3 and counts["device_type"]["device_count"] == 1
    # One change-log entry per stamped component, all under the device's request.
    log = await api.data("{ changelog_list { request_id object_type action } }")
    requests = {e["request_id"] for e in log["changelog_list"] if e["object_type"] in ("device", "interface", "port_mapping")}
    stamped = [e for e in log["changelog_list"] if e["object_type"] == "interface" and e["action"] == "create"]
    assert len(stamped) == 3 and len(requests) == 1


async def test_installing_a_module_stamps_its_components(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Chassis")
    await lab.make("module_bay_template", name="Slot 2", position="2", device_type=kind)
    device = await lab.device(c, kind, "rtr1")
    bay = (await api.data("query($id: ID!) { device(id: $id) { modulebays { id } } }", id=device))["device"]["modulebays"][0]["id"]
    card = await lab.make("module_type", manufacturer=c["manufacturer"], model="LC-8")
    await lab.make("interface_template", name="Gi{module}/1", label="port {module}/1", type="TYPE_10GBASE_X_SFPP", module_type=card)
    module = await lab.make("module", device=device, module_bay=bay, module_type=card)
    got = (await api.data("query($id: ID!) { device(id: $id) { interfaces { name label module { id } } modules { id } } }", id=device))["device"]
    assert got["interfaces"] == [{"name": "Gi2/1", "label": "port 2/1", "module": {"id": module}}]
    # A second module in an occupied bay is a conflict naming the bay, and changes nothing.
    error = await lab.refuse("module", device=device, module_bay=bay, module_type=card)
    assert error["extensions"] == {"code": "CONFLICT", "field": "module_bay"}
    after = (await api.data("query($id: ID!) { device(id: $id) { interfaces { name } modules { id } } }", id=device))["device"]
    assert after == {"interfaces": [{"name": "Gi2/1"}], "modules": [{"id": module}]}


async def test_devices_order_naturally_unnamed_last(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "VM-ish")
    for name in ("vm10", None, "VM2", "vm1"):
        await lab.device(c, kind, name)
    names = [d["name"] for d in (await api.data("{ device_list { name } }"))["device_list"]]
    assert names == ["vm1", "VM2", "vm10", None]


async def test_component_rules_refuse_and_write_nothing(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Plain")
    one, two = await lab.device(c, kind, "a"), await lab.device(c, kind, "b")
    lag = await lab.make("interface", device=two, name="Po1", type="TYPE_LAG")
    error = await lab.refuse("interface", device=one, name="Gi1", type="TYPE_1000BASE_T", lag=lag)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "lag"}  # a LAG on another device
    phys = await lab.make("interface", device=one, name="Gi2", type="TYPE_1000BASE_T")
    error = await lab.refuse("interface", device=one, name="Gi3", type="TYPE_1000BASE_T", lag=phys)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "lag"}  # not a LAG
    error = await lab.refuse("interface", device=one, name="Gi4", type="TYPE_NOT_A_TYPE")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"  # outside NetBox's list
    front = await lab.make("front_port", device=one, name="F1", type="TYPE_LC")
    rear = await lab.make("rear_port", device=one, name="R1", type="TYPE_LC", positions=4)
    error = await lab.refuse("port_mapping", front_port=front, rear_port=rear, rear_port_position=5)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "rear_port_position"}
    other_rear = await lab.make("rear_port", device=two, name="R1", type="TYPE_LC")
    error = await lab.refuse("port_mapping", front_port=front, rear_port=other_rear)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "rear_port"}
    card = await lab.make("module_type", manufacturer=c["manufacturer"], model="LC")
    mine = await lab.make("front_port_template", name="F1", type="TYPE_LC", module_type=card)
    theirs = await lab.make("rear_port_template", name="R1", type="TYPE_LC", device_type=kind)
    error = await lab.refuse("port_template_mapping", module_type=card, front_port=mine, rear_port=theirs)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "rear_port"}  # a template of another parent
    error = await lab.refuse("interface_template", name="x", type="TYPE_VIRTUAL", device_type=kind, module_type=card)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "device_type"}  # two parents
    fields = await api.data('{ __type(name: "DeviceBayTemplateCreateInput") { inputFields { name } } }')
    assert "module_type" not in {f["name"] for f in fields["__type"]["inputFields"]}  # NetBox's device-type-only kinds
    error = await lab.refuse("interface", device=one, name="Gi2", type="TYPE_1000BASE_T")
    assert error["extensions"] == {"code": "CONFLICT", "field": "name"}  # unique per device
    error = await lab.refuse("inventory_item", device=two, name="sfp", component={"type": "dcim.interface", "id": phys})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "component"}  # a component of another device
    state = await api.data("{ interface_list { name } port_mapping_list { id } port_template_mapping_list { id } interface_template_list { id } }")
    assert sorted(i["name"] for i in state["interface_list"]) == ["Gi2", "Po1"]
    assert state["port_mapping_list"] == state["port_template_mapping_list"] == state["interface_template_list"] == []


async def test_a_components_tenant_is_its_devices(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "T"), "d")
    interface = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    got = await api.data("query($id: ID!) { interface(id: $id) { tenant { id } } }", id=interface)
    assert got["interface"]["tenant"]["id"] == str(org.tenant_ids[0])
    fields = await api.data('{ __type(name: "InterfaceCreateInput") { inputFields { name } } }')
    assert "tenant" not in {f["name"] for f in fields["__type"]["inputFields"]}


async def test_filters_take_netbox_enums_and_related_objects(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "T"), "d")
    await lab.make("interface", device=device, name="Po1", type="TYPE_LAG")
    await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T", mgmt_only=True)
    await lab.make("interface", device=device, name="wlan0", type="TYPE_IEEE802_11AX")
    got = await api.data(
        "{ lags: interface_list(filters: {type: {exact: TYPE_LAG}}) { name }"
        ' at: interface_list(filters: {device: {site: {slug: {exact: "ams1"}}}, mgmt_only: {exact: true}}) { name }'
        " virtual: interface_list(filters: {kind: KIND_VIRTUAL}) { name }"
        " wireless: interface_list(filters: {kind: KIND_WIRELESS}) { name }"
        " physical: interface_list(filters: {kind: KIND_PHYSICAL}) { name } }"
    )
    assert got == {
        "lags": [{"name": "Po1"}],
        "at": [{"name": "eth0"}],
        "virtual": [{"name": "Po1"}],  # NetBox counts LAGs as virtual
        "wireless": [{"name": "wlan0"}],
        "physical": [{"name": "eth0"}],
    }


async def test_vlan_modes_virtual_chassis_and_primary_addresses_hold(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Switch")
    one, two = await lab.device(c, kind, "sw1"), await lab.device(c, kind, "sw2")
    vlan = await lab.make("vlan", vid=10, name="users")
    error = await lab.refuse("interface", device=one, name="Gi1", type="TYPE_1000BASE_T", untagged_vlan=vlan)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "untagged_vlan"}
    error = await lab.refuse("interface", device=one, name="Gi1", type="TYPE_1000BASE_T", mode="MODE_ACCESS", tagged_vlans=[vlan])
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tagged_vlans"}
    trunk = await lab.make("interface", device=one, name="Gi2", type="TYPE_1000BASE_T", mode="MODE_TAGGED", tagged_vlans=[vlan])
    error = await lab.update_error("interface", trunk, mode="MODE_ACCESS")  # its tagged VLANs would stay listed
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tagged_vlans"}
    got = await api.data("query($id: ID!) { interface(id: $id) { mode tagged_vlans { vid } } }", id=trunk)
    assert got["interface"] == {"mode": "tagged", "tagged_vlans": [{"vid": 10}]}
    # A virtual chassis's master is one of its members.
    stack = await lab.make("virtual_chassis", name="stack1")
    error = await lab.update_error("virtual_chassis", stack, master=one)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "master"}
    await lab.update("device", one, virtual_chassis=stack, vc_position=1)
    await lab.update("virtual_chassis", stack, master=one)
    got = await api.data("query($id: ID!) { virtual_chassis(id: $id) { master { name } member_count members { name vc_position } } }", id=stack)
    assert got["virtual_chassis"] == {"master": {"name": "sw1"}, "member_count": 1, "members": [{"name": "sw1", "vc_position": 1}]}
    # A primary address stays on its device's interfaces.
    address = await lab.make("ip_address", address="198.51.100.1/24", assigned_object={"type": "dcim.interface", "id": trunk})
    await lab.update("device", one, primary_ip4=address)
    elsewhere = await lab.make("interface", device=two, name="Gi1", type="TYPE_1000BASE_T")
    for moved in ({"type": "dcim.interface", "id": elsewhere}, None):
        error = await lab.update_error("ip_address", address, assigned_object=moved)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "assigned_object"}
