"""Just enough BER (X.690) for SNMP v1/v2c GET: build a GetRequest, parse a Response.

Written here rather than calling ezsnmp from threads: a blocking library needs one
thread per outstanding request, so thousands of checks (or a few hundred silent agents)
would queue behind a thread pool and overrun their timeouts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

INTEGER, OCTET_STRING, NULL, OBJECT_IDENTIFIER, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
GET_REQUEST, RESPONSE = 0xA0, 0xA2

# Application types of SNMPv2-SMI; all but IpAddress and Opaque are unsigned integers.
APPLICATION_TYPES = {
    0x40: "IpAddress",
    0x41: "Counter32",
    0x42: "Gauge32",
    0x43: "TimeTicks",
    0x44: "Opaque",
    0x46: "Counter64",
    0x47: "UInteger32",
}
# v2c exceptions in place of a value
EXCEPTIONS = {0x80: "noSuchObject", 0x81: "noSuchInstance", 0x82: "endOfMibView"}
ERROR_STATUS = (
    "noError tooBig noSuchName badValue readOnly genErr noAccess wrongType wrongLength "
    "wrongEncoding wrongValue noCreation inconsistentValue resourceUnavailable commitFailed "
    "undoFailed authorizationError notWritable inconsistentName"
).split()


class BerError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class VarBind:
    oid: str
    type: str  # "Integer", "OctetString", "Counter64", ..., or a v2c exception name
    value: int | bytes | str | None


@dataclass(frozen=True, slots=True)
class Response:
    request_id: int
    error_status: int
    error_index: int
    varbinds: tuple[VarBind, ...]


def get_request(version: int, community: str, request_id: int, oids: list[str]) -> bytes:
    """``version`` is the wire value: 0 for SNMPv1, 1 for v2c."""
    varbinds = b"".join(_tlv(SEQUENCE, encode_oid(oid) + _tlv(NULL, b"")) for oid in oids)
    pdu = _tlv(
        GET_REQUEST,
        encode_integer(request_id) + encode_integer(0) + encode_integer(0) + _tlv(SEQUENCE, varbinds),
    )
    message = encode_integer(version) + _tlv(OCTET_STRING, community.encode()) + pdu
    return _tlv(SEQUENCE, message)


def parse_response(data: bytes) -> Response:
    tag, message, rest = _read_tlv(data)
    if tag != SEQUENCE or rest:
        raise BerError("not an SNMP message")
    _, _, message = _read_tlv(message)  # version
    _, _, message = _read_tlv(message)  # community
    tag, pdu, _ = _read_tlv(message)
    if tag != RESPONSE:
        raise BerError(f"PDU type 0x{tag:02x} is not a Response")
    request_id, pdu = _read_integer(pdu)
    error_status, pdu = _read_integer(pdu)
    error_index, pdu = _read_integer(pdu)
    tag, varbind_list, _ = _read_tlv(pdu)
    if tag != SEQUENCE:
        raise BerError("malformed variable-bindings")
    varbinds = []
    while varbind_list:
        tag, varbind, varbind_list = _read_tlv(varbind_list)
        tag, oid, value = _read_tlv(varbind)
        if tag != OBJECT_IDENTIFIER:
            raise BerError("variable binding without an OID")
        varbinds.append(_decode_value(decode_oid(oid), value))
    return Response(request_id, error_status, error_index, tuple(varbinds))


def encode_integer(value: int) -> bytes:
    return _tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def encode_oid(oid: str) -> bytes:
    arcs = [int(arc) for arc in oid.strip(".").split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"invalid OID {oid!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return _tlv(OBJECT_IDENTIFIER, bytes(body))


def decode_oid(content: bytes) -> str:
    arcs, arc = [], 0
    for byte in content:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if not arcs:
        raise BerError("empty OID")
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def _decode_value(oid: str, data: bytes) -> VarBind:
    tag, content, _ = _read_tlv(data)
    if tag == INTEGER:
        return VarBind(oid, "Integer", int.from_bytes(content, "big", signed=True))
    if tag == OCTET_STRING:
        return VarBind(oid, "OctetString", content)
    if tag == NULL:
        return VarBind(oid, "Null", None)
    if tag == OBJECT_IDENTIFIER:
        return VarBind(oid, "ObjectIdentifier", decode_oid(content))
    if tag in EXCEPTIONS:
        return VarBind(oid, EXCEPTIONS[tag], None)
    name = APPLICATION_TYPES.get(tag)
    if name == "IpAddress":
        return VarBind(oid, name, str(ipaddress.IPv4Address(content)))
    if name == "Opaque":
        return VarBind(oid, name, content)
    if name is not None:
        return VarBind(oid, name, int.from_bytes(content, "big"))
    raise BerError(f"unknown value type 0x{tag:02x}")


def _read_integer(data: bytes) -> tuple[int, bytes]:
    tag, content, rest = _read_tlv(data)
    if tag != INTEGER:
        raise BerError("expected an INTEGER")
    return int.from_bytes(content, "big", signed=True), rest


def _read_tlv(data: bytes) -> tuple[int, bytes, bytes]:
    """(tag, content, what follows). SNMP uses single-byte tags only."""
    if len(data) < 2:
        raise BerError("truncated")
    tag, length, offset = data[0], data[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise BerError("bad length")
        length, offset = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    if len(data) < offset + length:
        raise BerError("truncated")
    return tag, data[offset : offset + length], data[offset + length :]


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content
