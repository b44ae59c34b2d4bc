"""Differences between what discovery observed (models/observations.py) and intent.

Computed on read, never stored: a stored difference would go stale with the next write
to intent. The computation is set-based: one statement per kind of row (devices and their
observations, observed interfaces, modelled interfaces, LLDP neighbours, …) for all the
devices asked about, so a site of 500 devices costs the statements one device does.

It runs on the connection it is given: a request's read connection (row-level security
under the reader) or an adopt's write transaction (``discovery_adopt`` recomputes inside
its transaction and applies only what still differs). A kind whose rows the reader may not
view is left out rather than computed from half the data (no observed interfaces would
make every modelled one look absent).

Each difference has a deterministic id, ``base64url(kind:device:key)``, whose key names
the subject and the observed value (``Ethernet1=9214``): an id a client holds stops
matching when intent or the observation changes, so an adopt never applies a value the
client did not see.

The rules (docs/discovery-differences.md):

- serial: the observed serial against ``Device.serial`` (trimmed, case-insensitive);
- platform: equal when the device's platform slug or name is the observed platform
  (``eos``), or its slug ends in ``-<platform>`` (``arista-eos``);
- version: NetBox has no version field; the intended version is the device's custom field
  ``software_version``, else ``software_version`` in its local config context data; none
  set, no difference;
- interfaces match by name, case-insensitively. Speed, MTU and MAC differ only where
  intent states a value (an unset field is not a contradiction); ``interface_absent``
  only for physical types and only when the last interfaces walk succeeded;
- LLDP: the neighbour device by system name without its domain (case-insensitive), else a
  management address known to IPAM (the interface it is assigned to, or a device's
  primary/OOB address), else the chassis MAC against MAC addresses; in the observed
  device's tenant. Its port by port id, then port description, each also with the common
  abbreviations expanded (``Te1/3`` → ``TenGigabitEthernet1/3``), then a MAC port id
  against interface MACs. The modelled cable is read from the cable terminations (the link
  peer, not a path through patch panels);
- addresses: an interface address or ARP entry whose host no IP address of the device's
  tenant has (any VRF); link-local, loopback, multicast and unspecified addresses are
  skipped, and ARP entries for the device's own addresses.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from models.choices import prefixed
from models.choices_dcim import VIRTUAL_INTERFACE_TYPES, WIRELESS_INTERFACE_TYPES
from models.registry import ModelSpec, spec_for
from permissions.principal import Principal
from resolvers.sql import any_of


@prefixed("kind")
class DiscoveryDifferenceKind(enum.StrEnum):
    serial_mismatch = "serial_mismatch"
    platform_mismatch = "platform_mismatch"
    version_mismatch = "version_mismatch"
    interface_unmodelled = "interface_unmodelled"
    interface_absent = "interface_absent"
    interface_speed = "interface_speed"
    interface_mtu = "interface_mtu"
    interface_mac = "interface_mac"
    interface_admin = "interface_admin"
    interface_oper = "interface_oper"
    cable_confirmed = "cable_confirmed"
    cable_contradicted = "cable_contradicted"
    cable_missing = "cable_missing"
    neighbour_unknown = "neighbour_unknown"
    address_unknown = "address_unknown"
    arp_unknown = "arp_unknown"


K = DiscoveryDifferenceKind
ALL_KINDS: frozenset[K] = frozenset(K)
DEVICE_KINDS = frozenset({K.serial_mismatch, K.platform_mismatch, K.version_mismatch})
INTERFACE_KINDS = frozenset(
    {K.interface_unmodelled, K.interface_absent, K.interface_speed, K.interface_mtu, K.interface_mac, K.interface_admin, K.interface_oper}
)
CABLE_KINDS = frozenset({K.cable_confirmed, K.cable_contradicted, K.cable_missing, K.neighbour_unknown})
# The order differences of one device are listed in.
ORDER = {kind: place for place, kind in enumerate(K)}

# What a reader must be able to view for a kind to be computed (models by class name).
NEEDS: dict[K, tuple[str, ...]] = {
    **{kind: ("Device", "DeviceObservation") for kind in DEVICE_KINDS},
    K.platform_mismatch: ("Device", "DeviceObservation", "Platform"),
    **{kind: ("Device", "DeviceObservation", "ObservedInterface", "Interface") for kind in INTERFACE_KINDS},
    K.interface_mac: ("Device", "DeviceObservation", "ObservedInterface", "Interface", "MACAddress"),
    # The cable's far end is read from its terminations.
    **{kind: ("Device", "DeviceObservation", "ObservedInterface", "ObservedNeighbour", "Interface", "Cable", "CableTermination") for kind in CABLE_KINDS},
    K.address_unknown: ("Device", "DeviceObservation", "ObservedAddress", "IPAddress"),
    K.arp_unknown: ("Device", "DeviceObservation", "ObservedArpEntry", "IPAddress"),
}

# Which kinds an adopt applies; the others only inform.
ADOPTABLE = frozenset(
    {
        K.interface_unmodelled,
        K.serial_mismatch,
        K.interface_mtu,
        K.interface_speed,
        K.interface_admin,
        K.interface_mac,
        K.address_unknown,
        K.arp_unknown,
        K.cable_missing,
    }
)

# The object fields a difference may name, and their models.
OBJECT_FIELDS: dict[str, str] = {
    "device": "Device",
    "interface": "Interface",
    "observed_interface": "ObservedInterface",
    "observed_lldp_neighbour": "ObservedNeighbour",
    "neighbour_device": "Device",
    "neighbour_interface": "Interface",
    "cable": "Cable",
    "ip_address": "IPAddress",
}


@dataclass
class Difference:
    id: str
    kind: K
    device_id: uuid.UUID
    tenant_id: uuid.UUID
    device_name: str
    field: str
    observed: str
    intended: str
    adoptable: bool
    interface_id: uuid.UUID | None = None
    observed_interface_id: uuid.UUID | None = None
    observed_lldp_neighbour_id: uuid.UUID | None = None
    neighbour_device_id: uuid.UUID | None = None
    neighbour_interface_id: uuid.UUID | None = None
    cable_id: uuid.UUID | None = None
    ip_address_id: uuid.UUID | None = None
    key: str = ""
    # What an adopt needs that the exposed fields do not carry (the observed interface's facts).
    facts: dict[str, Any] = dataclass_field(default_factory=dict)


def difference_id(kind: K, device_id: uuid.UUID, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind.value}:{device_id}:{key}".encode()).decode().rstrip("=")


def parse_difference_id(text: str) -> tuple[K, uuid.UUID] | None:
    """The kind and device an id names, or None when it is not a difference id."""
    if not isinstance(text, str) or len(text) > 2048:
        return None
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        kind, device, _ = decoded.split(":", 2)
        return K(kind), uuid.UUID(device)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


# --- names -------------------------------------------------------------------------------

# Common interface abbreviations (Cisco, Arista, Juniper-style short names) → full names.
_ABBREVIATIONS = {
    "fa": "fastethernet",
    "gi": "gigabitethernet",
    "ge": "gigabitethernet",
    "tw": "twogigabitethernet",
    "fi": "fivegigabitethernet",
    "te": "tengigabitethernet",
    "xe": "tengigabitethernet",
    "twe": "twentyfivegige",
    "tf": "twentyfivegige",
    "fo": "fortygigabitethernet",
    "hu": "hundredgige",
    "et": "ethernet",
    "eth": "ethernet",
    "po": "port-channel",
    "ma": "management",
    "mg": "management",
    "mgmt": "management",
    "lo": "loopback",
    "vl": "vlan",
}
# Long forms with more than one spelling.
_SYNONYMS = {"hundredgigabitethernet": "hundredgige", "twentyfivegigabitethernet": "twentyfivegige", "portchannel": "port-channel"}
_NAME = re.compile(r"^([a-z][a-z-]*?)\s*([0-9].*)$")


def canonical_port(name: str) -> str:
    """An interface name in one spelling: lower case, abbreviation expanded (``Te1/3`` and
    ``TenGigabitEthernet1/3`` are one port)."""
    lowered = name.strip().lower()
    match = _NAME.match(lowered)
    if match is None:
        return lowered
    prefix, rest = match.groups()
    prefix = _ABBREVIATIONS.get(prefix, prefix)
    return _SYNONYMS.get(prefix, prefix) + rest


def short_name(system_name: str) -> str:
    """An LLDP system name without its domain (``4900M-CORE.example.net`` → ``4900m-core``)."""
    return system_name.strip().split(".", 1)[0].lower()


def _mac(value: Any) -> str:
    return str(value or "").strip().upper()


def _looks_like_mac(value: str) -> bool:
    return re.fullmatch(r"[0-9A-F]{2}([:-][0-9A-F]{2}){5}", value.upper()) is not None


def _host(value: Any) -> str:
    return str(value).split("/", 1)[0]


def _ignored_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return address.is_link_local or address.is_loopback or address.is_multicast or address.is_unspecified


_PHYSICAL_EXCLUDED = {str(t) for t in (*VIRTUAL_INTERFACE_TYPES, *WIRELESS_INTERFACE_TYPES)}


def _physical(interface_type: Any) -> bool:
    value = interface_type.value if isinstance(interface_type, enum.Enum) else str(interface_type)
    return value not in _PHYSICAL_EXCLUDED


def _speed_text(kbps: int | None) -> str:
    return "" if kbps is None else f"{kbps} kbps"


def _one_of_column(spec: ModelSpec, one_of: str, target: str) -> str:
    return next(column for model, column in next(o for o in spec.one_of if o.name == one_of).members if model == target)


# --- the computation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which devices: any of the given ids / sites / tenants / roles (None: no condition)."""

    devices: tuple[uuid.UUID, ...] | None = None
    sites: tuple[uuid.UUID, ...] | None = None
    tenants: tuple[uuid.UUID, ...] | None = None
    roles: tuple[uuid.UUID, ...] | None = None


