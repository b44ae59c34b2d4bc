"""IPAM benchmark: `make bench` (or `python -m benchmarks.ipam --sizes 1000 50000`).

Builds one tenant per size with sites, VRFs, VLANs, prefixes and IP addresses, then
prints for each standard query its latency (median, p95) and SQL statements per request,
plus the load rate in rows per second, and the rate of IP address writes through
mutations, one per request and 500 per ``ip_address_create_many``. Uses DANBYTE_BENCH_DATABASE_URL and
DANBYTE_BENCH_REDIS_URL when set, else the embedded servers in a temporary home.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from contextlib import ExitStack
from typing import Any

import sqlalchemy as sa

from benchmarks.common import bench_database, create_bench_tenant, measure

QUERIES: dict[str, str] = {
    "prefix_list nested (issue query)": ("{ prefix_list { prefix vrf { name } tenant { name } site { name } vlan { vid } ip_addresses { address } } }"),
    "prefix_list flat": "{ prefix_list { id numid prefix status description created } }",
    "prefix_list tree fields": "{ prefix_list(pagination: {limit: 200}) { prefix depth parent { prefix } children { prefix } utilisation } }",
    "prefix_list filtered net_contained": '{ prefix_list(filters: {prefix: {net_contained: "10.0.0.0/16"}}) { prefix } }',
    "ip_address_list with prefix": "{ ip_address_list { address vrf { name } prefix { prefix } } }",
    "site_list -> prefixes": "{ site_list(pagination: {limit: 20}) { name prefixes { prefix } } }",
    "prefix by numid": "{ prefix(numid: 1) { prefix parent { prefix } depth utilisation available_ips(limit: 5) } }",
}


def _prefix_for(i: int) -> str:
    """The i-th /24 inside 10.0.0.0/8 (room for 65,536)."""
    return f"10.{i // 256}.{i % 256}.0/24"


async def load(database_url: str, size: int) -> tuple[str, float, int]:
    """Create an organisation + tenant with ``size`` prefixes; return (token, seconds, rows)."""
    from danbyte.database import Database
    from models.numid import assign_missing_numids

    db = Database(database_url, pool_size=2)
    started = time.perf_counter()
    rows = 0
    async with db.system_transaction() as conn:
        _, tenant, key = await create_bench_tenant(conn, str(size))
        sites = max(1, size // 100)
        vrfs = max(1, size // 1000)
        site_ids = [
            r[0]
            for r in await conn.execute(
                sa.text("INSERT INTO site (tenant_id, name, slug) SELECT :t, 'site-' || g, 'site-' || g FROM generate_series(1, :n) g RETURNING id"),
                {"t": tenant, "n": sites},
            )
        ]
        vrf_ids = [
            r[0]
            for r in await conn.execute(
                sa.text("INSERT INTO vrf (tenant_id, name) SELECT :t, 'vrf-' || g FROM generate_series(1, :n) g RETURNING id"),
                {"t": tenant, "n": vrfs},
            )
        ]
        vlan_ids = [
            r[0]
            for r in await conn.execute(
                sa.text("INSERT INTO vlan (tenant_id, vid, name) SELECT :t, g, 'vlan-' || g FROM generate_series(1, :n) g RETURNING id"),
                {"t": tenant, "n": min(4000, sites)},
            )
        ]
        prefixes = [
            {
                "t": tenant,
                "p": _prefix_for(i),
                "vrf": vrf_ids[0] if i % 10 else None,  # most in one VRF, some in Global
                "site": site_ids[i % len(site_ids)],
                "vlan": vlan_ids[i % len(vlan_ids)],
            }
            for i in range(size)
        ]
        await conn.execute(sa.text("INSERT INTO prefix (tenant_id, prefix, vrf_id, site_id, vlan_id) VALUES (:t, :p, :vrf, :site, :vlan)"), prefixes)
        # Containers above the /24s make a real tree.
        await conn.execute(sa.text("INSERT INTO prefix (tenant_id, prefix, status) VALUES (:t, '10.0.0.0/8', 'container')"), {"t": tenant})
        # Two addresses in each /24, written with the subnet's mask.
        ips = [{"t": tenant, "a": p["p"].replace(".0/24", f".{host}/24"), "vrf": p["vrf"]} for p in prefixes for host in (1, 2)]
        await conn.execute(sa.text("INSERT INTO ip_address (tenant_id, address, vrf_id) VALUES (:t, CAST(:a AS inet), :vrf)"), ips)
        await assign_missing_numids(conn)
        await conn.execute(sa.text("ANALYZE"))
        rows = sites + vrfs + len(vlan_ids) + len(prefixes) + 1 + len(ips)
    seconds = time.perf_counter() - started
    await db.dispose()
    return key, seconds, rows


async def run(database_url: str, redis_url: str, sizes: list[int], repeats: int) -> None:
    from danbyte.app import create_app

    app = create_app(database_url, redis_url)
    for size in sizes:
        key, seconds, rows = await load(database_url, size)
        print(f"\n== {size:,} prefixes: loaded {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        print(f"{'query':40} {'median ms':>10} {'p95 ms':>9} {'SQL':>5} {'SQL ms':>8} {'KB':>8}  path")
        for name, query in QUERIES.items():
            m = await measure(app, key, query, repeats)
            print(f"{name:40} {m.median_ms:10.1f} {m.p95_ms:9.1f} {m.statements:5d} {m.sql_ms:8.1f} {m.size_bytes / 1024:8.1f}  {m.paths}")
    key, _, _ = await load(database_url, 1)
    for batch in (1, 500):
        rate = await batch_rate(app, key, batch, total=2000)
        print(f"ip_address writes through mutations, {batch:>3} per request: {rate:,.0f} objects/s")
    await app.state.danbyte.close()


async def batch_rate(app: Any, key: str, batch: int, total: int) -> float:
    """Objects per second written through ``ip_address_create_many`` (one request a batch;
    a batch of one is a single ``ip_address_create``) over loopback-free ASGI."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    single = "mutation($i: IPAddressCreateInput!) { ip_address_create(input: $i) { id } }"
    many = "mutation($inputs: [IPAddressCreateInput!]!) { ip_address_create_many(inputs: $inputs) { id } }"
    base = 10_000 * batch  # away from other runs' addresses
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None) as client:
        started = time.perf_counter()
        for first in range(0, total, batch):
            inputs = [{"address": f"{_host(base + n)}/16"} for n in range(first, min(total, first + batch))]
            body = {"query": single, "variables": {"i": inputs[0]}} if batch == 1 else {"query": many, "variables": {"inputs": inputs}}
            answer = (await client.post("/graphql", json=body, headers=headers)).json()
            if answer.get("errors"):
                raise RuntimeError(answer["errors"])
        return total / (time.perf_counter() - started)


def _host(n: int) -> str:
    """The n-th address of 172.16.0.0/12."""
    return f"172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000], help="prefixes per tenant (at most 65,536)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with ExitStack() as stack:
        bench_url, redis_url = bench_database(stack)
        asyncio.run(run(bench_url, redis_url, args.sizes, args.repeats))


if __name__ == "__main__":
    main()
