"""Observations: what a discovery read, stored beside intent (jobs/observations.py) and
read through the API (``device { observed { … } }``). Facts come from snmpsim serving the
recordings in ../shared/data/snmp; what is expected is computed from the recordings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dcim_lab import Lab
from snmp_agent import RECORDINGS, SNMP_DATA, Recording, SnmpAgent, community_of, expected_arp, expected_interfaces, expected_lldp

from jobs.observations import store_observation
from snmp import DeviceFacts, SnmpV2c, Target, WalkEndedEarly, discover

SECTIONS = frozenset({"interfaces", "ip_addresses", "lldp", "arp"})
ARISTA = next(path for path in RECORDINGS if path.stem == "arista_eos")

OBSERVED = """query($id: ID!) { device(id: $id) { serial observed { reachable sys_object_id platform version serial first_seen last_seen
  interfaces { if_index name mtu oper_status } lldp_neighbours { local_port_num chassis_id port_id system_name management_addresses }
  arp_entries { if_index ip mac_address } ip_addresses { address } } } }"""


@pytest.fixture(scope="module")
def arista_facts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeviceFacts]:
    agent = SnmpAgent(tmp_path_factory.mktemp("snmpsim"), data_dirs=[SNMP_DATA])
    with agent.start(probe_community=community_of(ARISTA)):
        yield discover(Target("127.0.0.1", agent.port, timeout=5), SnmpV2c(community_of(ARISTA)), sections=SECTIONS)


async def _store(db: Any, org: Any, device: str, facts: DeviceFacts, seen: datetime) -> None:
    import uuid

    async with db.system_transaction() as conn:
        await conn.run_sync(
            lambda sync: store_observation(
                sync, tenant_id=org.tenant_ids[0], device_id=uuid.UUID(device), address="127.0.0.1", facts=facts, sections=SECTIONS, seen=seen
            )
        )


async def test_a_discovery_is_stored_beside_intent(api, db, org, arista_facts):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "7050"), "leaf-1", serial="MODELLED-1")
    first = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    await _store(db, org, device, arista_facts, first)
    answer = (await api.data(OBSERVED, id=device))["device"]
    recording = Recording(ARISTA)
    observed = answer["observed"]
    assert answer["serial"] == "MODELLED-1", "intent is never overwritten"
    assert (observed["reachable"], observed["platform"], observed["version"], observed["serial"]) == (True, "eos", "4.15.3F", "JPE00000000")
    assert observed["sys_object_id"] == arista_facts.system.object_id  # type: ignore[union-attr]
    assert {i["if_index"]: i["name"] for i in observed["interfaces"]} == expected_interfaces(recording)
    ethernet1 = next(i for i in observed["interfaces"] if i["if_index"] == 1)
    assert ethernet1["mtu"] == 9214
    assert {(n["local_port_num"], n["chassis_id"], n["port_id"], n["system_name"], tuple(n["management_addresses"])) for n in observed["lldp_neighbours"]} == {
        (port, chassis, port_id, name or "", tuple(addresses)) for port, chassis, port_id, name, addresses in expected_lldp(recording)
    }
    assert {(e["if_index"], e["ip"], e["mac_address"].lower()) for e in observed["arp_entries"]} == {
        (i, ip, mac.lower()) for i, ip, mac in expected_arp(recording)
    }
    assert "172.20.21.16" in {a["address"].split("/")[0] for a in observed["ip_addresses"]}

    # Rediscovered an hour later: the same rows, seen again; nothing doubled.
    later = first + timedelta(hours=1)
    await _store(db, org, device, arista_facts, later)
    again = (await api.data(OBSERVED, id=device))["device"]["observed"]
    assert len(again["interfaces"]) == len(observed["interfaces"]) and len(again["arp_entries"]) == len(observed["arp_entries"])
    assert again["first_seen"] == observed["first_seen"] and again["last_seen"] != observed["last_seen"]


async def test_what_is_gone_goes_unless_its_walk_failed(api, db, org, arista_facts):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "7050"), "leaf-2")
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    await _store(db, org, device, arista_facts, start)
    fewer = dataclasses.replace(arista_facts, interfaces=arista_facts.interfaces[1:])
    broken = dataclasses.replace(fewer, errors=(WalkEndedEarly("interfaces", "blanked value"),))
    await _store(db, org, device, broken, start + timedelta(minutes=1))
    indexes = {i["if_index"] for i in (await api.data(OBSERVED, id=device))["device"]["observed"]["interfaces"]}
    assert arista_facts.interfaces[0].if_index in indexes, "a failed walk does not say the interface is gone"
    await _store(db, org, device, fewer, start + timedelta(minutes=2))
    indexes = {i["if_index"] for i in (await api.data(OBSERVED, id=device))["device"]["observed"]["interfaces"]}
    assert arista_facts.interfaces[0].if_index not in indexes and len(indexes) == len(fewer.interfaces)

    # Unreachable: said so, and what it said last time stays.
    silent = DeviceFacts(host="127.0.0.1", port=161)
    await _store(db, org, device, silent, start + timedelta(minutes=3))
    observed = (await api.data(OBSERVED, id=device))["device"]["observed"]
    assert observed["reachable"] is False and observed["platform"] == "eos" and len(observed["interfaces"]) == len(fewer.interfaces)


async def test_observations_are_read_only_and_tenant_scoped(api, db, org, arista_facts):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "7050"), "leaf-3")
    await _store(db, org, device, arista_facts, datetime.now(UTC))
    schema = (await api.data('{ __type(name: "Mutation") { fields { name } } }'))["__type"]["fields"]
    assert not [f["name"] for f in schema if "observ" in f["name"]], "no mutation writes observations"
    other = api.as_key(
        await org.user_key(grants={"device": ["view"], "device_observation": ["view"], "observed_interface": ["view"]}, tenant_ids=[org.tenant_ids[1]])
    )
    assert (await other.data("{ device_observation_list { id } observed_interface_list { id } }")) == {
        "device_observation_list": [],
        "observed_interface_list": [],
    }
    no_grant = api.as_key(await org.user_key(grants={"device": ["view"]}))
    assert (await no_grant.data(OBSERVED, id=device))["device"]["observed"] is None
    listed = await api.data('{ observed_interface_list(filters: {device: {name: {exact: "leaf-3"}}}) { name } }')
    assert len(listed["observed_interface_list"]) == len(arista_facts.interfaces)
