"""Job schedules: the generated CRUD and its rules, the scheduler's row lock (one job per
due time whatever the number of workers), missed and overlapping due times, the reaper,
and two real `danbyte worker` processes sharing one schedule."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from jobs.broker import configure
from jobs.scheduler import Scheduler, next_due

ROOT = Path(__file__).resolve().parent.parent

CREATE = """mutation($i: JobScheduleCreateInput!) { job_schedule_create(input: $i) {
    id name kind parameters interval_seconds enabled allow_overlap user_name } }"""
UPDATE = "mutation($id: ID!, $i: JobScheduleUpdateInput!) { job_schedule_update(id: $id, input: $i) { id parameters user_name } }"


async def test_schedule_crud_checks_kind_parameters_interval_and_grants(api, org):
    tenant = str(org.tenant_ids[0])
    good = {"name": "prune", "kind": "prune_jobs", "parameters": {"days": 7}, "interval_seconds": 3600, "tenant": tenant}
    created = (await api.data(CREATE, i=good))["job_schedule_create"]
    assert created["parameters"] == {"days": 7, "statuses": ["completed", "errored", "failed"]}
    assert created["user_name"].startswith("admin-") and created["enabled"] and not created["allow_overlap"]

    async def refused(variables: dict[str, Any], query: str = CREATE, client: Any = api) -> tuple[str, str | None]:
        error = await client.error(query, **variables)
        return error["extensions"]["code"], error["extensions"].get("field")

    assert await refused({"i": {**good, "name": "a", "kind": "nope"}}) == ("BAD_USER_INPUT", "kind")
    assert await refused({"i": {**good, "name": "b", "parameters": {"days": -1}}}) == ("BAD_USER_INPUT", "parameters.days")
    assert await refused({"i": {**good, "name": "c", "interval_seconds": 5}}) == ("BAD_USER_INPUT", "interval_seconds")
    assert (await refused({"i": {**good, "name": "d", "interval_seconds": 0}}))[0] == "BAD_USER_INPUT"
    assert await refused({"id": created["id"], "i": {"parameters": {"days": "x"}}}, UPDATE) == ("BAD_USER_INPUT", "parameters.days")
    # Jobs run as whoever last set what they do: that user must hold what the kind needs.
    scheduler_only = api.as_key(await org.user_key(grants={"job_schedule": ["view", "add", "change"], "job": ["view", "add"]}))
    assert await refused({"i": {**good, "name": "e"}}, client=scheduler_only) == ("FORBIDDEN", "kind")
    assert await refused({"id": created["id"], "i": {"parameters": {"days": 1}}}, UPDATE, scheduler_only) == ("FORBIDDEN", "kind")
    pruner = api.as_key(await org.user_key(grants={"job_schedule": ["view", "change"], "job": ["view", "add", "delete"]}))
    updated = (await pruner.data(UPDATE, id=created["id"], i={"parameters": {"days": 1}}))["job_schedule_update"]
    assert updated["user_name"].startswith("user-") and updated["parameters"]["days"] == 1
    # Another tenant's view: the schedule does not exist.
    other = api.as_key(await org.user_key(is_admin=True, tenant_ids=[org.tenant_ids[1]]))
    assert (await other.error(UPDATE, id=created["id"], i={"enabled": False}))["extensions"]["code"] == "NOT_FOUND"


def test_next_due_skips_missed_times_without_replaying_them():
    due = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_due(due, due, 60) == due + timedelta(seconds=60)
    assert next_due(due, due + timedelta(seconds=59), 60) == due + timedelta(seconds=60)
    assert next_due(due, due + timedelta(seconds=60), 60) == due + timedelta(seconds=120)
    assert next_due(due, due + timedelta(seconds=3 * 60 + 30), 60) == due + timedelta(seconds=4 * 60)


async def _schedule(
    db: Any, tenant: uuid.UUID, user: uuid.UUID, *, interval: int, due_in: float, overlap: bool = False, params: str = '{"days": 30}'
) -> uuid.UUID:
    async with db.system_transaction() as conn:
        return (
            await conn.execute(
                sa.text(
                    "INSERT INTO job_schedule (tenant_id, name, kind, parameters, interval_seconds, next_run_at, allow_overlap, user_id, user_name)"
                    " VALUES (:t, :n, 'prune_jobs', CAST(:p AS jsonb), :i, now() + make_interval(secs => :d), :o, :u, 'admin') RETURNING id"
                ),
                {"t": tenant, "n": f"s-{uuid.uuid4().hex[:6]}", "p": params, "i": interval, "d": due_in, "o": overlap, "u": user},
            )
        ).scalar_one()


async def _jobs_of(db: Any, schedule: uuid.UUID) -> list[Any]:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT * FROM job WHERE schedule_id = :s ORDER BY due_at"), {"s": schedule})).all()


async def _next_run(db: Any, schedule: uuid.UUID) -> Any:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT next_run_at, now() AS now FROM job_schedule WHERE id = :s"), {"s": schedule})).one()


@pytest.fixture
def broker(database_url: str, redis_url: str):
    """Sends messages no worker reads in these tests (flushed afterwards)."""
    broker = configure(database_url, redis_url)
    try:
        yield broker
    finally:
        broker.flush_all()
        broker.close()


async def test_racing_schedulers_create_one_job_per_due_time(app, committed_org, database_url, redis_url, broker):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    schedule = await _schedule(db, tenant, committed_org.admin_id, interval=60, due_in=-0.5)
    before = await _next_run(db, schedule)
    schedulers = [Scheduler(database_url, redis_url, broker, tick=1) for _ in range(8)]
    barrier = threading.Barrier(len(schedulers))
    created: list[list[uuid.UUID]] = [[] for _ in schedulers]

    def race(index: int) -> None:
        barrier.wait()
        created[index] = schedulers[index].run_due()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(schedulers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = await _jobs_of(db, schedule)
    assert len(jobs) == 1 and sum(len(c) for c in created) == 1
    assert jobs[0].due_at == before.next_run_at and jobs[0].status == "queued" and jobs[0].numid >= 1
    assert jobs[0].log[0]["msg"].startswith("scheduled by ")
    assert (await _next_run(db, schedule)).next_run_at == before.next_run_at + timedelta(seconds=60)


async def test_missed_and_overlapping_due_times(app, committed_org, database_url, redis_url, broker):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    scheduler = Scheduler(database_url, redis_url, broker, tick=1)
    # Down for three and a half intervals: one job, and the next due time is in the future.
    missed = await _schedule(db, tenant, committed_org.admin_id, interval=20, due_in=-70)
    first = await _next_run(db, missed)
    scheduler.run_due()
    assert len(await _jobs_of(db, missed)) == 1
    after = await _next_run(db, missed)
    assert after.next_run_at == first.next_run_at + timedelta(seconds=80) and after.next_run_at > after.now
    # Its job is still queued (no worker here): the next due time is skipped, not piled up.
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE job_schedule SET next_run_at = now() - interval '1 second' WHERE id = :s"), {"s": missed})
    scheduler.run_due()
    assert len(await _jobs_of(db, missed)) == 1
    assert (await _next_run(db, missed)).next_run_at > after.now
    # Unless the schedule allows overlap.
    overlapping = await _schedule(db, tenant, committed_org.admin_id, interval=20, due_in=-1, overlap=True)
    scheduler.run_due()
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE job_schedule SET next_run_at = now() - interval '1 second' WHERE id = :s"), {"s": overlapping})
    scheduler.run_due()
    assert len(await _jobs_of(db, overlapping)) == 2
    # A disabled schedule starts nothing.
    disabled = await _schedule(db, tenant, committed_org.admin_id, interval=20, due_in=-1)
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE job_schedule SET enabled = false WHERE id = :s"), {"s": disabled})
    scheduler.run_due()
    assert await _jobs_of(db, disabled) == []


async def test_reaper_requeues_errors_and_resends(app, committed_org, database_url, redis_url, broker):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    insert = sa.text(
        "INSERT INTO job (tenant_id, kind, status, attempts, max_attempts, heartbeat_at, enqueued_at, worker)"
        " VALUES (:t, 'prune_jobs', :s, :a, 3, :hb, :eq, 'gone:1:1') RETURNING id"
    )
    old = datetime.now(UTC) - timedelta(hours=1)
    async with db.system_transaction() as conn:
        lost = (await conn.execute(insert, {"t": tenant, "s": "running", "a": 1, "hb": old, "eq": old})).scalar_one()
        last = (await conn.execute(insert, {"t": tenant, "s": "running", "a": 3, "hb": old, "eq": old})).scalar_one()
        alive = (await conn.execute(insert, {"t": tenant, "s": "running", "a": 1, "hb": datetime.now(UTC), "eq": old})).scalar_one()
        unsent = (await conn.execute(insert, {"t": tenant, "s": "queued", "a": 0, "hb": None, "eq": old})).scalar_one()
        cancelled = (await conn.execute(insert, {"t": tenant, "s": "running", "a": 1, "hb": old, "eq": old})).scalar_one()
        await conn.execute(sa.text("UPDATE job SET cancel_requested = true, error = 'cancelled by someone' WHERE id = :id"), {"id": cancelled})
    counts = Scheduler(database_url, redis_url, broker, tick=1, stale=30).reap()
    assert counts["requeued"] >= 1 and counts["errored"] >= 1 and counts["resent"] >= 1 and counts["cancelled"] >= 1
    async with db.system_transaction() as conn:
        rows = {r.id: r for r in await conn.execute(sa.text("SELECT * FROM job WHERE id = ANY(:ids)"), {"ids": [lost, last, alive, unsent, cancelled]})}
    assert rows[lost].status == "queued" and "lost" in rows[lost].log[-1]["msg"]
    assert (rows[last].status, rows[last].error) == ("errored", "worker lost (attempt 3 of 3)") and rows[last].finished is not None
    assert rows[alive].status == "running"
    assert rows[unsent].status == "queued" and rows[unsent].enqueued_at > old
    assert rows[lost].enqueued_at > old
    # Cancelled while its worker was lost: it ends failed, not queued again.
    assert (rows[cancelled].status, rows[cancelled].error) == ("failed", "cancelled by someone")
    # Their messages were sent (a worker claiming them is test_job_recovery's business).
    queued = broker.client.llen(f"{broker.namespace}:jobs")
    assert queued >= 2


# --- two worker processes ------------------------------------------------------------------


def start_worker_process(home: Path, database_url: str, redis_url: str, name: str, **env: str) -> tuple[subprocess.Popen, Path]:
    log_path = home / f"worker-{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "danbyte.cli", "worker", "--threads", "2"],
            env={
                **os.environ,
                "DANBYTE_HOME": str(home),
                "DANBYTE_DATABASE_URL": database_url,
                "DANBYTE_REDIS_URL": redis_url,
                "DANBYTE_SCHEDULER_TICK": "0.2",
                "DANBYTE_JOB_STALE_SECONDS": "2",
                "DANBYTE_JOB_HEARTBEAT_MS": "2000",
                "DANBYTE_JOB_MAINTENANCE_CHANCE": "1000000",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return process, log_path


async def wait_ready(workers: list[tuple[subprocess.Popen, Path]], timeout: float = 90) -> None:
    """Until every worker process says it runs (its scheduler is started by then)."""
    deadline = time.monotonic() + timeout
    for process, log_path in workers:
        while "worker running" not in log_path.read_text(errors="replace"):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            await asyncio.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_two_workers_run_each_due_time_exactly_once(app, committed_org, database_url, redis_url, tmp_path):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    workers = [start_worker_process(tmp_path, database_url, redis_url, name) for name in ("a", "b")]
    try:
        await wait_ready(workers)
        # Every second; overlap allowed so a slow job never skips a due time.
        schedule = await _schedule(db, tenant, committed_org.admin_id, interval=1, due_in=1, overlap=True)
        first = (await _next_run(db, schedule)).next_run_at
        await asyncio.sleep(7.2)
        async with db.system_transaction() as conn:
            await conn.execute(sa.text("UPDATE job_schedule SET enabled = false WHERE id = :s"), {"s": schedule})
        deadline = time.monotonic() + 30
        while True:
            jobs = await _jobs_of(db, schedule)
            if all(job.status in ("completed", "failed", "errored") for job in jobs) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    finally:
        for process, _ in workers:
            stop(process)
    logs = "\n".join(path.read_text(errors="replace") for _, path in workers)
    due = [job.due_at for job in jobs]
    assert len(due) >= 5, ([(j.due_at.time(), j.created.time(), j.log[0]["msg"][:40]) for j in jobs], logs)
    assert due == [first + timedelta(seconds=i) for i in range(len(due))], "a due time ran twice or was skipped"
    assert all(job.status == "completed" for job in jobs), [(job.status, job.error) for job in jobs]
    assert all(job.attempts == 1 for job in jobs)
    # Which worker's scheduler won each due time (its pid is in the job's first log line).
    pids = {str(process.pid) for process, _ in workers}
    winners = [job.log[0]["msg"].split(":")[1] for job in jobs]
    assert set(winners) <= pids
    assert set(winners) == pids, f"one worker won every due time: {winners}"
