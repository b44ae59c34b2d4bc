"""OIDs and SNMP values as plain Python, and decoders for the shapes MIBs use.

Decoders raise ``ValueError`` on malformed input; callers turn that into a
``MalformedValue`` and carry on with the rest of the row.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

Oid = tuple[int, ...]


@dataclass(frozen=True)
class RawValue:
    """A value of a type we do not interpret (BITS, Opaque, ...), kept as the agent printed it."""

    type: str
    text: str


# int: INTEGER, Counter32/64, Gauge32, TimeTicks; bytes: OCTET STRING; str: IpAddress; Oid: OID.
SnmpValue = int | bytes | str | Oid | RawValue | None


def parse_oid(text: str) -> Oid:
    text = text.strip().lstrip(".")
    if not text:
        return ()
    return tuple(int(part) for part in text.split("."))


def format_oid(oid: Oid) -> str:
    return ".".join(str(part) for part in oid)


def within(oid: Oid, base: Oid) -> bool:
    """True for OIDs strictly below ``base`` (the base itself is not an instance)."""
    return len(oid) > len(base) and oid[: len(base)] == base


def describe(value: SnmpValue) -> str:
    """Short printable form of a value for error messages."""
    if isinstance(value, bytes):
        printable = value.isascii() and value.decode("ascii").isprintable()
        text = repr(value.decode("ascii")) if printable else "0x" + value.hex()
    elif isinstance(value, tuple):
        text = format_oid(value)
    elif isinstance(value, RawValue):
        text = f"{value.type}: {value.text}"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_int(value: SnmpValue) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"expected an integer, got {describe(value)}")


def as_text(value: SnmpValue) -> str | None:
    """DisplayString/SnmpAdminString as str; empty means absent.

    Agents often pad with NULs; UTF-8 is tried first because SnmpAdminString is UTF-8, and
    Latin-1 keeps any other byte sequence readable instead of failing.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        raw = value.rstrip(b"\x00")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"expected a string, got {describe(value)}")
    return text if text else None


_MAC_TEXT = re.compile(r"^[0-9A-Fa-f]{1,2}([:-][0-9A-Fa-f]{1,2}){5}$")


def format_mac(octets: bytes) -> str:
    return ":".join(f"{b:02x}" for b in octets)


def as_mac(value: SnmpValue) -> str | None:
    """A 6-octet MAC address as aa:bb:cc:dd:ee:ff; empty means absent (loopbacks, tunnels)."""
    if value is None or value == b"":
        return None
    if isinstance(value, bytes):
        if len(value) == 6:
            return format_mac(value)
        raise ValueError(f"expected 6 octets for a MAC address, got {len(value)}: {describe(value)}")
    # Agents decoded through a MIB display hint print "0:1c:73:65:8e:3a".
    if isinstance(value, str) and _MAC_TEXT.match(value):
        return format_mac(bytes(int(part, 16) for part in re.split("[:-]", value)))
    raise ValueError(f"expected a MAC address, got {describe(value)}")


def as_ipv4(value: SnmpValue) -> str:
    if isinstance(value, str):
        return str(ipaddress.IPv4Address(value))
    if isinstance(value, bytes) and len(value) == 4:
        return str(ipaddress.IPv4Address(value))
    raise ValueError(f"expected an IPv4 address, got {describe(value)}")


# InetAddressType (RFC 4001) -> (address octets, zone octets)
_INET_TYPES = {1: (4, 0), 2: (16, 0), 3: (4, 4), 4: (16, 4)}


def inet_address(address_type: int, octets: bytes) -> str:
    """An InetAddress (RFC 4001) as text; zones (ipv4z/ipv6z) are dropped."""
    sizes = _INET_TYPES.get(address_type)
    if sizes is None:
        raise ValueError(f"unsupported InetAddressType {address_type}")
    size, zone = sizes
    if len(octets) != size + zone:
        raise ValueError(f"InetAddressType {address_type} needs {size + zone} octets, got {len(octets)}")
    return str(ipaddress.ip_address(bytes(octets[:size])))


def octets_from_subids(subids: Oid) -> bytes:
    if any(not 0 <= s <= 255 for s in subids):
        raise ValueError(f"index part is not a list of octets: {format_oid(subids)}")
    return bytes(subids)


def inet_from_index(index: Oid, start: int = 0) -> tuple[str, int]:
    """Decode ``type.length.octets`` from a table index; return (address, position after it).

    Some agents leave out the length; if the rest of the index is exactly one address,
    it is accepted without one.
    """
    if len(index) <= start:
        raise ValueError("index too short for an InetAddress")
    address_type = index[start]
    sizes = _INET_TYPES.get(address_type)
    if sizes is None:
        raise ValueError(f"unsupported InetAddressType {address_type} in index {format_oid(index)}")
    expected = sum(sizes)
    if len(index) > start + 1 and index[start + 1] == expected and len(index) >= start + 2 + expected:
        octets = index[start + 2 : start + 2 + expected]
        return inet_address(address_type, octets_from_subids(octets)), start + 2 + expected
    if len(index) - (start + 1) == expected:
        return inet_address(address_type, octets_from_subids(index[start + 1 :])), len(index)
    raise ValueError(f"malformed InetAddress in index {format_oid(index)}")


def ipv4_from_index(index: Oid, start: int = 0) -> str:
    octets = index[start : start + 4]
    if len(octets) != 4:
        raise ValueError(f"index too short for an IPv4 address: {format_oid(index)}")
    return str(ipaddress.IPv4Address(octets_from_subids(octets)))


def prefix_length_from_mask(mask: SnmpValue) -> int:
    """255.255.255.0 -> 24; non-contiguous masks are malformed."""
    # Done by hand: ipaddress would read 0.0.0.255 as a host mask and answer 24.
    bits = int(ipaddress.IPv4Address(as_ipv4(mask)))
    length = bin(bits).count("1")
    if bits != (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF:
        raise ValueError(f"not a contiguous netmask: {describe(mask)}")
    return length
