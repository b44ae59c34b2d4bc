"""Rules for sites and locations (registered in resolvers/rules.py)."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

import sqlalchemy as sa

from models.registry import spec_for
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook
from resolvers.writes import Write


def register_rules(book: RuleBook) -> None:
    book.check("Location")(_parent_in_same_site)
    book.check("Site")(_known_time_zone)


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
