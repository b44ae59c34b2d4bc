"""Live subscriptions (schema/live.py): check_state_changed sends the current set, then
each change a worker publishes (contract 1 events, written here by SQL and
jobs.runtime.publish), filtered, under each subscriber's visibility."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from fanout_server import app_server, connect, message, settle, subscribe
from worker_rows import insert_worker_row

from jobs.runtime import publish
from models.monitoring import CheckState

LIVE = (
    "subscription($tenant: [ID!], $site: [ID!], $device: [ID!], $state: [String!]) {"
    " check_state_changed(tenant: $tenant, site: $site, device: $device, state: $state) {"
    " action id changed_fields check_state { id state address tenant { id } device { name } template { name } } } }"
)


@pytest.fixture(scope="module")
def served(database_url, redis_url):
    with app_server(database_url, redis_url) as server:
        yield server


class World:
    """Check states in two tenants: AMS1 (core1) and FRA1 (edge1) of tenant 0, one of tenant 1."""

    def __init__(self, db: Any, org: Any, redis_url: str) -> None:
        self.db, self.org, self.redis_url = db, org, redis_url
        self.rows: dict[str, dict[str, Any]] = {}

    async def build(self, api: Any) -> None:
        mine, other = self.org.tenant_ids
        lab = Lab(api, mine)
        c = await lab.catalogue()
        kind = await lab.device_type(c, "Box")
        self.ams, self.core = c["site"], await lab.device(c, kind, "core1")
        self.fra = await lab.make("site", name="FRA1", slug="fra1")
        self.edge = await lab.device({**c, "site": self.fra}, kind, "edge1")
        ping = await lab.make("check_template", name="ping", kind="KIND_ICMP")
        theirs = Lab(api, other)
        tc = await theirs.catalogue()
        self.far = await theirs.device(tc, await theirs.device_type(tc, "Box"), "far1")
        their_ping = await theirs.make("check_template", name="ping", kind="KIND_ICMP")
        await self.state("core_ping", mine, ping, self.core, self.ams, "192.0.2.1", None, "down")
        await self.state("core_ssh", mine, ping, self.core, self.ams, "192.0.2.1", 22, "up")
        await self.state("edge_ping", mine, ping, self.edge, self.fra, "192.0.2.2", None, "down")
        await self.state("far_ping", other, their_ping, self.far, tc["site"], "198.51.100.1", None, "down")

    async def state(self, name: str, tenant: Any, template: str, device: str, site: str, address: str, port: int | None, value: str) -> None:
        async with self.db.system_transaction() as conn:
            row = await insert_worker_row(conn, CheckState, tenant_id=tenant, template_id=template, device_id=device, address=address, port=port, state=value)
        self.rows[name] = {"id": str(row.id), "numid": row.numid, "tenant": str(tenant), "device": device, "site": site, "state": value}

    def event(self, name: str, action: str, changed: list[str], keys: bool = True) -> dict[str, Any]:
        """A worker's row event (contract 1), with its filter keys unless ``keys`` is false."""
        row = self.rows[name]
        event = {
            "kind": "change",
            "type": "check_state",
            "object_type": "check_state",
            "id": row["id"],
            "numid": row["numid"],
            "action": action,
            "changed_fields": changed,
            "tenant_id": row["tenant"],
            "audience": "tenant",
            "org_id": str(self.org.org_id),
            "affects_principals": False,
            "change_id": None,
        }
        if keys:
            event.update(site_id=row["site"], device_id=row["device"], state=row["state"])
        return event

    async def set_state(self, name: str, value: str, keys: bool = True) -> None:
        async with self.db.system_transaction() as conn:
            await conn.execute(sa.text("UPDATE check_state SET state = :s, since = now() WHERE id = :id"), {"s": value, "id": self.rows[name]["id"]})
        self.rows[name]["state"] = value
        await asyncio.to_thread(publish, self.redis_url, [self.event(name, "update", ["since", "state"], keys)])

    async def touch(self, name: str) -> None:
        async with self.db.system_transaction() as conn:
            await conn.execute(sa.text("UPDATE check_state SET last_checked = now() WHERE id = :id"), {"id": self.rows[name]["id"]})
        await asyncio.to_thread(publish, self.redis_url, [self.event(name, "update", ["last_checked"])])

    async def delete(self, name: str) -> None:
        async with self.db.system_transaction() as conn:
            await conn.execute(sa.text("DELETE FROM check_state WHERE id = :id"), {"id": self.rows[name]["id"]})
        await asyncio.to_thread(publish, self.redis_url, [self.event(name, "delete", ["address", "device", "state", "template"])])

    def id(self, name: str) -> str:
        return str(self.rows[name]["id"])


