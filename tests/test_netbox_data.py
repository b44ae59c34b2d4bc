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
