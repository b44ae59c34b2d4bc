"""Virtual circuits across a provider network, ending on virtual interfaces, and circuit
groups of circuits and virtual circuits (NetBox 4.6's names and rules)."""

from __future__ import annotations

from dcim_lab import Lab

VIRTUAL_CIRCUIT = """query($id: ID!) { virtual_circuit(id: $id) { cid status description provider_network { name provider { slug } }
  provider_account { account } type { name color virtual_circuits { cid } }
  terminations { role description interface { name device { name } virtual_circuit_termination { role } } } } }"""
GROUP = """query($id: ID!) { circuit_group(id: $id) { name slug description comments tenant { id }
  assignments { priority member { __typename ... on CircuitType { cid } ... on VirtualCircuitType { cid } } } } }"""


async def network(lab: Lab) -> dict[str, str]:
    provider = await lab.make("provider", name="Carrier", slug="carrier")
    made = {
        "provider": provider,
        "network": await lab.make("provider_network", provider=provider, name="EVPN core"),
        "account": await lab.make("provider_account", provider=provider, account="ACC-7"),
        "type": await lab.make("virtual_circuit_type", name="EVPL", slug="evpl", color="aa1409"),
    }
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Router")
    for name in ("hub", "spoke"):
        device = await lab.device(c, kind, name)
        made[f"{name}.sub"] = await lab.make("interface", device=device, name="ge-0/0/0.100", type="TYPE_VIRTUAL")
        made[f"{name}.port"] = await lab.make("interface", device=device, name="ge-0/0/0", type="TYPE_1000BASE_T")
    made["vc"] = await lab.make(
        "virtual_circuit", cid="VC-1", provider_network=made["network"], provider_account=made["account"], type=made["type"], description="hub and spoke"
    )
    return made


def terminate(lab: Lab, made: dict[str, str], interface: str, **fields: str):
    return lab.make("virtual_circuit_termination", virtual_circuit=made["vc"], interface=made[interface], **fields)


