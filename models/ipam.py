"""IPAM: RIRs, aggregates, ASNs, route targets, VRFs, roles, VLANs, prefixes, ranges, IPs.

The prefix tree is never stored: parent, children and depth are containment queries
over the GiST-indexed ``prefix`` column (see models/prefix_tree.py).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    ManyToMany,
    NamedModel,
    OneOf,
    TenantModel,
    TenantScoped,
    Through,
    address_column,
    choice,
    cidr_column,
    inet_column,
    long_text,
    natural_key,
    reference,
    text,
)
from models.choices import (
    FHRPGroupAuthType,
    FHRPGroupProtocol,
    IPAddressRole,
    IPAddressStatus,
    IPRangeStatus,
    PrefixStatus,
    ServiceProtocol,
    VLANQinQRole,
    VLANStatus,
)
from models.display import address_range, choice_label, col, given, parenthesised, port_ranges

# NetBox's app label for these models (content types such as "ipam.<model>").
APP_LABEL = "ipam"


def _unique_nulls_not_distinct(*columns: str) -> sa.UniqueConstraint:
    # VRF NULL is the Global VRF: two rows with vrf NULL must collide too.
    return sa.UniqueConstraint(*columns, postgresql_nulls_not_distinct=True)


def _gist(table: str, column: str) -> sa.Index:
    return sa.Index(f"ix_{table}_{column}_gist", column, postgresql_using="gist", postgresql_ops={column: "inet_ops"})


class RIR(TenantModel):
    __ordering__ = ("_name",)
    name: Mapped[str] = text(100, required=True)
    _name: Mapped[str | None] = natural_key()
    slug: Mapped[str] = text(100, required=True)
    is_private: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "slug"),)


class Aggregate(TenantModel):
    __display__ = col("prefix")
    __ordering__ = ("prefix", "numid")
    prefix: Mapped[str] = cidr_column()
    rir_id: Mapped[uuid.UUID] = reference("RIR", nullable=False, related_name="aggregates")
    date_added: Mapped[date | None] = mapped_column(sa.Date())
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "prefix"),)


class ASN(TenantModel):
    __display__ = "'AS' || CASE WHEN {s}.asn >= 65536 THEN {s}.asn || ' (' || {s}.asn / 65536 || '.' || mod({s}.asn, 65536) || ')' ELSE ({s}.asn)::text END"
    __ordering__ = ("asn",)
    asn: Mapped[int] = mapped_column(sa.BigInteger(), info={"bounds": (1, 4294967295)})
    rir_id: Mapped[uuid.UUID | None] = reference("RIR", related_name="asns")
    role_id: Mapped[uuid.UUID | None] = reference("Role", related_name="asns")
    """The ASN's primary function (NetBox 4.6)."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            sa.UniqueConstraint("tenant_id", "asn"),
            sa.CheckConstraint("asn BETWEEN 1 AND 4294967295", name="asn_range"),
        )


class RouteTarget(TenantModel):
    __ordering__ = ("name",)
    name: Mapped[str] = text(21, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class VRF(TenantModel):
    __display__ = parenthesised(col("name"), col("rd"))
    __ordering__ = ("name", "rd", "numid")
    __many__: ClassVar[dict[str, ManyToMany]] = {
        "import_targets": ManyToMany("RouteTarget", related_name="importing_vrfs"),
        "export_targets": ManyToMany("RouteTarget", related_name="exporting_vrfs"),
    }

    name: Mapped[str] = text(100, required=True)
    rd: Mapped[str | None] = text(21, nullable=True)
    enforce_unique: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class Role(TenantModel):
    """Functional role of prefixes and VLANs (NetBox's ipam.Role)."""

    __ordering__ = ("weight", "name")

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    weight: Mapped[int] = mapped_column(default=1000, server_default="1000")
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "slug"),)


class VLANGroup(TenantModel):
    """VLANs that share an id space, where they are used (NetBox 4.x's ``scope``). As in
    NetBox, a name and a slug are unique within one scope object; unscoped groups are not
    constrained."""

    __ordering__ = ("name", "numid")

    __one_of__: ClassVar[dict[str, OneOf]] = {
        "scope": OneOf(
            ("Region", "SiteGroup", "Site", "Location", "Rack", "ClusterGroup", "Cluster"),
            related_name="vlan_groups",
            unique_with=(("name",), ("slug",)),
        )
    }

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()


