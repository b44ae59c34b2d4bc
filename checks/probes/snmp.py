"""SNMP v1/v2c GET of one OID, with an optional comparison of the value."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import ClassVar

from checks.compare import Comparison
from checks.probes import _ber
from checks.probes._common import failure, hostport, since
from checks.results import ProbeError, ProbeResult, Value, down, up

_VERSIONS = {"1": 0, "2c": 1}


@dataclass(frozen=True, slots=True)
class SnmpProbe:
    """Up when the agent returns a value for ``oid`` that satisfies ``expect`` (when
    given). The value is an int for numeric types, the dotted text for OIDs and IP
    addresses, and text for OCTET STRINGs that are printable UTF-8, else their bytes as
    colon-separated hex (``d6:0e:32:94:e0:a0``); details carry ``type``. The request is
    resent ``retries`` times, evenly within the timeout. Agents drop requests with a wrong
    community silently, so a wrong community shows as a timeout."""

    kind: ClassVar[str] = "snmp"
    host: str
    oid: str
    community: str = "public"
    port: int = 161
    version: str = "2c"
    expect: Comparison | None = None
    retries: int = 1

    def __post_init__(self) -> None:
        if self.version not in _VERSIONS:
            raise ValueError(f"SNMP version {self.version!r} is not supported; use '1' or '2c'")
        _ber.encode_oid(self.oid)  # reject a malformed OID when defined
        if isinstance(self.expect, dict):  # from JSON
            object.__setattr__(self, "expect", Comparison(**self.expect))

    async def run(self, timeout: float) -> ProbeResult:
        target = hostport(self.host, self.port)
        request_id = secrets.randbits(31)
        request = _ber.get_request(_VERSIONS[self.version], self.community, request_id, [self.oid])
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        transport: asyncio.DatagramTransport | None = None
        queue: asyncio.Queue[bytes | Exception] = asyncio.Queue()
        doing = f"waiting for {target} to answer GET {self.oid}"
        try:
            async with asyncio.timeout(timeout):
                transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(queue), remote_addr=(self.host, self.port))
                response = await _exchange(transport, queue, request, request_id, timeout / (self.retries + 1))
        except OSError as exc:
            result = failure(exc, doing, timeout)
            if result.error is ProbeError.TIMEOUT:
                return down(ProbeError.TIMEOUT, f"{result.message} (wrong community or no agent?)")
            return result
        except _ber.BerError as exc:
            return down(ProbeError.PROTOCOL_ERROR, f"unparseable SNMP response from {target}: {exc}")
        finally:
            if transport is not None:
                transport.close()
        return self._judge(response, target, since(start))

    def _judge(self, response: _ber.Response, target: str, latency: float) -> ProbeResult:
        if response.error_status:
            status = response.error_status
            name = _ber.ERROR_STATUS[status] if status < len(_ber.ERROR_STATUS) else str(status)
            error = ProbeError.NOT_FOUND if name == "noSuchName" else ProbeError.UNEXPECTED_RESPONSE
            return down(error, f"{target} answered {name} for {self.oid}", latency)
        if len(response.varbinds) != 1:
            return down(ProbeError.PROTOCOL_ERROR, f"{target} returned {len(response.varbinds)} values for one OID")
        varbind = response.varbinds[0]
        if varbind.type in _ber.EXCEPTIONS.values():
            return down(ProbeError.NOT_FOUND, f"{target} has {varbind.type} at {self.oid}", latency)
        value = _present(varbind.value)
        if self.expect is not None and not self.expect.holds(value):
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"{self.oid} = {value!r}, expected {self.expect.describe()}",
                latency,
                value,
                type=varbind.type,
            )
        return up(latency, f"{self.oid} = {value!r}", value, type=varbind.type)


async def _exchange(
    transport: asyncio.DatagramTransport,
    queue: asyncio.Queue[bytes | Exception],
    request: bytes,
    request_id: int,
    resend_after: float,
) -> _ber.Response:
    """Send, resending every ``resend_after`` seconds, until the matching response
    arrives; the caller's timeout ends it."""
    while True:
        transport.sendto(request)
        try:
            async with asyncio.timeout(resend_after):
                while True:
                    item = await queue.get()
                    if isinstance(item, Exception):
                        raise item
                    try:
                        response = _ber.parse_response(item)
                    except _ber.BerError:
                        continue  # a stray or corrupt datagram: keep waiting for ours
                    if response.request_id == request_id:
                        return response
        except TimeoutError:
            continue


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[bytes | Exception]) -> None:
        self.queue = queue

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait(exc)


def _present(value: int | bytes | str | None) -> Value:
    if not isinstance(value, bytes):
        return value
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex(":")
    if text.isprintable() or all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return text
    return value.hex(":")
