"""The derived prefix tree agrees with NetBox's own cached tree on NetBox's demo data.

NetBox stores ``_depth`` and ``_children`` (descendants) per prefix; Danbyte derives
them. All demo prefixes go into one tenant (NetBox tenants are labels), VRFs kept.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import SHARED_DATA

EXPORT = SHARED_DATA / "netbox" / "netbox-v4.2-demo.dumpdata.json"


@pytest.fixture(scope="module")
def demo() -> dict[str, list[dict]]:
    by_model: dict[str, list[dict]] = {}
    for obj in json.loads(EXPORT.read_text()):
        by_model.setdefault(obj["model"], []).append(obj)
    return by_model


async def test_depth_and_descendants_match_netbox(api, org, demo):
    tenant = org.tenant_ids[0]
    vrf_ids = {}
    for vrf in demo["ipam.vrf"]:
        created = await api.data(
            'mutation($n: String!, $rd: String) { vrf_create(input: {name: $n, rd: $rd, tenant: "%s"}) { id } }' % tenant,
            n=vrf["fields"]["name"],
            rd=vrf["fields"]["rd"],
        )
        vrf_ids[vrf["pk"]] = created["vrf_create"]["id"]
    expected = {}
    for prefix in demo["ipam.prefix"]:
        fields = prefix["fields"]
        vrf = vrf_ids.get(fields["vrf"])
        created = await api.data(
            'mutation($p: String!, $v: ID, $s: PrefixStatusEnum) { prefix_create(input: {prefix: $p, vrf: $v, status: $s, tenant: "%s"}) { id } }' % tenant,
            p=fields["prefix"],
            v=vrf,
            s=f"STATUS_{fields['status'].upper()}",
        )
        expected[created["prefix_create"]["id"]] = fields
    assert len(expected) == 90
    rows = (await api.data("{ prefix_list { id prefix depth children { id } vrf { id } status } }"))["prefix_list"]
    assert len(rows) == 90
    by_id = {r["id"]: r for r in rows}
    for row in rows:
        assert row["depth"] == expected[row["id"]]["_depth"], row["prefix"]

    # Descendants, from our direct children, against NetBox's _children. NetBox counts a
    # global container's descendants across every VRF; Danbyte's tree stays inside a VRF.
    def descendants(prefix_id: str) -> int:
        return sum(1 + descendants(c["id"]) for c in by_id[prefix_id]["children"])

    compared = 0
    for row in rows:
        netbox = expected[row["id"]]
        if netbox["vrf"] is None and netbox["status"] == "container":
            continue
        assert descendants(row["id"]) == netbox["_children"], row["prefix"]
        compared += 1
    assert compared > 40
    assert Counter(r["depth"] for r in rows)[0] > 0


async def test_demo_addresses_link_to_their_most_specific_prefix(api, org, demo):
    tenant = org.tenant_ids[0]
    for prefix in demo["ipam.prefix"]:
        if prefix["fields"]["vrf"] is None:
            await api.data('mutation($p: String!) { prefix_create(input: {prefix: $p, tenant: "%s"}) { id } }' % tenant, p=prefix["fields"]["prefix"])
    global_ips = [ip["fields"]["address"] for ip in demo["ipam.ipaddress"] if ip["fields"]["vrf"] is None]
    for address in global_ips:
        await api.data('mutation($a: String!) { ip_address_create(input: {address: $a, tenant: "%s"}) { id } }' % tenant, a=address)
    import ipaddress

    networks = [ipaddress.ip_network(p["fields"]["prefix"]) for p in demo["ipam.prefix"] if p["fields"]["vrf"] is None]
    rows = (await api.data("{ ip_address_list { address prefix { prefix } } }"))["ip_address_list"]
    assert len(rows) == len(global_ips)
    for row in rows:
        host = ipaddress.ip_interface(row["address"]).ip
        containing = [n for n in networks if host in n]
        best = str(max(containing, key=lambda n: n.prefixlen)) if containing else None
        assert (row["prefix"] or {}).get("prefix") == best, row["address"]


def _enum(prefix: str, value: str) -> str:
    return f"{prefix}_{value}".upper()


async def _create_many(api, name: str, type_name: str, inputs: list[dict]) -> list[str]:
    query = f"mutation($i: [{type_name}CreateInput!]!) {{ {name}_create_many(inputs: $i) {{ id }} }}"
    return [made["id"] for made in (await api.data(query, i=inputs))[f"{name}_create_many"]]


async def test_netbox_circuits_come_through_the_api(api, org, demo):
    """The demo's providers, provider networks, circuit types, circuits and their A/Z
    terminations (on sites and provider networks), written through the API and read back
    as NetBox has them."""
    tenant = str(org.tenant_ids[0])

    async def load(name: str, type_name: str, model: str, fields) -> dict[int, str]:
        rows = demo[model]
        ids = await _create_many(api, name, type_name, [{"tenant": tenant, **fields(row["fields"])} for row in rows])
        return {row["pk"]: made for row, made in zip(rows, ids, strict=True)}

    sites = await load("site", "Site", "dcim.site", lambda f: {"name": f["name"], "slug": f["slug"]})
    providers = await load("provider", "Provider", "circuits.provider", lambda f: {"name": f["name"], "slug": f["slug"]})
    networks = await load(
        "provider_network", "ProviderNetwork", "circuits.providernetwork", lambda f: {"name": f["name"], "provider": providers[f["provider"]]}
    )
    kinds = await load("circuit_type", "CircuitType", "circuits.circuittype", lambda f: {"name": f["name"], "slug": f["slug"], "color": f["color"]})
    circuits = await load(
        "circuit",
        "Circuit",
        "circuits.circuit",
        lambda f: {
            "cid": f["cid"],
            "provider": providers[f["provider"]],
            "type": kinds[f["type"]],
            "status": _enum("status", f["status"]),
            "commit_rate": f["commit_rate"],
        },
    )
    places = {("dcim", "site"): ("dcim.site", sites), ("circuits", "providernetwork"): ("circuits.providernetwork", networks)}

    def termination(f: dict) -> dict:
        kind, made = places[tuple(f["termination_type"])]
        return {"circuit": circuits[f["circuit"]], "term_side": _enum("side", f["term_side"]), "termination": {"type": kind, "id": made[f["termination_id"]]}}

    await _create_many(api, "circuit_termination", "CircuitTermination", [termination(row["fields"]) for row in demo["circuits.circuittermination"]])

    query = """{ circuit_list { cid status provider { slug } type { slug }
      termination_a { termination { ... on SiteType { slug } ... on ProviderNetworkType { name } } }
      termination_z { termination { ... on SiteType { slug } ... on ProviderNetworkType { name } } } } }"""
    answered = {c["cid"]: c for c in (await api.data(query))["circuit_list"]}
    names = {
        ("dcim", "site"): {row["pk"]: {"slug": row["fields"]["slug"]} for row in demo["dcim.site"]},
        ("circuits", "providernetwork"): {row["pk"]: {"name": row["fields"]["name"]} for row in demo["circuits.providernetwork"]},
    }
    by_circuit: dict[tuple[int, str], dict] = {}
    for row in demo["circuits.circuittermination"]:
        f = row["fields"]
        by_circuit[f["circuit"], f["term_side"]] = {"termination": names[tuple(f["termination_type"])][f["termination_id"]]}
    provider_slugs = {row["pk"]: row["fields"]["slug"] for row in demo["circuits.provider"]}
    kind_slugs = {row["pk"]: row["fields"]["slug"] for row in demo["circuits.circuittype"]}
    expected = {
        row["fields"]["cid"]: {
            "cid": row["fields"]["cid"],
            "status": row["fields"]["status"],
            "provider": {"slug": provider_slugs[row["fields"]["provider"]]},
            "type": {"slug": kind_slugs[row["fields"]["type"]]},
            "termination_a": by_circuit.get((row["pk"], "A")),
            "termination_z": by_circuit.get((row["pk"], "Z")),
        }
        for row in demo["circuits.circuit"]
    }
    assert answered == expected
    assert len(answered) == 29 and sum(1 for c in answered.values() for side in ("termination_a", "termination_z") if c[side]) == 45


async def test_netbox_virtual_machines_come_through_the_api(api, org, demo):
    """The demo's cluster types and groups, clusters, 180 virtual machines (with their role
    and platform) and 720 VM interfaces, written through the API and read back."""
    tenant = str(org.tenant_ids[0])

    async def load(name: str, type_name: str, model: str, fields) -> dict[int, str]:
        rows = demo[model]
        ids = await _create_many(api, name, type_name, [fields(row["fields"]) for row in rows])
        return {row["pk"]: made for row, made in zip(rows, ids, strict=True)}

    def named(f: dict) -> dict:
        return {"tenant": tenant, "name": f["name"], "slug": f["slug"]}

    roles = await load("device_role", "DeviceRole", "dcim.devicerole", named)
    platforms = await load("platform", "Platform", "dcim.platform", named)
    kinds = await load("cluster_type", "ClusterType", "virtualization.clustertype", named)
    groups = await load("cluster_group", "ClusterGroup", "virtualization.clustergroup", named)
    clusters = await load(
        "cluster",
        "Cluster",
        "virtualization.cluster",
        lambda f: {"tenant": tenant, "name": f["name"], "type": kinds[f["type"]], "group": groups.get(f["group"]), "status": _enum("status", f["status"])},
    )
    machines = await load(
        "virtual_machine",
        "VirtualMachine",
        "virtualization.virtualmachine",
        lambda f: {
            "tenant": tenant,
            "name": f["name"],
            "cluster": clusters.get(f["cluster"]),
            "role": roles.get(f["role"]),
            "platform": platforms.get(f["platform"]),
            "status": _enum("status", f["status"]),
        },
    )
    await load(
        "vm_interface",
        "VMInterface",
        "virtualization.vminterface",
        lambda f: {"virtual_machine": machines[f["virtual_machine"]], "name": f["name"], "enabled": f["enabled"]},
    )

    query = "{ virtual_machine_list { name status cluster { name group { slug } } role { slug } platform { slug } interface_count interfaces { name } } }"
    answered = sorted((await api.data(query))["virtual_machine_list"], key=lambda vm: (vm["cluster"]["name"], vm["name"]))
    slugs = {
        model: {row["pk"]: row["fields"].get("slug") for row in demo[model]} for model in ("dcim.devicerole", "dcim.platform", "virtualization.clustergroup")
    }
    cluster_rows = {row["pk"]: row["fields"] for row in demo["virtualization.cluster"]}
    interfaces: dict[int, list[str]] = {}
    for row in demo["virtualization.vminterface"]:
        interfaces.setdefault(row["fields"]["virtual_machine"], []).append(row["fields"]["name"])
    expected = []
    for row in demo["virtualization.virtualmachine"]:
        f = row["fields"]
        cluster = cluster_rows[f["cluster"]]
        names = sorted(interfaces.get(row["pk"], []), key=lambda name: (len(name), name))
        expected.append(
            {
                "name": f["name"],
                "status": f["status"],
                "cluster": {"name": cluster["name"], "group": {"slug": slugs["virtualization.clustergroup"][cluster["group"]]} if cluster["group"] else None},
                "role": {"slug": slugs["dcim.devicerole"][f["role"]]} if f["role"] else None,
                "platform": {"slug": slugs["dcim.platform"][f["platform"]]} if f["platform"] else None,
                "interface_count": f["interface_count"],
                "interfaces": [{"name": name} for name in names],
            }
        )
    expected.sort(key=lambda vm: (vm["cluster"]["name"], vm["name"]))
    assert answered == expected
    assert len(answered) == 180 and sum(vm["interface_count"] for vm in answered) == 720


async def test_netbox_contacts_come_through_the_api(api, org, demo):
    """The demo's nested contact groups, roles, contacts (NetBox 4.2's single group becomes
    4.6's groups) and their assignments to a site, written through the API and read back."""
    tenant = str(org.tenant_ids[0])
    sites = {
        row["pk"]: (
            await api.data(
                'mutation($n: String!, $s: String!) { site_create(input: {name: $n, slug: $s, tenant: "%s"}) { id } }' % tenant,
                n=row["fields"]["name"],
                s=row["fields"]["slug"],
            )
        )["site_create"]["id"]
        for row in demo["dcim.site"]
    }
    groups: dict[int, str] = {}
    for row in sorted(demo["tenancy.contactgroup"], key=lambda r: r["fields"]["level"]):  # parents first
        f = row["fields"]
        made = await _create_many(
            api, "contact_group", "ContactGroup", [{"tenant": tenant, "name": f["name"], "slug": f["slug"], "parent": groups.get(f["parent"])}]
        )
        groups[row["pk"]] = made[0]
    roles = dict(
        zip(
            [r["pk"] for r in demo["tenancy.contactrole"]],
            await _create_many(
                api,
                "contact_role",
                "ContactRole",
                [{"tenant": tenant, "name": r["fields"]["name"], "slug": r["fields"]["slug"]} for r in demo["tenancy.contactrole"]],
            ),
            strict=True,
        )
    )
    contacts = dict(
        zip(
            [r["pk"] for r in demo["tenancy.contact"]],
            await _create_many(
                api,
                "contact",
                "Contact",
                [
                    {
                        "tenant": tenant,
                        "name": r["fields"]["name"],
                        "title": r["fields"]["title"],
                        "phone": r["fields"]["phone"],
                        "email": r["fields"]["email"],
                        "groups": [groups[r["fields"]["group"]]],
                    }
                    for r in demo["tenancy.contact"]
                ],
            ),
            strict=True,
        )
    )
    assignments = demo["tenancy.contactassignment"]
    await _create_many(
        api,
        "contact_assignment",
        "ContactAssignment",
        [
            {
                "tenant": tenant,
                "object_type": ".".join(a["fields"]["object_type"]),
                "object_id": sites[a["fields"]["object_id"]],
                "contact": contacts[a["fields"]["contact"]],
                "role": roles[a["fields"]["role"]],
                "priority": _enum("priority", a["fields"]["priority"]),
            }
            for a in assignments
        ],
    )
    site = sites[assignments[0]["fields"]["object_id"]]
    got = (
        await api.data("query($id: ID!) { site(id: $id) { contacts { priority contact { name groups { slug parent { slug } } } role { slug } } } }", id=site)
    )["site"]["contacts"]
    names = {r["pk"]: r["fields"]["name"] for r in demo["tenancy.contact"]}
    role_slugs = {r["pk"]: r["fields"]["slug"] for r in demo["tenancy.contactrole"]}
    assert sorted((c["contact"]["name"], c["role"]["slug"], c["priority"]) for c in got) == sorted(
        (names[a["fields"]["contact"]], role_slugs[a["fields"]["role"]], a["fields"]["priority"]) for a in assignments
    )
    assert all(c["contact"]["groups"] == [{"slug": "dunder-mifflin", "parent": {"slug": "customers"}}] for c in got)


