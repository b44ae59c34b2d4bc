"""Device components and the templates that stamp them out (NetBox 4.6
``dcim/models/device_components.py`` and ``device_component_templates.py``).

A *component* (interface, port, bay, inventory item) is owned by a device: it takes the
device's tenant through the composite key (``__tenant_from__``), has no numid, and its
name is unique on its device. A *template* belongs to a device type, or a module type
where NetBox allows it, and names the component kind it becomes (``__component__``). The
fields a template and its component share are declared once, in a mixin both inherit:
materialising a template copies the columns the two have in common (resolvers/dcim.py),
so the template → component mapping is data, not a copier per kind.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from models.base import (
    NO_REVERSE,
    Category,
    ManyToMany,
    OneOf,
    Ordering,
    OrganizationalModel,
    TenantModel,
    TenantScoped,
    Through,
    choice,
    color,
    long_text,
    natural_key,
    reference,
    snake,
    text,
)
from models.choices_dcim import (
    VIRTUAL_INTERFACE_TYPES,
    WIRELESS_INTERFACE_TYPES,
    CableEnd,
    ConsolePortSpeed,
    ConsolePortType,
    InterfaceDuplex,
    InterfaceKind,
    InterfaceMode,
    InterfacePoEMode,
    InterfacePoEType,
    InterfaceType,
    InventoryItemStatus,
    PortType,
    PowerOutletFeedLeg,
    PowerOutletStatus,
    PowerOutletType,
    PowerPortType,
    WirelessChannel,
    WirelessRole,
)
from models.display import col, parenthesised
from models.naturalize import naturalize_interface


def _reverse(cls: Any) -> str:
    """NetBox's reverse name of a component or template kind: ``interfaces``, ``consoleporttemplates``."""
    return f"{cls.__name__.lower()}s"


class ComponentModel(TenantScoped):
    """Something a device has: named uniquely on it, its tenant the device's."""

    __display__ = parenthesised(col("name"), col("label"))

    __abstract__ = True
    __tenant_from__ = ("device",)
    # By device (in the device's own order), then in natural order, as NetBox.
    __ordering__: ClassVar[Ordering] = (Through("device"), "_name")
    # NetBox filters components by the site, location and rack it caches from the device.
    __filter_through__: ClassVar[dict[str, tuple[str, ...]]] = {"site": ("device", "site"), "location": ("device", "location"), "rack": ("device", "rack")}

    @declared_attr
    def device_id(cls) -> Mapped[uuid.UUID]:
        return reference("Device", nullable=False, ondelete="CASCADE", related_name=_reverse(cls), counted=f"{snake(cls.__name__)}_count")

    name: Mapped[str] = text(64, required=True)
    label: Mapped[str] = text(64)
    """A physical label, when it differs from the name."""
    description: Mapped[str] = text(200)
    _name: Mapped[str | None] = natural_key()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("device_id", "name"),)


class ModularComponent(ComponentModel):
    """A component a module may bring with it (removed with the module)."""

    __abstract__ = True

    @declared_attr
    def module_id(cls) -> Mapped[uuid.UUID | None]:
        return reference("Module", ondelete="CASCADE", related_name=_reverse(cls))


