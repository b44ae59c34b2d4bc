"""Background jobs (NetBox's ``core.Job``) and the schedules that start them.

A ``Job`` row stands behind every background action: what was asked (kind, parameters,
who), where it stands (status, progress, log) and how it ended (result or error). Workers
write it; the API reads it (``job``, ``job_list``), cancels it (``job_cancel``) and streams
its updates (``job_updated``). A ``JobSchedule`` starts a job of its kind every
``interval_seconds``; the scheduler (jobs/scheduler.py) creates exactly one job per due
time, whatever the number of workers. ``JobItem`` records each unit of work a job has
done, in the same transaction as that work, so a retried job skips it (no doubled writes).
The kinds a job may be are registered by the code that runs them (jobs/runtime.py).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, NamedModel, TenantModel, choice, json_value, long_text, reference, text
from models.choices import prefixed


@prefixed("status")
class JobStatus(enum.StrEnum):
    """Where a job stands. ``failed``: the job's own failure (a bad parameter, a
    cancellation); ``errored``: an exception, a lost worker or the time limit."""

    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    errored = "errored"


FINISHED = (JobStatus.completed, JobStatus.failed, JobStatus.errored)


class JobSchedule(NamedModel):
    """A job started every ``interval_seconds`` (a fixed interval, not a cron expression),
    first at ``next_run_at``. A due time missed while no worker ran fires once, and the
    next one is the first in the future. A due time whose previous job is still queued or
    running is skipped, unless ``allow_overlap``."""

    __tagged__ = False

    kind: Mapped[str] = text(50, required=True, info={"format": "identifier"})
    """The kind of job to start (a registered kind, such as ``prune_jobs``)."""
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    """The parameters each job gets, checked by the kind."""
    interval_seconds: Mapped[int] = mapped_column(sa.Integer(), info={"required": True, "bounds": (1, 366 * 86400)})
    """Seconds between due times (at least DANBYTE_JOB_MIN_INTERVAL)."""
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    next_run_at: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    """The next due time; advanced by the scheduler."""
    allow_overlap: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Start a due time's job even while the previous one is still queued or running."""
    max_attempts: Mapped[int] = mapped_column(sa.SmallInteger(), default=3, server_default="3", info={"bounds": (1, 10)})
    """How many workers may try each job before it is marked errored."""
    user_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, info={"derived": True})
    """The user the jobs run as (who created the schedule): their grants, on its tenant."""
    user_name: Mapped[str] = text(150, info={"derived": True})

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (*super().__extra_args__(), sa.Index("ix_job_schedule_due", "next_run_at", postgresql_where=sa.text("enabled")))


class Job(TenantModel):
    """A background job: written by the workers, read (and cancelled) through the API."""

    __read_only__ = True
    __tagged__ = False
    __ordering__ = ("created",)

    kind: Mapped[str] = text(50)
    """What the job does (a registered kind, such as ``prune_jobs``)."""
    status: Mapped[JobStatus] = choice(JobStatus, default=JobStatus.queued, server_default=JobStatus.queued.value)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    """``{done, total, message}``, updated while it runs."""
    result: Mapped[Any] = json_value()
    """What the job reports when it completes."""
    error: Mapped[str] = long_text()
    """Why it failed or errored (empty otherwise)."""
    log: Mapped[Any] = mapped_column(JSONB(), default=list, server_default=sa.text("'[]'::jsonb"), info={"any_json": True})
    """Its log lines, ``{t, level, msg}`` each, at most DANBYTE_JOB_LOG_LINES (the latest)."""
    user_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    """Who started it (for a scheduled job, who made the schedule); it runs with their grants."""
    user_name: Mapped[str] = text(150)
    schedule_id: Mapped[uuid.UUID | None] = reference("JobSchedule", ondelete="SET NULL", related_name="jobs")
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """The schedule's due time this job runs for."""
    attempts: Mapped[int] = mapped_column(sa.SmallInteger(), default=0, server_default="0")
    """How many workers have claimed it (a retry after a lost worker adds one)."""
    max_attempts: Mapped[int] = mapped_column(sa.SmallInteger(), default=3, server_default="3")
    worker: Mapped[str] = text(100)
    """The worker running it (or that ran it last)."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """Last sign of life of its worker; a running job whose heartbeat is stale is retried."""
    enqueued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """When its message was last sent to the workers."""
    cancel_requested: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    started: Mapped[datetime | None] = mapped_column(nullable=True)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            # One job per due time of a schedule, however many schedulers race (the backstop
            # of the scheduler's row lock).
            sa.UniqueConstraint("schedule_id", "due_at"),
            sa.Index("ix_job_status_heartbeat_at", "status", "heartbeat_at"),
        )


class JobItem(Base):
    """One unit of work a job has done (a device, a batch), written in the same
    transaction as the work itself: a retried job skips the items found here. Never
    exposed; read under the job's view grant, and gone with the job."""

    __tablename__ = "job_item"

    job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    done_at: Mapped[datetime] = mapped_column(server_default=sa.func.now())

    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "job_id"], ["job.tenant_id", "job.id"], ondelete="CASCADE"),
        {"info": {"rls_kind": "tenant_scoped", "view_as": "job"}},
    )
