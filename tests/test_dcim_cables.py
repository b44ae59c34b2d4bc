"""Cables: NetBox's rules, link peers, and paths traced through patch panels, right after
every create, edit and delete."""

from __future__ import annotations

from dcim_lab import Lab

CABLE = "mutation($i: CableCreateInput!) { cable_create(input: $i) { id a_terminations { __typename ... on InterfaceType { name } } } }"


def end(kind: str, object_id: str) -> dict[str, str]:
    return {"type": f"dcim.{kind}", "id": object_id}


async def two_devices(lab: Lab) -> tuple[dict[str, str], str, str]:
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    return c, await lab.device(c, kind, "a"), await lab.device(c, kind, "b")


async def cable(lab: Lab, a: list[dict[str, str]], b: list[dict[str, str]], **fields) -> str:
    return (await lab.api.data(CABLE, i={"a_terminations": a, "b_terminations": b, "tenant": lab.tenant, **fields}))["cable_create"]["id"]


PEERS = """query($id: ID!) { interface(id: $id) { cable { id } cable_end
  link_peers { __typename ... on InterfaceType { name device { name } } ... on FrontPortType { name } }
  connected_endpoints { __typename ... on InterfaceType { name device { name } } } } }"""


async def test_a_cable_between_two_interfaces(api, org):
    lab = Lab(api, org.tenant_ids[0])
    _, a, b = await two_devices(lab)
    ea = await lab.make("interface", device=a, name="eth0", type="TYPE_1000BASE_T")
    eb = await lab.make("interface", device=b, name="eth0", type="TYPE_1000BASE_T")
    made = await api.data(
        CABLE, i={"a_terminations": [end("interface", ea)], "b_terminations": [end("interface", eb)], "status": "STATUS_PLANNED", "tenant": lab.tenant}
    )
    assert made["cable_create"]["a_terminations"] == [{"__typename": "InterfaceType", "name": "eth0"}]
    got = (await api.data(PEERS, id=ea))["interface"]
    assert got["cable"] == {"id": made["cable_create"]["id"]} and got["cable_end"] == "A"
    assert got["link_peers"] == [{"__typename": "InterfaceType", "name": "eth0", "device": {"name": "b"}}]
    assert got["connected_endpoints"] == got["link_peers"]
    listed = await api.data("{ cable_list { status b_terminations { ... on InterfaceType { device { name } } } } }")
    assert listed == {"cable_list": [{"status": "planned", "b_terminations": [{"device": {"name": "b"}}]}]}
    # Deleting the cable frees both ends.
    await api.data("mutation($id: ID!) { cable_delete(id: $id) { id } }", id=made["cable_create"]["id"])
    freed = (await api.data(PEERS, id=eb))["interface"]
    assert freed == {"cable": None, "cable_end": None, "link_peers": [], "connected_endpoints": []}


async def test_netbox_cable_rules_refuse_and_write_nothing(api, org):
    lab = Lab(api, org.tenant_ids[0])
    _, a, b = await two_devices(lab)
    ea = await lab.make("interface", device=a, name="eth0", type="TYPE_1000BASE_T")
    eb = await lab.make("interface", device=b, name="eth0", type="TYPE_1000BASE_T")
    ec = await lab.make("interface", device=b, name="eth1", type="TYPE_1000BASE_T")
    virtual = await lab.make("interface", device=b, name="lo0", type="TYPE_VIRTUAL")
    console = await lab.make("console_port", device=b, name="con0")
    power = await lab.make("power_port", device=b, name="psu0")
    await cable(lab, [end("interface", ea)], [end("interface", eb)])
    cases = [
        # an endpoint that already has a cable
        ([end("interface", ea)], [end("interface", ec)], "CONFLICT", "a_terminations"),
        # a virtual interface takes no cable
        ([end("interface", ec)], [end("interface", virtual)], "BAD_USER_INPUT", "b_terminations"),
        # incompatible ends
        ([end("consoleport", console)], [end("powerport", power)], "BAD_USER_INPUT", "b_terminations"),
        # one end: one kind of endpoint
        ([end("interface", ec), end("consoleport", console)], [end("interface", eb)], "BAD_USER_INPUT", "a_terminations"),
        # an end with nothing on it
        ([], [end("interface", ec)], "BAD_USER_INPUT", "a_terminations"),
    ]
    before = await api.data("{ cable_list { id } cable_termination_list { id } interface_list { name cable { id } } }")
    for a_end, b_end, code, field in cases:
        error = await api.error(CABLE, i={"a_terminations": a_end, "b_terminations": b_end, "tenant": lab.tenant})
        assert error["extensions"] == {"code": code, "field": field}, (a_end, b_end, error)
    assert await api.data("{ cable_list { id } cable_termination_list { id } interface_list { name cable { id } } }") == before


