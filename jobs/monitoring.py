"""The check scheduler: runs every check the graph resolves (docs/monitoring.md), from one
or more worker processes, each check once per interval, spread across it.

A thread in every worker process (beside jobs/scheduler.py's) runs an asyncio loop with:

1. **Resolve** (every DANBYTE_CHECK_RESOLVE_INTERVAL seconds, by one worker per period:
   a Redis marker picks the period's worker, a transaction-level advisory lock makes
   two resolves never overlap). ``resolvers.monitoring.checks_for`` for every tenant,
   then one upsert of a ``check_state`` row per effective check (new ones ``unknown``,
   numbered, first due at a stable offset in their interval: a hash of the check's key,
   so a set of checks is spread across the interval and a restart keeps each one's
   phase) and one update retiring rows whose check no longer resolves (not run any
   more: ``next_due_at`` null, state ``unknown``, a transition recorded).
2. **Claim** (every ``poll`` seconds): one statement takes the rows due within the next
   ``ahead`` seconds, ``FOR UPDATE SKIP LOCKED``, and in the same statement moves their
   ``next_due_at`` to their next slot and sets ``lease_until``. Once that commits no
   other worker sees the row due again before its next slot: a check runs once per
   interval however many workers claim. A worker that dies loses its claimed runs (the
   lease ends them) and the check runs again at its next slot.
3. **Run**: each claimed check waits for its due time, then runs on the checks/ runner
   (``checks.execute``), at most ``concurrency`` at once.
4. **Write** (when ``batch`` results are waiting, or every ``flush`` seconds): one
   transaction, a fixed number of statements however many results: lock the rows and
   read their machine state, advance each (``checks.advance``), update the rows, append
   ``check_result`` rows and ``state_transition`` rows. Every row carries the check
   state's tenant. After the commit: a change event per row whose state or flapping
   changed (jobs/row_events.py), then the cycle hooks.

The scheduler works across tenants as the table owner, as jobs/scheduler.py does: it
reads and writes only monitoring rows, each keyed by its own tenant (composite foreign
keys hold check_result and state_transition to their check state's tenant), and it
answers no reader. Readers see these rows through row-level security.

Cycle hooks (``register_cycle_hook(fn)``): ``fn(conn, now) -> list[event]`` runs after a
write transaction committed, when that batch changed some state or flapping, and at
least every DANBYTE_CHECK_HOOK_INTERVAL seconds otherwise (for time-based work such as
escalation). ``conn`` is a connection as the table owner in a transaction of its own
(committed when ``fn`` returns, rolled back when it raises; a failing hook is logged and
does not stop the others); ``now`` is the time of the write (an aware UTC datetime). A
coroutine function gets an ``AsyncConnection``, a plain function a blocking
``sa.Connection`` (run in a thread). The events it returns are published after its
transaction commits.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from danbyte import metrics
from danbyte.settings import get_settings
from jobs.row_events import row_event
from jobs.runtime import publish, worker_name
from models.numid import number_unnumbered

logger = logging.getLogger("danbyte.checks")

CycleHook = Callable[[Any, datetime], Any]
_HOOKS: list[CycleHook] = []

# Seconds a claimed run may take past its timeout before its lease ends.
LEASE_GRACE = 10.0
# One resolve at a time, whichever worker (pg_try_advisory_xact_lock's key).
RESOLVE_LOCK = 0x0DA7B17E_0C4EC5
RESOLVE_MARKER = "danbyte:checks:resolved"
# Results older than the retention are purged this often (seconds).
PURGE_EVERY = 3600.0
RETIRED_MESSAGE = "no longer assigned: not checked"


def register_cycle_hook(fn: CycleHook) -> CycleHook:
    """Run ``fn(conn, now) -> list[event]`` after the scheduler's writes (see the module's
    docstring for exactly when). Registering the same function twice registers it once."""
    if fn not in _HOOKS:
        _HOOKS.append(fn)
    return fn


def cycle_hooks() -> list[CycleHook]:
    return list(_HOOKS)


# --- statements ---------------------------------------------------------------------------

# The first slot after now() on the check's grid: interval i, phase o (seconds) from a hash
# of the check's key.
_PHASE = (
    "(((hashtextextended(v.tenant_id::text || '/' || v.template_id::text || '/' || v.address || '/' || coalesce(v.port::text, ''), 0)"
    " % (t.interval_seconds * 1000)) + t.interval_seconds * 1000) % (t.interval_seconds * 1000)) / 1000.0"
)
_FIRST_SLOT = f"to_timestamp((floor((extract(epoch FROM now()) - {_PHASE}) / t.interval_seconds) + 1) * t.interval_seconds + {_PHASE})"

_RESOLVED = (
    "unnest(CAST(:tenant_ids AS uuid[]), CAST(:template_ids AS uuid[]), CAST(:assignment_ids AS uuid[]), CAST(:device_ids AS uuid[]),"
    " CAST(:ip_address_ids AS uuid[]), CAST(:service_ids AS uuid[]), CAST(:addresses AS text[]), CAST(:ports AS int[]))"
    " AS v(tenant_id, template_id, assignment_id, device_id, ip_address_id, service_id, address, port)"
)

# A row's slot is off its grid when it has none (it was retired) or lies further ahead than
# one interval (and a claim's look-ahead): its template's interval shrank. A claimed row's
# slot is one interval past the run it holds, so it is never off the grid.
_OFF_GRID = (
    "(check_state.next_due_at IS NULL OR check_state.next_due_at > now() + make_interval(secs =>"
    " (SELECT t2.interval_seconds FROM check_template t2 WHERE t2.id = excluded.template_id) + :ahead + 1))"
)

# One row per effective check. An existing row keeps its slot unless it is off its grid;
# a row whose attribution and slot are unchanged is not written at all.
_UPSERT = sa.text(
    f"""
    INSERT INTO check_state (tenant_id, template_id, assignment_id, device_id, ip_address_id, service_id, address, port, next_due_at)
    SELECT v.tenant_id, v.template_id, v.assignment_id, v.device_id, v.ip_address_id, v.service_id, CAST(v.address AS inet), v.port, {_FIRST_SLOT}
    FROM {_RESOLVED} JOIN check_template t ON t.id = v.template_id
    ORDER BY v.tenant_id, v.template_id, CAST(v.address AS inet), v.port
    ON CONFLICT ON CONSTRAINT uq_check_state_tenant_id_template_id_address_port DO UPDATE SET
        assignment_id = excluded.assignment_id, device_id = excluded.device_id,
        ip_address_id = excluded.ip_address_id, service_id = excluded.service_id,
        next_due_at = CASE WHEN {_OFF_GRID} THEN excluded.next_due_at ELSE check_state.next_due_at END
    WHERE {_OFF_GRID}
       OR (check_state.assignment_id, check_state.device_id, check_state.ip_address_id, check_state.service_id)
          IS DISTINCT FROM (excluded.assignment_id, excluded.device_id, excluded.ip_address_id, excluded.service_id)
    RETURNING (xmax = 0) AS inserted
    """
)

# Rows inserted without a number get the next ones of their tenant's counter (as a write's
# numid), every tenant in one statement.
_NUMBER = number_unnumbered("check_state", order="t.address, t.port, t.id")

# Rows whose check no longer resolves: not run any more, state unknown.
_RETIRE = sa.text(
    f"""
    WITH resolved AS (SELECT v.tenant_id, v.template_id, CAST(v.address AS inet) AS address, coalesce(v.port, 0) AS port FROM {_RESOLVED}),
    gone AS (
        SELECT cs.id, cs.state AS previous, cs.flapping AS was_flapping FROM check_state cs
        WHERE cs.next_due_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM resolved r WHERE r.tenant_id = cs.tenant_id AND r.template_id = cs.template_id
              AND r.address = cs.address AND r.port = coalesce(cs.port, 0))
        FOR UPDATE OF cs
    )
    UPDATE check_state cs SET next_due_at = NULL, lease_until = NULL, state = 'unknown', since = now(), flapping = false,
        machine = '{{}}'::jsonb, message = :message, last_updated = now()
    FROM gone, tenant tn
    WHERE cs.id = gone.id AND tn.id = cs.tenant_id
    RETURNING cs.id, cs.numid, cs.tenant_id, tn.org_id, cs.device_id, gone.previous, gone.was_flapping, cs.state,
        (SELECT d.site_id FROM device d WHERE d.id = cs.device_id) AS site_id
    """
)

# Take the rows due within :ahead seconds that no run holds; move each to its next slot on
# its grid (never before now: missed slots are not replayed) and lease it.
_CLAIM = sa.text(
    """
    WITH due AS (
        SELECT cs.id, cs.next_due_at AS due_at FROM check_state cs
        WHERE cs.next_due_at <= now() + make_interval(secs => :ahead) AND (cs.lease_until IS NULL OR cs.lease_until < now())
        ORDER BY cs.next_due_at
        LIMIT :batch
        FOR UPDATE OF cs SKIP LOCKED
    )
    UPDATE check_state cs SET
        lease_until = greatest(due.due_at, now()) + make_interval(secs => t.timeout_seconds + :grace),
        next_due_at = due.due_at + make_interval(secs => t.interval_seconds
            * (greatest(floor(extract(epoch FROM now() - due.due_at) / t.interval_seconds), 0) + 1))
    FROM due, check_template t, tenant tn
    WHERE cs.id = due.id AND t.id = cs.template_id AND tn.id = cs.tenant_id
    RETURNING cs.id, cs.numid, cs.tenant_id, tn.org_id, cs.template_id, cs.assignment_id, cs.device_id, cs.ip_address_id, cs.service_id,
        host(cs.address) AS address, cs.port, due.due_at, now() AS claimed_at,
        t.kind, t.parameters, t.interval_seconds, t.timeout_seconds, t.rise, t.fall, t.degraded_latency_ms,
        t.degraded_value_op, t.degraded_value, t.snmp_profile_id,
        (SELECT d.site_id FROM device d WHERE d.id = cs.device_id) AS site_id
    """
)

# The write: lock the live rows (a row retired or deleted meanwhile is skipped), in the
# order the resolve's upsert takes them (ON CONFLICT locks every row it meets), so the
# two do not deadlock ...
_LOCK = sa.text(
    "SELECT id, tenant_id, numid, state, since, flapping, machine, device_id FROM check_state"
    " WHERE id = ANY(CAST(:ids AS uuid[])) AND next_due_at IS NOT NULL ORDER BY tenant_id, template_id, address, port FOR UPDATE"
)
# ... update them ...
_UPDATE = sa.text(
    """
    UPDATE check_state cs SET state = v.state, since = v.since, flapping = v.flapping, machine = v.machine,
        last_checked = v.checked, last_latency_ms = v.latency_ms, last_value = v.value, message = v.message, lease_until = NULL,
        last_updated = CASE WHEN v.changed THEN now() ELSE cs.last_updated END
    FROM unnest(CAST(:ids AS uuid[]), CAST(:states AS text[]), CAST(:sinces AS timestamptz[]), CAST(:flapping AS boolean[]),
                CAST(:machines AS jsonb[]), CAST(:checked AS timestamptz[]), CAST(:latencies AS numeric[]), CAST(:values AS text[]),
                CAST(:messages AS text[]), CAST(:changed AS boolean[]))
         AS v(id, state, since, flapping, machine, checked, latency_ms, value, message, changed)
    WHERE cs.id = v.id
    """
)
# ... append their results ...
_RESULTS = sa.text(
    """
    INSERT INTO check_result (check_state_id, at, tenant_id, status, latency_ms, value)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[]), CAST(:tenants AS uuid[]), CAST(:statuses AS smallint[]),
                         CAST(:latencies AS real[]), CAST(:values AS real[]))
    ON CONFLICT DO NOTHING
    """
)
# ... and their transitions.
_TRANSITIONS = sa.text(
    """
    INSERT INTO state_transition (check_state_id, tenant_id, previous, current, at, reason, flapping)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:previous AS text[]), CAST(:current AS text[]),
                         CAST(:ats AS timestamptz[]), CAST(:reasons AS text[]), CAST(:flapping AS boolean[]))
    """
)
_PROFILES = sa.text("SELECT * FROM snmp_profile WHERE id = ANY(CAST(:ids AS uuid[]))")

_STATUS_CODE = {"up": 0, "degraded": 1, "down": 2}


@dataclass
class Claimed:
    """A claimed run: the row's facts and its check (None when it cannot be built)."""

    row: Any
    check: Any
    problem: str = ""


