"""What the benchmarks share: a fresh migrated database, a tenant with an admin token,
latency measurement over the in-process ASGI app, and this process's memory."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def bench_database(stack: ExitStack, name: str = "danbyte_bench") -> tuple[str, str]:
    """(URL of a freshly created and migrated database ``name``, Redis URL).

    Uses DANBYTE_BENCH_DATABASE_URL and DANBYTE_BENCH_REDIS_URL when both are set, else
    starts the embedded servers in a temporary home (stopped and removed when ``stack``
    closes)."""
    from danbyte.cli import async_url
    from danbyte.migrations import migrate

    database_url = os.environ.get("DANBYTE_BENCH_DATABASE_URL")
    redis_url = os.environ.get("DANBYTE_BENCH_REDIS_URL")
    if not (database_url and redis_url):
        from danbyte.embedded import EmbeddedServices

        home = Path(tempfile.mkdtemp(prefix="dbt-bench-"))
        stack.callback(shutil.rmtree, home, ignore_errors=True)  # after the servers stop
        services = EmbeddedServices(home, fast=True)
        embedded_db, embedded_redis = services.start()
        stack.callback(services.stop)
        database_url = database_url or embedded_db
        redis_url = redis_url or embedded_redis
    database_url = async_url(database_url)
    server = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    bench_url = sa.engine.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    migrate(bench_url)
    return bench_url, redis_url


async def create_bench_tenant(conn: AsyncConnection, label: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An organisation ``bench-<label>`` with a tenant ``bench`` and an administrator's
    token: (organisation id, tenant id, token key)."""
    from danbyte.bootstrap import create_admin, create_organization
    from models.base import table_of
    from models.tenancy import Tenant
    from permissions.tokens import create_token

    org = await create_organization(conn, f"bench-{label}", f"bench-{label}")
    tenant = (await conn.execute(sa.insert(table_of(Tenant)).values(org_id=org.id, name="bench", slug="bench").returning(Tenant.__table__.c.id))).scalar_one()
    admin = await create_admin(conn, org.id, f"bench-admin-{label}")
    _, key = await create_token(conn, admin.id)
    return org.id, tenant, key


@dataclass(frozen=True)
class Measured:
    """One query's figures over repeated runs."""

    median_ms: float
    p95_ms: float
    statements: int  # SQL statements of the last run
    sql_ms: float  # SQL time of the last run
    size_bytes: int
    paths: str  # which path answered each root field ("sql", "resolvers: …")


async def measure(app: Any, key: str, query: str, repeats: int, check: Callable[[dict[str, Any]], None] | None = None) -> Measured:
    """Figures over ``repeats`` runs after one warm-up; ``check`` is given the warm-up's ``data``."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}", "X-Danbyte-Debug": "1"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as client:
        body = (await client.post("/graphql", json={"query": query}, headers=headers)).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        if check is not None:
            check(body["data"])
        timings = []
        size = 0
        for _ in range(repeats):
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": query}, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            size = len(response.content)
        extensions = response.json()["extensions"]
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    paths = ", ".join(sorted({path.split(":")[0] for path in extensions.get("paths", {}).values()}))
    return Measured(statistics.median(timings), p95, extensions["sql_statements"], extensions["sql_ms"], size, paths)


def memory_mb() -> dict[str, float]:
    """This process's resident set size now (VmRSS) and at its peak (VmHWM), in MiB, from
    /proc/self/status."""
    found: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024  # kB
    return found