class VLAN(TenantModel):
    __display__ = "{s}.name || ' (' || {s}.vid || ')'"
    __ordering__ = (Through("site"), Through("group"), "vid", "numid")  # NetBox: (site, group, vid, pk)
    vid: Mapped[int] = mapped_column(sa.SmallInteger(), info={"bounds": (1, 4094)})
    name: Mapped[str] = text(64, required=True)
    site_id: Mapped[uuid.UUID | None] = reference("Site", related_name="vlans")
    group_id: Mapped[uuid.UUID | None] = reference("VLANGroup", related_name="vlans")
    status: Mapped[VLANStatus] = choice(VLANStatus, default=VLANStatus.active, server_default="active")
    role_id: Mapped[uuid.UUID | None] = reference("Role", related_name="vlans")
    qinq_role: Mapped[VLANQinQRole | None] = choice(VLANQinQRole, nullable=True)
    """Q-in-Q (802.1ad): a service VLAN (outer tag) or a customer VLAN (inner tag)."""
    # NetBox's PROTECT: a service VLAN with customer VLANs inside stays.
    qinq_svlan_id: Mapped[uuid.UUID | None] = reference("VLAN", ondelete="RESTRICT", related_name="qinq_cvlans")
    """The service VLAN a customer VLAN rides in (resolvers/ipam.py keeps the roles straight)."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # NetBox's rule: a VID, and a name, are unique inside a group; ungrouped VLANs are
        # not constrained (NetBox's demo has VLAN 100 at 13 sites, and nothing stops two at
        # one site), so every export NetBox accepted fits here.
        grouped = sa.text("group_id IS NOT NULL")
        inside = sa.text("qinq_svlan_id IS NOT NULL")
        return (
            sa.Index("uq_vlan_group_vid", "tenant_id", "group_id", "vid", unique=True, postgresql_where=grouped),
            sa.Index("uq_vlan_group_name", "tenant_id", "group_id", "name", unique=True, postgresql_where=grouped),
            # The same inside one service VLAN: its customer VLANs differ in VID and name.
            sa.Index("uq_vlan_qinq_svlan_vid", "tenant_id", "qinq_svlan_id", "vid", unique=True, postgresql_where=inside),
            sa.Index("uq_vlan_qinq_svlan_name", "tenant_id", "qinq_svlan_id", "name", unique=True, postgresql_where=inside),
            sa.CheckConstraint("vid BETWEEN 1 AND 4094", name="vid_range"),
        )


class Prefix(TenantModel):
    __display__ = col("prefix")
    # NetBox: (F("vrf") ascending, NULLs first: the VRF's id, not its own order; prefix; pk).
    __ordering__ = (Through("vrf", "numid", nulls_first=True), "prefix", "numid")
    # Where the prefix is used, as NetBox 4.2+ has it; `site` stays for gateway policies.
    __one_of__: ClassVar[dict[str, OneOf]] = {"scope": OneOf(("Region", "SiteGroup", "Site", "Location"))}

    prefix: Mapped[str] = cidr_column()
    vrf_id: Mapped[uuid.UUID | None] = reference("VRF", ondelete="RESTRICT", related_name="prefixes")
    site_id: Mapped[uuid.UUID | None] = reference("Site", related_name="prefixes")
    vlan_id: Mapped[uuid.UUID | None] = reference("VLAN", related_name="prefixes")
    status: Mapped[PrefixStatus] = choice(PrefixStatus, default=PrefixStatus.active, server_default="active")
    role_id: Mapped[uuid.UUID | None] = reference("Role", related_name="prefixes")
    is_pool: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    mark_utilized: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    gateway: Mapped[str | None] = inet_column(nullable=True)
    """The gateway's host address inside this prefix."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (_unique_nulls_not_distinct("tenant_id", "vrf_id", "prefix"), _gist("prefix", "prefix"))


class IPRange(TenantModel):
    __display__ = address_range("start_address", "end_address")
    __ordering__ = (Through("vrf", "numid", nulls_first=True), "start_address", "numid")  # as prefixes, by start
    start_address: Mapped[str] = address_column()
    end_address: Mapped[str] = address_column()
    vrf_id: Mapped[uuid.UUID | None] = reference("VRF", ondelete="RESTRICT", related_name="ip_ranges")
    status: Mapped[IPRangeStatus] = choice(IPRangeStatus, default=IPRangeStatus.active, server_default="active")
    role_id: Mapped[uuid.UUID | None] = reference("Role", related_name="ip_ranges")
    mark_populated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Every address of the range counts as taken: none is offered as available in its
    prefix, and no IP address may be created inside it (NetBox 4.3+)."""
    mark_utilized: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """The range counts as fully used: its utilization is 100, and its whole span counts
    towards its prefix's (NetBox 4.3+)."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            _unique_nulls_not_distinct("tenant_id", "vrf_id", "start_address", "end_address"),
            sa.CheckConstraint("family(start_address) = family(end_address) AND start_address <= end_address", name="range_order"),
        )


