"""A real dramatiq worker on Redis runs the numid backfill job."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from jobs.broker import configure, start_worker


async def test_worker_runs_assign_numids(app, committed_org, database_url, redis_url):
    db = app.state.danbyte.db
    tenant = committed_org.tenant_ids[0]
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("INSERT INTO role (tenant_id, name, slug) VALUES (:t, 'imported', 'imported')"), {"t": tenant})
    broker = configure(database_url, redis_url)
    worker = start_worker(broker, threads=1)
    try:
        from jobs.actors import assign_numids

        assign_numids.send()
        for _ in range(100):
            async with db.system_transaction() as conn:
                numid = (await conn.execute(sa.text("SELECT numid FROM role WHERE tenant_id = :t"), {"t": tenant})).scalar_one()
            if numid is not None:
                break
            await asyncio.sleep(0.2)
        assert numid == 1
    finally:
        worker.stop()
        broker.close()
