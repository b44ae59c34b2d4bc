"""The check scheduler (jobs/monitoring.py) against real loopback listeners and a real
snmpsim agent: resolve → claim → run → write, from one or two schedulers; states,
transitions, results, events, hooks, retirement, tenant isolation and SNMPv3."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from dcim_lab import Lab
from factories import Api
from snmp_agent import SnmpAgent, V3User

from jobs import monitoring
from jobs.monitoring import CheckScheduler, register_cycle_hook

LOOPBACK = "127.0.0.1"
INTERVAL = 5


def ref(kind: str, object_id: str) -> dict[str, str]:
    return {"type": kind, "id": object_id}


class Listener:
    """A loopback TCP (or HTTP) server that counts connections and when they came."""

    def __init__(self, http: bool = False) -> None:
        self.http = http
        self.times: list[float] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> Listener:
        self.server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.times.append(time.time())
        try:
            if self.http:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


@pytest.fixture
async def sql(app: Any) -> Any:
    return app.state.danbyte.db


@pytest.fixture
async def cleanup(sql: Any, committed_org: Any) -> AsyncIterator[None]:
    """Committed templates go at the end (their assignments and states with them), so the
    next test's scheduler does not run this test's checks."""
    yield
    async with sql.system_transaction() as conn:
        await conn.execute(sa.text("DELETE FROM check_template WHERE tenant_id = ANY(:t)"), {"t": list(committed_org.tenant_ids)})


@pytest.fixture
async def schedulers(database_url: str, redis_url: str) -> AsyncIterator[list[CheckScheduler]]:
    made: list[CheckScheduler] = []
    yield made
    for scheduler in made:
        await scheduler.close()


def new_scheduler(made: list[CheckScheduler], database_url: str, redis_url: str, **options: Any) -> CheckScheduler:
    settings: dict[str, Any] = {"resolve_interval": 3600.0, "poll": 0.05, "ahead": 0.5, "flush": 0.1, "hook_interval": 3600.0, **options}
    scheduler = CheckScheduler(database_url, redis_url, **settings)
    made.append(scheduler)
    return scheduler


async def service_lab(api: Api, tenant: Any, ports: list[int], *, name: str = "local", **template: Any) -> tuple[Lab, str, str, str]:
    """A device on loopback with one service on ``ports`` and a TCP template (no port of its
    own: the service's) assigned to it. (lab, device, service, template)."""
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, f"Box {name}"), name, management_address=LOOPBACK)
    service = await lab.make("service", name="app", protocol="ROLE_TCP", ports=ports, parent=ref("dcim.device", device))
    fields = {"rise": 1, "fall": 2, "interval_seconds": INTERVAL, "timeout_seconds": 2, **template}
    template_id = await lab.make("check_template", name=f"tcp {name}", kind="KIND_TCP", **fields)
    await lab.make("check_assignment", template=template_id, assigned_object=ref("ipam.service", service))
    return lab, device, service, template_id


async def make_due(sql: Any, template_id: str) -> None:
    async with sql.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE check_state SET next_due_at = now() WHERE template_id = :t AND next_due_at IS NOT NULL"), {"t": template_id})


async def rows(sql: Any, query: str, **params: Any) -> list[Any]:
    async with sql.system_transaction() as conn:
        return list((await conn.execute(sa.text(query), params)).all())


class Events:
    """What the scheduler publishes on danbyte:events."""

    def __init__(self, redis_url: str) -> None:
        self.client = aioredis.Redis.from_url(redis_url)
        self.pubsub = self.client.pubsub()
        self.seen: list[dict[str, Any]] = []

    async def __aenter__(self) -> Events:
        await self.pubsub.subscribe("danbyte:events")
        return self

    async def collect(self, wait: float = 0.3) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
            if message is not None:
                self.seen.append(json.loads(message["data"]))
        return self.seen

    async def __aexit__(self, *exc: object) -> None:
        await self.pubsub.aclose()
        await self.client.aclose()


DEVICE_CHECKS = "query($id: ID!) { device(id: $id) { checks { template_name port state since message } } }"
SERVICE_CHECKS = "query($id: ID!) { service(id: $id) { checks { port state since } } }"


