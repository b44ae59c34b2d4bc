"""Config contexts merged onto devices and virtual machines as NetBox merges them."""

from __future__ import annotations

from dcim_lab import Lab

from schema.config_contexts import deepmerge

QUERY = "query($d: ID!, $v: ID!) { device(id: $d) { config_context } virtual_machine(id: $v) { config_context } }"


async def test_contexts_apply_by_dimension_and_weight(api, org):
    lab = Lab(api, org.tenant_ids[0])
    europe = await lab.make("region", name="Europe", slug="europe")
    netherlands = await lab.make("region", name="Netherlands", slug="nl", parent=europe)
    site = await lab.make("site", name="AMS9", slug="ams9", region=netherlands)
    role = await lab.make("device_role", name="Leaf", slug="leaf")
    maker = await lab.make("manufacturer", name="Acme", slug="acme")
    kind = await lab.make("device_type", manufacturer=maker, model="Box", slug="box")
    device = await lab.make("device", name="leaf-1", site=site, role=role, device_type=kind, local_context_data={"ntp": {"prefer": "10.0.0.1"}})
    cluster = await lab.make("cluster", name="prod", type=await lab.make("cluster_type", name="KVM", slug="kvm"))
    vm = await lab.make("virtual_machine", name="web-1", site=site, cluster=cluster)
    await lab.make("config_context", name="global", weight=100, data={"ntp": {"servers": ["pool.ntp.org"]}, "syslog": "none"})
    await lab.make("config_context", name="europe", weight=200, regions=[europe], data={"ntp": {"servers": ["eu.pool.ntp.org"]}, "tz": "CET"})
    await lab.make("config_context", name="leaves", weight=300, roles=[role], data={"bgp": {"asn": 65001}})
    await lab.make("config_context", name="kvm guests", weight=300, clusters=[cluster], data={"agent": "qemu-ga"})
    await lab.make("config_context", name="inactive", weight=999, is_active=False, data={"syslog": "loud"})
    await lab.make("config_context", name="elsewhere", weight=999, sites=[await lab.make("site", name="LON1", slug="lon1")], data={"tz": "GMT"})
    got = await api.data(QUERY, d=device, v=vm)
    assert got["device"]["config_context"] == {
        "ntp": {"servers": ["eu.pool.ntp.org"], "prefer": "10.0.0.1"},
        "syslog": "none",
        "tz": "CET",
        "bgp": {"asn": 65001},
    }
    assert got["virtual_machine"]["config_context"] == {"ntp": {"servers": ["eu.pool.ntp.org"]}, "syslog": "none", "tz": "CET", "agent": "qemu-ga"}


def test_deepmerge_is_netboxs():
    assert deepmerge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"c": 3}, "d": {"e": 1}}) == {"a": {"b": 1, "c": 3}, "d": {"e": 1}}
    assert deepmerge({"a": {"b": 1}}, {"a": {}}) == {"a": {}}  # an empty dict replaces, as in NetBox


async def test_contexts_by_tenant_tenant_group_and_tag_stay_in_their_tenant(api, org):
    home, other = Lab(api, org.tenant_ids[0]), Lab(api, org.tenant_ids[1])
    customers = await api.data('mutation { tenant_group_create(input: {name: "Customers", slug: "customers"}) { id } }')
    group = customers["tenant_group_create"]["id"]
    await api.data("mutation($id: ID!, $g: ID!) { tenant_update(id: $id, input: {group: $g}) { id } }", id=str(org.tenant_ids[0]), g=group)
    core = (await api.data('mutation { tag_create(input: {name: "Core", slug: "core"}) { id } }'))["tag_create"]["id"]
    edge = (await api.data('mutation { tag_create(input: {name: "Edge", slug: "edge"}) { id } }'))["tag_create"]["id"]

    async def device(lab: Lab, name: str, tags: list[str]) -> str:
        c = await lab.catalogue() if not hasattr(lab, "c") else lab.c  # type: ignore[attr-defined]
        lab.c = c  # type: ignore[attr-defined]
        return await lab.device(c, await lab.device_type(c, f"Box-{name}"), name, tags=tags)

    cored, edged = await device(home, "core-1", [core]), await device(home, "edge-1", [edge])
    theirs = await device(other, "their-core", [core])
    await home.make("config_context", name="mine", weight=10, tenants=[str(org.tenant_ids[0])], data={"owner": "me"})
    await home.make("config_context", name="customers", weight=20, tenant_groups=[group], data={"sla": "gold"})
    await home.make("config_context", name="core", weight=30, tags=[core], data={"role": "core"})
    # A context of one tenant may not name another tenant.
    error = await home.refuse("config_context", name="theirs", tenants=[str(org.tenant_ids[1])])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "tenants")
    got = await api.data(
        "query($a: ID!, $b: ID!, $c: ID!) { a: device(id: $a) { config_context } b: device(id: $b) { config_context } c: device(id: $c) { config_context } }",
        a=cored,
        b=edged,
        c=theirs,
    )
    tags = await api.data("query($a: ID!, $b: ID!) { a: device(id: $a) { tags { slug } } b: device(id: $b) { tags { slug } } }", a=cored, b=edged)
    assert tags == {"a": {"tags": [{"slug": "core"}]}, "b": {"tags": [{"slug": "edge"}]}}
    assert got["a"]["config_context"] == {"owner": "me", "sla": "gold", "role": "core"}
    assert got["b"]["config_context"] == {"owner": "me", "sla": "gold"}
    # The other tenant's device carries the tag too, but no context of this tenant reaches it.
    assert got["c"]["config_context"] == {}
    listed = await api.data('{ config_context_list(filters: {name: {exact: "core"}}) { tags { slug } tenants { slug } } }')
    assert listed["config_context_list"] == [{"tags": [{"slug": "core"}], "tenants": []}]