@pytest.fixture
async def world(app, committed_api, committed_org, redis_url):
    built = World(app.state.danbyte.db, committed_org, redis_url)
    await built.build(committed_api)
    return built


async def live(served: Any, key: str, **variables: Any) -> Any:
    ws = await connect(served.base, key)
    await subscribe(ws, LIVE, **variables)
    return ws


async def event(ws: Any, timeout: float = 10) -> dict[str, Any]:
    found = await message(ws, timeout)
    assert found["type"] == "next" and "errors" not in found["payload"], found
    return found["payload"]["data"]["check_state_changed"]


async def current_set(ws: Any) -> dict[str, dict[str, Any]]:
    """The ``current`` events up to ``ready``, by id."""
    found: dict[str, dict[str, Any]] = {}
    while (answer := await event(ws))["action"] != "ready":
        assert answer["action"] == "current" and answer["id"] == answer["check_state"]["id"], answer
        found[answer["id"]] = answer["check_state"]
    assert answer == {"action": "ready", "id": None, "changed_fields": [], "check_state": None}
    return found


async def nothing(ws: Any, timeout: float = 0.7) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await message(ws, timeout)


def listening(served: Any) -> bool:
    return all(group.listening.is_set() for group in list(served.fanout.groups.values()))


async def test_current_set_then_changes_filtered_and_within_visibility(served, world, committed_org):
    mine, other = committed_org.tenant_ids
    admin = committed_org.admin_key
    theirs = await committed_org.user_key(is_admin=True, token_tenant_ids=[other])
    down_here = await live(served, admin, tenant=[str(mine)], state=["down"])
    at_ams = await live(served, admin, site=[world.ams])
    their_all = await live(served, theirs)
    their_asking_mine = await live(served, theirs, tenant=[str(mine)])
    sockets = [down_here, at_ams, their_all, their_asking_mine]
    try:
        # The current set first: the rows matching the filters that each may see.
        got = await current_set(down_here)
        assert set(got) == {world.id("core_ping"), world.id("edge_ping")}
        assert got[world.id("core_ping")] == {
            "id": world.id("core_ping"),
            "state": "down",
            "address": "192.0.2.1",
            "tenant": {"id": str(mine)},
            "device": {"name": "core1"},
            "template": {"name": "ping"},
        }
        assert set(await current_set(at_ams)) == {world.id("core_ping"), world.id("core_ssh")}
        assert set(await current_set(their_all)) == {world.id("far_ping")}
        assert await current_set(their_asking_mine) == {}
        await settle(lambda: listening(served))

        # core_ssh goes down: it enters the "down" set, and AMS1 hears of it.
        await world.set_state("core_ssh", "down")
        for ws in (down_here, at_ams):
            answer = await event(ws)
            assert (answer["action"], answer["id"], answer["check_state"]["state"], answer["changed_fields"]) == (
                "update",
                world.id("core_ssh"),
                "down",
                ["since", "state"],
            )
        # core_ping comes up: it leaves the "down" set; AMS1 sees its new state.
        await world.set_state("core_ping", "up")
        assert await event(down_here) == {"action": "leave", "id": world.id("core_ping"), "changed_fields": ["since", "state"], "check_state": None}
        assert (await event(at_ams))["check_state"]["state"] == "up"
        # An event without filter keys is decided on the row (edge1 is not at AMS1).
        await world.set_state("edge_ping", "degraded", keys=False)
        assert (await event(down_here))["action"] == "leave"
        # The other tenant's change reaches its own subscriber only.
        await world.touch("far_ping")
        answer = await event(their_all)
        assert (answer["action"], answer["id"], answer["changed_fields"]) == ("update", world.id("far_ping"), ["last_checked"])
        # A deletion says so, with no row.
        await world.delete("core_ssh")
        for ws in (down_here, at_ams):
            assert await event(ws) == {
                "action": "delete",
                "id": world.id("core_ssh"),
                "changed_fields": ["address", "device", "state", "template"],
                "check_state": None,
            }
        # A malformed event is skipped, logged; the subscription goes on.
        await asyncio.to_thread(publish, world.redis_url, [{**world.event("far_ping", "update", ["last_checked"]), "id": "nope"}])
        await world.touch("far_ping")
        assert (await event(their_all))["id"] == world.id("far_ping")
        # edge1's check, already out of the "down" set and not at AMS1, is deleted: no one hears.
        await world.delete("edge_ping")
        # Nothing of tenant 0 ever reached the other tenant's subscribers, nor anything
        # unfiltered the filtered ones.
        for ws in sockets:
            await nothing(ws)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def test_equal_live_subscriptions_share_the_changes_and_each_gets_its_current_set(served, world, committed_org):
    before = served.fanout.stats()
    first = await live(served, committed_org.admin_key, device=[world.core])
    try:
        assert set(await current_set(first)) == {world.id("core_ping"), world.id("core_ssh")}
        second = await live(served, committed_org.admin_key, device=[world.core])
        try:
            assert set(await current_set(second)) == {world.id("core_ping"), world.id("core_ssh")}
            await settle(lambda: listening(served) and served.fanout.stats()["subscribers"] == before["subscribers"] + 2)
            assert served.fanout.stats()["groups"] == before["groups"] + 1
            executions = served.fanout.stats()["executions"]
            await world.touch("core_ping")
            for ws in (first, second):
                assert (await event(ws))["id"] == world.id("core_ping")
            await world.touch("edge_ping")  # another device: filtered out before any execution
            await world.touch("core_ssh")
            for ws in (first, second):
                assert (await event(ws))["id"] == world.id("core_ssh")
            assert served.fanout.stats()["executions"] - executions == 2
        finally:
            await second.close()
    finally:
        await first.close()


