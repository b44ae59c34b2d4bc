"""Running checks: a bounded batch now (``run_checks``), one interval with the checks
spread across it (``run_interval``), or continuously (``Scheduler``).

Every run yields a ``CheckResult`` that records when the check was due, when it really
started and so how late it was (``scheduling_delay``): the measure of whether the
concurrency bound is large enough for the number of checks and their timeouts.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from checks.probes import Probe, probe_from_dict, probe_to_dict
from checks.results import ProbeError, ProbeResult, down
from checks.state import StatePolicy

log = logging.getLogger(__name__)

# How long past its own timeout a probe may run before the runner cancels it. Probes stop
# themselves at the timeout; this only contains a probe with a bug.
BACKSTOP = 1.0


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    probe: Probe
    timeout: float = 5.0
    interval: float = 60.0
    policy: StatePolicy = field(default_factory=StatePolicy)  # for whoever keeps its state; the runner ignores it

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.interval <= 0:
            raise ValueError(f"check {self.id}: timeout and interval must be positive")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "probe": probe_to_dict(self.probe),
            "timeout": self.timeout,
            "interval": self.interval,
            "policy": self.policy.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            id=data["id"],
            probe=probe_from_dict(data["probe"]),
            timeout=data.get("timeout", 5.0),
            interval=data.get("interval", 60.0),
            policy=StatePolicy(**data.get("policy", {})),
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    check_id: str
    result: ProbeResult
    due_at: float  # epoch seconds
    started_at: float
    finished_at: float
    scheduling_delay: float  # seconds between due and started (waiting for a slot, a busy loop)
    duration: float  # seconds the probe ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "result": self.result.to_dict(),
            "due_at": self.due_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "scheduling_delay": self.scheduling_delay,
            "duration": self.duration,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(**{**data, "result": ProbeResult.from_dict(data["result"])})


ResultCallback = Callable[[CheckResult], Awaitable[None] | None]


async def execute(check: Check) -> ProbeResult:
    """Run one check's probe; never raises (except on cancellation)."""
    try:
        async with asyncio.timeout(check.timeout + BACKSTOP):
            return await check.probe.run(check.timeout)
    except TimeoutError:
        log.error("probe of check %s ignored its %s s timeout", check.id, check.timeout)
        return down(ProbeError.TIMEOUT, f"probe did not stop at its {check.timeout:g} s timeout and was cancelled")
    except Exception as exc:  # a probe bug must not take the other checks down with it
        log.exception("probe of check %s failed", check.id)
        return down(ProbeError.INTERNAL_ERROR, f"probe failed: {type(exc).__name__}: {exc}")


