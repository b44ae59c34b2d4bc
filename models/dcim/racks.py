"""Racks, their roles and reservations (NetBox 4.6 ``dcim/models/racks.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import OrganizationalModel, TenantModel, Through, choice, color, long_text, natural_key, reference, text
from models.choices_dcim import RackAirflow, RackDimensionUnit, RackFormFactor, RackReservationStatus, RackStatus, RackWidth
from models.dcim.devices import Weighed
from models.display import col, parenthesised


class RackRole(OrganizationalModel):
    """What a rack is for; its colour marks it in elevations."""

    color: Mapped[str] = color()


def dimension() -> Any:
    return mapped_column(sa.SmallInteger(), nullable=True, info={"bounds": (1, 32767)})


class Rack(Weighed, TenantModel):
    """A frame of numbered units at a site; devices sit at a position on a face."""

    __tree_filters__ = {"location_id": ("location",)}

    __display__ = parenthesised(col("name"), col("facility_id"))
    # NetBox: (site, location, name, pk).
    __ordering__ = (Through("site"), Through("location"), "_name", "numid")
    _name: Mapped[str | None] = natural_key()

    name: Mapped[str] = text(100, required=True)
    facility_id: Mapped[str | None] = text(50, nullable=True)
    """The data centre's own name for the rack."""
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="racks")
    location_id: Mapped[uuid.UUID | None] = reference("Location", ondelete="RESTRICT", related_name="racks")
    status: Mapped[RackStatus] = choice(RackStatus, default=RackStatus.active, server_default="active")
    role_id: Mapped[uuid.UUID | None] = reference("RackRole", ondelete="RESTRICT", related_name="racks")
    serial: Mapped[str] = text(50)
    asset_tag: Mapped[str | None] = text(50, nullable=True)
    form_factor: Mapped[RackFormFactor | None] = choice(RackFormFactor, nullable=True)
    width: Mapped[int] = mapped_column(sa.SmallInteger(), default=19, server_default="19", info={"choices": RackWidth})
    """Rail-to-rail width in inches: one of NetBox's widths (10, 19, 21, 23)."""
    u_height: Mapped[int] = mapped_column(sa.SmallInteger(), default=42, server_default="42", info={"bounds": (1, 100)})
    starting_unit: Mapped[int] = mapped_column(sa.SmallInteger(), default=1, server_default="1", info={"bounds": (1, 32767)})
    desc_units: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Units numbered top to bottom."""
    outer_width: Mapped[int | None] = dimension()
    outer_height: Mapped[int | None] = dimension()
    outer_depth: Mapped[int | None] = dimension()
    outer_unit: Mapped[RackDimensionUnit | None] = choice(RackDimensionUnit, nullable=True)
    mounting_depth: Mapped[int | None] = dimension()
    max_weight: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 2147483647)})
    airflow: Mapped[RackAirflow | None] = choice(RackAirflow, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            # Unique in its location, or among the site's racks outside any location.
            sa.UniqueConstraint("tenant_id", "site_id", "location_id", "name", postgresql_nulls_not_distinct=True),
            sa.UniqueConstraint("tenant_id", "asset_tag"),
        )


class RackReservation(TenantModel):
    """Units of a rack held for someone, with a reason."""

    __display__ = "'Reservation for rack ' || {display:rack}"
    __ordering__ = ("created", "numid")

    __tenant_related_name__ = "rackreservations"

    rack_id: Mapped[uuid.UUID] = reference("Rack", nullable=False, ondelete="CASCADE", related_name="reservations")
    units: Mapped[list[int]] = mapped_column(ARRAY(sa.SmallInteger()), info={"required": True})
    status: Mapped[RackReservationStatus] = choice(RackReservationStatus, default=RackReservationStatus.active, server_default="active")
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True, info={"derived": True})
    """Who made the reservation: the writer (a user id of another organisation is never an input)."""
    description: Mapped[str] = text(200, required=True)
    comments: Mapped[str] = long_text()
