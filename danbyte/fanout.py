"""Subscription delivery: one execution per group of equal subscriptions, the same bytes
to each member, and a bounded queue per connection (docs/subscriptions.md).

A subscription over graphql-transport-ws joins a **group**: the subscriptions with the
same document, operation name, variables and visibility (``visibility_key``: what the
principal may see — organisation, tenants, grants). A group runs the subscription once,
as the first member's principal, on a queue of its own on the event bus; each result is
encoded once and spliced into every member's ``{"id":…,"type":"next","payload":…}``.
Delivering is a task of its own that yields to the event loop every ``CHUNK`` members,
so a mutation's response never waits for the fan-out.

Each connection writes through an ``Outbox``: frames in order, at most
``DANBYTE_WS_QUEUE_LIMIT`` waiting. A fan-out never waits for a connection: one that
falls that far behind is closed with ``SLOW_CONSUMER`` (4008) and leaves its groups;
the others are not slowed. A group is dropped with its last member, so nothing is kept
per subscriber once it leaves.

A live subscription (schema/live.py: the current set, then changes) sends each new
member its current set from a run of its own (``live_phase = "current"``) while the
group's changes (``live_phase = "changes"``) wait for it in a buffer, so none is lost
between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import hashlib
import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, OperationType, SelectionSetNode, parse
from graphql.utilities import get_operation_ast
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from danbyte import metrics
from permissions.principal import Principal
from permissions.tokens import AuthError
from resolvers.context import RequestContext

logger = logging.getLogger("danbyte.fanout")

# Close code of a connection that let more than DANBYTE_WS_QUEUE_LIMIT messages wait.
SLOW_CONSUMER = 4008
# graphql-transport-ws's codes for a connection whose token stopped working (expired,
# revoked, its user deactivated) and one whose grants changed (connect again to get them).
UNAUTHORIZED = 4401
FORBIDDEN = 4403
# Members served between two yields to the event loop.
CHUNK = 16
# How long closing a slow consumer may wait for its socket before the connection is dropped.
CLOSE_TIMEOUT = 10.0


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def visibility_key(principal: Principal) -> str:
    """Everything that decides what ``principal`` may see (row-level security's settings
    and every permission check): equal for two users who see the same, different
    otherwise. Not the user: no subscription answer depends on who, only on what."""
    return _dumps(
        [
            str(principal.org_id),
            principal.is_admin,
            principal.all_tenants,
            principal.write_enabled,
            sorted(str(t) for t in principal.tenant_ids),
            sorted([object_type, sorted(actions)] for object_type, actions in principal.grants.items()),
        ]
    )


def group_key(query: str, operation_name: str | None, variables: dict[str, Any] | None, visibility: str) -> bytes:
    text = json.dumps([query, operation_name, variables or {}, visibility], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class Plan:
    live: bool  # its root field sends a current set first (schema/live.py)
    # A root field resumes from a cursor (``after``): its replay is its own, so it runs
    # alone, never joining (or being joined late by) a group that replayed earlier.
    alone: bool = False


@lru_cache(maxsize=1000)
def plan(query: str, operation_name: str | None, max_tokens: int, live_fields: frozenset[str]) -> Plan | None:
    """How the fan-out serves a document: None unless it is a subscription it can read
    (anything else — a query, a syntax error, an unknown operation — goes the ordinary way,
    which answers it or refuses it as before)."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.SUBSCRIPTION:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments and selection.name.value not in seen:
                seen.add(selection.name.value)
                walk(fragments[selection.name.value].selection_set)

    walk(operation.selection_set)
    alone = any(
        isinstance(field, FieldNode) and any(arg.name.value == "after" for arg in field.arguments or ()) for field in operation.selection_set.selections
    )
    return Plan(live=bool(names & live_fields), alone=alone)


