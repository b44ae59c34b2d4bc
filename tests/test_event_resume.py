"""Resuming a subscription after a reconnect (danbyte/event_log.py): events carry their
place in the retained log (``event_id``) and ``object_changed(after:)`` replays the ones
since, filtered like live ones, then goes on live, none twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from factories import make_org
from fanout_server import app_server, connect, message, subscribe

from danbyte import event_log
from jobs.runtime import publish

RESUME = 'subscription($after: String) { object_changed(types: ["vrf"], after: $after) { id action event_id } }'
CREATE = "mutation($t: ID!, $n: String!) { vrf_create(input: {name: $n, tenant: $t}) { id } }"


@pytest.fixture(scope="module")
def served(database_url, redis_url):
    with app_server(database_url, redis_url) as server:
        yield server


async def event(ws: Any) -> dict[str, Any]:
    found = await message(ws)
    assert found["type"] == "next" and "errors" not in found["payload"], found
    return found["payload"]["data"]["object_changed"]


async def quiet(ws: Any) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await message(ws, 0.7)


async def test_resume_after_a_reconnect(served, app, committed_org, committed_api):
    tenant = str(committed_org.tenant_ids[0])
    other = await make_org(app.state.danbyte.db, tenants=1)

    async def create(name: str, api: Any = committed_api, in_tenant: str = tenant) -> str:
        return (await api.data(CREATE, t=in_tenant, n=name))["vrf_create"]["id"]

    ws = await connect(served.base, committed_org.admin_key)
    await subscribe(ws, RESUME, after=None)
    await asyncio.sleep(0.3)
    a = await create("a")
    first = await event(ws)
    assert first["id"] == a and event_log.valid_id(first["event_id"])
    await ws.close()

    # While away: two changes here, one in another organisation (never shown).
    b, c = await create("b"), await create("c")
    from factories import Api

    async with Api.connect(app, other.admin_key) as theirs:
        await create("theirs", theirs, str(other.tenant_ids[0]))

    ws = await connect(served.base, committed_org.admin_key)
    await subscribe(ws, RESUME, after=first["event_id"])
    replayed = [await event(ws), await event(ws)]
    assert [e["id"] for e in replayed] == [b, c]
    d = await create("d")
    live = await event(ws)
    assert live["id"] == d
    ids = [event_log.id_key(e["event_id"]) for e in [first, *replayed, live]]
    assert ids == sorted(ids) and len(set(ids)) == 4
    await quiet(ws)

    # A second client resuming from the same event later runs its own replay: it is not
    # folded into the first one's group (which would have cost it b, c and d).
    late = await connect(served.base, committed_org.admin_key)
    await subscribe(late, RESUME, after=first["event_id"])
    assert [(await event(late))["id"] for _ in range(3)] == [b, c, d]
    e = await create("e")
    assert (await event(late))["id"] == e and (await event(ws))["id"] == e
    await quiet(late)
    await asyncio.gather(ws.close(), late.close())


@pytest.mark.parametrize("after", ["nope", "1-", "-1", "1-2-3", "9" * 30 + "-0"])
async def test_a_malformed_cursor_is_refused(served, committed_org, after):
    ws = await connect(served.base, committed_org.admin_key)
    await subscribe(ws, RESUME, after=after)
    found = await message(ws)
    await ws.close()
    # Raised by the event stream before its first event: an answer with the error alone.
    assert found["type"] == "next" and found["payload"]["data"] is None, found
    assert [e["extensions"] for e in found["payload"]["errors"]] == [{"code": "BAD_USER_INPUT", "field": "after"}]


async def replayed(client: Any, after: str, retention: int) -> list[dict[str, Any]]:
    return [event async for event in event_log.replay(client, after, retention)]


async def test_a_long_replay_is_read_in_pages(redis_url, monkeypatch):
    monkeypatch.setattr(event_log, "PAGE", 3)
    client = aioredis.Redis.from_url(redis_url)
    try:
        publish(redis_url, [{"kind": "test", "n": 0}])
        start = (await client.xrevrange(event_log.STREAM, "+", "-", count=1))[0][0].decode()
        publish(redis_url, [{"kind": "test", "n": n} for n in range(1, 11)])
        assert [e["n"] for e in await replayed(client, start, 10**9)] == list(range(1, 11))
    finally:
        await client.aclose()


async def test_an_expired_cursor_is_refused(redis_url):
    """Once the stream is full and the cursor is older than its oldest entry, events may
    have been trimmed: the replay refuses rather than skip them silently."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        publish(redis_url, [{"kind": "test", "n": 1}])
        last = (await client.xrevrange(event_log.STREAM, "+", "-", count=1))[0][0].decode()
        ms, seq = event_log.id_key(last)
        assert await replayed(client, last, 10**9) == []
        with pytest.raises(event_log.EventsExpired):
            await replayed(client, "0-1", 1)
        # Published by a worker: retained with its id spliced into the event.
        publish(redis_url, [{"kind": "test", "n": 2}, {}])
        again = await replayed(client, f"{ms}-{seq}", 10**9)
        # (each also stamped with its publication time, which the fan-out's lag is measured from)
        assert all(isinstance(e.pop("_published"), float) for e in again)
        assert [{k: v for k, v in e.items() if k != "event_id"} for e in again] == [{"kind": "test", "n": 2}, {}]
        assert all(event_log.id_key(e["event_id"]) > (ms, seq) for e in again)
    finally:
        await client.aclose()
