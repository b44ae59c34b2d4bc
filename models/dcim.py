"""Regions, site groups, sites and locations (the rest of DCIM arrives in later issues).

Field names, lengths and choices follow NetBox 4.6 (``dcim/models/sites.py``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    NO_REVERSE,
    ManyToMany,
    NestedGroupModel,
    NestedTenantModel,
    OrganizationalModel,
    TenantModel,
    choice,
    color,
    long_text,
    reference,
    text,
)
from models.choices import DeviceAirflow, DeviceStatus, GatewayPolicy, LocationStatus, SiteStatus, SubdeviceRole, WeightUnit

# NetBox's app label for these models (content types such as "dcim.<model>").
APP_LABEL = "dcim"


def coordinate(digits: int, bound: int) -> Any:
    """A latitude or longitude in degrees, six decimal places, as NetBox stores them."""
    return mapped_column(sa.Numeric(digits, 6), nullable=True, info={"bounds": (-bound, bound)})


class SiteGrouping(NestedTenantModel):
    """What regions and site groups share: a nested name, a slug unique in the tenant, a
    description. (NetBox also makes names unique among siblings; the importer will need
    that before it is enforced here.)"""

    __abstract__ = True

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "slug"),)


class Region(SiteGrouping):
    """A nested geographic area: continent, country, city."""


class SiteGroup(SiteGrouping):
    """A nested grouping of sites by role or function, independent of regions."""


class Site(TenantModel):
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
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="locations")
    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    status: Mapped[LocationStatus] = choice(LocationStatus, default=LocationStatus.active, server_default="active")
    facility: Mapped[str] = text(50)
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "site_id", "slug"),)


# --- devices' catalogues: manufacturers, roles, platforms ------------------------------
# NetBox keeps these global; here each tenant has its own (the NetBox importer copies a
# catalogue entry into every tenant that uses it).


class Manufacturer(OrganizationalModel):
    """A maker of devices, modules and platforms."""


class RackRole(OrganizationalModel):
    """What a rack is for; its colour marks it in elevations."""

    color: Mapped[str] = color()


class DeviceRole(NestedGroupModel):
    """A device's function ("Core Switch"); ``vm_role``: virtual machines may have it too."""

    color: Mapped[str] = color()
    vm_role: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class Platform(NestedGroupModel):
    """The software a device runs ("Cisco IOS-XR"), optionally of one manufacturer."""

    manufacturer_id: Mapped[uuid.UUID | None] = reference("Manufacturer", ondelete="RESTRICT", related_name="platforms")


class DeviceType(TenantModel):
    """A make and model of device; its component templates stamp out each device's ports."""

    manufacturer_id: Mapped[uuid.UUID] = reference("Manufacturer", nullable=False, related_name="device_types")
    model: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    default_platform_id: Mapped[uuid.UUID | None] = reference("Platform", related_name=NO_REVERSE)
    part_number: Mapped[str] = text(50)
    u_height: Mapped[Decimal] = mapped_column(
        sa.Numeric(4, 1), default=Decimal("1.0"), server_default="1.0", info={"bounds": (0, 999)}
    )
    """Rack units, in halves (0.5, 1, 1.5, …); 0 for devices that take no rack space."""
    exclude_from_utilization: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_full_depth: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    subdevice_role: Mapped[SubdeviceRole | None] = choice(SubdeviceRole, nullable=True)
    airflow: Mapped[DeviceAirflow | None] = choice(DeviceAirflow, nullable=True)
    weight: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2), nullable=True, info={"bounds": (0, 999999)})
    weight_unit: Mapped[WeightUnit | None] = choice(WeightUnit, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            sa.UniqueConstraint("tenant_id", "manufacturer_id", "model"),
            sa.UniqueConstraint("tenant_id", "manufacturer_id", "slug"),
        )


class Device(TenantModel):
    """A piece of hardware at a site. Racks, components, primary IPs, virtual chassis and
    clusters join as their models arrive."""

    name: Mapped[str | None] = text(64, nullable=True)
    """Optional; unique, ignoring case, among the tenant's devices at one site."""
    device_type_id: Mapped[uuid.UUID] = reference("DeviceType", nullable=False, related_name="instances")
    role_id: Mapped[uuid.UUID] = reference("DeviceRole", nullable=False, related_name="devices")
    platform_id: Mapped[uuid.UUID | None] = reference("Platform", related_name="devices")
    serial: Mapped[str] = text(50)
    asset_tag: Mapped[str | None] = text(50, nullable=True)
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="devices")
    location_id: Mapped[uuid.UUID | None] = reference("Location", ondelete="RESTRICT", related_name="devices")
    status: Mapped[DeviceStatus] = choice(DeviceStatus, default=DeviceStatus.active, server_default="active")
    airflow: Mapped[DeviceAirflow | None] = choice(DeviceAirflow, nullable=True)
    latitude: Mapped[Decimal | None] = coordinate(8, 90)
    longitude: Mapped[Decimal | None] = coordinate(9, 180)
    local_context_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    """Configuration context that overrides every assigned config context."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            sa.Index(
                "uq_device_tenant_id_site_id_name",
                "tenant_id",
                "site_id",
                sa.func.lower(sa.text("name")),
                unique=True,
                postgresql_where=sa.text("name IS NOT NULL"),
                info={"field": "name"},  # what a violation names (resolvers.writes)
            ),
            sa.UniqueConstraint("tenant_id", "asset_tag"),
        )
