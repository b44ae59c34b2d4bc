"""SNMP profiles: how to reach devices over SNMP (version, credentials, transport), named
once per tenant and bound to devices, device roles or device types, with one tenant-wide
default (resolvers/discovery.py resolves which one applies to a device).

Communities and v3 keys are secrets (``models.base.secret``): sealed at rest, write-only
through the API, never in the change log, events, exports or custom links. Only a worker
opens them (``resolvers.discovery.credentials_of``). NetBox has no such model: nothing of a
NetBox export lands here."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NamedModel, TenantModel, choice, inet_column, long_text, reference, secret, text
from models.choices import prefixed

APP_LABEL = "discovery"


@prefixed("")
class SnmpVersion(enum.StrEnum):
    v1 = "v1"
    v2c = "v2c"
    v3 = "v3"


# The values are the names snmp/ (net-snmp) uses (snmp.AuthProtocol, snmp.PrivProtocol);
# declared again here because models import nothing above them (tests/test_snmp_profiles.py
# checks the two agree).
@prefixed("")
class SnmpAuthProtocol(enum.StrEnum):
    md5 = "MD5"
    sha = "SHA"
    sha224 = "SHA-224"
    sha256 = "SHA-256"
    sha384 = "SHA-384"
    sha512 = "SHA-512"


@prefixed("")
class SnmpPrivProtocol(enum.StrEnum):
    des = "DES"
    aes = "AES"
    aes192 = "AES-192"
    aes256 = "AES-256"


class SnmpProfile(NamedModel):
    """How to reach devices over SNMP: the version and its credentials, and the transport
    settings of every request. Bound to devices, device roles or device types (the most
    specific binding wins), else the tenant's default profile applies."""

    version: Mapped[SnmpVersion] = choice(SnmpVersion, default=SnmpVersion.v2c, server_default="v2c")
    community: Mapped[str | None] = secret(255)
    """v1 and v2c: the community string (write-only)."""
    username: Mapped[str] = text(32)
    """v3: the USM user name (SNMP-FRAMEWORK-MIB's SnmpAdminString, at most 32 characters)."""
    auth_protocol: Mapped[SnmpAuthProtocol | None] = choice(SnmpAuthProtocol, nullable=True)
    """v3: none for noAuthNoPriv."""
    auth_key: Mapped[str | None] = secret(255)
    """v3: the authentication passphrase (write-only)."""
    priv_protocol: Mapped[SnmpPrivProtocol | None] = choice(SnmpPrivProtocol, nullable=True)
    """v3: none for no privacy; privacy needs authentication."""
    priv_key: Mapped[str | None] = secret(255)
    """v3: the privacy passphrase (write-only)."""
    context: Mapped[str] = text(32)
    """v3: the context name (empty: the default context)."""
    port: Mapped[int] = mapped_column(default=161, server_default="161", info={"bounds": (1, 65535)})
    timeout: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=Decimal("2.00"), server_default="2.00", info={"bounds": (0, 60)})
    """Seconds to wait for each answer (more than 0)."""
    retries: Mapped[int] = mapped_column(default=1, server_default="1", info={"bounds": (0, 10)})
    """Resends of an unanswered request: one request may take timeout × (retries + 1)."""
    max_repetitions: Mapped[int] = mapped_column(default=25, server_default="25", info={"bounds": (1, 500)})
    """Rows asked per GETBULK (v2c and v3); lower it for agents with small buffers."""
    is_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """The tenant's default: used for devices with no binding (at most one per tenant)."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            *super().__extra_args__(),
            sa.Index(
                "uq_snmp_profile_tenant_id_is_default",
                "tenant_id",
                unique=True,
                postgresql_where=sa.text("is_default"),
                info={"field": "is_default"},  # what a violation names (resolvers.writes)
            ),
        )


@prefixed("")
class DiscoveryCandidateStatus(enum.StrEnum):
    new = "new"
    """No device of the tenant is at the address."""
    known = "known"
    """A device of the tenant is already at the address (``existing_device``)."""
    adopted = "adopted"
    """Made a device by ``discovery_candidate_adopt``."""


class DiscoveryCandidate(TenantModel):
    """An address a sweep found answering SNMP (jobs/sweep.py): what it says it is, the
    device type declaring its sysObjectID, and the device already there, if any. One row
    per address and tenant: a later sweep updates it. Written by sweeps, made devices by
    ``discovery_candidate_adopt``; otherwise read-only."""

    __read_only__ = True
    __tagged__ = False
    __ordering__ = ("address",)
    __display__ = "coalesce(nullif({s}.sys_name, ''), host({s}.address))"

    job_id: Mapped[uuid.UUID | None] = reference("Job", ondelete="SET NULL", related_name="discovery_candidates")
    """The sweep that last found it."""
    snmp_profile_id: Mapped[uuid.UUID | None] = reference("SnmpProfile", ondelete="SET NULL", related_name="discovery_candidates")
    """The profile it answered: an adopted device is bound to it."""
    address: Mapped[str] = inet_column()
    """The host address that answered."""
    sys_name: Mapped[str] = text(255)
    sys_description: Mapped[str] = long_text()
    sys_object_id: Mapped[str] = text(255)
    """sysObjectID, dotted."""
    vendor: Mapped[str] = text(100)
    platform: Mapped[str] = text(100)
    """The platform recognised from what it says (``eos``, ``junos``)."""
    device_type_id: Mapped[uuid.UUID | None] = reference("DeviceType", ondelete="SET NULL", related_name="discovery_candidates")
    """The one device type of the tenant whose ``sys_object_ids`` holds the sysObjectID;
    none when no type or several declare it (see ``device_type_matches``)."""
    device_type_matches: Mapped[int] = mapped_column(default=0, server_default="0")
    """How many device types declare the sysObjectID: 1 matched, 0 none, more ambiguous
    (no type chosen: give one when adopting)."""
    existing_device_id: Mapped[uuid.UUID | None] = reference("Device", ondelete="SET NULL", related_name="discovery_candidates")
    """The tenant's device at the address (its management address, primary IP or an IP
    address on one of its interfaces); for an adopted candidate, the device made."""
    status: Mapped[DiscoveryCandidateStatus] = choice(DiscoveryCandidateStatus, default=DiscoveryCandidateStatus.new, server_default="new")
    first_seen: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    """When a sweep first found it."""
    last_seen: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    """When a sweep last found it."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "address"),)  # a later sweep updates the row
