"""Circuits: providers, circuits and their A/Z terminations, and paths traced through a
circuit from a device, across a patch panel, to the device at the far end."""

from __future__ import annotations

from dcim_lab import Lab

CABLE = "mutation($i: CableCreateInput!) { cable_create(input: $i) { id } }"
CIRCUIT = """query($id: ID!) { circuit(id: $id) { cid status commit_rate distance distance_unit provider { name accounts { account } }
  type { name color } termination_a { term_side termination { __typename ... on SiteType { name } } }
  termination_z { term_side termination { __typename ... on ProviderNetworkType { name provider { slug } } } }
  terminations { term_side port_speed } } }"""


async def provider_and_circuit(lab: Lab) -> dict[str, str]:
    provider = await lab.make("provider", name="Carrier Ünï", slug="carrier")
    made = {
        "provider": provider,
        "account": await lab.make("provider_account", provider=provider, account="ACC-1"),
        "network": await lab.make("provider_network", provider=provider, name="MPLS cloud"),
        "type": await lab.make("circuit_type", name="Transit", slug="transit", color="00ff00"),
        "site": await lab.make("site", name="LON1", slug="lon1"),
    }
    made["circuit"] = await lab.make(
        "circuit",
        cid="C-100",
        provider=provider,
        provider_account=made["account"],
        type=made["type"],
        commit_rate=1_000_000,
        distance="12.50",
        distance_unit="KM",
    )
    return made


def end(kind: str, object_id: str) -> dict[str, str]:
    return {"type": kind, "id": object_id}


async def test_a_circuit_points_at_its_terminations(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await provider_and_circuit(lab)
    await lab.make("circuit_termination", circuit=made["circuit"], term_side="SIDE_A", termination=end("dcim.site", made["site"]), port_speed=1_000_000)
    z = await lab.make("circuit_termination", circuit=made["circuit"], term_side="SIDE_Z", termination=end("circuits.providernetwork", made["network"]))
    got = (await api.data(CIRCUIT, id=made["circuit"]))["circuit"]
    assert got == {
        "cid": "C-100",
        "status": "active",
        "commit_rate": 1000000,
        "distance": "12.50",
        "distance_unit": "km",
        "provider": {"name": "Carrier Ünï", "accounts": [{"account": "ACC-1"}]},
        "type": {"name": "Transit", "color": "00ff00"},
        "termination_a": {"term_side": "A", "termination": {"__typename": "SiteType", "name": "LON1"}},
        "termination_z": {"term_side": "Z", "termination": {"__typename": "ProviderNetworkType", "name": "MPLS cloud", "provider": {"slug": "carrier"}}},
        "terminations": [{"term_side": "A", "port_speed": 1000000}, {"term_side": "Z", "port_speed": None}],
    }
    await api.data("mutation($id: ID!) { circuit_termination_delete(id: $id) { id } }", id=z)
    assert (await api.data(CIRCUIT, id=made["circuit"]))["circuit"]["termination_z"] is None
    site = await api.data("query($id: ID!) { site(id: $id) { circuit_terminations { term_side circuit { cid } } } }", id=made["site"])
    assert site["site"]["circuit_terminations"] == [{"term_side": "A", "circuit": {"cid": "C-100"}}]


async def test_one_termination_per_side(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await provider_and_circuit(lab)
    await lab.make("circuit_termination", circuit=made["circuit"], term_side="SIDE_A")
    error = await lab.refuse("circuit_termination", circuit=made["circuit"], term_side="SIDE_A")
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["field"] in ("term_side", "circuit")
    assert await api.count("circuit_termination") == 1


async def test_a_path_runs_through_a_patch_panel_and_a_circuit(api, org):
    """eth0 on a → cable → a patch panel's front port, its rear port → cable → the circuit's
    A end; the Z end → cable → eth0 on b. Each interface's connected endpoint is the other."""
    lab = Lab(api, org.tenant_ids[0])
    made = await provider_and_circuit(lab)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    a, b, panel = [await lab.device(c, kind, name) for name in ("a", "b", "panel")]
    ifaces = {}
    for device in (a, b):
        ifaces[device] = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    rear = await lab.make("rear_port", device=panel, name="R1", type="TYPE_LC", positions=1)
    front = await lab.make("front_port", device=panel, name="F1", type="TYPE_LC")
    await lab.make("port_mapping", front_port=front, rear_port=rear, rear_port_position=1)
    term_a = await lab.make("circuit_termination", circuit=made["circuit"], term_side="SIDE_A", termination=end("dcim.site", c["site"]))
    term_z = await lab.make("circuit_termination", circuit=made["circuit"], term_side="SIDE_Z")
    links = [
        (end("dcim.interface", ifaces[a]), end("dcim.frontport", front)),
        (end("dcim.rearport", rear), end("circuits.circuittermination", term_a)),
        (end("circuits.circuittermination", term_z), end("dcim.interface", ifaces[b])),
    ]
    for near, far in links:
        await api.data(CABLE, i={"a_terminations": [near], "b_terminations": [far], "tenant": lab.tenant})
    query = """query($id: ID!) { interface(id: $id) { connected_endpoints { ... on InterfaceType { name device { name } } }
      trace { near_end { __typename } far_end { __typename } } } }"""
    there = (await api.data(query, id=ifaces[a]))["interface"]
    assert there["connected_endpoints"] == [{"name": "eth0", "device": {"name": "b"}}]
    assert [(h["near_end"][0]["__typename"], h["far_end"][0]["__typename"]) for h in there["trace"]] == [
        ("InterfaceType", "FrontPortType"),
        ("RearPortType", "CircuitTerminationType"),
        ("CircuitTerminationType", "InterfaceType"),
    ]
    back = (await api.data(query, id=ifaces[b]))["interface"]
    assert back["connected_endpoints"] == [{"name": "eth0", "device": {"name": "a"}}]
    peers = await api.data("query($id: ID!) { circuit_termination(id: $id) { cable { id } link_peers { __typename } } }", id=term_a)
    assert peers["circuit_termination"]["link_peers"] == [{"__typename": "RearPortType"}]


async def test_a_circuit_termination_takes_only_what_netbox_allows(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await provider_and_circuit(lab)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "PDU")
    device = await lab.device(c, kind, "pdu")
    outlet = await lab.make("power_outlet", device=device, name="O1")
    term = await lab.make("circuit_termination", circuit=made["circuit"], term_side="SIDE_A")
    error = await api.error(
        CABLE, i={"a_terminations": [end("circuits.circuittermination", term)], "b_terminations": [end("dcim.poweroutlet", outlet)], "tenant": lab.tenant}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "cannot be cabled" in error["message"]
    assert await api.count("cable") == 0
