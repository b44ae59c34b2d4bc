"""Operations (docs/operations.md): /metrics and what it counts (requests, SQL statements,
jobs, checks, WebSocket subscribers, fan-out lag), its protection, the request log lines
(text and JSON, no secrets), and /health, /health/live, /health/ready — in this process,
and on a real `danbyte serve` with two API processes, a metrics token and a port of its own."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from factories import Api
from fanout_server import app_server, connect, message, settle, subscribe
from live import danbyte_serve, free_port
from prometheus_client.parser import text_string_to_metric_families

from danbyte import metrics
from danbyte.events import EventBus
from danbyte.logging_setup import JsonFormatter, TextFormatter, redact, uvicorn_log_config
from danbyte.operations import code_heads, readiness
from jobs.monitoring import CheckScheduler

SITES = "query SitesForMetrics { site_list { id name } }"


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, sorted labels) → value."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(api: Api, key: str | None = None) -> dict[Any, float]:
    response = await api.client.get("/metrics", headers={"Authorization": f"Bearer {key or api.key}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


@pytest.fixture
def request_lines() -> Iterator[io.StringIO]:
    """What danbyte.request writes, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("danbyte.request")
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- requests -------------------------------------------------------------------------------


async def test_requests_are_counted_by_operation_and_outcome_with_latency_and_statements(api: Api) -> None:
    before = await scrape(api)
    for _ in range(2):
        await api.data(SITES)
    # A client error: its code is the outcome.
    error = await api.error('query SiteForMetrics { site(id: "not-an-id") { id } }')
    code = error["extensions"]["code"]
    assert code == "BAD_USER_INPUT"
    after = await scrape(api)

    assert (
        value(after, "danbyte_requests_total", operation="SitesForMetrics", outcome="ok")
        - value(before, "danbyte_requests_total", operation="SitesForMetrics", outcome="ok")
        == 2
    )
    assert (
        value(after, "danbyte_requests_total", operation="SiteForMetrics", outcome=code)
        - value(before, "danbyte_requests_total", operation="SiteForMetrics", outcome=code)
        == 1
    )
    assert value(after, "danbyte_requests_total", operation="SiteForMetrics", outcome="ok") == value(
        before, "danbyte_requests_total", operation="SiteForMetrics", outcome="ok"
    )
    # Latency: two observations, in the +Inf bucket and the sum.
    assert (
        value(after, "danbyte_request_duration_seconds_count", operation="SitesForMetrics")
        - value(before, "danbyte_request_duration_seconds_count", operation="SitesForMetrics")
        == 2
    )
    assert (
        value(after, "danbyte_request_duration_seconds_bucket", operation="SitesForMetrics", le="+Inf")
        - value(before, "danbyte_request_duration_seconds_bucket", operation="SitesForMetrics", le="+Inf")
        == 2
    )
    assert value(after, "danbyte_request_duration_seconds_sum", operation="SitesForMetrics") > value(
        before, "danbyte_request_duration_seconds_sum", operation="SitesForMetrics"
    )


async def test_the_statements_histogram_counts_what_the_request_ran(api: Api) -> None:
    before = await scrape(api)
    response = await api.post(SITES, headers={"X-Danbyte-Debug": "1", "Authorization": f"Bearer {api.key}"})
    assert response.status_code == 200
    after = await scrape(api)
    count = value(after, "danbyte_request_sql_statements_count", operation="SitesForMetrics") - value(
        before, "danbyte_request_sql_statements_count", operation="SitesForMetrics"
    )
    added = value(after, "danbyte_request_sql_statements_sum", operation="SitesForMetrics") - value(
        before, "danbyte_request_sql_statements_sum", operation="SitesForMetrics"
    )
    assert count == 1
    # At least the principal's settings and the read itself; the debug extension says how many.
    debug = response.json().get("extensions", {}).get("debug", {})
    assert added >= 2
    if "sql_statements" in debug:
        assert added == debug["sql_statements"]
    # Buckets are cumulative: the observation is in every bucket from its value up.
    assert (
        value(after, "danbyte_request_sql_statements_bucket", operation="SitesForMetrics", le="1000.0")
        - value(before, "danbyte_request_sql_statements_bucket", operation="SitesForMetrics", le="1000.0")
        == 1
    )
    assert value(after, "danbyte_request_sql_statements_bucket", operation="SitesForMetrics", le="1.0") == value(
        before, "danbyte_request_sql_statements_bucket", operation="SitesForMetrics", le="1.0"
    )


