"""GraphiQL page works offline in a real Chromium.

Serves a tiny Starlette app (GraphiQL page + a minimal strawberry schema + the
local GraphiQL assets) with uvicorn on 127.0.0.1 and drives it with headless
Chromium: queries over fetch, subscriptions over the graphql-transport-ws
WebSocket, the ?token= prefill, and no request leaving localhost.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncGenerator, Iterator

import pytest
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import Info

from danbyte.graphiql import (
    GRAPHIQL_ASSET_FILES,
    GRAPHIQL_ASSETS_DIR,
    graphiql_response,
    static_app,
)

try:
    from browser import CHROMIUM, run_graphiql_query
except ImportError:  # tests/ imported as a package
    from tests.browser import CHROMIUM, run_graphiql_query


def _authorization(info: Info) -> str | None:
    request = info.context["request"]
    if isinstance(request, WebSocket):
        params = info.context.get("connection_params") or {}
        return params.get("Authorization")
    return request.headers.get("authorization")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def whoami(self, info: Info) -> str | None:
        return _authorization(info)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def greeting(self, info: Info) -> AsyncGenerator[str, None]:
        transport = "websocket" if isinstance(info.context["request"], WebSocket) else "http"
        yield f"hello over {transport}, auth={_authorization(info)}"


def _make_app() -> Starlette:
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    graphql_app = GraphQL(schema, graphql_ide=None)

    async def graphiql_page(request: Request):
        return graphiql_response(request, endpoint="/graphql")

    return Starlette(
        routes=[
            Route("/graphql", graphiql_page, methods=["GET"]),
            Route("/graphql", graphql_app, methods=["POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Mount("/static/graphiql", app=static_app(GRAPHIQL_ASSETS_DIR)),
        ]
    )


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    missing = [f for f in (".complete", *GRAPHIQL_ASSET_FILES) if not (GRAPHIQL_ASSETS_DIR / f).is_file()]
    if missing:
        pytest.fail(
            f"GraphiQL assets missing in {GRAPHIQL_ASSETS_DIR} ({', '.join(missing)}): run `make` "
            f"(or `bash scripts/fetch_graphiql.sh danbyte/static/graphiql`)",
            pytrace=False,
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} missing: run `make` (or `bash scripts/install_chromium.sh` as root)",
            pytrace=False,
        )

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _make_app(),
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        loop="asyncio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])),
        name="graphiql-test-uvicorn",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def test_graphiql_runs_query_offline(server_url: str, tmp_path) -> None:
    shot = tmp_path / "graphiql.png"
    result = run_graphiql_query(f"{server_url}/graphql", "{ hello }", screenshot_path=str(shot))
    assert '"hello": "world"' in result, result
    assert shot.stat().st_size > 0


def test_graphiql_token_param_sets_authorization_header(server_url: str) -> None:
    result = run_graphiql_query(f"{server_url}/graphql?token=s3cret", "{ whoami }")
    assert '"whoami": "Bearer s3cret"' in result, result


def test_graphiql_without_token_sends_no_authorization(server_url: str) -> None:
    result = run_graphiql_query(f"{server_url}/graphql", "{ whoami }")
    assert '"whoami": null' in result, result


def test_graphiql_subscription_over_websocket(server_url: str) -> None:
    result = run_graphiql_query(f"{server_url}/graphql?token=wstoken", "subscription { greeting }")
    assert "hello over websocket, auth=Bearer wstoken" in result, result
