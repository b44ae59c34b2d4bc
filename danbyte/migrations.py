"""Apply Alembic migrations (as the table owner) and check the server is new enough."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config

from alembic import command

ROOT = Path(__file__).resolve().parent.parent
# The session-level advisory lock every migrating process takes first (a fixed key: "dbte"
# "migr" in ASCII), so N processes starting at once upgrade once; the others wait, then
# find the database at head and have nothing to do.
MIGRATION_LOCK = 0x6462_7465_6D69_6772
MIN_SERVER_VERSION = 150000  # NULLS NOT DISTINCT and ON DELETE SET NULL (column) need PostgreSQL 15


class UnsupportedServer(RuntimeError):
    pass


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    return config


def check_server_version(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            version = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
    finally:
        engine.dispose()
    require_version(version)
    return version


def require_version(version: int) -> None:
    """Refuse servers older than 15 (``server_version_num``, e.g. 140011) with a clear message."""
    if version < MIN_SERVER_VERSION:
        raise UnsupportedServer(
            f"PostgreSQL {version // 10000} is too old: Danbyte needs PostgreSQL 15 or newer (for UNIQUE NULLS NOT DISTINCT and ON DELETE SET NULL (column))"
        )


def migrate(url: str) -> None:
    """Apply the migrations, then the row-level security every table's declaration asks for.

    Under ``MIGRATION_LOCK``, held by a connection of its own for the whole upgrade: any
    number of API processes, workers or ``danbyte migrate`` runs may call this at once
    against one database; one upgrades, the others wait and then find nothing to do.
    The lock is the session's, so a process that dies mid-upgrade releases it with its
    connection (Alembic's own transaction rolls back)."""
    import models
    from permissions.rls import apply_policies

    check_server_version(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as lock:
            lock.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()  # no transaction left open (and idle) while the upgrade runs
            try:
                command.upgrade(alembic_config(url), "head")
                with engine.begin() as conn:
                    apply_policies(conn, models.Base.metadata)
            finally:
                lock.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                lock.commit()
    finally:
        engine.dispose()