async def test_unauthenticated_anonymous_and_transport_refusals_are_outcomes(api: Api, app: Any) -> None:
    before = await scrape(api)
    anonymous = await api.as_key(None).post("{ site_list { id } }")
    assert anonymous.status_code == 200 and anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await api.client.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.key}"})
    assert refused.status_code == 400
    # An operation name the document does not have is refused and gets no label of its own.
    unknown = await api.client.post(
        "/graphql", json={"query": SITES, "operationName": f"Nope{uuid.uuid4().hex}"}, headers={"Authorization": f"Bearer {api.key}"}
    )
    assert unknown.status_code == 400
    after = await scrape(api)
    assert (
        value(after, "danbyte_requests_total", operation="anonymous", outcome="UNAUTHENTICATED")
        - value(before, "danbyte_requests_total", operation="anonymous", outcome="UNAUTHENTICATED")
        == 1
    )
    assert (
        value(after, "danbyte_requests_total", operation="anonymous", outcome="BAD_USER_INPUT")
        - value(before, "danbyte_requests_total", operation="anonymous", outcome="BAD_USER_INPUT")
        == 2
    )
    assert not any(name == "danbyte_requests_total" and dict(labels)["operation"].startswith("Nope") for name, labels in after)


def test_operation_labels_are_capped_and_checked() -> None:
    saved = set(metrics._operations)
    try:
        cap = metrics.get_settings().metrics_max_operations
        metrics._operations.update(f"Filler{i}" for i in range(cap))
        assert metrics.operation_label("Filler0") == "Filler0"  # a known name keeps its label
        assert metrics.operation_label("BrandNewOperation") == "other"  # past the cap
        assert "BrandNewOperation" not in metrics._operations
    finally:
        metrics._operations.clear()
        metrics._operations.update(saved)
    assert metrics.operation_label("not a name; drop table") == "other"
    assert metrics.operation_label("x" * 101) == "other"
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.outcome_label("BAD_USER_INPUT") == "BAD_USER_INPUT"
    assert metrics.outcome_label('evil"} 1\n') == "ERROR"  # never a label value from outside


# --- protection -----------------------------------------------------------------------------


async def test_metrics_need_an_administrators_token_when_no_metrics_token_is_set(api: Api, org: Any) -> None:
    assert (await api.client.get("/metrics")).status_code == 401
    assert (await api.client.get("/metrics", headers={"Authorization": "Bearer dbt_not-a-token"})).status_code == 403
    viewer = await org.user_key(grants={"site": ["view"]})
    assert (await api.client.get("/metrics", headers={"Authorization": f"Bearer {viewer}"})).status_code == 403
    assert (await api.client.get("/metrics", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})).status_code == 403
    ok = await api.client.get("/metrics", headers={"Authorization": f"Bearer {api.key}"})
    assert ok.status_code == 200 and "danbyte_requests_total" in ok.text


def test_the_metrics_token_is_compared_whole() -> None:
    assert metrics.token_allowed("Bearer s3cret-metrics", "s3cret-metrics")
    assert metrics.token_allowed("bearer s3cret-metrics", "s3cret-metrics")
    for header in ("Bearer s3cret", "Bearer s3cret-metrics-more", "Token s3cret-metrics", "s3cret-metrics", "", None):
        assert not metrics.token_allowed(header, "s3cret-metrics"), header
    assert not metrics.token_allowed("Bearer anything", None)  # no token configured: none is the metrics token


# --- jobs and checks ------------------------------------------------------------------------


