"""SSH banner: connect and read the server's identification string (RFC 4253 §4.2)."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import ClassVar

from checks.probes._common import close_writer, failure, hostport, since
from checks.results import ProbeError, ProbeResult, down, up

# The server may send other lines before its identification; bound what we read.
_MAX_LINES = 20
_MAX_LINE = 255
_CLIENT_IDENT = b"SSH-2.0-DanbyteCheck\r\n"


@dataclass(frozen=True, slots=True)
class SshProbe:
    """Up when the server identifies itself as SSH 2.0 (or 1.99) and, with ``expect``,
    the banner matches that regular expression. The value is the banner, e.g.
    ``SSH-2.0-OpenSSH_9.6``; details carry ``protocol`` and ``software``."""

    kind: ClassVar[str] = "ssh"
    host: str
    port: int = 22
    expect: str | None = None

    def __post_init__(self) -> None:
        if self.expect is not None:
            try:
                re.compile(self.expect)
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.expect!r}: {exc}") from None

    async def run(self, timeout: float) -> ProbeResult:
        target = hostport(self.host, self.port)
        start = time.perf_counter()
        doing = f"connecting to {target}"
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
                doing = f"waiting for the SSH banner of {target}"
                banner = await _read_banner(reader)
                latency = since(start)
                if banner is not None:
                    # Identify ourselves so the server logs a closed connection rather
                    # than a client that never spoke.
                    writer.write(_CLIENT_IDENT)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            if isinstance(exc, asyncio.LimitOverrunError):
                return down(ProbeError.PROTOCOL_ERROR, f"{target} sent an over-long line, not an SSH banner")
            return failure(exc, doing, timeout)
        finally:
            if writer is not None:
                await close_writer(writer)
        if banner is None:
            return down(ProbeError.PROTOCOL_ERROR, f"{target} sent no SSH identification line", latency)
        match = re.fullmatch(r"SSH-([^-\s]+)-(\S+)(?: (.*))?", banner)
        if match is None:
            return down(ProbeError.PROTOCOL_ERROR, f"malformed SSH banner from {target}: {banner!r}", latency, banner)
        protocol, software = match.group(1), match.group(2)
        details = {"protocol": protocol, "software": software}
        if protocol not in ("2.0", "1.99"):
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"{target} speaks SSH {protocol}, not 2.0",
                latency,
                banner,
                **details,
            )
        if self.expect is not None and re.search(self.expect, banner) is None:
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"SSH banner {banner!r} from {target} does not match {self.expect!r}",
                latency,
                banner,
                **details,
            )
        return up(latency, f"{target}: {banner}", banner, **details)


async def _read_banner(reader: asyncio.StreamReader) -> str | None:
    for _ in range(_MAX_LINES):
        line = await reader.readuntil(b"\n")
        if len(line) > _MAX_LINE and not line.startswith(b"SSH-"):
            return None
        if line.startswith(b"SSH-"):
            return line.rstrip(b"\r\n").decode("utf-8", "replace")
    return None
