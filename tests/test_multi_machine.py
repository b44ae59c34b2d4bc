"""More than one machine (docs/scaling.md): two API processes (`danbyte serve --no-worker`)
and two workers (`danbyte worker`) against one PostgreSQL and one Redis that none of them
started (the test session's). Real CLI processes. Checked: both servers start at once
and one migrates (and one creates the admin); a change made on server 2 and a check state
changed by a worker reach subscribers of server 1; a check runs once per interval and a
one-second schedule once per due time across both workers; a rolling restart loses no
event.

"Loses no event" means: every change committed while servers restart one after the other
reaches every subscriber exactly once, if the subscriber, when its connection drops,
subscribes again (to any server) with ``after`` = the last ``event_id`` it saw. The
truth is the database: the set of objects created equals each subscriber's set."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from alembic.script import ScriptDirectory
from dcim_lab import Lab
from live import free_port
from websockets.typing import Subprotocol

from danbyte.cli import async_url
from danbyte.migrations import alembic_config

pytestmark = pytest.mark.slow

CHECKS = "subscription { check_state_changed { action id check_state { state } } }"
RESUME = 'subscription($after: String) { object_changed(types: ["vrf"], after: $after) { id action event_id } }'


class Cluster:
    def __init__(self, database_url: str, redis_url: str, root: Path) -> None:
        self.database_url, self.redis_url, self.root = database_url, redis_url, root
        self.env = {
            **os.environ,
            "DANBYTE_DATABASE_URL": database_url,
            "DANBYTE_REDIS_URL": redis_url,
            "DANBYTE_WORKERS": "1",
            "DANBYTE_SCHEDULER_TICK": "0.3",
            "DANBYTE_CHECK_RESOLVE_INTERVAL": "1",
            "DANBYTE_COMPILER_SHADOW": "0",
        }
        self.servers: dict[int, tuple[subprocess.Popen, Path]] = {}
        self.others: list[subprocess.Popen] = []

    def _spawn(self, name: str, args: list[str], home: Path) -> tuple[subprocess.Popen, Path]:
        home.mkdir(exist_ok=True)
        log = self.root / f"{name}-{time.monotonic_ns()}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "danbyte.cli", *args], env={**self.env, "DANBYTE_HOME": str(home)}, stdout=out, stderr=subprocess.STDOUT
            )
        return proc, log

    def start_server(self, port: int) -> None:
        self.servers[port] = self._spawn(f"serve-{port}", ["serve", "--no-worker", "--port", str(port)], self.root / f"home-{port}")

    def wait_up(self, port: int, timeout: float = 90) -> None:
        proc, log = self.servers[port]
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

    def stop_server(self, port: int) -> None:
        proc, log = self.servers[port]
        proc.send_signal(signal.SIGTERM)
        # One API process: uvicorn stops gracefully (requests in flight answered, their
        # events published), then re-raises SIGTERM.
        assert proc.wait(60) in (0, -signal.SIGTERM), log.read_text()
        assert "Application shutdown complete" in log.read_text()

    def start_worker(self, n: int) -> None:
        proc, _ = self._spawn(f"worker-{n}", ["worker", "--threads", "2"], self.root / f"worker-{n}")
        self.others.append(proc)

    def admin_key(self) -> str:
        keys = [p.read_text().strip() for p in self.root.glob("home-*/admin-token")]
        assert len(keys) == 1, keys  # one first start, whoever won it
        return keys[0]

    def logs(self, prefix: str) -> list[str]:
        return [p.read_text(errors="replace") for p in sorted(self.root.glob(f"{prefix}*.log"))]

    def stop_all(self) -> None:
        for proc in [p for p, _ in self.servers.values()] + self.others:
            if proc.poll() is None:
                proc.terminate()
        for proc in [p for p, _ in self.servers.values()] + self.others:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(services: tuple[str, str]) -> Iterator[Cluster]:
    """A fresh, empty database on the session's PostgreSQL, and its Redis: started by the
    test session, outside every process under test, as an external service would be."""
    server = async_url(services[0])
    name = f"danbyte_multi_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    root = Path(tempfile.mkdtemp(prefix="dbt-mm-"))
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    running = Cluster(url, services[1], root)
    try:
        yield running
    finally:
        running.stop_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(root, ignore_errors=True)


async def resuming_subscriber(bases: list[str], key: str, into: list[dict], connected: asyncio.Event, stop: asyncio.Event, reconnects: list[int]) -> None:
    """A dashboard that keeps its last event_id and, whenever its connection drops,
    subscribes again to whichever server answers, after that id."""
    after = None
    turn = 0
    while not stop.is_set():
        base = bases[turn % len(bases)]
        turn += 1
        try:
            ws = await websockets.connect(base.replace("http", "ws") + "/graphql", subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=3)
        except (TimeoutError, OSError, websockets.InvalidHandshake):
            await asyncio.sleep(0.2)
            continue
        try:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": RESUME, "variables": {"after": after}}}))
            await asyncio.sleep(0.3)  # the server's Redis subscription is up
            connected.set()
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if message["type"] == "next":
                    assert "errors" not in message["payload"], message
                    event = message["payload"]["data"]["object_changed"]
                    into.append(event)
                    after = event["event_id"]
                else:
                    assert message["type"] in ("ping", "pong"), message
        except (websockets.ConnectionClosed, OSError):
            reconnects.append(1)
        finally:
            await ws.close()


def test_two_api_processes_two_workers_one_database(cluster: Cluster) -> None:
    one, two = free_port(), free_port()
    # Both API processes start at once on an empty database: one migrates, one first start.
    cluster.start_server(one)
    cluster.start_server(two)
    cluster.wait_up(one)
    cluster.wait_up(two)
    script = ScriptDirectory.from_config(alembic_config(cluster.database_url))
    first, head = f"Running upgrade  -> {script.get_base()}", script.get_current_head()
    assert sum(first in log for log in cluster.logs("serve-")) == 1, cluster.logs("serve-")
    engine = sa.create_engine(cluster.database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
        assert conn.execute(sa.text('SELECT count(*) FROM "user"')).scalar_one() == 1
    key = cluster.admin_key()
    cluster.start_worker(1)
    cluster.start_worker(2)
    deadline = time.monotonic() + 60
    # Due times passed before any scheduler runs are skipped, not replayed: wait for both.
    while sum("worker running" in log for log in cluster.logs("worker-")) < 2:
        assert time.monotonic() < deadline and all(p.poll() is None for p in cluster.others), cluster.logs("worker-")
        time.sleep(0.2)
    base1, base2 = f"http://127.0.0.1:{one}", f"http://127.0.0.1:{two}"

    def graphql(base: str, query: str, **variables: Any) -> dict:
        body = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        assert "errors" not in body, body
        return body["data"]

    tenant = graphql(base1, "{ tenant_list { id } }")["tenant_list"][0]["id"]
    with engine.begin() as conn:
        user = conn.execute(sa.text('SELECT id FROM "user"')).scalar_one()
        # A periodic job every second (below the API's minimum, written directly), due now.
        schedule = conn.execute(
            sa.text(
                "INSERT INTO job_schedule (tenant_id, name, kind, parameters, interval_seconds, next_run_at, allow_overlap, user_id, user_name)"
                " VALUES (:t, 'every second', 'prune_jobs', '{\"days\": 30}', 1, now() + interval '1 second', true, :u, 'admin') RETURNING id"
            ),
            {"t": tenant, "u": user},
        ).scalar_one()

    # A TCP check (every 5 s, the shortest interval) of a port this test listens on,
    # created through server 2.
    class Http:
        async def data(self, query: str, **variables: Any) -> dict:
            return await asyncio.to_thread(graphql, base2, query, **variables)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    async def make_check() -> str:
        lab = Lab(Http(), tenant)
        c = await lab.catalogue()
        device = await lab.device(c, await lab.device_type(c, "Box"), "probe-me", management_address="127.0.0.1")
        service = await lab.make("service", name="app", protocol="ROLE_TCP", ports=[listener.getsockname()[1]], parent={"type": "dcim.device", "id": device})
        template = await lab.make("check_template", name="tcp", kind="KIND_TCP", rise=1, fall=1, interval_seconds=5, timeout_seconds=2)
        await lab.make("check_assignment", template=template, assigned_object={"type": "ipam.service", "id": service})
        return template

    created: list[str] = []
    templates: list[str] = []

    async def scenario() -> None:
        stop, writing = asyncio.Event(), asyncio.Event()
        seen_a: list[dict] = []
        seen_b: list[dict] = []
        ready_a, ready_b = asyncio.Event(), asyncio.Event()
        drops: list[int] = []
        a = asyncio.create_task(resuming_subscriber([base1, base2], key, seen_a, ready_a, stop, drops))
        b = asyncio.create_task(resuming_subscriber([base2, base1], key, seen_b, ready_b, stop, drops))
        await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), 20)

        # A check state changed by a worker reaches a subscriber of server 1.
        checks = await websockets.connect(base1.replace("http", "ws") + "/graphql", subprotocols=[Subprotocol("graphql-transport-ws")])
        await checks.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
        assert json.loads(await asyncio.wait_for(checks.recv(), 10))["type"] == "connection_ack"
        await checks.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CHECKS}}))

        async def check_events() -> Any:
            while True:
                found = json.loads(await asyncio.wait_for(checks.recv(), 30))
                if found["type"] == "next":
                    yield found["payload"]["data"]["check_state_changed"]

        stream = check_events()
        assert (await anext(stream))["action"] == "ready"  # no checks yet: an empty current set
        templates.append(await make_check())
        while (change := await anext(stream))["check_state"] is None or change["check_state"]["state"] != "up":
            pass
        await stream.aclose()
        await checks.close()

        # Fan-out across processes: a change made on server 2 reaches server 1's subscriber.
        made = await asyncio.to_thread(graphql, base2, 'mutation($t: ID!) { vrf_create(input: {name: "first", tenant: $t}) { id } }', t=tenant)
        created.append(made["vrf_create"]["id"])
        deadline = time.monotonic() + 10
        while not seen_a or not seen_b:
            assert time.monotonic() < deadline, (seen_a, seen_b)
            await asyncio.sleep(0.1)
        assert seen_a[0]["id"] == seen_b[0]["id"] == created[0] and seen_a[0]["event_id"]

        async def writer() -> None:
            """Creates objects one after another on whichever server answers."""
            n = 0
            async with httpx.AsyncClient(timeout=30) as client:
                while not writing.is_set():
                    n += 1
                    for base in (base1, base2) if n % 2 else (base2, base1):
                        try:
                            response = await client.post(
                                f"{base}/graphql",
                                json={
                                    "query": "mutation($t: ID!, $n: String!) { vrf_create(input: {name: $n, tenant: $t}) { id } }",
                                    "variables": {"t": tenant, "n": f"r{n}"},
                                },
                                headers={"Authorization": f"Bearer {key}"},
                            )
                        except httpx.HTTPError:
                            continue  # refused or cut: the database says below whether it was made
                        if response.status_code == 200 and "errors" not in response.json():
                            break
                    await asyncio.sleep(0.05)

        writes = asyncio.create_task(writer())
        # Rolling restart: server 2, then server 1, each stopped gracefully and started again.
        await asyncio.sleep(1)
        for port in (two, one):
            await asyncio.to_thread(cluster.stop_server, port)
            await asyncio.sleep(0.5)  # changes go on through the other server meanwhile
            cluster.start_server(port)
            await asyncio.to_thread(cluster.wait_up, port)
            await asyncio.sleep(1)
        writing.set()
        await writes
        with engine.connect() as conn:
            made_ids = [str(i) for i in conn.execute(sa.text("SELECT id FROM vrf ORDER BY created")).scalars()]
        deadline = time.monotonic() + 20
        while {e["id"] for e in seen_a} != set(made_ids) or {e["id"] for e in seen_b} != set(made_ids):
            assert time.monotonic() < deadline, (len(made_ids), len(seen_a), len(seen_b))
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(a, b)
        # Both subscribers lost their connection once (their server restarted) and missed
        # nothing, nor got anything twice.
        assert len(drops) >= 2
        for seen in (seen_a, seen_b):
            assert sorted(e["id"] for e in seen) == sorted(made_ids)
            ids = [tuple(int(p) for p in e["event_id"].split("-")) for e in seen]
            assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert len(made_ids) > 10

    asyncio.run(scenario())

    listener.close()
    # The check ran once per interval across both workers' check schedulers.
    with engine.connect() as conn:
        ats = list(
            conn.execute(
                sa.text("SELECT r.at FROM check_result r JOIN check_state s ON s.id = r.check_state_id WHERE s.template_id = :t ORDER BY r.at"),
                {"t": templates[0]},
            ).scalars()
        )
    gaps = [(b - a).total_seconds() for a, b in zip(ats, ats[1:], strict=False)]
    assert len(ats) >= 3 and all(4 <= gap <= 6 for gap in gaps), gaps

    # The schedule ran once per due time across both workers' schedulers.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE job_schedule SET enabled = false WHERE id = :s"), {"s": schedule})
        rows = conn.execute(sa.text("SELECT due_at, status, attempts, log FROM job WHERE schedule_id = :s ORDER BY due_at"), {"s": schedule}).all()
    engine.dispose()
    dues = [row.due_at for row in rows]
    assert len(dues) >= 5 and len(set(dues)) == len(dues)
    # No due time skipped between the first and the last (the grid is one second).
    assert [(b - a).total_seconds() for a, b in zip(dues, dues[1:], strict=False)] == [1.0] * (len(dues) - 1)
    assert all(row.attempts <= 1 for row in rows)
    # Both workers' schedulers took part (each job's log names its scheduler).
    schedulers = {json.dumps(row.log[0]["msg"]).split(" (schedule")[0] for row in rows}
    assert len(schedulers) == 2, schedulers
