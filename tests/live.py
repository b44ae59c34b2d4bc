"""Real server processes for tests that cross process boundaries (`danbyte serve`)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets
from websockets.typing import Subprotocol


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def danbyte_serve(
    home: Path,
    env: dict[str, str],
    *args: str,
    timeout: float = 60,
    port: int | None = None,
    new_session: bool = False,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `danbyte serve` until the block ends; yield (base URL, process).

    ``new_session``: in a process group of its own, so a test can Ctrl-C all of it."""
    port = port or free_port()
    log_path = home / f"serve-{port}-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "danbyte.cli", "serve", "--port", str(port), *args],
            # One API process unless a test asks for more: fast to start on any machine.
            env={**os.environ, "DANBYTE_HOME": str(home), "DANBYTE_WORKERS": "1", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"danbyte serve exited {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(log_path.read_text())
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                if new_session:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
                process.wait()


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_dead(pids: list[int], timeout: float = 30) -> bool:
    """Whether every process in ``pids`` is gone within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


async def subscribe(base: str, connection_params: dict[str, str], query: str) -> Any:
    """A graphql-transport-ws connection to ``base`` with one subscription running."""
    ws = await websockets.connect(base.replace("http", "ws") + "/graphql", subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init", "payload": connection_params}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws


async def next_event(ws: Any, field: str = "object_changed", timeout: float = 10) -> dict:
    """The next event a subscription delivers (keep-alive pings skipped)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "next":
            return message["payload"]["data"][field]
        assert message["type"] in ("ping", "pong"), message


def server_log(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(home.glob("serve-*.log")))
