"""Power panels and the feeds they supply (NetBox 4.6 ``dcim/models/power.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantModel, Through, choice, long_text, natural_key, reference, text
from models.choices_dcim import PowerFeedPhase, PowerFeedStatus, PowerFeedSupply, PowerFeedType
from models.dcim.components import Cabled


class PowerPanel(TenantModel):
    """An electrical panel at a site, feeding racks."""

    __tree_filters__ = {"location_id": ("location",)}

    __ordering__ = (Through("site"), "_name")  # NetBox: (site, name)
    _name: Mapped[str | None] = natural_key()

    # NetBox's names for these lists (its default reverse name, not a declared one).
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="powerpanel_set")
    location_id: Mapped[uuid.UUID | None] = reference("Location", ondelete="RESTRICT", related_name="powerpanel_set")
    name: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("site_id", "name"),)


class PowerFeed(Cabled, TenantModel):
    """A circuit from a panel to a rack; a device's power port takes a cable from it."""

    __ordering__ = (Through("power_panel"), "_name")  # NetBox: (power_panel, name)
    _name: Mapped[str | None] = natural_key()

    power_panel_id: Mapped[uuid.UUID] = reference("PowerPanel", nullable=False, ondelete="RESTRICT", related_name="powerfeeds")
    rack_id: Mapped[uuid.UUID | None] = reference("Rack", ondelete="RESTRICT", related_name="powerfeeds")
    name: Mapped[str] = text(100, required=True)
    status: Mapped[PowerFeedStatus] = choice(PowerFeedStatus, default=PowerFeedStatus.active, server_default="active")
    type: Mapped[PowerFeedType] = choice(PowerFeedType, default=PowerFeedType.primary, server_default="primary")
    supply: Mapped[PowerFeedSupply] = choice(PowerFeedSupply, default=PowerFeedSupply.ac, server_default="ac")
    phase: Mapped[PowerFeedPhase] = choice(PowerFeedPhase, default=PowerFeedPhase.single_phase, server_default="single-phase")
    voltage: Mapped[int] = mapped_column(sa.SmallInteger(), default=120, server_default="120", info={"bounds": (-32768, 32767)})
    amperage: Mapped[int] = mapped_column(sa.SmallInteger(), default=20, server_default="20", info={"bounds": (1, 32767)})
    max_utilization: Mapped[int] = mapped_column(sa.SmallInteger(), default=80, server_default="80", info={"bounds": (1, 100)})
    """Percent of the feed's capacity that may be drawn."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("power_panel_id", "name"),)
