"""The subscription delivery path (danbyte/fanout.py) on a real uvicorn: equal
subscriptions share one execution and the same bytes, different visibility never shares,
a slow consumer is closed with 4008 while the others keep receiving, a mutation answers
before the fan-out, and errors are GraphQL's as before."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import uuid
from typing import Any

import pytest
import websockets
from dcim_lab import Lab
from fanout_server import app_server, connect, message, post, raw, settle, subscribe
from worker_rows import insert_worker_row

from jobs.runtime import publish
from models.monitoring import CheckState

SUBSCRIBE = 'subscription { object_changed(types: ["vrf"]) { type id action tenant } }'


@pytest.fixture(scope="module")
def served(database_url, redis_url):
    with app_server(database_url, redis_url) as server:
        yield server


def listening(served: Any) -> bool:
    return all(group.listening.is_set() for group in list(served.fanout.groups.values()))


async def create_vrf(base: str, key: str, tenant: Any) -> str:
    data = await post(base, key, "mutation($n: String!, $t: ID) { vrf_create(input: {name: $n, tenant: $t}) { id } }", n=uuid.uuid4().hex[:8], t=str(tenant))
    return str(data["vrf_create"]["id"])


async def close_all(sockets: list[Any]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def test_equal_subscriptions_share_one_execution_and_the_same_bytes(served, committed_org):
    first, second = committed_org.tenant_ids
    same_reach = await committed_org.user_key(is_admin=True)  # another user who sees what the admin sees
    narrow = await committed_org.user_key(is_admin=True, token_tenant_ids=[second])
    before = served.fanout.stats()
    wide = [await connect(served.base, committed_org.admin_key) for _ in range(10)] + [await connect(served.base, same_reach) for _ in range(10)]
    narrowed = [await connect(served.base, narrow) for _ in range(10)]
    try:
        for ws in wide + narrowed:
            await subscribe(ws, SUBSCRIBE)
        await settle(lambda: served.fanout.stats()["subscribers"] == before["subscribers"] + 30 and listening(served))
        # Two users with the same reach share a group; the narrower token has its own.
        assert served.fanout.stats()["groups"] == before["groups"] + 2
        executions = served.fanout.stats()["executions"]

        vrf = await create_vrf(served.base, committed_org.admin_key, second)
        texts = [await raw(ws) for ws in wide]
        narrow_texts = [await raw(ws) for ws in narrowed]
        # One execution per group, and every member got the very same text.
        assert served.fanout.stats()["executions"] - executions == 2
        assert len(set(texts)) == 1 and set(narrow_texts) == set(texts)
        assert json.loads(texts[0]) == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"object_changed": {"type": "vrf", "id": vrf, "action": "create", "tenant": str(second)}}},
        }

        # A change in the tenant the narrow token lacks reaches the wide group only.
        other = await create_vrf(served.base, committed_org.admin_key, first)
        for ws in wide:
            assert (await message(ws))["payload"]["data"]["object_changed"]["id"] == other
        for ws in narrowed:
            with pytest.raises(asyncio.TimeoutError):
                await message(ws, timeout=0.3)
        assert served.fanout.stats()["executions"] - executions == 3
    finally:
        await close_all(wide + narrowed)
    # Groups and members are dropped with their connections: nothing kept per subscriber.
    await settle(lambda: served.fanout.stats()["subscribers"] == before["subscribers"] and served.fanout.stats()["groups"] == before["groups"])


async def test_different_variables_make_different_groups_and_complete_leaves(served, committed_org):
    before = served.fanout.stats()
    query = "subscription($t: [String!]) { object_changed(types: $t) { type action } }"
    ws = await connect(served.base, committed_org.admin_key)
    try:
        await ws.send(json.dumps({"id": "a", "type": "subscribe", "payload": {"query": query, "variables": {"t": ["vrf"]}}}))
        await ws.send(json.dumps({"id": "b", "type": "subscribe", "payload": {"query": query, "variables": {"t": ["prefix"]}}}))
        await settle(lambda: served.fanout.stats()["groups"] == before["groups"] + 2 and listening(served))
        await create_vrf(served.base, committed_org.admin_key, committed_org.tenant_ids[0])
        got = await message(ws)
        assert (got["id"], got["payload"]["data"]["object_changed"]) == ("a", {"type": "vrf", "action": "create"})
        # complete: the member leaves, and its group (now empty) goes with it.
        await ws.send(json.dumps({"id": "a", "type": "complete"}))
        await settle(lambda: served.fanout.stats()["groups"] == before["groups"] + 1)
        await create_vrf(served.base, committed_org.admin_key, committed_org.tenant_ids[0])
        with pytest.raises(asyncio.TimeoutError):
            await message(ws, timeout=0.5)
    finally:
        await ws.close()
    await settle(lambda: served.fanout.stats()["groups"] == before["groups"])


async def test_the_mutation_answers_before_the_fan_out_reaches_its_last_member(served, committed_org):
    key = committed_org.admin_key
    tenant = committed_org.tenant_ids[0]
    before = served.fanout.stats()["subscribers"]
    crowd = [await connect(served.base, key) for _ in range(400)]
    probe = await connect(served.base, key)
    try:
        for ws in crowd:
            await subscribe(ws, SUBSCRIBE)
        await settle(lambda: served.fanout.stats()["subscribers"] == before + 400 and listening(served))
        await subscribe(probe, SUBSCRIBE, id="sub")  # joins last: served last
        await settle(lambda: served.fanout.stats()["subscribers"] == before + 401)
        # The mutation over the same socket: its answer and the event share one ordered stream.
        mutation = f'mutation {{ vrf_create(input: {{name: "order", tenant: "{tenant}"}}) {{ id }} }}'
        await probe.send(json.dumps({"id": "m", "type": "subscribe", "payload": {"query": mutation}}))
        order = []
        while "sub" not in order:
            found = await message(probe)
            if found["type"] == "next":
                order.append(found["id"])
        # The mutation's answer was written before the fan-out got to this subscriber.
        assert order == ["m", "sub"], order
        for ws in crowd:
            assert (await message(ws))["payload"]["data"]["object_changed"]["action"] == "create"
    finally:
        await close_all([*crowd, probe])
    await settle(lambda: served.fanout.stats()["subscribers"] == before)


async def test_errors_are_graphql_errors_as_before(served, committed_org):
    ws = await connect(served.base, committed_org.admin_key)
    try:
        # An unknown field: a validation error for each subscription, grouped or not.
        for id in ("a", "b"):
            await subscribe(ws, "subscription { no_such_field { id } }", id=id)
            got = await message(ws)
            assert (got["id"], got["type"]) == (id, "error"), got
            assert "no_such_field" in got["payload"][0]["message"]
        # A bad argument: the resolver's coded error, then complete.
        await subscribe(ws, 'subscription { config_drift_changed(device: "nope") { device } }', id="c")
        got = await message(ws)
        assert (got["id"], got["type"], got["payload"]["data"]) == ("c", "next", None), got
        assert got["payload"]["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "device"}
        assert await message(ws) == {"id": "c", "type": "complete"}
        # Ended operations free their ids: "a" may be used again, and then not twice.
        await subscribe(ws, SUBSCRIBE, id="a")
        await subscribe(ws, SUBSCRIBE, id="a")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await message(ws)
        assert closed.value.rcvd.code == 4409
    finally:
        await ws.close()
    # A syntax error still closes the connection with 4400.
    ws = await connect(served.base, committed_org.admin_key)
    await subscribe(ws, "subscription { object_changed { ", id="x")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await message(ws)
    assert closed.value.rcvd.code == 4400
    # Subscribing before connection_init is refused (4401), and a bad token (4403), as before.
    bare = await websockets.connect(served.base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await subscribe(bare, SUBSCRIBE)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await message(bare)
    assert closed.value.rcvd.code == 4401
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await connect(served.base, "dbt_wrong")
    assert closed.value.rcvd.code == 4403


# --- slow consumers ---------------------------------------------------------------------

ALIASES = 25
BIG = "subscription($t: [ID!]) { check_state_changed(tenant: $t) { action check_state { id " + " ".join(f"m{i}: message" for i in range(ALIASES)) + " } } }"


async def test_a_slow_consumer_is_closed_and_the_others_keep_receiving(database_url, redis_url, committed_api, committed_org, app):
    tenant = committed_org.tenant_ids[0]
    template = await Lab(committed_api, tenant).make("check_template", name="ping", kind="KIND_ICMP")
    async with app.state.danbyte.db.system_transaction() as conn:
        row = await insert_worker_row(
            conn,
            CheckState,
            tenant_id=tenant,
            template_id=template,
            address="192.0.2.9",
            state="down",
            message=base64.b64encode(os.urandom(15_000)).decode(),  # incompressible
        )
    event = {
        "kind": "change",
        "type": "check_state",
        "object_type": "check_state",
        "id": str(row.id),
        "numid": row.numid,
        "action": "update",
        "changed_fields": ["last_checked"],
        "tenant_id": str(tenant),
        "audience": "tenant",
        "org_id": str(committed_org.org_id),
        "affects_principals": False,
        "change_id": None,
        "site_id": None,
        "device_id": None,
        "state": "down",
    }
    with app_server(database_url, redis_url, ws_queue_limit=8) as served:
        # Each event is some 500 kB, not compressed: the slow client's socket buffers fill after a few.
        # A small receive buffer (no autotuning up to 32 MiB): the server's side fills soon.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65_536)
        sock.connect(("127.0.0.1", int(served.base.rsplit(":", 1)[1])))
        sock.setblocking(False)
        slow = await connect(served.base, committed_org.admin_key, max_queue=1, sock=sock, compression=None)
        fast = await connect(served.base, committed_org.admin_key)
        try:
            await subscribe(slow, BIG, t=[str(tenant)])
            await subscribe(fast, BIG, t=[str(tenant)])
            assert [(await message(fast))["payload"]["data"]["check_state_changed"]["action"] for _ in range(2)] == ["current", "ready"]
            await settle(lambda: served.fanout.stats()["subscribers"] == 2 and listening(served))
            assert served.fanout.stats()["groups"] == 1  # the same group: the fast one is not held back
            sent = 60
            for _ in range(sent):
                await asyncio.to_thread(publish, redis_url, [event])
            for _ in range(sent):
                got = (await message(fast))["payload"]["data"]["check_state_changed"]
                assert got["action"] == "update" and len(got["check_state"]["m0"]) == 20_000
            await settle(lambda: served.fanout.stats()["slow_consumers"] == 1)
            # The slow one reads again: what was written before the close, then the close code.
            received = 0
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await message(slow)
                    received += 1
            assert closed.value.rcvd.code == 4008, closed.value
            assert received < sent + 2
            # The fast one is still served.
            await asyncio.to_thread(publish, redis_url, [event])
            assert (await message(fast))["payload"]["data"]["check_state_changed"]["action"] == "update"
            assert served.fanout.stats()["subscribers"] == 1
        finally:
            await close_all([slow, fast])


def test_the_visibility_key_shares_equal_reach_only():
    from danbyte.fanout import group_key, visibility_key
    from permissions.principal import Principal

    org, t1, t2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def who(**fields: Any) -> Principal:
        base: dict[str, Any] = {"user_id": uuid.uuid4(), "username": f"u{uuid.uuid4().hex[:6]}", "org_id": org, "tenant_ids": frozenset({t1})}
        return Principal(**{**base, **fields})

    reader = who(grants={"device": frozenset({"view"}), "site": frozenset({"view"})})
    # Another user, grants listed in another order: the same reach, the same key.
    assert visibility_key(reader) == visibility_key(who(grants={"site": frozenset({"view"}), "device": frozenset({"view"})}))
    for other in (
        who(grants={"device": frozenset({"view"})}),
        who(grants={"device": frozenset({"view", "change"}), "site": frozenset({"view"})}),
        who(tenant_ids=frozenset({t1, t2}), grants=reader.grants),
        who(org_id=uuid.uuid4(), grants=reader.grants),
        who(is_admin=True, grants=reader.grants),
        who(all_tenants=True, grants=reader.grants),
        who(write_enabled=False, grants=reader.grants),
    ):
        assert visibility_key(other) != visibility_key(reader)
    # The group key separates documents, operations and variables too.
    key = visibility_key(reader)
    keys = {group_key("q", None, None, key), group_key("q2", None, None, key), group_key("q", "Op", None, key), group_key("q", None, {"a": 1}, key)}
    assert len(keys) == 4 and group_key("q", None, {}, key) == group_key("q", None, None, key)
    assert group_key("q", None, {"a": 1, "b": 2}, key) == group_key("q", None, {"b": 2, "a": 1}, key)