class Cabled:
    """An endpoint a cable can attach to. ``cable`` and ``cable_end`` are kept by the cable
    rules (resolvers/cables.py); ``mark_connected`` stands in for a cable not recorded."""

    # Endpoints answer link_peers / connected_endpoints / trace (schema.cables).
    __cabled__: ClassVar[bool] = True

    @declared_attr
    def cable_id(cls) -> Mapped[uuid.UUID | None]:
        return reference("Cable", related_name=NO_REVERSE, derived=True)

    cable_end: Mapped[CableEnd | None] = choice(CableEnd, nullable=True, info={"derived": True})
    mark_connected: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class TemplateOwned(TenantScoped):
    """A row of a device type, or of a module type where ``__modular__``: exactly one owner."""

    __abstract__ = True
    __tenant_from__ = ("device_type", "module_type")
    __tagged__ = False
    __modular__: ClassVar[bool] = True
    # The kind of row this template becomes on a device (a model class name).
    __component__: ClassVar[str]
    # The device type's and module type's field listing these rows, where NetBox's name is
    # not the plural of the class (``port_mappings``).
    __owner_field__: ClassVar[str | None] = None

    @declared_attr
    def device_type_id(cls) -> Mapped[uuid.UUID | None]:
        counted = f"{snake(cls.__name__)}_count" if hasattr(cls, "name") else None
        related = cls.__owner_field__ or _reverse(cls)
        # Device-type-only kinds (NetBox's device bays, inventory items) must name one.
        return reference("DeviceType", nullable=cls.__modular__, ondelete="CASCADE", related_name=related, counted=counted)

    @declared_attr
    def module_type_id(cls) -> Mapped[uuid.UUID | None]:
        # None: the kind has no module type column at all (NetBox's device bay templates).
        if not cls.__modular__:
            return None  # type: ignore[return-value]  # declarative: no column at all
        return reference("ModuleType", ondelete="CASCADE", related_name=cls.__owner_field__ or _reverse(cls))

    @classmethod
    def __owner_args__(cls) -> tuple[Any, ...]:
        if cls.__modular__:
            return (sa.CheckConstraint("num_nonnulls(device_type_id, module_type_id) = 1", name="one_owner"),)
        return ()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return cls.__owner_args__()


class ComponentTemplate(TemplateOwned):
    """A named template: unique by name within its device type or module type."""

    __display__ = parenthesised(col("name"), col("label"))

    __abstract__ = True

    name: Mapped[str] = text(64, required=True)
    """May contain ``{module}``: replaced by the module bay's position on install."""
    label: Mapped[str] = text(64)
    description: Mapped[str] = text(200)
    _name: Mapped[str | None] = natural_key()

    __ordering__: ClassVar[Ordering] = (Through("device_type"), Through("module_type"), "_name")

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        names = [sa.UniqueConstraint(f"{owner}_id", "name") for owner in cls.__tenant_from__ if owner != "module_type" or cls.__modular__]
        return (*cls.__owner_args__(), *names)


# --- the kinds: shared fields in a mixin, then the component and its template -----------


class ConsolePortFields:
    type: Mapped[ConsolePortType | None] = choice(ConsolePortType, nullable=True)


def console_speed() -> Any:
    return mapped_column(nullable=True, info={"choices": ConsolePortSpeed})


class ConsolePort(ConsolePortFields, Cabled, ModularComponent):
    speed: Mapped[int | None] = console_speed()


class ConsoleServerPort(ConsolePortFields, Cabled, ModularComponent):
    speed: Mapped[int | None] = console_speed()


class ConsolePortTemplate(ConsolePortFields, ComponentTemplate):
    __component__ = "ConsolePort"


class ConsoleServerPortTemplate(ConsolePortFields, ComponentTemplate):
    __component__ = "ConsoleServerPort"


class PowerPortFields:
    type: Mapped[PowerPortType | None] = choice(PowerPortType, nullable=True)
    maximum_draw: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 2147483647)})
    """Watts at most."""
    allocated_draw: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 2147483647)})
    """Watts expected."""


class PowerPort(PowerPortFields, Cabled, ModularComponent):
    pass


class PowerPortTemplate(PowerPortFields, ComponentTemplate):
    __component__ = "PowerPort"


class PowerOutletFields:
    type: Mapped[PowerOutletType | None] = choice(PowerOutletType, nullable=True)
    feed_leg: Mapped[PowerOutletFeedLeg | None] = choice(PowerOutletFeedLeg, nullable=True)
    """The phase of a three-phase feed the outlet draws from."""
    color: Mapped[str] = color(blank=True)


