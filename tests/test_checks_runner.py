"""The runner and scheduler against real loopback listeners: the concurrency bound is
counted by the server, per-check timeouts are timed against peers that never answer."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import pairwise

import pytest

import checks.runner
from checks import (
    Check,
    CheckResult,
    CheckStatus,
    HealthState,
    ProbeError,
    ProbeResult,
    Scheduler,
    StatePolicy,
    StateTracker,
    TcpProbe,
    UdpProbe,
    run_checks,
    run_interval,
)
from checks.runner import percentile

LOOPBACK = "127.0.0.1"
SLACK = 2.0  # extra seconds allowed over any expected duration on a loaded machine


@dataclass
class CountingServer:
    """Counts connections being served. A connection counts from accept until just
    before the server answers "ok"; the probe waits for that answer, so every counted
    connection belongs to a probe that still holds its slot, and the peak is a lower
    bound on the runner's real concurrency."""

    port: int = 0
    active: int = 0
    peak: int = 0
    served: int = 0
    hold: float = 0.02

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.active -= 1
        try:
            writer.write(b"ok\n")
            await writer.drain()
            self.served += 1
        except ConnectionError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def counting_server() -> AsyncIterator[CountingServer]:
    counter = CountingServer()
    server = await asyncio.start_server(counter.handle, LOOPBACK, 0, backlog=1024)
    counter.port = server.sockets[0].getsockname()[1]
    try:
        yield counter
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture(scope="module")
def udp_blackhole() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        yield sock.getsockname()[1]


def tcp_checks(server: CountingServer, count: int, **options: float) -> list[Check]:
    return [Check(f"tcp-{i}", TcpProbe(LOOPBACK, server.port, expect=b"ok"), **options) for i in range(count)]


def blackhole_checks(port: int, count: int, timeout: float, **options: float) -> list[Check]:
    probe = UdpProbe(LOOPBACK, port, payload=b"hello?")
    return [Check(f"silent-{i}", probe, timeout=timeout, **options) for i in range(count)]


