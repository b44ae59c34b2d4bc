"""Persisted jobs: starting, running, progress and log, cancelling, duplicates, tenant
isolation of a job's work, the GraphQL errors, and job_updated on a live server."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import job_kinds  # noqa: F401  (registers the test kinds in this process)
import live
import pytest
import sqlalchemy as sa
from live import danbyte_serve, next_event

from jobs.context import engine_for, job_principal, tenant_transaction
from jobs.runtime import execute
from permissions.tokens import hash_key

TESTS = Path(__file__).parent

START = "mutation($kind: String!, $p: JSON, $t: ID) { job_start(kind: $kind, parameters: $p, tenant: $t) { id numid kind status parameters user_name } }"
CANCEL = "mutation($id: ID!) { job_cancel(id: $id) { id status error cancel_requested } }"
JOB = "query($id: ID!) { job(id: $id) { id numid kind status progress result error log attempts started finished tenant { id } } }"


async def site_in(db: Any, tenant: uuid.UUID, name: str) -> str:
    async with db.system_transaction() as conn:
        return str(
            (await conn.execute(sa.text("INSERT INTO site (tenant_id, name, slug) VALUES (:t, :n, :n) RETURNING id"), {"t": tenant, "n": name})).scalar_one()
        )


async def job_row(db: Any, job_id: str) -> Any:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT * FROM job WHERE id = :id"), {"id": job_id})).one()


async def wait_for(db: Any, job_id: str, *statuses: str, timeout: float = 30) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        row = await job_row(db, job_id)
        if row.status in statuses:
            return row
        assert asyncio.get_running_loop().time() < deadline, f"job stayed {row.status}: {row.log}"
        await asyncio.sleep(0.1)


async def wait_for_progress(db: Any, job_id: str, done: int, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await job_row(db, job_id)).progress.get("done", 0) < done:
        assert asyncio.get_running_loop().time() < deadline, "no progress"
        await asyncio.sleep(0.05)


async def journal(db: Any, job_id: str) -> dict[str, int]:
    async with db.system_transaction() as conn:
        rows = await conn.execute(
            sa.text("SELECT comments, count(*) FROM journal_entry WHERE comments LIKE :pattern GROUP BY comments"), {"pattern": f"% of {job_id}"}
        )
        return {comments: count for comments, count in rows}


async def test_prune_jobs_deletes_old_finished_jobs_of_its_tenant_only(app, committed_org, committed_api, worker):
    db = app.state.danbyte.db
    mine, other = committed_org.tenant_ids
    async with db.system_transaction() as conn:
        insert = sa.text("INSERT INTO job (tenant_id, kind, status, finished) VALUES (:t, 'prune_jobs', :s, now() - make_interval(days => :d)) RETURNING id")
        old_mine = [(await conn.execute(insert, {"t": mine, "s": s, "d": 40})).scalar_one() for s in ("completed", "failed", "errored")]
        recent = (await conn.execute(insert, {"t": mine, "s": "completed", "d": 5})).scalar_one()
        old_other = (await conn.execute(insert, {"t": other, "s": "completed", "d": 40})).scalar_one()
        stuck = (
            await conn.execute(
                sa.text("INSERT INTO job (tenant_id, kind, status, created) VALUES (:t, 'x', 'queued', now() - interval '90 days') RETURNING id"), {"t": mine}
            )
        ).scalar_one()
    started = (await committed_api.data(START, kind="prune_jobs", p={"days": 30}, t=str(mine)))["job_start"]
    assert (started["kind"], started["status"], started["numid"]) == ("prune_jobs", "queued", 1)
    assert started["parameters"] == {"days": 30, "statuses": ["completed", "errored", "failed"]}  # checked and completed
    row = await wait_for(db, started["id"], "completed", "failed", "errored")
    assert row.status == "completed", row.error
    assert row.result == {"deleted": 3}
    assert row.progress["done"] == row.progress["total"] == 3
    assert row.log[-1]["msg"] == "deleted 3 jobs"
    async with db.system_transaction() as conn:
        left = {i for (i,) in await conn.execute(sa.text("SELECT id FROM job WHERE tenant_id = ANY(:ts)"), {"ts": [mine, other]})}
    assert not left & set(old_mine)
    assert {recent, old_other, stuck, uuid.UUID(started["id"])} <= left
    # The job reads back through the generated type, its progress and log included.
    job = (await committed_api.data(JOB, id=started["id"]))["job"]
    assert (job["status"], job["attempts"], job["tenant"]["id"], job["result"]) == ("completed", 1, str(mine), {"deleted": 3})
    listed = (await committed_api.data('{ job_list(filters: {kind: {exact: "prune_jobs"}, status: {exact: STATUS_COMPLETED}}) { id } }'))["job_list"]
    assert started["id"] in {j["id"] for j in listed}


async def test_progress_log_and_items(app, committed_org, committed_api, worker, redis_url):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    site = await site_in(db, tenant, "items")
    job_id = (await committed_api.data(START, kind="test_items", p={"count": 5, "site": site}, t=str(tenant)))["job_start"]["id"]
    row = await wait_for(db, job_id, "completed", "failed", "errored")
    assert row.status == "completed", row.error
    assert row.result == {"done": 5, "skipped": 0}
    assert row.progress == {"done": 5, "total": 5}
    assert [line["msg"] for line in row.log] == ["5 items"]
    assert await journal(db, job_id) == {f"item {i} of {job_id}": 1 for i in range(5)}
    # A message for a finished job claims nothing and runs nothing (a duplicate).
    assert execute(uuid.UUID(job_id), db.url, redis_url) is None
    assert await journal(db, job_id) == {f"item {i} of {job_id}": 1 for i in range(5)}


async def test_duplicate_messages_run_a_job_once(app, committed_org, committed_api, worker):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    site = await site_in(db, tenant, "twice")
    job_id = (await committed_api.data(START, kind="test_items", p={"count": 4, "delay": 0.05, "site": site}, t=str(tenant)))["job_start"]["id"]
    from jobs.runtime import enqueue

    for _ in range(3):
        enqueue(worker, job_id, "test_items")
    row = await wait_for(db, job_id, "completed", "failed", "errored")
    await asyncio.sleep(1)  # let the duplicates be handled
    row = await job_row(db, job_id)
    assert (row.status, row.attempts) == ("completed", 1)
    assert await journal(db, job_id) == {f"item {i} of {job_id}": 1 for i in range(4)}


async def test_failed_and_cancelled(app, committed_org, committed_api, worker):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    site = await site_in(db, tenant, "cancel")
    failing = (await committed_api.data(START, kind="test_items", p={"fail": True, "site": site}, t=str(tenant)))["job_start"]["id"]
    row = await wait_for(db, failing, "completed", "failed", "errored")
    assert (row.status, row.error) == ("failed", "asked to fail")
    long = (await committed_api.data(START, kind="test_items", p={"count": 200, "delay": 0.05, "site": site}, t=str(tenant)))["job_start"]["id"]
    await wait_for_progress(db, long, 2)
    cancelled = (await committed_api.data(CANCEL, id=long))["job_cancel"]
    assert cancelled["status"] == "running" and cancelled["cancel_requested"]
    row = await wait_for(db, long, "completed", "failed", "errored")
    assert row.status == "failed"
    assert row.error.startswith("cancelled by admin-")
    assert 2 <= row.progress["done"] < 200
    assert sum((await journal(db, long)).values()) == row.progress["done"]
    # A finished job cannot be cancelled.
    error = await committed_api.error(CANCEL, id=long)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "id")


async def test_cancel_a_queued_job(api, org):
    """No worker: the job stays queued, and cancelling fails it at once."""
    job = (await api.data(START, kind="prune_jobs", p={}, t=str(org.tenant_ids[0])))["job_start"]
    cancelled = (await api.data(CANCEL, id=job["id"]))["job_cancel"]
    assert cancelled["status"] == "failed"
    assert cancelled["error"].startswith("cancelled by admin-")


async def test_job_start_and_cancel_refuse_bad_input(api, org):
    tenant = str(org.tenant_ids[0])

    async def refused(query: str, **variables: Any) -> tuple[str, str | None]:
        error = await api.error(query, **variables)
        return error["extensions"]["code"], error["extensions"].get("field")

    assert await refused(START, kind="no_such_kind", p={}, t=tenant) == ("BAD_USER_INPUT", "kind")
    assert await refused(START, kind="prune_jobs", p={"days": "ten"}, t=tenant) == ("BAD_USER_INPUT", "parameters.days")
    assert await refused(START, kind="prune_jobs", p={"days": 0}, t=tenant) == ("BAD_USER_INPUT", "parameters.days")
    assert await refused(START, kind="prune_jobs", p={"statuses": ["running"]}, t=tenant) == ("BAD_USER_INPUT", "parameters.statuses")
    assert await refused(START, kind="prune_jobs", p={"rm": "-rf"}, t=tenant) == ("BAD_USER_INPUT", "parameters.rm")
    assert await refused(START, kind="prune_jobs", p=[1, 2], t=tenant) == ("BAD_USER_INPUT", "parameters")
    assert await refused(START, kind="prune_jobs", p={"days": 1, "x": "y" * 70_000}, t=tenant) == ("BAD_USER_INPUT", "parameters")
    assert await refused(START, kind="prune_jobs", p={}, t=str(uuid.uuid4())) == ("NOT_FOUND", "tenant")
    assert await refused(START, kind="prune_jobs", p={}, t="not-an-id") == ("BAD_USER_INPUT", "tenant")
    assert await refused(START, kind="prune_jobs", p={}) == ("BAD_USER_INPUT", "tenant")  # two tenants: say which
    assert await refused(CANCEL, id="not-an-id") == ("BAD_USER_INPUT", "id")
    assert await refused(CANCEL, id=str(uuid.uuid4())) == ("NOT_FOUND", "id")
    async with org.db.system_transaction() as conn:
        count = (await conn.execute(sa.text("SELECT count(*) FROM job WHERE tenant_id = ANY(:t)"), {"t": org.tenant_ids})).scalar_one()
    assert count == 0  # nothing half-written


async def test_grants_and_other_tenants(api, org):
    first, second = org.tenant_ids
    job = (await api.data(START, kind="prune_jobs", p={}, t=str(second)))["job_start"]["id"]
    # A user limited to the first tenant: the second tenant's job does not exist for them.
    narrow = api.as_key(await org.user_key(is_admin=True, tenant_ids=[first]))
    error = await narrow.error(CANCEL, id=job)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "id")
    missing = await narrow.error(JOB, id=job)
    assert missing["extensions"]["code"] == "NOT_FOUND"
    assert (await narrow.error(START, kind="prune_jobs", p={}, t=str(second)))["extensions"]["code"] == "NOT_FOUND"
    # Grants: starting needs add on job (and what the kind needs), cancelling change on job.
    viewer = api.as_key(await org.user_key(grants={"job": ["view"]}))
    assert (await viewer.error(START, kind="prune_jobs", p={}, t=str(first)))["extensions"]["code"] == "FORBIDDEN"
    assert (await viewer.error(CANCEL, id=job))["extensions"]["code"] == "FORBIDDEN"
    adder = api.as_key(await org.user_key(grants={"job": ["view", "add"]}))
    error = await adder.error(START, kind="prune_jobs", p={}, t=str(first))
    assert error["extensions"]["code"] == "FORBIDDEN" and "delete" in error["message"]
    pruner = api.as_key(await org.user_key(grants={"job": ["view", "add", "delete"]}))
    assert (await pruner.data(START, kind="prune_jobs", p={}, t=str(first)))["job_start"]["user_name"].startswith("user-")


async def test_a_jobs_work_cannot_reach_another_tenant(app, committed_org, committed_api, worker):
    db = app.state.danbyte.db
    mine, other = committed_org.tenant_ids
    await site_in(db, mine, "mine")
    foreign = await site_in(db, other, "foreign")
    job_id = (await committed_api.data(START, kind="test_reach", p={"site": foreign, "tenant": str(other)}, t=str(mine)))["job_start"]["id"]
    row = await wait_for(db, job_id, "completed", "failed", "errored")
    assert row.status == "completed", row.error
    assert row.result == {"sites_seen": 0, "own_tenant_sites": 1, "renamed": 0, "foreign_insert": "refused"}
    async with db.system_transaction() as conn:
        assert (await conn.execute(sa.text("SELECT description FROM site WHERE id = :id"), {"id": foreign})).scalar_one() == ""


async def test_tenant_transaction_narrows_the_users_grants(app, committed_org, database_url):
    mine, other = committed_org.tenant_ids
    db = app.state.danbyte.db
    await site_in(db, mine, "seen")
    await site_in(db, other, "unseen")
    key = await committed_org.user_key(grants={"site": ["view"]})
    async with db.system_transaction() as conn:
        user_id = (await conn.execute(sa.text("SELECT user_id FROM token WHERE key_hash = :h"), {"h": hash_key(key)})).scalar_one()
    engine = engine_for(database_url)
    with engine.connect() as conn:
        principal = job_principal(conn, user_id, mine)
    assert principal.tenant_ids == frozenset({mine}) and not principal.all_tenants
    with tenant_transaction(engine, principal) as conn:
        names = {n for (n,) in conn.execute(sa.text("SELECT name FROM site WHERE tenant_id = ANY(:t)"), {"t": [mine, other]})}
        # No view grant on devices: none are readable, even the tenant's own.
        assert conn.execute(sa.text("SELECT danbyte_may_view('device')")).scalar_one() is False
    assert names == {"seen"}
    async with db.system_transaction() as conn:
        await conn.execute(sa.text('UPDATE "user" SET is_active = false WHERE id = :u'), {"u": user_id})
    from permissions.tokens import AuthError

    with engine.connect() as conn, pytest.raises(AuthError, match="inactive"):
        job_principal(conn, user_id, mine)


# --- job_updated over graphql-transport-ws, on a real server -------------------------------


@pytest.fixture(scope="module")
def live_server(database_url, redis_url, tmp_path_factory):
    env = {
        "DANBYTE_DATABASE_URL": database_url,
        "DANBYTE_REDIS_URL": redis_url,
        "DANBYTE_JOB_MODULES": "job_kinds",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
    }
    with danbyte_serve(tmp_path_factory.mktemp("jobs-live"), env) as (base, _):
        yield base


async def _post(base: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"})
        return response.json()


async def test_job_updated_streams_progress_and_object_changed_ignores_it(live_server, app, committed_org):
    mine, other = committed_org.tenant_ids
    db = app.state.danbyte.db
    site = await site_in(db, mine, "live")
    auth = {"Authorization": f"Bearer {committed_org.admin_key}"}
    jobs_ws = await live.subscribe(live_server, auth, f'subscription {{ job_updated(tenant: "{mine}") {{ id numid kind status progress error tenant }} }}')
    changes_ws = await live.subscribe(live_server, auth, 'subscription { object_changed(types: ["vrf"]) { type action } }')
    other_key = await committed_org.user_key(is_admin=True, token_tenant_ids=[other])
    outsider = await live.subscribe(live_server, {"Authorization": f"Bearer {other_key}"}, "subscription { job_updated { id status } }")
    await asyncio.sleep(0.5)
    try:
        started = await _post(
            live_server, committed_org.admin_key, START, {"kind": "test_items", "p": {"count": 4, "delay": 0.3, "site": site}, "t": str(mine)}
        )
        job_id = started["data"]["job_start"]["id"]
        seen = []
        while not seen or seen[-1]["status"] != "completed":
            event = await next_event(jobs_ws, "job_updated", timeout=20)
            assert (event["id"], event["kind"], event["tenant"]) == (job_id, "test_items", str(mine))
            seen.append(event)
        statuses = [event["status"] for event in seen]
        assert statuses[0] == "queued" and "running" in statuses
        assert {event["progress"].get("done") for event in seen} >= {0, 4}
        assert seen[-1]["progress"] == {"done": 4, "total": 4}
        # The job events went over the same bus: object_changed skipped them and still works.
        await _post(live_server, committed_org.admin_key, 'mutation($t: ID) { vrf_create(input: {name: "after-job", tenant: $t}) { id } }', {"t": str(mine)})
        assert await next_event(changes_ws) == {"type": "vrf", "action": "create"}
        # A subscriber limited to the other tenant heard nothing of this job.
        with pytest.raises(asyncio.TimeoutError):
            await next_event(outsider, "job_updated", timeout=1.5)
    finally:
        await jobs_ws.close()
        await changes_ws.close()
        await outsider.close()


async def test_unknown_kind_and_inactive_user_fail_the_job(app, committed_org, database_url, redis_url):
    """Run in this thread (no worker): what the worker does with jobs it cannot run."""
    from jobs.runtime import INSERT_JOB, job_values

    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    async with db.system_transaction() as conn:
        ghost = (await conn.execute(INSERT_JOB, job_values(tenant, "ghost", {}, None, user_id=committed_org.admin_id, user_name="admin"))).one().id
    assert await asyncio.to_thread(execute, ghost, database_url, redis_url) == "failed"
    row = await job_row(db, str(ghost))
    assert (row.status, row.error, row.attempts) == ("failed", "no job kind 'ghost' in this worker", 1)
    # A job runs as its user, checked when it runs: an inactive user's job fails.
    key = await committed_org.user_key(grants={"job": ["view", "add", "delete"]})
    async with db.system_transaction() as conn:
        user = (await conn.execute(sa.text("SELECT user_id FROM token WHERE key_hash = :h"), {"h": hash_key(key)})).scalar_one()
        job = (await conn.execute(INSERT_JOB, job_values(tenant, "prune_jobs", {}, None, user_id=user, user_name="u"))).one().id
        await conn.execute(sa.text('UPDATE "user" SET is_active = false WHERE id = :u'), {"u": user})
    assert await asyncio.to_thread(execute, job, database_url, redis_url) == "failed"
    row = await job_row(db, str(job))
    assert row.status == "failed" and row.error.endswith("is inactive") and row.finished is not None
