"""Virtualization: clusters, virtual machines with interfaces and disks, addresses on VM
interfaces, and NetBox's rules for primary addresses and interfaces of one VM; virtual
machine types and the defaults a new VM takes from its type."""

from __future__ import annotations

from dcim_lab import Lab

VM = """query($id: ID!) { virtual_machine(id: $id) { name status vcpus memory interface_count virtual_disk_count
  cluster { name type { slug } scope { __typename ... on SiteType { name } } } role { name } platform { name }
  primary_ip4 { address assigned_object { __typename ... on VMInterfaceType { name virtual_machine { name } } } }
  interfaces { name mode untagged_vlan { vid } ip_addresses { address } } virtualdisks { name size } } }"""


async def estate(lab: Lab) -> dict[str, str]:
    site = await lab.make("site", name="AMS1", slug="ams1")
    made = {
        "site": site,
        "cluster": await lab.make(
            "cluster",
            name="prod-1",
            type=await lab.make("cluster_type", name="Proxmox", slug="proxmox"),
            group=await lab.make("cluster_group", name="EU", slug="eu"),
            scope={"type": "dcim.site", "id": site},
        ),
        "role": await lab.make("device_role", name="Web", slug="web"),
        "platform": await lab.make("platform", name="Debian 13", slug="debian-13"),
        "vlan": await lab.make("vlan", vid=100, name="web"),
    }
    made["vm"] = await lab.make(
        "virtual_machine", name="web-01", cluster=made["cluster"], role=made["role"], platform=made["platform"], vcpus="2.5", memory=4096
    )
    made["other"] = await lab.make("virtual_machine", name="web-02", cluster=made["cluster"])
    return made


async def test_a_virtual_machine_with_interfaces_disks_and_a_primary_address(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await estate(lab)
    eth0 = await lab.make("vm_interface", virtual_machine=made["vm"], name="eth0", mode="MODE_ACCESS", untagged_vlan=made["vlan"])
    await lab.make("vm_interface", virtual_machine=made["vm"], name="eth10")
    await lab.make("vm_interface", virtual_machine=made["vm"], name="eth2")
    await lab.make("virtual_disk", virtual_machine=made["vm"], name="root", size=20480)
    address = await lab.make("ip_address", address="192.0.2.10/24", assigned_object={"type": "virtualization.vminterface", "id": eth0})
    await lab.update("virtual_machine", made["vm"], primary_ip4=address)
    got = (await api.data(VM, id=made["vm"]))["virtual_machine"]
    assert got == {
        "name": "web-01",
        "status": "active",
        "vcpus": "2.50",
        "memory": 4096,
        "interface_count": 3,
        "virtual_disk_count": 1,
        "cluster": {"name": "prod-1", "type": {"slug": "proxmox"}, "scope": {"__typename": "SiteType", "name": "AMS1"}},
        "role": {"name": "Web"},
        "platform": {"name": "Debian 13"},
        "primary_ip4": {
            "address": "192.0.2.10/24",
            "assigned_object": {"__typename": "VMInterfaceType", "name": "eth0", "virtual_machine": {"name": "web-01"}},
        },
        "interfaces": [
            {"name": "eth0", "mode": "access", "untagged_vlan": {"vid": 100}, "ip_addresses": [{"address": "192.0.2.10/24"}]},
            {"name": "eth2", "mode": None, "untagged_vlan": None, "ip_addresses": []},
            {"name": "eth10", "mode": None, "untagged_vlan": None, "ip_addresses": []},
        ],
        "virtualdisks": [{"name": "root", "size": 20480}],
    }
    # The primary address stays on the VM's interfaces; deleting the VM takes its parts along.
    error = await lab.update_error("ip_address", address, assigned_object=None)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "assigned_object")
    await lab.update("virtual_machine", made["vm"], primary_ip4=None)
    await api.data("mutation($id: ID!) { virtual_machine_delete(id: $id) { id } }", id=made["vm"])
    assert await api.count("vm_interface") == 0 and await api.count("virtual_disk") == 0 and await api.count("ip_address") == 0


