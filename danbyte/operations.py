"""What operators watch (docs/operations.md): each request's log line and metrics,
``/metrics``, ``/health/live`` and ``/health/ready``."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from danbyte import metrics

if TYPE_CHECKING:
    from danbyte.database import QueryStats
    from permissions.principal import Principal

request_logger = logging.getLogger("danbyte.request")

REQUEST_ID_HEADER = "x-request-id"
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
# A document's first operation's name, when the request names none (cheaper than parsing).
_OPERATION_NAME = re.compile(r"^\s*(?:#[^\n]*\n\s*)*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
# Readiness checks give up after this long: a hung database is not ready.
READY_TIMEOUT = 3.0


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is a plain token (it is echoed and logged), else a new one."""
    if header and _CLIENT_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def operation_name(query: str | None, named: str | None) -> str | None:
    """The operation's name for labels and logs: ``named`` only when the document defines an
    operation of that name (a client cannot invent labels, or put text in a log line),
    else the document's first operation's name."""
    if named:
        if _GRAPHQL_NAME.fullmatch(named) and re.search(rf"\b(?:query|mutation|subscription)\s+{named}\b", query or ""):
            return named
        return None
    match = _OPERATION_NAME.match(query or "")
    return match.group(1) if match else None


@dataclass
class RequestRecord:
    """One GraphQL request over HTTP, filled in as it is served."""

    request_id: str
    started: float = field(default_factory=time.perf_counter)
    operation: str | None = None
    principal: Principal | None = None
    stats: QueryStats | None = None
    error_code: str | None = None

    def failed(self, code: str | None) -> None:
        if self.error_code is None:
            self.error_code = code or "INTERNAL_SERVER_ERROR"

    def finish(self, status: int) -> None:
        seconds = time.perf_counter() - self.started
        if self.error_code is None and status >= 400:
            self.error_code = "UNAUTHENTICATED" if status == 401 else f"HTTP_{status}"
        outcome = metrics.outcome_label(self.error_code)
        label = metrics.operation_label(self.operation)
        statements = self.stats.statements if self.stats is not None else None
        metrics.observe_request(label, outcome, seconds, statements)
        principal = self.principal
        tenants = "*" if principal is not None and principal.all_tenants else ",".join(sorted(str(t) for t in principal.tenant_ids)) if principal else ""
        request_logger.info(
            "%s %s %.1f ms",
            self.operation or metrics.ANONYMOUS,
            outcome,
            seconds * 1000,
            extra={
                "request_id": self.request_id,
                "user": principal.username if principal else None,
                "org": str(principal.org_id) if principal else None,
                "tenants": tenants or None,
                # The name as sent (bounded), not the metrics label.
                "operation": (self.operation or "")[:100] or None,
                "outcome": outcome,
                "error_code": self.error_code,
                "duration_ms": round(seconds * 1000, 3),
                "sql_statements": statements,
                "status": status,
            },
        )


current_request: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar("danbyte_request", default=None)


def first_error_code(errors: list[Any]) -> str | None:
    for error in errors:
        extensions = getattr(error, "extensions", None) or {}
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if isinstance(code, str):
            return code
    return "INTERNAL_SERVER_ERROR" if errors else None


# --- /metrics -----------------------------------------------------------------------------


async def metrics_endpoint(request: Request, token: str | None, authenticate: Any) -> Response:
    """The exposition, for the metrics token (DANBYTE_METRICS_TOKEN) or an administrator's
    API token: 401 without credentials, 403 with a token that is neither."""
    header = request.headers.get("authorization")
    if not metrics.token_allowed(header, token):
        if header is None:
            return JSONResponse({"error": "a token is required"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        principal = await authenticate(header)
        if principal is None or not principal.is_admin:
            return JSONResponse({"error": "the metrics token or an administrator's API token is required"}, status_code=403)
    body = await asyncio.to_thread(metrics.exposition)  # reads files in multiprocess mode
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)


# --- health -------------------------------------------------------------------------------


@cache
def code_heads() -> frozenset[str]:
    """The migration heads this code expects the database at."""
    from alembic.script import ScriptDirectory

    from danbyte.migrations import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def _database_and_migrations(db: Any) -> tuple[str | None, str | None]:
    """(database problem, migrations problem); None where all is well."""
    try:
        async with db.system_transaction() as conn:
            revisions = set((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())
    except sa.exc.ProgrammingError:
        return None, "the database has no migrations applied (run danbyte migrate)"
    except Exception as error:
        # The class only: a message may carry the server's address or user.
        return f"unreachable ({type(error).__name__})", "unknown (database unreachable)"
    heads = code_heads()
    if revisions != heads:
        return None, f"database at {', '.join(sorted(revisions)) or 'none'}, code at {', '.join(sorted(heads))}"
    return None, None


async def _redis(events: Any) -> str | None:
    try:
        await events.ping()
    except Exception as error:
        return f"unreachable ({type(error).__name__})"
    return None


async def _within(check: Any, fallback: Any) -> Any:
    try:
        return await asyncio.wait_for(check, READY_TIMEOUT)
    except TimeoutError:
        return fallback


async def readiness(db: Any, events: Any) -> Response:
    """200 when the database answers, Redis answers and the database's migrations are the
    code's head; else 503 naming what fails."""
    timeout = f"no answer within {READY_TIMEOUT:g} s"
    (database, migrations), redis = await asyncio.gather(
        _within(_database_and_migrations(db), (timeout, "unknown (database unreachable)")),
        _within(_redis(events), timeout),
    )
    checks = {"database": database or "ok", "redis": redis or "ok", "migrations": migrations or "ok"}
    failing = [name for name, problem in (("database", database), ("redis", redis), ("migrations", migrations)) if problem]
    if failing:
        return JSONResponse({"status": "unavailable", "failing": failing, "checks": checks}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


async def liveness(request: Request) -> Response:
    """The process answers: nothing else is asked (a restart would not mend a database)."""
    return JSONResponse({"status": "ok"})
