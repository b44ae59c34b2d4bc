"""Committed changes → Redis pub/sub → every process's subscribers, and → a job worker
that matches them against event rules (jobs/webhooks.py).

One Redis subscription per process fans out to local queues — one per subscription
group (danbyte/fanout.py), not per subscriber — so a thousand dashboards cost one Redis
connection, and a mutation served by any process reaches subscribers on all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from danbyte import event_log
from danbyte.settings import get_settings
from jobs.broker import producer
from jobs.webhooks import changes_to_dispatch, enqueue_dispatch

CHANNEL = "danbyte:events"
PRINCIPALS_GENERATION = "danbyte:principals_generation"
logger = logging.getLogger("danbyte.events")


class EventBus:
    def __init__(self, redis_url: str, queue_size: int = 1000) -> None:
        self._redis = aioredis.Redis.from_url(redis_url)
        # Sends the jobs a committed write starts (its webhooks), whoever runs them.
        self._jobs = producer(redis_url)
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._queue_size = queue_size
        self._retention = get_settings().event_retention
        self._script = self._redis.register_script(event_log.PUBLISH_SCRIPT)

    async def principals_generation(self) -> int | None:
        """The shared counter cached principals are checked against; None when Redis
        cannot be reached (then nothing is cached)."""
        try:
            value = await self._redis.get(PRINCIPALS_GENERATION)
        except RedisError:
            logger.warning("Redis unreachable: principals are not cached", exc_info=True)
            return None
        return int(value or 0)

    async def ping(self) -> None:
        """Raises when Redis cannot be reached (/health/ready)."""
        await self._redis.ping()

    async def invalidate_principals(self) -> None:
        """Make every process rebuild its cached principals (tenants, users, tokens or grants changed)."""
        await self._redis.incr(PRINCIPALS_GENERATION)

    async def publish(self, events: list[dict[str, Any]]) -> None:
        """Tell subscribers about one committed write, and have a job worker match it
        against the event rules (one message, whatever the number of changes)."""
        if events:
            # With its publication time (the fan-out measures its lag, danbyte/metrics.py);
            # retained in the stream and published, each with its event id (danbyte/event_log.py).
            published = time.time()
            stamped = [{**event, "_published": published} for event in events]
            await self._script(keys=[event_log.STREAM, CHANNEL], args=event_log.script_args(stamped, self._retention))
        if changes_to_dispatch(events):
            # dramatiq's client is blocking: off the event loop.
            await asyncio.to_thread(enqueue_dispatch, self._jobs, events)

    async def enqueue(self, message: Any) -> None:
        """Send a job's message (dramatiq) after the transaction that created the job committed."""
        await asyncio.to_thread(self._jobs.enqueue, message)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        self._ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                event = json.loads(message["data"])
                for queue in list(self._queues):
                    if queue.full():
                        # A subscriber that cannot keep up loses its oldest event, not the process.
                        with contextlib.suppress(asyncio.QueueEmpty):
                            queue.get_nowait()
                    queue.put_nowait(event)
        finally:
            await pubsub.aclose()

    async def open_queue(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives every event published from now on, by any process (the
        Redis subscription is live when this returns). Give it back with ``close_queue``."""
        if self._listener is None or self._listener.done():
            self._ready.clear()
            self._listener = asyncio.create_task(self._listen())
        await self._ready.wait()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        return queue

    def close_queue(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues.discard(queue)

    def replay(self, after: str) -> AsyncIterator[dict[str, Any]]:
        """The retained events published after the event ``after`` (event_log.replay)."""
        return event_log.replay(self._redis, after, self._retention)

    async def subscribe(self, after: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Events published from now on, by any process; with ``after``, first those
        published after that event id (see ``resume``)."""
        queue = await self.open_queue()
        try:
            async for event in resume(self, queue, after):
                yield event
        finally:
            self.close_queue(queue)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._redis.aclose()
        self._jobs.client.connection_pool.disconnect()


async def resume(bus: Any, queue: asyncio.Queue[dict[str, Any]], after: str | None) -> AsyncIterator[dict[str, Any]]:
    """The events of ``queue`` (open already, so nothing published from now on is missed),
    preceded, with ``after``, by the retained ones after that id; an event both replayed
    and queued comes once."""
    last = None
    if after is not None:
        async for event in bus.replay(after):
            last = event["event_id"]
            yield event
    while True:
        event = await queue.get()
        if last is not None:
            event_id = event.get("event_id")
            if event_id and event_log.id_key(event_id) <= event_log.id_key(last):
                continue
            last = None
        yield event