def visible_kinds(principal: Principal, kinds: Iterable[K]) -> frozenset[K]:
    """The kinds whose rows the principal may view (the others are not computed)."""
    return frozenset(kind for kind in kinds if all(principal.can("view", spec_for(model).type_key) for model in NEEDS[kind]))


async def _rows(conn: AsyncConnection, statement: sa.Executable) -> list[sa.Row]:
    return list((await conn.execute(statement)).all())


async def compute(conn: AsyncConnection, principal: Principal, scope: Scope, kinds: Iterable[K] = ALL_KINDS) -> list[Difference]:
    """The differences of the devices in ``scope`` (those ``conn`` lets one see), of ``kinds``."""
    wanted = visible_kinds(principal, kinds)
    if not wanted:
        return []
    device, observation, platform = (spec_for(m).table for m in ("Device", "DeviceObservation", "Platform"))
    where: list[sa.ColumnElement[bool]] = []
    for column, values in ((device.c.id, scope.devices), (device.c.site_id, scope.sites), (device.c.tenant_id, scope.tenants), (device.c.role_id, scope.roles)):
        if values is not None:
            where.append(any_of(column, values))
    platform_columns: list[Any] = [sa.null().label("platform_name"), sa.null().label("platform_slug")]
    source = device.join(observation, observation.c.device_id == device.c.id)
    if K.platform_mismatch in wanted:
        platform_columns = [platform.c.name.label("platform_name"), platform.c.slug.label("platform_slug")]
        source = source.outerjoin(platform, platform.c.id == device.c.platform_id)
    devices = await _rows(
        conn,
        sa.select(
            device.c.id,
            device.c.tenant_id,
            device.c.site_id,
            device.c.name,
            device.c.serial,
            device.c.custom_fields,
            device.c.local_context_data,
            *platform_columns,
            observation.c.id.label("observation_id"),
            observation.c.serial.label("observed_serial"),
            observation.c.platform.label("observed_platform"),
            observation.c.version.label("observed_version"),
            observation.c.errors,
        )
        .select_from(source)
        .where(*where)
        .order_by(device.c._name, device.c.id),
    )
    work = _Work(devices, wanted)
    work.device_kinds()
    if wanted & (INTERFACE_KINDS | CABLE_KINDS | {K.address_unknown, K.arp_unknown}):
        await work.load(conn)
        work.interface_kinds()
        work.cable_kinds()
        work.address_kinds()
    found = work.found
    # Stable: within a kind, in the order the rows were read (ifIndex, LLDP port, address).
    found.sort(key=lambda d: (work.place[d.device_id], ORDER[d.kind]))
    return found