async def test_job_durations_and_outcomes_by_kind(app: Any, committed_org: Any, committed_api: Api, worker: Any) -> None:
    before = await scrape(committed_api)
    tenant = str(committed_org.tenant_ids[0])
    start = "mutation($kind: String!, $p: JSON, $t: ID) { job_start(kind: $kind, parameters: $p, tenant: $t) { id } }"
    job_id = (await committed_api.data(start, kind="prune_jobs", p={"days": 30}, t=tenant))["job_start"]["id"]
    db = app.state.danbyte.db
    deadline = time.monotonic() + 30
    while True:
        async with db.system_transaction() as conn:
            status = (await conn.execute(sa.text("SELECT status FROM job WHERE id = :id"), {"id": job_id})).scalar_one()
        if status in ("completed", "failed", "errored"):
            break
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.1)
    assert status == "completed"
    # The worker records after it wrote the end: wait for the figure, not the row.
    deadline = time.monotonic() + 10
    while True:
        after = await scrape(committed_api)
        if value(after, "danbyte_jobs_total", kind="prune_jobs", status="completed") > value(
            before, "danbyte_jobs_total", kind="prune_jobs", status="completed"
        ):
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert (
        value(after, "danbyte_jobs_total", kind="prune_jobs", status="completed") - value(before, "danbyte_jobs_total", kind="prune_jobs", status="completed")
        == 1
    )
    assert (
        value(after, "danbyte_job_duration_seconds_count", kind="prune_jobs", status="completed")
        - value(before, "danbyte_job_duration_seconds_count", kind="prune_jobs", status="completed")
        == 1
    )


async def test_check_results_and_start_delay(app: Any, committed_org: Any, committed_api: Api, database_url: str, redis_url: str) -> None:
    from dcim_lab import Lab

    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sql = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    scheduler = CheckScheduler(database_url, redis_url, resolve_interval=3600.0, poll=0.05, ahead=0.5, flush=0.1, hook_interval=3600.0)
    try:
        lab = Lab(committed_api, tenant)
        c = await lab.catalogue()
        device = await lab.device(c, await lab.device_type(c, "Box metrics"), "metrics-box", management_address="127.0.0.1")
        service = await lab.make("service", name="app", protocol="ROLE_TCP", ports=[port], parent={"type": "dcim.device", "id": device})
        template = await lab.make("check_template", name="tcp metrics", kind="KIND_TCP", rise=1, fall=1, interval_seconds=60, timeout_seconds=2)
        await lab.make("check_assignment", template=template, assigned_object={"type": "ipam.service", "id": service})
        await scheduler.resolve(force=True)
        before = await scrape(committed_api)
        async with sql.system_transaction() as conn:
            await conn.execute(sa.text("UPDATE check_state SET next_due_at = now() WHERE template_id = :t"), {"t": template})
        ran = await scheduler.step()
        assert [r.result.status.value for r in ran] == ["up"]
        kind = str(ran[0].claimed.row.kind)
        after = await scrape(committed_api)
        assert value(after, "danbyte_check_results_total", kind=kind, status="up") - value(before, "danbyte_check_results_total", kind=kind, status="up") == 1
        assert value(after, "danbyte_check_start_delay_seconds_count") - value(before, "danbyte_check_start_delay_seconds_count") == 1
        assert value(after, "danbyte_check_duration_seconds_count", kind=kind) - value(before, "danbyte_check_duration_seconds_count", kind=kind) == 1
        # Down is its own series.
        server.close()
        await server.wait_closed()
        async with sql.system_transaction() as conn:
            await conn.execute(sa.text("UPDATE check_state SET next_due_at = now() WHERE template_id = :t"), {"t": template})
        assert [r.result.status.value for r in await scheduler.step()] == ["down"]
        later = await scrape(committed_api)
        assert (
            value(later, "danbyte_check_results_total", kind=kind, status="down") - value(after, "danbyte_check_results_total", kind=kind, status="down") == 1
        )
    finally:
        server.close()
        await scheduler.close()
        async with sql.system_transaction() as conn:
            await conn.execute(sa.text("DELETE FROM check_template WHERE tenant_id = ANY(:t)"), {"t": list(committed_org.tenant_ids)})