async def test_a_path_through_patch_panels(api, org):
    """a.eth0 → pp1 front 1 | pp1 rear (2 positions) ⇄ pp2 rear | pp2 front 1 → b.eth0, and
    position 2 carries a.eth1 to b.eth1 the same way."""
    lab = Lab(api, org.tenant_ids[0])
    c, a, b = await two_devices(lab)
    panel = await lab.device_type(c, "Panel")
    pp1, pp2 = await lab.device(c, panel, "pp1"), await lab.device(c, panel, "pp2")
    rears, fronts = {}, {}
    for pp in (pp1, pp2):
        rears[pp] = await lab.make("rear_port", device=pp, name="R", type="TYPE_LC", positions=2)
        for position in (1, 2):
            fronts[pp, position] = await lab.make("front_port", device=pp, name=f"F{position}", type="TYPE_LC")
            await lab.make("port_mapping", front_port=fronts[pp, position], rear_port=rears[pp], rear_port_position=position)
    ports = {}
    for device in (a, b):
        for n in (0, 1):
            ports[device, n] = await lab.make("interface", device=device, name=f"eth{n}", type="TYPE_10GBASE_X_SFPP")
    for n in (0, 1):
        await cable(lab, [end("interface", ports[a, n])], [end("frontport", fronts[pp1, n + 1])])
        await cable(lab, [end("frontport", fronts[pp2, n + 1])], [end("interface", ports[b, n])])
    trunk = await cable(lab, [end("rearport", rears[pp1])], [end("rearport", rears[pp2])])
    for n in (0, 1):
        got = (await api.data(PEERS, id=ports[a, n]))["interface"]
        assert got["link_peers"] == [{"__typename": "FrontPortType", "name": f"F{n + 1}"}]
        assert got["connected_endpoints"] == [{"__typename": "InterfaceType", "name": f"eth{n}", "device": {"name": "b"}}]
    trace = await api.data(
        "query($id: ID!) { interface(id: $id) { trace { near_end { ... on InterfaceType { name } ... on FrontPortType { name } ... on RearPortType { name } }"
        " cable { id } far_end { ... on InterfaceType { name } ... on FrontPortType { name } ... on RearPortType { name } } } } }",
        id=ports[a, 1],
    )
    hops = [([p["name"] for p in h["near_end"]], [p["name"] for p in h["far_end"]]) for h in trace["interface"]["trace"]]
    assert hops == [(["eth1"], ["F2"]), (["R"], ["R"]), (["F2"], ["eth1"])]
    # The trunk is gone: the path stops at the panel, nothing is connected.
    await api.data("mutation($id: ID!) { cable_delete(id: $id) { id } }", id=trunk)
    got = (await api.data(PEERS, id=ports[a, 0]))["interface"]
    assert got["connected_endpoints"] == [] and got["link_peers"] == [{"__typename": "FrontPortType", "name": "F1"}]