class _Work:
    """One computation's rows and what it found."""

    def __init__(self, devices: list[sa.Row], wanted: frozenset[K]) -> None:
        self.devices = devices
        self.wanted = wanted
        self.place = {row.id: place for place, row in enumerate(devices)}
        self.found: list[Difference] = []
        self.ids: set[str] = set()
        self.observed_interfaces: dict[uuid.UUID, list[sa.Row]] = defaultdict(list)
        self.neighbours: dict[uuid.UUID, list[sa.Row]] = defaultdict(list)
        self.addresses: dict[uuid.UUID, list[sa.Row]] = defaultdict(list)
        self.arp: dict[uuid.UUID, list[sa.Row]] = defaultdict(list)
        self.interfaces: dict[uuid.UUID, dict[str, sa.Row]] = defaultdict(dict)
        self.far_ends: dict[uuid.UUID, set[uuid.UUID | None]] = defaultdict(set)
        self.known_hosts: dict[tuple[uuid.UUID, str], list[sa.Row]] = defaultdict(list)
        self.by_name: dict[tuple[uuid.UUID, str], list[sa.Row]] = defaultdict(list)
        self.by_mac: dict[tuple[uuid.UUID, str], list[sa.Row]] = defaultdict(list)

    def add(self, kind: K, row: sa.Row, key: str, field: str, observed: Any, intended: Any, adoptable: bool | None = None, **more: Any) -> None:
        identifier = difference_id(kind, row.id, key)
        if kind not in self.wanted or identifier in self.ids:
            return  # an agent may report one name twice: one difference, one id
        self.ids.add(identifier)
        self.found.append(
            Difference(
                id=identifier,
                kind=kind,
                device_id=row.id,
                tenant_id=row.tenant_id,
                device_name=row.name or "",
                field=field,
                observed="" if observed is None else str(observed),
                intended="" if intended is None else str(intended),
                adoptable=kind in ADOPTABLE if adoptable is None else adoptable and kind in ADOPTABLE,
                key=key,
                **more,
            )
        )

    # -- the device itself --

    def device_kinds(self) -> None:
        for row in self.devices:
            observed = (row.observed_serial or "").strip()
            if observed and observed.casefold() != (row.serial or "").strip().casefold():
                self.add(K.serial_mismatch, row, f"serial={observed}", "serial", observed, row.serial, adoptable=len(observed) <= 50)
            observed = (row.observed_platform or "").strip().lower()
            if observed and not _platform_matches(row.platform_slug, row.platform_name, observed):
                self.add(K.platform_mismatch, row, f"platform={observed}", "platform", observed, row.platform_slug or "")
            local = row.local_context_data if isinstance(row.local_context_data, dict) else {}
            intended = (row.custom_fields or {}).get("software_version") or local.get("software_version")
            observed = (row.observed_version or "").strip()
            if intended not in (None, "") and observed and observed != str(intended).strip():
                self.add(K.version_mismatch, row, f"version={observed}", "software_version", observed, intended)

    # -- the rows below --

    async def load(self, conn: AsyncConnection) -> None:
        """The observed parts, the IPAM addresses, neighbour devices and interfaces, and the
        cables: one statement each, for every device at once."""
        observation_ids = [row.observation_id for row in self.devices]
        tenants = list({row.tenant_id for row in self.devices})
        observed_interface, neighbour, observed_address, observed_arp = (
            spec_for(m).table for m in ("ObservedInterface", "ObservedNeighbour", "ObservedAddress", "ObservedArpEntry")
        )
        wanted = self.wanted
        if wanted & (INTERFACE_KINDS | CABLE_KINDS | {K.address_unknown, K.arp_unknown}):
            statement = sa.select(observed_interface).where(any_of(observed_interface.c.observation_id, observation_ids))
            for row in await _rows(conn, statement.order_by(observed_interface.c.if_index, observed_interface.c.id)):
                self.observed_interfaces[row.observation_id].append(row)
        if wanted & CABLE_KINDS:
            statement = sa.select(neighbour).where(any_of(neighbour.c.observation_id, observation_ids))
            statement = statement.order_by(neighbour.c.local_port_num, neighbour.c.chassis_id, neighbour.c.port_id)
            for row in await _rows(conn, statement):
                self.neighbours[row.observation_id].append(row)
        if K.address_unknown in wanted:
            statement = sa.select(observed_address).where(any_of(observed_address.c.observation_id, observation_ids))
            for row in await _rows(conn, statement.order_by(observed_address.c.address)):
                self.addresses[row.observation_id].append(row)
        if K.arp_unknown in wanted:
            statement = sa.select(observed_arp).where(any_of(observed_arp.c.observation_id, observation_ids))
            for row in await _rows(conn, statement.order_by(observed_arp.c.if_index, observed_arp.c.ip)):
                self.arp[row.observation_id].append(row)

        # IPAM: every host the observations name (addresses, ARP, neighbours' management
        # addresses), with the device each is on, in one statement.
        hosts = {_host(a.address) for rows in self.addresses.values() for a in rows}
        hosts |= {str(e.ip) for rows in self.arp.values() for e in rows}
        hosts |= {address for rows in self.neighbours.values() for n in rows for address in (n.management_addresses or [])}
        if wanted & (CABLE_KINDS | {K.address_unknown, K.arp_unknown}):
            for row in await _rows(conn, _addresses_statement(tenants, sorted(hosts))):
                self.known_hosts[(row.tenant_id, row.host)].append(row)

        neighbour_devices: set[uuid.UUID] = set()
        if wanted & CABLE_KINDS:
            names = {short_name(n.system_name) for rows in self.neighbours.values() for n in rows if n.system_name}
            names |= {n.system_name.strip().lower() for rows in self.neighbours.values() for n in rows if n.system_name}
            device = spec_for("Device").table
            statement = sa.select(device.c.id, device.c.tenant_id, device.c.site_id, sa.func.lower(device.c.name).label("name")).where(
                any_of(device.c.tenant_id, tenants), any_of(sa.func.lower(device.c.name, type_=sa.Text()), sorted(names))
            )
            for row in await _rows(conn, statement.order_by(device.c.id)):
                self.by_name[(row.tenant_id, row.name)].append(row)
            macs = {_mac(n.chassis_id) for rows in self.neighbours.values() for n in rows if _looks_like_mac(n.chassis_id or "")}
            for row in await _rows(conn, _macs_statement(tenants, sorted(macs))):
                self.by_mac[(row.tenant_id, row.mac)].append(row)
            neighbour_devices = {r.id for rows in self.by_name.values() for r in rows}
            neighbour_devices |= {r.device_id for rows in self.by_mac.values() for r in rows}
            neighbour_devices |= {r.device_id for rows in self.known_hosts.values() for r in rows if r.device_id is not None}

        local = {row.id for row in self.devices}
        for row in await _rows(conn, _interfaces_statement(sorted(local | neighbour_devices))):
            self.interfaces[row.device_id].setdefault(row.name.lower(), row)
        if wanted & CABLE_KINDS:
            cabled = [i.id for rows in self.interfaces.values() for i in rows.values() if i.cable_id is not None]
            termination = spec_for("CableTermination")
            column = _one_of_column(termination, "termination", "Interface")
            near, far = termination.table.alias("near"), termination.table.alias("far")
            statement = sa.select(near.c[column].label("interface_id"), far.c[column].label("far_interface_id")).select_from(
                near.join(far, sa.and_(far.c.cable_id == near.c.cable_id, far.c.cable_end != near.c.cable_end))
            )
            for row in await _rows(conn, statement.where(any_of(near.c[column], cabled))):
                self.far_ends[row.interface_id].add(row.far_interface_id)

    def _observed_by_index(self, row: sa.Row) -> dict[int, sa.Row]:
        return {o.if_index: o for o in self.observed_interfaces.get(row.observation_id, [])}

    def interface_kinds(self) -> None:
        if not self.wanted & INTERFACE_KINDS:
            return
        for row in self.devices:
            observed = self.observed_interfaces.get(row.observation_id, [])
            modelled = self.interfaces.get(row.id, {})
            seen: set[str] = set()
            for o in observed:
                name = (o.name or o.description or "").strip()
                if not name:
                    continue
                seen.add(name.lower())
                m = modelled.get(name.lower())
                ids = {"observed_interface_id": o.id}
                if m is None:
                    facts = {"name": name, "if_type": o.if_type, "mtu": o.mtu, "speed_bps": o.speed_bps, "mac": _mac(o.mac_address)}
                    facts |= {"admin_status": o.admin_status, "alias": o.alias}
                    self.add(K.interface_unmodelled, row, name, "name", name, "", facts=facts, **ids)
                    continue
                ids["interface_id"] = m.id
                kbps = o.speed_bps // 1000 if o.speed_bps else None
                if kbps and m.speed is not None and m.speed != kbps:
                    self.add(K.interface_speed, row, f"{name}={kbps}", "speed", _speed_text(kbps), _speed_text(m.speed), facts={"speed": kbps}, **ids)
                if o.mtu and m.mtu is not None and m.mtu != o.mtu:
                    self.add(K.interface_mtu, row, f"{name}={o.mtu}", "mtu", o.mtu, m.mtu, adoptable=1 <= o.mtu <= 65536, facts={"mtu": o.mtu}, **ids)
                mac = _mac(o.mac_address)
                if mac and m.mac and _mac(m.mac) != mac:
                    self.add(K.interface_mac, row, f"{name}={mac}", "primary_mac_address", mac, _mac(m.mac), facts={"mac": mac}, **ids)
                admin = (o.admin_status or "").lower()
                if admin in ("up", "down") and m.enabled != (admin == "up"):
                    state = "enabled" if admin == "up" else "disabled"
                    self.add(
                        K.interface_admin,
                        row,
                        f"{name}={admin}",
                        "enabled",
                        state,
                        "enabled" if m.enabled else "disabled",
                        facts={"enabled": admin == "up"},
                        **ids,
                    )
                oper = (o.oper_status or "").lower()
                if m.enabled and admin == "up" and oper and oper != "up":
                    self.add(K.interface_oper, row, f"{name}={oper}", "oper_status", oper, "up", **ids)
            walk_failed = any(e.get("section") == "interfaces" for e in row.errors or [])
            if observed and not walk_failed:
                for lowered, m in sorted(modelled.items()):
                    if lowered not in seen and _physical(m.type):
                        self.add(K.interface_absent, row, m.name, "name", "", m.name, interface_id=m.id)

    # -- LLDP --

    def _neighbour_device(self, row: sa.Row, n: sa.Row) -> tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]:
        """(device, interface found with it, IPAM address it was found by) of a neighbour."""

        def best(candidates: list[Any], key: str = "id") -> Any:
            # Several in the tenant: the one at the observed device's site, then the first.
            return sorted(candidates, key=lambda c: (getattr(c, "site_id", None) != row.site_id, str(getattr(c, key))))[0]

        if n.system_name:
            for name in (short_name(n.system_name), n.system_name.strip().lower()):
                candidates = [c for c in self.by_name.get((row.tenant_id, name), []) if c.id != row.id]
                if candidates:
                    return best(candidates).id, None, None
        for address in n.management_addresses or []:
            candidates = [c for c in self.known_hosts.get((row.tenant_id, address), []) if c.device_id is not None and c.device_id != row.id]
            if candidates:
                chosen = best(candidates, "device_id")
                return chosen.device_id, None, chosen.id
        if _looks_like_mac(n.chassis_id or ""):
            candidates = [c for c in self.by_mac.get((row.tenant_id, _mac(n.chassis_id)), []) if c.device_id != row.id]
            if candidates:
                chosen = best(candidates, "device_id")
                return chosen.device_id, None, None
        return None, None, None

    def _neighbour_interface(self, device_id: uuid.UUID, n: sa.Row) -> sa.Row | None:
        interfaces = self.interfaces.get(device_id, {})
        for text in (n.port_id, n.port_description):
            if text and text.strip().lower() in interfaces:
                return interfaces[text.strip().lower()]
        by_canonical = {canonical_port(i.name): i for i in interfaces.values()}
        for text in (n.port_id, n.port_description):
            if text and canonical_port(text) in by_canonical:
                return by_canonical[canonical_port(text)]
        if n.port_id and _looks_like_mac(n.port_id):
            for i in interfaces.values():
                if i.mac and _mac(i.mac) == _mac(n.port_id):
                    return i
        return None

    def cable_kinds(self) -> None:
        if not self.wanted & CABLE_KINDS:
            return
        for row in self.devices:
            modelled = self.interfaces.get(row.id, {})
            by_index = self._observed_by_index(row)
            for n in self.neighbours.get(row.observation_id, []):
                local_name = (n.local_interface or "").strip() or (by_index[n.local_if_index].name if n.local_if_index in by_index else "") or n.local_port
                local = modelled.get((local_name or "").lower())
                if local is None:
                    continue  # the local interface is not modelled: interface_unmodelled says so
                neighbour_label = f"{n.system_name or n.chassis_id} {n.port_description or n.port_id}".strip()
                key = f"{local.name}>{n.chassis_id}|{n.port_id}"
                ids: dict[str, Any] = {"interface_id": local.id, "observed_lldp_neighbour_id": n.id}
                if n.local_if_index in by_index:
                    ids["observed_interface_id"] = by_index[n.local_if_index].id
                device_id, _, address_id = self._neighbour_device(row, n)
                ids["ip_address_id"] = address_id
                if device_id is None:
                    self.add(K.neighbour_unknown, row, key, "neighbour", neighbour_label, "", **ids)
                    continue
                ids["neighbour_device_id"] = device_id
                far = self._neighbour_interface(device_id, n)
                if far is None:
                    self.add(K.neighbour_unknown, row, key, "neighbour_interface", neighbour_label, "", **ids)
                    continue
                ids["neighbour_interface_id"] = far.id
                if local.cable_id is not None:
                    ends = self.far_ends.get(local.id, set())
                    if None in ends or not ends:
                        continue  # cabled to a patch panel or a circuit: the path is not judged
                    if far.id in ends:
                        self.add(K.cable_confirmed, row, key, "cable", neighbour_label, neighbour_label, cable_id=local.cable_id, **ids)
                    else:
                        intended = ", ".join(sorted(self._interface_label(i) for i in ends))
                        self.add(K.cable_contradicted, row, key, "cable", neighbour_label, intended, cable_id=local.cable_id, **ids)
                elif far.cable_id is not None:
                    ends = self.far_ends.get(far.id, set())
                    if None in ends or not ends:
                        continue  # the neighbour's port goes to a patch panel or a circuit: not judged either
                    intended = f"{far.name} cabled to " + ", ".join(sorted(self._interface_label(i) for i in ends))
                    self.add(K.cable_contradicted, row, key, "cable", neighbour_label, intended, cable_id=far.cable_id, **ids)
                else:
                    self.add(K.cable_missing, row, key, "cable", neighbour_label, "", **ids)

    def _interface_label(self, interface_id: uuid.UUID | None) -> str:
        for rows in self.interfaces.values():
            for i in rows.values():
                if i.id == interface_id:
                    return i.name
        return "an interface"

    # -- addresses --

    def _on(self, row: sa.Row, if_index: int | None) -> dict[str, Any]:
        """The observed and modelled interface an address or ARP entry is on."""
        o = self._observed_by_index(row).get(if_index) if if_index is not None else None
        if o is None:
            return {}
        m = self.interfaces.get(row.id, {}).get((o.name or "").lower())
        return {"observed_interface_id": o.id, "interface_id": m.id if m is not None else None}

    def address_kinds(self) -> None:
        for row in self.devices:
            own = set()
            for a in self.addresses.get(row.observation_id, []):
                host = _host(a.address)
                own.add(host)
                if _ignored_address(host) or (row.tenant_id, host) in self.known_hosts:
                    continue
                ids = self._on(row, a.if_index)
                self.add(K.address_unknown, row, str(a.address), "address", a.address, "", adoptable=ids.get("interface_id") is not None, **ids)
            for e in self.arp.get(row.observation_id, []):
                host = str(e.ip)
                if host in own or _ignored_address(host) or (row.tenant_id, host) in self.known_hosts:
                    continue
                self.add(K.arp_unknown, row, f"{e.if_index}/{host}", "address", host, "", facts={"mac": _mac(e.mac_address)}, **self._on(row, e.if_index))


