"""Circuits: providers with their accounts and networks, circuit types, circuits and their
A and Z terminations, circuit groups, and virtual circuits across a provider network with
their terminations on virtual interfaces (NetBox 4.6 ``circuits/models``).

A termination is a cable endpoint like a port: a cable joins it to a patch panel or a
device, and a trace through it carries on from the circuit's other end
(resolvers/cables.py). Where it lands (a site, location, region, site group or provider
network) is one reference of several kinds, as NetBox's ``termination`` is. A circuit's
``termination_a`` and ``termination_z`` are kept from its terminations by rules."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import (
    NO_REVERSE,
    ManyToMany,
    OneOf,
    OrganizationalModel,
    TenantModel,
    TenantScoped,
    Through,
    choice,
    color,
    long_text,
    natural_key,
    reference,
    text,
)
from models.choices import CircuitPriority, CircuitStatus, CircuitTerminationSide, DistanceUnit, VirtualCircuitTerminationRole
from models.dcim.components import Cabled
from models.display import PRIORITY_LABELS, choice_label, col, parenthesised

# NetBox's app label for these models (content types such as "circuits.<model>").
APP_LABEL = "circuits"

# A speed in Kbps, as NetBox stores commit rates and port speeds.
_KBPS = {"bounds": (0, 2_147_483_647)}


class Provider(OrganizationalModel):
    """A carrier or other provider of circuits."""

    __ordering__ = ("_name",)
    _name: Mapped[str | None] = natural_key()
    __many__: ClassVar[dict[str, ManyToMany]] = {"asns": ManyToMany("ASN", related_name="providers")}


class ProviderAccount(TenantModel):
    """An account with a provider, under which circuits are ordered."""

    __display__ = parenthesised(col("account"), col("name"))
    __ordering__ = (Through("provider"), "account")  # NetBox: (provider, account)
    provider_id: Mapped[uuid.UUID] = reference("Provider", nullable=False, related_name="accounts")
    account: Mapped[str] = text(100, required=True)
    name: Mapped[str] = text(100)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "provider_id", "account"),)


class ProviderNetwork(TenantModel):
    """A provider's network a circuit can end on (an MPLS cloud, an internet exchange)."""

    __ordering__ = (Through("provider"), "_name")  # NetBox: (provider, name)
    # Where a cable path ends beyond its last cable (NetBox's CablePath): a circuit whose
    # other end lands here reaches this network (resolvers.cables.connected).
    __path_destination__: ClassVar[bool] = True
    _name: Mapped[str | None] = natural_key()
    provider_id: Mapped[uuid.UUID] = reference("Provider", nullable=False, related_name="networks")
    name: Mapped[str] = text(100, required=True)
    service_id: Mapped[str] = text(100)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "provider_id", "name"),)


class CircuitType(OrganizationalModel):
    """What kind of service a circuit is (internet transit, MPLS, dark fibre)."""

    color: Mapped[str] = color(blank=True)


class Circuit(TenantModel):
    """A communications circuit from a provider, identified by the provider's circuit ID."""

    __display__ = col("cid")
    __ordering__ = (Through("provider"), Through("provider_account"), "cid")  # NetBox: (provider, provider_account, cid)

    cid: Mapped[str] = text(100, required=True)
    """The provider's circuit ID."""
    provider_id: Mapped[uuid.UUID] = reference("Provider", nullable=False, related_name="circuits")
    provider_account_id: Mapped[uuid.UUID | None] = reference("ProviderAccount", related_name="circuits")
    type_id: Mapped[uuid.UUID] = reference("CircuitType", nullable=False, related_name="circuits")
    status: Mapped[CircuitStatus] = choice(CircuitStatus, default=CircuitStatus.active, server_default="active")
    install_date: Mapped[date | None] = mapped_column(sa.Date(), nullable=True)
    termination_date: Mapped[date | None] = mapped_column(sa.Date(), nullable=True)
    commit_rate: Mapped[int | None] = mapped_column(nullable=True, info=_KBPS)
    """Committed rate in Kbps."""
    distance: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2), nullable=True, info={"bounds": (0, 999999)})
    distance_unit: Mapped[DistanceUnit | None] = choice(DistanceUnit, nullable=True)
    termination_a_id: Mapped[uuid.UUID | None] = reference("CircuitTermination", related_name=NO_REVERSE, derived=True, cyclic=True)
    """The A-side termination (kept from the circuit's terminations)."""
    termination_z_id: Mapped[uuid.UUID | None] = reference("CircuitTermination", related_name=NO_REVERSE, derived=True, cyclic=True)
    """The Z-side termination (kept from the circuit's terminations)."""
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "provider_id", "cid"),)


