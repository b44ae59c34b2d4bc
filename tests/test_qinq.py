"""Q-in-Q (IEEE 802.1ad) as NetBox 4.2+ has it: service and customer VLANs (a VLAN's
``qinq_role`` and ``qinq_svlan``), and interfaces in Q-in-Q mode with their service VLAN,
read and filtered by NetBox's names; every refusal names its field."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab

VLAN = """query($id: ID!) { vlan(id: $id) { vid name qinq_role qinq_svlan { vid } qinq_cvlans { vid name qinq_role }
  interfaces_svlan { name mode } vminterfaces_svlan { name } } }"""


async def service_estate(lab: Lab) -> dict[str, str]:
    """A service VLAN with two customer VLANs inside."""
    svlan = await lab.make("vlan", vid=1000, name="carrier", qinq_role="ROLE_SVLAN")
    return {
        "svlan": svlan,
        "red": await lab.make("vlan", vid=10, name="red", qinq_role="ROLE_CVLAN", qinq_svlan=svlan),
        "blue": await lab.make("vlan", vid=20, name="blue", qinq_role="ROLE_CVLAN", qinq_svlan=svlan),
    }


async def vm_of(lab: Lab) -> str:
    cluster = await lab.make("cluster", name="prod", type=await lab.make("cluster_type", name="KVM", slug="kvm"))
    return await lab.make("virtual_machine", name="pe-01", cluster=cluster)


def refusal(error: dict[str, Any]) -> tuple[str, str]:
    return error["extensions"]["code"], error["extensions"]["field"]


async def test_service_and_customer_vlans_read_back_by_netbox_names(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    made = await service_estate(lab)
    device = await lab.device(c, await lab.device_type(c, "PE"), "pe1")
    uplink = await lab.make("interface", device=device, name="xe-0/0/1", type="TYPE_10GBASE_X_SFPP", mode="MODE_Q_IN_Q", qinq_svlan=made["svlan"])
    # A Q-in-Q port may still have an untagged VLAN (NetBox's API takes one in any 802.1Q mode).
    await lab.make(
        "interface", device=device, name="xe-0/0/2", type="TYPE_10GBASE_X_SFPP", mode="MODE_Q_IN_Q", qinq_svlan=made["svlan"], untagged_vlan=made["red"]
    )
    await lab.make("vm_interface", virtual_machine=await vm_of(lab), name="eth0", mode="MODE_Q_IN_Q", qinq_svlan=made["svlan"])

    got = (await api.data(VLAN, id=made["svlan"]))["vlan"]
    assert (got["qinq_role"], got["qinq_svlan"]) == ("svlan", None)
    assert sorted((v["vid"], v["name"], v["qinq_role"]) for v in got["qinq_cvlans"]) == [(10, "red", "cvlan"), (20, "blue", "cvlan")]
    assert sorted(i["name"] for i in got["interfaces_svlan"]) == ["xe-0/0/1", "xe-0/0/2"]
    assert {i["mode"] for i in got["interfaces_svlan"]} == {"q-in-q"}
    assert got["vminterfaces_svlan"] == [{"name": "eth0"}]
    red = (await api.data(VLAN, id=made["red"]))["vlan"]
    assert (red["qinq_role"], red["qinq_svlan"], red["qinq_cvlans"]) == ("cvlan", {"vid": 1000}, [])
    port = await api.data("query($id: ID!) { interface(id: $id) { mode qinq_svlan { vid qinq_role } } }", id=uplink)
    assert port["interface"] == {"mode": "q-in-q", "qinq_svlan": {"vid": 1000, "qinq_role": "svlan"}}

    # NetBox's filters: by role, by service VLAN (nested and by id), interfaces by their service VLAN.
    def vids(body: dict[str, Any]) -> list[int]:
        return sorted(v["vid"] for v in body["vlan_list"])

    query = "query($f: VLANFilter) { vlan_list(filters: $f) { vid } }"
    assert vids(await api.data(query, f={"qinq_role": {"exact": "ROLE_CVLAN"}})) == [10, 20]
    assert vids(await api.data(query, f={"qinq_role": {"in_list": ["ROLE_SVLAN"]}})) == [1000]
    assert vids(await api.data(query, f={"qinq_svlan": {"vid": {"exact": 1000}}, "name": {"exact": "blue"}})) == [20]
    assert vids(await api.data(query, f={"qinq_svlan_id": {"exact": made["svlan"]}})) == [10, 20]
    assert vids(await api.data(query, f={"qinq_role": {"is_null": True}})) == []
    ports = "query($f: InterfaceFilter) { interface_list(filters: $f) { name } }"
    named = await api.data(ports, f={"qinq_svlan": {"qinq_role": {"exact": "ROLE_SVLAN"}}, "mode": {"exact": "MODE_Q_IN_Q"}})
    assert sorted(i["name"] for i in named["interface_list"]) == ["xe-0/0/1", "xe-0/0/2"]
    vm_ports = await api.data("query($f: VMInterfaceFilter) { vm_interface_list(filters: $f) { name } }", f={"qinq_svlan_id": {"exact": made["svlan"]}})
    assert vm_ports["vm_interface_list"] == [{"name": "eth0"}]


async def test_vlan_refusals_name_their_field(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await service_estate(lab)
    plain = await lab.make("vlan", vid=30, name="plain")
    # A customer VLAN rides in a service VLAN (NetBox: qinq_role), and only a customer VLAN does (qinq_svlan).
    assert refusal(await lab.refuse("vlan", vid=11, name="c", qinq_role="ROLE_CVLAN")) == ("BAD_USER_INPUT", "qinq_role")
    assert refusal(await lab.refuse("vlan", vid=11, name="c", qinq_svlan=made["svlan"])) == ("BAD_USER_INPUT", "qinq_svlan")
    assert refusal(await lab.refuse("vlan", vid=11, name="c", qinq_role="ROLE_SVLAN", qinq_svlan=made["svlan"])) == ("BAD_USER_INPUT", "qinq_svlan")
    # What it rides in is a service VLAN: not a plain VLAN, not another customer VLAN, not itself.
    for host in (plain, made["red"]):
        assert refusal(await lab.refuse("vlan", vid=11, name="c", qinq_role="ROLE_CVLAN", qinq_svlan=host)) == ("BAD_USER_INPUT", "qinq_svlan")
    assert refusal(await lab.update_error("vlan", made["svlan"], qinq_role="ROLE_CVLAN", qinq_svlan=made["svlan"])) == ("BAD_USER_INPUT", "qinq_svlan")
    # Updates are checked against what stays: dropping the role leaves the service VLAN set.
    assert refusal(await lab.update_error("vlan", made["red"], qinq_role=None)) == ("BAD_USER_INPUT", "qinq_svlan")
    assert refusal(await lab.update_error("vlan", made["red"], qinq_svlan=None)) == ("BAD_USER_INPUT", "qinq_role")
    # A service VLAN keeps its role while customer VLANs ride in it.
    assert refusal(await lab.update_error("vlan", made["svlan"], qinq_role=None)) == ("BAD_USER_INPUT", "qinq_role")
    # Inside one service VLAN, VIDs and names are unique (NetBox's constraints); elsewhere they are not.
    assert refusal(await lab.refuse("vlan", vid=10, name="other", qinq_role="ROLE_CVLAN", qinq_svlan=made["svlan"])) == ("CONFLICT", "vid")
    assert refusal(await lab.refuse("vlan", vid=99, name="red", qinq_role="ROLE_CVLAN", qinq_svlan=made["svlan"])) == ("CONFLICT", "name")
    second = await lab.make("vlan", vid=2000, name="carrier-2", qinq_role="ROLE_SVLAN")
    await lab.make("vlan", vid=10, name="red", qinq_role="ROLE_CVLAN", qinq_svlan=second)
    # A service VLAN with customer VLANs inside cannot be deleted (NetBox's PROTECT).
    deleted = await api.error("mutation($id: ID!) { vlan_delete(id: $id) { id } }", id=made["svlan"])
    assert deleted["extensions"]["code"] == "CONFLICT"
    # Nothing half-written: the refused writes left the VLANs as they were.
    got = (await api.data(VLAN, id=made["svlan"]))["vlan"]
    assert got["qinq_role"] == "svlan" and sorted(v["vid"] for v in got["qinq_cvlans"]) == [10, 20]
    red = (await api.data(VLAN, id=made["red"]))["vlan"]
    assert (red["qinq_role"], red["qinq_svlan"]) == ("cvlan", {"vid": 1000})
    # Moving the customer VLANs out frees the service VLAN to change role and be deleted.
    for cvlan in (made["red"], made["blue"]):
        await lab.update("vlan", cvlan, qinq_role=None, qinq_svlan=None)
    await lab.update("vlan", made["svlan"], qinq_role=None)
    await api.data("mutation($id: ID!) { vlan_delete(id: $id) { id } }", id=made["svlan"])


async def test_interface_service_vlan_only_in_qinq_mode(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    made = await service_estate(lab)
    device = await lab.device(c, await lab.device_type(c, "PE"), "pe1")
    vm = await vm_of(lab)
    for mode in (None, "MODE_ACCESS", "MODE_TAGGED", "MODE_TAGGED_ALL"):
        error = await lab.refuse("interface", device=device, name="Gi1", type="TYPE_1000BASE_T", mode=mode, qinq_svlan=made["svlan"])
        assert refusal(error) == ("BAD_USER_INPUT", "qinq_svlan"), mode
        error = await lab.refuse("vm_interface", virtual_machine=vm, name="eth1", mode=mode, qinq_svlan=made["svlan"])
        assert refusal(error) == ("BAD_USER_INPUT", "qinq_svlan"), mode
    port = await lab.make("interface", device=device, name="Gi1", type="TYPE_1000BASE_T", mode="MODE_Q_IN_Q", qinq_svlan=made["svlan"])
    vport = await lab.make("vm_interface", virtual_machine=vm, name="eth1", mode="MODE_Q_IN_Q", qinq_svlan=made["svlan"])
    # Leaving Q-in-Q mode with the service VLAN still set is refused (as for an untagged VLAN).
    assert refusal(await lab.update_error("interface", port, mode="MODE_ACCESS")) == ("BAD_USER_INPUT", "qinq_svlan")
    assert refusal(await lab.update_error("vm_interface", vport, mode=None)) == ("BAD_USER_INPUT", "qinq_svlan")
    # In Q-in-Q mode the service VLAN says what is carried: no tagged VLANs (NetBox clears them).
    assert refusal(await lab.update_error("interface", port, tagged_vlans=[made["red"]])) == ("BAD_USER_INPUT", "tagged_vlans")
    error = await lab.refuse("vm_interface", virtual_machine=vm, name="eth2", mode="MODE_Q_IN_Q", tagged_vlans=[made["red"]])
    assert refusal(error) == ("BAD_USER_INPUT", "tagged_vlans")
    got = await api.data("query($id: ID!) { interface(id: $id) { mode qinq_svlan { vid } tagged_vlans { vid } } }", id=port)
    assert got["interface"] == {"mode": "q-in-q", "qinq_svlan": {"vid": 1000}, "tagged_vlans": []}
    # Unsetting both together is fine; deleting the service VLAN clears an interface's (NetBox's SET_NULL).
    await lab.update("interface", port, mode="MODE_ACCESS", qinq_svlan=None)
    for cvlan in (made["red"], made["blue"]):
        await lab.update("vlan", cvlan, qinq_role=None, qinq_svlan=None)
    await api.data("mutation($id: ID!) { vlan_delete(id: $id) { id } }", id=made["svlan"])
    got = await api.data("query($id: ID!) { vm_interface(id: $id) { mode qinq_svlan { vid } } }", id=vport)
    assert got["vm_interface"] == {"mode": "q-in-q", "qinq_svlan": None}


async def test_another_tenants_vlan_is_refused(api, org):
    lab, theirs = Lab(api, org.tenant_ids[0]), Lab(api, org.tenant_ids[1])
    c = await lab.catalogue()
    their_svlan = await theirs.make("vlan", vid=1000, name="carrier", qinq_role="ROLE_SVLAN")
    error = await lab.refuse("vlan", vid=10, name="red", qinq_role="ROLE_CVLAN", qinq_svlan=their_svlan)
    assert refusal(error) == ("BAD_USER_INPUT", "qinq_svlan") and "another tenant" in error["message"]
    device = await lab.device(c, await lab.device_type(c, "PE"), "pe1")
    error = await lab.refuse("interface", device=device, name="Gi1", type="TYPE_1000BASE_T", mode="MODE_Q_IN_Q", qinq_svlan=their_svlan)
    assert refusal(error) == ("BAD_USER_INPUT", "qinq_svlan") and "another tenant" in error["message"]
    error = await lab.refuse("vm_interface", virtual_machine=await vm_of(lab), name="eth0", mode="MODE_Q_IN_Q", qinq_svlan=their_svlan)
    assert refusal(error) == ("BAD_USER_INPUT", "qinq_svlan") and "another tenant" in error["message"]
    # An unknown id and a malformed one are refused the same way, naming the field.
    error = await lab.refuse("vlan", vid=10, name="red", qinq_role="ROLE_CVLAN", qinq_svlan="00000000-0000-0000-0000-000000000000")
    assert refusal(error) == ("NOT_FOUND", "qinq_svlan")
    error = await lab.refuse("vlan", vid=10, name="red", qinq_role="ROLE_CVLAN", qinq_svlan="x" * 5000)
    assert refusal(error) == ("BAD_USER_INPUT", "qinq_svlan")
    # Nothing was written in either tenant.
    listed = await api.data("{ vlan_list { vid } interface_list { name } }")
    assert listed == {"vlan_list": [{"vid": 1000}], "interface_list": []}


async def test_the_database_holds_the_roles_and_uniqueness(db, org):
    """Below the API (an importer, a script): the role column takes NetBox's two values only,
    and one service VLAN holds one customer VLAN per VID."""
    tenant = org.tenant_ids[0]
    insert = "INSERT INTO vlan (tenant_id, vid, name, qinq_role, qinq_svlan_id) VALUES (:t, :v, :n, :r, :s) RETURNING id"
    with pytest.raises(sa.exc.IntegrityError, match="qin_q_role"):
        async with db.system_transaction() as conn:
            await conn.execute(sa.text(insert), {"t": tenant, "v": 5, "n": "x", "r": "tunnel", "s": None})
    with pytest.raises(sa.exc.IntegrityError, match="uq_vlan_qinq_svlan_vid"):
        async with db.system_transaction() as conn:
            svlan = (await conn.execute(sa.text(insert), {"t": tenant, "v": 1000, "n": "s", "r": "svlan", "s": None})).scalar_one()
            await conn.execute(sa.text(insert), {"t": tenant, "v": 10, "n": "a", "r": "cvlan", "s": svlan})
            await conn.execute(sa.text(insert), {"t": tenant, "v": 10, "n": "b", "r": "cvlan", "s": svlan})