async def test_netbox_rules_for_vm_interfaces_and_addresses(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await estate(lab)
    theirs = await lab.make("vm_interface", virtual_machine=made["other"], name="eth0")
    address = await lab.make("ip_address", address="192.0.2.20/24", assigned_object={"type": "virtualization.vminterface", "id": theirs})
    v6 = await lab.make("ip_address", address="2001:db8::20/64", assigned_object={"type": "virtualization.vminterface", "id": theirs})
    cases = [
        (lab.update_error("virtual_machine", made["vm"], primary_ip4=address), "primary_ip4"),  # another VM's address
        (lab.update_error("virtual_machine", made["other"], primary_ip4=v6), "primary_ip4"),  # the wrong family
        (lab.refuse("vm_interface", virtual_machine=made["vm"], name="eth0.10", parent=theirs), "parent"),  # another VM's interface
        (lab.refuse("vm_interface", virtual_machine=made["vm"], name="eth1", untagged_vlan=made["vlan"]), "untagged_vlan"),  # no 802.1Q mode
        (lab.refuse("vm_interface", virtual_machine=made["other"], name="eth0"), "name"),  # one name per VM
    ]
    for pending, field in cases:
        error = await pending
        assert error["extensions"]["field"] == field, error
        assert error["extensions"]["code"] in ("BAD_USER_INPUT", "CONFLICT")
    assert await api.count("vm_interface") == 1


VM_TYPE = """query($id: ID!) { virtual_machine_type(id: $id) { name slug default_vcpus default_memory default_platform { slug }
  virtual_machine_count instances { name virtual_machine_type { slug } } } }"""
VM_SIZES = "query($id: ID!) { virtual_machine(id: $id) { vcpus memory platform { slug } start_on_boot } }"


async def test_a_virtual_machine_takes_its_types_defaults_when_created(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await estate(lab)
    small = await lab.make("virtual_machine_type", name="m1.small", slug="m1-small", default_platform=made["platform"], default_vcpus="2", default_memory=2048)
    plain = await lab.make("virtual_machine", name="app-01", cluster=made["cluster"], virtual_machine_type=small)
    assert (await api.data(VM_SIZES, id=plain))["virtual_machine"] == {
        "vcpus": "2.00",
        "memory": 2048,
        "platform": {"slug": "debian-13"},
        "start_on_boot": "off",
    }
    # What the VM gives is kept (NetBox fills only empty fields); an explicit null is empty.
    big = await lab.make(
        "virtual_machine", name="app-02", cluster=made["cluster"], virtual_machine_type=small, vcpus="8", platform=None, start_on_boot="START_ON_BOOT_LASTSTATE"
    )
    assert (await api.data(VM_SIZES, id=big))["virtual_machine"] == {
        "vcpus": "8.00",
        "memory": 2048,
        "platform": {"slug": "debian-13"},
        "start_on_boot": "laststate",
    }
    # Only on create: typing an existing VM later changes nothing else, as in NetBox.
    await lab.update("virtual_machine", made["other"], virtual_machine_type=small)
    assert (await api.data(VM_SIZES, id=made["other"]))["virtual_machine"] == {"vcpus": None, "memory": None, "platform": None, "start_on_boot": "off"}
    got = (await api.data(VM_TYPE, id=small))["virtual_machine_type"]
    assert got == {
        "name": "m1.small",
        "slug": "m1-small",
        "default_vcpus": "2.00",
        "default_memory": 2048,
        "default_platform": {"slug": "debian-13"},
        "virtual_machine_count": 3,
        "instances": [{"name": name, "virtual_machine_type": {"slug": "m1-small"}} for name in ("app-01", "app-02", "web-02")],
    }
    # NetBox's filters, on the VM and on the type.
    query = """{ on_boot: virtual_machine_list(filters: {start_on_boot: {exact: START_ON_BOOT_LASTSTATE}}) { name }
      typed: virtual_machine_list(filters: {virtual_machine_type: {slug: {exact: "m1-small"}}}) { name }
      virtual_machine_type_list(filters: {default_memory: {gte: 1024}}) { slug } }"""
    assert await api.data(query) == {
        "on_boot": [{"name": "app-02"}],
        "typed": [{"name": "app-01"}, {"name": "app-02"}, {"name": "web-02"}],
        "virtual_machine_type_list": [{"slug": "m1-small"}],
    }


async def test_virtual_machine_types_refuse_bad_input(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await estate(lab)
    small = await lab.make("virtual_machine_type", name="m1.small", slug="m1-small")
    await lab.update("virtual_machine", made["vm"], virtual_machine_type=small)
    cases = [
        (lab.refuse("virtual_machine_type", name="M1.SMALL", slug="other"), "CONFLICT", "name"),  # NetBox: unique whatever the case
        (lab.refuse("virtual_machine_type", name="m2", slug="m1-small"), "CONFLICT", "slug"),
        (lab.refuse("virtual_machine_type", name="m3", slug="m3", default_vcpus="0"), "BAD_USER_INPUT", "default_vcpus"),
        (lab.refuse("virtual_machine_type", name="m4", slug="m4", default_memory=-1), "BAD_USER_INPUT", "default_memory"),
        (lab.refuse("virtual_machine", name="x", virtual_machine_type=made["vm"]), "NOT_FOUND", "virtual_machine_type"),
        (lab.update_error("virtual_machine", made["vm"], start_on_boot="STATUS_ON"), "BAD_USER_INPUT", None),  # not a member of the enum
        # A type in use is not deleted from under its VMs (NetBox's PROTECT).
        (api.error("mutation($id: ID!) { virtual_machine_type_delete(id: $id) { id } }", id=small), "CONFLICT", "id"),
    ]
    for pending, code, field in cases:
        error = await pending
        assert error["extensions"]["code"] == code, error
        if field is not None:
            assert error["extensions"]["field"] == field, error
    assert await api.count("virtual_machine_type") == 1
    # Another tenant's type (and its platform) cannot be used.
    theirs = Lab(api, org.tenant_ids[1])
    bsd = await theirs.make("platform", name="BSD", slug="bsd")
    foreign = await theirs.make("virtual_machine_type", name="t1", slug="t1", default_platform=bsd)
    error = await lab.refuse("virtual_machine", name="y", cluster=made["cluster"], virtual_machine_type=foreign)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "virtual_machine_type"), error
    error = await lab.refuse("virtual_machine_type", name="t2", slug="t2", default_platform=bsd)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "default_platform"), error


async def test_a_clusters_host_devices_and_their_config_context(api, org):
    """A device is a host of a cluster (NetBox's ``Device.cluster``): the cluster lists its
    devices, a filter finds them, and a config context assigned to the cluster applies to
    its hosts as to its virtual machines."""
    lab = Lab(api, org.tenant_ids[0])
    made = await estate(lab)
    c = {"manufacturer": await lab.make("manufacturer", name="Acme", slug="acme"), "role": made["role"], "site": made["site"]}
    kind = await lab.device_type(c, "Host")
    host = await lab.device(c, kind, "hv-01", cluster=made["cluster"])
    await lab.device(c, kind, "standalone")
    await lab.make("config_context", name="hypervisors", clusters=[made["cluster"]], data={"ntp": "10.0.0.1"})
    got = await api.data(
        "query($id: ID!, $c: ID!) { cluster(id: $c) { devices { name } } device(id: $id) { cluster { name } config_context } }", id=host, c=made["cluster"]
    )
    assert got == {"cluster": {"devices": [{"name": "hv-01"}]}, "device": {"cluster": {"name": "prod-1"}, "config_context": {"ntp": "10.0.0.1"}}}
    found = await api.data('{ device_list(filters: {cluster: {name: {exact: "prod-1"}}}) { name } }')
    assert found["device_list"] == [{"name": "hv-01"}]
    # A cluster scoped to a site hosts devices of that site only (NetBox's rule).
    elsewhere = await lab.make("site", name="LON1", slug="lon1")
    error = await lab.update_error("device", host, site=elsewhere)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "cluster")
    unscoped = await lab.make("cluster", name="anywhere", type=await lab.make("cluster_type", name="Any", slug="any"))
    await lab.update("device", host, site=elsewhere, cluster=unscoped)
    # Another tenant's cluster is not this tenant's to host on.
    theirs = await Lab(api, org.tenant_ids[1]).make("cluster", name="theirs", type=await Lab(api, org.tenant_ids[1]).make("cluster_type", name="T", slug="t"))
    error = await lab.update_error("device", host, cluster=theirs)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "cluster")


async def test_an_asn_has_a_role(api, org):
    lab = Lab(api, org.tenant_ids[0])
    role = await lab.make("role", name="Transit", slug="transit")
    asn = await lab.make("asn", asn=65001, role=role)
    got = await api.data("query($id: ID!, $r: ID!) { asn(id: $id) { asn role { slug } } role(id: $r) { asns { asn } } }", id=asn, r=role)
    assert got == {"asn": {"asn": 65001, "role": {"slug": "transit"}}, "role": {"asns": [{"asn": 65001}]}}
