"""Persisted jobs: their kinds, their creation, and the actor that runs them.

A job is a ``job`` row (models/jobs.py) plus a dramatiq message naming it. The row is the
truth; the message only says "look at this row":

- ``create_job`` inserts the row (numbered per tenant) in the caller's transaction;
  ``enqueue`` sends the message after that transaction commits.
- The actor ``run_job`` *claims* the row in one statement: queued → running, or a running
  job whose worker stopped beating (a worker killed mid-job) → running again, one more
  attempt. A message for a job someone else holds, or that has finished, claims nothing
  and is dropped: duplicates are harmless.
- While the handler runs, a heartbeat thread writes ``heartbeat_at`` and reads the cancel
  flag; progress and log lines are written at most twice a second; every change of status
  or progress is published on the event bus (``job_updated``).
- The handler's domain work runs in ``tenant_transaction`` (jobs/context.py): the job's
  user on the job's tenant, under row-level security. ``JobRun.each`` does one unit of
  work per transaction, with its ``job_item`` row, so a retried job skips what was done.

Kinds are registered by the code that runs them (``register_kind``); the set is open.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar

import dramatiq
import redis
import sqlalchemy as sa
from dramatiq.middleware import TimeLimitExceeded
from sqlalchemy.exc import IntegrityError

from danbyte import metrics
from danbyte.settings import get_settings
from jobs.broker import job_settings
from jobs.context import engine_for, job_principal, tenant_transaction
from models.base import table_of
from models.jobs import Job, JobItem, JobStatus
from permissions.principal import Principal
from permissions.tokens import AuthError

logger = logging.getLogger("danbyte.jobs")

QUEUE = "jobs"
EVENTS_CHANNEL = "danbyte:events"  # danbyte/events.py: CHANNEL
# Kinds that ship with Danbyte; DANBYTE_JOB_MODULES adds more.
BUILTIN_MODULES = ("jobs.builtin", "jobs.discovery", "jobs.counters", "jobs.render", "jobs.sweep")
# The largest parameters object a job accepts (as JSON text).
MAX_PARAMETER_BYTES = 65_536
# Progress and log lines are written at most this often (seconds).
PROGRESS_INTERVAL = 0.5
# A handler asking whether it was cancelled reads the flag at most this often (seconds).
CANCEL_CHECK_INTERVAL = 1.0

T = TypeVar("T")


class ParameterError(ValueError):
    """A job's parameters are wrong: ``field`` names the parameter (``days``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class JobFailed(Exception):
    """Raised by a handler: the job ends ``failed`` with this message (its own failure,
    not an exception of the code)."""


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Callable[[JobRun], Any]
    # Checks and normalises the parameters (defaults filled in); raises ParameterError.
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    description: str = ""
    # Seconds before the worker stops the job (it ends errored).
    time_limit: float = 3600.0
    # Grants, besides ``add`` on ``job``, needed to start it: (action, object type).
    requires: tuple[tuple[str, str], ...] = ()
    # Parameters holding ids of objects (one id or a list), with their model: each must be
    # an object the starter sees in the job's tenant when the job is started or scheduled.
    references: tuple[tuple[str, str], ...] = ()


_KINDS: dict[str, JobKind] = {}
_loaded = False
_load_lock = threading.Lock()


def register_kind(
    name: str,
    handler: Callable[[JobRun], Any],
    *,
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    description: str = "",
    time_limit: float = 3600.0,
    requires: tuple[tuple[str, str], ...] = (),
    references: tuple[tuple[str, str], ...] = (),
) -> JobKind:
    """Make ``name`` a job kind run by ``handler(run) -> result``."""
    if not re.fullmatch(r"[a-z0-9_]{1,50}", name):
        raise ValueError(f"job kind {name!r}: lower-case letters, digits and underscores, at most 50")
    kind = JobKind(name, handler, check, description, time_limit, requires, references)
    _KINDS[name] = kind
    return kind


def kinds() -> dict[str, JobKind]:
    """Every registered kind (the modules that register them imported on first use)."""
    global _loaded
    if not _loaded:
        with _load_lock:
            if not _loaded:
                for module in (*BUILTIN_MODULES, *get_settings().job_modules):
                    importlib.import_module(module)
                _loaded = True
    return _KINDS