async def test_power_ports_take_outlets_and_feeds(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c, a, b = await two_devices(lab)
    psu = await lab.make("power_port", device=a, name="PSU1")
    outlet = await lab.make("power_outlet", device=b, name="out1")
    await cable(lab, [end("powerport", psu)], [end("poweroutlet", outlet)])
    panel = await lab.make("power_panel", site=c["site"], name="PP-A")
    feed = await lab.make("power_feed", power_panel=panel, name="A1", voltage=230, amperage=16)
    psu2 = await lab.make("power_port", device=a, name="PSU2")
    await cable(lab, [end("powerfeed", feed)], [end("powerport", psu2)])
    got = await api.data(
        "query($id: ID!) { power_feed(id: $id) { link_peers { ... on PowerPortType { name } } connected_endpoints { ... on PowerPortType { name } } } }",
        id=feed,
    )
    assert got["power_feed"] == {"link_peers": [{"name": "PSU2"}], "connected_endpoints": [{"name": "PSU2"}]}


async def test_union_lists_hide_what_the_reader_may_not_view(api, org):
    """A reader without view on interfaces sees cables, but not the interfaces on their
    ends: a_terminations, link_peers and connected_endpoints leave them out."""
    from models.registry import specs

    lab = Lab(api, org.tenant_ids[0])
    _, a, b = await two_devices(lab)
    ea = await lab.make("interface", device=a, name="eth0", type="TYPE_1000BASE_T")
    front = await lab.make("front_port", device=b, name="F1", type="TYPE_LC")
    await cable(lab, [end("interface", ea)], [end("frontport", front)])
    grants = {spec.type_key: ["view"] for spec in specs().values() if spec.type_key != "interface"}
    reader = api.as_key(await org.user_key(grants=grants))
    query = "{ cable_list { a_terminations { __typename } b_terminations { __typename } } front_port_list { link_peers { __typename } } }"
    admin = await api.data(query)
    assert admin["cable_list"] == [{"a_terminations": [{"__typename": "InterfaceType"}], "b_terminations": [{"__typename": "FrontPortType"}]}]
    assert admin["front_port_list"] == [{"link_peers": [{"__typename": "InterfaceType"}]}]
    hidden = await reader.data(query)
    assert hidden["cable_list"] == [{"a_terminations": [], "b_terminations": [{"__typename": "FrontPortType"}]}]
    assert hidden["front_port_list"] == [{"link_peers": []}]
    # Front and rear ports pass signals on: like NetBox, they answer no connected_endpoints.
    fields = await api.data('{ __type(name: "FrontPortType") { fields { name } } }')
    assert "connected_endpoints" not in {f["name"] for f in fields["__type"]["fields"]}


async def test_cable_ends_one_may_not_see_answer_like_nothing(api, org):
    """A writer with rights on cables but no view on interfaces cannot cable one: the
    answer is the same as for an interface that does not exist, and nothing is written."""
    import uuid

    from models.registry import specs

    lab = Lab(api, org.tenant_ids[0])
    _, a, b = await two_devices(lab)
    ea = await lab.make("interface", device=a, name="eth0", type="TYPE_1000BASE_T")
    eb = await lab.make("interface", device=b, name="eth0", type="TYPE_1000BASE_T")
    grants = {spec.type_key: ["view", "add", "change", "delete"] for spec in specs().values() if spec.type_key != "interface"}
    writer = api.as_key(await org.user_key(grants=grants))
    nowhere = str(uuid.uuid4())
    answers = []
    for hidden in (ea, nowhere):
        body = await writer.query(CABLE, {"i": {"a_terminations": [end("interface", hidden)], "b_terminations": [end("interface", eb)], "tenant": lab.tenant}})
        (error,) = body["errors"]
        answers.append((error["extensions"], error["message"].replace(hidden, "<id>")))
    assert answers[0] == answers[1] and answers[0][0] == {"code": "NOT_FOUND", "field": "a_terminations"}
    assert await api.data("{ cable_list { id } interface_list { cable { id } } }") == {"cable_list": [], "interface_list": [{"cable": None}, {"cable": None}]}


async def test_trace_and_rack_units_prefetch_through_fragments(api, org):
    """Relations asked below ``trace`` and ``units`` through fragments are loaded too."""
    lab = Lab(api, org.tenant_ids[0])
    c, a, b = await two_devices(lab)
    ea = await lab.make("interface", device=a, name="eth0", type="TYPE_1000BASE_T")
    eb = await lab.make("interface", device=b, name="eth0", type="TYPE_1000BASE_T")
    await cable(lab, [end("interface", ea)], [end("interface", eb)], label="x1")
    query = """
      fragment Hop on CablePathHopType { far_end { ... on InterfaceType { device { name } } } cable { label } }
      query($id: ID!) { interface(id: $id) { trace { ...Hop } } }"""
    got = await api.data(query, id=ea)
    assert got["interface"]["trace"] == [{"far_end": [{"device": {"name": "b"}}], "cable": {"label": "x1"}}]
    rack = await lab.make("rack", name="R1", site=c["site"], u_height=2)
    await lab.update("device", a, rack=rack, position="1", face="FACE_FRONT")
    got = await api.data("query($id: ID!) { rack(id: $id) { units { ... on RackUnitType { unit front { site { name } } } } } }", id=rack)
    assert [u["front"] for u in got["rack"]["units"]] == [None, {"site": {"name": "AMS1"}}]