class PowerOutlet(PowerOutletFields, Cabled, ModularComponent):
    status: Mapped[PowerOutletStatus] = choice(PowerOutletStatus, default=PowerOutletStatus.enabled, server_default="enabled")
    power_port_id: Mapped[uuid.UUID | None] = reference("PowerPort", related_name="poweroutlets")


class PowerOutletTemplate(PowerOutletFields, ComponentTemplate):
    __component__ = "PowerOutlet"
    power_port_id: Mapped[uuid.UUID | None] = reference("PowerPortTemplate", related_name="poweroutlet_templates")


class InterfaceFields:
    type: Mapped[InterfaceType] = choice(InterfaceType)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    mgmt_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Out-of-band management only."""
    poe_mode: Mapped[InterfacePoEMode | None] = choice(InterfacePoEMode, nullable=True)
    poe_type: Mapped[InterfacePoEType | None] = choice(InterfacePoEType, nullable=True)
    rf_role: Mapped[WirelessRole | None] = choice(WirelessRole, nullable=True)


class Interface(InterfaceFields, Cabled, ModularComponent):
    """A network interface: physical, virtual (LAG, bridge, subinterface) or wireless."""

    __many__: ClassVar[dict[str, ManyToMany]] = {
        "tagged_vlans": ManyToMany("VLAN", related_name="interfaces_as_tagged"),
        "wireless_lans": ManyToMany("WirelessLAN", related_name="interfaces"),
    }
    # NetBox's `kind: KIND_VIRTUAL` filter: virtual, wireless, else physical.
    __categories__: ClassVar[dict[str, Category]] = {
        "kind": Category(
            "type",
            InterfaceKind,
            ((InterfaceKind.virtual, VIRTUAL_INTERFACE_TYPES), (InterfaceKind.wireless, WIRELESS_INTERFACE_TYPES)),
            InterfaceKind.physical,
        )
    }

    parent_id: Mapped[uuid.UUID | None] = reference("Interface", related_name="child_interfaces")
    bridge_id: Mapped[uuid.UUID | None] = reference("Interface", related_name="bridge_interfaces")
    lag_id: Mapped[uuid.UUID | None] = reference("Interface", related_name="member_interfaces")
    mtu: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 65536)})
    speed: Mapped[int | None] = mapped_column(sa.BigInteger(), nullable=True, info={"bounds": (0, 2**63 - 1)})
    """Kbps."""
    duplex: Mapped[InterfaceDuplex | None] = choice(InterfaceDuplex, nullable=True)
    wwn: Mapped[str | None] = text(23, nullable=True, info={"format": "wwn"})
    """A fibre-channel World Wide Name (``50:01:43:80:12:34:56:78``)."""
    mode: Mapped[InterfaceMode | None] = choice(InterfaceMode, nullable=True)
    """802.1Q: access, tagged or tagged-all; 802.1ad: q-in-q."""
    untagged_vlan_id: Mapped[uuid.UUID | None] = reference("VLAN", related_name="interfaces_as_untagged")
    qinq_svlan_id: Mapped[uuid.UUID | None] = reference("VLAN", related_name="interfaces_svlan")
    """Q-in-Q mode: the service VLAN whose outer tag the interface adds (NetBox 4.2+)."""
    vrf_id: Mapped[uuid.UUID | None] = reference("VRF", related_name="interfaces")
    primary_mac_address_id: Mapped[uuid.UUID | None] = reference("MACAddress", related_name=NO_REVERSE, cyclic=True)
    wireless_link_id: Mapped[uuid.UUID | None] = reference("WirelessLink", related_name=NO_REVERSE, derived=True, cyclic=True)
    """The wireless link this interface is an end of (kept by the link's rules)."""
    rf_channel: Mapped[WirelessChannel | None] = choice(WirelessChannel, nullable=True)
    rf_channel_frequency: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2), nullable=True, info={"bounds": (0, 99999)})
    """MHz."""
    rf_channel_width: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 3), nullable=True, info={"bounds": (0, 9999)})
    """MHz."""
    tx_power: Mapped[int | None] = mapped_column(sa.SmallInteger(), nullable=True, info={"bounds": (-40, 127)})
    """dBm."""
    # NetBox's interface order: Gi0/0/2 before Gi0/0/10, port channels after physical ports.
    _name: Mapped[str | None] = natural_key(keyer=naturalize_interface)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (*super().__extra_args__(), sa.UniqueConstraint("primary_mac_address_id"))