def check_parameters(kind_name: str, parameters: Any) -> tuple[JobKind, dict[str, Any]]:
    """The kind and its checked parameters; ParameterError (field ``kind`` or the
    parameter's name) when either is wrong."""
    kind = kinds().get(kind_name)
    if kind is None:
        raise ParameterError("kind", f"no job kind {kind_name!r}; the kinds are {', '.join(sorted(kinds()))}")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise ParameterError("parameters", "must be a JSON object")
    if len(json.dumps(parameters)) > MAX_PARAMETER_BYTES:
        raise ParameterError("parameters", f"at most {MAX_PARAMETER_BYTES} bytes of JSON")
    return kind, (kind.check(dict(parameters)) if kind.check else parameters)


# One statement for both blocking and asyncio connections: a number from the tenant's
# counter (as models/numid.py allocates them) and the row. A scheduled job's due time is
# unique: a second insert for it inserts nothing.
_INSERT_JOB = """
WITH n AS (
    INSERT INTO numid_counter (tenant_id, object_type, last) VALUES (:tenant, 'job', 1)
    ON CONFLICT (tenant_id, object_type) DO UPDATE SET last = numid_counter.last + 1
    RETURNING last
)
INSERT INTO job (tenant_id, numid, kind, parameters, user_id, user_name, schedule_id, due_at, max_attempts, log, enqueued_at)
SELECT :tenant, n.last, :kind, CAST(:parameters AS jsonb), :user_id, :user_name, :schedule_id, :due_at, :max_attempts, CAST(:log AS jsonb), now()
FROM n
{conflict}
RETURNING id, numid
"""
INSERT_JOB = sa.text(_INSERT_JOB.format(conflict=""))
INSERT_SCHEDULED_JOB = sa.text(_INSERT_JOB.format(conflict="ON CONFLICT (schedule_id, due_at) DO NOTHING"))


def job_values(
    tenant_id: uuid.UUID,
    kind: str,
    parameters: dict[str, Any],
    principal: Principal | None,
    *,
    user_id: uuid.UUID | None = None,
    user_name: str = "",
    schedule_id: uuid.UUID | None = None,
    due_at: datetime | None = None,
    max_attempts: int = 3,
    log: str | None = None,
) -> dict[str, Any]:
    """The bound values of ``INSERT_JOB``; ``log``: its first log line."""
    return {
        "tenant": tenant_id,
        "kind": kind,
        "parameters": json.dumps(parameters),
        "user_id": principal.user_id if principal else user_id,
        "user_name": principal.username if principal else user_name,
        "schedule_id": schedule_id,
        "due_at": due_at,
        "max_attempts": max_attempts,
        "log": json.dumps([log_line(log)] if log else []),
    }


def log_line(message: str, level: str = "info") -> dict[str, str]:
    return {"t": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level, "msg": message[:2000]}


def create_job(conn: sa.Connection, tenant_id: uuid.UUID, kind: str, parameters: dict[str, Any], principal: Principal) -> uuid.UUID:
    """Insert a queued job in ``conn``'s transaction; send it with ``enqueue`` after commit."""
    check_parameters(kind, parameters)
    return conn.execute(INSERT_JOB, job_values(tenant_id, kind, parameters, principal)).one().id


def job_message(job_id: uuid.UUID | str, kind: str) -> dramatiq.Message[Any]:
    """The message that runs a job, with its kind's time limit."""
    spec = kinds().get(kind)
    limit = spec.time_limit if spec else 3600.0
    return run_job.message_with_options(args=(str(job_id),), time_limit=int(limit * 1000))


def enqueue(broker: dramatiq.Broker, job_id: uuid.UUID | str, kind: str) -> None:
    """Send a job to the workers (after the transaction that created it committed)."""
    broker.enqueue(job_message(job_id, kind))


# --- events -------------------------------------------------------------------------------


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def job_event(row: Any, org_id: uuid.UUID | str) -> dict[str, Any]:
    """What ``job_updated`` subscribers hear (and ``object_changed`` ignores)."""
    return {
        "kind": "job",
        "type": "job",
        "object_type": "job",
        "audience": "tenant",
        "id": str(row.id),
        "numid": row.numid,
        "job_kind": row.kind,
        "status": str(row.status.value if hasattr(row.status, "value") else row.status),
        "progress": row.progress,
        "error": row.error,
        "tenant_id": str(row.tenant_id),
        "org_id": str(org_id),
    }


