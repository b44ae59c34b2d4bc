"""Races through the API with real commits: numids and allocations stay exact."""

from __future__ import annotations

import asyncio


async def test_50_concurrent_creates_get_numids_1_to_50(committed_api, committed_org):
    tenant = committed_org.tenant_ids[0]

    async def create(i: int) -> int:
        data = await committed_api.data(f'mutation {{ region_create(input: {{name: "r{i}", slug: "r{i}", tenant: "{tenant}"}}) {{ numid }} }}')
        return data["region_create"]["numid"]

    numids = await asyncio.gather(*(create(i) for i in range(50)))
    assert sorted(numids) == list(range(1, 51))


async def test_20_concurrent_allocations_get_distinct_results(committed_api, committed_org):
    tenant = committed_org.tenant_ids[1]
    subnet = await committed_api.data(f'mutation {{ prefix_create(input: {{prefix: "192.0.2.0/24", tenant: "{tenant}"}}) {{ id }} }}')
    subnet_id = subnet["prefix_create"]["id"]
    parent = await committed_api.data(f'mutation {{ prefix_create(input: {{prefix: "10.50.0.0/16", tenant: "{tenant}"}}) {{ id }} }}')
    parent_id = parent["prefix_create"]["id"]

    async def allocate_ip() -> str:
        data = await committed_api.data(f'mutation {{ prefix_allocate_ip(prefix: "{subnet_id}") {{ address }} }}')
        return data["prefix_allocate_ip"]["address"]

    async def allocate_prefix() -> str:
        data = await committed_api.data(f'mutation {{ prefix_allocate_prefix(prefix: "{parent_id}", prefix_length: 26) {{ prefix }} }}')
        return data["prefix_allocate_prefix"]["prefix"]

    addresses = await asyncio.gather(*(allocate_ip() for _ in range(20)))
    assert sorted(addresses, key=lambda a: int(a.split(".")[3].split("/")[0])) == [f"192.0.2.{i}/24" for i in range(1, 21)]
    prefixes = await asyncio.gather(*(allocate_prefix() for _ in range(20)))
    assert len(set(prefixes)) == 20
    assert all(p.startswith("10.50.") and p.endswith("/26") for p in prefixes)
