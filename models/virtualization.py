"""Virtualization: cluster types and groups, clusters, virtual machine types, virtual
machines with their interfaces and disks (NetBox 4.6 ``virtualization/models``).

A VM interface has a device interface's layer 2 and 3 fields (mode, VLANs, VRF, parent,
bridge, MTU, primary MAC); IP and MAC addresses are assigned to either kind."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    NO_REVERSE,
    ManyToMany,
    OneOf,
    Ordering,
    OrganizationalModel,
    TenantModel,
    TenantScoped,
    Through,
    choice,
    long_text,
    natural_key,
    reference,
    text,
)
from models.choices import ClusterStatus, VirtualMachineStartOnBoot, VirtualMachineStatus
from models.choices_dcim import InterfaceMode
from models.naturalize import naturalize_interface

# NetBox's app label for these models (content types such as "virtualization.<model>").
APP_LABEL = "virtualization"


class ClusterType(OrganizationalModel):
    """A kind of cluster: a hypervisor platform (VMware vSphere, Proxmox)."""


class ClusterGroup(OrganizationalModel):
    """A grouping of clusters (by region, by purpose)."""


class Cluster(TenantModel):
    """A cluster of hosts that virtual machines run on, scoped to where it stands."""

    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()
    __one_of__: ClassVar[dict[str, OneOf]] = {"scope": OneOf(("Region", "SiteGroup", "Site", "Location"), related_name="clusters")}

    name: Mapped[str] = text(100, required=True)
    type_id: Mapped[uuid.UUID] = reference("ClusterType", nullable=False, related_name="clusters")
    group_id: Mapped[uuid.UUID | None] = reference("ClusterGroup", related_name="clusters")
    status: Mapped[ClusterStatus] = choice(ClusterStatus, default=ClusterStatus.active, server_default="active")
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "group_id", "name", postgresql_nulls_not_distinct=True),)


# A VM's vCPUs and memory (MB), as NetBox bounds them; a VM type's defaults take the same.
_VCPUS = {"bounds": (0.01, 9999.99)}
_MEGABYTES = {"bounds": (0, 2_147_483_647)}


class VirtualMachineType(TenantModel):
    """A kind of virtual machine (a flavour, an instance size): the platform, vCPUs and
    memory a new VM of the type gets where it names none (resolvers/virtualization.py)."""

    __ordering__ = ("name",)

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    default_platform_id: Mapped[uuid.UUID | None] = reference("Platform", related_name=NO_REVERSE)
    default_vcpus: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2), nullable=True, info={**_VCPUS})
    default_memory: Mapped[int | None] = mapped_column(nullable=True, info={**_MEGABYTES})
    """MB."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            sa.UniqueConstraint("tenant_id", "slug"),
            # NetBox's name is unique whatever its case.
            sa.Index(
                "uq_virtual_machine_type_tenant_id_name",
                "tenant_id",
                sa.func.lower(sa.text("name")),
                unique=True,
                info={"field": "name"},  # what a violation names (resolvers.writes)
            ),
        )


class VirtualMachine(TenantModel):
    """A virtual machine, on a cluster (and optionally one of its hosts) or a site."""

    __ordering__ = ("_name", "numid")  # NetBox: (name, pk)
    _name: Mapped[str | None] = natural_key()

    name: Mapped[str] = text(64, required=True)
    virtual_machine_type_id: Mapped[uuid.UUID | None] = reference(
        "VirtualMachineType", ondelete="RESTRICT", related_name="instances", counted="virtual_machine_count"
    )
    site_id: Mapped[uuid.UUID | None] = reference("Site", related_name="virtual_machines")
    cluster_id: Mapped[uuid.UUID | None] = reference("Cluster", related_name="virtual_machines")
    device_id: Mapped[uuid.UUID | None] = reference("Device", related_name="virtual_machines")
    """The host it runs on, a device of its cluster."""
    platform_id: Mapped[uuid.UUID | None] = reference("Platform", related_name="virtual_machines")
    role_id: Mapped[uuid.UUID | None] = reference("DeviceRole", related_name="virtual_machines")
    status: Mapped[VirtualMachineStatus] = choice(VirtualMachineStatus, default=VirtualMachineStatus.active, server_default="active")
    start_on_boot: Mapped[VirtualMachineStartOnBoot] = choice(VirtualMachineStartOnBoot, default=VirtualMachineStartOnBoot.off, server_default="off")
    primary_ip4_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name=NO_REVERSE, cyclic=True)
    primary_ip6_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name=NO_REVERSE, cyclic=True)
    vcpus: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2), nullable=True, info={**_VCPUS})
    memory: Mapped[int | None] = mapped_column(nullable=True, info={**_MEGABYTES})
    """MB."""
    disk: Mapped[int | None] = mapped_column(nullable=True, info={**_MEGABYTES})
    """MB."""
    serial: Mapped[str] = text(50)
    local_context_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    config_template_id: Mapped[uuid.UUID | None] = reference("ConfigTemplate", ondelete="RESTRICT", related_name="virtual_machines")
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "cluster_id", "name", postgresql_nulls_not_distinct=True),)


class VMComponent(TenantScoped):
    """Something a virtual machine has: named uniquely on it, its tenant the VM's."""

    __abstract__ = True
    __tenant_from__ = ("virtual_machine",)
    __ordering__: ClassVar[Ordering] = (Through("virtual_machine"), "_name")  # NetBox: (virtual_machine, name)

    name: Mapped[str] = text(64, required=True)
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("virtual_machine_id", "name"),)


class VMInterface(VMComponent):
    """A virtual machine's network interface, with a device interface's L2/L3 fields."""

    __many__: ClassVar[dict[str, ManyToMany]] = {"tagged_vlans": ManyToMany("VLAN", related_name="vminterfaces_as_tagged")}

    virtual_machine_id: Mapped[uuid.UUID] = reference(
        "VirtualMachine", nullable=False, ondelete="CASCADE", related_name="interfaces", counted="interface_count"
    )
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    parent_id: Mapped[uuid.UUID | None] = reference("VMInterface", related_name="child_interfaces")
    bridge_id: Mapped[uuid.UUID | None] = reference("VMInterface", related_name="bridge_interfaces")
    mtu: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 65536)})
    mode: Mapped[InterfaceMode | None] = choice(InterfaceMode, nullable=True)
    """802.1Q: access, tagged or tagged-all; 802.1ad: q-in-q."""
    untagged_vlan_id: Mapped[uuid.UUID | None] = reference("VLAN", related_name="vminterfaces_as_untagged")
    qinq_svlan_id: Mapped[uuid.UUID | None] = reference("VLAN", related_name="vminterfaces_svlan")
    """Q-in-Q mode: the service VLAN whose outer tag the interface adds (NetBox 4.2+)."""
    vrf_id: Mapped[uuid.UUID | None] = reference("VRF", related_name="vminterfaces")
    primary_mac_address_id: Mapped[uuid.UUID | None] = reference("MACAddress", related_name=NO_REVERSE, cyclic=True)
    _name: Mapped[str | None] = natural_key(keyer=naturalize_interface)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (*super().__extra_args__(), sa.UniqueConstraint("primary_mac_address_id"))


class VirtualDisk(VMComponent):
    """A virtual machine's disk."""

    virtual_machine_id: Mapped[uuid.UUID] = reference(
        "VirtualMachine", nullable=False, ondelete="CASCADE", related_name="virtualdisks", counted="virtual_disk_count"
    )
    size: Mapped[int] = mapped_column(info={"bounds": (0, 2_147_483_647)})
    """MB."""
    _name: Mapped[str | None] = natural_key()
