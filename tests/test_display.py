"""``display``: what an object reads as, NetBox's str() of it (models/display.py).

The NetBox corpus (tests/test_netbox_queries.py::test_display) checks the shapes the demo
export holds; these are the declared shapes it does not (labels, asset tags, four-byte
ASNs, port ranges, first-hop groups, …). The test environment answers every query on
both read paths and compares them, so each answer here is the compiled SQL's and the
resolvers' alike.
"""

from __future__ import annotations

from typing import Any

from dcim_lab import Lab


async def display_of(api: Any, root: str, object_id: str) -> str:
    return (await api.data(f"query($id: ID!) {{ {root}(id: $id) {{ display }} }}", id=object_id))[root]["display"]


async def test_devices_components_and_cables(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "MX-204")
    named = await lab.device(c, kind, "edge-1", asset_tag="A-77")
    unnamed = await lab.device(c, kind, None)
    tagged = await lab.device(c, kind, None, asset_tag="A-78")
    chassis = await lab.make("virtual_chassis", name="stack")
    member = await lab.device(c, kind, None, virtual_chassis=chassis, vc_position=2)
    numid = (await api.data("query($id: ID!) { device(id: $id) { numid } }", id=unnamed))["device"]["numid"]
    assert await display_of(api, "device", named) == "edge-1 (A-77)"
    assert await display_of(api, "device", unnamed) == f"Acme MX-204 ({numid})"
    assert await display_of(api, "device", tagged) == "Acme MX-204 (A-78)"
    assert await display_of(api, "device", member) == "stack:2"
    assert await display_of(api, "device_type", kind) == "MX-204"

    uplink = await lab.make("interface", device=named, name="et-0/0/0", label="uplink", type="TYPE_100GBASE_X_QSFP28")
    plain = await lab.make("interface", device=named, name="et-0/0/1", type="TYPE_100GBASE_X_QSFP28")
    assert await display_of(api, "interface", uplink) == "et-0/0/0 (uplink)"
    assert await display_of(api, "interface", plain) == "et-0/0/1"
    ends = {"a_terminations": [{"type": "dcim.interface", "id": uplink}], "b_terminations": [{"type": "dcim.interface", "id": plain}]}
    cable = await lab.make("cable", **ends)
    cable_numid = (await api.data("query($id: ID!) { cable(id: $id) { numid } }", id=cable))["cable"]["numid"]
    assert await display_of(api, "cable", cable) == f"#{cable_numid}"
    # Nested: a termination's cable, the cable's ends (a union) and their devices.
    answer = await api.data("query($id: ID!) { cable(id: $id) { display a_terminations { ... on InterfaceType { display device { display } } } } }", id=cable)
    assert answer["cable"] == {"display": f"#{cable_numid}", "a_terminations": [{"display": "et-0/0/0 (uplink)", "device": {"display": "edge-1 (A-77)"}}]}

    rack = await lab.make("rack", name="R1", site=c["site"], facility_id="F-3")
    assert await display_of(api, "rack", rack) == "R1 (F-3)"


async def test_ipam_shapes(api, org):
    lab = Lab(api, org.tenant_ids[0])
    vrf = await lab.make("vrf", name="Blue", rd="65000:1")
    assert await display_of(api, "vrf", vrf) == "Blue (65000:1)"
    assert await display_of(api, "vrf", await lab.make("vrf", name="Plain")) == "Plain"
    rir = await lab.make("rir", name="RIPE", slug="ripe")
    assert await display_of(api, "asn", await lab.make("asn", asn=4200000001, rir=rir)) == "AS4200000001 (64086.59905)"
    assert await display_of(api, "asn", await lab.make("asn", asn=65001, rir=rir)) == "AS65001"
    assert await display_of(api, "ip_range", await lab.make("ip_range", start_address="10.0.1.10/24", end_address="10.0.1.20/24")) == "10.0.1.10-20/24"
    assert await display_of(api, "ip_range", await lab.make("ip_range", start_address="10.0.2.5/24", end_address="10.0.2.5/24")) == "10.0.2.5-10.0.2.5/24"
    six = await lab.make("ip_range", start_address="2001:db8::10/64", end_address="2001:db8::1f/64")
    assert await display_of(api, "ip_range", six) == "2001:db8::10-1f/64"
    assert await display_of(api, "ip_address", await lab.make("ip_address", address="192.0.2.9/32")) == "192.0.2.9/32"
    vlan = await lab.make("vlan", vid=120, name="users")
    assert await display_of(api, "vlan", vlan) == "users (120)"

    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "edge-1")
    eth0 = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    group = await lab.make("fhrp_group", group_id=10, protocol="PROTOCOL_VRRP3")
    assert await display_of(api, "fhrp_group", group) == "VRRPv3: 10"
    await lab.make("ip_address", address="192.0.2.254/24", assigned_object={"type": "ipam.fhrpgroup", "id": group})
    await lab.make("ip_address", address="192.0.2.253/24", assigned_object={"type": "ipam.fhrpgroup", "id": group})
    assert await display_of(api, "fhrp_group", group) == "VRRPv3: 10 (192.0.2.253/24)"
    assignment = await lab.make("fhrp_group_assignment", group=group, interface={"type": "dcim.interface", "id": eth0}, priority=200)
    assert await display_of(api, "fhrp_group_assignment", assignment) == "eth0: VRRPv3: 10 (192.0.2.253/24) (200)"
    service = await lab.make("service", name="web", protocol="ROLE_TCP", ports=[8443, 80, 81, 82, 443], parent={"type": "dcim.device", "id": device})
    assert await display_of(api, "service", service) == "web (TCP/80-82, 443, 8443)"


async def test_declared_shapes_elsewhere(api, org):
    lab = Lab(api, org.tenant_ids[0])
    provider = await lab.make("provider", name="Zayo", slug="zayo")
    account = await lab.make("provider_account", provider=provider, account="ACC-1", name="Main")
    assert await display_of(api, "provider_account", account) == "ACC-1 (Main)"
    kind = await lab.make("circuit_type", name="Transit", slug="transit")
    circuit = await lab.make("circuit", cid="CID-9", provider=provider, type=kind)
    c = await lab.catalogue()
    termination = await lab.make("circuit_termination", circuit=circuit, term_side="SIDE_A", termination={"type": "dcim.site", "id": c["site"]})
    assert await display_of(api, "circuit_termination", termination) == "CID-9: Termination A"
    contact = await lab.make("contact", name="Ops Desk")
    assignment = await lab.make("contact_assignment", contact=contact, object_type="dcim.site", object_id=c["site"], priority="PRIORITY_PRIMARY")
    assert await display_of(api, "contact_assignment", assignment) == "Ops Desk (Primary) -> AMS1"
    assert await display_of(api, "l2vpn", await lab.make("l2vpn", name="Stretch", slug="stretch", type="TYPE_VXLAN_EVPN", identifier=10300)) == (
        "Stretch (10300)"
    )
