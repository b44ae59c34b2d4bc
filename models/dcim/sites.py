"""Regions, site groups, sites and locations.

Field names, lengths and choices follow NetBox 4.6 (``dcim/models/sites.py``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    ManyToMany,
    NestedTenantModel,
    TenantModel,
    Through,
    choice,
    long_text,
    natural_key,
    reference,
    text,
)
from models.choices import GatewayPolicy, LocationStatus, SiteStatus


def coordinate(digits: int, bound: int) -> Any:
    """A latitude or longitude in degrees, six decimal places, as NetBox stores them."""
    return mapped_column(sa.Numeric(digits, 6), nullable=True, info={"bounds": (-bound, bound)})


class SiteGrouping(NestedTenantModel):
    """What regions and site groups share: a nested name, a slug unique in the tenant, a
    description. (NetBox also makes names unique among siblings; the importer will need
    that before it is enforced here.)"""

    _name: Mapped[str | None] = natural_key()

    __abstract__ = True

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "slug"),)


class Region(SiteGrouping):
    """A nested geographic area: continent, country, city."""


class SiteGroup(SiteGrouping):
    """A nested grouping of sites by role or function, independent of regions."""


class Site(TenantModel):
    __tree_filters__ = {"region_id": ("region",), "group_id": ("group",)}
    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()
    __many__: ClassVar[dict[str, ManyToMany]] = {
        "vrfs": ManyToMany("VRF", related_name="sites"),
        "asns": ManyToMany("ASN", related_name="sites"),
    }

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    status: Mapped[SiteStatus] = choice(SiteStatus, default=SiteStatus.active, server_default="active")
    region_id: Mapped[uuid.UUID | None] = reference("Region", related_name="sites")
    group_id: Mapped[uuid.UUID | None] = reference("SiteGroup", related_name="sites")
    facility: Mapped[str] = text(50)
    """The data centre provider's name for the facility."""
    time_zone: Mapped[str | None] = text(63, nullable=True)
    """An IANA time zone (``Europe/Amsterdam``)."""
    physical_address: Mapped[str] = text(200)
    shipping_address: Mapped[str] = text(200)
    latitude: Mapped[Decimal | None] = coordinate(8, 90)
    longitude: Mapped[Decimal | None] = coordinate(9, 180)
    comments: Mapped[str] = long_text()
    gateway_policy: Mapped[GatewayPolicy] = choice(GatewayPolicy, default=GatewayPolicy.none, server_default="none")
    """Where new prefixes at this site get their gateway: first or last usable address, or none."""
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"), sa.UniqueConstraint("tenant_id", "slug"))


class Location(NestedTenantModel):
    # NetBox's Meta.ordering (site, name): what a rack ordered by its location follows. The
    # list itself is a tree (TreeNode), as NetBox's TreeManager lists it.
    __ordering_through__ = (Through("site"), "_name")
    _name: Mapped[str | None] = natural_key()
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="locations")
    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    status: Mapped[LocationStatus] = choice(LocationStatus, default=LocationStatus.active, server_default="active")
    facility: Mapped[str] = text(50)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "site_id", "slug"),)
