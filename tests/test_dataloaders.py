"""Relations resolve through per-request loaders: the SQL count depends on the query's shape only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from factories import change_settings

QUERY = "{ prefix_list { prefix vrf { name } tenant { name } site { name } vlan { vid } ip_addresses { address } } }"


async def bulk_prefixes(db, org, count: int, start: int) -> None:
    """Insert prefixes, each with a VRF, site, VLAN and an address inside."""
    tenant = org.tenant_ids[0]
    async with db.system_transaction() as conn:
        vrf = (await conn.execute(sa.text("INSERT INTO vrf (tenant_id, name) VALUES (:t, :n) RETURNING id"), {"t": tenant, "n": f"v{start}"})).scalar_one()
        site = (
            await conn.execute(sa.text("INSERT INTO site (tenant_id, name, slug) VALUES (:t, :n, :n) RETURNING id"), {"t": tenant, "n": f"s{start}"})
        ).scalar_one()
        vlan = (
            await conn.execute(sa.text("INSERT INTO vlan (tenant_id, vid, name) VALUES (:t, :v, 'v') RETURNING id"), {"t": tenant, "v": 1 + start % 4000})
        ).scalar_one()
        rows = [{"t": tenant, "p": f"10.{(start + i) // 256}.{(start + i) % 256}.0/24", "vrf": vrf, "site": site, "vlan": vlan} for i in range(count)]
        await conn.execute(sa.text("INSERT INTO prefix (tenant_id, prefix, vrf_id, site_id, vlan_id) VALUES (:t, :p, :vrf, :site, :vlan)"), rows)
        ips = [{"t": tenant, "a": r["p"].replace(".0/24", ".1/24"), "vrf": vrf} for r in rows]
        await conn.execute(sa.text("INSERT INTO ip_address (tenant_id, address, vrf_id) VALUES (:t, :a, :vrf)"), ips)


PATHS = pytest.mark.parametrize("compiled", [True, False], ids=["sql", "resolvers"])


@PATHS
async def test_statement_count_is_the_same_for_10_and_1000_prefixes(api, app, org, db, monkeypatch, compiled):
    await bulk_prefixes(db, org, 10, 0)
    await api.data("{ tenant_list { id } }")  # warm the token cache
    change_settings(app, monkeypatch, compile_reads=compiled)
    small = await api.sql_statements(QUERY)
    data = await api.data(QUERY)
    assert len(data["prefix_list"]) == 10
    assert all(p["vrf"]["name"] == "v0" and p["ip_addresses"][0]["address"].endswith(".1/24") for p in data["prefix_list"])
    await bulk_prefixes(db, org, 990, 10)
    large = await api.sql_statements(QUERY)
    assert len((await api.data(QUERY))["prefix_list"]) == 1000
    # Compiled: one statement after the transaction set-up. Resolvers: one statement per
    # relation per level, plus the list itself and the set-up.
    assert small == large == (2 if compiled else 7)


@PATHS
async def test_nested_reverse_relations_batch(api, app, org, db, monkeypatch, compiled):
    await bulk_prefixes(db, org, 20, 0)
    change_settings(app, monkeypatch, compile_reads=compiled)
    query = "{ site_list { name prefixes { prefix ip_addresses { address } vlan { prefixes { prefix } } } } }"
    statements = await api.sql_statements(query)
    assert statements == (2 if compiled else 6)
