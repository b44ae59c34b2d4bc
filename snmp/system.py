"""System group, platform recognition and chassis details from ENTITY-MIB."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from . import oids
from .collector import Collector
from .facts import SystemInfo
from .platforms import recognise, refine, version_from_software_rev
from .values import Oid, SnmpValue, as_int, as_text, format_oid

T = TypeVar("T")

SECTION = "system"
ENTITY_SECTION = "entity"

# Serial/model values that mean "not known" ("<private>" is how LibreNMS anonymises).
_PLACEHOLDER = re.compile(r"^\s*(<[^>]*>|n/?a|none|unknown|not available|not specified|0+)?\s*$", re.IGNORECASE)


def meaningful(text: str | None) -> str | None:
    if text is None or _PLACEHOLDER.match(text):
        return None
    return text.strip()


def _as_oid(value: SnmpValue) -> Oid:
    if isinstance(value, tuple):
        return value
    raise ValueError("expected an OID")


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)


@dataclass(frozen=True)
class Chassis:
    index: int
    contained_in: int | None
    serial: str | None
    model: str | None
    software_rev: str | None


def collect_chassis(collector: Collector) -> list[Chassis]:
    """Chassis entities (entPhysicalClass = chassis), top-level ones first."""
    classes = collector.columns(ENTITY_SECTION, "entPhysicalTable", [oids.ENT_PHYSICAL_CLASS])
    chassis_indexes = [index for index, value in classes[oids.ENT_PHYSICAL_CLASS].items() if value == oids.ENT_CLASS_CHASSIS and len(index) == 1]
    columns = [
        oids.ENT_PHYSICAL_CONTAINED_IN,
        oids.ENT_PHYSICAL_SERIAL_NUM,
        oids.ENT_PHYSICAL_MODEL_NAME,
        oids.ENT_PHYSICAL_SOFTWARE_REV,
    ]
    values = collector.get(ENTITY_SECTION, [column + index for index in chassis_indexes for column in columns])

    def read(column: Oid, index: Oid) -> str | None:
        return collector.decode(ENTITY_SECTION, column, index, values.get(column + index), as_text)

    found = [
        Chassis(
            index=index[0],
            contained_in=collector.decode(
                ENTITY_SECTION,
                oids.ENT_PHYSICAL_CONTAINED_IN,
                index,
                values.get(oids.ENT_PHYSICAL_CONTAINED_IN + index),
                as_int,
            ),
            serial=read(oids.ENT_PHYSICAL_SERIAL_NUM, index),
            model=read(oids.ENT_PHYSICAL_MODEL_NAME, index),
            software_rev=read(oids.ENT_PHYSICAL_SOFTWARE_REV, index),
        )
        for index in chassis_indexes
    ]
    # A stack lists a container first and its member chassis inside it: top level first.
    found.sort(key=lambda chassis: (chassis.contained_in not in (0, None), chassis.index))
    return found


def _software_rev_anywhere(collector: Collector) -> str | None:
    """First version in any entity's entPhysicalSoftwareRev (modules often carry it)."""
    column = collector.columns(ENTITY_SECTION, "entPhysicalTable", [oids.ENT_PHYSICAL_SOFTWARE_REV])
    for index, value in column[oids.ENT_PHYSICAL_SOFTWARE_REV].items():
        version = version_from_software_rev(collector.decode(ENTITY_SECTION, oids.ENT_PHYSICAL_SOFTWARE_REV, index, value, as_text))
        if version:
            return version
    return None


_SCALARS = [oids.SYS_DESCR, oids.SYS_OBJECT_ID, oids.SYS_UPTIME, oids.SYS_CONTACT, oids.SYS_NAME, oids.SYS_LOCATION]


def _system_scalars(collector: Collector) -> Callable[[Oid, Callable[[SnmpValue], T]], T | None]:
    """The system group in one request (the first of a discovery: no answer here means the
    agent is unreachable), as a reader of one scalar."""
    values = collector.get(SECTION, [scalar + (0,) for scalar in _SCALARS])

    def read(scalar: Oid, decoder: Callable[[SnmpValue], T]) -> T | None:
        return collector.decode(SECTION, scalar, (0,), values.get(scalar + (0,)), decoder)

    return read


def collect_system_scalars(collector: Collector) -> SystemInfo:
    """What the system group alone says (one request; no ENTITY-MIB): a sweep's probe."""
    read = _system_scalars(collector)
    description, object_id = read(oids.SYS_DESCR, as_text), read(oids.SYS_OBJECT_ID, _as_oid)
    uptime_ticks = read(oids.SYS_UPTIME, as_int)
    recognition = recognise(object_id, description)
    return SystemInfo(
        description=description,
        object_id=format_oid(object_id) if object_id else None,
        name=read(oids.SYS_NAME, as_text),
        location=read(oids.SYS_LOCATION, as_text),
        contact=read(oids.SYS_CONTACT, as_text),
        uptime_seconds=uptime_ticks / 100 if uptime_ticks is not None else None,
        vendor=recognition.vendor,
        platform=refine(recognition, recognition.version),
        version=recognition.version,
        model=recognition.model,
        serial=meaningful(recognition.serial),
    )


def collect_system(collector: Collector) -> SystemInfo:
    read = _system_scalars(collector)
    description = read(oids.SYS_DESCR, as_text)
    object_id = read(oids.SYS_OBJECT_ID, _as_oid)
    uptime_ticks = read(oids.SYS_UPTIME, as_int)

    recognition = recognise(object_id, description)
    chassis = collect_chassis(collector)
    serial = _first(meaningful(c.serial) for c in chassis) or meaningful(recognition.serial)
    model = _first(meaningful(c.model) for c in chassis) or recognition.model
    version = recognition.version

    # Vendor MIB scalars, only for what sysDescr and ENTITY-MIB left open.
    rule = recognition.rule
    version_oid = rule.version_oid if rule and not version else None
    serial_oid = rule.serial_oid if rule and not serial else None
    wanted = [oid for oid in (version_oid, serial_oid) if oid]
    if wanted:
        vendor_values = collector.get(SECTION, wanted)
        if version_oid:
            version = collector.decode(SECTION, version_oid[:-1], (0,), vendor_values.get(version_oid), as_text)
        if serial_oid:
            serial = meaningful(collector.decode(SECTION, serial_oid[:-1], (0,), vendor_values.get(serial_oid), as_text))

    if not version:
        version = _first(version_from_software_rev(c.software_rev) for c in chassis)
    if not version and chassis:
        version = _software_rev_anywhere(collector)

    return SystemInfo(
        description=description,
        object_id=format_oid(object_id) if object_id else None,
        name=read(oids.SYS_NAME, as_text),
        location=read(oids.SYS_LOCATION, as_text),
        contact=read(oids.SYS_CONTACT, as_text),
        uptime_seconds=uptime_ticks / 100 if uptime_ticks is not None else None,
        vendor=recognition.vendor,
        platform=refine(recognition, version),
        version=version,
        model=model,
        serial=serial,
    )