def _platform_matches(slug: str | None, name: str | None, observed: str) -> bool:
    slug, name = (slug or "").lower(), (name or "").lower()
    return bool(slug) and (slug == observed or name == observed or slug.endswith(f"-{observed}"))


def _addresses_statement(tenants: list[uuid.UUID], hosts: list[str]) -> sa.Select:
    """IP addresses of ``tenants`` whose host is one of ``hosts``, with the device each is on
    (through its interface, or as a device's primary or OOB address)."""
    ip, interface, device = (spec_for(m) for m in ("IPAddress", "Interface", "Device"))
    assigned = ip.table.c[_one_of_column(ip, "assigned_object", "Interface")]
    d = device.table
    owner = (
        sa.select(d.c.id)
        .where(sa.or_(d.c.primary_ip4_id == ip.table.c.id, d.c.primary_ip6_id == ip.table.c.id, d.c.oob_ip_id == ip.table.c.id))
        .limit(1)
        .scalar_subquery()
    )
    host = sa.func.host(ip.table.c.address)
    return (
        sa.select(ip.table.c.id, ip.table.c.tenant_id, host.label("host"), sa.func.coalesce(interface.table.c.device_id, owner).label("device_id"))
        .select_from(ip.table.outerjoin(interface.table, interface.table.c.id == assigned))
        .where(any_of(ip.table.c.tenant_id, tenants), host == sa.any_(sa.literal(hosts, sa.ARRAY(sa.Text()))))
        .order_by(ip.table.c.id)
    )