class InterfaceTemplate(InterfaceFields, ComponentTemplate):
    __component__ = "Interface"
    _name: Mapped[str | None] = natural_key(keyer=naturalize_interface)
    bridge_id: Mapped[uuid.UUID | None] = reference("InterfaceTemplate", related_name="bridge_interfaces")


class PortFields:
    # Pass a signal on rather than end a path: no connected_endpoints (NetBox's PathEndpoint).
    __pass_through__: ClassVar[bool] = True

    type: Mapped[PortType] = choice(PortType)
    color: Mapped[str] = color(blank=True)
    positions: Mapped[int] = mapped_column(sa.SmallInteger(), default=1, server_default="1", info={"bounds": (1, 1024)})


class FrontPort(PortFields, Cabled, ModularComponent):
    """A pass-through port on the front of a patch panel; its mappings join it to rear ports."""


class RearPort(PortFields, Cabled, ModularComponent):
    """A pass-through port on the back; each position carries one front port's signal."""


class FrontPortTemplate(PortFields, ComponentTemplate):
    __component__ = "FrontPort"


class RearPortTemplate(PortFields, ComponentTemplate):
    __component__ = "RearPort"


class PortMappingFields:
    # NetBox: front port:position to rear port:position.
    __display__: ClassVar[str | None] = (
        "{display:front_port} || ':' || {s}.front_port_position || ' to ' || {display:rear_port} || ':' || {s}.rear_port_position"
    )
    front_port_position: Mapped[int] = mapped_column(sa.SmallInteger(), default=1, server_default="1", info={"bounds": (1, 1024)})
    rear_port_position: Mapped[int] = mapped_column(sa.SmallInteger(), default=1, server_default="1", info={"bounds": (1, 1024)})

    @classmethod
    def __mapping_args__(cls) -> tuple[Any, ...]:
        # A position of either port carries one signal.
        return (sa.UniqueConstraint("front_port_id", "front_port_position"), sa.UniqueConstraint("rear_port_id", "rear_port_position"))


class PortMapping(PortMappingFields, TenantScoped):
    """Front port position ↔ rear port position on one device (NetBox 4.6's PortMapping)."""

    __tenant_from__ = ("front_port",)
    __tagged__ = False

    front_port_id: Mapped[uuid.UUID] = reference("FrontPort", nullable=False, ondelete="CASCADE", related_name="mappings")
    rear_port_id: Mapped[uuid.UUID] = reference("RearPort", nullable=False, ondelete="CASCADE", related_name="mappings")

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return cls.__mapping_args__()


class PortTemplateMapping(PortMappingFields, TemplateOwned):
    __component__ = "PortMapping"
    __owner_field__ = "port_mappings"

    front_port_id: Mapped[uuid.UUID] = reference("FrontPortTemplate", nullable=False, ondelete="CASCADE", related_name="mappings")
    rear_port_id: Mapped[uuid.UUID] = reference("RearPortTemplate", nullable=False, ondelete="CASCADE", related_name="mappings")

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (*cls.__owner_args__(), *cls.__mapping_args__())


class ModuleBayFields:
    position: Mapped[str] = text(30)
    """What ``{module}`` becomes in the names of an installed module's components."""
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class ModuleBay(ModuleBayFields, ModularComponent):
    pass


class ModuleBayTemplate(ModuleBayFields, ComponentTemplate):
    __component__ = "ModuleBay"


