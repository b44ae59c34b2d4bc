"""Test services, started once per session: PostgreSQL and Redis (embedded unless
DANBYTE_TEST_DATABASE_URL / DANBYTE_TEST_REDIS_URL are set), a fresh migrated database,
and the ASGI app. Each test runs inside a transaction rolled back at its end; tests that
need real commits (concurrency, other processes) use ``committed_org`` instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
# Every query the tests send is answered by the SQL compiler and, in shadow, by the
# resolvers too; any difference fails the request (schema/compiled.py).
os.environ.setdefault("DANBYTE_COMPILER_SHADOW", "1")
# Secrets are sealed with this key in tests, not one generated into the user's home.
os.environ.setdefault("DANBYTE_SECRET_KEY", "danbyte-tests-only")

from factories import Api, OrgFixture, make_org

from danbyte.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def services() -> Iterator[tuple[str, str]]:
    """(server URL without database, Redis URL)."""
    database = os.environ.get("DANBYTE_TEST_DATABASE_URL")
    redis_url = os.environ.get("DANBYTE_TEST_REDIS_URL")
    if database and redis_url:
        yield database, redis_url
        return
    from danbyte.embedded import EmbeddedServices

    home = Path(tempfile.mkdtemp(prefix="dbt-test-"))
    embedded = EmbeddedServices(home, fast=True)
    database_url, embedded_redis = embedded.start()
    try:
        yield database or database_url, redis_url or embedded_redis
    finally:
        embedded.stop()
        shutil.rmtree(home, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(services: tuple[str, str]) -> Iterator[str]:
    """A database made for this session, migrated to head, dropped at the end."""
    from danbyte.cli import async_url
    from danbyte.migrations import migrate

    server_url = async_url(services[0])
    name = f"danbyte_test_{os.getpid()}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = _with_database(server_url, name)
    migrate(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url(services: tuple[str, str]) -> str:
    return services[1]


@pytest.fixture(scope="session")
async def app(database_url: str, redis_url: str) -> AsyncIterator[object]:
    from danbyte.app import create_app

    application = create_app(database_url, redis_url)
    yield application
    await application.state.danbyte.close()


@pytest.fixture
async def db(app: object) -> AsyncIterator[object]:
    """The app's database bound to one connection whose transaction is rolled back."""
    database = app.state.danbyte.db  # type: ignore[attr-defined]
    conn = await database.engine.connect()
    transaction = await conn.begin()
    database.bind(conn)
    try:
        yield database
    finally:
        database.bind(None)
        await transaction.rollback()
        await conn.close()


@pytest.fixture
async def org(db: object) -> OrgFixture:
    """An organisation with two tenants, an admin and the admin's token (rolled back)."""
    return await make_org(db, tenants=2)


@pytest.fixture
async def api(app: object, org: OrgFixture) -> AsyncIterator[Api]:
    async with Api.connect(app, org.admin_key) as client:
        yield client


@pytest.fixture
async def committed_org(app: object) -> OrgFixture:
    """An organisation whose rows are really committed (for tests across connections or
    processes). It lives in this session's database only; other tests cannot see it."""
    return await make_org(app.state.danbyte.db, tenants=2)  # type: ignore[attr-defined]


@pytest.fixture
async def committed_api(app: object, committed_org: OrgFixture) -> AsyncIterator[Api]:
    async with Api.connect(app, committed_org.admin_key) as client:
        yield client


@pytest.fixture(scope="session")
async def netbox_demo(app: object) -> Any:
    """NetBox's demo export imported once, committed, into an organisation of its own:
    (OrgFixture, import Summary). For tests that only read it."""
    from netbox_demo import import_demo

    return await import_demo(app.state.danbyte.db)  # type: ignore[attr-defined]


@pytest.fixture
async def netbox_api(app: object, netbox_demo: Any) -> AsyncIterator[Api]:
    """GraphQL as the administrator of the imported demo's organisation."""
    async with Api.connect(app, netbox_demo[0].admin_key) as client:
        yield client


@pytest.fixture
async def worker(database_url: str, redis_url: str) -> AsyncIterator[Any]:
    """A real dramatiq worker in this process (one thread)."""
    from jobs.broker import configure, start_worker

    broker = configure(database_url, redis_url)
    broker.flush_all()
    running = start_worker(broker, threads=1)
    try:
        yield broker
    finally:
        running.stop()
        broker.flush_all()
        broker.close()


@pytest.fixture
def fast_retries() -> Iterator[None]:
    """Deliveries (webhooks, notifications) retried twice, 50 ms apart at first, each
    attempt waiting 5 s at most (workers read these settings per delivery)."""
    saved = {name: os.environ.get(name) for name in ("DANBYTE_WEBHOOK_RETRIES", "DANBYTE_WEBHOOK_BACKOFF_MS", "DANBYTE_WEBHOOK_TIMEOUT")}
    os.environ.update({"DANBYTE_WEBHOOK_RETRIES": "2", "DANBYTE_WEBHOOK_BACKOFF_MS": "50", "DANBYTE_WEBHOOK_TIMEOUT": "5"})
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
