"""SNMP profiles: how to reach devices over SNMP (version, credentials, transport), named
once per tenant and bound to devices, device roles or device types, with one tenant-wide
default (resolvers/discovery.py resolves which one applies to a device).

Communities and v3 keys are secrets (``models.base.secret``): sealed at rest, write-only
through the API, never in the change log, events, exports or custom links. Only a worker
opens them (``resolvers.discovery.credentials_of``). NetBox has no such model: nothing of a
NetBox export lands here."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NamedModel, choice, secret, text
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