def _macs_statement(tenants: list[uuid.UUID], macs: list[str]) -> sa.Select:
    mac, interface = spec_for("MACAddress"), spec_for("Interface")
    assigned = mac.table.c[_one_of_column(mac, "assigned_object", "Interface")]
    upper = sa.func.upper(mac.table.c.mac_address)
    return (
        sa.select(mac.table.c.tenant_id, upper.label("mac"), interface.table.c.device_id, interface.table.c.id.label("interface_id"))
        .select_from(mac.table.join(interface.table, interface.table.c.id == assigned))
        .where(any_of(mac.table.c.tenant_id, tenants), upper == sa.any_(sa.literal(macs, sa.ARRAY(sa.Text()))))
        .order_by(interface.table.c.id)
    )


def _interfaces_statement(devices: list[uuid.UUID]) -> sa.Select:
    interface, mac = spec_for("Interface").table, spec_for("MACAddress").table
    return (
        sa.select(
            interface.c.id,
            interface.c.device_id,
            interface.c.name,
            interface.c.type,
            interface.c.enabled,
            interface.c.mtu,
            interface.c.speed,
            interface.c.cable_id,
            mac.c.mac_address.label("mac"),
        )
        .select_from(interface.outerjoin(mac, mac.c.id == interface.c.primary_mac_address_id))
        .where(any_of(interface.c.device_id, devices))
        .order_by(interface.c.device_id, interface.c._name, interface.c.id)
    )
