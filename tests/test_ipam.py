"""IPAM behaviour: the derived prefix tree, IP linking, gateways, available space."""

from __future__ import annotations

PREFIX_FIELDS = "id prefix depth family { value label } utilisation parent { prefix } children { prefix } gateway"


async def create_prefix(api, prefix: str, **extra) -> dict:
    fields = ", ".join(f"{k}: {v}" for k, v in extra.items())
    data = await api.data(
        f"mutation($p: String!) {{ prefix_create(input: {{prefix: $p{', ' + fields if fields else ''}}}) {{ {PREFIX_FIELDS} }} }}",
        p=prefix,
    )
    return data["prefix_create"]


async def create_ip(api, address: str, **extra) -> dict:
    fields = "".join(f", {k}: {v}" for k, v in extra.items())
    data = await api.data(
        f"mutation($a: String!) {{ ip_address_create(input: {{address: $a{fields}}}) {{ id address role prefix {{ prefix }} }} }}",
        a=address,
    )
    return data["ip_address_create"]


async def prefix(api, prefix_id: str) -> dict:
    return (await api.data(f"query($id: ID!) {{ prefix(id: $id) {{ {PREFIX_FIELDS} }} }}", id=prefix_id))["prefix"]


async def test_tree_is_derived_from_containment(api, org):
    tenant = org.tenant_ids[0]
    top = await create_prefix(api, "10.0.0.0/8", status="STATUS_CONTAINER", tenant=f'"{tenant}"')
    leaf = await create_prefix(api, "10.1.2.0/24", tenant=f'"{tenant}"')
    assert leaf["parent"]["prefix"] == "10.0.0.0/8" and leaf["depth"] == 1
    middle = await create_prefix(api, "10.1.0.0/16", tenant=f'"{tenant}"')
    # The new /16 slots in between: nothing stored had to change.
    assert (await prefix(api, leaf["id"]))["parent"]["prefix"] == "10.1.0.0/16"
    assert (await prefix(api, leaf["id"]))["depth"] == 2
    assert [c["prefix"] for c in (await prefix(api, top["id"]))["children"]] == ["10.1.0.0/16"]
    # Deleting the middle re-parents the leaf and orphans nothing.
    await api.data("mutation($id: ID!) { prefix_delete(id: $id) { id } }", id=middle["id"])
    assert (await prefix(api, leaf["id"]))["parent"]["prefix"] == "10.0.0.0/8"
    # Re-CIDRing the top re-roots the tree.
    await api.data('mutation($id: ID!) { prefix_update(id: $id, input: {prefix: "192.168.0.0/16"}) { id } }', id=top["id"])
    assert (await prefix(api, leaf["id"]))["parent"] is None


async def test_tree_stays_inside_tenant_and_vrf(api, org):
    first, second = org.tenant_ids
    vrf = (await api.data(f'mutation {{ vrf_create(input: {{name: "blue", tenant: "{first}"}}) {{ id }} }}'))["vrf_create"]
    await create_prefix(api, "10.0.0.0/8", tenant=f'"{first}"')
    in_vrf = await create_prefix(api, "10.1.0.0/16", tenant=f'"{first}"', vrf=f'"{vrf["id"]}"')
    other_tenant = await create_prefix(api, "10.2.0.0/16", tenant=f'"{second}"')
    assert in_vrf["parent"] is None
    assert other_tenant["parent"] is None


async def test_ip_links_to_most_specific_prefix_by_host(api, org):
    tenant = f'"{org.tenant_ids[0]}"'
    await create_prefix(api, "10.0.0.0/24", tenant=tenant)
    await create_prefix(api, "10.0.0.0/26", tenant=tenant)
    # Written with its subnet's /24 mask, as engineers do; the /26 still contains its host.
    ip = await create_ip(api, "10.0.0.5/24", tenant=tenant)
    assert ip["prefix"]["prefix"] == "10.0.0.0/26"
    outside = await create_ip(api, "10.0.0.200/24", tenant=tenant)
    assert outside["prefix"]["prefix"] == "10.0.0.0/24"