class CircuitTermination(Cabled, TenantScoped):
    """One end (A or Z) of a circuit: where it lands, and the cable that meets it there."""

    __display__ = "{display:circuit} || ': Termination ' || {s}.term_side"

    __tenant_from__ = ("circuit",)
    __ordering__ = (Through("circuit"), "term_side")  # NetBox: (circuit, term_side)
    # A path arriving at one end of a circuit carries on from its other end: the other
    # termination with the same circuit (resolvers/cables.py).
    __path_peer__: ClassVar[str] = "circuit_id"
    __one_of__: ClassVar[dict[str, OneOf]] = {
        "termination": OneOf(("Region", "SiteGroup", "Site", "Location", "ProviderNetwork"), related_name="circuit_terminations")
    }

    circuit_id: Mapped[uuid.UUID] = reference("Circuit", nullable=False, ondelete="CASCADE", related_name="terminations")
    term_side: Mapped[CircuitTerminationSide] = choice(CircuitTerminationSide)
    port_speed: Mapped[int | None] = mapped_column(nullable=True, info=_KBPS)
    """Physical port speed in Kbps."""
    upstream_speed: Mapped[int | None] = mapped_column(nullable=True, info=_KBPS)
    """Upstream speed in Kbps, where it differs from the port speed."""
    xconnect_id: Mapped[str] = text(50)
    """The cross-connect's ID."""
    pp_info: Mapped[str] = text(100)
    """Patch panel and ports."""
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("circuit_id", "term_side"),)


class CircuitGroup(OrganizationalModel):
    """An administrative grouping of circuits and virtual circuits (a customer's, a ring's)."""


class CircuitGroupAssignment(TenantScoped):
    """A circuit or virtual circuit in a circuit group, with its priority there."""

    __display__ = parenthesised("{display:group}", choice_label("priority", PRIORITY_LABELS))

    __tenant_from__ = ("group",)
    # NetBox: (group, member_type, member_id, priority, pk): circuits (the older content
    # type) before virtual circuits, each by its id (a numid here).
    __ordering__ = (Through("group"), Through("member_circuit", "numid"), Through("member_virtual_circuit", "numid"), "priority")
    __one_of__: ClassVar[dict[str, OneOf]] = {
        # A member is in a group once (NetBox's unique member and group), whichever kind it is.
        "member": OneOf(("Circuit", "VirtualCircuit"), nullable=False, ondelete="CASCADE", related_name="group_assignments", unique_with=(("group_id",),))
    }

    group_id: Mapped[uuid.UUID] = reference("CircuitGroup", nullable=False, ondelete="CASCADE", related_name="assignments")
    priority: Mapped[CircuitPriority | None] = choice(CircuitPriority, nullable=True)


class VirtualCircuitType(OrganizationalModel):
    """What kind of service a virtual circuit is (an EVPL, a cloud on-ramp)."""

    color: Mapped[str] = color(blank=True)


class VirtualCircuit(TenantModel):
    """A virtual connection between two or more endpoints across a provider's network,
    carried by one or more physical circuits."""

    __display__ = col("cid")
    # NetBox: (provider_network, provider_account, cid).
    __ordering__ = (Through("provider_network"), Through("provider_account"), "cid")

    cid: Mapped[str] = text(100, required=True)
    """The provider's circuit ID."""
    provider_network_id: Mapped[uuid.UUID] = reference("ProviderNetwork", nullable=False, related_name="virtual_circuits")
    provider_account_id: Mapped[uuid.UUID | None] = reference("ProviderAccount", ondelete="RESTRICT", related_name="virtual_circuits")
    type_id: Mapped[uuid.UUID] = reference("VirtualCircuitType", nullable=False, related_name="virtual_circuits")
    status: Mapped[CircuitStatus] = choice(CircuitStatus, default=CircuitStatus.active, server_default="active")
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "provider_network_id", "cid"), sa.UniqueConstraint("tenant_id", "provider_account_id", "cid"))


class VirtualCircuitTermination(TenantScoped):
    """Where a virtual circuit ends: a virtual interface of a device (NetBox allows no
    other kind), as a peer, a hub or a spoke."""

    __display__ = f"{{display:virtual_circuit}} || ': ' || {choice_label('role', {'peer': 'Peer', 'hub': 'Hub', 'spoke': 'Spoke'})} || ' termination'"

    __tenant_from__ = ("virtual_circuit",)
    __ordering__ = (Through("virtual_circuit"), "role")  # NetBox: (virtual_circuit, role, pk)

    virtual_circuit_id: Mapped[uuid.UUID] = reference("VirtualCircuit", nullable=False, ondelete="CASCADE", related_name="terminations")
    role: Mapped[VirtualCircuitTerminationRole] = choice(VirtualCircuitTerminationRole, default=VirtualCircuitTerminationRole.peer, server_default="peer")
    interface_id: Mapped[uuid.UUID] = reference("Interface", nullable=False, ondelete="CASCADE", related_name="virtual_circuit_termination")
    description: Mapped[str] = text(200)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        # An interface ends one virtual circuit at most (NetBox's one-to-one).
        return (sa.UniqueConstraint("interface_id"),)
