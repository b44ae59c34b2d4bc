"""Engine and transactions.

Two kinds of transaction:
- ``request_transaction(principal)``: runs as the restricted role ``danbyte_app`` with the
  principal's tenants and organisation set for row-level security;
- ``system_transaction()``: the table owner, for migrations, authentication and
  maintenance (numid backfill), where no principal exists yet.

Tests bind the database to one connection whose outer transaction is rolled back at the
end of each test; every transaction here then becomes a savepoint on it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from permissions.principal import Principal

# The settings a transaction runs under for a principal: shared with the job workers.
from permissions.rls import SET_PRINCIPAL as _SET_PRINCIPAL
from permissions.rls import principal_settings, tenants_literal

__all__ = ["Database", "QueryStats", "current_stats", "principal_settings", "tenants_literal"]


@dataclass
class QueryStats:
    statements: int = 0
    seconds: float = 0.0


# The statistics of the request being served (X-Danbyte-Debug and tests read it).
current_stats: contextvars.ContextVar[QueryStats | None] = contextvars.ContextVar("danbyte_query_stats", default=None)


# Savepoints and RESET ROLE only occur when tests bind the database to one connection;
# not counting them keeps the figures equal to a production request's.
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RESET ROLE")


def _count_statements(engine: AsyncEngine) -> None:
    def before(conn, cursor, statement, parameters, context, executemany):
        context._danbyte_started = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        stats = current_stats.get()
        if stats is not None and not statement.startswith(_TRANSACTION_CONTROL):
            stats.statements += 1
            stats.seconds += time.perf_counter() - context._danbyte_started

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)


@dataclass
class Database:
    url: str
    pool_size: int = 10
    max_overflow: int = 20
    engine: AsyncEngine = field(init=False)
    _bound: AsyncConnection | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # native_inet_types=False: inet/cidr arrive as the strings the API shows, not ipaddress objects.
        self.engine = create_async_engine(self.url, pool_size=self.pool_size, max_overflow=self.max_overflow, native_inet_types=False)
        _count_statements(self.engine)

    def bind(self, connection: AsyncConnection | None) -> None:
        """Tests: run every transaction as a savepoint on ``connection``."""
        self._bound = connection

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._bound is not None:
            try:
                async with self._bound.begin_nested():
                    yield self._bound
            finally:
                # SET LOCAL outlives a released savepoint; undo it for the next user.
                await self._bound.execute(sa.text("RESET ROLE"))
            return
        async with self.engine.connect() as conn:
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def request_transaction(self, principal: Principal, *, writing: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction as the request role, seeing what ``principal`` may see (and, when
        ``writing``, also the types it may write)."""
        async with self._transaction() as conn:
            await conn.execute(_SET_PRINCIPAL, principal_settings(principal, writing))
            yield conn

    @asynccontextmanager
    async def system_transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._transaction() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
