"""What the extras cost a write: sites created through mutations with no custom fields,
with six checked custom fields, and with an event rule listening as well.

Per setting it prints objects/s for batches (``site_create_many``, 100 a request) and for
single creates, and the SQL statements of one request of each. The event rule's
dispatch is only enqueued here (no job worker runs): the figure is what the API pays.

    python -m benchmarks.writes [--total 2000] [--singles 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from contextlib import ExitStack
from typing import Any

import httpx

from benchmarks.common import bench_database, create_bench_tenant

MANY = "mutation($inputs: [SiteCreateInput!]!) { site_create_many(inputs: $inputs) { id } }"
ONE = "mutation($i: SiteCreateInput!) { site_create(input: $i) { id } }"
FIELD = "mutation($i: CustomFieldCreateInput!) { custom_field_create(input: $i) { id } }"

# Six fields of the kinds a site carries in practice; every write gives each a value.
FIELDS: list[dict[str, Any]] = [
    {"name": "code", "type": "TYPE_TEXT", "validation_regex": r"^[A-Z]{3}-\d+$"},
    {"name": "racks", "type": "TYPE_INTEGER", "validation_minimum": "0", "validation_maximum": "10000"},
    {"name": "power_kw", "type": "TYPE_DECIMAL"},
    {"name": "staffed", "type": "TYPE_BOOLEAN"},
    {"name": "opened", "type": "TYPE_DATE"},
    {"name": "asset", "type": "TYPE_TEXT", "unique": True},
]


def values(n: int) -> dict[str, Any]:
    return {"code": f"AMS-{n}", "racks": n % 10000, "power_kw": 12.5, "staffed": n % 2 == 0, "opened": "2020-01-01", "asset": f"A-{n}"}


class Client:
    def __init__(self, app: Any, key: str) -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None)
        self.headers = {"Authorization": f"Bearer {key}"}

    async def run(self, query: str, debug: bool = False, **variables: Any) -> dict[str, Any]:
        headers = {**self.headers, "X-Danbyte-Debug": "1"} if debug else self.headers
        body = (await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body


async def setting(client: Client, name: str, tenant: str) -> bool:
    """Define what the setting ``name`` has; True when sites carry custom field values."""
    if name == "plain":
        return False
    for field in FIELDS:
        await client.run(FIELD, i={**field, "tenant": tenant, "object_types": ["dcim.site"]})
    if name == "custom fields + event rule":
        hook = await client.run(
            "mutation($i: WebhookCreateInput!) { webhook_create(input: $i) { id } }",
            i={"tenant": tenant, "name": "bench", "payload_url": "http://127.0.0.1:9/hook"},
        )
        await client.run(
            "mutation($i: EventRuleCreateInput!) { event_rule_create(input: $i) { id } }",
            i={
                "tenant": tenant,
                "name": "bench",
                "object_types": ["dcim.site"],
                "event_types": ["object_created"],
                "action_type": "WEBHOOK",
                "action_object": hook["data"]["webhook_create"]["id"],
            },
        )
    return True


async def measure(app: Any, key: str, tenant: str, name: str, total: int, singles: int) -> None:
    client = Client(app, key)
    fields = await setting(client, name, tenant)

    def site(n: int) -> dict[str, Any]:
        made = {"name": f"site-{n}", "slug": f"site-{n}", "tenant": tenant}
        return {**made, "custom_fields": values(n)} if fields else made

    statements_many = (await client.run(MANY, debug=True, inputs=[site(n) for n in range(100)]))["extensions"]["sql_statements"]
    statements_one = (await client.run(ONE, debug=True, i=site(100)))["extensions"]["sql_statements"]
    started = time.perf_counter()
    for first in range(1000, 1000 + total, 100):
        await client.run(MANY, inputs=[site(n) for n in range(first, first + 100)])
    many_rate = total / (time.perf_counter() - started)
    started = time.perf_counter()
    for n in range(100_000, 100_000 + singles):
        await client.run(ONE, i=site(n))
    one_rate = singles / (time.perf_counter() - started)
    print(f"{name:28} {many_rate:12,.0f} {statements_many:8d} {one_rate:12,.0f} {statements_one:8d}")
    await client.http.aclose()


async def run(database_url: str, redis_url: str, total: int, singles: int) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from danbyte.app import create_app

    app = create_app(database_url, redis_url)
    engine = create_async_engine(database_url)
    print(f"{'setting':28} {'batch obj/s':>12} {'SQL/100':>8} {'single obj/s':>12} {'SQL/1':>8}")
    for index, name in enumerate(("plain", "custom fields", "custom fields + event rule")):
        async with engine.begin() as conn:
            _, tenant, key = await create_bench_tenant(conn, f"writes-{index}")
        await measure(app, key, str(tenant), name, total, singles)
    await engine.dispose()
    await app.state.danbyte.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=2000, help="sites written in batches of 100 per setting")
    parser.add_argument("--singles", type=int, default=200, help="sites written one request each per setting")
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url, redis_url = bench_database(stack, "danbyte_bench_writes")
        asyncio.run(run(database_url, redis_url, args.total, args.singles))


if __name__ == "__main__":
    main()
