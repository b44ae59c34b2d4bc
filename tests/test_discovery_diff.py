"""Discovery differences (resolvers/discovery_diff.py) and adopting them
(resolvers/discovery_adopt.py), against what snmpsim's arista_eos recording says: intent is
modelled to differ from it on purpose, each difference is asserted, then a chosen set is
adopted."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from factories import change_settings
from snmp_agent import RECORDINGS, SNMP_DATA, SnmpAgent, community_of

from jobs.observations import store_observation
from models.changelog import ObjectChange
from resolvers.discovery_adopt import interface_type
from resolvers.discovery_diff import canonical_port, parse_difference_id, short_name
from snmp import ArpEntry, DeviceFacts, SnmpV2c, Target, WalkEndedEarly, discover

SECTIONS = frozenset({"interfaces", "ip_addresses", "lldp", "arp"})
ARISTA = next(path for path in RECORDINGS if path.stem == "arista_eos")
SEEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

FIELDS = """id kind field observed intended adoptable device { name } interface { name } observed_interface { name }
  observed_lldp_neighbour { system_name } neighbour_device { name } neighbour_interface { name } cable { id } ip_address { address }"""
DIFFERENCES = "query($id: ID!) { device(id: $id) { differences { " + FIELDS + " } } }"
LIST = "query($f: DiscoveryDifferenceFilter) { discovery_difference_list(filters: $f) { " + FIELDS + " } }"
ADOPT = "mutation($d: [ID!]!) { discovery_adopt(differences: $d) { adopted request_id } }"


@pytest.fixture(scope="module")
def arista_facts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeviceFacts]:
    agent = SnmpAgent(tmp_path_factory.mktemp("snmpsim"), data_dirs=[SNMP_DATA])
    with agent.start(probe_community=community_of(ARISTA)):
        facts = discover(Target("127.0.0.1", agent.port, timeout=5), SnmpV2c(community_of(ARISTA)), sections=SECTIONS)
    # The recording has one ARP entry (172.20.21.1); a second neighbour, a link-local and a
    # loopback one show what is known, unknown and skipped.
    extra = tuple(
        ArpEntry(if_index=2000013, ip=ip, mac=mac, state=None, source="test")
        for ip, mac in (("172.20.21.2", "c4:7d:4f:00:00:02"), ("169.254.0.9", "c4:7d:4f:00:00:03"), ("127.0.0.2", "c4:7d:4f:00:00:04"))
    )
    yield dataclasses.replace(facts, arp_entries=facts.arp_entries + extra)


async def store(db: Any, tenant: Any, device: str, facts: DeviceFacts) -> None:
    async with db.system_transaction() as conn:
        await conn.run_sync(
            lambda sync: store_observation(sync, tenant_id=tenant, device_id=uuid.UUID(device), address="127.0.0.1", facts=facts, sections=SECTIONS, seen=SEEN)
        )


async def interface(lab: Lab, device: str, name: str, type: str = "TYPE_10GBASE_X_SFPP", **fields: Any) -> str:
    return await lab.make("interface", device=device, name=name, type=type, **fields)


async def cable(lab: Lab, a: str, b: str) -> str:
    return await lab.make("cable", a_terminations=[{"type": "dcim.interface", "id": a}], b_terminations=[{"type": "dcim.interface", "id": b}])


@dataclasses.dataclass
class Modelled:
    lab: Lab
    device: str
    ids: dict[str, str]


async def model(api: Any, tenant: Any, name: str = "leaf-1", site: str | None = None) -> Modelled:
    """The arista modelled to differ from what it says, with its LLDP neighbours."""
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    if site is not None:
        c["site"] = site
    ios = await lab.make("platform", name="Cisco IOS", slug="ios")
    kind = await lab.device_type(c, "7050")
    device = await lab.device(c, kind, name, serial="X", platform=ios, local_context_data={"software_version": "4.20.1F"})
    ids = {"device": device, "site": c["site"]}
    ids["Ethernet1"] = await interface(lab, device, "Ethernet1", mtu=1500)
    ids["Ethernet3"] = await interface(lab, device, "Ethernet3", speed=1_000_000)
    ids["Ethernet43"] = await interface(lab, device, "Ethernet43")
    wrong = await lab.make("mac_address", mac_address="00:00:5E:00:53:01", assigned_object={"type": "dcim.interface", "id": ids["Ethernet43"]})
    await lab.update("interface", ids["Ethernet43"], primary_mac_address=wrong)
    ids["Ethernet44"] = await interface(lab, device, "Ethernet44", enabled=False)
    ids["Ethernet45"] = await interface(lab, device, "Ethernet45")
    for port in ("Ethernet46", "Ethernet47", "Ethernet48"):
        ids[port] = await interface(lab, device, port)
    ids["Ethernet99"] = await interface(lab, device, "Ethernet99")
    ids["Loopback0"] = await interface(lab, device, "Loopback0", type="TYPE_VIRTUAL")
    ids["Vlan13"] = await interface(lab, device, "Vlan13", type="TYPE_VIRTUAL")

    core = await lab.device(c, kind, "4900M-CORE")
    ids["core"], ids["Te1/3"] = core, await interface(lab, core, "TenGigabitEthernet1/3")
    ids["cable48"] = await cable(lab, ids["Ethernet48"], ids["Te1/3"])
    estudio = await lab.device(c, kind, "3750E-Estudio1")
    ids["estudio"] = estudio
    ids["Te1/0/1"] = await interface(lab, estudio, "TenGigabitEthernet1/0/1")
    ids["Te1/0/2"] = await interface(lab, estudio, "TenGigabitEthernet1/0/2")
    ids["cable47"] = await cable(lab, ids["Ethernet47"], ids["Te1/0/2"])
    # The neighbour on Ethernet1 says only MACs: found by its chassis MAC, its port by MAC.
    nas = await lab.device(c, kind, "nas-1")
    ids["nas"], ids["eth0"] = nas, await interface(lab, nas, "eth0", type="TYPE_1000BASE_T")
    nas_mac = await lab.make("mac_address", mac_address="00:1B:21:BB:E6:F0", assigned_object={"type": "dcim.interface", "id": ids["eth0"]})
    await lab.update("interface", ids["eth0"], primary_mac_address=nas_mac)
    # IPAM: the gateway the arista has in ARP is known; its prefix gives new addresses their length.
    await lab.make("prefix", prefix="172.20.21.0/24")
    ids["gateway"] = await lab.make("ip_address", address="172.20.21.1/24")
    return Modelled(lab, device, ids)


async def change_ids(db: Any) -> dict[uuid.UUID, uuid.UUID]:
    """Every change-log entry: its id and request."""
    table = ObjectChange.__table__
    async with db.system_transaction() as conn:
        return {row.id: row.request_id for row in (await conn.execute(sa.select(table.c.id, table.c.request_id))).all()}


def by_kind(differences: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for d in differences:
        grouped.setdefault(d["kind"], []).append(d)
    return grouped


def one(differences: list[dict[str, Any]], kind: str, **where: Any) -> dict[str, Any]:
    found = [d for d in differences if d["kind"] == kind and all(_get(d, k) == v for k, v in where.items())]
    assert len(found) == 1, (kind, where, found)
    return found[0]


def _get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("__"):
        d = d.get(part) if isinstance(d, dict) else None  # type: ignore[assignment]
    return d


async def differences(api: Any, device: str) -> list[dict[str, Any]]:
    return (await api.data(DIFFERENCES, id=device))["device"]["differences"]  # type: ignore[no-any-return]


async def test_each_difference_is_found(api, db, org, arista_facts):
    m = await model(api, org.tenant_ids[0])
    assert await differences(api, m.device) == [], "no observation, no differences"
    await store(db, org.tenant_ids[0], m.device, arista_facts)
    found = await differences(api, m.device)
    kinds = by_kind(found)

    serial = one(found, "serial_mismatch")
    assert (serial["field"], serial["observed"], serial["intended"], serial["adoptable"]) == ("serial", "JPE00000000", "X", True)
    platform = one(found, "platform_mismatch")
    assert (platform["observed"], platform["intended"], platform["adoptable"]) == ("eos", "ios", False)
    version = one(found, "version_mismatch")
    assert (version["observed"], version["intended"], version["adoptable"]) == ("4.15.3F", "4.20.1F", False)

    mtu = one(found, "interface_mtu")
    assert (mtu["interface"]["name"], mtu["observed_interface"]["name"], mtu["observed"], mtu["intended"]) == ("Ethernet1", "Ethernet1", "9214", "1500")
    speed = one(found, "interface_speed")
    assert (speed["interface"]["name"], speed["observed"], speed["intended"]) == ("Ethernet3", "10000000 kbps", "1000000 kbps")
    mac = one(found, "interface_mac")
    assert (mac["interface"]["name"], mac["observed"], mac["intended"]) == ("Ethernet43", "00:1C:73:65:8E:64", "00:00:5E:00:53:01")
    admin = one(found, "interface_admin")
    assert (admin["interface"]["name"], admin["observed"], admin["intended"]) == ("Ethernet44", "enabled", "disabled")
    oper = one(found, "interface_oper")
    assert (oper["interface"]["name"], oper["observed"], oper["adoptable"]) == ("Ethernet45", "notpresent", False)
    absent = one(found, "interface_absent")
    assert (absent["interface"]["name"], absent["adoptable"]) == ("Ethernet99", False), "a virtual interface is never absent"
    unmodelled = {d["observed"] for d in kinds["interface_unmodelled"]}
    assert "Ethernet2" in unmodelled and "Port-Channel1" in unmodelled and "Ethernet1" not in unmodelled
    assert len(unmodelled) == len(arista_facts.interfaces) - 9  # 9 of the observed interfaces are modelled
    assert all(d["interface"] is None and d["observed_interface"]["name"] == d["observed"] for d in kinds["interface_unmodelled"])

    confirmed = one(found, "cable_confirmed")
    assert (confirmed["interface"]["name"], confirmed["neighbour_device"]["name"], confirmed["neighbour_interface"]["name"]) == (
        "Ethernet48",
        "4900M-CORE",
        "TenGigabitEthernet1/3",
    )
    assert confirmed["cable"]["id"] == m.ids["cable48"] and confirmed["observed_lldp_neighbour"]["system_name"] == "4900M-CORE.example.net"
    contradicted = one(found, "cable_contradicted")
    assert (contradicted["interface"]["name"], contradicted["neighbour_interface"]["name"], contradicted["cable"]["id"]) == (
        "Ethernet47",
        "TenGigabitEthernet1/0/1",
        m.ids["cable47"],
    )
    assert contradicted["intended"] == "TenGigabitEthernet1/0/2" and contradicted["adoptable"] is False
    missing = one(found, "cable_missing")
    assert (missing["interface"]["name"], missing["neighbour_device"]["name"], missing["neighbour_interface"]["name"], missing["adoptable"]) == (
        "Ethernet1",
        "nas-1",
        "eth0",
        True,
    )
    unknown = one(found, "neighbour_unknown")
    assert unknown["interface"]["name"] == "Ethernet3" and unknown["neighbour_device"] is None, "ports 5 and 6 are not modelled here"

    address = one(found, "address_unknown")
    assert (address["observed"], address["interface"]["name"], address["adoptable"]) == ("172.20.21.16/24", "Vlan13", True)
    arp = one(found, "arp_unknown")
    assert (arp["observed"], arp["interface"]["name"], arp["adoptable"]) == ("172.20.21.2", "Vlan13", True), "known, link-local and loopback are skipped"

    assert len({d["id"] for d in found}) == len(found)
    assert parse_difference_id(serial["id"]) is not None and base64.urlsafe_b64decode(serial["id"] + "==").decode().startswith("serial_mismatch:")
    assert await differences(api, m.device) == found, "deterministic: the same ids and order on every read"

    only = await api.data("query($id: ID!) { device(id: $id) { differences(kinds: [KIND_INTERFACE_MTU, KIND_CABLE_MISSING]) { kind } } }", id=m.device)
    assert sorted(d["kind"] for d in only["device"]["differences"]) == ["cable_missing", "interface_mtu"]


async def test_a_failed_interfaces_walk_says_nothing_is_absent(api, db, org, arista_facts):
    m = await model(api, org.tenant_ids[0])
    broken = dataclasses.replace(arista_facts, errors=(*arista_facts.errors, WalkEndedEarly("interfaces", "blanked value")))
    await store(db, org.tenant_ids[0], m.device, broken)
    kinds = by_kind(await differences(api, m.device))
    assert "interface_absent" not in kinds and "interface_mtu" in kinds


async def test_adopt_applies_what_is_chosen_as_one_request(api, db, org, arista_facts):
    m = await model(api, org.tenant_ids[0])
    await store(db, org.tenant_ids[0], m.device, arista_facts)
    before = await differences(api, m.device)
    chosen = [
        one(before, "serial_mismatch"),
        one(before, "interface_mtu"),
        one(before, "interface_speed"),
        one(before, "interface_mac"),
        one(before, "interface_admin"),
        one(before, "interface_unmodelled", observed="Ethernet2"),
        one(before, "interface_unmodelled", observed="Port-Channel1"),
        one(before, "address_unknown"),
        one(before, "arp_unknown"),
        one(before, "cable_missing"),
    ]
    logged_before = await change_ids(db)
    answer = (await api.data(ADOPT, d=[d["id"] for d in chosen]))["discovery_adopt"]
    assert answer["adopted"] == [d["id"] for d in chosen]

    intent = await api.data(
        """query($id: ID!) { device(id: $id) { serial interfaces { name type mtu speed enabled description
             primary_mac_address { mac_address } cable { id } ip_addresses { address } } } }""",
        id=m.device,
    )
    device = intent["device"]
    interfaces = {i["name"]: i for i in device["interfaces"]}
    assert device["serial"] == "JPE00000000"
    assert interfaces["Ethernet1"]["mtu"] == 9214 and interfaces["Ethernet3"]["speed"] == 10_000_000
    assert interfaces["Ethernet43"]["primary_mac_address"]["mac_address"] == "00:1C:73:65:8E:64" and interfaces["Ethernet44"]["enabled"] is True
    assert {k: interfaces["Ethernet2"][k] for k in ("type", "mtu", "speed", "enabled")} == {
        "type": "10gbase-x-sfpp",
        "mtu": 9214,
        "speed": 10_000_000,
        "enabled": True,
    }
    assert interfaces["Ethernet2"]["description"] == "\\A EDICION-2\\" and interfaces["Ethernet2"]["primary_mac_address"]["mac_address"] == "00:1C:73:65:8E:3B"
    assert interfaces["Port-Channel1"]["type"] == "lag"
    assert [a["address"] for a in interfaces["Vlan13"]["ip_addresses"]] == ["172.20.21.16/24"]
    assert interfaces["Ethernet1"]["cable"] is not None, "the cable LLDP saw to nas-1"
    arp = await api.data('{ ip_address_list(filters: {address: {exact: "172.20.21.2/24"}}) { address assigned_object { __typename } } }')
    assert arp["ip_address_list"] == [{"address": "172.20.21.2/24", "assigned_object": None}], "the containing prefix's length, unassigned"

    # One change-log request holds every change.
    logged = {change: request for change, request in (await change_ids(db)).items() if change not in logged_before}
    assert set(logged.values()) == {uuid.UUID(answer["request_id"])} and len(logged) >= len(chosen)

    after = await differences(api, m.device)
    ids_after = {d["id"] for d in after}
    assert not ids_after & {d["id"] for d in chosen}, "what was adopted no longer differs"
    for kind in ("platform_mismatch", "version_mismatch", "interface_oper", "interface_absent", "cable_confirmed", "cable_contradicted"):
        assert one(before, kind)["id"] in ids_after, f"{kind} was not asked for and stays"
    assert one(after, "interface_unmodelled", observed="Ethernet4")["id"] == one(before, "interface_unmodelled", observed="Ethernet4")["id"]
    assert one(after, "cable_confirmed", interface__name="Ethernet1")["neighbour_device"]["name"] == "nas-1"
    assert one(after, "interface_oper", interface__name="Ethernet2")["observed"] == "down", "the new interface is compared like any other"

    # Adopting again: the ids are stale now, refused naming the difference; nothing written.
    error = await api.error(ADOPT, d=[one(after, "interface_unmodelled", observed="Ethernet4")["id"], chosen[0]["id"]])
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "differences.1"
    assert one(await differences(api, m.device), "interface_unmodelled", observed="Ethernet4")


async def test_adopt_refuses_what_it_cannot_apply(api, db, org, arista_facts):
    m = await model(api, org.tenant_ids[0])
    await store(db, org.tenant_ids[0], m.device, arista_facts)
    found = await differences(api, m.device)
    mtu = one(found, "interface_mtu")["id"]
    for ids, field in (
        ([mtu, one(found, "platform_mismatch")["id"]], "differences.1"),  # not adoptable
        (["not-an-id"], "differences.0"),
        ([mtu, base64.urlsafe_b64encode(f"interface_mtu:{uuid.uuid4()}:Ethernet1=9214".encode()).decode()], "differences.1"),  # unknown device
        ([], "differences"),
    ):
        error = await api.error(ADOPT, d=ids)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), ids
    # Intent changed since the read: the MTU no longer differs, so the id is stale.
    await m.lab.update("interface", m.ids["Ethernet1"], mtu=9214)
    error = await api.error(ADOPT, d=[mtu])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "differences.0")
    assert "interface_mtu" not in by_kind(await differences(api, m.device))
    # The observation changed since the read: the id names the value seen, so it is stale too.
    serial = one(found, "serial_mismatch")["id"]
    await store(db, org.tenant_ids[0], m.device, dataclasses.replace(arista_facts, system=dataclasses.replace(arista_facts.system, serial="JPE11111111")))
    error = await api.error(ADOPT, d=[serial])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "differences.0")
    assert one(await differences(api, m.device), "serial_mismatch")["observed"] == "JPE11111111"


async def test_adopt_needs_the_grants_of_what_it_writes(api, db, org, arista_facts):
    m = await model(api, org.tenant_ids[0])
    await store(db, org.tenant_ids[0], m.device, arista_facts)
    found = await differences(api, m.device)
    view = {t: ["view"] for t in ("device", "device_observation", "observed_interface", "interface", "mac_address", "ip_address", "observed_address")}
    reader = api.as_key(await org.user_key(grants={**view, "interface": ["view", "change"]}, tenant_ids=[org.tenant_ids[0]]))
    chosen = [one(found, "interface_mtu")["id"], one(found, "interface_unmodelled", observed="Ethernet2")["id"]]
    error = await reader.error(ADOPT, d=chosen)
    assert error["extensions"]["code"] == "FORBIDDEN" and "add interface" in error["message"]
    after = await differences(api, m.device)
    assert {d["id"] for d in after} == {d["id"] for d in found}, "nothing was written"
    # With the grant to change interfaces alone, the MTU is adopted.
    assert (await reader.data(ADOPT, d=chosen[:1]))["discovery_adopt"]["adopted"] == chosen[:1]


async def test_differences_are_only_those_one_may_see(api, db, org, arista_facts):
    mine = await model(api, org.tenant_ids[0])
    theirs = await model(api, org.tenant_ids[1], name="leaf-9")
    await store(db, org.tenant_ids[0], mine.device, arista_facts)
    await store(db, org.tenant_ids[1], theirs.device, arista_facts)
    everything = {t: ["view"] for t in ("device", "device_observation", "observed_interface", "observed_neighbour", "interface", "cable", "platform")}
    everything["cable_termination"] = ["view"]
    reader = api.as_key(await org.user_key(grants=everything, tenant_ids=[org.tenant_ids[0]]))
    listed = (await reader.data(LIST))["discovery_difference_list"]
    assert {d["device"]["name"] for d in listed} == {"leaf-1"}
    assert (await reader.data(DIFFERENCES.replace("device(id", "device(id"), id=mine.device))["device"]["differences"]
    error = await reader.error(DIFFERENCES, id=theirs.device)
    assert error["extensions"]["code"] == "NOT_FOUND"
    # Another tenant's difference, by its id: unknown to this reader, even with the grant to adopt it.
    other = one(await differences(api, theirs.device), "interface_mtu")["id"]
    writer = api.as_key(await org.user_key(grants={**everything, "interface": ["view", "change"]}, tenant_ids=[org.tenant_ids[0]]))
    error = await writer.error(ADOPT, d=[other])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "differences.0")
    assert one(await differences(api, theirs.device), "interface_mtu")["id"] == other
    # Kinds whose rows the reader may not view are not computed (not guessed from half the data).
    kinds = {d["kind"] for d in listed}
    assert "address_unknown" not in kinds and "arp_unknown" not in kinds and "interface_mac" not in kinds
    assert {"interface_mtu", "cable_confirmed", "platform_mismatch"} <= kinds
    no_terminations = api.as_key(await org.user_key(grants={**everything, "cable_termination": []}, tenant_ids=[org.tenant_ids[0]]))
    kinds = {d["kind"] for d in (await no_terminations.data(LIST))["discovery_difference_list"]}
    assert "interface_mtu" in kinds and not kinds & {"cable_confirmed", "cable_contradicted", "cable_missing", "neighbour_unknown"}
    only_devices = api.as_key(await org.user_key(grants={"device": ["view"], "device_observation": ["view"]}, tenant_ids=[org.tenant_ids[0]]))
    assert {d["kind"] for d in (await only_devices.data(LIST))["discovery_difference_list"]} == {"serial_mismatch", "version_mismatch"}
    nobody = api.as_key(await org.user_key(grants={"device": ["view"]}, tenant_ids=[org.tenant_ids[0]]))
    assert (await nobody.error(LIST))["extensions"]["code"] == "FORBIDDEN"
    assert (await nobody.data(DIFFERENCES, id=mine.device))["device"]["differences"] == []


async def test_lists_across_a_site_or_tenant_in_a_fixed_number_of_statements(api, db, org, arista_facts):
    tenant = org.tenant_ids[0]
    m = await model(api, tenant)
    await store(db, tenant, m.device, arista_facts)
    query = """query($f: DiscoveryDifferenceFilter) { discovery_difference_list(filters: $f) { id kind
      device { name site { name } } interface { name device { name } } neighbour_device { name } cable { id } } }"""
    nested = "{ device_list { name differences(kinds: [KIND_INTERFACE_MTU, KIND_CABLE_CONFIRMED]) { kind interface { name device { name } } } } }"
    single = await api.sql_statements(query, f={"site": [m.ids["site"]]})
    nested_single = await api.sql_statements(nested)
    for n in range(2, 6):  # more devices at the site, each observed
        kind = await m.lab.make(
            "device_type", manufacturer=(await m.lab.ids("{ manufacturer_list { id } }"))["manufacturer_list"][0]["id"], model=f"T{n}", slug=f"t{n}"
        )
        role = (await m.lab.ids("{ device_role_list { id } }"))["device_role_list"][0]["id"]
        extra = await m.lab.make("device", name=f"leaf-{n}", device_type=kind, role=role, site=m.ids["site"], serial="Y")
        await interface(m.lab, extra, "Ethernet1", mtu=1500)
        await store(db, tenant, extra, arista_facts)
    several = await api.sql_statements(query, f={"site": [m.ids["site"]]})
    assert several == single
    listed = (await api.data(query, f={"site": [m.ids["site"]]}))["discovery_difference_list"]
    assert {d["device"]["name"] for d in listed} == {"leaf-1", "leaf-2", "leaf-3", "leaf-4", "leaf-5"}
    by_tenant = (await api.data(query, f={"tenant": [str(tenant)], "kind": ["KIND_SERIAL_MISMATCH"]}))["discovery_difference_list"]
    assert [d["device"]["name"] for d in by_tenant] == ["leaf-1", "leaf-2", "leaf-3", "leaf-4", "leaf-5"]
    # The same through Device.differences, for a list of devices: one computation per level.
    assert await api.sql_statements(nested) == nested_single
    answer = {d["name"]: d["differences"] for d in (await api.data(nested))["device_list"]}
    assert answer["leaf-3"] == [{"kind": "interface_mtu", "interface": {"name": "Ethernet1", "device": {"name": "leaf-3"}}}]
    assert [d["kind"] for d in answer["leaf-1"]] == ["interface_mtu", "cable_confirmed"] and answer["4900M-CORE"] == []
    error = await api.error(LIST, f={"device": ["nope"]})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "filters.device.0")
    page = await api.data("{ discovery_difference_list(pagination: {offset: 1, limit: 2}) { id } }")
    assert len(page["discovery_difference_list"]) == 2


async def test_a_neighbour_is_found_by_its_management_address(api, db, org, arista_facts):
    """3750E-Estudio1 modelled under another name: its management address in IPAM finds it,
    its port by the port description LLDP gives (TenGigabitEthernet1/0/1)."""
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "7050")
    device = await lab.device(c, kind, "leaf-1")
    await interface(lab, device, "Ethernet47")
    estudio = await lab.device(c, kind, "estudio-one")
    port = await interface(lab, estudio, "TenGigabitEthernet1/0/1")
    vlan = await interface(lab, estudio, "Vlan1", type="TYPE_VIRTUAL")
    address = await lab.make("ip_address", address="172.20.21.194/24", assigned_object={"type": "dcim.interface", "id": vlan})
    await store(db, org.tenant_ids[0], device, arista_facts)
    # The neighbour's port cabled elsewhere (the local one has no cable): contradicted.
    elsewhere = await cable(lab, port, await interface(lab, estudio, "TenGigabitEthernet1/0/9"))
    contradicted = one(await differences(api, device), "cable_contradicted")
    assert (contradicted["cable"]["id"], contradicted["intended"]) == (elsewhere, "TenGigabitEthernet1/0/1 cabled to TenGigabitEthernet1/0/9")
    await api.data("mutation($id: ID!) { cable_delete(id: $id) { id } }", id=elsewhere)
    missing = one(await differences(api, device), "cable_missing")
    assert (missing["neighbour_device"]["name"], missing["neighbour_interface"]["name"], missing["ip_address"]["address"]) == (
        "estudio-one",
        "TenGigabitEthernet1/0/1",
        "172.20.21.194/24",
    )
    assert address and port
    # Adopted, the cable is there and LLDP confirms it.
    await api.data(ADOPT, d=[missing["id"]])
    confirmed = one(await differences(api, device), "cable_confirmed")
    assert confirmed["neighbour_interface"]["name"] == "TenGigabitEthernet1/0/1" and confirmed["cable"] is not None


async def test_a_cable_to_a_patch_panel_is_not_judged(api, db, org, arista_facts):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "7050")
    device = await lab.device(c, kind, "leaf-1")
    local = await interface(lab, device, "Ethernet48")
    core = await lab.device(c, kind, "4900M-CORE")
    await interface(lab, core, "TenGigabitEthernet1/3")
    panel = await lab.device(c, kind, "panel-1")
    front = await lab.make("front_port", device=panel, name="1", type="TYPE_8P8C")
    await lab.make("cable", a_terminations=[{"type": "dcim.interface", "id": local}], b_terminations=[{"type": "dcim.frontport", "id": front}])
    await store(db, org.tenant_ids[0], device, arista_facts)
    kinds = by_kind(await differences(api, device))
    assert not kinds.keys() & {"cable_confirmed", "cable_contradicted", "cable_missing"}, "its path may well reach the neighbour"


async def test_oversized_and_malformed_input_is_refused(app, api, monkeypatch):
    change_settings(app, monkeypatch, max_list_values=3)
    error = await api.error(ADOPT, d=["a", "b", "c", "d"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "differences")
    error = await api.error(LIST, f={"device": [str(uuid.uuid4()) for _ in range(4)]})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "filters.device")
    error = await api.error(ADOPT, d=["x" * 100_000])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "differences.0")
    for pagination, field in (({"start": "1"}, "pagination.start"), ({"limit": -1}, "pagination.limit"), ({"offset": -1}, "pagination.offset")):
        error = await api.error("query($p: OffsetPaginationInput) { discovery_difference_list(pagination: $p) { id } }", p=pagination)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)


def test_names_and_types():
    assert canonical_port("Te1/3") == canonical_port("TenGigabitEthernet1/3") == "tengigabitethernet1/3"
    assert canonical_port("Gi0/1") == canonical_port("GigabitEthernet0/1") and canonical_port("Et47") == canonical_port("Ethernet47")
    assert canonical_port("Hu0/0/0/1") == canonical_port("HundredGigabitEthernet0/0/0/1")
    assert short_name("4900M-CORE.example.net") == "4900m-core"
    assert interface_type(6, 10_000_000_000) == "10gbase-x-sfpp" and interface_type(6, 1_000_000_000) == "1000base-t"
    assert interface_type(6, 100_000_000_000) == "100gbase-x-qsfp28" and interface_type(6, None) == "other"
    assert (interface_type(24, None), interface_type(161, None), interface_type(53, None), interface_type(1, None)) == ("virtual", "lag", "virtual", "other")
    assert parse_difference_id("x") is None and parse_difference_id(base64.urlsafe_b64encode(b"nope:1:2").decode()) is None