class Outbox:
    """A connection's outgoing messages, written in order by one task; at most ``limit``
    waiting. ``offer`` (the fan-out) never waits: over the limit the connection is closed
    as a slow consumer. ``put`` (the connection's own answers) waits for room."""

    def __init__(self, websocket: Any, limit: int, on_overflow: Any) -> None:
        self.ws = websocket
        self.limit = max(1, limit)
        # Each frame with the time its event was published (epoch seconds; None: not an event's).
        self.frames: deque[tuple[str, float | None]] = deque()
        self.closing = False
        self.dead = asyncio.Event()
        self._on_overflow = on_overflow
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write())

    def offer(self, frame: str, published: float | None = None) -> bool:
        if self.closing:
            return False
        if len(self.frames) >= self.limit:
            self.overflow()
            return False
        self.frames.append((frame, published))
        self._ready.set()
        if len(self.frames) >= self.limit:
            self._room.clear()
        return True

    async def put(self, frame: str) -> None:
        while not self.closing and len(self.frames) >= self.limit:
            await self._room.wait()
        self.offer(frame)

    def overflow(self) -> None:
        if self.closing:
            return
        logger.info("closing a slow WebSocket consumer: %d messages waiting", len(self.frames))
        self._on_overflow()
        self.shut(SLOW_CONSUMER, f"slow consumer: more than {self.limit} messages waiting")

    def shut(self, code: int, reason: str) -> None:
        """Drop what waits and close the connection with ``code``; the connection ends."""
        if self.closing:
            return
        self.closing = True
        self.frames.clear()
        self._room.set()
        if self._writer is not None:
            self._writer.cancel()
        task = asyncio.create_task(self._close(code, reason))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _close(self, code: int, reason: str) -> None:
        try:
            # Waits while the socket's buffer is full: the peer gets the code once it reads.
            await asyncio.wait_for(self.ws.close(code=code, reason=reason), CLOSE_TIMEOUT)
        except Exception:  # gone already, or never reads again: dropped
            pass
        finally:
            self.dead.set()

    async def _write(self) -> None:
        try:
            while True:
                while not self.frames:
                    self._ready.clear()
                    await self._ready.wait()
                frame, published = self.frames.popleft()
                if len(self.frames) < self.limit:
                    self._room.set()
                await self.ws.send_text(frame)
                if published is not None:
                    metrics.FANOUT_LAG.observe(max(0.0, time.time() - published))
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer left: the receiving side ends the connection
            self.closing = True
            self.frames.clear()
            self._room.set()

    async def stop(self) -> None:
        self.closing = True
        self.frames.clear()
        self._room.set()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(BaseException):
                await self._writer


