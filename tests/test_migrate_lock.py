"""Migrations under an advisory lock: processes migrating one fresh database at once
upgrade it once; the others wait, then find it at head (danbyte/migrations.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from danbyte.cli import async_url
from danbyte.migrations import MIGRATION_LOCK, alembic_config


@pytest.fixture
def fresh_database(services: tuple[str, str]) -> Iterator[str]:
    server = async_url(services[0])
    name = f"danbyte_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def head(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()  # type: ignore[return-value]


@pytest.mark.slow
def test_concurrent_migrate_upgrades_once(fresh_database: str) -> None:
    env = {**os.environ, "DANBYTE_DATABASE_URL": fresh_database, "DANBYTE_REDIS_URL": ""}
    procs = [
        subprocess.Popen([sys.executable, "-m", "danbyte.cli", "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    # Alembic logs each revision it applies: the first one ran in exactly one process.
    first = ScriptDirectory.from_config(alembic_config(fresh_database)).get_base()
    upgraded = [out for out in outputs if f"Running upgrade  -> {first}" in out]
    assert len(upgraded) == 1, outputs
    assert all("database is at the latest migration" in out for out in outputs)
    engine = sa.create_engine(fresh_database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head(fresh_database)
            # The lock was given back: nothing holds it now.
            assert conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK}).scalar()
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    finally:
        engine.dispose()


def test_migrate_waits_for_the_lock_holder(fresh_database: str) -> None:
    """While another session holds the lock, migrate does not touch the database."""
    import threading

    from danbyte.migrations import migrate

    engine = sa.create_engine(fresh_database, poolclass=sa.pool.NullPool)
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(fresh_database)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            done.set()

    try:
        with engine.connect() as holder:
            holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            holder.commit()
            thread = threading.Thread(target=run)
            thread.start()
            assert not done.wait(3)
            assert holder.execute(sa.text("SELECT to_regclass('alembic_version')")).scalar() is None
            holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            holder.commit()
        thread.join(300)
        assert done.is_set() and not errors, errors
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head(fresh_database)
    finally:
        engine.dispose()