async def test_refusals_name_the_argument_and_need_the_view_grant(served, world, committed_org):
    mine = committed_org.tenant_ids[0]
    # Devices only, no view grant on check states: refused, and nothing follows.
    blind = await committed_org.user_key(tenant_ids=[mine], grants={"device": ["view"]})
    cases = [
        (blind, {}, "FORBIDDEN", None),
        (committed_org.admin_key, {"state": ["sideways"]}, "BAD_USER_INPUT", "state"),
        (committed_org.admin_key, {"device": ["nope"]}, "BAD_USER_INPUT", "device"),
        (committed_org.admin_key, {"site": [str(uuid.uuid4())] * 101}, "BAD_USER_INPUT", "site"),
    ]
    for key, variables, code, field in cases:
        ws = await live(served, key, **variables)
        try:
            answer = await message(ws)
            assert answer["type"] == "next" and answer["payload"]["data"] is None, answer
            extensions = answer["payload"]["errors"][0]["extensions"]
            assert (extensions["code"], extensions.get("field")) == (code, field), answer
            assert await message(ws) == {"id": "1", "type": "complete"}
            await world.touch("core_ping")
            await nothing(ws, 0.5)
        finally:
            await ws.close()


async def test_a_user_with_the_grant_but_one_tenant_sees_its_rows_only(served, world, committed_org):
    mine, other = committed_org.tenant_ids
    reader = await committed_org.user_key(tenant_ids=[other], grants={"check_state": ["view"]})
    ws = await live(served, reader)
    try:
        # Related objects it may not view read as null, as in a query.
        assert await current_set(ws) == {
            world.id("far_ping"): {"id": world.id("far_ping"), "state": "down", "address": "198.51.100.1", "tenant": None, "device": None, "template": None}
        }
        await settle(lambda: listening(served))
        await world.touch("core_ping")
        await world.touch("far_ping")
        assert (await event(ws))["id"] == world.id("far_ping")
        await nothing(ws)
    finally:
        await ws.close()


async def test_live_subscription_over_a_second_server_process(database_url, redis_url, world, committed_org):
    """Events published once reach live subscribers on every process (each its own bus)."""
    with app_server(database_url, redis_url) as other:
        ws = await live(other, committed_org.admin_key, state=["down"], tenant=[str(committed_org.tenant_ids[0])])
        try:
            assert set(await current_set(ws)) == {world.id("core_ping"), world.id("edge_ping")}
            await settle(lambda: listening(other))
            await world.set_state("edge_ping", "up")
            assert (await event(ws))["action"] == "leave"
        finally:
            await ws.close()


async def test_the_legacy_protocol_runs_current_set_and_changes_in_one_run(served, world, committed_org):
    import json

    import websockets

    ws = await websockets.connect(served.base.replace("http", "ws") + "/graphql", subprotocols=["graphql-ws"])  # type: ignore[list-item]

    async def data() -> dict[str, Any]:
        while True:
            found = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if found["type"] == "data":
                return found["payload"]["data"]["check_state_changed"]
            assert found["type"] in ("ka", "connection_ack"), found

    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {committed_org.admin_key}"}}))
        await ws.send(json.dumps({"type": "start", "id": "1", "payload": {"query": LIVE, "variables": {"device": [world.edge]}}}))
        assert (await data())["id"] == world.id("edge_ping")
        assert (await data())["action"] == "ready"
        await asyncio.sleep(0.5)  # its bus subscription starts after the current set
        await world.set_state("edge_ping", "up")
        answer = await data()
        assert (answer["action"], answer["check_state"]["state"]) == ("update", "up")
    finally:
        await ws.close()
