"""Services on devices, virtual machines and FHRP groups; FHRP groups with their virtual
addresses and the interfaces (device or VM) that take part."""

from __future__ import annotations

from dcim_lab import Lab

SERVICES = """query($d: ID!, $g: ID!) {
  device(id: $d) { services { name protocol ports ipaddresses { address } parent { __typename ... on DeviceType { name } } }
    interfaces { name fhrp_group_assignments { priority group { group_id protocol } } } }
  fhrp_group(id: $g) { group_id protocol auth_type ip_addresses { address assigned_object { __typename } }
    fhrpgroupassignment_set { priority interface { __typename ... on InterfaceType { name } ... on VMInterfaceType { name virtual_machine { name } } } }
    services { name } } }"""


async def test_services_and_fhrp_groups(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "edge-1")
    eth0 = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    vm = await lab.make("virtual_machine", name="lb-1")
    veth0 = await lab.make("vm_interface", virtual_machine=vm, name="eth0")
    address = await lab.make("ip_address", address="192.0.2.1/24", assigned_object={"type": "dcim.interface", "id": eth0})
    group = await lab.make("fhrp_group", group_id=10, protocol="PROTOCOL_VRRP3", auth_type="AUTHENTICATION_PLAINTEXT", auth_key="k")
    await lab.make("ip_address", address="192.0.2.254/24", assigned_object={"type": "ipam.fhrpgroup", "id": group})
    await lab.make("fhrp_group_assignment", group=group, interface={"type": "dcim.interface", "id": eth0}, priority=200)
    await lab.make("fhrp_group_assignment", group=group, interface={"type": "virtualization.vminterface", "id": veth0}, priority=100)
    await lab.make("service_template", name="https", protocol="ROLE_TCP", ports=[443])
    await lab.make("service", name="https", protocol="ROLE_TCP", ports=[8443, 443], parent={"type": "dcim.device", "id": device}, ipaddresses=[address])
    await lab.make("service", name="vrrp-https", protocol="ROLE_TCP", ports=[443], parent={"type": "ipam.fhrpgroup", "id": group})
    await lab.make("service", name="dns", protocol="ROLE_UDP", ports=[53], parent={"type": "virtualization.virtualmachine", "id": vm})
    got = await api.data(SERVICES, d=device, g=group)
    assert got["device"] == {
        "services": [
            {
                "name": "https",
                "protocol": "tcp",
                "ports": [443, 8443],
                "ipaddresses": [{"address": "192.0.2.1/24"}],
                "parent": {"__typename": "DeviceType", "name": "edge-1"},
            }
        ],
        "interfaces": [{"name": "eth0", "fhrp_group_assignments": [{"priority": 200, "group": {"group_id": 10, "protocol": "vrrp3"}}]}],
    }
    assert got["fhrp_group"] == {
        "group_id": 10,
        "protocol": "vrrp3",
        "auth_type": "plaintext",
        "ip_addresses": [{"address": "192.0.2.254/24", "assigned_object": {"__typename": "FHRPGroupType"}}],
        "fhrpgroupassignment_set": [
            {"priority": 100, "interface": {"__typename": "VMInterfaceType", "name": "eth0", "virtual_machine": {"name": "lb-1"}}},
            {"priority": 200, "interface": {"__typename": "InterfaceType", "name": "eth0"}},
        ],
        "services": [{"name": "vrrp-https"}],
    }
    vm_services = await api.data("query($id: ID!) { virtual_machine(id: $id) { services { name ports } } }", id=vm)
    assert vm_services["virtual_machine"]["services"] == [{"name": "dns", "ports": [53]}]


async def test_bad_ports_priorities_and_parents_are_refused(api, org):
    lab = Lab(api, org.tenant_ids[0])
    group = await lab.make("fhrp_group", group_id=1, protocol="PROTOCOL_HSRP")
    cases = [
        (lab.refuse("service", name="x", protocol="ROLE_TCP", ports=[0], parent={"type": "ipam.fhrpgroup", "id": group}), "ports"),
        (lab.refuse("service", name="x", protocol="ROLE_TCP", ports=[65536], parent={"type": "ipam.fhrpgroup", "id": group}), "ports"),
        (lab.refuse("service", name="x", protocol="ROLE_TCP", ports=[], parent={"type": "ipam.fhrpgroup", "id": group}), "ports"),
        (lab.refuse("service", name="x", protocol="ROLE_TCP", ports=[22], parent={"type": "dcim.site", "id": group}), "parent.type"),
        (lab.refuse("fhrp_group", group_id=40000, protocol="PROTOCOL_HSRP"), "group_id"),
    ]
    for pending, field in cases:
        error = await pending
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    assert await api.count("service") == 0
