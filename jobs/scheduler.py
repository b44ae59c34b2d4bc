"""Periodic jobs and lost-job recovery, run by a thread in every worker process.

Each tick does two things, both safe with any number of workers ticking at once:

1. **Due schedules.** One transaction locks the due ``job_schedule`` rows with
   ``FOR UPDATE SKIP LOCKED``, inserts one job per row for its due time and advances
   ``next_run_at``, then commits; the jobs' messages are sent after the commit. A
   schedule another worker is handling is skipped, not waited for, and once that worker
   commits the row is no longer due: every due time gets exactly one job. The insert and
   the advance commit together, so nothing can expire half-way (as a Redis lease could);
   ``UNIQUE (schedule_id, due_at)`` on ``job`` is the backstop.
2. **The reaper.** A running job whose heartbeat is older than DANBYTE_JOB_STALE_SECONDS
   lost its worker (``kill -9``, a crash, a lost machine): it goes back to ``queued``
   and is sent again, or ends ``errored`` once it has had ``max_attempts``. A queued job
   whose message was sent longer ago than that is sent again (a message lost between
   commit and send, or with Redis): the claim drops any duplicate.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import dramatiq
import sqlalchemy as sa

from danbyte.settings import get_settings
from jobs.context import engine_for
from jobs.runtime import INSERT_SCHEDULED_JOB, enqueue, job_event, job_values, kinds, publish, worker_name

logger = logging.getLogger("danbyte.scheduler")

# Schedules handled per tick and transaction (more wait for the next tick).
BATCH = 100

_DUE = sa.text(
    """
    SELECT s.id, s.tenant_id, s.name, s.kind, s.parameters, s.interval_seconds, s.next_run_at, s.allow_overlap,
           s.max_attempts, s.user_id, s.user_name, now() AS now,
           EXISTS (SELECT 1 FROM job j WHERE j.schedule_id = s.id AND j.status IN ('queued', 'running')) AS active
    FROM job_schedule s
    WHERE s.enabled AND s.next_run_at <= now()
    ORDER BY s.next_run_at
    LIMIT :batch
    FOR UPDATE OF s SKIP LOCKED
    """
)
_ADVANCE = sa.text("UPDATE job_schedule SET next_run_at = :next WHERE id = :id")

_REQUEUE_LOST = sa.text(
    """
    UPDATE job SET status = 'queued', enqueued_at = now(), last_updated = now(),
        log = log || jsonb_build_array(jsonb_build_object('t', now(), 'level', 'warning',
              'msg', 'worker ' || worker || ' lost; queued again')), worker = ''
    WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => :stale) AND attempts < max_attempts AND NOT cancel_requested
    RETURNING id, kind
    """
)
_ERROR_LOST = sa.text(
    """
    UPDATE job SET status = 'errored', error = 'worker lost (attempt ' || job.attempts || ' of ' || job.max_attempts || ')',
        finished = now(), last_updated = now()
    FROM tenant
    WHERE job.status = 'running' AND job.heartbeat_at < now() - make_interval(secs => :stale) AND job.attempts >= job.max_attempts
      AND NOT job.cancel_requested AND tenant.id = job.tenant_id
    RETURNING job.*, tenant.org_id
    """
)
# A job cancelled while its worker was lost: no one will claim it again, so it ends here.
_FAIL_CANCELLED = sa.text(
    """
    UPDATE job SET status = 'failed', error = coalesce(nullif(job.error, ''), 'cancelled'), finished = now(), last_updated = now()
    FROM tenant
    WHERE job.cancel_requested AND tenant.id = job.tenant_id
      AND (job.status = 'queued' OR (job.status = 'running' AND job.heartbeat_at < now() - make_interval(secs => :stale)))
    RETURNING job.*, tenant.org_id
    """
)
_RESEND_QUEUED = sa.text(
    """
    UPDATE job SET enqueued_at = now()
    WHERE status = 'queued' AND NOT cancel_requested AND coalesce(enqueued_at, created) < now() - make_interval(secs => :stale)
    RETURNING id, kind
    """
)


def next_due(due: datetime, now: datetime, interval: int) -> datetime:
    """The first due time after ``now`` on ``due``'s grid: missed ones are not replayed."""
    step = timedelta(seconds=interval)
    missed = max(0, int((now - due) / step))
    return due + step * (missed + 1)


