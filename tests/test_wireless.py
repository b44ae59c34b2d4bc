"""Wireless: LANs served on interfaces (their PSK sealed, write-only), and wireless links
joining two radios the way a cable joins two ports."""

from __future__ import annotations

import sqlalchemy as sa
from dcim_lab import Lab

from resolvers.secrets import unseal

PEERS = """query($id: ID!) { interface(id: $id) { wireless_link { ssid status }
  link_peers { __typename ... on InterfaceType { name device { name } } }
  connected_endpoints { ... on InterfaceType { name } } wireless_lans { ssid } } }"""


async def radios(lab: Lab) -> dict[str, str]:
    c = await lab.catalogue()
    kind = await lab.device_type(c, "AP")
    made = {}
    for name in ("ap-1", "ap-2"):
        device = await lab.device(c, kind, name)
        made[name] = await lab.make("interface", device=device, name="wlan0", type="TYPE_IEEE802_11AC")
        made[f"{name}-eth"] = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    return made


async def test_a_wireless_link_joins_two_radios(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    made = await radios(lab)
    group = await lab.make("wireless_lan_group", name="Campus", slug="campus")
    lan = await lab.make("wireless_lan", ssid="corp", group=group, auth_type="TYPE_WPA_PERSONAL", auth_cipher="CIPHER_AES", auth_psk="hunter2-hunter2")
    await lab.update("interface", made["ap-1"], wireless_lans=[lan])
    link = await lab.make("wireless_link", interface_a=made["ap-1"], interface_b=made["ap-2"], ssid="backhaul", auth_psk="p2p-secret")
    got = (await api.data(PEERS, id=made["ap-1"]))["interface"]
    assert got == {
        "wireless_link": {"ssid": "backhaul", "status": "connected"},
        "link_peers": [{"__typename": "InterfaceType", "name": "wlan0", "device": {"name": "ap-2"}}],
        "connected_endpoints": [{"name": "wlan0"}],
        "wireless_lans": [{"ssid": "corp"}],
    }
    async with db.system_transaction() as conn:
        psk = (await conn.execute(sa.text("SELECT auth_psk FROM wireless_lan WHERE id = :id"), {"id": lan})).scalar_one()
    assert "hunter2" not in psk and unseal(psk) == "hunter2-hunter2"
    error = await api.error("query($id: ID!) { wireless_lan(id: $id) { auth_psk } }", id=lan)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    await api.data("mutation($id: ID!) { wireless_link_delete(id: $id) { id } }", id=link)
    freed = (await api.data(PEERS, id=made["ap-2"]))["interface"]
    assert freed["wireless_link"] is None and freed["link_peers"] == []


async def test_a_wireless_link_takes_two_free_radios(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = await radios(lab)
    await lab.make("wireless_link", interface_a=made["ap-1"], interface_b=made["ap-2"])
    cases = [
        (lab.refuse("wireless_link", interface_a=made["ap-1-eth"], interface_b=made["ap-2-eth"]), "BAD_USER_INPUT", "interface_a"),
        (lab.refuse("wireless_link", interface_a=made["ap-2"], interface_b=made["ap-1"]), "CONFLICT", "interface_a"),
        (lab.refuse("wireless_link", interface_a=made["ap-1"], interface_b=made["ap-1"]), "BAD_USER_INPUT", "interface_b"),
        (lab.refuse("wireless_lan", ssid="x" * 33), "BAD_USER_INPUT", "ssid"),
        (lab.refuse("wireless_lan", ssid="guest", auth_psk="k" * 65), "BAD_USER_INPUT", "auth_psk"),
    ]
    for pending, code, field in cases:
        error = await pending
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (code, field), error
    assert await api.count("wireless_link") == 1
