"""Rules for sites and locations (registered in resolvers/rules.py)."""

from __future__ import annotations

import functools
import zoneinfo
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from models.registry import spec_for
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook
from resolvers.writes import Write


def register_rules(book: RuleBook) -> None:
    book.check("Location")(_parent_in_same_site)
    book.check("Site")(_known_time_zone)
    book.check("Device")(_location_in_site)
    book.check("DeviceType")(_half_units)
    book.check("DeviceType")(_weight_has_a_unit)


async def _location_in_site(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """A device's location is one of its site's, as NetBox requires."""
    location_id = values.get("location_id", getattr(old, "location_id", None))
    site_id = values.get("site_id", getattr(old, "site_id", None))
    if location_id is None:
        return
    table = spec_for("Location").table
    site_of_location = (await write.conn.execute(sa.select(table.c.site_id).where(table.c.id == location_id))).scalar_one_or_none()
    if site_of_location is not None and site_of_location != site_id:
        raise BadUserInput("location: that location belongs to another site", field="location")


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


async def _parent_in_same_site(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """A location nests only inside a location of its own site."""
    parent_id = values.get("parent_id", getattr(old, "parent_id", None))
    site_id = values.get("site_id", getattr(old, "site_id", None))
    if parent_id is None:
        return
    table = spec_for("Location").table
    parent_site = (await write.conn.execute(sa.select(table.c.site_id).where(table.c.id == parent_id))).scalar_one_or_none()
    if parent_site is not None and parent_site != site_id:
        raise BadUserInput("parent: that location belongs to another site", field="parent")