async def test_a_virtual_circuit_between_virtual_interfaces(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await network(lab)
    await terminate(lab, made, "hub.sub", role="ROLE_HUB", description="head end")
    await terminate(lab, made, "spoke.sub", role="ROLE_SPOKE")
    got = (await api.data(VIRTUAL_CIRCUIT, id=made["vc"]))["virtual_circuit"]
    assert got == {
        "cid": "VC-1",
        "status": "active",
        "description": "hub and spoke",
        "provider_network": {"name": "EVPN core", "provider": {"slug": "carrier"}},
        "provider_account": {"account": "ACC-7"},
        "type": {"name": "EVPL", "color": "aa1409", "virtual_circuits": [{"cid": "VC-1"}]},
        "terminations": [
            {
                "role": "hub",
                "description": "head end",
                "interface": {"name": "ge-0/0/0.100", "device": {"name": "hub"}, "virtual_circuit_termination": {"role": "hub"}},
            },
            {
                "role": "spoke",
                "description": "",
                "interface": {"name": "ge-0/0/0.100", "device": {"name": "spoke"}, "virtual_circuit_termination": {"role": "spoke"}},
            },
        ],
    }
    # NetBox's reverse names on the network and the account, and its filters.
    query = """query($id: ID!) { provider_network(id: $id) { virtual_circuits { cid } }
      virtual_circuit_termination_list(filters: {role: {exact: ROLE_SPOKE}}) { interface { device { name } } }
      virtual_circuit_list(filters: {provider_network_id: {exact: $id}, status: {exact: STATUS_ACTIVE}}) { cid provider_account { virtual_circuits { cid } } } }"""
    listed = await api.data(query, id=made["network"])
    assert listed == {
        "provider_network": {"virtual_circuits": [{"cid": "VC-1"}]},
        "virtual_circuit_termination_list": [{"interface": {"device": {"name": "spoke"}}}],
        "virtual_circuit_list": [{"cid": "VC-1", "provider_account": {"virtual_circuits": [{"cid": "VC-1"}]}}],
    }
    # An interface that goes takes its termination along; the circuit goes with its terminations.
    await api.data("mutation($id: ID!) { interface_delete(id: $id) { id } }", id=made["spoke.sub"])
    assert await api.count("virtual_circuit_termination") == 1
    await api.data("mutation($id: ID!) { virtual_circuit_delete(id: $id) { id } }", id=made["vc"])
    assert await api.count("virtual_circuit_termination") == 0


async def test_a_virtual_circuit_ends_on_virtual_interfaces_only(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await network(lab)
    error = await lab.refuse("virtual_circuit_termination", virtual_circuit=made["vc"], interface=made["hub.port"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "interface"), error
    assert "virtual" in error["message"]
    assert await api.count("virtual_circuit_termination") == 0
    hub = await terminate(lab, made, "hub.sub", role="ROLE_HUB")
    # Moving it to a physical port is refused as well, and so is making its interface physical.
    error = await lab.update_error("virtual_circuit_termination", hub, interface=made["spoke.port"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "interface"), error
    error = await lab.update_error("interface", made["hub.sub"], type="TYPE_10GBASE_T")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "type"), error
    await lab.update("interface", made["hub.sub"], type="TYPE_BRIDGE")  # another virtual type is fine
    await lab.update("interface", made["spoke.sub"], type="TYPE_10GBASE_T")  # one ending nothing may change
    # An interface ends one virtual circuit at most (NetBox's one-to-one).
    other = await lab.make("virtual_circuit", cid="VC-2", provider_network=made["network"], type=made["type"])
    error = await lab.refuse("virtual_circuit_termination", virtual_circuit=other, interface=made["hub.sub"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "interface"), error
    got = (await api.data(VIRTUAL_CIRCUIT, id=made["vc"]))["virtual_circuit"]
    assert [(t["role"], t["interface"]["device"]["name"]) for t in got["terminations"]] == [("hub", "hub")]


async def test_a_virtual_circuits_account_is_with_its_networks_provider(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await network(lab)
    elsewhere = await lab.make("provider", name="Other carrier", slug="other")
    foreign = await lab.make("provider_account", provider=elsewhere, account="ACC-9")
    error = await lab.refuse("virtual_circuit", cid="VC-3", provider_network=made["network"], provider_account=foreign, type=made["type"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "provider_account"), error
    error = await lab.update_error("virtual_circuit", made["vc"], provider_account=foreign)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "provider_account"), error
    # Moving the circuit to another provider's network needs that provider's account too.
    their_network = await lab.make("provider_network", provider=elsewhere, name="Other core")
    error = await lab.update_error("virtual_circuit", made["vc"], provider_network=their_network)
    assert error["extensions"]["field"] == "provider_account", error
    await lab.update("virtual_circuit", made["vc"], provider_network=their_network, provider_account=foreign)
    # NetBox's unique circuit ID per network.
    error = await lab.refuse("virtual_circuit", cid="VC-1", provider_network=their_network, type=made["type"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "cid"), error


async def test_circuit_groups_of_circuits_and_virtual_circuits(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await network(lab)
    circuit_type = await lab.make("circuit_type", name="Transit", slug="transit")
    circuit = await lab.make("circuit", cid="C-1", provider=made["provider"], type=circuit_type)
    group = await lab.make("circuit_group", name="Ring A", slug="ring-a", description="north ring", comments="Dual-homed.")
    await lab.make("circuit_group_assignment", group=group, member={"type": "circuits.circuit", "id": circuit}, priority="PRIORITY_PRIMARY")
    await lab.make("circuit_group_assignment", group=group, member={"type": "circuits.virtualcircuit", "id": made["vc"]})
    got = (await api.data(GROUP, id=group))["circuit_group"]
    members = sorted(got.pop("assignments"), key=lambda a: a["member"]["cid"])
    assert got == {"name": "Ring A", "slug": "ring-a", "description": "north ring", "comments": "Dual-homed.", "tenant": {"id": str(org.tenant_ids[0])}}
    assert members == [
        {"priority": "primary", "member": {"__typename": "CircuitType", "cid": "C-1"}},
        {"priority": None, "member": {"__typename": "VirtualCircuitType", "cid": "VC-1"}},
    ]
    # Each member answers its groups (NetBox's group_assignments), and NetBox's filters work.
    query = """query($c: ID!, $v: ID!) { circuit(id: $c) { group_assignments { priority group { slug } } }
      virtual_circuit(id: $v) { group_assignments { group { name } } }
      circuit_group_assignment_list(filters: {member_type: {app_label: {exact: "circuits"}, model: {exact: "virtualcircuit"}}}) { member { __typename } }
      primary: circuit_group_assignment_list(filters: {priority: {exact: PRIORITY_PRIMARY}}) { group { name } } }"""
    assert await api.data(query, c=circuit, v=made["vc"]) == {
        "circuit": {"group_assignments": [{"priority": "primary", "group": {"slug": "ring-a"}}]},
        "virtual_circuit": {"group_assignments": [{"group": {"name": "Ring A"}}]},
        "circuit_group_assignment_list": [{"member": {"__typename": "VirtualCircuitType"}}],
        "primary": [{"group": {"name": "Ring A"}}],
    }
    # A member is in a group once, whichever kind it is: a coded error naming the field.
    for member in ({"type": "circuits.circuit", "id": circuit}, {"type": "circuits.virtualcircuit", "id": made["vc"]}):
        error = await lab.refuse("circuit_group_assignment", group=group, member=member, priority="PRIORITY_SECONDARY")
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "member"), error
    # It may be in another group; a member of no listed kind is refused.
    other = await lab.make("circuit_group", name="Ring B", slug="ring-b")
    await lab.make("circuit_group_assignment", group=other, member={"type": "circuits.circuit", "id": circuit})
    error = await lab.refuse("circuit_group_assignment", group=other, member={"type": "dcim.interface", "id": made["hub.sub"]})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "member.type"), error
    assert await api.count("circuit_group_assignment") == 3
    # Deleting a group or a member deletes its assignments.
    await api.data("mutation($id: ID!) { circuit_delete(id: $id) { id } }", id=circuit)
    assert await api.count("circuit_group_assignment") == 1
    await api.data("mutation($id: ID!) { circuit_group_delete(id: $id) { id } }", id=group)
    assert await api.count("circuit_group_assignment") == 0


async def test_another_tenants_objects_cannot_be_used(api, org):
    mine, theirs = Lab(api, org.tenant_ids[0]), Lab(api, org.tenant_ids[1])
    made, foreign = await network(mine), await network(theirs)
    group = await mine.make("circuit_group", name="Mine", slug="mine")
    error = await mine.refuse("virtual_circuit_termination", virtual_circuit=made["vc"], interface=foreign["hub.sub"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "interface"), error
    error = await mine.refuse("circuit_group_assignment", group=group, member={"type": "circuits.virtualcircuit", "id": foreign["vc"]})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "member"), error
    error = await mine.refuse("virtual_circuit", cid="VC-9", provider_network=made["network"], type=foreign["type"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "type"), error
    assert await api.count("virtual_circuit_termination") == 0 and await api.count("circuit_group_assignment") == 0
    # A principal of the first tenant does not see the second's ids at all.
    reader = api.as_key(await org.user_key(is_admin=True, token_tenant_ids=[org.tenant_ids[0]]))
    error = await Lab(reader, org.tenant_ids[0]).refuse("virtual_circuit_termination", virtual_circuit=made["vc"], interface=foreign["hub.sub"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "interface"), error
    error = await Lab(reader, org.tenant_ids[0]).refuse("virtual_circuit_termination", virtual_circuit=foreign["vc"], interface=made["hub.sub"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "virtual_circuit"), error
    listed = await reader.data("{ virtual_circuit_list { cid tenant { id } } }")
    assert listed["virtual_circuit_list"] == [{"cid": "VC-1", "tenant": {"id": str(org.tenant_ids[0])}}]
