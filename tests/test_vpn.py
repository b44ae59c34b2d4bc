"""VPN: tunnels ending on device and VM interfaces, L2VPNs carrying VLANs and interfaces."""

from __future__ import annotations

from dcim_lab import Lab

TUNNEL = """query($id: ID!) { tunnel(id: $id) { name status encapsulation tunnel_id group { slug }
  terminations { role outside_ip { address } termination { __typename ... on InterfaceType { name device { name } } ... on VMInterfaceType { name } } } } }"""
L2VPN = """query($id: ID!) { l2vpn(id: $id) { name type status identifier import_targets { name } export_targets { name }
  terminations { assigned_object { __typename ... on VLANType { vid } ... on InterfaceType { name } } } } }"""


async def ends(lab: Lab) -> dict[str, str]:
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "hub-1")
    vm = await lab.make("virtual_machine", name="spoke-1")
    return {
        "eth0": await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T"),
        "tun0": await lab.make("interface", device=device, name="tun0", type="TYPE_VIRTUAL"),
        "veth0": await lab.make("vm_interface", virtual_machine=vm, name="eth0"),
    }


async def test_a_tunnel_between_a_device_and_a_vm(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await ends(lab)
    group = await lab.make("tunnel_group", name="Spokes", slug="spokes")
    tunnel = await lab.make("tunnel", name="hub-spoke-1", encapsulation="ENCAP_WIREGUARD", group=group, tunnel_id=51820)
    outside = await lab.make("ip_address", address="198.51.100.1/32")
    await lab.make("tunnel_termination", tunnel=tunnel, role="ROLE_HUB", termination={"type": "dcim.interface", "id": made["tun0"]}, outside_ip=outside)
    await lab.make("tunnel_termination", tunnel=tunnel, role="ROLE_SPOKE", termination={"type": "virtualization.vminterface", "id": made["veth0"]})
    got = (await api.data(TUNNEL, id=tunnel))["tunnel"]
    assert got == {
        "name": "hub-spoke-1",
        "status": "active",
        "encapsulation": "wireguard",
        "tunnel_id": 51820,
        "group": {"slug": "spokes"},
        "terminations": [
            {
                "role": "hub",
                "outside_ip": {"address": "198.51.100.1/32"},
                "termination": {"__typename": "InterfaceType", "name": "tun0", "device": {"name": "hub-1"}},
            },
            {"role": "spoke", "outside_ip": None, "termination": {"__typename": "VMInterfaceType", "name": "eth0"}},
        ],
    }
    # An interface ends one tunnel at most.
    other = await lab.make("tunnel", name="second", encapsulation="ENCAP_GRE")
    error = await lab.refuse("tunnel_termination", tunnel=other, termination={"type": "dcim.interface", "id": made["tun0"]})
    assert error["extensions"]["code"] == "CONFLICT" and error["extensions"]["field"].startswith("termination")
    assert await api.count("tunnel_termination") == 2


async def test_an_l2vpn_carries_vlans_and_interfaces(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await ends(lab)
    vlan = await lab.make("vlan", vid=300, name="stretched")
    rt_in = await lab.make("route_target", name="65000:1")
    rt_out = await lab.make("route_target", name="65000:2")
    l2vpn = await lab.make(
        "l2vpn", name="DC stretch", slug="dc-stretch", type="TYPE_VXLAN_EVPN", identifier=10300, import_targets=[rt_in], export_targets=[rt_out]
    )
    await lab.make("l2vpn_termination", l2vpn=l2vpn, assigned_object={"type": "ipam.vlan", "id": vlan})
    await lab.make("l2vpn_termination", l2vpn=l2vpn, assigned_object={"type": "dcim.interface", "id": made["eth0"]})
    got = (await api.data(L2VPN, id=l2vpn))["l2vpn"]
    assert got["name"] == "DC stretch" and got["type"] == "vxlan-evpn" and got["identifier"] == 10300
    assert got["import_targets"] == [{"name": "65000:1"}] and got["export_targets"] == [{"name": "65000:2"}]
    assert sorted(t["assigned_object"]["__typename"] for t in got["terminations"]) == ["InterfaceType", "VLANType"]
    interface = await api.data("query($id: ID!) { interface(id: $id) { l2vpn_termination { l2vpn { slug } } } }", id=made["eth0"])
    assert interface["interface"]["l2vpn_termination"] == {"l2vpn": {"slug": "dc-stretch"}}
    error = await lab.refuse("l2vpn_termination", l2vpn=l2vpn, assigned_object={"type": "ipam.vlan", "id": vlan})
    assert error["extensions"]["code"] == "CONFLICT"