async def test_utilisation(api, org):
    tenant = f'"{org.tenant_ids[0]}"'
    subnet = await create_prefix(api, "192.0.2.0/29", tenant=tenant)
    assert subnet["utilisation"] == 0
    for host in ("192.0.2.1/29", "192.0.2.2/29", "192.0.2.3/29"):
        await create_ip(api, host, tenant=tenant)
    assert (await prefix(api, subnet["id"]))["utilisation"] == 50.0  # 3 of 6 usable
    parent = await create_prefix(api, "192.0.2.0/28", tenant=tenant)
    assert parent["utilisation"] == 50.0  # its /29 child covers half of it
    container = await create_prefix(api, "192.0.0.0/16", tenant=tenant, status="STATUS_CONTAINER")
    assert container["utilisation"] is None
    v6 = await create_prefix(api, "2001:db8::/64", tenant=tenant)
    assert v6["utilisation"] is None and v6["family"] == {"value": 6, "label": "IPv6"}
    marked = await create_prefix(api, "198.51.100.0/24", tenant=tenant, mark_utilized="true")
    assert marked["utilisation"] == 100.0


async def site(api, tenant, policy: str) -> str:
    data = await api.data(
        f'mutation {{ site_create(input: {{name: "site-{policy}", slug: "site-{policy}", gateway_policy: POLICY_{policy.upper()}, tenant: "{tenant}"}}) {{ id }} }}'
    )
    return data["site_create"]["id"]


async def test_gateway_policy_first_and_last_spawn_gateway_ip(api, org):
    tenant = org.tenant_ids[0]
    first = await site(api, tenant, "first")
    last = await site(api, tenant, "last")
    none = await site(api, tenant, "none")
    a = await create_prefix(api, "10.10.0.0/24", tenant=f'"{tenant}"', site=f'"{first}"')
    b = await create_prefix(api, "10.20.0.0/24", tenant=f'"{tenant}"', site=f'"{last}"')
    c = await create_prefix(api, "10.30.0.0/24", tenant=f'"{tenant}"', site=f'"{none}"')
    assert (a["gateway"], b["gateway"], c["gateway"]) == ("10.10.0.1", "10.20.0.254", None)
    ips = (await api.data("{ ip_address_list(filters: {role: {exact: ROLE_GATEWAY}}) { address role prefix { prefix } } }"))["ip_address_list"]
    assert sorted((i["address"], i["prefix"]["prefix"]) for i in ips) == [
        ("10.10.0.1/24", "10.10.0.0/24"),
        ("10.20.0.254/24", "10.20.0.0/24"),
    ]
    v6 = await create_prefix(api, "2001:db8:1::/64", tenant=f'"{tenant}"', site=f'"{first}"')
    assert v6["gateway"] == "2001:db8:1::1"


async def test_gateway_role_fills_prefix_gateway(api, org):
    tenant = f'"{org.tenant_ids[0]}"'
    subnet = await create_prefix(api, "172.16.5.0/24", tenant=tenant)
    ip = await create_ip(api, "172.16.5.9/24", tenant=tenant)
    assert (await prefix(api, subnet["id"]))["gateway"] is None
    await api.data("mutation($id: ID!) { ip_address_update(id: $id, input: {role: ROLE_GATEWAY}) { id } }", id=ip["id"])
    assert (await prefix(api, subnet["id"]))["gateway"] == "172.16.5.9"


async def test_available_ips_and_prefixes(api, org):
    tenant = f'"{org.tenant_ids[0]}"'
    subnet = await create_prefix(api, "192.0.2.0/29", tenant=tenant)
    await create_ip(api, "192.0.2.1/29", tenant=tenant)
    await create_ip(api, "192.0.2.3/29", tenant=tenant)
    data = await api.data("query($id: ID!) { prefix(id: $id) { available_ips(limit: 3) } }", id=subnet["id"])
    assert data["prefix"]["available_ips"] == ["192.0.2.2/29", "192.0.2.4/29", "192.0.2.5/29"]
    parent = await create_prefix(api, "10.0.0.0/22", tenant=tenant)
    await create_prefix(api, "10.0.1.0/24", tenant=tenant)
    data = await api.data("query($id: ID!) { prefix(id: $id) { available_prefixes } }", id=parent["id"])
    assert data["prefix"]["available_prefixes"] == ["10.0.0.0/24", "10.0.2.0/23"]


