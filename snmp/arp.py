"""ARP and IPv6 neighbour caches from IP-MIB.

ipNetToPhysicalTable covers both families; ipNetToMediaTable is the older IPv4-only table.
Agents fill either or both, so entries are merged on (ifIndex, address).
"""

from __future__ import annotations

import ipaddress

from . import oids
from .collector import Collector, rows
from .facts import ArpEntry
from .values import Oid, as_int, as_mac, inet_from_index, ipv4_from_index

SECTION = "arp"

# ipNetToMediaType / ipNetToPhysicalType
STATES = {1: "other", 2: "invalid", 3: "dynamic", 4: "static", 5: "local"}
INVALID = 2

# (table name, physical address column, type column)
PHYSICAL = ("ipNetToPhysicalTable", oids.IP_NET_TO_PHYSICAL_PHYS_ADDRESS, oids.IP_NET_TO_PHYSICAL_TYPE)
MEDIA = ("ipNetToMediaTable", oids.IP_NET_TO_MEDIA_PHYS_ADDRESS, oids.IP_NET_TO_MEDIA_TYPE)


def _physical_index(index: Oid) -> tuple[int, str]:
    """ifIndex.InetAddressType.length.octets"""
    if len(index) < 2:
        raise ValueError("index too short")
    return index[0], inet_from_index(index, 1)[0]


def _media_index(index: Oid) -> tuple[int, str]:
    """ifIndex.a.b.c.d"""
    if len(index) != 5:
        raise ValueError("ipNetToMedia index is ifIndex and four octets")
    return index[0], ipv4_from_index(index, 1)


def collect_arp(collector: Collector) -> list[ArpEntry]:
    found: dict[tuple[int, str], ArpEntry] = {}
    # ipNetToPhysicalTable first: where both tables list an entry, it is the one kept.
    for (name, address_column, type_column), parse_index in ((PHYSICAL, _physical_index), (MEDIA, _media_index)):
        table = collector.columns(SECTION, name, [address_column, type_column])
        for index in rows(table):
            try:
                key = parse_index(index)
            except ValueError as error:
                collector.malformed(SECTION, address_column, index, None, str(error))
                continue
            if key in found:
                continue
            state = collector.cell(SECTION, table, type_column, index, as_int)
            mac = collector.cell(SECTION, table, address_column, index, as_mac)
            if state == INVALID or mac is None:
                continue
            found[key] = ArpEntry(key[0], key[1], mac, STATES.get(state) if state else None, name)

    def order(entry: ArpEntry) -> tuple[int, int, int]:
        address = ipaddress.ip_address(entry.ip)
        return entry.if_index, address.version, int(address)

    return sorted(found.values(), key=order)
