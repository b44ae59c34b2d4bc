"""TCP connect, optionally sending a payload and waiting for an expected reply."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import ClassVar

from checks.probes._common import as_bytes, close_writer, failure, hostport, since
from checks.results import ProbeError, ProbeResult, down, up

_MAX_READ = 64 * 1024


@dataclass(frozen=True, slots=True)
class TcpProbe:
    """Up when the connection opens (and, with ``expect``, when the bytes read before
    the timeout contain it). ``latency`` is the connect time; with ``expect`` it runs
    until the expected bytes arrived."""

    kind: ClassVar[str] = "tcp"
    host: str
    port: int
    send: bytes | str | None = None
    expect: bytes | str | None = None

    async def run(self, timeout: float) -> ProbeResult:
        target = hostport(self.host, self.port)
        start = time.perf_counter()
        doing = f"connecting to {target}"
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=_MAX_READ)
                connected = since(start)
                if self.send:
                    doing = f"sending to {target}"
                    writer.write(as_bytes(self.send))
                    await writer.drain()
                if self.expect is None:
                    return up(connected, f"connected to {target}", connect_time=connected)
                doing = f"waiting for {as_bytes(self.expect)!r} from {target}"
                received = await _read_until(reader, as_bytes(self.expect))
        except (OSError, asyncio.IncompleteReadError) as exc:
            return failure(exc, doing, timeout)
        finally:
            if writer is not None:
                await close_writer(writer)
        latency = since(start)
        if as_bytes(self.expect) not in received:
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"{target} closed without sending {as_bytes(self.expect)!r}",
                latency,
                received,
                connect_time=connected,
            )
        return up(latency, f"{target} sent {as_bytes(self.expect)!r}", received, connect_time=connected)


async def _read_until(reader: asyncio.StreamReader, expected: bytes) -> bytes:
    """Bytes read until they contain ``expected``, EOF, or the read cap."""
    received = b""
    while expected not in received and len(received) < _MAX_READ:
        chunk = await reader.read(_MAX_READ - len(received))
        if not chunk:
            break
        received += chunk
    return received