async def test_up_then_down_with_transitions_results_events_and_purge(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listener = await Listener().start()
    tenant = committed_org.tenant_ids[0]
    _, device, service, template_id = await service_lab(committed_api, tenant, [listener.port])
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    resolved = await scheduler.resolve(force=True)
    assert resolved is not None and resolved["inserted"] >= 1
    (state,) = await rows(sql, "SELECT * FROM check_state WHERE template_id = :t", t=template_id)
    assert (state.state, state.port, state.numid is not None, state.next_due_at is not None) == ("unknown", listener.port, True, True)
    assert state.tenant_id == tenant
    # Resolving again changes nothing (no rewrite of unchanged rows).
    again = await scheduler.resolve(force=True)
    assert again is not None and (again["inserted"], again["updated"], again["retired"]) == (0, 0, 0)

    async with Events(redis_url) as events:
        await make_due(sql, template_id)
        ran = await scheduler.step()
        assert [r.result.status.value for r in ran] == ["up"] and len(listener.times) == 1
        got = (await committed_api.data(DEVICE_CHECKS, id=device))["device"]["checks"]
        assert [(c["port"], c["state"]) for c in got] == [(listener.port, "up")] and got[0]["since"]
        assert (await committed_api.data(SERVICE_CHECKS, id=service))["service"]["checks"][0]["state"] == "up"

        await listener.close()
        for expected in ("up", "down"):  # fall = 2
            await make_due(sql, template_id)
            (result,) = await scheduler.step()
            assert result.result.status.value == "down"
            (state,) = await rows(sql, "SELECT state, message, last_checked FROM check_state WHERE template_id = :t", t=template_id)
            assert state.state == expected
        assert "refused" in state.message
        seen = [e for e in await events.collect() if e.get("type") == "check_state"]
    assert [e["state"] for e in seen] == ["up", "down"]
    assert seen[-1]["device_id"] == device and seen[-1]["tenant_id"] == str(tenant) and seen[-1]["changed_fields"] == ["since", "state"]
    assert {e["kind"] for e in seen} == {"change"} and seen[-1]["org_id"] == str(committed_org.org_id)

    transitions = await rows(
        sql,
        "SELECT t.previous, t.current, t.tenant_id FROM state_transition t JOIN check_state s ON s.id = t.check_state_id WHERE s.template_id = :t ORDER BY t.at",
        t=template_id,
    )
    assert [(t.previous, t.current) for t in transitions] == [("unknown", "up"), ("up", "down")]
    assert {t.tenant_id for t in transitions} == {tenant}
    got = (await committed_api.data(DEVICE_CHECKS, id=device))["device"]["checks"]
    assert got[0]["state"] == "down" and "refused" in got[0]["message"]

    results = await rows(
        sql,
        "SELECT r.status, r.tenant_id FROM check_result r JOIN check_state s ON s.id = r.check_state_id WHERE s.template_id = :t ORDER BY r.at",
        t=template_id,
    )
    assert [r.status for r in results] == [0, 2, 2] and {r.tenant_id for r in results} == {tenant}
    # Purge: results past the retention go, the rest stay.
    async with sql.system_transaction() as conn:
        await conn.execute(
            sa.text(
                "UPDATE check_result SET at = at - interval '30 days' WHERE check_state_id IN (SELECT id FROM check_state WHERE template_id = :t) AND status = 0"
            ),
            {"t": template_id},
        )
    assert await scheduler.purge() >= 1
    results = await rows(sql, "SELECT r.status FROM check_result r JOIN check_state s ON s.id = r.check_state_id WHERE s.template_id = :t", t=template_id)
    assert [r.status for r in results] == [2, 2]


async def test_an_ip_addresses_checks_show_the_schedulers_state(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listener = await Listener(http=True).start()
    lab = Lab(committed_api, committed_org.tenant_ids[0])
    ip = await lab.make("ip_address", address="127.0.0.1/8")
    parameters = {"port": listener.port, "path": "/health", "body_pattern": "ok"}
    template_id = await lab.make("check_template", name="web", kind="KIND_HTTP", parameters=parameters, rise=1, interval_seconds=INTERVAL, timeout_seconds=2)
    await lab.make("check_assignment", template=template_id, assigned_object=ref("ipam.ipaddress", ip))
    query = "query($id: ID!) { ip_address(id: $id) { checks { template_name port state since last_latency_ms } } }"
    assert [c["state"] for c in (await committed_api.data(query, id=ip))["ip_address"]["checks"]] == ["unknown"]
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    await scheduler.resolve(force=True)
    await make_due(sql, template_id)
    await scheduler.step()
    (check,) = (await committed_api.data(query, id=ip))["ip_address"]["checks"]
    assert (check["template_name"], check["port"], check["state"]) == ("web", listener.port, "up") and check["since"] and check["last_latency_ms"] is not None
    assert len(listener.times) == 1
    await listener.close()


async def test_two_schedulers_never_run_a_check_twice_in_an_interval_and_spread_it(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listeners = [await Listener().start() for _ in range(24)]
    by_port = {listener.port: listener for listener in listeners}
    _, _, _, template_id = await service_lab(committed_api, committed_org.tenant_ids[0], sorted(by_port))
    first, second = (new_scheduler(schedulers, database_url, redis_url) for _ in range(2))
    await first.resolve(force=True)
    due = await rows(sql, "SELECT port, extract(epoch FROM next_due_at) AS at FROM check_state WHERE template_id = :t", t=template_id)
    assert len(due) == 24
    # Spread: each check's slot is at its own offset in the interval, not all at :00.
    phases = sorted(float(row.at) % INTERVAL for row in due)
    assert phases[-1] - phases[0] > INTERVAL / 2 and len({round(p, 1) for p in phases}) > 12

    stop = asyncio.Event()
    started = time.time()
    runs = [asyncio.create_task(s.run(stop)) for s in (first, second)]
    await asyncio.sleep(2 * INTERVAL + 1)
    stop.set()
    await asyncio.gather(*runs)
    elapsed = time.time() - started
    for listener in listeners:
        gaps = [b - a for a, b in zip(listener.times, listener.times[1:], strict=False)]
        assert 2 <= len(listener.times) <= int(elapsed // INTERVAL) + 1, (listener.port, listener.times)
        assert all(gap > INTERVAL - 0.5 for gap in gaps), gaps  # never twice in an interval
    total = sum(len(listener.times) for listener in listeners)
    assert first.stats.ran + second.stats.ran == total and first.stats.ran > 0 and second.stats.ran > 0
    # Starts were on time: within the claim's poll of their due time.
    delays = sorted(first.stats.delays + second.stats.delays)
    assert delays[int(len(delays) * 0.95) - 1] < 0.5, delays[-5:]
    written = await rows(sql, "SELECT count(*) AS n FROM check_result r JOIN check_state s ON s.id = r.check_state_id WHERE s.template_id = :t", t=template_id)
    assert written[0].n == total
    for listener in listeners:
        await listener.close()


async def test_a_batch_is_written_in_a_fixed_number_of_statements(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listeners = [await Listener().start() for _ in range(30)]
    _, _, _, template_id = await service_lab(committed_api, committed_org.tenant_ids[0], [listener.port for listener in listeners])
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    await scheduler.resolve(force=True)
    counted: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counted.append(statement)

    sa.event.listen(scheduler.engine.sync_engine, "before_cursor_execute", count)
    try:
        for size in (5, 30):
            async with sql.system_transaction() as conn:
                await conn.execute(sa.text("UPDATE check_state SET next_due_at = now() + interval '1 hour' WHERE template_id = :t"), {"t": template_id})
                await conn.execute(
                    sa.text(
                        "UPDATE check_state SET next_due_at = now() WHERE id IN (SELECT id FROM check_state WHERE template_id = :t ORDER BY port LIMIT :n)"
                    ),
                    {"t": template_id, "n": size},
                )
            counted.clear()
            ran = await scheduler.step(wait=False)
            assert len(ran) == size
            # claim 1; write: lock, update, results (+ transitions when any): no per-check statement
            assert len([s for s in counted if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "SELECT 1", "SELECT PG_"))]) <= 5, counted
    finally:
        sa.event.remove(scheduler.engine.sync_engine, "before_cursor_execute", count)
    for listener in listeners:
        await listener.close()


async def test_a_resolve_keeps_the_slot_of_a_claimed_check(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    """A check claimed ahead of its slot has its next slot one interval on; resolving then
    must not move it back to the slot being run (it would run twice)."""
    listener = await Listener().start()
    lab, _, _, template_id = await service_lab(committed_api, committed_org.tenant_ids[0], [listener.port])
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    await scheduler.resolve(force=True)
    async with sql.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE check_state SET next_due_at = now() + interval '0.8 seconds' WHERE template_id = :t"), {"t": template_id})
    (claimed,) = [c for c in await scheduler.claim(ahead=1.0) if str(c.row.template_id) == template_id]
    (before,) = await rows(sql, "SELECT next_due_at FROM check_state WHERE template_id = :t", t=template_id)
    assert (before.next_due_at - claimed.row.due_at).total_seconds() == pytest.approx(INTERVAL)
    await scheduler.resolve(force=True)
    (after,) = await rows(sql, "SELECT next_due_at FROM check_state WHERE template_id = :t", t=template_id)
    assert after.next_due_at == before.next_due_at
    # A shorter interval moves a slot that lies beyond it.
    await lab.update("check_template", template_id, interval_seconds=60)
    async with sql.system_transaction() as conn:
        await conn.execute(
            sa.text("UPDATE check_state SET next_due_at = now() + interval '50 seconds', lease_until = NULL WHERE template_id = :t"), {"t": template_id}
        )
    await lab.update("check_template", template_id, interval_seconds=INTERVAL)
    await scheduler.resolve(force=True)
    (moved,) = await rows(sql, "SELECT next_due_at, now() AS now FROM check_state WHERE template_id = :t", t=template_id)
    assert (moved.next_due_at - moved.now).total_seconds() <= INTERVAL
    await listener.close()


async def test_an_unassigned_check_stops_and_is_retired(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listener = await Listener().start()
    lab, device, _, template_id = await service_lab(committed_api, committed_org.tenant_ids[0], [listener.port])
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    await scheduler.resolve(force=True)
    await make_due(sql, template_id)
    assert len(await scheduler.step()) == 1 and len(listener.times) == 1
    (assignment,) = await rows(sql, "SELECT id FROM check_assignment WHERE template_id = :t", t=template_id)
    await committed_api.data("mutation($id: ID!) { check_assignment_delete(id: $id) { id } }", id=str(assignment.id))
    resolved = await scheduler.resolve(force=True)
    assert resolved is not None and resolved["retired"] == 1
    (state,) = await rows(sql, "SELECT id, state, next_due_at, message FROM check_state WHERE template_id = :t", t=template_id)
    assert (state.state, state.next_due_at) == ("unknown", None) and "no longer assigned" in state.message
    transitions = await rows(sql, "SELECT previous, current FROM state_transition WHERE check_state_id = :s ORDER BY at", s=state.id)
    assert [(t.previous, t.current) for t in transitions] == [("unknown", "up"), ("up", "unknown")]
    async with sql.system_transaction() as conn:  # even when it looks due, it is not claimed
        await conn.execute(sa.text("UPDATE check_state SET lease_until = NULL WHERE id = :s"), {"s": state.id})
    assert [r for r in await scheduler.step(wait=False) if r.claimed.row.template_id == uuid.UUID(template_id)] == []
    assert len(listener.times) == 1
    assert (await committed_api.data(DEVICE_CHECKS, id=device))["device"]["checks"] == []
    # Assigned again: it runs again, from unknown.
    await lab.update("check_template", template_id, parameters={"port": listener.port})
    await lab.make("check_assignment", template=template_id, assigned_object=ref("dcim.device", device))
    await scheduler.resolve(force=True)
    await make_due(sql, template_id)
    assert [r.result.status.value for r in await scheduler.step()] == ["up"]
    await listener.close()


async def test_tenants_write_and_read_only_their_own(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listener = await Listener().start()
    a, b = committed_org.tenant_ids
    _, device_a, _, template_a = await service_lab(committed_api, a, [listener.port], name="alpha")
    _, device_b, _, template_b = await service_lab(committed_api, b, [listener.port], name="bravo", fall=1)
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    await scheduler.resolve(force=True)
    await make_due(sql, template_a)
    await make_due(sql, template_b)
    await scheduler.step()
    states = await rows(sql, "SELECT id, tenant_id, template_id FROM check_state WHERE template_id IN (:a, :b)", a=template_a, b=template_b)
    assert {(str(s.template_id), s.tenant_id) for s in states} == {(template_a, a), (template_b, b)}
    mixed = await rows(
        sql,
        "SELECT count(*) AS n FROM check_state s JOIN check_result r ON r.check_state_id = s.id WHERE r.tenant_id <> s.tenant_id"
        " UNION ALL SELECT count(*) FROM check_state s JOIN state_transition t ON t.check_state_id = s.id WHERE t.tenant_id <> s.tenant_id",
    )
    assert [m.n for m in mixed] == [0, 0]
    key_b = await committed_org.user_key(
        tenant_ids=[b], grants={t: ["view"] for t in ("check_state", "state_transition", "device", "check_template", "check_assignment", "service")}
    )
    reader = committed_api.as_key(key_b)
    listed = (await reader.data("{ check_state_list { state template { name } } }"))["check_state_list"]
    assert listed == [{"state": "up", "template": {"name": "tcp bravo"}}]
    other = await reader.query(DEVICE_CHECKS, {"id": device_a})  # tenant A's device: not found, no checks
    assert not (other.get("data") or {}).get("device") and other.get("errors"), other
    assert [c["state"] for c in (await reader.data(DEVICE_CHECKS, id=device_b))["device"]["checks"]] == ["up"]
    assert await reader.count("state_transition") == 0 or all(
        t["check_state"]["template"]["name"] == "tcp bravo"
        for t in (await reader.data("{ state_transition_list { check_state { template { name } } } }"))["state_transition_list"]
    )
    await listener.close()


async def test_cycle_hooks_run_after_a_changing_batch(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str
) -> None:
    listener = await Listener().start()
    _, _, _, template_id = await service_lab(committed_api, committed_org.tenant_ids[0], [listener.port])
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    calls: list[tuple[str, Any]] = []

    async def async_hook(conn: Any, now: Any) -> list[dict[str, Any]]:
        # runs after the batch committed: it sees the new state
        (state,) = (await conn.execute(sa.text("SELECT state FROM check_state WHERE template_id = :t"), {"t": template_id})).all()
        calls.append(("async", state.state))
        return [{"kind": "test-hook", "template": template_id}]

    def sync_hook(conn: Any, now: Any) -> list[dict[str, Any]]:
        calls.append(("sync", now.tzinfo is not None))
        return []

    def broken_hook(conn: Any, now: Any) -> list[dict[str, Any]]:
        conn.execute(sa.text("UPDATE check_state SET message = 'hook was here' WHERE template_id = :t"), {"t": template_id})
        raise RuntimeError("a hook's bug")

    register_cycle_hook(broken_hook)  # logged and rolled back; the others still run
    register_cycle_hook(async_hook)
    register_cycle_hook(sync_hook)
    register_cycle_hook(sync_hook)  # once
    try:
        await scheduler.resolve(force=True)
        async with Events(redis_url) as events:
            await make_due(sql, template_id)
            await scheduler.step()
            assert calls == [("async", "up"), ("sync", True)]
            await make_due(sql, template_id)
            await scheduler.step()  # up again: no change, and the hook interval is long
            assert len(calls) == 2
            assert any(e.get("kind") == "test-hook" for e in await events.collect())
        assert "hook was here" not in (await rows(sql, "SELECT message FROM check_state WHERE template_id = :t", t=template_id))[0].message
    finally:
        monitoring._HOOKS.remove(broken_hook)
        monitoring._HOOKS.remove(async_hook)
        monitoring._HOOKS.remove(sync_hook)
    await listener.close()


async def test_the_worker_thread_runs_checks_and_the_setting_turns_it_off(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from danbyte.settings import get_settings

    monkeypatch.setenv("DANBYTE_CHECK_SCHEDULER", "0")
    get_settings.cache_clear()
    try:
        assert monitoring.start_check_scheduler(database_url, redis_url) is None
    finally:
        monkeypatch.delenv("DANBYTE_CHECK_SCHEDULER")
        get_settings.cache_clear()
    listener = await Listener().start()
    _, device, _, template_id = await service_lab(committed_api, committed_org.tenant_ids[0], [listener.port])
    # an earlier test's schedulers (resolving hourly) marked this period as resolved
    client = aioredis.Redis.from_url(redis_url)
    await client.delete(monitoring.RESOLVE_MARKER)
    await client.aclose()
    running = monitoring.start_check_scheduler(database_url, redis_url, resolve_interval=0.5, poll=0.05)
    assert running is not None
    try:
        deadline = time.monotonic() + INTERVAL + 5
        while time.monotonic() < deadline:
            states = await rows(sql, "SELECT state FROM check_state WHERE template_id = :t", t=template_id)
            if states and states[0].state == "up":
                break
            await asyncio.sleep(0.2)
        assert [s.state for s in states] == ["up"]
    finally:
        await asyncio.to_thread(running.stop)
    assert len(listener.times) >= 1
    await listener.close()


# --- SNMPv3 ---------------------------------------------------------------------------------

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RECORDING = SHARED_DATA / "snmp" / "librenms" / "linux_icecast.snmprec"
CONTEXT = "librenms/linux_icecast"
V3 = V3User("sched-priv", "SHA", "auth-secret-9", "AES", "priv-secret-9")


@pytest.fixture(scope="module")
def snmp_agent() -> Iterator[int]:
    work = Path(tempfile.mkdtemp(prefix="danbyte-snmpsim-sched-"))
    data = work / "data"
    (data / "librenms").mkdir(parents=True)
    shutil.copy(RECORDING, data / "librenms" / RECORDING.name)
    agent = SnmpAgent(work_dir=work / "agent", data_dirs=[data], v3_users=[V3])
    try:
        with agent.start(probe_community=CONTEXT):
            yield agent.port
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def test_snmpv3_check_up_and_wrong_key_down(
    committed_api: Api, committed_org: Any, sql: Any, cleanup: None, schedulers: list[CheckScheduler], database_url: str, redis_url: str, snmp_agent: int
) -> None:
    lab = Lab(committed_api, committed_org.tenant_ids[0])
    c = await lab.catalogue()
    common = {
        "version": "V3",
        "username": V3.name,
        "auth_protocol": "SHA",
        "priv_protocol": "AES",
        "context": CONTEXT,
        "port": snmp_agent,
        "timeout": "1",
        "retries": 0,
    }
    good = await lab.make("snmp_profile", name="good", auth_key=V3.auth_key, priv_key=V3.priv_key, **common)
    bad = await lab.make("snmp_profile", name="bad", auth_key="wrong-auth-key", priv_key=V3.priv_key, **common)
    device = await lab.device(c, await lab.device_type(c, "Agent"), "agent", management_address=LOOPBACK, snmp_profile=good)
    sys_descr = {"oid": "1.3.6.1.2.1.1.1.0", "expect": {"op": "contains", "operand": "Linux"}}
    by_binding = await lab.make("check_template", name="descr", kind="KIND_SNMP", parameters=sys_descr, rise=1, fall=1, timeout_seconds=3)
    by_template = await lab.make(
        "check_template", name="descr bad", kind="KIND_SNMP", parameters=sys_descr, rise=1, fall=1, timeout_seconds=3, snmp_profile=bad
    )
    for template_id in (by_binding, by_template):
        await lab.make("check_assignment", template=template_id, assigned_object=ref("dcim.device", device))
    scheduler = new_scheduler(schedulers, database_url, redis_url)
    await scheduler.resolve(force=True)
    await make_due(sql, by_binding)
    await make_due(sql, by_template)
    started = time.monotonic()
    ran = {str(r.claimed.row.template_id): r.result for r in await scheduler.step()}
    assert time.monotonic() - started < 3
    assert ran[by_binding].status.value == "up", ran[by_binding]
    assert ran[by_template].status.value == "down" and ran[by_template].error.value == "authentication_failed", ran[by_template]
    got = {c["template_name"]: c for c in (await committed_api.data(DEVICE_CHECKS, id=device))["device"]["checks"]}
    assert got["descr"]["state"] == "up" and got["descr bad"]["state"] == "down"
    assert "rejected SNMPv3 user" in got["descr bad"]["message"]
    # No key anywhere the scheduler wrote.
    written = await rows(sql, "SELECT row_to_json(s)::text AS j FROM check_state s WHERE template_id IN (:a, :b)", a=by_binding, b=by_template)
    written += await rows(
        sql, "SELECT row_to_json(t)::text AS j FROM state_transition t JOIN check_state s ON s.id = t.check_state_id WHERE s.template_id = :b", b=by_template
    )
    for row in written:
        for secret in (V3.auth_key, V3.priv_key, "wrong-auth-key"):
            assert secret not in row.j
    # A device without a profile: the check is down and says why, nothing is sent.
    bare = await lab.device(c, await lab.device_type(c, "Bare"), "bare", management_address="127.0.0.9")
    await lab.make("check_assignment", template=by_binding, assigned_object=ref("dcim.device", bare))
    await scheduler.resolve(force=True)
    await make_due(sql, by_binding)
    results = {r.claimed.row.address: r.result for r in await scheduler.step()}
    assert results["127.0.0.9"].status.value == "down" and "no SNMP profile" in results["127.0.0.9"].message