class Scheduler:
    """The tick of one worker process (``tick()`` runs it once; ``start()`` in a thread)."""

    def __init__(self, database_url: str, redis_url: str, broker: dramatiq.Broker, *, tick: float | None = None, stale: float | None = None) -> None:
        settings = get_settings()
        self.engine = engine_for(database_url)
        self.redis_url = redis_url
        self.broker = broker
        self.interval = settings.scheduler_tick if tick is None else tick
        self.stale = settings.job_stale_seconds if stale is None else stale
        self.name = worker_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[uuid.UUID]:
        """Create the jobs of every due schedule this worker could lock; send them."""
        known = kinds()
        created: list[tuple[uuid.UUID, str]] = []
        with self.engine.begin() as conn:
            for schedule in conn.execute(_DUE, {"batch": BATCH}).all():
                conn.execute(_ADVANCE, {"id": schedule.id, "next": next_due(schedule.next_run_at, schedule.now, schedule.interval_seconds)})
                if schedule.kind not in known:
                    logger.warning("schedule %s: no job kind %r in this worker; due time %s skipped", schedule.id, schedule.kind, schedule.next_run_at)
                    continue
                if schedule.active and not schedule.allow_overlap:
                    logger.info("schedule %s: previous job still active; due time %s skipped", schedule.id, schedule.next_run_at)
                    continue
                values = job_values(
                    schedule.tenant_id,
                    schedule.kind,
                    schedule.parameters,
                    None,
                    user_id=schedule.user_id,
                    user_name=schedule.user_name,
                    schedule_id=schedule.id,
                    due_at=schedule.next_run_at,
                    max_attempts=schedule.max_attempts,
                    log=f"scheduled by {self.name} (schedule {schedule.name!r}, due {schedule.next_run_at.isoformat()})",
                )
                row = conn.execute(INSERT_SCHEDULED_JOB, values).one_or_none()
                if row is not None:
                    created.append((row.id, schedule.kind))
        for job_id, kind in created:
            enqueue(self.broker, job_id, kind)
        return [job_id for job_id, _ in created]

    def reap(self) -> dict[str, int]:
        """Requeue or error the jobs of lost workers; resend queued jobs' lost messages."""
        with self.engine.begin() as conn:
            requeued = conn.execute(_REQUEUE_LOST, {"stale": self.stale}).all()
            errored = conn.execute(_ERROR_LOST, {"stale": self.stale}).all()
            cancelled = conn.execute(_FAIL_CANCELLED, {"stale": self.stale}).all()
            resent = conn.execute(_RESEND_QUEUED, {"stale": self.stale}).all()
        for row in (*requeued, *resent):
            enqueue(self.broker, row.id, row.kind)
        if errored or cancelled:
            publish(self.redis_url, [job_event(row, row.org_id) for row in (*errored, *cancelled)])
        for row in requeued:
            logger.warning("job %s: its worker was lost; queued again", row.id)
        return {"requeued": len(requeued), "errored": len(errored), "cancelled": len(cancelled), "resent": len(resent)}

    def tick(self) -> None:
        self.run_due()
        self.reap()

    def _loop(self) -> None:
        # Jitter: workers started together do not tick in lockstep (one would win every time).
        while not self._stop.wait(self.interval * random.uniform(0.5, 1.5)):
            try:
                self.tick()
            except Exception:  # the database or Redis is away: try again next tick
                logger.exception("scheduler tick failed")

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="danbyte-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_scheduler(database_url: str, redis_url: str, broker: dramatiq.Broker, **options: Any) -> Scheduler:
    return Scheduler(database_url, redis_url, broker, **options).start()
