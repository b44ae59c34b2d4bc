"""A real uvicorn serving the app in a thread of the test process (so a test can read the
fan-out's figures), and graphql-transport-ws clients for it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
import websockets
from websockets.typing import Subprotocol


@dataclasses.dataclass
class Served:
    base: str
    app: Any

    @property
    def fanout(self) -> Any:
        return self.app.state.danbyte.fanout


@contextmanager
def app_server(database_url: str, redis_url: str, **settings: Any) -> Iterator[Served]:
    """uvicorn (websockets-sansio, as `danbyte serve`) on a free port until the block ends;
    ``settings``: Settings fields to override (ws_queue_limit=…)."""
    from danbyte.app import create_app
    from danbyte.settings import Settings

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    holder: dict[str, Any] = {}

    async def main() -> None:
        app = create_app(database_url, redis_url, dataclasses.replace(Settings(), **settings))
        holder["app"] = app
        server = holder["server"] = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio", loop="asyncio", lifespan="on"))
        await server.serve(sockets=[sock])

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="fanout-test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while "server" not in holder or not holder["server"].started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", holder["app"])
    finally:
        holder["server"].should_exit = True
        thread.join(timeout=30)
        sock.close()


async def connect(base: str, key: str, **options: Any) -> Any:
    """An acknowledged graphql-transport-ws connection (``options``: websockets.connect's)."""
    options.setdefault("max_size", None)
    ws = await websockets.connect(base.replace("http", "ws") + "/graphql", subprotocols=[Subprotocol("graphql-transport-ws")], **options)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    return ws


async def subscribe(ws: Any, query: str, id: str = "1", **variables: Any) -> None:
    await ws.send(json.dumps({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))


async def message(ws: Any, timeout: float = 10) -> dict[str, Any]:
    """The next protocol message (pings skipped)."""
    while True:
        found = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if found["type"] not in ("ping", "pong"):
            return found


async def raw(ws: Any, timeout: float = 10) -> str:
    """The next message's text as sent (pings skipped)."""
    while True:
        text = await asyncio.wait_for(ws.recv(), timeout)
        if json.loads(text)["type"] not in ("ping", "pong"):
            return text


async def settle(condition: Any, timeout: float = 10) -> None:
    """Wait until ``condition()`` holds (the server works in another thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        await asyncio.sleep(0.02)


async def post(base: str, key: str, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL request over HTTP to the served app; its data (errors fail the test)."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"})
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]
