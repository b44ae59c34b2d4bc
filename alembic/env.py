"""Alembic environment: migrations run as the table owner, inside one transaction."""

from __future__ import annotations

from sqlalchemy import create_engine, pool

import models
from alembic import context

config = context.config
target_metadata = models.Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):
    return True


def run_migrations_online() -> None:
    import os

    url = config.attributes.get("database_url") or os.environ.get("DANBYTE_DATABASE_URL")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=False,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `danbyte migrate`")
run_migrations_online()