# --- WebSocket ------------------------------------------------------------------------------


async def test_websocket_subscribers_groups_and_fan_out_lag(database_url: str, redis_url: str, committed_org: Any, committed_api: Api) -> None:
    def figures() -> dict[Any, float]:
        return parse(metrics.exposition().decode())

    with app_server(database_url, redis_url) as served:
        before = figures()
        sockets = [await connect(served.base, committed_org.admin_key) for _ in range(3)]
        try:
            for ws in sockets:
                await subscribe(ws, 'subscription { object_changed(types: ["vrf"]) { id action } }')
            await settle(lambda: value(figures(), "danbyte_websocket_subscribers") - value(before, "danbyte_websocket_subscribers") == 3)
            now = figures()
            assert value(now, "danbyte_subscription_groups") - value(before, "danbyte_subscription_groups") == 1  # equal subscriptions: one group
            assert value(now, "danbyte_websocket_connections") - value(before, "danbyte_websocket_connections") == 3
            await settle(lambda: all(group.listening.is_set() for group in list(served.fanout.groups.values())))
            async with httpx.AsyncClient() as client:
                created = await client.post(
                    f"{served.base}/graphql",
                    json={
                        "query": 'mutation($t: ID) { vrf_create(input: {name: "lag", tenant: $t}) { id } }',
                        "variables": {"t": str(committed_org.tenant_ids[0])},
                    },
                    headers={"Authorization": f"Bearer {committed_org.admin_key}"},
                )
            assert not created.json().get("errors"), created.text
            for ws in sockets:
                assert (await message(ws))["payload"]["data"]["object_changed"]["action"] == "create"
            # One lag observation per frame written to a socket, each under a minute.
            await settle(lambda: value(figures(), "danbyte_event_fanout_lag_seconds_count") - value(before, "danbyte_event_fanout_lag_seconds_count") == 3)
            lagged = figures()
            assert (
                value(lagged, "danbyte_event_fanout_lag_seconds_bucket", le="60.0") - value(before, "danbyte_event_fanout_lag_seconds_bucket", le="60.0") == 3
            )
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await settle(lambda: value(figures(), "danbyte_websocket_subscribers") == value(before, "danbyte_websocket_subscribers"))
        await settle(lambda: value(figures(), "danbyte_websocket_connections") == value(before, "danbyte_websocket_connections"))
        assert value(figures(), "danbyte_subscription_groups") == value(before, "danbyte_subscription_groups")


# --- logs -----------------------------------------------------------------------------------


async def test_request_lines_in_json_with_id_user_tenants_operation_and_no_token(api: Api, org: Any, request_lines: io.StringIO) -> None:
    narrow = await org.user_key(tenant_ids=[org.tenant_ids[1]], grants={"site": ["view"]})
    response = await api.as_key(narrow).post(SITES, headers={"X-Request-ID": "trace-42", "Authorization": f"Bearer {narrow}"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "trace-42"
    await api.error('query Broken { site(id: "nope") { id } }')
    generated = await api.post(SITES, headers={"X-Request-ID": "bad id with spaces\nforged", "Authorization": f"Bearer {api.key}"})
    logged = lines(request_lines)
    assert len(logged) == 3
    first, broken, third = logged
    assert first["request_id"] == "trace-42" and first["logger"] == "danbyte.request" and first["level"] == "info"
    assert first["user"].startswith("user-") and first["org"] == str(org.org_id)
    assert first["tenants"] == str(org.tenant_ids[1])
    assert (first["operation"], first["outcome"], first["status"]) == ("SitesForMetrics", "ok", 200)
    assert first["sql_statements"] >= 1 and first["duration_ms"] > 0 and first["error_code"] is None
    assert (broken["operation"], broken["outcome"], broken["error_code"]) == ("Broken", "BAD_USER_INPUT", "BAD_USER_INPUT")
    assert broken["user"].startswith("admin-")
    # An unusable client id is replaced (and echoed), never written into the log as sent.
    assert third["request_id"] != "bad id with spaces\nforged" and len(third["request_id"]) == 32
    assert generated.headers["x-request-id"] == third["request_id"]
    text = request_lines.getvalue()
    assert narrow not in text and api.key not in text and "Bearer" not in text


def test_secrets_are_masked_whoever_logs_them() -> None:
    key = "dbt_" + "A" * 43
    record = logging.LogRecord("danbyte.x", logging.WARNING, __file__, 1, "header was %s and key %s", (f"Bearer {key}", key), None)
    record.authorization = f"Token {key}"
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        assert key not in line and "AAAAAAAA" not in line, line
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed["message"] == "header was Bearer *** and key dbt_***" and parsed["authorization"] == "Token ***"
    assert redact("nothing secret here") == "nothing secret here"
    # uvicorn's own lines take the same formatter.
    assert uvicorn_log_config("json")["formatters"]["danbyte"]["()"].endswith("JsonFormatter")


# --- health ---------------------------------------------------------------------------------


async def test_health_live_and_ready(api: Api) -> None:
    assert (await api.client.get("/health")).json() == {"status": "ok"}
    live = await api.client.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await api.client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "migrations": "ok"}}


