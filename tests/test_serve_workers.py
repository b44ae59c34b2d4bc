"""`danbyte serve --workers N`: N uvicorn API processes under one supervisor that owns the
embedded services and the job worker. Real CLI processes, as in test_cli_serve."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import live
import psutil
import pytest
import websockets
from live import alive, danbyte_serve, free_port, next_event, wait_dead

from jobs.broker import PRODUCER_PREFIX

NO_URLS = {"DANBYTE_DATABASE_URL": "", "DANBYTE_REDIS_URL": ""}
SUBSCRIBE = 'subscription { object_changed(types: ["vrf"]) { type id action } }'


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dbt-wk-"))  # short: unix socket paths are limited
    yield path
    for pid_file in (path / "postgres" / "postmaster.pid", path / "redis" / "redis.pid"):
        if pid_file.exists() and alive(pid := int(pid_file.read_text().split()[0])):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def serve(home: Path, *args: str, port: int | None = None) -> Any:
    """`danbyte serve` with embedded services, in its own session (so a test can Ctrl-C its
    process group)."""
    return danbyte_serve(home, NO_URLS, *args, timeout=120, port=port, new_session=True)


def api_workers(parent: int) -> list[psutil.Process]:
    """The uvicorn worker processes (multiprocessing spawn children) of `danbyte serve`."""
    return [child for child in psutil.Process(parent).children() if "spawn_main" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE]


def everything(home: Path, parent: int) -> list[int]:
    """Every process `serve` started: its children (API workers, multiprocessing's
    resource tracker) and the embedded servers, which are daemons."""
    servers = [
        int((home / "postgres" / "postmaster.pid").read_text().split()[0]),
        int((home / "redis" / "redis.pid").read_text().split()[0]),
    ]
    return [child.pid for child in psutil.Process(parent).children(recursive=True)] + servers


def admin(home: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {(home / 'admin-token').read_text().strip()}"}


def graphql(base: str, home: Path, query: str) -> dict:
    # A new connection each time: the kernel hands it to whichever worker accepts first.
    response = httpx.post(f"{base}/graphql", json={"query": query}, headers=admin(home), timeout=30)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def serving_pid(workers: list[psutil.Process], local_port: int) -> int:
    """The worker holding the server end of the client connection from ``local_port``."""
    for worker in workers:
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == local_port:
                return worker.pid
    raise AssertionError(f"no worker holds the connection from port {local_port}")


async def subscribe(base: str, home: Path):
    return await live.subscribe(base, admin(home), SUBSCRIBE)


@pytest.mark.slow
async def test_events_reach_subscribers_on_every_worker_and_jobs_run_once(home):
    with serve(home, "--workers", "2") as (base, process):
        workers = api_workers(process.pid)
        assert len(workers) == 2

        # Subscribers until both workers hold some (which worker accepts is up to the kernel).
        sockets, by_worker = [], {}
        try:
            while len(sockets) < 6 or len(by_worker) < 2:
                assert len(sockets) < 40, f"every subscriber landed on one worker: {by_worker}"
                ws = await subscribe(base, home)
                sockets.append(ws)
                by_worker.setdefault(serving_pid(workers, ws.local_address[1]), []).append(ws)
            await asyncio.sleep(1)  # each worker's Redis subscription is up before anything is published

            tenant = (await asyncio.to_thread(graphql, base, home, "{ tenant_list { id } }"))["tenant_list"][0]["id"]
            expected = []
            for name in ("a", "b", "c"):
                data = await asyncio.to_thread(graphql, base, home, f'mutation {{ vrf_create(input: {{name: "{name}", tenant: "{tenant}"}}) {{ id }} }}')
                expected.append({"type": "vrf", "id": data["vrf_create"]["id"], "action": "create"})
            first = expected[0]["id"]
            await asyncio.to_thread(graphql, base, home, f'mutation {{ vrf_update(id: "{first}", input: {{rd: "65000:1"}}) {{ id }} }}')
            await asyncio.to_thread(graphql, base, home, f'mutation {{ vrf_delete(id: "{first}") {{ id }} }}')
            expected += [{"type": "vrf", "id": first, "action": "update"}, {"type": "vrf", "id": first, "action": "delete"}]

            async def events(ws) -> list[dict]:
                return [await next_event(ws) for _ in expected]

            received = await asyncio.gather(*(events(ws) for ws in sockets))
            assert all(got == expected for got in received), received
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))

        # The job worker runs in the supervisor only: one consumer, and it does the work.
        import psycopg
        from dramatiq import Message
        from dramatiq.brokers.redis import RedisBroker

        from danbyte.embedded import EmbeddedPostgres, EmbeddedRedis

        pg_url = EmbeddedPostgres(home).url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("INSERT INTO role (tenant_id, name, slug) VALUES (%s, 'imported', 'imported')", (tenant,))
            broker = RedisBroker(url=EmbeddedRedis(home).url(), namespace="danbyte")
            try:
                broker.enqueue(Message(queue_name="maintenance", actor_name="assign_numids", args=(), kwargs={}, options={}))
                deadline = time.monotonic() + 30
                while (numid := conn.execute("SELECT numid FROM role WHERE slug = 'imported'").fetchone()[0]) is None:
                    assert time.monotonic() < deadline, "the job worker did not run the job"
                    await asyncio.sleep(0.2)
                assert numid == 1
                # A dramatiq broker that enqueues or fetches records a heartbeat under its id:
                # apart from this test's, only the supervisor's job worker (API workers only enqueue).
                heartbeats = {m.decode() for m in broker.client.zrange("danbyte:__heartbeats__", 0, -1)} - {broker.broker_id}
                # (API workers' event buses enqueue webhook dispatches: producers, named so.)
                consumers = {h for h in heartbeats if not h.startswith(PRODUCER_PREFIX)}
                assert len(consumers) == 1, consumers
            finally:
                broker.close()

        pids = everything(home, process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    assert wait_dead(pids), [p for p in pids if alive(p)]


@pytest.mark.slow
def test_ctrl_c_stops_everything_and_a_kill_9_is_recovered_on_the_same_port(home):
    port = free_port()
    with serve(home, "--workers", "2", port=port) as (base, process):
        graphql(base, home, "{ me { username } }")
        pids = everything(home, process.pid)
        assert len(api_workers(process.pid)) == 2

        # Ctrl-C in a terminal: SIGINT to the whole foreground process group, while a
        # subscription is open.
        async def subscribed_ctrl_c() -> None:
            ws = await subscribe(base, home)
            os.killpg(process.pid, signal.SIGINT)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 30)

        asyncio.run(subscribed_ctrl_c())
        assert process.wait(60) == 0
    assert wait_dead(pids), [p for p in pids if alive(p)]

    with serve(home, "--workers", "2", port=port) as (base, process):
        assert len(api_workers(process.pid)) == 2
        *children, postgres, redis = everything(home, process.pid)  # API workers, resource tracker, servers
        servers = [postgres, redis]
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    # The API workers notice that their supervisor is gone and stop, freeing the port ...
    assert wait_dead(children, 15), [p for p in children if alive(p)]
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(("127.0.0.1", port))
    # ... while the embedded servers are daemons that outlive a kill -9: the next start
    # replaces them, on the same port.
    assert all(alive(p) for p in servers)
    with serve(home, "--workers", "2", port=port) as (base, process):
        assert wait_dead(servers)
        assert graphql(base, home, "{ me { username } }") == {"me": {"username": "admin"}}
        pids = everything(home, process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    assert wait_dead(pids), [p for p in pids if alive(p)]


@pytest.mark.slow
def test_workers_that_cannot_start_stop_serve(home, tmp_path):
    """uvicorn's supervisor respawns a dead worker forever unless it exits with uvicorn's
    STARTUP_FAILURE (3), which the factory uses for any error; serve then exits 3 and stops
    what it started."""
    hook = tmp_path / "sitecustomize.py"  # imported at interpreter start, so also by each spawned worker
    hook.write_text(
        "import os\n"
        "if os.environ.get('DANBYTE_SERVE_DATABASE_URL'):  # a worker, not serve itself\n"
        "    os.environ['DANBYTE_SERVE_SUPERVISOR_PID'] = 'not a pid'\n"
    )
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "danbyte.cli", "serve", "--port", str(free_port()), "--workers", "2"],
        env={**os.environ, "DANBYTE_HOME": str(home), **NO_URLS, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "could not start" in result.stderr
    # The embedded servers were stopped: their pid files and the owner file are gone.
    assert not any((home / name).exists() for name in ("postgres/postmaster.pid", "redis/redis.pid", "owner.pid"))


def test_workers_default_and_validation(monkeypatch):
    from danbyte.cli import build_parser, serve_workers
    from danbyte.settings import Settings

    monkeypatch.setenv("DANBYTE_WORKERS", "0")
    assert serve_workers(None, Settings()) == (os.cpu_count() or 1)
    monkeypatch.setenv("DANBYTE_WORKERS", "3")
    assert serve_workers(None, Settings()) == 3
    assert serve_workers(1, Settings()) == 1
    assert serve_workers(0, Settings()) == (os.cpu_count() or 1)
    with pytest.raises(SystemExit):
        serve_workers(-1, Settings())
    assert build_parser().parse_args(["serve", "--workers", "4"]).workers == 4
    assert build_parser().parse_args(["serve"]).workers is None
