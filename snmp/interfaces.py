"""Interfaces from IF-MIB ifTable and ifXTable."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from . import oids
from .collector import Collector, Column, rows
from .facts import Interface
from .values import Oid, SnmpValue, as_int, as_mac, as_text

SECTION = "interfaces"

T = TypeVar("T")

# IF-MIB ifAdminStatus / ifOperStatus
STATUS_NAMES = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}

# ifSpeed saturates at 2^32-1 for links of 4.29 Gbit/s and faster.
IF_SPEED_SATURATED = 4_294_967_295

IF_TABLE_COLUMNS = [
    oids.IF_DESCR,
    oids.IF_TYPE,
    oids.IF_MTU,
    oids.IF_SPEED,
    oids.IF_PHYS_ADDRESS,
    oids.IF_ADMIN_STATUS,
    oids.IF_OPER_STATUS,
]
IFX_TABLE_COLUMNS = [oids.IF_NAME, oids.IF_HIGH_SPEED, oids.IF_ALIAS]


def speed_bps(if_speed: int | None, if_high_speed: int | None) -> int | None:
    """ifHighSpeed (Mbit/s) where present, refined by an unsaturated ifSpeed that agrees.

    ifHighSpeed is rounded, so a 1.544 Mbit/s T1 reads 2; ifSpeed is exact below 4.29 Gbit/s.
    """
    if if_high_speed:
        high = if_high_speed * 1_000_000
        if if_speed and if_speed < IF_SPEED_SATURATED and abs(if_speed - high) < 1_000_000:
            return if_speed
        return high
    if if_speed is not None and if_speed != IF_SPEED_SATURATED:
        return if_speed
    return None


def _status(code: int | None) -> str | None:
    return None if code is None else STATUS_NAMES.get(code, str(code))


def build_interfaces(collector: Collector, if_table: dict[Oid, Column], ifx_table: dict[Oid, Column]) -> list[Interface]:
    interfaces = []
    for index in rows({**if_table, **ifx_table}):
        if len(index) != 1:
            collector.malformed(SECTION, oids.IF_ENTRY, index, None, "ifIndex must be one sub-identifier")
            continue

        def read(table: dict[Oid, Column], column: Oid, decoder: Callable[[SnmpValue], T]) -> T | None:
            return collector.cell(SECTION, table, column, index, decoder)  # noqa: B023 (called within this iteration)

        description = read(if_table, oids.IF_DESCR, as_text)
        speed = speed_bps(read(if_table, oids.IF_SPEED, as_int), read(ifx_table, oids.IF_HIGH_SPEED, as_int))
        name = read(ifx_table, oids.IF_NAME, as_text)
        interfaces.append(
            Interface(
                if_index=index[0],
                name=name or description or f"ifIndex {index[0]}",
                description=description,
                alias=read(ifx_table, oids.IF_ALIAS, as_text),
                type=read(if_table, oids.IF_TYPE, as_int),
                mtu=read(if_table, oids.IF_MTU, as_int),
                speed_bps=speed,
                mac=read(if_table, oids.IF_PHYS_ADDRESS, as_mac),
                admin_status=_status(read(if_table, oids.IF_ADMIN_STATUS, as_int)),
                oper_status=_status(read(if_table, oids.IF_OPER_STATUS, as_int)),
            )
        )
    return interfaces


def collect_interfaces(collector: Collector) -> list[Interface]:
    if_table = collector.columns(SECTION, "ifTable", IF_TABLE_COLUMNS)
    ifx_table = collector.columns(SECTION, "ifXTable", IFX_TABLE_COLUMNS, expected_rows=len(rows(if_table)))
    return build_interfaces(collector, if_table, ifx_table)
