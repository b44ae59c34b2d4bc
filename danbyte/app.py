"""The ASGI application: /graphql (POST queries, GET GraphiQL, WebSocket subscriptions)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

import models  # noqa: F401  (declares every table before the schema is built)
from danbyte.database import Database, QueryStats, current_stats
from danbyte.events import EventBus
from danbyte.graphiql import GRAPHIQL_ASSETS_DIR, graphiql_response, static_app
from danbyte.settings import Settings, get_settings
from permissions.tokens import AuthError, key_from_header, principal_for_key
from resolvers.context import RequestContext
from schema.root import build_schema

logger = logging.getLogger("danbyte.app")


class DanbyteGraphQL(GraphQL):
    def __init__(self, state: AppState) -> None:
        super().__init__(build_schema(state.settings), graphql_ide=None, keep_alive=True)
        self.state = state

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> RequestContext:
        ctx = RequestContext(db=self.state.db, principal=None, events=self.state.events, settings=self.state.settings)
        if isinstance(request, Request):
            await self._authenticate(ctx, request.headers.get("authorization"))
            if request.headers.get("x-danbyte-debug") == "1" and ctx.principal is not None and ctx.principal.is_admin:
                ctx.debug = True
            ctx.stats = QueryStats()
            current_stats.set(ctx.stats)
        return ctx

    async def _authenticate(self, ctx: RequestContext, header: str | None) -> None:
        if header is None:
            return
        key = key_from_header(header)
        if key is None:
            ctx.auth_error = "malformed Authorization header: use 'Bearer <token>' or 'Token <token>'"
            return
        try:
            async with self.state.db.system_transaction() as conn:
                ctx.principal = await principal_for_key(conn, key)
        except AuthError as error:
            ctx.auth_error = str(error)

    async def on_ws_connect(self, context: RequestContext) -> None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if header is None and params.get("token"):
            header = f"Bearer {params['token']}"
        await self._authenticate(context, header)
        if context.principal is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": context.auth_error or "token required"})


class AppState:
    def __init__(self, settings: Settings, database_url: str, redis_url: str) -> None:
        self.settings = settings
        self.db = Database(database_url)
        self.events = EventBus(redis_url)

    async def close(self) -> None:
        await self.events.close()
        await self.db.dispose()


def create_app(
    database_url: str,
    redis_url: str,
    settings: Settings | None = None,
    on_shutdown: list[Callable[[], Awaitable[None] | None]] | None = None,
) -> Starlette:
    """Build the app. ``on_shutdown`` runs in the lifespan's shutdown, after connections close:
    the place to stop embedded services, since uvicorn re-raises SIGTERM and skips ``finally``."""
    settings = settings or get_settings()
    state = AppState(settings, database_url, redis_url)
    graphql_app = DanbyteGraphQL(state)

    async def graphiql_page(request: Request) -> Response:
        return graphiql_response(request, endpoint="/graphql")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await state.close()
        for callback in on_shutdown or []:
            result = callback()
            if result is not None:
                await result

    app = Starlette(
        routes=[
            Route("/graphql", graphiql_page, methods=["GET"]),
            Route("/graphql", graphql_app, methods=["POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/health", health),
            Mount("/static/graphiql", app=static_app(GRAPHIQL_ASSETS_DIR)),
        ],
        lifespan=lifespan,
    )
    app.state.danbyte = state
    return app
