"""Apply Alembic migrations (as the table owner) and check the server is new enough."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config

from alembic import command

ROOT = Path(__file__).resolve().parent.parent
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
    """Apply the migrations, then the row-level security every table's declaration asks for."""
    import models
    from permissions.rls import apply_policies

    check_server_version(url)
    command.upgrade(alembic_config(url), "head")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            apply_policies(conn, models.Base.metadata)
    finally:
        engine.dispose()