async def test_netbox_tags_and_custom_fields_come_through_the_api(api, org, demo):
    """The demo's tags on its sites, and its one custom field (a customer ID on tenants,
    with a pattern): NetBox's tenants become tenants here, each defining the field, since
    a tenant's definitions are its own."""
    tenant = str(org.tenant_ids[0])
    tags = {}
    for row in demo["extras.tag"]:
        f = row["fields"]
        made = await api.data(
            "mutation($i: TagCreateInput!) { tag_create(input: $i) { id } }",
            i={
                "name": f["name"],
                "slug": f["slug"],
                "color": f["color"],
                "description": f["description"],
                "object_types": [".".join(t) for t in f["object_types"]],
            },
        )
        tags[f["name"]] = made["tag_create"]["id"]
    tagged: dict[int, list[str]] = {}
    for item in demo["extras.taggeditem"]:
        assert item["fields"]["content_type"] == ["dcim", "site"]
        tagged.setdefault(item["fields"]["object_id"], []).append(item["fields"]["tag"][0])
    sites = {}
    for row in demo["dcim.site"]:
        f = row["fields"]
        made = await api.data(
            "mutation($i: SiteCreateInput!) { site_create(input: $i) { id } }",
            i={"name": f["name"], "slug": f["slug"], "tenant": tenant, "tags": [tags[name] for name in tagged.get(row["pk"], [])]},
        )
        sites[made["site_create"]["id"]] = sorted(tagged.get(row["pk"], []))
    got = (await api.data("{ site_list { id tags { name } } }"))["site_list"]
    assert {s["id"]: sorted(t["name"] for t in s["tags"]) for s in got} == sites
    x_ray = (await api.data('{ site_list(filters: {tag: ["x-ray"]}) { id } }'))["site_list"]
    assert sorted(s["id"] for s in x_ray) == sorted(i for i, names in sites.items() if "X-ray" in names)

    (definition,) = demo["extras.customfield"]
    f = definition["fields"]
    assert [".".join(t) for t in f["object_types"]] == ["tenancy.tenant"]
    expected = {}
    for row in demo["tenancy.tenant"]:
        made = await api.data(
            "mutation($i: TenantCreateInput!) { tenant_create(input: $i) { id } }", i={"name": row["fields"]["name"], "slug": row["fields"]["slug"]}
        )
        tenant_id = made["tenant_create"]["id"]
        await api.data(
            "mutation($i: CustomFieldCreateInput!) { custom_field_create(input: $i) { id } }",
            i={
                "tenant": tenant_id,
                "name": f["name"],
                "label": f["label"],
                "type": f"TYPE_{f['type'].upper()}",
                "object_types": ["tenancy.tenant"],
                "validation_regex": f["validation_regex"],
                "filter_logic": f"FILTER_{f['filter_logic'].upper()}",
                "search_weight": f["search_weight"],
                "weight": f["weight"],
            },
        )
        await api.data(
            "mutation($id: ID!, $i: TenantUpdateInput!) { tenant_update(id: $id, input: $i) { id } }",
            id=tenant_id,
            i={"custom_fields": row["fields"]["custom_field_data"]},
        )
        expected[tenant_id] = row["fields"]["custom_field_data"]
    got = (await api.data("{ tenant_list { id custom_fields } }"))["tenant_list"]
    assert {t["id"]: t["custom_fields"] for t in got if t["id"] in expected} == expected
    dunder = await api.data('{ tenant_list(filters: {custom_field_data: {path: "cust_id", lookup: {string_lookup: {exact: "DMI01"}}}}) { name } }')
    assert dunder["tenant_list"] == [{"name": "Dunder-Mifflin, Inc."}]
    # The field's pattern holds for these tenants as for NetBox's.
    error = await api.error(
        "mutation($id: ID!, $i: TenantUpdateInput!) { tenant_update(id: $id, input: $i) { id } }",
        id=next(iter(expected)),
        i={"custom_fields": {"cust_id": "dmi1"}},
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "custom_fields.cust_id")


