"""Entry points: discover one target, many targets concurrently, or sample counters.

ezsnmp blocks while it waits for the agent (and releases the GIL meanwhile), so many
targets are discovered from a thread pool: ``concurrency`` bounds the threads, hence the
requests in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from . import oids
from .addresses import collect_ip_addresses
from .arp import collect_arp
from .collector import Collector
from .counters import collect_counters
from .credentials import Credentials
from .errors import DiscoveryError, UnexpectedError
from .facts import ArpEntry, CounterSample, DeviceFacts, Interface, IpAddress, LldpNeighbour, SystemInfo
from .interfaces import collect_interfaces
from .lldp import collect_lldp
from .session import SnmpSession
from .system import collect_system, collect_system_scalars
from .target import Target
from .values import as_int

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K")

DEFAULT_CONCURRENCY = 16

# What a discovery may read besides the system group (always read: it says whether the
# agent answers). Interfaces are read when LLDP or counters are wanted (they name ports).
SECTIONS = frozenset({"interfaces", "counters", "ip_addresses", "lldp", "arp"})


def _guarded(collector: Collector, section: str, default: T, step: Callable[[], T]) -> T:
    """Run one section; a bug in it costs that section, not the whole discovery."""
    try:
        return step()
    except Exception as error:
        log.exception("SNMP discovery section %s failed for %s", section, collector.session.target.host)
        collector.errors.append(UnexpectedError(section, f"{type(error).__name__}: {error}"))
        return default


def _start(target: Target, credentials: Credentials) -> tuple[SnmpSession, Collector, float, float]:
    started_at = time.time()
    start = time.monotonic()
    deadline = None if target.max_duration is None else start + target.max_duration
    session = SnmpSession(target, credentials, deadline)
    return session, Collector(session), started_at, start


def discover(target: Target, credentials: Credentials, sections: frozenset[str] = SECTIONS) -> DeviceFacts:
    """Everything we read about one device (of ``sections``: a discovery that polls
    counters separately leaves them out, a third of a device's requests). Never raises for
    anything the device does: failures come back as typed ``errors`` next to whatever was
    collected."""
    unknown = sections - SECTIONS
    if unknown:
        raise ValueError(f"unknown discovery sections: {sorted(unknown)}")
    session, collector, started_at, start = _start(target, credentials)
    try:
        system = _guarded(collector, "system", None, lambda: collect_system(collector))
        interfaces: list[Interface] = []
        if sections & {"interfaces", "counters", "lldp"}:
            interfaces = _guarded(collector, "interfaces", [], lambda: collect_interfaces(collector))
        uptime_ticks = round(system.uptime_seconds * 100) if system and system.uptime_seconds is not None else None
        speeds = {interface.if_index: interface.speed_bps for interface in interfaces}
        counters = None
        if "counters" in sections:
            counters = _guarded(collector, "counters", None, lambda: collect_counters(collector, uptime_ticks, speeds))
        addresses: list[IpAddress] = []
        if "ip_addresses" in sections:
            addresses = _guarded(collector, "ip_addresses", [], lambda: collect_ip_addresses(collector))
        neighbours: list[LldpNeighbour] = []
        if "lldp" in sections:
            neighbours = _guarded(collector, "lldp", [], lambda: collect_lldp(collector, interfaces))
        arp: list[ArpEntry] = _guarded(collector, "arp", [], lambda: collect_arp(collector)) if "arp" in sections else []
        errors = _guarded(collector, "finish", list(collector.errors), collector.finish)
    finally:
        session.close()
    reached = session.varbinds_received > 0
    return DeviceFacts(
        host=target.host,
        port=target.port,
        system=system if reached else None,
        interfaces=tuple(interfaces) if "interfaces" in sections else (),
        ip_addresses=tuple(addresses),
        lldp_neighbours=tuple(neighbours),
        arp_entries=tuple(arp),
        counters=counters if counters and counters.interfaces else None,
        errors=tuple(errors),
        started_at=started_at,
        duration_seconds=time.monotonic() - start,
        varbinds_received=session.varbinds_received,
    )


def discover_many(
    requests: Iterable[tuple[Target, Credentials]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[DeviceFacts], None] | None = None,
    sections: frozenset[str] = SECTIONS,
) -> list[DeviceFacts]:
    """``discover`` for each (target, credentials), at most ``concurrency`` at a time.

    Results come back in the order of ``requests``; ``on_result`` (if given) is called
    from the worker threads as each one finishes.
    """
    results: list[DeviceFacts] = []
    jobs = list(requests)
    _pool(jobs, lambda job: discover(*job, sections=sections), concurrency, on_result, results)
    return results


def discover_each(
    requests: Iterable[tuple[Target, Credentials, K]],
    on_result: Callable[[K, DeviceFacts], None],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    sections: frozenset[str] = SECTIONS,
) -> int:
    """``discover_many`` for a job that stores each result as it comes and keeps none:
    each request carries the caller's key (a device id), handed to ``on_result`` with the
    facts, from the worker threads. Memory stays flat however many devices. Answers how
    many were discovered; an exception from ``on_result`` stops the run and is raised."""

    def work(request: tuple[Target, Credentials, K]) -> tuple[K, DeviceFacts]:
        target, credentials, key = request
        return key, discover(target, credentials, sections=sections)

    return _pool(requests, work, concurrency, lambda pair: on_result(*pair), None)


def probe(target: Target, credentials: Credentials) -> SystemInfo | None:
    """One request for the system group (what a sweep asks each address): the device's
    description, sysObjectID, name and the platform they say; None if nothing answers."""
    session, collector, _, _ = _start(target, credentials)
    try:
        system = _guarded(collector, "system", None, lambda: collect_system_scalars(collector))
    finally:
        session.close()
    return system if session.varbinds_received > 0 else None


def _pool(
    requests: Iterable[R],
    work: Callable[[R], T],
    concurrency: int,
    on_result: Callable[[T], None] | None,
    kept: list[T] | None,
) -> int:
    """Run ``work`` over ``requests`` on at most ``concurrency`` threads, each result to
    ``on_result`` as it finishes and, when ``kept`` is given, into it in request order.
    Requests are taken from the iterable only as threads free up, and a finished result is
    dropped unless kept, so memory holds ``concurrency`` results at most. The first
    exception stops the run and is raised."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    slots = threading.BoundedSemaphore(concurrency)
    lock = threading.Lock()
    by_index: dict[int, T] = {}
    failures: list[BaseException] = []

    def run(index: int, request: R) -> None:
        try:
            result = work(request)
            if on_result is not None:
                on_result(result)
            with lock:
                by_index[index] = result if kept is not None else None  # type: ignore[assignment]
        except BaseException as error:  # raised again in the caller's thread
            with lock:
                failures.append(error)
        finally:
            slots.release()

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="snmp-discover") as pool:
        for index, request in enumerate(requests):
            slots.acquire()
            if failures:
                slots.release()
                break
            pool.submit(run, index, request)
    if failures:
        raise failures[0]
    if kept is not None:
        kept.extend(by_index[index] for index in sorted(by_index))
    return len(by_index)


@dataclass(frozen=True)
class CounterPoll:
    sample: CounterSample | None
    errors: tuple[DiscoveryError, ...]
    varbinds_received: int


def sample_counters(target: Target, credentials: Credentials, speeds: Mapping[int, int | None] | None = None) -> CounterPoll:
    """Just the interface counters (and sysUpTime), for polling between discoveries.

    ``speeds`` (ifIndex -> bits/s, e.g. from the last discovery) lets ``rates`` reject
    impossible 32-bit wraps.
    """
    session, collector, _, _ = _start(target, credentials)
    try:
        uptime = collector.get("counters", [oids.SYS_UPTIME + (0,)]).get(oids.SYS_UPTIME + (0,))
        uptime_ticks = collector.decode("counters", oids.SYS_UPTIME, (0,), uptime, as_int)
        sample = _guarded(collector, "counters", None, lambda: collect_counters(collector, uptime_ticks, speeds))
        errors = _guarded(collector, "finish", list(collector.errors), collector.finish)
    finally:
        session.close()
    usable = sample is not None and bool(sample.interfaces)
    return CounterPoll(sample if usable else None, tuple(errors), session.varbinds_received)
