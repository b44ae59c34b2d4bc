"""SNMP profiles: what a write must get right (registered in resolvers/rules.py), which
profile applies to a device, where the device is reached, and the credentials a worker
builds from a profile.

A device's profile is the most specific binding: the device's own, else its role's, else
its device type's, else its tenant's default profile. Its management address is its
``management_address``, else the host of its primary IPv4 address, else of its primary
IPv6 address. Both are written once as SQL over a device row (``PROFILE_OF``,
``SOURCE_OF``, ``ADDRESS_OF``): the SQL compiler inlines them, the GraphQL loaders and the
workers run them for any number of devices in one statement, so every path gives the same
answer. They read what the connection may see: under a request's row-level security a
profile the reader may not view is no profile."""

from __future__ import annotations

import enum
import ipaddress
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import table_of
from models.dcim.devices import Device, DeviceRole, DeviceType
from models.discovery import SnmpProfile, SnmpVersion
from models.ipam import IPAddress
from models.registry import ModelSpec
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook, value_after
from resolvers.secrets import unseal
from resolvers.sql import any_of
from resolvers.writes import Write

if TYPE_CHECKING:  # snmp/ is imported where it is used: the API process never needs ezsnmp
    import snmp

_DEVICE, _ROLE, _TYPE = Device.__tablename__, DeviceRole.__tablename__, DeviceType.__tablename__
_PROFILE, _ADDRESS = SnmpProfile.__tablename__, IPAddress.__tablename__


class BindingSource(enum.Enum):
    """Where a device's SNMP profile comes from (GraphQL answers the member's name)."""

    DEVICE = "device"
    ROLE = "role"
    DEVICE_TYPE = "device_type"
    TENANT = "tenant"


# SQL over one device row, written ``{s}``. The tenant's default is unique (a partial
# unique index), so each subquery answers one row at most.
_BY_ROLE = f"(SELECT _snmp_r.snmp_profile_id FROM {_ROLE} _snmp_r WHERE _snmp_r.id = {{s}}.role_id)"
_BY_TYPE = f"(SELECT _snmp_k.snmp_profile_id FROM {_TYPE} _snmp_k WHERE _snmp_k.id = {{s}}.device_type_id)"
_BY_TENANT = f"(SELECT _snmp_d.id FROM {_PROFILE} _snmp_d WHERE _snmp_d.tenant_id = {{s}}.tenant_id AND _snmp_d.is_default)"

# The id of the device's profile, or null.
PROFILE_OF = f"coalesce({{s}}.snmp_profile_id, {_BY_ROLE}, {_BY_TYPE}, {_BY_TENANT})"

# Which binding gave it (a BindingSource name); null when no profile applies or the reader
# may not see it.
SOURCE_OF = (
    "(SELECT CASE WHEN _snmp_b.own IS NOT NULL THEN 'DEVICE' WHEN _snmp_b.by_role IS NOT NULL THEN 'ROLE'"
    " WHEN _snmp_b.by_type IS NOT NULL THEN 'DEVICE_TYPE' ELSE 'TENANT' END"
    f" FROM (SELECT {{s}}.snmp_profile_id AS own, {_BY_ROLE} AS by_role, {_BY_TYPE} AS by_type) _snmp_b"
    f" JOIN {_PROFILE} _snmp_p ON _snmp_p.id = coalesce(_snmp_b.own, _snmp_b.by_role, _snmp_b.by_type, {_BY_TENANT}))"
)

# The host address to reach the device at, as text without a mask, or null.
ADDRESS_OF = (
    "coalesce(host({s}.management_address),"
    f" (SELECT host(_snmp_a.address) FROM {_ADDRESS} _snmp_a WHERE _snmp_a.id = {{s}}.primary_ip4_id),"
    f" (SELECT host(_snmp_a.address) FROM {_ADDRESS} _snmp_a WHERE _snmp_a.id = {{s}}.primary_ip6_id))"
)


def over(template: str, alias: str) -> sa.ColumnElement[Any]:
    """One of the SQL forms above over the device row ``alias``."""
    return sa.literal_column(template.replace("{s}", alias))


@dataclass(frozen=True)
class Binding:
    """A device's SNMP profile (its row, sealed secrets included) and where it came from."""

    profile: sa.Row
    source: BindingSource


def profile_statement(device_ids: list[uuid.UUID]) -> sa.Select[Any]:
    """Each device's profile row (``_device``: the device, ``_source``: the binding that
    gave it), in one statement; a device with no profile (or not seen) has no row."""
    device, profile = table_of(Device).alias("s"), table_of(SnmpProfile)
    return (
        sa.select(device.c.id.label("_device"), over(SOURCE_OF, "s").label("_source"), *profile.c)
        .select_from(device.join(profile, profile.c.id == over(PROFILE_OF, "s")))
        .where(any_of(device.c.id, device_ids))
    )


def address_statement(device_ids: list[uuid.UUID]) -> sa.Select[Any]:
    """Where each device is reached (``address``: a host, no mask, or null), one statement."""
    device = table_of(Device).alias("s")
    return sa.select(device.c.id, over(ADDRESS_OF, "s").label("address")).where(any_of(device.c.id, device_ids))


async def profile_for(conn: AsyncConnection, device_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Binding]:
    """The SNMP profile of each device (see ``profile_statement``)."""
    ids = list(device_ids)
    if not ids:
        return {}
    return {row._device: Binding(row, BindingSource[row._source]) for row in await conn.execute(profile_statement(ids))}


