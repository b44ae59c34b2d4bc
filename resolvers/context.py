"""What every resolver gets: the principal, the database, per-request loaders, events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from permissions.principal import Principal

T = TypeVar("T")


class EventSink(Protocol):
    async def publish(self, events: list[dict[str, Any]]) -> None: ...
    async def invalidate_principals(self) -> None: ...
    async def enqueue(self, message: Any) -> None: ...


class Database(Protocol):
    def request_transaction(self, principal: Principal, *, writing: bool = False) -> Any: ...
    def system_transaction(self) -> Any: ...


@dataclass
class RequestContext:
    db: Database
    principal: Principal | None
    events: EventSink | None
    settings: Any
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    debug: bool = False
    # Why authentication failed, for the UNAUTHENTICATED message (set by the transport).
    auth_error: str | None = None
    # graphql-transport-ws connection_init payload (strawberry sets it when present).
    connection_params: dict[str, Any] | None = None
    # A WebSocket's key and the principals generation it was checked in: the fan-out checks
    # the key again when grants change (danbyte/fanout.py: Fanout.recheck).
    credential_key: str | None = None
    auth_generation: int | None = None
    # SQL figures of this request (X-Danbyte-Debug).
    stats: Any = None
    # Lists the page ceiling cut short: {"path": [...], "limit": N} each, reported in the
    # response's extensions so a client never mistakes a first page for everything.
    truncated: list[dict[str, Any]] = field(default_factory=list)
    # The transport can send JSON text as it is (HTTP, not WebSocket): root fields may be
    # answered by compiled SQL (schema/compiled.py).
    raw_answers: bool = False
    # Which path answered each root field ("sql", or "resolvers: <why>"), for X-Danbyte-Debug.
    paths: dict[str, str] = field(default_factory=dict)
    # A live subscription's part when the fan-out runs it (danbyte/fanout.py): "current"
    # sends only the current set, "changes" only what changes after; None: both.
    live_phase: str | None = None
    _loaders: dict[Hashable, DataLoader] = field(default_factory=dict)
    _read_stack: AsyncExitStack | None = None
    _read_conn: AsyncConnection | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def report_cut(self, path: list[Any], limit: int) -> None:
        """A list at ``path`` (root key, then field names) was cut at ``limit``; said once per path."""
        entry = {"path": path, "limit": limit}
        if entry not in self.truncated:
            self.truncated.append(entry)

    def require_principal(self) -> Principal:
        from resolvers.errors import Unauthenticated

        if self.principal is None:
            raise Unauthenticated(self.auth_error or "authentication required: send 'Authorization: Bearer <token>'")
        return self.principal

    def loader(self, key: Hashable, load: Callable[[list[Any]], Any]) -> DataLoader:
        """The request's loader for ``key``, created on first use: one batch per level."""
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(load_fn=load)
        return loader

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` on the request's read connection: one transaction shared by all
        reads, used in turn.

        Shielded from cancellation: when one root field fails, graphql-core cancels its
        siblings, and a statement abandoned mid-flight leaves the shared connection
        unusable. The cancelled caller stops waiting; the statement runs to its end, and
        close() waits for it."""
        task = asyncio.ensure_future(self._run(work))
        # Retrieve the outcome even when nobody waits for it any more.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(task)

    async def _run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self._lock:
            if self._read_conn is None:
                self._read_stack = AsyncExitStack()
                conn: AsyncConnection = await self._read_stack.enter_async_context(self.db.request_transaction(self.require_principal()))
                self._read_conn = conn
            return await work(self._read_conn)

    async def abandon(self) -> None:
        """Roll the read transaction back (a statement failed in it, so it is aborted);
        the next read opens a new one."""
        async with self._lock:
            if self._read_stack is not None:
                stack, self._read_stack, self._read_conn = self._read_stack, None, None
                # Exiting with an exception makes the transaction roll back (not commit).
                failed = RuntimeError("read transaction abandoned")
                await stack.__aexit__(type(failed), failed, None)

    async def close(self) -> None:
        async with self._lock:  # after any statement still running for a cancelled field
            if self._read_stack is not None:
                stack, self._read_stack, self._read_conn = self._read_stack, None, None
                await stack.aclose()
        self._loaders.clear()
