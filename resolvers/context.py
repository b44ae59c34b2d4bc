"""What every resolver gets: the principal, the database, per-request loaders, events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from permissions.principal import Principal


class EventSink(Protocol):
    async def publish(self, events: list[dict[str, Any]]) -> None: ...


class Database(Protocol):
    def request_transaction(self, principal: Principal) -> Any: ...
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
    # SQL figures of this request (X-Danbyte-Debug).
    stats: Any = None
    _loaders: dict[Hashable, DataLoader] = field(default_factory=dict)
    _read_stack: AsyncExitStack | None = None
    _read_conn: AsyncConnection | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """The request's read connection: one transaction shared by all reads, used in turn."""
        async with self._lock:
            if self._read_conn is None:
                self._read_stack = AsyncExitStack()
                self._read_conn = await self._read_stack.enter_async_context(
                    self.db.request_transaction(self.require_principal())
                )
            yield self._read_conn

    async def close(self) -> None:
        if self._read_stack is not None:
            stack, self._read_stack, self._read_conn = self._read_stack, None, None
            await stack.aclose()
        self._loaders.clear()
