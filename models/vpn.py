"""VPN: tunnel groups, tunnels and their terminations on device or VM interfaces, IKE and
IPSec proposals, policies and profiles (an IKE policy's pre-shared key is a secret:
sealed at rest, write-only), L2VPNs and what they carry (NetBox 4.6 ``vpn/models``)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    ManyToMany,
    NamedModel,
    OneOf,
    OrganizationalModel,
    TenantModel,
    TenantScoped,
    Through,
    choice,
    long_text,
    natural_key,
    reference,
    secret,
    text,
)
from models.choices import (
    DH_GROUPS,
    IKE_VERSIONS,
    AuthenticationAlgorithm,
    AuthenticationMethod,
    EncryptionAlgorithm,
    IKEMode,
    IPSecMode,
    L2VPNStatus,
    L2VPNType,
    TunnelEncapsulation,
    TunnelStatus,
    TunnelTerminationRole,
)
from models.display import choice_label, col, parenthesised

# NetBox's app label for these models (content types such as "vpn.<model>").
APP_LABEL = "vpn"


class TunnelGroup(OrganizationalModel):
    """A grouping of tunnels (a hub and its spokes, a customer's mesh)."""


class Tunnel(TenantModel):
    """An overlay tunnel between interfaces of devices or virtual machines."""

    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()

    name: Mapped[str] = text(100, required=True)
    status: Mapped[TunnelStatus] = choice(TunnelStatus, default=TunnelStatus.active, server_default="active")
    group_id: Mapped[uuid.UUID | None] = reference("TunnelGroup", related_name="tunnels")
    encapsulation: Mapped[TunnelEncapsulation] = choice(TunnelEncapsulation)
    ipsec_profile_id: Mapped[uuid.UUID | None] = reference("IPSecProfile", related_name="tunnels")
    tunnel_id: Mapped[int | None] = mapped_column(sa.BigInteger(), nullable=True, info={"bounds": (0, 2**63 - 1)})
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)


class TunnelTermination(TenantScoped):
    """One end of a tunnel: its role, the interface it ends on, the address outside."""

    __display__ = f"{{display:tunnel}} || ': Termination ' || {choice_label('role', {'peer': 'Peer', 'hub': 'Hub', 'spoke': 'Spoke'})}"

    __tenant_from__ = ("tunnel",)
    __ordering__ = (Through("tunnel"), "role")  # NetBox: (tunnel, role, pk)
    __one_of__: ClassVar[dict[str, OneOf]] = {
        # An interface ends one tunnel at most.
        "termination": OneOf(("Interface", "VMInterface"), ondelete="CASCADE", related_name="tunnel_termination", unique=True)
    }

    tunnel_id: Mapped[uuid.UUID] = reference("Tunnel", nullable=False, ondelete="CASCADE", related_name="terminations")
    role: Mapped[TunnelTerminationRole] = choice(TunnelTerminationRole, default=TunnelTerminationRole.peer, server_default="peer")
    outside_ip_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name="tunnel_terminations")