async def management_address_for(conn: AsyncConnection, device_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """Where each device is reached (see ``address_statement``)."""
    ids = list(device_ids)
    if not ids:
        return {}
    return {row.id: row.address for row in await conn.execute(address_statement(ids))}


class UnusableProfile(ValueError):
    """A profile row that cannot make credentials (written around the write path's checks)."""


def credentials_of(profile: Any) -> snmp.Credentials:
    """The credentials of a profile row, its secrets unsealed: for the worker that talks to
    the device, never for an answer."""
    import snmp

    version = SnmpVersion(profile.version)
    if version is not SnmpVersion.v3:
        if not profile.community:
            raise UnusableProfile(f"SNMP profile {profile.name!r} has no community")
        community = unseal(profile.community)
        return snmp.SnmpV1(community) if version is SnmpVersion.v1 else snmp.SnmpV2c(community)
    try:
        return snmp.SnmpV3(
            username=profile.username,
            auth_protocol=snmp.AuthProtocol(profile.auth_protocol) if profile.auth_protocol else None,
            auth_key=unseal(profile.auth_key) if profile.auth_key else None,
            priv_protocol=snmp.PrivProtocol(profile.priv_protocol) if profile.priv_protocol else None,
            priv_key=unseal(profile.priv_key) if profile.priv_key else None,
            context=profile.context,
        )
    except ValueError as error:
        raise UnusableProfile(f"SNMP profile {profile.name!r}: {error}") from None


def target_of(profile: Any, host: str) -> snmp.Target:
    """The transport settings of a profile row, for the device at ``host``."""
    import snmp

    return snmp.Target(host, port=profile.port, timeout=float(profile.timeout), retries=profile.retries, max_repetitions=profile.max_repetitions)


# --- the write path's checks ----------------------------------------------------------------


def register_rules(book: RuleBook) -> None:
    book.check("SnmpProfile")(_profile_is_usable)
    book.check("Device")(_management_address_is_a_host)
    book.check("DeviceType")(_sys_object_ids_are_oids)


_LEAST_TIMEOUT = Decimal("0.01")


def _min_key_length() -> int:
    from snmp.credentials import MIN_KEY_LENGTH

    return MIN_KEY_LENGTH


async def _profile_is_usable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """The credentials the version needs are there, as snmp.SnmpV3 wants them. Secrets
    arrive sealed (resolvers/writes.py seals them first); one the write leaves out keeps its
    stored value, so the checks read the row's."""
    if values.get("timeout") is not None and values["timeout"] < _LEAST_TIMEOUT:  # stored in hundredths; snmp.Target wants > 0
        raise BadUserInput(f"timeout: give at least {_LEAST_TIMEOUT} seconds", field="timeout")
    version = value_after(values, old, "version", SnmpVersion.v2c)
    if version is not SnmpVersion.v3:
        if not value_after(values, old, "community"):
            raise BadUserInput(f"community: SNMP {version.value} needs a community", field="community")
        return
    if not value_after(values, old, "username", "").strip():
        raise BadUserInput("username: SNMPv3 needs a username", field="username")
    given = {name: bool(value_after(values, old, name)) for name in ("auth_protocol", "auth_key", "priv_protocol", "priv_key")}
    if given["priv_protocol"] and not given["auth_protocol"]:
        raise BadUserInput("priv_protocol: privacy needs authentication: give auth_protocol and auth_key too", field="priv_protocol")
    for protocol, key in (("auth_protocol", "auth_key"), ("priv_protocol", "priv_key")):
        if given[protocol] and not given[key]:
            raise BadUserInput(f"{key}: {protocol} needs a {key}", field=key)
        if given[key] and not given[protocol]:
            raise BadUserInput(f"{protocol}: a {key} is set; name its protocol, or clear the key (null)", field=protocol)
    least = _min_key_length()
    for key in ("auth_key", "priv_key"):
        if values.get(key) and len(unseal(values[key])) < least:
            raise BadUserInput(f"{key}: SNMPv3 keys must be at least {least} characters", field=key)


async def _management_address_is_a_host(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A host address: a mask given with it (``192.0.2.1/24``, as an IP address is written)
    is dropped; an address nothing answers at is refused."""
    value = values.get("management_address")
    if value is None:
        return
    host = ipaddress.ip_interface(value).ip  # checked as an address already (resolvers/validation.py)
    if host.is_unspecified or host.is_multicast:
        raise BadUserInput(f"management_address: {host} is not the address of a device", field="management_address")
    values["management_address"] = str(host)


# A dotted OID: first arc 0–2, then up to 127 more (SNMP's limit is 128 sub-identifiers).
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]{0,9})){1,127}")
_MOST_ARC = 2**32 - 1  # a sub-identifier is an unsigned 32-bit number


async def _sys_object_ids_are_oids(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """Dotted OIDs (``1.3.6.1.4.1.30065.1.3011.7050.1958.128``; net-snmp's leading dot is
    dropped), each once."""
    oids = values.get("sys_object_ids")
    if oids is None:
        return
    limit = write.ctx.settings.max_list_values
    if len(oids) > limit:
        raise BadUserInput(f"sys_object_ids: {len(oids)} values; at most {limit} are allowed", field="sys_object_ids")
    cleaned = []
    for index, oid in enumerate(oids):
        text = oid.strip().removeprefix(".")
        if not _OID.fullmatch(text) or any(int(arc) > _MOST_ARC for arc in text.split(".")):
            shown = oid if len(oid) <= 64 else oid[:64] + "…"
            raise BadUserInput(f"sys_object_ids: '{shown}' is not a dotted OID such as 1.3.6.1.4.1.9.1.1", field=f"sys_object_ids.{index}")
        cleaned.append(text)
    values["sys_object_ids"] = list(dict.fromkeys(cleaned))