class DeviceBayFields:
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class DeviceBay(DeviceBayFields, ComponentModel):
    """A slot of a parent device holding one child device (a blade)."""

    installed_device_id: Mapped[uuid.UUID | None] = reference("Device", related_name="parent_bay")

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (*super().__extra_args__(), sa.UniqueConstraint("installed_device_id"))


class DeviceBayTemplate(DeviceBayFields, ComponentTemplate):
    __component__ = "DeviceBay"
    __modular__ = False
    __ordering__ = (Through("device_type"), "_name")


class InventoryItemRole(OrganizationalModel):
    """What an inventory item is (a fan, a transceiver); its colour marks it."""

    color: Mapped[str] = color()


# What an inventory item may describe: one of its device's components.
INVENTORY_COMPONENTS = ("ConsolePort", "ConsoleServerPort", "FrontPort", "Interface", "PowerOutlet", "PowerPort", "RearPort")


class InventoryItemFields:
    part_id: Mapped[str] = text(50)
    """The manufacturer's part number."""

    # Listed back as inventory_items / inventory_item_templates (the registry's plural).
    manufacturer_id: Mapped[uuid.UUID | None] = reference("Manufacturer", ondelete="RESTRICT")
    role_id: Mapped[uuid.UUID | None] = reference("InventoryItemRole", ondelete="RESTRICT")


class InventoryItem(InventoryItemFields, ComponentModel):
    """A part inside a device (a fan, a transceiver), nested, optionally of one component."""

    # NetBox: (device__id, parent__id, name); items have no numid of their own.
    __ordering__ = (Through("device", "numid"), "parent_id", "_name")
    __one_of__: ClassVar[dict[str, OneOf]] = {"component": OneOf(INVENTORY_COMPONENTS, ondelete="CASCADE", related_name="inventory_items")}

    parent_id: Mapped[uuid.UUID | None] = reference("InventoryItem", ondelete="CASCADE", related_name="child_items")
    status: Mapped[InventoryItemStatus] = choice(InventoryItemStatus, default=InventoryItemStatus.active, server_default="active")
    serial: Mapped[str] = text(50)
    asset_tag: Mapped[str | None] = text(50, nullable=True)
    discovered: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Found by discovery rather than entered by hand."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            sa.UniqueConstraint("device_id", "parent_id", "name", postgresql_nulls_not_distinct=True),
            sa.UniqueConstraint("tenant_id", "asset_tag"),
        )


class InventoryItemTemplate(InventoryItemFields, ComponentTemplate):
    __component__ = "InventoryItem"
    __modular__ = False
    # NetBox: (device_type__id, parent__id, name); templates have no numid of their own.
    __ordering__ = (Through("device_type", "numid"), "parent_id", "_name")
    __one_of__: ClassVar[dict[str, OneOf]] = {"component": OneOf(tuple(f"{kind}Template" for kind in INVENTORY_COMPONENTS), ondelete="CASCADE")}

    parent_id: Mapped[uuid.UUID | None] = reference("InventoryItemTemplate", ondelete="CASCADE", related_name="child_items")

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (*cls.__owner_args__(), sa.UniqueConstraint("device_type_id", "parent_id", "name", postgresql_nulls_not_distinct=True))


class MACAddress(TenantModel):
    """A MAC address, assigned to an interface or not; an interface's primary one is its
    ``primary_mac_address``."""

    __display__ = col("mac_address")
    __ordering__ = ("mac_address", "numid")

    __one_of__: ClassVar[dict[str, OneOf]] = {
        "assigned_object": OneOf(("Interface", "VMInterface"), ondelete="CASCADE", related_name="mac_addresses", union="MACAddressAssignmentType")
    }

    mac_address: Mapped[str] = text(17, required=True, info={"format": "mac"})
    """Six octets, stored as NetBox shows them: ``00:1A:2B:3C:4D:5E``."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()