@pytest.mark.parametrize(("concurrency", "count"), [(1, 30), (7, 150), (50, 500)])
async def test_concurrency_bound_holds(counting_server: CountingServer, concurrency: int, count: int) -> None:
    results = await run_checks(tcp_checks(counting_server, count), concurrency=concurrency)
    assert [r.check_id for r in results] == [f"tcp-{i}" for i in range(count)]
    assert all(r.result.status is CheckStatus.UP for r in results), [r.result for r in results][:3]
    assert counting_server.served == count
    assert counting_server.peak <= concurrency
    # the bound is reached, not merely respected: queued checks fill freed slots
    assert counting_server.peak >= max(1, concurrency // 2)
    # queued checks waited for a slot, and that wait is what scheduling_delay records
    if concurrency < count:
        assert max(r.scheduling_delay for r in results) > 0


async def test_timeouts_hold_and_do_not_stall_the_batch(counting_server: CountingServer, udp_blackhole: int) -> None:
    timeout = 0.5
    counting_server.hold = 0.001
    batch = blackhole_checks(udp_blackhole, 5, timeout) + tcp_checks(counting_server, 200)
    start = time.perf_counter()
    results = {r.check_id: r for r in await run_checks(batch, concurrency=10)}
    elapsed = time.perf_counter() - start
    for i in range(5):
        silent = results[f"silent-{i}"]
        assert silent.result.error is ProbeError.TIMEOUT
        assert timeout * 0.9 <= silent.duration <= timeout + SLACK
    assert all(results[f"tcp-{i}"].result.status is CheckStatus.UP for i in range(200))
    # five slots sat on silent peers for one timeout; the other five served the rest meanwhile
    assert elapsed <= timeout + SLACK


async def test_interval_spreads_starts_and_is_not_blown_by_silent_peers(counting_server: CountingServer, udp_blackhole: int) -> None:
    interval, timeout = 1.0, 0.5
    batch = tcp_checks(counting_server, 95, timeout=timeout) + blackhole_checks(udp_blackhole, 5, timeout)
    start = time.perf_counter()
    results = await run_interval(batch, interval=interval, concurrency=20)
    elapsed = time.perf_counter() - start
    assert [r.check_id for r in results] == [c.id for c in batch]
    # check i of n is due at i/n of the interval
    first_due = results[0].due_at
    offsets = [r.due_at - first_due for r in results]
    assert offsets == pytest.approx([interval * i / len(batch) for i in range(len(batch))], abs=1e-6)
    # spread, not a burst: nothing starts before it is due, so only the first tenth of
    # the checks can have started within the first tenth of the interval
    assert sum(r.started_at - first_due < interval / 10 for r in results) <= len(batch) / 10
    assert percentile([r.scheduling_delay for r in results], 0.95) < 0.25
    silent = [r for r in results if r.check_id.startswith("silent")]
    assert all(r.result.error is ProbeError.TIMEOUT and r.duration <= timeout + SLACK for r in silent)
    # the last check is due just before the interval ends and may take its full timeout
    assert elapsed <= interval + timeout + SLACK


async def test_scheduler_repeats_on_a_fixed_grid(counting_server: CountingServer) -> None:
    interval = 0.2
    seen: list[CheckResult] = []
    scheduler = Scheduler(tcp_checks(counting_server, 10, interval=interval), concurrency=5, on_result=seen.append)
    await scheduler.run(cycles=3)
    assert len(seen) == 30 and scheduler.stats.completed == 30 and scheduler.stats.skipped == 0
    for check_id in {r.check_id for r in seen}:
        dues = sorted(r.due_at for r in seen if r.check_id == check_id)
        # due times do not drift with run times
        assert [b - a for a, b in pairwise(dues)] == pytest.approx([interval, interval], abs=1e-6)
    assert scheduler.stats.delay_percentile(0.95) < 0.25


async def test_scheduler_skips_runs_of_a_check_still_running(udp_blackhole: int) -> None:
    """A check slower than its interval is not stacked up: the runs that come due while
    it is busy are skipped and counted."""
    seen: list[CheckResult] = []
    check = blackhole_checks(udp_blackhole, 1, timeout=0.5, interval=0.2)
    scheduler = Scheduler(check, concurrency=5, on_result=seen.append)
    await scheduler.run(cycles=5)  # due at 0, 0.2, 0.4, 0.6, 0.8
    assert len(seen) + scheduler.stats.skipped == 5
    assert scheduler.stats.skipped >= 2
    runs = sorted(seen, key=lambda r: r.started_at)
    assert all(later.started_at >= earlier.finished_at for earlier, later in pairwise(runs))


async def test_scheduler_stop(counting_server: CountingServer) -> None:
    seen: list[CheckResult] = []
    scheduler = Scheduler(tcp_checks(counting_server, 3, interval=0.1), on_result=seen.append)
    task = asyncio.create_task(scheduler.run())
    async with asyncio.timeout(5):
        while len(seen) < 6:
            await asyncio.sleep(0.01)
    scheduler.stop()
    start = time.perf_counter()
    await task
    assert time.perf_counter() - start < SLACK
    assert scheduler.stats.completed == len(seen)


async def test_async_and_sync_callbacks(counting_server: CountingServer) -> None:
    seen_sync: list[str] = []
    seen_async: list[str] = []

    async def record(result: CheckResult) -> None:
        await asyncio.sleep(0)
        seen_async.append(result.check_id)

    await run_checks(tcp_checks(counting_server, 5), on_result=lambda r: seen_sync.append(r.check_id))
    await run_interval(tcp_checks(counting_server, 5), interval=0.1, on_result=record)
    assert sorted(seen_sync) == sorted(seen_async) == [f"tcp-{i}" for i in range(5)]


async def test_failing_callback_does_not_stop_the_run(counting_server: CountingServer, caplog: pytest.LogCaptureFixture) -> None:
    def explode(result: CheckResult) -> None:
        raise RuntimeError("consumer bug")

    results = await run_checks(tcp_checks(counting_server, 5), on_result=explode)
    assert len(results) == 5
    scheduler = Scheduler(tcp_checks(counting_server, 5, interval=0.05), on_result=explode)
    await scheduler.run(cycles=2)
    assert scheduler.stats.completed == 10
    assert caplog.text.count("result callback failed") == 15


@dataclass(frozen=True)
class BrokenProbe:
    kind = "broken"

    async def run(self, timeout: float) -> ProbeResult:
        raise RuntimeError("bug in a probe")


@dataclass(frozen=True)
class StubbornProbe:
    """Ignores its timeout, as a buggy probe might."""

    kind = "stubborn"

    async def run(self, timeout: float) -> ProbeResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_faulty_probes_are_contained(counting_server: CountingServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(checks.runner, "BACKSTOP", 0.2)
    batch = [
        Check("broken", BrokenProbe()),  # type: ignore[arg-type]
        Check("stubborn", StubbornProbe(), timeout=0.3),  # type: ignore[arg-type]
        *tcp_checks(counting_server, 3),
    ]
    start = time.perf_counter()
    results = {r.check_id: r.result for r in await run_checks(batch)}
    assert time.perf_counter() - start < 0.5 + SLACK
    assert results["broken"].error is ProbeError.INTERNAL_ERROR
    assert "bug in a probe" in results["broken"].message
    assert results["stubborn"].error is ProbeError.TIMEOUT
    assert "did not stop" in results["stubborn"].message
    assert all(results[f"tcp-{i}"].status is CheckStatus.UP for i in range(3))
    assert "probe of check broken failed" in caplog.text


async def test_results_feed_the_state_tracker() -> None:
    """End to end: a listener goes away, the check goes down after `fall` runs."""

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(greet, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    check = Check("web", TcpProbe(LOOPBACK, port), timeout=1.0, policy=StatePolicy(rise=2, fall=2))
    tracker = StateTracker()
    try:
        for _ in range(3):
            for r in await run_checks([check]):
                tracker.observe(r.check_id, r.result, r.started_at, check.policy)
    finally:
        server.close()
        await server.wait_closed()
    assert tracker.state("web") is HealthState.UP
    emitted = []
    for _ in range(2):
        for r in await run_checks([check]):
            emitted += tracker.observe(r.check_id, r.result, r.started_at, check.policy)
    assert tracker.state("web") is HealthState.DOWN
    assert [(t.previous, t.current) for t in tracker.machines["web"].transitions] == [
        (HealthState.UNKNOWN, HealthState.UP),
        (HealthState.UP, HealthState.DOWN),
    ]
    assert "connection refused" in emitted[-1].reason


async def test_bad_arguments() -> None:
    probe = TcpProbe(LOOPBACK, 1)
    with pytest.raises(ValueError, match="unique"):
        Scheduler([Check("a", probe), Check("a", probe)])
    with pytest.raises(ValueError, match="concurrency"):
        Scheduler([Check("a", probe)], concurrency=0)
    with pytest.raises(ValueError, match="concurrency"):
        await run_checks([Check("a", probe)], concurrency=0)


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([], 0.95, 0.0), ([3.0], 0.95, 3.0), (list(range(1, 101)), 0.95, 95), (list(range(1, 101)), 0.5, 50)],
)
def test_percentile(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == expected
