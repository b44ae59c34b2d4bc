"""The ``config_render`` job: render the intended configuration of many devices (a site,
a role, a list) and store it, as ``config_render`` does for one (resolvers/drift.py), with
the devices' config states recomputed and their drift transitions published.

Parameters (all optional; none: every device of the job's tenant): ``devices`` (ids),
``site``, ``role``. Devices are rendered in batches of ``BATCH``, each batch one write (one
change-log request) through the same write path as the API, as the job's user on the job's
tenant. A batch an earlier attempt finished is skipped; a batch interrupted by a lost
worker is rendered again, which stores the same text (nothing changes, nothing
transitions). A template that fails is recorded on its device, not raised: the job fails
only when every device failed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from danbyte.database import Database
from danbyte.events import EventBus
from danbyte.settings import get_settings
from jobs.discovery import SELECTION_REFERENCES, chosen_devices, selection_check
from jobs.runtime import JobFailed, JobRun, register_kind
from resolvers.context import RequestContext
from resolvers.drift import render_and_store
from resolvers.errors import ApiError

BATCH = 100


check = selection_check("config_render", concurrency=False)


def render_configs(run: JobRun) -> dict[str, Any]:
    params = check(run.parameters)
    with run.transaction() as conn:
        device_ids = chosen_devices(conn, params)
    return asyncio.run(_render(run, [str(device_id) for device_id in device_ids]))


async def _render(run: JobRun, device_ids: list[str]) -> dict[str, Any]:
    done_before = run.done_items()
    db = Database(run.engine.url.render_as_string(hide_password=False), pool_size=2, max_overflow=0)
    events = EventBus(run.redis_url)
    counts = {"devices": len(device_ids), "rendered": 0, "failed": 0, "already_done": 0}
    run.progress(done=0, total=len(device_ids), force=True)
    try:
        for start in range(0, len(device_ids), BATCH):
            batch = device_ids[start : start + BATCH]
            if run.cancelled():
                break
            key = f"batch:{batch[0]}"
            if key not in done_before:
                ctx = RequestContext(db=db, principal=run.principal, events=events, settings=get_settings())
                try:
                    stored = await render_and_store(ctx, batch)
                except ApiError as error:  # a grant the user lacks, a device gone: the job's own failure
                    field = (error.extensions or {}).get("field")
                    raise JobFailed(f"{error.message} ({field})" if field else error.message) from None
                failed = sum(1 for row in stored if row.error)
                counts["rendered"] += len(stored) - failed
                counts["failed"] += failed
                with run.transaction() as conn:
                    run.item_done(conn, key)
            else:
                counts["already_done"] += len(batch)
            run.progress(done=counts["rendered"] + counts["failed"] + counts["already_done"])
    finally:
        await events.close()
        await db.dispose()
    if device_ids and counts["rendered"] == 0 and counts["failed"] > 0:
        raise JobFailed(f"every device's render failed ({counts['failed']})")
    return counts


register_kind(
    "config_render",
    render_configs,
    check=check,
    description="Render and store the intended configuration of many devices; recompute their drift.",
    time_limit=3600,
    requires=(("view", "device"), ("add", "intended_config"), ("view", "config_template")),
    references=SELECTION_REFERENCES,
)
