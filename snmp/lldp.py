"""LLDP neighbours from LLDP-MIB (IEEE 802.1AB-2005): lldpRemTable, with the local port
from lldpLocPortTable and management addresses from lldpRemManAddrTable."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from . import oids
from .collector import Collector, Column, rows
from .facts import Interface, LldpNeighbour
from .values import Oid, SnmpValue, as_int, as_text, describe, format_mac, octets_from_subids

SECTION = "lldp"

# LldpChassisIdSubtype and LldpPortIdSubtype: which subtype holds a MAC or a network address.
CHASSIS_MAC, CHASSIS_NETWORK_ADDRESS = 4, 5
PORT_MAC, PORT_NETWORK_ADDRESS = 3, 4

# IANA AddressFamilyNumbers used by networkAddress ids and management addresses
FAMILY_IPV4, FAMILY_IPV6 = 1, 2
_FAMILY_SIZES = {FAMILY_IPV4: 4, FAMILY_IPV6: 16}

REM_COLUMNS = [
    oids.LLDP_REM_CHASSIS_ID_SUBTYPE,
    oids.LLDP_REM_CHASSIS_ID,
    oids.LLDP_REM_PORT_ID_SUBTYPE,
    oids.LLDP_REM_PORT_ID,
    oids.LLDP_REM_PORT_DESC,
    oids.LLDP_REM_SYS_NAME,
    oids.LLDP_REM_SYS_DESC,
]


def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def _network_address(octets: bytes) -> str:
    family, address = (octets[0], octets[1:]) if octets else (None, b"")
    if family in _FAMILY_SIZES and len(address) == _FAMILY_SIZES[family]:
        return str(ipaddress.ip_address(address))
    raise ValueError(f"not an IPv4/IPv6 network address: {octets.hex()}")


def format_id(subtype: int | None, value: SnmpValue, mac_subtype: int, network_subtype: int) -> str | None:
    """A chassis or port id as text: MACs as aa:bb:.., addresses as IPs, strings as they are.

    Raises ValueError when the value contradicts its subtype (a "MAC" that is not 6 octets).
    """
    if value is None:
        return None
    if not isinstance(value, bytes):
        return describe(value)
    if not value:
        return None
    if subtype == mac_subtype:
        if len(value) != 6:
            raise ValueError(f"subtype macAddress but {len(value)} octets")
        return format_mac(value)
    if subtype == network_subtype:
        return _network_address(value)
    text = as_text(value)
    if text is None:
        return None
    # Binary ids of other subtypes (agent circuit ids, odd vendors) stay readable as hex.
    return text if _printable(text) else format_mac(value)


def _identifier(
    collector: Collector,
    table: dict[Oid, Column],
    column: Oid,
    index: Oid,
    subtype: int | None,
    mac: int,
    network: int,
) -> str | None:
    value = table[column].get(index)
    try:
        return format_id(subtype, value, mac, network)
    except ValueError as error:
        collector.malformed(SECTION, column, index, value, str(error))
        # Keep an identifier anyway: the raw bytes still tell neighbours apart.
        return format_id(None, value, mac, network)


def _management_addresses(collector: Collector, neighbours: int) -> dict[tuple[int, int], list[str]]:
    """(local port, remote index) -> addresses, from lldpRemManAddrTable's index."""
    table = collector.columns(SECTION, "lldpRemManAddrTable", [oids.LLDP_REM_MAN_ADDR_IF_SUBTYPE], neighbours)
    found: dict[tuple[int, int], list[str]] = {}
    for index in rows(table):
        # timeMark.localPortNum.index.addrSubtype.addrLength.addr...
        if len(index) < 5:
            collector.malformed(SECTION, oids.LLDP_REM_MAN_ADDR_IF_SUBTYPE, index, None, "index too short")
            continue
        family, rest = index[3], index[4:]
        if family not in _FAMILY_SIZES:
            continue  # e.g. all802 (a MAC): not an address to manage the device at
        size = _FAMILY_SIZES[family]
        octets = rest[1:] if len(rest) == size + 1 and rest[0] == size else rest
        try:
            if len(octets) != size:
                raise ValueError(f"{len(octets)} octets for address family {family}")
            address = str(ipaddress.ip_address(octets_from_subids(octets)))
        except ValueError as error:
            collector.malformed(SECTION, oids.LLDP_REM_MAN_ADDR_IF_SUBTYPE, index, None, str(error))
            continue
        found.setdefault((index[1], index[2]), []).append(address)
    return found


def _interface_lookup(interfaces: Sequence[Interface]) -> tuple[dict[str, Interface], dict[int, Interface]]:
    by_name: dict[str, Interface] = {}
    for interface in interfaces:
        for name in (interface.description, interface.name):  # ifName wins over ifDescr
            if name:
                by_name[name] = interface
    return by_name, {interface.if_index: interface for interface in interfaces}


def collect_lldp(collector: Collector, interfaces: Sequence[Interface]) -> list[LldpNeighbour]:
    local = collector.columns(SECTION, "lldpLocPortTable", [oids.LLDP_LOC_PORT_ID, oids.LLDP_LOC_PORT_DESC])
    remote = collector.columns(SECTION, "lldpRemTable", REM_COLUMNS)
    if not rows(remote):
        return []
    addresses = _management_addresses(collector, len(rows(remote)))
    by_name, by_index = _interface_lookup(interfaces)

    def text(table: dict[Oid, Column], column: Oid, index: Oid) -> str | None:
        return collector.cell(SECTION, table, column, index, as_text)

    neighbours = []
    for index in rows(remote):
        if len(index) != 3:
            collector.malformed(SECTION, oids.LLDP_REM_ENTRY, index, None, "index is timeMark.localPortNum.index")
            continue
        local_port_num, remote_index = index[1], index[2]
        port_index = (local_port_num,)
        local_id = text(local, oids.LLDP_LOC_PORT_ID, port_index)
        local_desc = text(local, oids.LLDP_LOC_PORT_DESC, port_index)
        # Match by name first; many agents (Juniper, some Cisco) number LLDP ports by ifIndex.
        interface = by_name.get(local_id or "") or by_name.get(local_desc or "") or by_index.get(local_port_num)
        chassis_subtype = collector.cell(SECTION, remote, oids.LLDP_REM_CHASSIS_ID_SUBTYPE, index, as_int)
        port_subtype = collector.cell(SECTION, remote, oids.LLDP_REM_PORT_ID_SUBTYPE, index, as_int)
        chassis_id = _identifier(collector, remote, oids.LLDP_REM_CHASSIS_ID, index, chassis_subtype, CHASSIS_MAC, CHASSIS_NETWORK_ADDRESS)
        port_id = _identifier(collector, remote, oids.LLDP_REM_PORT_ID, index, port_subtype, PORT_MAC, PORT_NETWORK_ADDRESS)
        neighbours.append(
            LldpNeighbour(
                local_port_num=local_port_num,
                local_port=local_id or local_desc,
                local_if_index=interface.if_index if interface else None,
                local_interface=interface.name if interface else None,
                chassis_id=chassis_id,
                chassis_id_subtype=chassis_subtype,
                port_id=port_id,
                port_id_subtype=port_subtype,
                port_description=text(remote, oids.LLDP_REM_PORT_DESC, index),
                system_name=text(remote, oids.LLDP_REM_SYS_NAME, index),
                system_description=text(remote, oids.LLDP_REM_SYS_DESC, index),
                management_addresses=tuple(addresses.get((local_port_num, remote_index), ())),
            )
        )
    return neighbours