@dataclass
class Ran:
    claimed: Claimed
    result: Any  # checks.ProbeResult
    due_at: float
    started_at: float  # epoch seconds
    finished_at: float


@dataclass
class SchedulerStats:
    claimed: int = 0
    ran: int = 0
    written: int = 0
    transitions: int = 0
    events: int = 0
    batches: int = 0
    resolves: int = 0
    delays: list[float] = field(default_factory=list)  # start − due, seconds (last 100,000)


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(value: datetime) -> float:
    return value.timestamp()


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if abs(number) < 3.0e38 else None  # real's range


def _short(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    elif isinstance(value, tuple):
        value = ", ".join(map(str, value))
    return str(value)[:200]


class CheckScheduler:
    """One worker process's check scheduler. ``start()`` runs it in a thread of its own
    (its own event loop); tests may instead ``await run()`` / the steps directly."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        *,
        resolve_interval: float | None = None,
        batch: int | None = None,
        concurrency: int | None = None,
        poll: float = 0.25,
        ahead: float = 1.0,
        flush: float = 0.5,
        hook_interval: float | None = None,
    ) -> None:
        settings = get_settings()
        self.database_url = database_url
        self.redis_url = redis_url
        self.resolve_interval = settings.check_resolve_interval if resolve_interval is None else resolve_interval
        self.batch = settings.check_batch if batch is None else batch
        self.concurrency = settings.check_concurrency if concurrency is None else concurrency
        self.hook_interval = settings.check_hook_interval if hook_interval is None else hook_interval
        self.poll, self.ahead, self.flush_every = poll, ahead, flush
        self.name = worker_name()
        self.stats = SchedulerStats()
        self._engine: AsyncEngine | None = None
        self._slots: asyncio.Semaphore | None = None
        self._pending: list[Ran] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_hooks = 0.0
        self._last_purge = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock: asyncio.Lock | None = None

    # -- plumbing --

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_async_engine(self.database_url, pool_size=3, max_overflow=3, pool_pre_ping=True)
        return self._engine

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _publish(self, events: list[dict[str, Any]]) -> None:
        if events:
            self.stats.events += len(events)
            await asyncio.to_thread(publish, self.redis_url, events)

    # -- 1. resolve --

    async def resolve(self, *, force: bool = False) -> dict[str, int] | None:
        """Resolve the checks and bring check_state in line; None when another worker
        resolved this period (or is resolving now). ``force`` skips the period's marker."""
        if not force and not await asyncio.to_thread(self._take_period):
            return None
        from resolvers.monitoring import checks_for

        async with self.engine.begin() as conn:
            if not (await conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RESOLVE_LOCK})).scalar():
                return None
            found = await checks_for(conn)
            arrays = {
                "tenant_ids": [c.tenant_id for c in found],
                "template_ids": [c.template_id for c in found],
                "assignment_ids": [c.assignment_id for c in found],
                "device_ids": [c.device_id for c in found],
                "ip_address_ids": [c.ip_address_id for c in found],
                "service_ids": [c.service_id for c in found],
                "addresses": [c.address for c in found],
                "ports": [c.port for c in found],
            }
            upserted = (await conn.execute(_UPSERT, {**arrays, "ahead": self.ahead})).all() if found else []
            inserted = sum(1 for row in upserted if row.inserted)
            if inserted:
                await conn.execute(_NUMBER)
            retired = (await conn.execute(_RETIRE, {**arrays, "message": RETIRED_MESSAGE})).all()
            changed = [row for row in retired if row.previous != "unknown" or row.was_flapping]
            if changed:
                await conn.execute(
                    _TRANSITIONS,
                    {
                        "ids": [row.id for row in changed],
                        "tenants": [row.tenant_id for row in changed],
                        "previous": [row.previous for row in changed],
                        "current": ["unknown"] * len(changed),
                        "ats": [datetime.now(UTC)] * len(changed),
                        "reasons": [RETIRED_MESSAGE] * len(changed),
                        "flapping": [False] * len(changed),
                    },
                )
        self.stats.resolves += 1
        await self._publish(
            [
                row_event(
                    "CheckState",
                    row,
                    row.org_id,
                    "update",
                    ["state", "since", "flapping", "message"],
                    site_id=row.site_id,
                    device_id=row.device_id,
                    state="unknown",
                )
                for row in changed
            ]
        )
        return {"checks": len(found), "inserted": inserted, "updated": len(upserted) - inserted, "retired": len(retired)}

    def _take_period(self) -> bool:
        """Whether this worker resolves this period (the first to set the marker)."""
        try:
            client = redis.Redis.from_url(self.redis_url)
            try:
                return bool(client.set(RESOLVE_MARKER, self.name, nx=True, px=max(1, int(self.resolve_interval * 1000 * 0.9))))
            finally:
                client.close()
        except redis.RedisError:
            return True  # without Redis every worker resolves; the advisory lock still serialises them

    # -- 2. claim --

    async def claim(self, ahead: float | None = None) -> list[Claimed]:
        """Take the due rows (a batch), their next slots set; build their checks."""
        async with self.engine.begin() as conn:
            rows = (await conn.execute(_CLAIM, {"ahead": self.ahead if ahead is None else ahead, "batch": self.batch, "grace": LEASE_GRACE + self.ahead})).all()
            credentials = await self._snmp_credentials(conn, [row for row in rows if row.kind == "snmp"]) if rows else {}
        self.stats.claimed += len(rows)
        return [self._build(row, credentials.get(row.id)) for row in rows]

    async def _snmp_credentials(self, conn: AsyncConnection, rows: list[Any]) -> dict[uuid.UUID, tuple[Any, Any] | str]:
        """Each SNMP row's (credentials, profile) — the template's profile, else the
        device's binding — or why it has none. Two statements at most per batch."""
        if not rows:
            return {}
        from resolvers.discovery import UnusableProfile, credentials_of, profile_statement

        own = {row.snmp_profile_id for row in rows if row.snmp_profile_id is not None}
        profiles = {p.id: p for p in await conn.execute(_PROFILES, {"ids": list(own)})} if own else {}
        devices = [row.device_id for row in rows if row.snmp_profile_id is None and row.device_id is not None]
        bound = {p._device: p for p in await conn.execute(profile_statement(devices))} if devices else {}
        found: dict[uuid.UUID, tuple[Any, Any] | str] = {}
        for row in rows:
            profile = profiles.get(row.snmp_profile_id) if row.snmp_profile_id is not None else bound.get(row.device_id)
            if profile is not None and profile.tenant_id != row.tenant_id:
                profile = None  # the composite keys forbid it; never another tenant's keys
            if profile is None:
                found[row.id] = "no SNMP profile: the template names none and no device binding gives one"
                continue
            try:
                found[row.id] = (credentials_of(profile), profile)
            except UnusableProfile as error:
                found[row.id] = str(error)
        return found

    def _build(self, row: Any, snmp: tuple[Any, Any] | str | None) -> Claimed:
        from resolvers.discovery import UnusableProfile
        from resolvers.monitoring import EffectiveCheck, check_of

        effective = EffectiveCheck(
            tenant_id=row.tenant_id,
            template_id=row.template_id,
            assignment_id=row.assignment_id,
            kind=row.kind,
            address=row.address,
            port=row.port,
            device_id=row.device_id,
            ip_address_id=row.ip_address_id,
            service_id=row.service_id,
        )
        if isinstance(snmp, str):
            return Claimed(row, None, snmp)
        try:
            credentials, profile = snmp if snmp is not None else (None, None)
            return Claimed(row, check_of(row, effective, credentials=credentials, profile=profile))
        except (TypeError, ValueError, UnusableProfile) as error:
            # A template edited around its rule, a profile the probe refuses: reported
            # as the check's result, never with the credentials' values.
            return Claimed(row, None, f"cannot build the check: {type(error).__name__}: {error}"[:500])

    # -- 3. run --

    async def run_claimed(self, claimed: list[Claimed], *, wait: bool = True) -> list[Ran]:
        """Run claimed checks, each at its due time (``wait=False``: now)."""
        ran: list[Ran] = []
        await asyncio.gather(*(self._run_one(item, ran, wait) for item in claimed))
        return ran

    async def _run_one(self, item: Claimed, into: list[Ran], wait: bool) -> None:
        from checks import ProbeError, execute
        from checks.results import down

        due = _epoch(item.row.due_at)
        if wait and (delay := due - time.time()) > 0:
            await asyncio.sleep(delay)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            started = time.time()
            if item.check is None:
                result = down(ProbeError.INTERNAL_ERROR if item.problem.startswith("cannot") else ProbeError.AUTHENTICATION_FAILED, item.problem)
            else:
                result = await execute(item.check)
            finished = time.time()
        self.stats.ran += 1
        metrics.observe_check(str(item.row.kind), result.status.value, max(0.0, started - due), finished - started)
        if len(self.stats.delays) < 100_000:
            self.stats.delays.append(max(0.0, started - due))
        into.append(Ran(item, result, due, started, finished))

    # -- 4. write --

    async def write(self, ran: list[Ran]) -> list[dict[str, Any]]:
        """Write one batch of results in one transaction (four statements at most, however
        many results); then publish the changes and run the hooks. Returns the events
        published for changes of state or flapping."""
        if not ran:
            return []
        for attempt in range(3):
            try:
                events, written, moved = await self._write_batch(ran)
                break
            except sa.exc.OperationalError as error:
                # a deadlock with a resolve touching the same rows: the batch is whole or
                # absent, so it is simply written again
                if getattr(error.orig, "sqlstate", None) not in ("40P01", "40001") or attempt == 2:
                    raise
                logger.warning("writing %d check results: %s; trying again", len(ran), getattr(error.orig, "sqlstate", ""))
        self.stats.batches += 1
        self.stats.written += written
        self.stats.transitions += moved
        await self._publish(events)
        if events or time.monotonic() - self._last_hooks >= self.hook_interval:
            await self.run_hooks()
        return events

    async def _write_batch(self, ran: list[Ran]) -> tuple[list[dict[str, Any]], int, int]:
        """The write's transaction: (events to publish, results written, transitions)."""
        from checks import MachineState, StatePolicy, advance

        async with self.engine.begin() as conn:
            live = {row.id: row for row in await conn.execute(_LOCK, {"ids": list({r.claimed.row.id for r in ran})})}
            machines: dict[uuid.UUID, MachineState] = {}
            final: dict[uuid.UUID, tuple[Ran, MachineState]] = {}  # each row's last result and state
            results: dict[str, list[Any]] = {k: [] for k in ("ids", "ats", "tenants", "statuses", "latencies", "values")}
            transitions: dict[str, list[Any]] = {k: [] for k in ("ids", "tenants", "previous", "current", "ats", "reasons", "flapping")}
            # oldest first, so two results of one check in a batch advance in order
            for item in sorted(ran, key=lambda r: r.started_at):
                row = live.get(item.claimed.row.id)
                if row is None:
                    continue  # retired or deleted while it ran
                check = item.claimed.check
                policy = check.policy if check is not None else StatePolicy(rise=item.claimed.row.rise, fall=item.claimed.row.fall)
                before = machines.get(row.id) or MachineState.from_dict(row.machine or {})
                after, emitted = advance(before, item.result, policy, item.started_at)
                machines[row.id] = after
                final[row.id] = (item, after)
                latency = item.result.latency
                for key, value in zip(
                    results,
                    (
                        row.id,
                        _time(item.started_at),
                        row.tenant_id,
                        _STATUS_CODE[item.result.status.value],
                        None if latency is None else latency * 1000,
                        _numeric(item.result.value),
                    ),
                    strict=True,
                ):
                    results[key].append(value)
                for transition in emitted:
                    moved: tuple[Any, ...] = (
                        row.id,
                        row.tenant_id,
                        transition.previous.value,
                        transition.current.value,
                        _time(transition.at),
                        transition.reason[:200],
                        transition.flapping,
                    )
                    for key, value in zip(transitions, moved, strict=True):
                        transitions[key].append(value)
            updates: dict[str, list[Any]] = {
                k: [] for k in ("ids", "states", "sinces", "flapping", "machines", "checked", "latencies", "values", "messages", "changed")
            }
            events: list[dict[str, Any]] = []
            for state_id, (item, after) in final.items():
                row, latency = live[state_id], item.result.latency
                state_changed, flapping_changed = after.state.value != str(row.state), after.flapping != row.flapping
                columns: tuple[Any, ...] = (
                    state_id,
                    after.state.value,
                    _time(after.since) if after.since is not None else row.since,
                    after.flapping,
                    json.dumps(after.to_dict()),
                    _time(item.finished_at),
                    None if latency is None else Decimal(f"{min(latency * 1000, 9_999_999):.3f}"),
                    _short(item.result.value),
                    item.result.message[:10_000],
                    state_changed or flapping_changed,
                )
                for key, value in zip(updates, columns, strict=True):
                    updates[key].append(value)
                if state_changed or flapping_changed:
                    fields = (["state", "since"] if state_changed else []) + (["flapping"] if flapping_changed else [])
                    claimed = item.claimed.row
                    events.append(
                        row_event(
                            "CheckState", row, claimed.org_id, "update", fields, site_id=claimed.site_id, device_id=row.device_id, state=after.state.value
                        )
                    )
            if updates["ids"]:
                await conn.execute(_UPDATE, updates)
                await conn.execute(_RESULTS, results)
            if transitions["ids"]:
                await conn.execute(_TRANSITIONS, transitions)
        return events, len(results["ids"]), len(transitions["ids"])

    async def run_hooks(self) -> None:
        self._last_hooks = time.monotonic()
        now = datetime.now(UTC)
        for hook in cycle_hooks():
            try:
                if inspect.iscoroutinefunction(hook):
                    async with self.engine.begin() as conn:
                        events = await hook(conn, now)
                else:
                    events = await asyncio.to_thread(_sync_hook, self.database_url, hook, now)
            except Exception:
                logger.exception("check cycle hook %s failed", getattr(hook, "__qualname__", hook))
                continue
            await self._publish(list(events or []))

    async def purge(self) -> int:
        from resolvers.monitoring import purge_results

        self._last_purge = time.monotonic()
        async with self.engine.begin() as conn:
            return await purge_results(conn)

    # -- the loop --

    async def step(self, *, wait: bool = True, ahead: float | None = None) -> list[Ran]:
        """Claim once, run what was claimed, write it: one round, for tests and tools."""
        ran = await self.run_claimed(await self.claim(ahead), wait=wait)
        await self.write(ran)
        return ran

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Resolve, claim, run and write until ``stop`` is set (or ``stop()`` is called)."""
        stop = stop or asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)
        writer = asyncio.create_task(self._writer(stop))
        next_resolve = 0.0
        try:
            while not stop.is_set() and not self._stopping.is_set():
                try:
                    if time.monotonic() >= next_resolve:
                        next_resolve = time.monotonic() + self.resolve_interval * random.uniform(0.9, 1.1)
                        await self.resolve()
                    claimed = await self.claim()
                    for item in claimed:
                        task = asyncio.create_task(self._run_one(item, self._pending, True))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                    if time.monotonic() - self._last_purge >= PURGE_EVERY:
                        await self.purge()
                    if len(claimed) >= self.batch:
                        continue  # more may be due: claim again at once
                except Exception:  # the database is away: try again next poll
                    logger.exception("check scheduler round failed")
                await _sleep(self.poll * random.uniform(0.8, 1.2), stop)
        finally:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            stop.set()
            await writer

    async def _writer(self, stop: asyncio.Event) -> None:
        while True:
            stopping = stop.is_set() or self._stopping.is_set()
            if self._pending:
                batch, self._pending[:] = self._pending[: self.batch], self._pending[self.batch :]
                try:
                    await self.write(batch)
                except Exception:
                    logger.exception("writing %d check results failed", len(batch))
                if self._pending:
                    continue
            if stopping and not self._tasks and not self._pending:
                return
            await _sleep(self.flush_every, stop if not stopping else None)

    def start(self) -> CheckScheduler:
        self._thread = threading.Thread(target=self._main, name="danbyte-check-scheduler", daemon=True)
        self._thread.start()
        return self

    def _main(self) -> None:
        async def main() -> None:
            stop = asyncio.Event()

            async def watch() -> None:
                while not self._stopping.is_set():
                    await asyncio.sleep(0.2)
                stop.set()

            watcher = asyncio.create_task(watch())
            try:
                await self.run(stop)
            finally:
                watcher.cancel()
                await self.close()

        asyncio.run(main())

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _sync_hook(database_url: str, hook: CycleHook, now: datetime) -> Any:
    from jobs.context import engine_for

    with engine_for(database_url).begin() as conn:
        return hook(conn, now)


async def _sleep(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


def start_check_scheduler(database_url: str, redis_url: str, **options: Any) -> CheckScheduler | None:
    """The check scheduler of a worker process, or None when DANBYTE_CHECK_SCHEDULER=0."""
    if not get_settings().check_scheduler:
        return None
    return CheckScheduler(database_url, redis_url, **options).start()
