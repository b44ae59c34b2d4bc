"""Background jobs. Each actor is idempotent: a retried message must not double-write."""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq

from jobs.alerts import deliver_notification, notify_alert
from jobs.broker import job_settings
from jobs.runtime import run_job
from jobs.webhooks import deliver_webhook, dispatch_changes


async def _assign_numids(database_url: str) -> int:
    from sqlalchemy.ext.asyncio import create_async_engine

    from models.numid import assign_missing_numids

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            return await assign_missing_numids(conn)
    finally:
        await engine.dispose()


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def assign_numids() -> int:
    """Number rows that arrived without a numid (bulk imports); a no-op when none are left."""
    return asyncio.run(_assign_numids(job_settings().database_url))


ACTORS: list[dramatiq.Actor[Any, Any]] = [assign_numids, dispatch_changes, deliver_webhook, run_job, notify_alert, deliver_notification]