async def test_allocate_ip_and_prefix(api, org):
    tenant = f'"{org.tenant_ids[0]}"'
    subnet = await create_prefix(api, "192.0.2.0/30", tenant=tenant)
    query = 'mutation($p: ID!) { prefix_allocate_ip(prefix: $p, input: {dns_name: "a.example"}) { address dns_name } }'
    assert (await api.data(query, p=subnet["id"]))["prefix_allocate_ip"] == {"address": "192.0.2.1/30", "dns_name": "a.example"}
    assert (await api.data(query, p=subnet["id"]))["prefix_allocate_ip"]["address"] == "192.0.2.2/30"
    error = await api.error(query, p=subnet["id"])
    assert error["extensions"]["code"] == "CONFLICT"
    parent = await create_prefix(api, "10.8.0.0/16", tenant=tenant)
    allocate = "mutation($p: ID!, $l: Int!) { prefix_allocate_prefix(prefix: $p, prefix_length: $l) { prefix parent { prefix } } }"
    assert (await api.data(allocate, p=parent["id"], l=24))["prefix_allocate_prefix"] == {
        "prefix": "10.8.0.0/24",
        "parent": {"prefix": "10.8.0.0/16"},
    }
    assert (await api.data(allocate, p=parent["id"], l=23))["prefix_allocate_prefix"]["prefix"] == "10.8.2.0/23"
    error = await api.error(allocate, p=parent["id"], l=8)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "prefix_length"}


async def test_vlan_groups_are_scoped_and_unique_per_scope(api, org):
    """A VLAN group's scope is any of NetBox 4.x's kinds; its name and slug are unique
    within one scope object (two sites may each have a "Campus" group), unscoped groups
    are not constrained, as in NetBox."""
    from dcim_lab import Lab

    lab = Lab(api, org.tenant_ids[0])
    europe = await lab.make("region", name="Europe", slug="europe")
    ams, lon = await lab.make("site", name="AMS", slug="ams"), await lab.make("site", name="LON", slug="lon")
    cluster = await lab.make("cluster", name="prod", type=await lab.make("cluster_type", name="KVM", slug="kvm"))
    for scope in (
        {"type": "dcim.site", "id": ams},
        {"type": "dcim.site", "id": lon},
        {"type": "dcim.region", "id": europe},
        {"type": "virtualization.cluster", "id": cluster},
    ):
        await lab.make("vlan_group", name="Campus", slug="campus", scope=scope)
    await lab.make("vlan_group", name="Campus", slug="campus")
    await lab.make("vlan_group", name="Campus", slug="campus")
    for clash, field in (({"name": "Campus", "slug": "other"}, "name"), ({"name": "Other", "slug": "campus"}, "slug")):
        error = await lab.refuse("vlan_group", scope={"type": "dcim.site", "id": ams}, **clash)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", field), error
    error = await lab.refuse("vlan_group", name="X", slug="x", scope={"type": "ipam.vrf", "id": ams})
    assert error["extensions"]["field"] == "scope.type"
    got = await api.data(
        "query($s: ID!, $c: ID!) { site(id: $s) { vlan_groups { slug } } cluster(id: $c) { vlan_groups { scope { __typename } } } }", s=ams, c=cluster
    )
    assert got == {"site": {"vlan_groups": [{"slug": "campus"}]}, "cluster": {"vlan_groups": [{"scope": {"__typename": "ClusterType"}}]}}
    by_type = await api.data('{ vlan_group_list(filters: {scope_type: {app_label: {exact: "dcim"}, model: {exact: "site"}}}) { id } }')
    assert len(by_type["vlan_group_list"]) == 2
