"""DCIM rules (registered in resolvers/rules.py)."""

from __future__ import annotations

import functools
import zoneinfo
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from models.registry import ModelSpec, spec_for
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook
from resolvers.writes import Write


def register_rules(book: RuleBook) -> None:
    book.check("Location")(_agrees_on("parent", "site"))
    book.check("Site")(_known_time_zone)
    book.check("Device")(_agrees_on("location", "site"))
    book.check("DeviceType")(_half_units)
    book.check("DeviceType")(_weight_has_a_unit)


def _agrees_on(reference: str, shared: str) -> Any:
    """A check: the object ``reference`` points at has the same ``shared`` reference as the
    object written (a location's parent, a device's location: both in its site)."""

    async def check(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
        ref, common = spec.ref(reference), spec.ref(shared)
        assert ref is not None and common is not None, (spec.type_name, reference, shared)
        target_id = values.get(ref.column, getattr(old, ref.column, None))
        if target_id is None:
            return
        mine = values.get(common.column, getattr(old, common.column, None))
        target = spec_for(ref.target)
        theirs = (
            await write.conn.execute(sa.select(target.table.c[common.column]).where(target.table.c.id == target_id))
        ).scalar_one_or_none()
        if theirs is not None and theirs != mine:
            raise BadUserInput(f"{reference}: that {target.name} belongs to another {shared}", field=reference)

    return check


async def _half_units(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """Device types occupy whole or half rack units, as NetBox allows."""
    height = values.get("u_height")
    if height is not None and Decimal(str(height)) % Decimal("0.5"):
        raise BadUserInput(f"u_height: {height} is not a multiple of 0.5 rack units", field="u_height")


async def _weight_has_a_unit(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    weight = values.get("weight", getattr(old, "weight", None))
    unit = values.get("weight_unit", getattr(old, "weight_unit", None))
    if weight is not None and unit is None:
        raise BadUserInput("weight_unit: a weight needs its unit", field="weight_unit")


async def _known_time_zone(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """A site's time zone is an IANA name (``Europe/Amsterdam``), as NetBox requires."""
    zone = values.get("time_zone")
    if zone is not None and zone not in _time_zones():
        raise BadUserInput(f"time_zone: '{zone}' is not an IANA time zone such as 'Europe/Amsterdam'", field="time_zone")


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