def publish(redis_url: str, events: list[dict[str, Any]]) -> None:
    """Publish from a worker; a lost notification never fails the job."""
    try:
        from danbyte import event_log

        if events:
            # Retained and published with event ids, as the API's (danbyte/event_log.py),
            # stamped with the publication time the fan-out measures its lag from.
            stamped = [{**event, "_published": time.time()} for event in events]
            _redis(redis_url).eval(
                event_log.PUBLISH_SCRIPT, 2, event_log.STREAM, EVENTS_CHANNEL, *event_log.script_args(stamped, get_settings().event_retention)
            )
    except redis.RedisError:
        logger.warning("could not publish %d job events", len(events), exc_info=True)


# --- running ------------------------------------------------------------------------------

# queued → running; or running with a stale heartbeat (its worker is gone) → running again.
_CLAIM = sa.text(
    """
    UPDATE job SET status = 'running', attempts = attempts + 1, worker = :worker, heartbeat_at = now(),
        started = coalesce(started, now()), last_updated = now()
    FROM tenant
    WHERE job.id = :id AND tenant.id = job.tenant_id AND job.attempts < job.max_attempts AND NOT job.cancel_requested
      AND (job.status = 'queued' OR (job.status = 'running' AND job.heartbeat_at < now() - make_interval(secs => :stale)))
    RETURNING job.*, tenant.org_id
    """
)
# A job lost on its last attempt: errored, never left running.
_GIVE_UP = sa.text(
    """
    UPDATE job SET status = 'errored', error = 'worker lost (attempt ' || attempts || ' of ' || max_attempts || ')', finished = now(), last_updated = now()
    FROM tenant
    WHERE job.id = :id AND tenant.id = job.tenant_id AND job.status = 'running' AND job.attempts >= job.max_attempts
      AND job.heartbeat_at < now() - make_interval(secs => :stale)
    RETURNING job.*, tenant.org_id
    """
)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


