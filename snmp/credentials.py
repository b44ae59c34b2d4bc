"""SNMP credentials: v1 and v2c communities, v3 USM users (noAuthNoPriv, authNoPriv, authPriv).

Secrets are kept out of ``repr`` so facts and errors can be logged safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class AuthProtocol(Enum):
    """USM authentication protocols; the value is the name net-snmp understands."""

    MD5 = "MD5"
    SHA = "SHA"  # SHA-1
    SHA224 = "SHA-224"
    SHA256 = "SHA-256"
    SHA384 = "SHA-384"
    SHA512 = "SHA-512"


class PrivProtocol(Enum):
    """USM privacy protocols; the value is the name net-snmp understands."""

    DES = "DES"
    AES = "AES"  # AES-128
    AES192 = "AES-192"
    AES256 = "AES-256"


@dataclass(frozen=True)
class SnmpV1:
    community: str = field(repr=False)


@dataclass(frozen=True)
class SnmpV2c:
    community: str = field(repr=False)


# net-snmp refuses USM passphrases shorter than this.
MIN_KEY_LENGTH = 8


@dataclass(frozen=True)
class SnmpV3:
    """A USM user. No auth protocol means noAuthNoPriv; privacy needs authentication."""

    username: str
    auth_protocol: AuthProtocol | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: PrivProtocol | None = None
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""

    def __post_init__(self) -> None:
        if not self.username:
            raise ValueError("SNMPv3 needs a username")
        if (self.auth_protocol is None) != (self.auth_key is None):
            raise ValueError("auth_protocol and auth_key go together")
        if (self.priv_protocol is None) != (self.priv_key is None):
            raise ValueError("priv_protocol and priv_key go together")
        if self.priv_protocol is not None and self.auth_protocol is None:
            raise ValueError("SNMPv3 privacy requires authentication")
        for key in (self.auth_key, self.priv_key):
            if key is not None and len(key) < MIN_KEY_LENGTH:
                raise ValueError(f"SNMPv3 keys must be at least {MIN_KEY_LENGTH} characters")

    @property
    def security_level(self) -> str:
        if self.priv_protocol is not None:
            return "authPriv"
        if self.auth_protocol is not None:
            return "authNoPriv"
        return "noAuthNoPriv"


Credentials = SnmpV1 | SnmpV2c | SnmpV3