class L2VPN(TenantModel):
    """A layer 2 VPN (VPLS, VXLAN, EVPN, …) and the route targets it imports and exports."""

    __display__ = parenthesised(col("name"), col("identifier"))

    # NetBox's names, not l2_vpn: the GraphQL fields and the type permissions name.
    __graphql_name__ = "l2vpn"
    __tablename__ = "l2vpn"
    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()
    __many__: ClassVar[dict[str, ManyToMany]] = {
        "import_targets": ManyToMany("RouteTarget", related_name="importing_l2vpns"),
        "export_targets": ManyToMany("RouteTarget", related_name="exporting_l2vpns"),
    }

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    type: Mapped[L2VPNType] = choice(L2VPNType)
    status: Mapped[L2VPNStatus] = choice(L2VPNStatus, default=L2VPNStatus.active, server_default="active")
    identifier: Mapped[int | None] = mapped_column(sa.BigInteger(), nullable=True, info={"bounds": (-(2**63), 2**63 - 1)})
    """The VPN's number: a VNI, a VC ID."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"), sa.UniqueConstraint("tenant_id", "slug"))


class L2VPNTermination(TenantScoped):
    """A VLAN or an interface an L2VPN carries; each is in one L2VPN at most."""

    __display__ = "{display:assigned_object} || ' <> ' || {display:l2vpn}"

    __graphql_name__ = "l2vpn_termination"
    __tablename__ = "l2vpn_termination"
    __tenant_from__ = ("l2vpn",)
    __ordering__ = (Through("l2vpn"),)  # NetBox: (l2vpn,)
    __one_of__: ClassVar[dict[str, OneOf]] = {
        "assigned_object": OneOf(
            ("VLAN", "Interface", "VMInterface"),
            nullable=False,
            ondelete="CASCADE",
            related_name="l2vpn_termination",
            unique=True,
            union="L2VPNAssignmentType",
        )
    }

    l2vpn_id: Mapped[uuid.UUID] = reference("L2VPN", nullable=False, ondelete="CASCADE", related_name="terminations")


class IKEProposal(NamedModel):
    """An IKE (phase 1) proposal: how the peers authenticate and encrypt."""

    authentication_method: Mapped[AuthenticationMethod] = choice(AuthenticationMethod)
    encryption_algorithm: Mapped[EncryptionAlgorithm] = choice(EncryptionAlgorithm)
    authentication_algorithm: Mapped[AuthenticationAlgorithm | None] = choice(AuthenticationAlgorithm, nullable=True)
    group: Mapped[int] = mapped_column(sa.SmallInteger(), info={"choices": DH_GROUPS})
    """The Diffie-Hellman group."""
    sa_lifetime: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (0, 2_147_483_647)})
    """Seconds."""


class IKEPolicy(NamedModel):
    """An IKE policy: its version, mode, proposals and pre-shared key (a secret)."""

    __many__: ClassVar[dict[str, ManyToMany]] = {"proposals": ManyToMany("IKEProposal", related_name="ike_policies")}
    version: Mapped[int] = mapped_column(sa.SmallInteger(), default=2, server_default="2", info={"choices": IKE_VERSIONS})
    mode: Mapped[IKEMode | None] = choice(IKEMode, nullable=True)
    preshared_key: Mapped[str | None] = secret(1000)


class IPSecProposal(NamedModel):
    """An IPSec (phase 2) proposal."""

    __graphql_name__ = "ipsec_proposal"  # NetBox's, not ip_sec_…
    __tablename__ = "ipsec_proposal"

    encryption_algorithm: Mapped[EncryptionAlgorithm | None] = choice(EncryptionAlgorithm, nullable=True)
    authentication_algorithm: Mapped[AuthenticationAlgorithm | None] = choice(AuthenticationAlgorithm, nullable=True)
    sa_lifetime_seconds: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (0, 2_147_483_647)})
    sa_lifetime_data: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (0, 2_147_483_647)})
    """Kilobytes."""


class IPSecPolicy(NamedModel):
    """An IPSec policy: its proposals and perfect-forward-secrecy group."""

    __graphql_name__ = "ipsec_policy"  # NetBox's, not ip_sec_…
    __tablename__ = "ipsec_policy"

    __many__: ClassVar[dict[str, ManyToMany]] = {"proposals": ManyToMany("IPSecProposal", related_name="ipsec_policies")}
    pfs_group: Mapped[int | None] = mapped_column(sa.SmallInteger(), nullable=True, info={"choices": DH_GROUPS})


class IPSecProfile(NamedModel):
    """An IKE policy and an IPSec policy together, as a tunnel uses them."""

    __graphql_name__ = "ipsec_profile"  # NetBox's, not ip_sec_…
    __tablename__ = "ipsec_profile"

    mode: Mapped[IPSecMode] = choice(IPSecMode)
    ike_policy_id: Mapped[uuid.UUID] = reference("IKEPolicy", nullable=False, related_name="ipsec_profiles")
    ipsec_policy_id: Mapped[uuid.UUID] = reference("IPSecPolicy", nullable=False, related_name="ipsec_profiles")