async def test_not_ready_when_migrations_are_not_at_head(api: Api, db: Any) -> None:
    (head,) = code_heads()
    async with db.system_transaction() as conn:  # rolled back with the test
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '00000000dead'"))
    ready = await api.client.get("/health/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["failing"] == ["migrations"] and body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["migrations"] == f"database at 00000000dead, code at {head}"


async def test_not_ready_when_redis_is_unreachable(app: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bus = EventBus(f"redis://127.0.0.1:{port}/0")
    try:
        response = await readiness(app.state.danbyte.db, bus)
    finally:
        await bus.close()
    body = json.loads(bytes(response.body))
    assert response.status_code == 503 and body["failing"] == ["redis"]
    assert body["checks"]["redis"].startswith("unreachable (") and body["checks"]["database"] == "ok"


# --- a real server --------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_two_api_processes_metrics_token_port_and_json_logs(tmp_path: Path) -> None:
    """`danbyte serve` with two API processes: /metrics (either process) and the metrics
    port (the supervisor) show the sum of both, plus the supervisor's job worker; the
    metrics token is required on both; every request's log line is JSON without tokens."""
    metrics_port = free_port()
    token = "metrics-" + uuid.uuid4().hex
    env = {"DANBYTE_WORKERS": "2", "DANBYTE_METRICS_TOKEN": token, "DANBYTE_METRICS_PORT": str(metrics_port), "DANBYTE_LOG_FORMAT": "json"}
    with danbyte_serve(tmp_path, env, timeout=120) as (base, process):
        admin = (tmp_path / "admin-token").read_text().strip()
        auth = {"Authorization": f"Bearer {admin}"}
        with httpx.Client(timeout=30) as client:
            # Enough requests that both API processes serve some (each has its own connection).
            for i in range(12):
                with httpx.Client(timeout=30) as fresh:
                    body = fresh.post(
                        f"{base}/graphql", json={"query": "query LiveSites { site_list { id } }"}, headers={**auth, "X-Request-ID": f"live-{i}"}
                    ).json()
                assert not body.get("errors"), body
            tenant = client.post(f"{base}/graphql", json={"query": "{ tenant_list { id } }"}, headers=auth).json()["data"]["tenant_list"][0]["id"]
            started = client.post(
                f"{base}/graphql",
                json={"query": 'mutation($t: ID) { job_start(kind: "prune_jobs", parameters: {days: 30}, tenant: $t) { id } }', "variables": {"t": tenant}},
                headers=auth,
            ).json()
            assert not started.get("errors"), started

            assert client.get(f"{base}/metrics").status_code == 401
            assert client.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
            assert client.get(f"{base}/metrics", headers=auth).status_code == 200  # an administrator's token still works
            assert client.get(f"http://127.0.0.1:{metrics_port}/metrics").status_code == 401
            assert client.get(f"http://127.0.0.1:{metrics_port}/other", headers={"Authorization": f"Bearer {token}"}).status_code == 404

            deadline = time.monotonic() + 60
            while True:
                served = parse(client.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text)
                port_figures = parse(client.get(f"http://127.0.0.1:{metrics_port}/metrics", headers={"Authorization": f"Bearer {token}"}).text)
                if value(port_figures, "danbyte_jobs_total", kind="prune_jobs", status="completed") >= 1:
                    break
                assert time.monotonic() < deadline, "the job's figures never showed"
                time.sleep(0.2)
            for figures in (served, port_figures):
                assert value(figures, "danbyte_requests_total", operation="LiveSites", outcome="ok") == 12
            ready = client.get(f"{base}/health/ready")
            assert ready.status_code == 200, ready.text
        metrics_dir = tmp_path / "metrics"
        pids = {file.stem.rsplit("_", 1)[-1] for file in metrics_dir.glob("counter_*.db")}
        assert len(pids) >= 3, pids  # the supervisor and both API processes write figures
    log = (tmp_path.glob("serve-*.log")).__next__().read_text()
    request_lines = [json.loads(line) for line in log.splitlines() if line.startswith("{") and '"danbyte.request"' in line]
    live_lines = [line for line in request_lines if line.get("operation") == "LiveSites"]
    assert len(live_lines) == 12 and {line["request_id"] for line in live_lines} == {f"live-{i}" for i in range(12)}
    assert all(line["user"] == "admin" and line["outcome"] == "ok" and line["sql_statements"] >= 1 for line in live_lines)
    # The admin token appears once: printed on first start, by design, never in a log line.
    assert log.count(admin) == 1 and "Created user 'admin'" in log.split(admin)[0].splitlines()[-2]
    assert token not in log


@pytest.mark.slow
async def test_a_worker_on_its_own_serves_its_job_figures_on_its_port(
    tmp_path: Path, database_url: str, redis_url: str, app: Any, committed_org: Any, committed_api: Api
) -> None:
    """`danbyte worker` (as on another machine): its jobs' figures on DANBYTE_METRICS_PORT,
    behind the metrics token, recorded into its DANBYTE_METRICS_DIR."""
    port, token = free_port(), "worker-" + uuid.uuid4().hex
    env = {
        **os.environ,
        "DANBYTE_HOME": str(tmp_path),
        "DANBYTE_DATABASE_URL": database_url,
        "DANBYTE_REDIS_URL": redis_url,
        "DANBYTE_METRICS_PORT": str(port),
        "DANBYTE_METRICS_TOKEN": token,
        "DANBYTE_METRICS_DIR": str(tmp_path / "worker-metrics"),
        "DANBYTE_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "danbyte.cli", "worker", "--threads", "1", "--no-scheduler", "--no-checks"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if (await client.get(url)).status_code == 401:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.2)
            start = 'mutation($t: ID) { job_start(kind: "prune_jobs", parameters: {days: 30}, tenant: $t) { id } }'
            await committed_api.data(start, t=str(committed_org.tenant_ids[0]))
            deadline = time.monotonic() + 60
            while True:
                response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200
                if value(parse(response.text), "danbyte_jobs_total", kind="prune_jobs", status="completed") >= 1:
                    break
                assert time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.2)
        assert any(file.stem.endswith(f"_{process.pid}") for file in (tmp_path / "worker-metrics").glob("*.db"))
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_operation_names_come_from_the_document() -> None:
    from danbyte.operations import operation_name

    assert operation_name("query A { x } query B { y }", "B") == "B"
    assert operation_name("query A { x }", "Invented") is None  # not the document's: no label, no log text
    assert operation_name("query A { x }", "A\nforged line") is None
    assert operation_name("# comment\n  mutation Make($a: Int) { x }", None) == "Make"
    assert operation_name("{ x }", None) is None
