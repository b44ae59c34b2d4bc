"""Job kinds that ship with Danbyte (other domains register theirs next to their code).

``prune_jobs``: delete the tenant's finished jobs (completed, failed, errored) that
finished more than ``days`` days ago, with their items: NetBox's housekeeping of job
results (``JOB_RETENTION``), scheduled like any job. Parameters: ``days`` (1–3650,
default 90), ``statuses`` (a subset of the finished statuses, default all of them).
It runs under the tenant's row-level security, so it can only ever delete that tenant's
jobs, and it never deletes itself or a job still queued or running.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from jobs.runtime import JobRun, ParameterError, register_kind
from models.base import table_of
from models.jobs import FINISHED, Job

BATCH = 1000


def _check_prune(parameters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(parameters) - {"days", "statuses"})
    if unknown:
        raise ParameterError(unknown[0], "not a parameter of prune_jobs (days, statuses)")
    days = parameters.get("days", 90)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
        raise ParameterError("days", "a whole number of days from 1 to 3650")
    finished = [status.value for status in FINISHED]
    statuses = parameters.get("statuses", finished)
    if not isinstance(statuses, list) or not statuses or any(status not in finished for status in statuses):
        raise ParameterError("statuses", f"a non-empty list of {', '.join(finished)}")
    return {"days": days, "statuses": sorted(set(statuses))}


def prune_jobs(run: JobRun) -> dict[str, Any]:
    job = table_of(Job)
    params = _check_prune(run.parameters)
    old = sa.and_(
        job.c.status.in_(params["statuses"]),
        job.c.finished < sa.func.now() - sa.func.make_interval(0, 0, 0, params["days"]),
        job.c.id != run.id,
    )
    with run.transaction() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(job).where(old)).scalar_one()
    run.progress(done=0, total=total, message=f"deleting jobs finished more than {params['days']} days ago", force=True)
    deleted = 0
    while not run.cancelled():
        # In batches, each its own transaction: a long prune holds no lock for long.
        with run.transaction() as conn:
            batch = sa.select(job.c.id).where(old).limit(BATCH).scalar_subquery()
            count = conn.execute(sa.delete(job).where(job.c.id.in_(batch))).rowcount
        deleted += count
        run.progress(done=deleted)
        if count < BATCH:
            break
    run.log(f"deleted {deleted} jobs")
    return {"deleted": deleted}


register_kind(
    "prune_jobs",
    prune_jobs,
    check=_check_prune,
    description="Delete the tenant's jobs that finished more than `days` days ago.",
    time_limit=3600,
    requires=(("delete", "job"),),
)