class Subscriber(Operation[RequestContext, None]):
    """One subscription of one connection, a member of a group."""

    __slots__ = ("group", "pending", "prefix")

    def __init__(self, handler: FanoutTransportHandler, id: str, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> None:
        super().__init__(handler, id, query, variables, operation_name)
        self.group: Group | None = None
        # While its current set is sent: the group's frames, to follow it.
        self.pending: list[tuple[str, bool, float | None]] | None = None
        self.prefix = '{"id":' + _dumps(id) + ',"type":"next","payload":'

    @property
    def outbox(self) -> Outbox:
        handler = self.handler
        assert isinstance(handler, FanoutTransportHandler)
        return handler.outbox

    def push(self, frame: str, final: bool = False, published: float | None = None) -> None:
        """A frame of the group's (``final``: its last for this subscriber)."""
        if self.pending is not None:
            if len(self.pending) >= self.outbox.limit:
                self.outbox.overflow()
                return
            self.pending.append((frame, final, published))
            return
        self.outbox.offer(frame, published)
        if final:
            self.handler.operations.pop(self.id, None)


class GroupEvents:
    """The event source a group's run subscribes to: its own queue on the bus, opened
    before any member's current set is read."""

    def __init__(self, bus: Any, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.bus, self.queue = bus, queue
        # When the latest event taken was published (danbyte/events.py): the fan-out lag.
        self.last_published: float | None = None

    async def subscribe(self, after: str | None = None) -> Any:
        from danbyte.events import resume

        async for event in resume(self.bus, self.queue, after):
            # Replayed events carry their old publication time: only live ones measure the lag.
            published = event.get("_published")
            self.last_published = published if isinstance(published, float) and after is None else None
            yield event

    async def publish(self, events: list[dict[str, Any]]) -> None:
        await self.bus.publish(events)

    async def invalidate_principals(self) -> None:
        await self.bus.invalidate_principals()

    async def enqueue(self, message: Any) -> None:
        await self.bus.enqueue(message)

    async def principals_generation(self) -> int | None:
        result: int | None = await self.bus.principals_generation()
        return result


class Group:
    def __init__(self, key: bytes, query: str, variables: dict[str, Any] | None, operation_name: str | None, live: bool) -> None:
        self.key = key
        self.query, self.variables, self.operation_name, self.live = query, variables, operation_name, live
        self.members: dict[Subscriber, None] = {}
        self.listening = asyncio.Event()
        self.queue: asyncio.Queue[dict[str, Any]] | None = None
        self.context: RequestContext | None = None
        self.source: GroupEvents | None = None
        self.task: asyncio.Task[None] | None = None


class Fanout:
    """A process's subscription groups."""

    def __init__(self, schema: Any, bus: Any, db: Any, settings: Any, live_fields: frozenset[str] = frozenset(), principal_for: Any = None) -> None:
        self.schema, self.bus, self.db, self.settings = schema, bus, db, settings
        # (key, generation) -> Principal, raising AuthError: the app's cached lookup (AppState.principal_for).
        self.principal_for = principal_for
        self.live_fields = live_fields
        self.groups: dict[bytes, Group] = {}
        self.subscribers = 0
        # Open WebSocket connections, for Fanout.recheck.
        self.connections: set[FanoutTransportHandler] = set()
        self._watcher: asyncio.Task[None] | None = None
        # Figures for tests and the benchmark.
        self.executions = 0
        self.slow_consumers = 0
        self._peak = 0
        self._trim: asyncio.TimerHandle | None = None
        # What this fan-out has added to the process's gauges (several apps may share a process).
        self._reported = (0, 0)

    def _report(self) -> None:
        subscribers, groups = self.subscribers, len(self.groups)
        metrics.WS_SUBSCRIBERS.inc(subscribers - self._reported[0])
        metrics.WS_GROUPS.inc(groups - self._reported[1])
        self._reported = (subscribers, groups)

    def plan(self, query: Any, operation_name: Any, variables: Any) -> Plan | None:
        if not isinstance(query, str) or not isinstance(operation_name, (str, type(None))) or not isinstance(variables, (dict, type(None))):
            return None
        return plan(query, operation_name, self.settings.max_tokens, self.live_fields)

    def attach(self, connection: FanoutTransportHandler) -> None:
        self.connections.add(connection)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())

    def detach(self, connection: FanoutTransportHandler) -> None:
        self.connections.discard(connection)

    async def _watch(self) -> None:
        while self.connections:
            await asyncio.sleep(self.settings.ws_recheck_seconds)
            try:
                await self.recheck()
            except Exception:  # Redis or the database unreachable: try again next period
                logger.warning("could not check WebSocket connections' tokens", exc_info=True)

    async def recheck(self) -> int:
        """Close the connections whose token no longer holds what they were authenticated
        with: expired (checked every period), or — after any change of tokens, users or
        grants (the principals generation moved) — revoked, its user deactivated
        (UNAUTHORIZED), or its principal different (FORBIDDEN: connecting again gives the
        new rights). One lookup per distinct key. Returns how many were closed."""
        now = datetime.now(UTC)
        generation = await self.bus.principals_generation()
        closed = 0
        stale: dict[str, list[FanoutTransportHandler]] = {}
        for connection in list(self.connections):
            ctx, principal = connection.context, connection.context.principal
            if principal is None or connection.outbox.closing:
                continue
            if principal.expires is not None and principal.expires <= now:
                connection.close_for(UNAUTHORIZED, "token expired")
                closed += 1
            elif generation is not None and ctx.auth_generation != generation and ctx.credential_key and self.principal_for:
                stale.setdefault(ctx.credential_key, []).append(connection)
        for key, connections in stale.items():
            try:
                fresh: Principal | None = await self.principal_for(key, generation)
                reason = "permissions changed: connect again"
            except AuthError as error:
                fresh, reason = None, str(error)
            for connection in connections:
                if fresh is not None and fresh == connection.context.principal:
                    connection.context.auth_generation = generation
                    continue
                connection.close_for(FORBIDDEN if fresh is not None else UNAUTHORIZED, reason)
                closed += 1
        return closed

    def stats(self) -> dict[str, int]:
        return {"groups": len(self.groups), "subscribers": self.subscribers, "executions": self.executions, "slow_consumers": self.slow_consumers}

    async def join(self, subscriber: Subscriber, principal: Principal, live: bool, alone: bool = False) -> None:
        key = os.urandom(32) if alone else group_key(subscriber.query, subscriber.operation_name, subscriber.variables, visibility_key(principal))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, subscriber.query, subscriber.variables, subscriber.operation_name, live)
            group.task = asyncio.create_task(self._run(group, principal))
            group.task.add_done_callback(lambda done: done.cancelled() or done.exception())
        subscriber.group = group
        group.members[subscriber] = None
        self.subscribers += 1
        self._peak = max(self._peak, self.subscribers)
        self._report()
        if live:
            subscriber.pending = []
            subscriber.task = asyncio.create_task(self._current(subscriber, principal))
            subscriber.task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def leave(self, subscriber: Subscriber) -> None:
        group, subscriber.group = subscriber.group, None
        if subscriber.task is not None and subscriber.task is not asyncio.current_task():
            subscriber.task.cancel()
        if group is None or subscriber not in group.members:
            return
        del group.members[subscriber]
        self.subscribers -= 1
        if not group.members:
            self._drop(group)
        self._report()
        if self._peak >= 100 and self.subscribers <= self._peak // 2:
            self._schedule_trim()

    def _drop(self, group: Group) -> None:
        if self.groups.get(group.key) is group:
            del self.groups[group.key]
        if group.task is not None and group.task is not asyncio.current_task():
            group.task.cancel()
        self._report()

    def _schedule_trim(self) -> None:
        """Once many subscribers have left, give the memory back (Python keeps freed
        objects' arenas, glibc its heap, unless asked)."""
        if self._trim is None:
            self._trim = asyncio.get_running_loop().call_later(1.0, self._give_back)

    def _give_back(self) -> None:
        self._trim = None
        self._peak = self.subscribers
        gc.collect()
        _malloc_trim()

    async def _run(self, group: Group, principal: Principal) -> None:
        """The group's one run of the subscription: each result to every member."""
        first = True
        try:
            group.queue = await self.bus.open_queue()
            group.source = GroupEvents(self.bus, group.queue)
            group.context = RequestContext(db=self.db, principal=principal, events=group.source, settings=self.settings)
            group.context.live_phase = "changes" if group.live else None
            group.listening.set()
            stream = await self.schema.stream(group.query, variable_values=group.variables, context_value=group.context, operation_name=group.operation_name)
            async with aclosing(stream):
                async for result in stream:
                    # The selection has been executed: its reads end here, none kept.
                    await group.context.close()
                    if first and isinstance(result, PreExecutionError):
                        self._end(group, "error", [error.formatted for error in result.errors or []])
                        return
                    first = False
                    if not isinstance(result, ExecutionResult):
                        self._end(group, "error", [GraphQLError("Incremental delivery is not supported over graphql-transport-ws").formatted])
                        return
                    self.executions += 1
                    await self._deliver(group, _dumps(_payload(result)), group.source.last_published)
            self._end(group, "complete")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("subscription group failed")
            self._end(group, "complete")
        finally:
            if self.groups.get(group.key) is group:
                del self.groups[group.key]
            if group.queue is not None:
                self.bus.close_queue(group.queue)
            if group.context is not None:
                await group.context.close()
            group.listening.set()
            self._drop(group)

    async def _deliver(self, group: Group, payload: str, published: float | None = None) -> None:
        for served, member in enumerate(list(group.members), 1):
            if member.group is not group:
                continue  # left while an earlier chunk was served
            member.push(member.prefix + payload + "}", published=published)
            if served % CHUNK == 0:
                await asyncio.sleep(0)  # let requests (a mutation's response) run between chunks

    def _end(self, group: Group, kind: str, errors: list[Any] | None = None) -> None:
        if self.groups.get(group.key) is group:
            del self.groups[group.key]  # before any await: a new subscriber starts a new group
            self._report()
        for member in list(group.members):
            message: dict[str, Any] = {"id": member.id, "type": kind}
            if errors is not None:
                message["payload"] = errors
            member.push(_dumps(message), final=True)
            if member.pending is None:
                self.leave(member)

    async def _current(self, subscriber: Subscriber, principal: Principal) -> None:
        """A new member's current set, from a run of its own; then the group's frames."""
        group = subscriber.group
        assert group is not None
        await group.listening.wait()  # changes from now on are kept for it
        handler = subscriber.handler
        ctx = RequestContext(db=self.db, principal=principal, events=self.bus, settings=self.settings)
        ctx.live_phase = "current"
        failed = False
        try:
            stream = await self.schema.stream(
                subscriber.query, variable_values=subscriber.variables, context_value=ctx, operation_name=subscriber.operation_name
            )
            async with aclosing(stream):
                async for result in stream:
                    await ctx.close()
                    if isinstance(result, PreExecutionError):
                        await subscriber.outbox.put(_dumps({"id": subscriber.id, "type": "error", "payload": [e.formatted for e in result.errors or []]}))
                        handler.operations.pop(subscriber.id, None)
                        subscriber.pending = None
                        self.leave(subscriber)
                        return
                    if not isinstance(result, ExecutionResult):
                        continue
                    failed = failed or bool(result.errors)
                    await subscriber.outbox.put(subscriber.prefix + _dumps(_payload(result)) + "}")
        finally:
            await ctx.close()
        if failed:
            # Refused (no view grant, bad filter): the group's run says the same; end here.
            await subscriber.outbox.put(_dumps({"id": subscriber.id, "type": "complete"}))
            handler.operations.pop(subscriber.id, None)
            subscriber.pending = None
            self.leave(subscriber)
            return
        pending, subscriber.pending = subscriber.pending or [], None
        for frame, final, published in pending:
            subscriber.outbox.offer(frame, published)
            if final:
                handler.operations.pop(subscriber.id, None)
                self.leave(subscriber)
                return
        if subscriber.group is None and subscriber.id in handler.operations:
            handler.operations.pop(subscriber.id, None)  # the group ended before it was served


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _malloc_trim() -> None:
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:  # glibc only
        trim(0)


class FanoutTransportHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """strawberry's graphql-transport-ws handler, with subscriptions served by the
    process's ``Fanout`` and every message written through the connection's ``Outbox``.
    Queries and mutations over the socket, and every protocol error, are strawberry's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state = self.view.state  # type: ignore[attr-defined]
        self.fanout: Fanout = state.fanout
        self.outbox = Outbox(self.websocket.ws, state.settings.ws_queue_limit, self._overflowed)  # type: ignore[attr-defined]

    async def handle(self) -> None:
        metrics.WS_CONNECTIONS.inc()
        self.fanout.attach(self)
        try:
            await self._handle()
        finally:
            self.fanout.detach(self)
            metrics.WS_CONNECTIONS.dec()

    async def _handle(self) -> None:
        self.outbox.start()
        receiving = asyncio.create_task(super().handle())
        dead = asyncio.create_task(self.outbox.dead.wait())
        try:
            # A slow consumer's close ends the connection even if it never reads again.
            await asyncio.wait({receiving, dead}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiving, dead):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            await self.outbox.stop()

    def _overflowed(self) -> None:
        self.fanout.slow_consumers += 1
        metrics.SLOW_CONSUMERS.inc()
        self._leave_groups()

    def close_for(self, code: int, reason: str) -> None:
        """Leave every group and close the connection with ``code`` and ``reason``."""
        logger.info("closing a WebSocket connection (%d): %s", code, reason)
        self._leave_groups()
        self.outbox.shut(code, reason)

    def _leave_groups(self) -> None:
        for operation in list(self.operations.values()):
            if isinstance(operation, Subscriber):
                self.operations.pop(operation.id, None)
                self.fanout.leave(operation)

    async def send_message(self, message: Any) -> None:
        await self.outbox.put(_dumps(message))

    async def handle_subscribe(self, message: Any) -> None:
        payload = message["payload"]
        query, variables, operation_name = payload["query"], payload.get("variables"), payload.get("operationName")
        planned = self.fanout.plan(query, operation_name, variables)
        if planned is None or not self.connection_acknowledged or message["id"] in self.operations or self.outbox.closing:
            await super().handle_subscribe(message)
            return
        if self.max_subscriptions_per_connection is not None and len(self.operations) >= self.max_subscriptions_per_connection:
            await super().handle_subscribe(message)  # strawberry's refusal
            return
        subscriber = Subscriber(self, message["id"], query, variables, operation_name)
        self.operations[subscriber.id] = subscriber
        principal = self.context.principal
        assert principal is not None  # connection_init authenticated it
        await self.fanout.join(subscriber, principal, planned.live, planned.alone)

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        if isinstance(operation, Subscriber):
            del self.operations[operation_id]
            self.fanout.leave(operation)
            return
        await super().cleanup_operation(operation_id)
