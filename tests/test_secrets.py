"""Secrets (an IKE policy's pre-shared key): sealed at rest, write-only through the API,
never in the change log; and the IKE/IPSec chain a tunnel uses."""

from __future__ import annotations

import json
import stat

import sqlalchemy as sa
from dcim_lab import Lab

from resolvers.secrets import home_key, unseal

PSK = "correct horse battery staple ☃"


async def ipsec_chain(lab: Lab) -> dict[str, str]:
    ike_proposal = await lab.make(
        "ike_proposal", name="ike-aes256", authentication_method="PRESHARED_KEYS", encryption_algorithm="ENCRYPTION_AES_256_CBC", group=14
    )
    ike_policy = await lab.make("ike_policy", name="ike-v2", version=2, proposals=[ike_proposal], preshared_key=PSK)
    ipsec_proposal = await lab.make("ipsec_proposal", name="esp-aes256", encryption_algorithm="ENCRYPTION_AES_256_GCM", sa_lifetime_seconds=3600)
    ipsec_policy = await lab.make("ipsec_policy", name="pfs14", pfs_group=14, proposals=[ipsec_proposal])
    profile = await lab.make("ipsec_profile", name="site-to-site", mode="ESP", ike_policy=ike_policy, ipsec_policy=ipsec_policy)
    return {"ike_policy": ike_policy, "profile": profile}


async def test_a_preshared_key_is_sealed_write_only_and_never_logged(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    made = await ipsec_chain(lab)
    tunnel = await lab.make("tunnel", name="to-branch", encapsulation="ENCAP_IPSEC_TUNNEL", ipsec_profile=made["profile"])
    got = await api.data(
        """query($id: ID!) { tunnel(id: $id) { ipsec_profile { mode ike_policy { name version proposals { group encryption_algorithm } }
           ipsec_policy { pfs_group proposals { sa_lifetime_seconds } } } } }""",
        id=tunnel,
    )
    assert got["tunnel"]["ipsec_profile"] == {
        "mode": "esp",
        "ike_policy": {"name": "ike-v2", "version": 2, "proposals": [{"group": 14, "encryption_algorithm": "aes-256-cbc"}]},
        "ipsec_policy": {"pfs_group": 14, "proposals": [{"sa_lifetime_seconds": 3600}]},
    }
    # Write-only: no field answers it, no filter finds by it.
    error = await api.error("query($id: ID!) { ike_policy(id: $id) { preshared_key } }", id=made["ike_policy"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "preshared_key" in error["message"]
    error = await api.error('{ ike_policy_list(filters: {preshared_key: {exact: "x"}}) { name } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    await lab.update("ike_policy", made["ike_policy"], preshared_key="rotated")
    async with db.system_transaction() as conn:
        sealed = (await conn.execute(sa.text("SELECT preshared_key FROM ike_policy WHERE id = :id"), {"id": made["ike_policy"]})).scalar_one()
        changes = (
            await conn.execute(
                sa.text("SELECT prechange_data, postchange_data, changed_fields FROM object_change WHERE object_id = :id"), {"id": made["ike_policy"]}
            )
        ).all()
    assert PSK not in sealed and "rotated" not in sealed and unseal(sealed) == "rotated"
    logged = json.dumps([list(map(str, change)) for change in changes], ensure_ascii=False)
    assert len(changes) == 2 and "preshared_key" not in logged and PSK not in logged and "rotated" not in logged


async def test_bad_crypto_input_is_refused(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await ipsec_chain(lab)
    cases = [
        (lab.refuse("ike_policy", name="long", preshared_key="k" * 1001), "preshared_key"),
        (lab.refuse("ike_policy", name="v3", version=3), "version"),
        (lab.refuse("ike_proposal", name="odd", authentication_method="PRESHARED_KEYS", encryption_algorithm="ENCRYPTION_AES_128_CBC", group=3), "group"),
    ]
    for pending, field in cases:
        error = await pending
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    assert await api.count("ike_policy") == 1


def test_the_key_is_generated_once_into_the_home(tmp_path):
    first = home_key(tmp_path)
    assert home_key(tmp_path) == first and len(first) >= 48
    assert stat.S_IMODE((tmp_path / "secret-key").stat().st_mode) == 0o600