async def run_checks(checks: Iterable[Check], concurrency: int = 100, on_result: ResultCallback | None = None) -> list[CheckResult]:
    """Run every check once, now, at most ``concurrency`` at a time. Results come back in
    the order of ``checks``; ``on_result`` (plain or async) sees each as soon as it is
    ready."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    pending = list(checks)
    loop = asyncio.get_running_loop()
    clock = _Clock(loop)
    due = loop.time()
    results: list[CheckResult | None] = [None] * len(pending)
    indexes = iter(range(len(pending)))

    async def worker() -> None:
        for index in indexes:  # shared iterator: each check is taken by exactly one worker
            results[index] = outcome = await _timed_run(pending[index], due, clock)
            await _deliver(on_result, outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(pending))):
            group.create_task(worker())
    return [result for result in results if result is not None]


async def run_interval(
    checks: Iterable[Check],
    interval: float,
    concurrency: int = 100,
    on_result: ResultCallback | None = None,
) -> list[CheckResult]:
    """Run every check once, their starts spread evenly over ``interval`` seconds (for a
    worker called once per interval). Returns when the last one finished, in the order of
    ``checks``."""
    pending = [replace(check, interval=interval) for check in checks]
    collected: dict[str, CheckResult] = {}

    async def collect(result: CheckResult) -> None:
        collected[result.check_id] = result
        await _deliver(on_result, result)

    await Scheduler(pending, concurrency=concurrency, on_result=collect).run(cycles=1)
    return [collected[check.id] for check in pending]


@dataclass
class SchedulerStats:
    started: int = 0
    completed: int = 0
    skipped: int = 0  # runs not started because the previous run of that check was still going
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))  # recent scheduling delays

    def delay_percentile(self, fraction: float) -> float:
        return percentile(self.delays, fraction)


class Scheduler:
    """Runs each check every ``check.interval`` seconds. Checks sharing an interval start
    evenly spread across it (check i of n at i/n of the interval), so load is flat rather
    than a burst per interval. Due times are fixed (no drift from run times); a run that
    comes due while the same check is still running is skipped and counted, never
    stacked. At most ``concurrency`` probes run at once."""

    def __init__(self, checks: Sequence[Check], concurrency: int = 100, on_result: ResultCallback | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.checks = {check.id: check for check in checks}
        if len(self.checks) != len(checks):
            raise ValueError("check ids must be unique")
        self.concurrency = concurrency
        self.on_result = on_result
        self.stats = SchedulerStats()
        self._running: set[str] = set()
        self._stopping = False
        self._wake: asyncio.Event | None = None

    def stop(self) -> None:
        """Start no more runs; ``run`` returns once the ones in flight finished."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def run(self, cycles: int | None = None) -> None:
        """Run until ``stop()``, or until every check ran ``cycles`` times."""
        loop = asyncio.get_running_loop()
        clock = _Clock(loop)
        self._wake = asyncio.Event()
        slots = asyncio.Semaphore(self.concurrency)
        heap = self._first_due(loop.time())
        async with asyncio.TaskGroup() as group:
            while heap and not self._stopping:
                due, order, check_id, cycle = heap[0]
                wait = due - loop.time()
                if wait > 0.001:  # timers may fire a hair early; a millisecond is on time
                    await self._sleep(wait)
                    continue
                heapq.heappop(heap)
                check = self.checks[check_id]
                if cycles is None or cycle + 1 < cycles:
                    heapq.heappush(heap, (due + check.interval, order, check_id, cycle + 1))
                if check_id in self._running:
                    self.stats.skipped += 1
                    continue
                self._running.add(check_id)
                group.create_task(self._run_one(check, due, clock, slots))

    def _first_due(self, now: float) -> list[tuple[float, int, str, int]]:
        by_interval: dict[float, list[Check]] = {}
        for check in self.checks.values():
            by_interval.setdefault(check.interval, []).append(check)
        heap: list[tuple[float, int, str, int]] = []
        for interval, group in by_interval.items():
            for position, check in enumerate(group):
                heap.append((now + interval * position / len(group), len(heap), check.id, 0))
        heapq.heapify(heap)
        return heap

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _run_one(self, check: Check, due: float, clock: _Clock, slots: asyncio.Semaphore) -> None:
        try:
            async with slots:
                self.stats.started += 1
                outcome = await _timed_run(check, due, clock)
            self.stats.completed += 1
            self.stats.delays.append(outcome.scheduling_delay)
        finally:
            self._running.discard(check.id)
        await _deliver(self.on_result, outcome)


class _Clock:
    """Wall-clock timestamps derived from the loop's monotonic clock, so delays and
    durations are immune to clock steps while results still carry epoch times."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.offset = time.time() - loop.time()

    def wall(self, monotonic: float) -> float:
        return monotonic + self.offset


async def _timed_run(check: Check, due: float, clock: _Clock) -> CheckResult:
    started = clock.loop.time()
    result = await execute(check)
    finished = clock.loop.time()
    return CheckResult(
        check_id=check.id,
        result=result,
        due_at=clock.wall(due),
        started_at=clock.wall(started),
        finished_at=clock.wall(finished),
        scheduling_delay=max(0.0, started - due),
        duration=finished - started,
    )


async def _deliver(callback: ResultCallback | None, result: CheckResult) -> None:
    """Hand a result to the caller's callback. A failing callback is logged, not raised:
    one bad result handler must not stop the checks (or a scheduler running for days)."""
    if callback is None:
        return
    try:
        outcome = callback(result)
        if inspect.isawaitable(outcome):
            await outcome
    except Exception:
        log.exception("result callback failed for check %s", result.check_id)


def percentile(values: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.95 for p95); 0.0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
