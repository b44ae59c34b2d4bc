"""What the network says: a device's facts as its last discovery read them over SNMP.

Observations sit beside intent and never overwrite it: a device's ``observed`` is its
system group and chassis facts, with its interfaces, addresses, LLDP neighbours and ARP
entries below. Discovery jobs write them (jobs/observations.py); the API only reads them.
Each row carries when it was first and last seen; a row the latest discovery no longer
found is removed, unless that section of the discovery failed (then what was seen before
stays, with its older ``last_seen``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantScoped, address_column, inet_column, long_text, reference, text


class Observed(TenantScoped):
    """Written by discovery, read through the API."""

    __abstract__ = True
    __read_only__ = True
    __tagged__ = False

    first_seen: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    """When a discovery first found it."""
    last_seen: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    """When a discovery last found it."""


class DeviceObservation(Observed):
    """A device as its last discovery found it (``device { observed { … } }``)."""

    __tenant_from__ = ("device",)
    __ordering__ = ("last_seen",)
    __display__ = "'Observed ' || {display:device}"

    device_id: Mapped[uuid.UUID] = reference("Device", nullable=False, ondelete="CASCADE", related_name="observed")
    address: Mapped[str] = inet_column()
    """The management address discovery asked."""
    reachable: Mapped[bool] = mapped_column()
    """Whether the agent answered the last discovery."""
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=sa.text("'[]'::jsonb"))
    """What went wrong in the last discovery, per section: ``{kind, section, detail, oid}``."""
    duration_ms: Mapped[int] = mapped_column()
    """How long the last discovery took."""
    varbinds: Mapped[int] = mapped_column()
    """Values the agent returned in the last discovery."""
    sys_description: Mapped[str] = long_text()
    sys_object_id: Mapped[str] = text(255)
    sys_name: Mapped[str] = text(255)
    sys_location: Mapped[str] = text(255)
    sys_contact: Mapped[str] = text(255)
    uptime_seconds: Mapped[int | None] = mapped_column(sa.BigInteger(), nullable=True)
    """Since the agent (re)started, when the discovery ran."""
    vendor: Mapped[str] = text(100)
    platform: Mapped[str] = text(100)
    """The platform recognised from what the device says (``eos``, ``ios-xe``, ``junos``)."""
    version: Mapped[str] = text(100)
    model: Mapped[str] = text(100)
    serial: Mapped[str] = text(100)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("device_id"),)  # one per device: ``observed`` is to-one


class ObservedPart(Observed):
    """A row of what one device's discovery found."""

    __abstract__ = True
    __tenant_from__ = ("observation",)
    # Lists across a site or device: through the observation's device.
    __filter_through__: ClassVar[dict[str, tuple[str, ...]]] = {"device": ("observation", "device"), "site": ("observation", "device", "site")}


class ObservedInterface(ObservedPart):
    """An interface the device reports (IF-MIB)."""

    __ordering__ = ("observation_id", "if_index")
    __display__ = "{s}.name"

    observation_id: Mapped[uuid.UUID] = reference("DeviceObservation", nullable=False, ondelete="CASCADE", related_name="interfaces")
    if_index: Mapped[int] = mapped_column()
    name: Mapped[str] = text(255)
    description: Mapped[str] = text(255)
    """ifDescr."""
    alias: Mapped[str] = text(255)
    """ifAlias: the operator's description on the device."""
    if_type: Mapped[int | None] = mapped_column(nullable=True)
    """IANAifType (6 ethernetCsmacd, 24 softwareLoopback, 161 ieee8023adLag)."""
    mtu: Mapped[int | None] = mapped_column(nullable=True)
    speed_bps: Mapped[int | None] = mapped_column(sa.BigInteger(), nullable=True)
    mac_address: Mapped[str] = text(17)
    admin_status: Mapped[str] = text(20)
    oper_status: Mapped[str] = text(20)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("observation_id", "if_index"),)


class ObservedAddress(ObservedPart):
    """An address configured on the device (IP-MIB)."""

    __ordering__ = ("observation_id", "address")
    __display__ = "({s}.address)::text"
    __graphql_name__ = "observed_ip_address"

    observation_id: Mapped[uuid.UUID] = reference("DeviceObservation", nullable=False, ondelete="CASCADE", related_name="ip_addresses")
    address: Mapped[str] = address_column()
    """With its prefix length (``/32`` or ``/128`` when the device gave none)."""
    if_index: Mapped[int | None] = mapped_column(nullable=True)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("observation_id", "address"),)


class ObservedNeighbour(ObservedPart):
    """An LLDP neighbour seen on one of the device's ports (LLDP-MIB)."""

    __ordering__ = ("observation_id", "local_port_num")
    __display__ = "coalesce(nullif({s}.local_interface, ''), {s}.local_port) || ' → ' || coalesce(nullif({s}.system_name, ''), {s}.chassis_id)"
    __graphql_name__ = "observed_lldp_neighbour"

    observation_id: Mapped[uuid.UUID] = reference("DeviceObservation", nullable=False, ondelete="CASCADE", related_name="lldp_neighbours")
    local_port_num: Mapped[int] = mapped_column()
    local_port: Mapped[str] = text(255)
    local_if_index: Mapped[int | None] = mapped_column(nullable=True)
    local_interface: Mapped[str] = text(255)
    """The device's interface the neighbour is on, when the port matched one."""
    chassis_id: Mapped[str] = text(255)
    chassis_id_subtype: Mapped[int | None] = mapped_column(nullable=True)
    port_id: Mapped[str] = text(255)
    port_id_subtype: Mapped[int | None] = mapped_column(nullable=True)
    port_description: Mapped[str] = text(255)
    system_name: Mapped[str] = text(255)
    system_description: Mapped[str] = long_text()
    management_addresses: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.Text()), default=list, server_default=sa.text("'{}'"))

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("observation_id", "local_port_num", "chassis_id", "port_id", name="uq_observed_neighbour_identity"),)


class ObservedArpEntry(ObservedPart):
    """An ARP or IPv6 neighbour cache entry of the device (IP-MIB)."""

    __ordering__ = ("observation_id", "ip")
    __display__ = "({s}.ip)::text || ' → ' || {s}.mac_address"

    observation_id: Mapped[uuid.UUID] = reference("DeviceObservation", nullable=False, ondelete="CASCADE", related_name="arp_entries")
    if_index: Mapped[int] = mapped_column()
    ip: Mapped[str] = inet_column()
    mac_address: Mapped[str] = text(17)
    state: Mapped[str] = text(20)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("observation_id", "if_index", "ip"),)
