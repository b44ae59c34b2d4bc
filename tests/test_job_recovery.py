"""A worker killed with `kill -9` mid-job: the job is retried by another worker (or ends
errored after its last attempt), is never left running, and no unit of its work is done
twice. Real `danbyte worker` processes; the test job writes one journal entry per item
inside the item's transaction, after a pause, so the kill lands with a transaction open."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import job_kinds  # noqa: F401  (registers the test kinds in this process too)
import pytest
import sqlalchemy as sa
from test_job_schedule import start_worker_process, stop, wait_ready

from jobs.runtime import INSERT_JOB, job_values

TESTS = Path(__file__).parent
START = 'mutation($p: JSON, $t: ID) { job_start(kind: "test_items", parameters: $p, tenant: $t) { id } }'
ITEMS = 16

pytestmark = pytest.mark.slow


def worker(home: Path, database_url: str, redis_url: str, name: str) -> Any:
    return start_worker_process(
        home,
        database_url,
        redis_url,
        name,
        DANBYTE_JOB_MODULES="job_kinds",
        PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
    )


async def job_row(db: Any, job_id: Any) -> Any:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT * FROM job WHERE id = :id"), {"id": job_id})).one()


async def until(db: Any, job_id: Any, done: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        row = await job_row(db, job_id)
        if done(row):
            return row
        assert time.monotonic() < deadline, (row.status, row.progress, row.log)
        await asyncio.sleep(0.05)


async def effects(db: Any, job_id: Any) -> tuple[dict[str, int], int]:
    """Journal entries per item, and job_item rows."""
    async with db.system_transaction() as conn:
        entries = {
            c: n
            for c, n in await conn.execute(
                sa.text("SELECT comments, count(*) FROM journal_entry WHERE comments LIKE :p GROUP BY comments"), {"p": f"% of {job_id}"}
            )
        }
        items = (await conn.execute(sa.text("SELECT count(*) FROM job_item WHERE job_id = :id"), {"id": job_id})).scalar_one()
    return entries, items


async def site_in(db: Any, tenant: uuid.UUID) -> str:
    async with db.system_transaction() as conn:
        name = f"recovery-{uuid.uuid4().hex[:6]}"
        return str(
            (await conn.execute(sa.text("INSERT INTO site (tenant_id, name, slug) VALUES (:t, :n, :n) RETURNING id"), {"t": tenant, "n": name})).scalar_one()
        )


async def test_killed_worker_job_is_finished_by_another_exactly_once(app, committed_org, committed_api, database_url, redis_url, tmp_path):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    site = await site_in(db, tenant)
    first = worker(tmp_path, database_url, redis_url, "first")
    second = None
    try:
        await wait_ready([first])
        job_id = (await committed_api.data(START, p={"count": ITEMS, "delay": 0.25, "site": site}, t=str(tenant)))["job_start"]["id"]
        await until(db, job_id, lambda row: row.progress.get("done", 0) >= 3)
        os.kill(first[0].pid, signal.SIGKILL)
        first[0].wait()
        killed_at = await job_row(db, job_id)
        assert killed_at.status == "running"  # as the kill left it
        done_before, _ = await effects(db, job_id)
        assert 3 <= len(done_before) < ITEMS
        second = worker(tmp_path, database_url, redis_url, "second")
        row = await until(db, job_id, lambda row: row.status in ("completed", "failed", "errored"))
    finally:
        stop(first[0])
        if second is not None:
            stop(second[0])
    assert row.status == "completed", (row.error, row.log)
    assert row.attempts == 2
    assert row.result["done"] + row.result["skipped"] == ITEMS and row.result["skipped"] >= len(done_before)
    assert any("attempt 2 of 3" in line["msg"] for line in row.log)
    entries, items = await effects(db, job_id)
    # Every item's side effect exactly once: none lost with the killed worker, none doubled.
    assert entries == {f"item {i} of {job_id}": 1 for i in range(ITEMS)}
    assert items == ITEMS


async def _insert_job(db: Any, tenant: uuid.UUID, user: uuid.UUID, params: dict[str, Any], *, max_attempts: int, enqueued_ago: float = 0) -> uuid.UUID:
    """A job written straight to the table (no message sent): ``max_attempts`` is not an API input."""
    async with db.system_transaction() as conn:
        job_id = (
            (await conn.execute(INSERT_JOB, job_values(tenant, "test_items", params, None, user_id=user, user_name="admin", max_attempts=max_attempts)))
            .one()
            .id
        )
        await conn.execute(sa.text("UPDATE job SET enqueued_at = now() - make_interval(secs => :s) WHERE id = :id"), {"s": enqueued_ago, "id": job_id})
    return job_id


async def test_killed_on_its_last_attempt_the_job_ends_errored(app, committed_org, database_url, redis_url, tmp_path):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    site = await site_in(db, tenant)
    first = worker(tmp_path, database_url, redis_url, "only")
    second = None
    try:
        await wait_ready([first])
        # Never sent: the first worker's reaper finds it queued and sends it.
        job_id = await _insert_job(db, tenant, committed_org.admin_id, {"count": ITEMS, "delay": 0.25, "site": site}, max_attempts=1, enqueued_ago=60)
        await until(db, job_id, lambda row: row.progress.get("done", 0) >= 2)
        os.kill(first[0].pid, signal.SIGKILL)
        first[0].wait()
        assert (await job_row(db, job_id)).status == "running"
        second = worker(tmp_path, database_url, redis_url, "after")
        row = await until(db, job_id, lambda row: row.status != "running")
    finally:
        stop(first[0])
        if second is not None:
            stop(second[0])
    assert (row.status, row.error, row.attempts) == ("errored", "worker lost (attempt 1 of 1)", 1)
    assert row.finished is not None
    entries, items = await effects(db, job_id)
    # What the killed attempt committed stays, once; the item it died in left nothing.
    assert set(entries.values()) == {1} and len(entries) == items
