"""Interface counter samples, and rates from two of them.

Octets come from the 64-bit ifHC*Octets (ifXTable) where the agent has them and from the
32-bit ifIn/OutOctets otherwise: at 1 Gbit/s a 32-bit octet counter wraps every 34 s, so
it is only good for short polling intervals.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from . import oids
from .collector import Collector, Column, rows
from .facts import CounterSample, InterfaceCounters, InterfaceRates
from .values import Oid, as_int

SECTION = "counters"

COUNTER32_MODULUS = 2**32
COUNTER64_MODULUS = 2**64
TIMETICKS_MODULUS = 2**32

HC_COLUMNS = [oids.IF_HC_IN_OCTETS, oids.IF_HC_OUT_OCTETS]
OCTET32_COLUMNS = [oids.IF_IN_OCTETS, oids.IF_OUT_OCTETS]
ERROR_COLUMNS = [oids.IF_IN_ERRORS, oids.IF_OUT_ERRORS, oids.IF_IN_DISCARDS, oids.IF_OUT_DISCARDS]


def collect_counters(collector: Collector, uptime_ticks: int | None, speeds: Mapping[int, int | None] | None = None) -> CounterSample:
    taken_at = time.time()
    expected = len(speeds) if speeds else None
    hc = collector.columns(SECTION, "ifXTable 64-bit octets", HC_COLUMNS, expected)
    hc_indexes = set(rows(hc))
    errors = collector.columns(SECTION, "ifTable errors and discards", ERROR_COLUMNS, expected or len(hc_indexes))
    everything = set(rows(errors)) | hc_indexes
    # The 32-bit columns cost a walk each: only read them when some interface lacks HC.
    octets32: dict[Oid, Column] = {}
    if everything - hc_indexes or not everything:
        octets32 = collector.columns(SECTION, "ifTable 32-bit octets", OCTET32_COLUMNS, len(everything))
        everything |= set(rows(octets32))

    def read(table: dict[Oid, Column], column: Oid, index: Oid) -> int | None:
        return collector.cell(SECTION, table, column, index, as_int)

    interfaces = []
    for index in sorted(everything):
        if len(index) != 1:
            continue
        use_hc = index in hc_indexes
        octets = hc if use_hc else octets32
        in_column, out_column = HC_COLUMNS if use_hc else OCTET32_COLUMNS
        interfaces.append(
            InterfaceCounters(
                if_index=index[0],
                counter_bits=64 if use_hc else 32,
                in_octets=read(octets, in_column, index),
                out_octets=read(octets, out_column, index),
                in_errors=read(errors, oids.IF_IN_ERRORS, index),
                out_errors=read(errors, oids.IF_OUT_ERRORS, index),
                in_discards=read(errors, oids.IF_IN_DISCARDS, index),
                out_discards=read(errors, oids.IF_OUT_DISCARDS, index),
                speed_bps=(speeds or {}).get(index[0]),
            )
        )
    return CounterSample(taken_at=taken_at, uptime_ticks=uptime_ticks, interfaces=tuple(interfaces))


def counter_delta(earlier: int | None, later: int | None, bits: int) -> int | None:
    """Increase of a counter between two readings, across one wrap of a 32-bit counter.

    A 64-bit counter going down is a reset (device or counter restart): it would take a
    400 Gbit/s link over 11 years to wrap one.
    """
    if earlier is None or later is None:
        return None
    if later >= earlier:
        return later - earlier
    if bits == 32:
        return later + COUNTER32_MODULUS - earlier
    return None


def restarted_between(earlier: CounterSample, later: CounterSample) -> bool:
    """The agent restarted between the samples, so its counters started again.

    sysUpTime must advance with the wall clock (modulo its wrap after 497 days); one that
    went down, or rose by much less than the time that passed, restarted in between. The
    tolerance covers sysUpTime being read a little before the counters.
    """
    if earlier.uptime_ticks is None or later.uptime_ticks is None:
        return False
    elapsed_ticks = (later.uptime_ticks - earlier.uptime_ticks) % TIMETICKS_MODULUS
    wall_ticks = (later.taken_at - earlier.taken_at) * 100
    return abs(elapsed_ticks - wall_ticks) > max(6000, wall_ticks * 0.1)


@dataclass(frozen=True)
class _Pair:
    earlier: InterfaceCounters
    later: InterfaceCounters
    interval: float

    def per_second(self, field: str) -> float | None:
        # ifIn/OutErrors and Discards are Counter32 in IF-MIB.
        delta = counter_delta(getattr(self.earlier, field), getattr(self.later, field), 32)
        return None if delta is None else delta / self.interval


def _bits_per_second(pair: _Pair, field: str) -> float | None:
    bits = pair.later.counter_bits
    earlier_value = getattr(pair.earlier, field)
    later_value = getattr(pair.later, field)
    delta = counter_delta(earlier_value, later_value, bits)
    if delta is None:
        return None
    rate = delta * 8 / pair.interval
    wrapped = later_value is not None and earlier_value is not None and later_value < earlier_value
    speed = pair.later.speed_bps
    # After a 32-bit wrap the rate must still fit the link, else it wrapped twice or reset.
    if wrapped and speed and rate > speed * 1.05:
        return None
    return rate


def rates(earlier: CounterSample, later: CounterSample) -> dict[int, InterfaceRates]:
    """Per-interface bits/s and errors/discards per second between two samples.

    Rates are None where a counter is missing, was reset (device restart, 64-bit counter
    going down, counter width changed) or wrapped implausibly for the link speed.
    """
    interval = later.taken_at - earlier.taken_at
    if interval <= 0:
        raise ValueError("the later sample must be taken after the earlier one")
    restarted = restarted_between(earlier, later)
    before = earlier.by_index()
    result = {}
    for counters in later.interfaces:
        previous = before.get(counters.if_index)
        if previous is None or previous.counter_bits != counters.counter_bits or restarted:
            result[counters.if_index] = InterfaceRates(counters.if_index, interval, *[None] * 6)
            continue
        pair = _Pair(previous, counters, interval)
        result[counters.if_index] = InterfaceRates(
            if_index=counters.if_index,
            interval_seconds=interval,
            in_bps=_bits_per_second(pair, "in_octets"),
            out_bps=_bits_per_second(pair, "out_octets"),
            in_errors_per_second=pair.per_second("in_errors"),
            out_errors_per_second=pair.per_second("out_errors"),
            in_discards_per_second=pair.per_second("in_discards"),
            out_discards_per_second=pair.per_second("out_discards"),
        )
    return result
