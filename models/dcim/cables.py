"""Cables and their terminations (NetBox 4.6 ``dcim/models/cables.py``).

A cable has terminations on ends A and B; each termination is one endpoint of any
cabled kind (interface, front/rear port, console and console-server port, power port and
outlet, power feed, circuit termination), stored as an exclusive arc, unique per endpoint: an endpoint is on
one cable at most, whatever the application does. Paths through patch panels are traced
on read (resolvers/cables.py), so they are right after every create, edit and delete."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Inline, OneOf, TenantModel, TenantScoped, choice, color, long_text, reference, text
from models.choices_dcim import CableEnd, CableLengthUnit, CableType, LinkStatus
from models.display import col, given, numbered

# Every kind a cable end can attach to.
CABLE_ENDPOINTS = ("CircuitTermination", "ConsolePort", "ConsoleServerPort", "FrontPort", "Interface", "PowerFeed", "PowerOutlet", "PowerPort", "RearPort")


class Cable(TenantModel):
    """A physical connection between endpoints on its A and B ends."""

    __display__ = f"coalesce({given(col('label'))}, {numbered('#')})"
    __ordering__ = ("numid",)  # NetBox: its id

    __inline__: ClassVar[dict[str, Inline]] = {
        f"{end.lower()}_terminations": Inline("CableTermination", parent="cable", item="termination", fixed=(("cable_end", end),), required=True)
        for end in ("A", "B")
    }

    type: Mapped[CableType | None] = choice(CableType, nullable=True)
    status: Mapped[LinkStatus] = choice(LinkStatus, default=LinkStatus.connected, server_default="connected")
    label: Mapped[str | None] = text(100, nullable=True)
    color: Mapped[str] = color(blank=True)
    length: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2), nullable=True, info={"bounds": (0, 999999)})
    length_unit: Mapped[CableLengthUnit | None] = choice(CableLengthUnit, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()


class CableTermination(TenantScoped):
    """One endpoint on one end of a cable; written through its cable's ``a_terminations``
    and ``b_terminations`` only, so the cable's rules see both ends."""

    __display__ = "'Cable ' || {display:cable} || ' to ' || {display:termination}"

    __read_only__ = True
    __tenant_from__ = ("cable",)
    __tagged__ = False
    __one_of__: ClassVar[dict[str, OneOf]] = {"termination": OneOf(CABLE_ENDPOINTS, nullable=False, ondelete="CASCADE", unique=True)}

    cable_id: Mapped[uuid.UUID] = reference("Cable", nullable=False, ondelete="CASCADE", related_name="terminations")
    cable_end: Mapped[CableEnd] = choice(CableEnd)
