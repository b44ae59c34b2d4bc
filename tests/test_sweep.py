"""The sweep job (jobs/sweep.py) end to end — snmpsim answering arista_eos's recording at
two loopback addresses of 127.0.0.0/29, a real dramatiq worker asking the six hosts — and
``discovery_candidate_adopt`` (resolvers/sweep.py)."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from snmp_agent import RECORDINGS, SNMP_DATA, SnmpAgent, community_of
from test_jobs_runtime import START, wait_for

from jobs.sweep import hosts
from models.changelog import ObjectChange
from models.discovery import DiscoveryCandidate

ARISTA = next(path for path in RECORDINGS if path.stem == "arista_eos")
ARISTA_OID = "1.3.6.1.4.1.30065.1.3011.7050.1958.128"  # its sysObjectID (1.3.6.1.2.1.1.2.0)
ANSWERING = ("127.0.0.2", "127.0.0.5")

CANDIDATES = """{ discovery_candidate_list(pagination: {limit: 100}) {
    id numid address status sys_object_id sys_name platform vendor device_type_matches first_seen last_seen
    device_type { id } existing_device { id } job { id } snmp_profile { id } } }"""
ADOPT = """mutation($c: [ID!]!, $s: ID!, $r: ID!, $t: ID) {
    discovery_candidate_adopt(candidates: $c, site: $s, role: $r, device_type: $t) {
        id name management_address device_type { id } snmp_profile { id } site { id } role { id } } }"""


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    served = SnmpAgent(tmp_path_factory.mktemp("snmpsim"), data_dirs=[SNMP_DATA], hosts=ANSWERING)
    with served.start(probe_community=community_of(ARISTA)):
        yield served


def test_the_recording_says_the_oid_the_tests_declare():
    line = next(line for line in ARISTA.read_text(encoding="latin-1").splitlines() if line.startswith("1.3.6.1.2.1.1.2.0|"))
    assert line.split("|")[2] == ARISTA_OID


def test_the_hosts_of_a_prefix():
    assert list(hosts(ipaddress.ip_network("127.0.0.0/29"))) == [f"127.0.0.{n}" for n in range(1, 7)]
    assert list(hosts(ipaddress.ip_network("192.0.2.0/31"))) == ["192.0.2.0", "192.0.2.1"]
    assert list(hosts(ipaddress.ip_network("192.0.2.7/32"))) == ["192.0.2.7"]
    assert list(hosts(ipaddress.ip_network("2001:db8::/126"))) == ["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"]


async def _sweep(app: Any, api: Any, tenant: Any, **parameters: Any) -> Any:
    started = (await api.data(START, kind="sweep", p=parameters, t=str(tenant)))["job_start"]
    return await wait_for(app.state.danbyte.db, started["id"], "completed", "failed", "errored", timeout=90), started["id"]


async def test_a_sweep_proposes_each_answering_address_once(app, committed_org, committed_api, worker, agent):
    tenant, other_tenant = committed_org.tenant_ids
    lab = Lab(committed_api, tenant)
    c = await lab.catalogue()
    arista_type = await lab.device_type(c, "7050", sys_object_ids=[ARISTA_OID])
    await lab.device_type(c, "Other", sys_object_ids=["1.3.6.1.4.1.9.1.1"])
    profile = await lab.make("snmp_profile", name="arista", version="V2C", community=community_of(ARISTA), port=agent.port, timeout="2", retries=1)
    parameters = {"prefix": "127.0.0.0/29", "profile": profile, "timeout": 0.3, "retries": 0, "concurrency": 8}

    row, first_job = await _sweep(app, committed_api, tenant, **parameters)
    assert row.status == "completed", (row.error, row.log)
    assert {k: row.result[k] for k in ("asked", "answered", "new", "known")} == {"asked": 6, "answered": 2, "new": 2, "known": 0}
    assert row.progress["done"] == 6 and row.progress["total"] == 6
    first = {c["address"]: c for c in (await committed_api.data(CANDIDATES))["discovery_candidate_list"]}
    assert sorted(first) == list(ANSWERING), "the four silent hosts are not candidates"
    for candidate in first.values():
        assert candidate["status"] == "new" and candidate["existing_device"] is None
        assert candidate["device_type"] == {"id": arista_type} and candidate["device_type_matches"] == 1
        assert (candidate["sys_object_id"], candidate["platform"]) == (ARISTA_OID, "eos")
        assert candidate["job"] == {"id": first_job} and candidate["snmp_profile"] == {"id": profile}

    # A device is now managed at .5: the next sweep calls it known; nothing is doubled.
    existing = await lab.device(c, arista_type, "leaf-5", management_address="127.0.0.5")
    row, second_job = await _sweep(app, committed_api, tenant, **parameters)
    assert row.status == "completed", (row.error, row.log)
    assert {k: row.result[k] for k in ("asked", "answered", "new", "known")} == {"asked": 6, "answered": 2, "new": 1, "known": 1}
    second = {c["address"]: c for c in (await committed_api.data(CANDIDATES))["discovery_candidate_list"]}
    assert sorted(second) == list(ANSWERING)
    for address in ANSWERING:
        assert second[address]["id"] == first[address]["id"] and second[address]["numid"] == first[address]["numid"]
        assert second[address]["first_seen"] == first[address]["first_seen"] and datetime.fromisoformat(second[address]["last_seen"]) > datetime.fromisoformat(
            first[address]["last_seen"]
        )
        assert second[address]["job"] == {"id": second_job}
    assert second["127.0.0.5"]["status"] == "known" and second["127.0.0.5"]["existing_device"] == {"id": existing}
    assert second["127.0.0.2"]["status"] == "new"

    # Adopting: the known one is refused (and nothing of the new one written), then the new one.
    error = await committed_api.error(ADOPT, c=[second["127.0.0.2"]["id"], second["127.0.0.5"]["id"]], s=c["site"], r=c["role"])
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "candidates.1"}, error
    assert (await committed_api.data(CANDIDATES))["discovery_candidate_list"][0]["status"] == "new"
    (device,) = (await committed_api.data(ADOPT, c=[second["127.0.0.2"]["id"]], s=c["site"], r=c["role"]))["discovery_candidate_adopt"]
    # sysName is "<private>" in the recording: not a host name, so the address names it.
    assert (device["name"], device["management_address"]) == ("127.0.0.2", "127.0.0.2")
    assert device["device_type"] == {"id": arista_type} and device["snmp_profile"] == {"id": profile}
    adopted = {c["address"]: c for c in (await committed_api.data(CANDIDATES))["discovery_candidate_list"]}["127.0.0.2"]
    assert adopted["status"] == "adopted" and adopted["existing_device"] == {"id": device["id"]}
    again = await committed_api.error(ADOPT, c=[adopted["id"]], s=c["site"], r=c["role"])
    assert again["extensions"]["field"] == "candidates.0" and "adopted" in again["message"]

    # A user of this tenant with just the sweep's grants runs it under row-level security.
    needed = {"job": ["view", "add"], "device": ["view"], "snmp_profile": ["view"], "device_type": ["view"], "discovery_candidate": ["view"]}
    limited = committed_api.as_key(await committed_org.user_key(tenant_ids=[tenant], grants=needed))
    row, _ = await _sweep(app, limited, tenant, **parameters)
    assert row.status == "completed" and row.result["answered"] == 2 and row.result["adopted"] == 1, (row.error, row.log)
    assert len((await committed_api.data(CANDIDATES))["discovery_candidate_list"]) == 2

    # A sweep with another tenant's profile is refused when started, and writes nothing.
    other_profile = await Lab(committed_api, other_tenant).make("snmp_profile", name="theirs", version="V2C", community=community_of(ARISTA), port=agent.port)
    error = await committed_api.error(START, kind="sweep", p={**parameters, "profile": other_profile}, t=str(tenant))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "parameters.profile"}, error
    assert len((await committed_api.data(CANDIDATES))["discovery_candidate_list"]) == 2


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"prefix": "10.0.0.0/19"}, "prefix"),  # 8190 hosts
        ({"prefix": "2001:db8::/100"}, "prefix"),
        ({"prefix": "10.0.0.1"}, "prefix"),
        ({"prefix": "224.0.0.0/28"}, "prefix"),
        ({"prefix": "not a prefix/24"}, "prefix"),
        ({"prefix": 167772160}, "prefix"),
        ({}, "prefix"),
        ({"prefix": "10.0.0.0/24"}, "profile"),
        ({"prefix": "10.0.0.0/24", "profile": "nope"}, "profile"),
        ({"prefix": "10.0.0.0/24", "profile": str(uuid.uuid4()), "concurrency": 129}, "concurrency"),
        ({"prefix": "10.0.0.0/24", "profile": str(uuid.uuid4()), "concurrency": True}, "concurrency"),
        ({"prefix": "10.0.0.0/24", "profile": str(uuid.uuid4()), "timeout": 0}, "timeout"),
        ({"prefix": "10.0.0.0/24", "profile": str(uuid.uuid4()), "retries": -1}, "retries"),
        ({"prefix": "10.0.0.0/24", "profile": str(uuid.uuid4()), "community": "public"}, "community"),
    ],
)
async def test_sweep_parameters_are_checked(api, org, parameters, field):
    error = await api.error(START, kind="sweep", p=parameters, t=str(org.tenant_ids[0]))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"parameters.{field}"}, error


async def test_a_sweep_of_4096_hosts_is_accepted(api, org):
    profile = await Lab(api, org.tenant_ids[0]).make("snmp_profile", name="sweep", community="c")
    started = await api.data(START, kind="sweep", p={"prefix": "10.0.0.0/20", "profile": profile}, t=str(org.tenant_ids[0]))
    assert started["job_start"]["parameters"] == {"prefix": "10.0.0.0/20", "profile": profile, "concurrency": 64}


async def test_a_profile_the_starter_cannot_see_in_the_tenant_is_refused_at_start(api, org):
    mine, theirs = org.tenant_ids
    their_profile = await Lab(api, theirs).make("snmp_profile", name="theirs", community="c")
    # Checked as every reference a write names: another tenant's (visible to this admin) is
    # refused as such, an unknown one is not found; a reader limited to the tenant would
    # not see theirs at all (NOT_FOUND, below).
    for profile, code in ((their_profile, "BAD_USER_INPUT"), (str(uuid.uuid4()), "NOT_FOUND")):
        error = await api.error(START, kind="sweep", p={"prefix": "10.0.0.0/24", "profile": profile}, t=str(mine))
        assert error["extensions"] == {"code": code, "field": "parameters.profile"}, error
    needed = {"job": ["view", "add"], "device": ["view"], "snmp_profile": ["view"], "device_type": ["view"], "discovery_candidate": ["view"]}
    limited = api.as_key(await org.user_key(tenant_ids=[mine], grants=needed))
    error = await limited.error(START, kind="sweep", p={"prefix": "10.0.0.0/24", "profile": their_profile}, t=str(mine))
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "parameters.profile"}, error
    # Scheduled, the same: the schedule is refused when written, not its jobs when they run.
    error = await Lab(api, mine).refuse(
        "job_schedule", name="s", kind="sweep", parameters={"prefix": "10.0.0.0/24", "profile": their_profile}, interval_seconds=3600
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "parameters.profile"), error
    assert await api.count("job") == 0


async def test_a_sweep_needs_its_grants(api, org):
    parameters = {"prefix": "10.0.0.0/24", "profile": await Lab(api, org.tenant_ids[0]).make("snmp_profile", name="sweep", community="c")}
    needed = {"job": ["view", "add"], "device": ["view"], "snmp_profile": ["view"], "device_type": ["view"], "discovery_candidate": ["view"]}
    for missing in ("job", "device", "snmp_profile", "device_type", "discovery_candidate"):
        grants = {name: actions for name, actions in needed.items() if name != missing}
        error = await api.as_key(await org.user_key(grants=grants)).error(START, kind="sweep", p=parameters, t=str(org.tenant_ids[0]))
        assert error["extensions"]["code"] == "FORBIDDEN", (missing, error)
    allowed = await org.user_key(grants=needed)
    assert (await api.as_key(allowed).data(START, kind="sweep", p=parameters, t=str(org.tenant_ids[0])))["job_start"]["kind"] == "sweep"


# --- adoption without a sweep: candidates written as a sweep writes them -------------------


async def _candidate(db: Any, tenant: uuid.UUID, address: str, **values: Any) -> str:
    table = DiscoveryCandidate.__table__
    async with db.system_transaction() as conn:
        numid = (await conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.numid), 0) + 1))).scalar_one()
        row = await conn.execute(
            sa.insert(table)
            .values(tenant_id=tenant, numid=numid, address=address, first_seen=sa.func.now(), last_seen=sa.func.now(), **values)
            .returning(table.c.id)
        )
        return str(row.scalar_one())


async def test_adopting_candidates(api, org, db):
    tenant, other_tenant = org.tenant_ids
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    matched = await lab.device_type(c, "7050", sys_object_ids=[ARISTA_OID])
    fallback = await lab.device_type(c, "Generic")
    core_type = uuid.UUID(matched)
    a = await _candidate(db, tenant, "192.0.2.10", sys_name="core-1", device_type_id=core_type, device_type_matches=1)
    b = await _candidate(db, tenant, "192.0.2.11", sys_name="core-1")  # the same sysName; no type
    ambiguous = await _candidate(db, tenant, "192.0.2.12", sys_name="x", device_type_matches=2, sys_object_id="1.3.6.1.4.1.1")
    theirs = await _candidate(db, other_tenant, "192.0.2.10", sys_name="theirs")

    # Without a device type, the unmatched candidate is refused, naming it and why.
    for candidates, index, words in (([a, b], 1, "no device type"), ([ambiguous], 0, "several device types")):
        error = await api.error(ADOPT, c=candidates, s=c["site"], r=c["role"])
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"candidates.{index}"} and words in error["message"], error
    # For a user of the first tenant only, the other tenant's candidate does not exist.
    grants = {"device": ["view", "add"], "discovery_candidate": ["view"], "site": ["view"], "device_role": ["view"], "device_type": ["view"]}
    ours = api.as_key(await org.user_key(tenant_ids=[tenant], grants=grants))
    error = await ours.error(ADOPT, c=[a, theirs], s=c["site"], r=c["role"], t=fallback)
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "candidates.1"}, error
    for bad, field in (([a, a], "candidates.1"), (["nope"], "candidates.0"), ([], "candidates")):
        error = await api.error(ADOPT, c=bad, s=c["site"], r=c["role"])
        assert error["extensions"]["field"] == field, (bad, error)
    # Only the grant to add devices lets one adopt (nothing written before it is checked).
    viewer = api.as_key(await org.user_key(grants={"discovery_candidate": ["view"], "device": ["view"]}))
    assert (await viewer.error(ADOPT, c=[a], s=c["site"], r=c["role"]))["extensions"]["code"] == "FORBIDDEN"
    assert (await api.data("{ device_list { id } }"))["device_list"] == []

    devices = (await api.data(ADOPT, c=[a, b], s=c["site"], r=c["role"], t=fallback))["discovery_candidate_adopt"]
    assert [(d["name"], d["management_address"], d["device_type"]["id"]) for d in devices] == [
        ("core-1", "192.0.2.10", matched),  # its matched type wins over the argument
        ("192.0.2.11", "192.0.2.11", fallback),  # the sysName is taken by the first: its address
    ]
    table = ObjectChange.__table__
    async with db.system_transaction() as conn:
        requests = (await conn.execute(sa.select(table.c.request_id).distinct().where(table.c.object_id.in_([uuid.UUID(d["id"]) for d in devices])))).all()
    assert len(requests) == 1, "one change-log request for the adoption"
    statuses = {c["address"]: c["status"] for c in (await api.data(CANDIDATES))["discovery_candidate_list"] if c["id"] != theirs}
    assert statuses == {"192.0.2.10": "adopted", "192.0.2.11": "adopted", "192.0.2.12": "new"}
