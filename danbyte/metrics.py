"""Prometheus metrics (docs/operations.md).

Every process that serves requests or runs jobs and checks records into the metrics
below. ``danbyte serve`` runs several processes (uvicorn's API workers, and the
supervisor with its job worker and check scheduler), so they share prometheus-client's
**multiprocess mode**: each process writes its figures to memory-mapped files in one
directory (``DANBYTE_METRICS_DIR``, by default ``$DANBYTE_HOME/metrics``) and any of
them answers ``/metrics`` with the sum over all files. ``danbyte worker`` on the same
machine writes into the same directory; one on another machine exposes its own figures
on ``DANBYTE_METRICS_PORT``.

prometheus-client chooses its storage when it is imported (``PROMETHEUS_MULTIPROC_DIR``),
so the commands call ``metrics_storage.use_directory`` before anything imports this module;
without it (tests, an embedded app) the figures live in this process's registry.

Label values are bounded: operation names are capped per process
(``DANBYTE_METRICS_MAX_OPERATIONS``, then ``other``), outcomes are error codes of a fixed
shape, job and check kinds are the registered ones.
"""

from __future__ import annotations

import hmac
import os
import re
import threading
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from danbyte.metrics_storage import multiprocess_directory
from danbyte.settings import get_settings

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 250, 1000)
JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)
DELAY_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0)

REQUESTS = Counter("danbyte_requests", "GraphQL requests over HTTP by operation name and outcome (ok or an error code)", ["operation", "outcome"])
REQUEST_SECONDS = Histogram("danbyte_request_duration_seconds", "Time to answer a GraphQL request over HTTP", ["operation"], buckets=LATENCY_BUCKETS)
REQUEST_STATEMENTS = Histogram("danbyte_request_sql_statements", "SQL statements one GraphQL request ran", ["operation"], buckets=STATEMENT_BUCKETS)
JOBS = Counter("danbyte_jobs", "Job attempts finished, by kind and status", ["kind", "status"])
JOB_SECONDS = Histogram("danbyte_job_duration_seconds", "Time one job attempt ran, by kind and status", ["kind", "status"], buckets=JOB_BUCKETS)
CHECKS = Counter("danbyte_check_results", "Monitoring check results, by check kind and status", ["kind", "status"])
CHECK_DELAY = Histogram("danbyte_check_start_delay_seconds", "How late a check started after its due time", buckets=DELAY_BUCKETS)
CHECK_SECONDS = Histogram("danbyte_check_duration_seconds", "Time one check's probe took, by kind", ["kind"], buckets=LATENCY_BUCKETS)
# livesum: the sum over the processes alive now (a stopped process's figure goes with it).
WS_SUBSCRIBERS = Gauge("danbyte_websocket_subscribers", "Subscriptions open over WebSocket", multiprocess_mode="livesum")
WS_GROUPS = Gauge("danbyte_subscription_groups", "Subscription groups (one execution each) running", multiprocess_mode="livesum")
WS_CONNECTIONS = Gauge("danbyte_websocket_connections", "WebSocket connections open (graphql-transport-ws)", multiprocess_mode="livesum")
FANOUT_LAG = Histogram("danbyte_event_fanout_lag_seconds", "From an event's publication to its frame written to a subscriber's socket", buckets=DELAY_BUCKETS)
SLOW_CONSUMERS = Counter("danbyte_websocket_slow_consumers", "WebSocket connections closed as slow consumers (4008)")

OTHER = "other"
ANONYMOUS = "anonymous"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_operations: set[str] = set()
_operations_lock = threading.Lock()


def operation_label(name: str | None) -> str:
    """The label of an operation name: the first ``max_operations`` distinct names this
    process sees keep theirs, later ones (and anything not a GraphQL name) are ``other``."""
    if not name:
        return ANONYMOUS
    if name in _operations:
        return name
    if not _NAME.fullmatch(name):
        return OTHER
    with _operations_lock:
        if len(_operations) >= get_settings().metrics_max_operations:
            return OTHER
        _operations.add(name)
    return name


def outcome_label(code: str | None) -> str:
    if code is None:
        return "ok"
    return code if _CODE.fullmatch(code) else "ERROR"


def observe_request(operation: str, outcome: str, seconds: float, statements: int | None) -> None:
    REQUESTS.labels(operation, outcome).inc()
    REQUEST_SECONDS.labels(operation).observe(seconds)
    if statements is not None:
        REQUEST_STATEMENTS.labels(operation).observe(statements)


def observe_job(kind: str, known: bool, status: str, seconds: float) -> None:
    label = kind if known else OTHER
    JOBS.labels(label, status).inc()
    JOB_SECONDS.labels(label, status).observe(seconds)


def observe_check(kind: str, status: str, delay: float, seconds: float) -> None:
    CHECKS.labels(kind if _NAME.fullmatch(kind or "") else OTHER, status).inc()
    CHECK_SECONDS.labels(kind if _NAME.fullmatch(kind or "") else OTHER).observe(seconds)
    CHECK_DELAY.observe(delay)


def process_stopped() -> None:
    """This process's live gauges leave the sum (an API worker shutting down)."""
    if multiprocess_directory() is not None:
        mark_process_dead(os.getpid())


def exposition() -> bytes:
    """The text format: every process's figures in multiprocess mode, else this one's."""
    directory = multiprocess_directory()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


def token_allowed(header: str | None, token: str | None) -> bool:
    """Whether ``Authorization`` carries the metrics token ``token`` (constant time)."""
    if not token or not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def serve_port(host: str, port: int, token: str | None) -> Any:
    """``/metrics`` (with the metrics token when one is set) on a port of its own, in a
    thread of this process: the supervisor's (every process's figures) or a worker's."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            if token and not token_allowed(self.headers.get("Authorization"), token):
                self.send_response(401)
                self.send_header("WWW-Authenticate", "Bearer")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = exposition()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="danbyte-metrics", daemon=True).start()
    return server
