"""Wireless links: NetBox's rules for their ends, and each end's ``wireless_link`` kept
(registered in resolvers/rules.py). Paths cross them in resolvers/cables.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.choices_dcim import WIRELESS_INTERFACE_TYPES
from models.registry import ModelSpec, spec_for
from resolvers.errors import BadUserInput, Conflict
from resolvers.rules import RuleBook
from resolvers.writes import Write

LINK, INTERFACE = "WirelessLink", "Interface"
ENDS = ("interface_a", "interface_b")


def register_rules(book: RuleBook) -> None:
    book.check(LINK)(_ends_are_free_wireless_interfaces)
    book.maintain_after(LINK)(_ends_point_at_the_link)
    book.maintain_before_delete(LINK)(_ends_forget_the_link)


async def _ends_are_free_wireless_interfaces(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """Both ends are wireless interfaces, two of them, neither on another link."""
    table = spec_for(INTERFACE).table
    ends = {end: values.get(f"{end}_id", getattr(old, f"{end}_id", None) if old is not None else None) for end in ENDS}
    if ends["interface_a"] is not None and ends["interface_a"] == ends["interface_b"]:
        raise BadUserInput("interface_b: a link joins two interfaces, not one to itself", field="interface_b")
    for end, interface_id in ends.items():
        if interface_id is None or f"{end}_id" not in values:
            continue
        row = (await write.conn.execute(sa.select(table.c.name, table.c.type, table.c.wireless_link_id).where(table.c.id == interface_id))).one_or_none()
        if row is None:
            continue  # the reference check names it
        if row.type not in WIRELESS_INTERFACE_TYPES:
            raise BadUserInput(f"{end}: {row.name} is a {row.type} interface, not a wireless one", field=end)
        if row.wireless_link_id is not None and (old is None or row.wireless_link_id != old.id):
            raise Conflict(f"{end}: {row.name} is already an end of another wireless link", field=end)


async def _point(write: Write, interface_id: Any, link_id: Any) -> None:
    table = spec_for(INTERFACE).table
    await write.conn.execute(sa.update(table).where(table.c.id == interface_id).values(wireless_link_id=link_id))


async def _ends_point_at_the_link(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    if old is not None:
        for end in ENDS:
            if getattr(old, f"{end}_id") not in (row.interface_a_id, row.interface_b_id):
                await _point(write, getattr(old, f"{end}_id"), None)
    for end in ENDS:
        await _point(write, getattr(row, f"{end}_id"), row.id)
    return row


async def _ends_forget_the_link(write: Write, spec: ModelSpec, old: Any) -> None:
    for end in ENDS:
        await _point(write, getattr(old, f"{end}_id"), None)
