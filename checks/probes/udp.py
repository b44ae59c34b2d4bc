"""UDP: send a payload, wait for a reply, optionally check what it contains."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import ClassVar

from checks.probes._common import as_bytes, failure, hostport, since
from checks.results import ProbeError, ProbeResult, down, up


@dataclass(frozen=True, slots=True)
class UdpProbe:
    """Up when a datagram comes back (containing ``expect``, if given) before the
    timeout. A closed port on a host that sends ICMP port-unreachable is ``refused``;
    silence is ``timeout`` (UDP cannot tell a dropped packet from a silent service)."""

    kind: ClassVar[str] = "udp"
    host: str
    port: int
    payload: bytes | str
    expect: bytes | str | None = None

    async def run(self, timeout: float) -> ProbeResult:
        target = hostport(self.host, self.port)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[bytes] = loop.create_future()
        start = time.perf_counter()
        transport = None
        doing = f"waiting for a reply from {target}"
        try:
            async with asyncio.timeout(timeout):
                # connected socket: the kernel filters other senders and reports ICMP errors
                transport, _ = await loop.create_datagram_endpoint(lambda: _ReplyProtocol(reply), remote_addr=(self.host, self.port))
                transport.sendto(as_bytes(self.payload))
                data = await reply
        except OSError as exc:
            return failure(exc, doing, timeout)
        finally:
            if transport is not None:
                transport.close()
        latency = since(start)
        if self.expect is not None and as_bytes(self.expect) not in data:
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"reply from {target} lacks {as_bytes(self.expect)!r}",
                latency,
                data,
            )
        return up(latency, f"{len(data)} bytes from {target}", data)


class _ReplyProtocol(asyncio.DatagramProtocol):
    def __init__(self, reply: asyncio.Future[bytes]) -> None:
        self.reply = reply

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.reply.done():
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc or ConnectionError("socket closed"))
