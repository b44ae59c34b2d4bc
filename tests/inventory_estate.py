"""A small estate for the inventory client tests (Ansible, Nornir): devices and a virtual
machine in tenant A, with platforms, tags, a custom field, a rack and primary addresses,
and one device in tenant B that A's inventories must never show."""

from __future__ import annotations

from typing import Any

from dcim_lab import Lab


async def interface_address(lab: Lab, device: str, address: str) -> str:
    interface = await lab.make("interface", device=device, name="mgmt0", type="TYPE_1000BASE_T")
    return await lab.make("ip_address", address=address, assigned_object={"type": "dcim.interface", "id": interface})


async def build_estate(api: Any, org: Any) -> dict[str, Any]:
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    spine_role = await lab.make("device_role", name="Spine", slug="spine")
    fra = await lab.make("site", name="FRA1", slug="fra1")
    rack = await lab.make("rack", name="R1", site=fra)
    ios = await lab.make("platform", name="Cisco IOS", slug="ios")
    eos = await lab.make("platform", name="Arista EOS", slug="eos")
    core = await lab.make("tag", name="Core", slug="core")
    await lab.make("custom_field", name="env", type="TYPE_TEXT", object_types=["dcim.device", "virtualization.virtualmachine"])
    dtype = await lab.device_type(c, "X1")

    leaf1 = await lab.device(c, dtype, "leaf1", platform=ios, tags=[core], custom_fields={"env": "prod"}, serial="SN-LEAF1")
    await lab.update("device", leaf1, primary_ip4=await interface_address(lab, leaf1, "10.0.0.1/24"))
    leaf2 = await lab.device(c, dtype, "leaf2", platform=eos, status="STATUS_PLANNED", custom_fields={"env": "lab"})
    await lab.update("device", leaf2, primary_ip6=await interface_address(lab, leaf2, "2001:db8::2/64"))
    await lab.make("device", name="spine1", device_type=dtype, role=spine_role, site=fra, rack=rack, tags=[core])

    cluster = await lab.make("cluster", name="prod", type=await lab.make("cluster_type", name="KVM", slug="kvm"))
    vm = await lab.make("virtual_machine", name="web1", cluster=cluster, site=c["site"], platform=ios, role=c["role"], custom_fields={"env": "prod"})
    vmi = await lab.make("vm_interface", virtual_machine=vm, name="eth0")
    vm_ip = await lab.make("ip_address", address="192.0.2.10/24", assigned_object={"type": "virtualization.vminterface", "id": vmi})
    await lab.update("virtual_machine", vm, primary_ip4=vm_ip)

    other = Lab(api, org.tenant_ids[1])
    oc = {
        "manufacturer": await other.make("manufacturer", name="Other", slug="other"),
        "role": await other.make("device_role", name="Secret", slug="secret"),
        "site": await other.make("site", name="B-Site", slug="b-site"),
    }
    await other.device(oc, await other.device_type(oc, "B1"), "b-secret")
    tenants = {t["id"]: t["slug"] for t in (await api.data("{ tenant_list { id slug } }"))["tenant_list"]}
    return {"tenant_a": tenants[str(org.tenant_ids[0])], "tenant_b": tenants[str(org.tenant_ids[1])], "leaf1": leaf1, "lab": lab}


async def build_estate_more(api: Any, org: Any, count: int = 6) -> int:
    """``count`` more devices in tenant A, with addresses, platforms and tags (after build_estate)."""
    lab = Lab(api, org.tenant_ids[0])
    got = await api.data('{ device_list(filters: {name: {exact: "leaf1"}}) { device_type { id } role { id } site { id } platform { id } tags { id } } }')
    leaf1 = got["device_list"][0]
    c = {"role": leaf1["role"]["id"], "site": leaf1["site"]["id"]}
    for n in range(count):
        device = await lab.device(c, leaf1["device_type"]["id"], f"more{n}", platform=leaf1["platform"]["id"], tags=[t["id"] for t in leaf1["tags"]])
        await lab.update("device", device, primary_ip4=await interface_address(lab, device, f"10.9.0.{n + 1}/24"))
    return count