class IPAddress(TenantModel):
    __display__ = col("address")
    __ordering__ = ("address", "numid")
    # What the address is configured on (VM interfaces and FHRP groups join later).
    __one_of__: ClassVar[dict[str, OneOf]] = {
        "assigned_object": OneOf(("Interface", "VMInterface", "FHRPGroup"), ondelete="CASCADE", related_name="ip_addresses", union="IPAddressAssignmentType")
    }

    address: Mapped[str] = address_column()
    """Host address with the mask of its subnet, as in NetBox (``10.0.0.5/24``)."""
    vrf_id: Mapped[uuid.UUID | None] = reference("VRF", ondelete="RESTRICT", related_name="ip_addresses")
    status: Mapped[IPAddressStatus] = choice(IPAddressStatus, default=IPAddressStatus.active, server_default="active")
    role: Mapped[IPAddressRole | None] = choice(IPAddressRole, nullable=True)
    dns_name: Mapped[str] = text(255)
    nat_inside_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name="nat_outside")
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # One host per (tenant, VRF) whatever mask it is written with: 10.0.0.1/24 and
        # 10.0.0.1/32 are the same address.
        return (
            sa.Index(
                "uq_ip_address_tenant_id_vrf_id_host",
                "tenant_id",
                "vrf_id",
                sa.func.host(sa.text("address")),
                unique=True,
                postgresql_nulls_not_distinct=True,
                info={"field": "address"},  # what a violation names (resolvers.writes)
            ),
            _gist("ip_address", "address"),
        )


# A service listens on ports 1 to 65535 (NetBox's SERVICE_PORT_MIN / _MAX).
_PORTS = {"bounds": (1, 65535), "required": True}


SERVICE_PROTOCOL_LABELS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
FHRP_PROTOCOL_LABELS = {"vrrp2": "VRRPv2", "vrrp3": "VRRPv3", "hsrp": "HSRP", "glbp": "GLBP", "carp": "CARP", "clusterxl": "ClusterXL", "other": "Other"}
# NetBox: name (protocol/ports).
SERVICE_DISPLAY = f"{{s}}.name || ' (' || {choice_label('protocol', SERVICE_PROTOCOL_LABELS)} || '/' || coalesce({port_ranges('ports')}, '') || ')'"


class ServiceTemplate(NamedModel):
    """A named service definition (protocol and ports) to create services from."""

    __display__ = SERVICE_DISPLAY

    protocol: Mapped[ServiceProtocol] = choice(ServiceProtocol)
    ports: Mapped[list[int]] = mapped_column(ARRAY(sa.Integer()), info=_PORTS)


class FHRPGroup(TenantModel):
    """A first-hop redundancy group (VRRP, HSRP, …): its virtual addresses are its
    ``ip_addresses``, the interfaces that take part are its assignments."""

    # NetBox: [name ]protocol: group id, then its first virtual address if it has one.
    __display__ = (
        f"coalesce({given(col('name'))} || ' ', '') || {choice_label('protocol', FHRP_PROTOCOL_LABELS)} || ': ' || {{s}}.group_id"
        f" || coalesce(' (' || (SELECT (a.address)::text FROM {IPAddress.__tablename__} a"
        " WHERE a.assigned_object_fhrp_group_id = {s}.id ORDER BY a.address, a.numid LIMIT 1) || ')', '')"
    )
    __ordering__ = ("protocol", "group_id", "numid")  # NetBox: (protocol, group_id, pk)
    group_id: Mapped[int] = mapped_column(sa.SmallInteger(), info={"bounds": (0, 32767)})
    name: Mapped[str] = text(100)
    protocol: Mapped[FHRPGroupProtocol] = choice(FHRPGroupProtocol)
    auth_type: Mapped[FHRPGroupAuthType | None] = choice(FHRPGroupAuthType, nullable=True)
    auth_key: Mapped[str] = text(255)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()


class FHRPGroupAssignment(TenantScoped):
    """An interface taking part in an FHRP group, with its priority."""

    __display__ = "{display:interface} || ': ' || {display:group} || ' (' || {s}.priority || ')'"

    __tenant_from__ = ("group",)
    __tagged__ = False
    __ordering__ = ("group_id", "priority")
    __one_of__: ClassVar[dict[str, OneOf]] = {
        "interface": OneOf(
            ("Interface", "VMInterface"), nullable=False, ondelete="CASCADE", related_name="fhrp_group_assignments", union="FHRPGroupInterfaceType"
        )
    }

    group_id: Mapped[uuid.UUID] = reference("FHRPGroup", nullable=False, ondelete="CASCADE", related_name="fhrpgroupassignment_set")
    priority: Mapped[int] = mapped_column(sa.SmallInteger(), info={"bounds": (0, 255)})


class Service(TenantModel):
    """A service (protocol and ports) on a device, a virtual machine or an FHRP group,
    listening on some of its addresses."""

    __display__ = SERVICE_DISPLAY

    __ordering__ = ("protocol", "name")
    __one_of__: ClassVar[dict[str, OneOf]] = {
        "parent": OneOf(("Device", "VirtualMachine", "FHRPGroup"), nullable=False, ondelete="CASCADE", related_name="services")
    }
    __many__: ClassVar[dict[str, ManyToMany]] = {"ipaddresses": ManyToMany("IPAddress", related_name="services")}

    name: Mapped[str] = text(100, required=True)
    protocol: Mapped[ServiceProtocol] = choice(ServiceProtocol)
    ports: Mapped[list[int]] = mapped_column(ARRAY(sa.Integer()), info=_PORTS)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()
