"""Regions, sites and locations (the rest of DCIM arrives in later issues)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped

from models.base import ManyToMany, NestedTenantModel, TenantModel, choice, reference, text
from models.choices import GatewayPolicy, SiteStatus


class Region(NestedTenantModel):
    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "slug"),)


class Site(TenantModel):
    __many__: ClassVar[dict[str, ManyToMany]] = {"vrfs": ManyToMany("VRF", related_name="sites")}

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    status: Mapped[SiteStatus] = choice(SiteStatus, default=SiteStatus.active, server_default="active")
    region_id: Mapped[uuid.UUID | None] = reference("Region", related_name="sites")
    gateway_policy: Mapped[GatewayPolicy] = choice(GatewayPolicy, default=GatewayPolicy.none, server_default="none")
    """Where new prefixes at this site get their gateway: first or last usable address, or none."""
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"), sa.UniqueConstraint("tenant_id", "slug"))


class Location(NestedTenantModel):
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="locations")
    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    status: Mapped[SiteStatus] = choice(SiteStatus, default=SiteStatus.active, server_default="active")
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "site_id", "slug"),)
