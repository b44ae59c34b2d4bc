"""The MIB objects this package reads, by name (numeric so no MIB files are needed)."""

from __future__ import annotations

from .values import Oid, parse_oid


def _oid(text: str) -> Oid:
    return parse_oid(text)


# SNMPv2-MIB system group (RFC 3418): scalars, instance .0
SYS_DESCR = _oid("1.3.6.1.2.1.1.1")
SYS_OBJECT_ID = _oid("1.3.6.1.2.1.1.2")
SYS_UPTIME = _oid("1.3.6.1.2.1.1.3")
SYS_CONTACT = _oid("1.3.6.1.2.1.1.4")
SYS_NAME = _oid("1.3.6.1.2.1.1.5")
SYS_LOCATION = _oid("1.3.6.1.2.1.1.6")

# IF-MIB ifTable (RFC 2863): ifEntry columns
IF_ENTRY = _oid("1.3.6.1.2.1.2.2.1")
IF_DESCR = IF_ENTRY + (2,)
IF_TYPE = IF_ENTRY + (3,)
IF_MTU = IF_ENTRY + (4,)
IF_SPEED = IF_ENTRY + (5,)
IF_PHYS_ADDRESS = IF_ENTRY + (6,)
IF_ADMIN_STATUS = IF_ENTRY + (7,)
IF_OPER_STATUS = IF_ENTRY + (8,)
IF_IN_OCTETS = IF_ENTRY + (10,)
IF_IN_DISCARDS = IF_ENTRY + (13,)
IF_IN_ERRORS = IF_ENTRY + (14,)
IF_OUT_OCTETS = IF_ENTRY + (16,)
IF_OUT_DISCARDS = IF_ENTRY + (19,)
IF_OUT_ERRORS = IF_ENTRY + (20,)

# IF-MIB ifXTable: ifXEntry columns
IFX_ENTRY = _oid("1.3.6.1.2.1.31.1.1.1")
IF_NAME = IFX_ENTRY + (1,)
IF_HC_IN_OCTETS = IFX_ENTRY + (6,)
IF_HC_OUT_OCTETS = IFX_ENTRY + (10,)
IF_HIGH_SPEED = IFX_ENTRY + (15,)
IF_ALIAS = IFX_ENTRY + (18,)

# IP-MIB (RFC 4293): the deprecated IPv4-only ipAddrTable, index = the address
IP_AD_ENT_IF_INDEX = _oid("1.3.6.1.2.1.4.20.1.2")
IP_AD_ENT_NET_MASK = _oid("1.3.6.1.2.1.4.20.1.3")

# ipAddressTable, index = InetAddressType.length.octets
IP_ADDRESS_ENTRY = _oid("1.3.6.1.2.1.4.34.1")
IP_ADDRESS_IF_INDEX = IP_ADDRESS_ENTRY + (3,)
IP_ADDRESS_TYPE = IP_ADDRESS_ENTRY + (4,)
IP_ADDRESS_PREFIX = IP_ADDRESS_ENTRY + (5,)
# ipAddressPrefix points into ipAddressPrefixTable; its last sub-identifier is the length.
IP_ADDRESS_PREFIX_ENTRY = _oid("1.3.6.1.2.1.4.32.1")

# ipNetToMediaTable (IPv4 ARP), index = ifIndex.a.b.c.d
IP_NET_TO_MEDIA_PHYS_ADDRESS = _oid("1.3.6.1.2.1.4.22.1.2")
IP_NET_TO_MEDIA_TYPE = _oid("1.3.6.1.2.1.4.22.1.4")

# ipNetToPhysicalTable (ARP and IPv6 ND), index = ifIndex.InetAddressType.length.octets
IP_NET_TO_PHYSICAL_PHYS_ADDRESS = _oid("1.3.6.1.2.1.4.35.1.4")
IP_NET_TO_PHYSICAL_TYPE = _oid("1.3.6.1.2.1.4.35.1.6")

# LLDP-MIB (IEEE 802.1AB-2005)
LLDP_LOC_PORT_ENTRY = _oid("1.0.8802.1.1.2.1.3.7.1")  # index lldpLocPortNum
LLDP_LOC_PORT_ID = LLDP_LOC_PORT_ENTRY + (3,)
LLDP_LOC_PORT_DESC = LLDP_LOC_PORT_ENTRY + (4,)
LLDP_REM_ENTRY = _oid("1.0.8802.1.1.2.1.4.1.1")  # index timeMark.localPortNum.index
LLDP_REM_CHASSIS_ID_SUBTYPE = LLDP_REM_ENTRY + (4,)
LLDP_REM_CHASSIS_ID = LLDP_REM_ENTRY + (5,)
LLDP_REM_PORT_ID_SUBTYPE = LLDP_REM_ENTRY + (6,)
LLDP_REM_PORT_ID = LLDP_REM_ENTRY + (7,)
LLDP_REM_PORT_DESC = LLDP_REM_ENTRY + (8,)
LLDP_REM_SYS_NAME = LLDP_REM_ENTRY + (9,)
LLDP_REM_SYS_DESC = LLDP_REM_ENTRY + (10,)
# lldpRemManAddrTable rows exist only as indexes; lldpRemManAddrIfSubtype is readable.
LLDP_REM_MAN_ADDR_IF_SUBTYPE = _oid("1.0.8802.1.1.2.1.4.2.1.3")

# ENTITY-MIB entPhysicalTable (RFC 6933)
ENT_PHYSICAL_ENTRY = _oid("1.3.6.1.2.1.47.1.1.1.1")
ENT_PHYSICAL_CONTAINED_IN = ENT_PHYSICAL_ENTRY + (4,)
ENT_PHYSICAL_CLASS = ENT_PHYSICAL_ENTRY + (5,)
ENT_PHYSICAL_SOFTWARE_REV = ENT_PHYSICAL_ENTRY + (10,)
ENT_PHYSICAL_SERIAL_NUM = ENT_PHYSICAL_ENTRY + (11,)
ENT_PHYSICAL_MODEL_NAME = ENT_PHYSICAL_ENTRY + (13,)
ENT_CLASS_CHASSIS = 3

ENTERPRISES = _oid("1.3.6.1.4.1")