async def test_every_demo_vlan_fits_in_one_tenant(api, org, demo):
    """NetBox constrains a VID and a name inside a VLAN group only: the demo's ungrouped
    VLAN 100 at 13 sites all land in one tenant; inside a group a VID or name repeats not."""
    tenant = str(org.tenant_ids[0])
    sites = dict(
        zip(
            [r["pk"] for r in demo["dcim.site"]],
            await _create_many(api, "site", "Site", [{"tenant": tenant, "name": r["fields"]["name"], "slug": r["fields"]["slug"]} for r in demo["dcim.site"]]),
            strict=True,
        )
    )
    groups = dict(
        zip(
            [r["pk"] for r in demo["ipam.vlangroup"]],
            await _create_many(
                api,
                "vlan_group",
                "VLANGroup",
                [
                    {
                        "tenant": tenant,
                        "name": r["fields"]["name"],
                        "slug": r["fields"]["slug"],
                        **({"scope": {"type": ".".join(r["fields"]["scope_type"]), "id": sites[r["fields"]["scope_id"]]}} if r["fields"]["scope_type"] else {}),
                    }
                    for r in demo["ipam.vlangroup"]
                ],
            ),
            strict=True,
        )
    )
    rows = demo["ipam.vlan"]
    await _create_many(
        api,
        "vlan",
        "VLAN",
        [
            {
                "tenant": tenant,
                "vid": r["fields"]["vid"],
                "name": r["fields"]["name"],
                "status": _enum("status", r["fields"]["status"]),
                "site": sites.get(r["fields"]["site"]),
                "group": groups.get(r["fields"]["group"]),
            }
            for r in rows
        ],
    )
    got = (await api.data("{ vlan_list { vid name site { slug } group { slug } } }"))["vlan_list"]
    site_slugs = {r["pk"]: r["fields"]["slug"] for r in demo["dcim.site"]}
    group_slugs = {r["pk"]: r["fields"]["slug"] for r in demo["ipam.vlangroup"]}
    expected = Counter((r["fields"]["vid"], r["fields"]["name"], site_slugs.get(r["fields"]["site"]), group_slugs.get(r["fields"]["group"])) for r in rows)
    assert Counter((v["vid"], v["name"], (v["site"] or {}).get("slug"), (v["group"] or {}).get("slug")) for v in got) == expected
    assert sum(1 for r in rows if r["fields"]["vid"] == 100 and r["fields"]["group"] is None) == 13
    scoped = (await api.data("{ vlan_group_list { slug scope { ... on SiteType { slug } } } }"))["vlan_group_list"]
    assert {g["slug"]: (g["scope"] or {}).get("slug") for g in scoped} == {
        r["fields"]["slug"]: site_slugs[r["fields"]["scope_id"]] if r["fields"]["scope_type"] == ["dcim", "site"] else None for r in demo["ipam.vlangroup"]
    }
    grouped = next(r["fields"] for r in rows if r["fields"]["group"] is not None)
    create = "mutation($i: VLANCreateInput!) { vlan_create(input: $i) { id } }"
    for clash, field in (({"vid": grouped["vid"], "name": "other"}, "vid"), ({"vid": 4000, "name": grouped["name"]}, "name")):
        error = await api.error(create, i={"tenant": tenant, "group": groups[grouped["group"]], **clash})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", field), error
