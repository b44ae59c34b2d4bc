"""The discovery job end to end: started through the API, run by a real dramatiq worker,
asking snmpsim (serving ../shared/data/snmp) with each device's SNMP profile at its
management address, storing observations read back through the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dcim_lab import Lab
from snmp_agent import RECORDINGS, SNMP_DATA, Recording, SnmpAgent, community_of, expected_interfaces
from test_jobs_runtime import START, wait_for

ARISTA = next(path for path in RECORDINGS if path.stem == "arista_eos")
LINUX = next(path for path in RECORDINGS if path.stem.startswith("linux"))

OBSERVED = "query($id: ID!) { device(id: $id) { serial observed { reachable platform serial interfaces { if_index name } } } }"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    served = SnmpAgent(tmp_path_factory.mktemp("snmpsim"), data_dirs=[SNMP_DATA])
    with served.start(probe_community=community_of(ARISTA)):
        yield served


async def profile(lab: Lab, agent: SnmpAgent, recording: Any, **fields: Any) -> str:
    return await lab.make(
        "snmp_profile", name=recording.stem, version="V2C", community=community_of(recording), port=agent.port, timeout="2", retries=0, **fields
    )


async def test_a_discovery_job_stores_what_each_device_says(app, committed_org, committed_api, worker, agent):
    tenant = committed_org.tenant_ids[0]
    lab = Lab(committed_api, tenant)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "7050")
    arista_profile = await profile(lab, agent, ARISTA)
    arista = await lab.device(c, kind, "leaf-1", serial="MODELLED", management_address="127.0.0.1", snmp_profile=arista_profile)
    linux = await lab.device(c, kind, "srv-1", management_address="127.0.0.1")
    # The linux server's profile comes from its role: a role binding reaches it.
    server_role = await lab.make("device_role", name="Server", slug="server", snmp_profile=await profile(lab, agent, LINUX))
    await lab.update("device", linux, role=server_role)
    unprofiled = await lab.device(c, kind, "no-profile", management_address="127.0.0.1")
    unaddressed = await lab.device(c, kind, "no-address", snmp_profile=arista_profile)

    started = (await committed_api.data(START, kind="discovery", p={"site": c["site"], "concurrency": 4}, t=str(tenant)))["job_start"]
    row = await wait_for(app.state.danbyte.db, started["id"], "completed", "failed", "errored", timeout=60)
    assert row.status == "completed", row.log
    assert row.result["discovered"] == 2 and row.result["reachable"] == 2
    assert row.result["skipped"] == {"no SNMP profile": [unprofiled], "no management address": [unaddressed]}

    leaf = (await committed_api.data(OBSERVED, id=arista))["device"]
    assert leaf["serial"] == "MODELLED", "intent is not overwritten"
    assert (leaf["observed"]["platform"], leaf["observed"]["serial"]) == ("eos", "JPE00000000")
    assert {i["if_index"]: i["name"] for i in leaf["observed"]["interfaces"]} == expected_interfaces(Recording(ARISTA))
    server = (await committed_api.data(OBSERVED, id=linux))["device"]["observed"]
    assert server["platform"] == "linux" and server["reachable"]

    # What the job found, against intent: the serial differs, no interface is modelled;
    # adopting the serial makes intent say what the device says.
    differences = (await committed_api.data("query($id: ID!) { device(id: $id) { differences { id kind observed intended } } }", id=arista))["device"][
        "differences"
    ]
    serial = [d for d in differences if d["kind"] == "serial_mismatch"]
    assert [(d["observed"], d["intended"]) for d in serial] == [("JPE00000000", "MODELLED")]
    assert len([d for d in differences if d["kind"] == "interface_unmodelled"]) == len(expected_interfaces(Recording(ARISTA)))
    await committed_api.data("mutation($d: [ID!]!) { discovery_adopt(differences: $d) { adopted } }", d=[serial[0]["id"]])
    assert (await committed_api.data(OBSERVED, id=arista))["device"]["serial"] == "JPE00000000"
    differences = (await committed_api.data("query($id: ID!) { device(id: $id) { differences { kind } } }", id=arista))["device"]["differences"]
    assert "serial_mismatch" not in {d["kind"] for d in differences}

    # Again: the same observations, seen again, nothing doubled.
    again = (await committed_api.data(START, kind="discovery", p={"devices": [arista]}, t=str(tenant)))["job_start"]
    assert (await wait_for(app.state.danbyte.db, again["id"], "completed", "failed", "errored", timeout=60)).result["discovered"] == 1
    count = await committed_api.data(f'{{ observed_interface_list(filters: {{device: {{id: {{exact: "{arista}"}}}}}}, pagination: {{limit: 1000}}) {{ id }} }}')
    assert len(count["observed_interface_list"]) == len(expected_interfaces(Recording(ARISTA)))


async def test_discovery_parameters_are_checked(api, org):
    for parameters, field in (
        ({"concurrency": 0}, "concurrency"),
        ({"devices": []}, "devices"),
        ({"devices": ["not-an-id"]}, "devices.0"),
        ({"site": 5}, "site"),
        ({"vendor": "x"}, "vendor"),
    ):
        error = await api.error(START, kind="discovery", p=parameters, t=str(org.tenant_ids[0]))
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and field in error["extensions"]["field"], (parameters, error)


async def test_a_selection_naming_what_the_tenant_lacks_is_refused_at_start(api, org):
    mine, theirs = org.tenant_ids
    their_lab = Lab(api, theirs)
    c = await their_lab.catalogue()
    their_site = c["site"]
    their_device = await their_lab.device(c, await their_lab.device_type(c, "X1"), "their-dev")
    own_site = await Lab(api, mine).make("site", name="mine", slug="mine")
    for kind in ("discovery", "counter_poll", "config_render"):
        for parameters, field, code in (
            ({"devices": [their_device]}, "devices", "BAD_USER_INPUT"),  # another tenant's
            ({"site": their_site}, "site", "BAD_USER_INPUT"),
            ({"role": str(uuid.uuid4())}, "role", "NOT_FOUND"),  # no such role
        ):
            error = await api.error(START, kind=kind, p=parameters, t=str(mine))
            assert error["extensions"] == {"code": code, "field": f"parameters.{field}"}, (kind, parameters, error)
        assert (await api.data(START, kind=kind, p={"site": own_site}, t=str(mine)))["job_start"]["kind"] == kind