@dataclass
class JobRun:
    """One attempt at a job, as its handler sees it."""

    engine: sa.Engine
    redis_url: str
    id: uuid.UUID
    numid: int
    tenant_id: uuid.UUID
    org_id: uuid.UUID
    kind: str
    parameters: dict[str, Any]
    attempt: int
    user_id: uuid.UUID | None
    user_name: str
    worker: str
    stale_seconds: float
    log_lines: int
    principal: Principal | None = None
    progress_state: dict[str, Any] = field(default_factory=dict)
    log_state: list[dict[str, Any]] = field(default_factory=list)
    _cancel: bool = False
    # Another worker took the job over (this one was thought lost): stop, write nothing.
    lost: bool = False
    _dirty: bool = False
    _checked_at: float = 0.0
    _flushed_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _beat: threading.Thread | None = None

    @classmethod
    def claim(cls, engine: sa.Engine, redis_url: str, job_id: uuid.UUID, *, stale_seconds: float, log_lines: int) -> JobRun | None:
        """Take the job if nobody holds it; None for a duplicate or finished job's message."""
        worker = worker_name()
        with engine.begin() as conn:
            row = conn.execute(_CLAIM, {"id": job_id, "worker": worker, "stale": stale_seconds}).one_or_none()
            if row is None:
                lost = conn.execute(_GIVE_UP, {"id": job_id, "stale": stale_seconds}).one_or_none()
        if row is None:
            if lost is not None:
                publish(redis_url, [job_event(lost, lost.org_id)])
            return None
        run = cls(
            engine=engine,
            redis_url=redis_url,
            id=row.id,
            numid=row.numid,
            tenant_id=row.tenant_id,
            org_id=row.org_id,
            kind=row.kind,
            parameters=dict(row.parameters or {}),
            attempt=row.attempts,
            user_id=row.user_id,
            user_name=row.user_name,
            worker=worker,
            stale_seconds=stale_seconds,
            log_lines=log_lines,
            progress_state=dict(row.progress or {}),
            log_state=list(row.log or []),
        )
        if row.attempts > 1:
            run.log(f"attempt {row.attempts} of {row.max_attempts} (the previous worker was lost)", level="warning")
        run._publish(JobStatus.running)
        return run

    # -- what handlers call --

    def transaction(self) -> Any:
        """A transaction as the job's user on the job's tenant (row-level security applies)."""
        if self.principal is None:
            with self.engine.connect() as conn:
                if self.user_id is None:
                    raise JobFailed("the job has no user to run as")
                try:
                    self.principal = job_principal(conn, self.user_id, self.tenant_id)
                except AuthError as error:
                    raise JobFailed(str(error)) from None
        return tenant_transaction(self.engine, self.principal)

    def progress(self, done: int | None = None, total: int | None = None, message: str | None = None, *, force: bool = False) -> None:
        with self._lock:
            for key, value in (("done", done), ("total", total), ("message", message)):
                if value is not None:
                    self.progress_state[key] = value
            self._dirty = True
        self._flush(force=force)

    def log(self, message: str, level: str = "info") -> None:
        with self._lock:
            self.log_state.append(log_line(message, level))
            del self.log_state[: max(0, len(self.log_state) - self.log_lines)]
            self._dirty = True
        self._flush()

    def cancelled(self) -> bool:
        """Whether the job was cancelled (or taken over): handlers check it between units.
        Asked often, it reads the flag at most once a second (the heartbeat reads it too)."""
        if not (self._cancel or self.lost) and time.monotonic() - self._checked_at >= CANCEL_CHECK_INTERVAL:
            self._checked_at = time.monotonic()
            job = table_of(Job)
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(job.c.cancel_requested, job.c.status, job.c.attempts).where(job.c.id == self.id)).one_or_none()
            if row is None or row.status != JobStatus.running or row.attempts != self.attempt:
                self.lost = True
            elif row.cancel_requested:
                self._cancel = True
        return self._cancel or self.lost

    def done_items(self) -> set[str]:
        """Keys of the units of work earlier attempts committed."""
        item = table_of(JobItem)
        with self.engine.connect() as conn:
            return {key for (key,) in conn.execute(sa.select(item.c.item_key).where(item.c.job_id == self.id))}

    def item_done(self, conn: sa.Connection, key: str) -> None:
        """Record unit ``key`` in the transaction doing it. Raises IntegrityError when
        another attempt has recorded it (that transaction must then roll back)."""
        conn.execute(sa.insert(table_of(JobItem)).values(job_id=self.id, tenant_id=self.tenant_id, item_key=key[:200]))

    def do_item(self, key: str, work: Callable[[sa.Connection], T]) -> tuple[bool, T | None]:
        """Run ``work(conn)`` in one tenant transaction with item ``key``'s ``job_item`` row:
        (True, its answer); (False, None) when another attempt did the item meanwhile."""
        try:
            with self.transaction() as conn:
                # The item's row first: a concurrent attempt doing the same item waits here
                # and fails on it, before doing the work twice.
                self.item_done(conn, key)
                return True, work(conn)
        except IntegrityError as error:
            if "pk_job_item" not in str(error.orig):
                raise
            return False, None

    def each(self, items: Iterable[T], key: Callable[[T], str], work: Callable[[sa.Connection, T], Any]) -> dict[str, int]:
        """Run ``work(conn, item)`` once per item, each in its own tenant transaction with
        its ``job_item`` row, skipping items an earlier attempt did; stops when cancelled.
        Returns counts: done now, skipped (done before)."""
        items = list(items)
        done_before = self.done_items()
        counts = {"done": 0, "skipped": 0}
        self.progress(done=0, total=len(items), force=True)
        for index, item in enumerate(items):
            if self.cancelled():
                break
            item_key = key(item)
            if item_key in done_before:
                counts["skipped"] += 1
            else:
                done, _ = self.do_item(item_key, lambda conn, item=item: work(conn, item))  # type: ignore[misc]
                counts["done" if done else "skipped"] += 1
            self.progress(done=index + 1)
        return counts

    # -- bookkeeping --

    def _flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._dirty or (not force and now - self._flushed_at < PROGRESS_INTERVAL):
                return
            progress, log = dict(self.progress_state), list(self.log_state)
            self._dirty, self._flushed_at = False, now
        job = table_of(Job)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.update(job)
                .where(job.c.id == self.id, job.c.status == JobStatus.running, job.c.attempts == self.attempt)
                .values(progress=progress, log=log, heartbeat_at=sa.func.now(), last_updated=sa.func.now())
                .returning(job)
            ).one_or_none()
        if row is None:
            self.lost = True
            return
        publish(self.redis_url, [job_event(row, self.org_id)])

    def _publish(self, status: JobStatus) -> None:
        row = SimpleNamespace(id=self.id, numid=self.numid, kind=self.kind, status=status, progress=self.progress_state, error="", tenant_id=self.tenant_id)
        publish(self.redis_url, [job_event(row, self.org_id)])

    def start_heartbeat(self) -> None:
        self._beat = threading.Thread(target=self._heartbeat, name=f"job-heartbeat-{self.numid}", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        job = table_of(Job)
        interval = max(self.stale_seconds / 3, 0.05)
        while not self._stop.wait(interval):
            try:
                with self.engine.begin() as conn:
                    flag = conn.execute(
                        sa.update(job)
                        .where(job.c.id == self.id, job.c.status == JobStatus.running, job.c.attempts == self.attempt)
                        .values(heartbeat_at=sa.func.now())
                        .returning(job.c.cancel_requested)
                    ).scalar_one_or_none()
                if flag is None:
                    self.lost = True
                    return
                self._cancel = bool(flag)
                self._flush()
            except Exception:  # a database hiccup: the next beat tries again
                logger.warning("job %s: heartbeat failed", self.id, exc_info=True)

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)

    def finish(self, status: JobStatus, *, result: Any = None, error: str = "") -> bool:
        """Record the end of this attempt; False when the job is no longer this worker's."""
        job = table_of(Job)
        with self._lock:
            progress, log = dict(self.progress_state), list(self.log_state)
        values: dict[str, Any] = {
            "status": status,
            "result": result,
            "finished": sa.func.now(),
            "last_updated": sa.func.now(),
            "progress": progress,
            "log": log,
        }
        # A cancellation keeps who asked for it (written by job_cancel).
        values["error"] = sa.func.coalesce(sa.func.nullif(job.c.error, ""), error) if error == "cancelled" else error[:10_000]
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.update(job).where(job.c.id == self.id, job.c.status == JobStatus.running, job.c.attempts == self.attempt).values(**values).returning(job)
            ).one_or_none()
        if row is None:
            return False
        publish(self.redis_url, [job_event(row, self.org_id)])
        return True


