"""Devices and what describes them: manufacturers, roles, platforms, device and module
types, modules and virtual chassis (NetBox 4.6 ``dcim/models/devices.py``, ``modules.py``).

NetBox keeps the catalogues (manufacturers, roles, platforms) global; here each tenant has
its own, and the NetBox importer copies a catalogue entry into every tenant that uses it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    NO_REVERSE,
    NestedGroupModel,
    OrganizationalModel,
    TenantModel,
    Through,
    choice,
    color,
    inet_column,
    long_text,
    natural_key,
    reference,
    text,
)
from models.choices import DeviceAirflow, DeviceStatus, SubdeviceRole, WeightUnit
from models.choices_dcim import DeviceFace, ModuleAirflow, ModuleStatus
from models.dcim.sites import coordinate
from models.display import col, given, parenthesised


class Weighed:
    """A weight with its unit (NetBox's WeightMixin): device and module types, racks."""

    weight: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2), nullable=True, info={"bounds": (0, 999999)})
    weight_unit: Mapped[WeightUnit | None] = choice(WeightUnit, nullable=True)


class Manufacturer(OrganizationalModel):
    """A maker of devices, modules and platforms."""


class DeviceRole(NestedGroupModel):
    """A device's function ("Core Switch"); ``vm_role``: virtual machines may have it too."""

    color: Mapped[str] = color()
    vm_role: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    config_template_id: Mapped[uuid.UUID | None] = reference("ConfigTemplate", ondelete="RESTRICT", related_name="device_roles")
    snmp_profile_id: Mapped[uuid.UUID | None] = reference("SnmpProfile", ondelete="RESTRICT", related_name="device_roles")
    """The SNMP profile of this role's devices that have none of their own (models/discovery.py)."""


class Platform(NestedGroupModel):
    """The software a device runs ("Cisco IOS-XR"), optionally of one manufacturer."""

    manufacturer_id: Mapped[uuid.UUID | None] = reference("Manufacturer", ondelete="RESTRICT", related_name="platforms")
    config_template_id: Mapped[uuid.UUID | None] = reference("ConfigTemplate", ondelete="RESTRICT", related_name="platforms")


class DeviceType(Weighed, TenantModel):
    """A make and model of device; its component templates stamp out each device's ports."""

    __display__ = col("model")
    __ordering__ = (Through("manufacturer"), "model")
    manufacturer_id: Mapped[uuid.UUID] = reference("Manufacturer", nullable=False, related_name="device_types")
    model: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    default_platform_id: Mapped[uuid.UUID | None] = reference("Platform", related_name=NO_REVERSE)
    part_number: Mapped[str] = text(50)
    u_height: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1), default=Decimal("1.0"), server_default="1.0", info={"bounds": (0, 999)})
    """Rack units, in halves (0.5, 1, 1.5, …); 0 for devices that take no rack space."""
    exclude_from_utilization: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_full_depth: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    subdevice_role: Mapped[SubdeviceRole | None] = choice(SubdeviceRole, nullable=True)
    airflow: Mapped[DeviceAirflow | None] = choice(DeviceAirflow, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()
    snmp_profile_id: Mapped[uuid.UUID | None] = reference("SnmpProfile", ondelete="RESTRICT", related_name="device_types")
    """The SNMP profile of devices of this type whose device and role name none (models/discovery.py)."""
    sys_object_ids: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()), default=list, server_default="{}")
    """The sysObjectID values (dotted OIDs) devices of this type answer: how an SNMP sweep
    recognises the type of a device it finds."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            sa.UniqueConstraint("tenant_id", "manufacturer_id", "model"),
            sa.UniqueConstraint("tenant_id", "manufacturer_id", "slug"),
            # A sweep asks which type declares an OID (``sys_object_ids @> ARRAY[oid]``).
            sa.Index("ix_device_type_sys_object_ids", "sys_object_ids", postgresql_using="gin"),
        )


class ModuleType(Weighed, TenantModel):
    """A make and model of module (line card, transceiver, PSU); its templates stamp out the
    components of every module installed, ``{module}`` replaced by the bay's position."""

    __display__ = col("model")
    # NetBox's (profile, manufacturer, model): module type profiles are not modelled here.
    __ordering__ = (Through("manufacturer"), "model")
    manufacturer_id: Mapped[uuid.UUID] = reference("Manufacturer", nullable=False, related_name="module_types")
    model: Mapped[str] = text(100, required=True)
    part_number: Mapped[str] = text(50)
    airflow: Mapped[ModuleAirflow | None] = choice(ModuleAirflow, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "manufacturer_id", "model"),)


