"""IP addresses per interface from IP-MIB: ipAddressTable (IPv4 and IPv6) and the older,
IPv4-only ipAddrTable, which many agents still fill instead of or beside it."""

from __future__ import annotations

import ipaddress

from . import oids
from .collector import Collector, rows
from .facts import IpAddress
from .values import SnmpValue, as_int, inet_from_index, ipv4_from_index, prefix_length_from_mask, within

SECTION = "ip_addresses"

# IP-MIB IpAddressType: broadcast addresses are not interface addresses.
IP_ADDRESS_TYPE_BROADCAST = 3


def _prefix_length(value: SnmpValue) -> int | None:
    """ipAddressPrefix points to ipAddressPrefixTable; the last sub-identifier is the length.

    zeroDotZero (unknown) and pointers elsewhere give None.
    """
    if isinstance(value, tuple):
        if within(value, oids.IP_ADDRESS_PREFIX_ENTRY) and 0 <= value[-1] <= 128:
            return value[-1]
        return None
    raise ValueError("expected an OID")


def collect_ip_addresses(collector: Collector) -> list[IpAddress]:
    found: dict[tuple[int | None, str], IpAddress] = {}

    table = collector.columns(SECTION, "ipAddressTable", [oids.IP_ADDRESS_IF_INDEX, oids.IP_ADDRESS_TYPE, oids.IP_ADDRESS_PREFIX])
    for index in rows(table):
        try:
            address, _ = inet_from_index(index)
        except ValueError as error:
            collector.malformed(SECTION, oids.IP_ADDRESS_ENTRY, index, None, str(error))
            continue
        if collector.cell(SECTION, table, oids.IP_ADDRESS_TYPE, index, as_int) == IP_ADDRESS_TYPE_BROADCAST:
            continue
        if_index = collector.cell(SECTION, table, oids.IP_ADDRESS_IF_INDEX, index, as_int)
        prefix = collector.cell(SECTION, table, oids.IP_ADDRESS_PREFIX, index, _prefix_length)
        found[(if_index, address)] = IpAddress(address, prefix, if_index, "ipAddressTable")

    legacy = collector.columns(SECTION, "ipAddrTable", [oids.IP_AD_ENT_IF_INDEX, oids.IP_AD_ENT_NET_MASK])
    for index in rows(legacy):
        try:
            address = ipv4_from_index(index)
        except ValueError as error:
            collector.malformed(SECTION, oids.IP_AD_ENT_IF_INDEX, index, None, str(error))
            continue
        if_index = collector.cell(SECTION, legacy, oids.IP_AD_ENT_IF_INDEX, index, as_int)
        prefix = collector.cell(SECTION, legacy, oids.IP_AD_ENT_NET_MASK, index, prefix_length_from_mask)
        existing = found.get((if_index, address))
        # The newer table wins, but an old-table netmask fills an unknown prefix.
        if existing is None or (existing.prefix_length is None and prefix is not None):
            found[(if_index, address)] = IpAddress(address, prefix, if_index, "ipAddrTable")

    def order(entry: IpAddress) -> tuple[int, int, int]:
        return entry.if_index or 0, entry.version, int(ipaddress.ip_address(entry.address))

    return sorted(found.values(), key=order)