def execute(job_id: uuid.UUID, database_url: str, redis_url: str) -> JobStatus | None:
    """Claim and run one job; the status it ended with (None: nothing to run)."""
    settings = get_settings()
    engine = engine_for(database_url)
    run = JobRun.claim(engine, redis_url, job_id, stale_seconds=settings.job_stale_seconds, log_lines=settings.job_log_lines)
    if run is None:
        return None
    run.start_heartbeat()
    started = time.monotonic()
    status, result, error = JobStatus.errored, None, ""
    kind = None
    try:
        kind = kinds().get(run.kind)
        if kind is None:
            raise JobFailed(f"no job kind {run.kind!r} in this worker")
        result = kind.handler(run)
        status = JobStatus.completed
        if run.cancelled() and not run.lost:
            status, result, error = JobStatus.failed, None, "cancelled"
    except JobFailed as failure:
        status, error = JobStatus.failed, str(failure)
    except TimeLimitExceeded:
        status, error = JobStatus.errored, f"time limit exceeded ({kinds()[run.kind].time_limit:g} s)"
    except Exception as exception:
        logger.exception("job %s (%s) raised", run.id, run.kind)
        status, error = JobStatus.errored, f"{type(exception).__name__}: {exception}"
    finally:
        run.stop_heartbeat()
    if error:
        run.log(error, level="error")
    if run.lost or not run.finish(status, result=result, error=error):
        logger.warning("job %s was taken over by another worker; this attempt's end is not recorded", run.id)
        metrics.observe_job(run.kind, kind is not None, "lost", time.monotonic() - started)
        return None
    metrics.observe_job(run.kind, kind is not None, status.value, time.monotonic() - started)
    return status


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=3_600_000)
def run_job(job_id: str) -> None:
    """Run a persisted job. Retries go through the claim (a lost worker), never dramatiq's."""
    settings = job_settings()
    execute(uuid.UUID(job_id), settings.database_url, settings.redis_url)