class VirtualChassis(TenantModel):
    """Devices managed as one (a switch stack); its members' ``vc_position`` orders them."""

    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()

    __graphql_name__ = "virtual_chassis"
    __tenant_related_name__ = "virtual_chassis"  # chassis is its own plural

    name: Mapped[str] = text(64, required=True)
    domain: Mapped[str] = text(30)
    master_id: Mapped[uuid.UUID | None] = reference("Device", related_name=NO_REVERSE, cyclic=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


# NetBox's label of a device: its name, else its virtual chassis and position.
_DEVICE_LABEL = (
    f"coalesce({given(col('name'))}, CASE WHEN {{s}}.virtual_chassis_id IS NOT NULL"
    " THEN {display:virtual_chassis} || ':' || coalesce(({s}.vc_position)::text, 'None') END)"
)
# NetBox: the label (with the asset tag), else make and model with the asset tag or number.
DEVICE_DISPLAY = (
    f"CASE WHEN {_DEVICE_LABEL} IS NOT NULL THEN {parenthesised(_DEVICE_LABEL, col('asset_tag'))}"
    " ELSE {display:device_type.manufacturer} || ' ' || {display:device_type}"
    f" || ' (' || coalesce({given(col('asset_tag'))}, ({{s}}.numid)::text) || ')' END"
)


class Device(TenantModel):
    """A piece of hardware at a site, in a rack or not; creating one stamps out its type's
    components."""

    __tree_filters__ = {"location_id": ("location",)}  # NetBox: devices in a location's subtree

    __display__ = DEVICE_DISPLAY
    # NetBox: (name, pk); its pk is the numid of an imported device.
    __ordering__ = ("_name", "numid")
    _name: Mapped[str | None] = natural_key()

    name: Mapped[str | None] = text(64, nullable=True)
    """Optional; unique, ignoring case, among the tenant's devices at one site."""
    device_type_id: Mapped[uuid.UUID] = reference("DeviceType", nullable=False, related_name="instances", counted="device_count")
    role_id: Mapped[uuid.UUID] = reference("DeviceRole", nullable=False, related_name="devices")
    platform_id: Mapped[uuid.UUID | None] = reference("Platform", related_name="devices")
    cluster_id: Mapped[uuid.UUID | None] = reference("Cluster", related_name="devices")
    """The virtualization cluster this device is a host of."""
    serial: Mapped[str] = text(50)
    asset_tag: Mapped[str | None] = text(50, nullable=True)
    site_id: Mapped[uuid.UUID] = reference("Site", nullable=False, related_name="devices")
    location_id: Mapped[uuid.UUID | None] = reference("Location", ondelete="RESTRICT", related_name="devices")
    rack_id: Mapped[uuid.UUID | None] = reference("Rack", ondelete="RESTRICT", related_name="devices")
    position: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1), nullable=True, info={"bounds": (0.5, 100)})
    """The lowest rack unit the device occupies, in halves."""
    face: Mapped[DeviceFace | None] = choice(DeviceFace, nullable=True)
    status: Mapped[DeviceStatus] = choice(DeviceStatus, default=DeviceStatus.active, server_default="active")
    airflow: Mapped[DeviceAirflow | None] = choice(DeviceAirflow, nullable=True)
    # Addresses on the device's own interfaces: the keys close a cycle (cyclic).
    primary_ip4_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name=NO_REVERSE, cyclic=True)
    primary_ip6_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name=NO_REVERSE, cyclic=True)
    oob_ip_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name=NO_REVERSE, cyclic=True)
    virtual_chassis_id: Mapped[uuid.UUID | None] = reference("VirtualChassis", related_name="members", counted="member_count")
    vc_position: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (0, 255)})
    vc_priority: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (0, 255)})
    latitude: Mapped[Decimal | None] = coordinate(8, 90)
    longitude: Mapped[Decimal | None] = coordinate(9, 180)
    local_context_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    config_template_id: Mapped[uuid.UUID | None] = reference("ConfigTemplate", ondelete="RESTRICT", related_name="devices")
    """Configuration context that overrides every assigned config context."""
    snmp_profile_id: Mapped[uuid.UUID | None] = reference("SnmpProfile", ondelete="RESTRICT", related_name="devices")
    """The SNMP profile of this device, before its role's, its type's and the tenant's default."""
    management_address: Mapped[str | None] = inet_column(nullable=True)
    """Where to reach the device (SNMP, checks) when not at its primary IP: a host address."""
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
            sa.UniqueConstraint("virtual_chassis_id", "vc_position"),
            # An address is the primary of one device at most (NetBox's one-to-one fields).
            sa.UniqueConstraint("primary_ip4_id"),
            sa.UniqueConstraint("primary_ip6_id"),
            sa.UniqueConstraint("oob_ip_id"),
        )


class Module(TenantModel):
    """A module installed in one of a device's module bays; installing it stamps out its
    type's components on the device."""

    __display__ = "{value:module_bay.name} || ': ' || {display:module_type} || ' (' || {s}.numid || ')'"
    __ordering__ = (Through("module_bay"),)
    device_id: Mapped[uuid.UUID] = reference("Device", nullable=False, ondelete="CASCADE", related_name="modules")
    module_bay_id: Mapped[uuid.UUID] = reference("ModuleBay", nullable=False, ondelete="CASCADE", related_name="installed_module", cyclic=True)
    module_type_id: Mapped[uuid.UUID] = reference("ModuleType", nullable=False, related_name="instances")
    status: Mapped[ModuleStatus] = choice(ModuleStatus, default=ModuleStatus.active, server_default="active")
    serial: Mapped[str] = text(50)
    asset_tag: Mapped[str | None] = text(50, nullable=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # One module per bay: a second install is a conflict naming module_bay.
        return (sa.UniqueConstraint("module_bay_id"), sa.UniqueConstraint("tenant_id", "asset_tag"))
