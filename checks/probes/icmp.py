"""ICMP echo (ping) through icmplib, with a raw socket where allowed and a Linux ping
socket (SOCK_DGRAM, no privileges, gated by net.ipv4.ping_group_range) otherwise."""

from __future__ import annotations

import asyncio
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from icmplib import (
    ICMPError,
    ICMPRequest,
    ICMPv4Socket,
    ICMPv6Socket,
    NameLookupError,
    SocketPermissionError,
    TimeoutExceeded,
    async_resolve,
    is_hostname,
    is_ipv6_address,
)
from icmplib.exceptions import ICMPSocketError
from icmplib.sockets import AsyncSocket
from icmplib.utils import unique_identifier

from checks.results import ProbeError, ProbeResult, down, up

_PING_GROUP_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


@dataclass(frozen=True, slots=True)
class IcmpProbe:
    """Sends ``count`` echo requests ``interval`` seconds apart; up when any reply comes
    back. The value is the packet loss (0.0 to 1.0), latency the mean round trip;
    details carry ``sent``, ``received``, ``rtt_min``, ``rtt_max`` and ``socket``
    ("raw" or "datagram"). ``privileged``: True forces a raw socket, False a ping
    socket, None (default) tries raw first. Without either the result is down with
    error ``permission_denied`` and says what to change."""

    kind: ClassVar[str] = "icmp"
    host: str
    count: int = 1
    interval: float = 0.2
    privileged: bool | None = None
    payload_size: int = 56

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("count must be at least 1")

    async def run(self, timeout: float) -> ProbeResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        address = self.host
        if is_hostname(self.host):
            try:
                async with asyncio.timeout(timeout):
                    address = (await async_resolve(self.host))[0]
            except (NameLookupError, TimeoutError):
                return down(ProbeError.RESOLUTION_FAILED, f"cannot resolve {self.host}")
        try:
            sock, mode = _open_socket(address, self.privileged)
        except SocketPermissionError:
            return down(ProbeError.PERMISSION_DENIED, _permission_help(self.privileged))
        except ICMPSocketError as exc:
            return down(ProbeError.NETWORK_ERROR, f"cannot open an ICMP socket: {exc}")

        rtts: list[float] = []
        errors: list[str] = []
        sent = 0
        ident = unique_identifier()  # ignored by ping sockets: the kernel picks the id
        with AsyncSocket(sock) as asock:
            for sequence in range(self.count):
                if sequence:
                    await asyncio.sleep(min(self.interval, max(0.0, deadline - loop.time())))
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                request = ICMPRequest(address, ident, sequence, payload_size=self.payload_size)
                try:
                    asock.send(request)
                    sent += 1
                    # share what is left of the timeout among the packets still to go
                    reply = await asock.receive(request, remaining / (self.count - sequence))
                    reply.raise_for_status()
                    rtts.append(reply.time - request.time)
                except TimeoutExceeded:
                    continue
                except ICMPError as exc:
                    errors.append(str(exc))
                except ICMPSocketError as exc:
                    return down(ProbeError.NETWORK_ERROR, f"ICMP to {self.host} failed: {exc}")

        if not rtts:
            if errors:
                return down(ProbeError.UNREACHABLE, f"{self.host}: {errors[-1]}", sent=sent, socket=mode)
            return down(
                ProbeError.TIMEOUT,
                f"no echo reply from {self.host} within {timeout:g} s ({sent} sent)",
                value=1.0,
                sent=sent,
                received=0,
                socket=mode,
            )
        loss = 1 - len(rtts) / sent
        return up(
            statistics.fmean(rtts),
            f"{len(rtts)}/{sent} echo replies from {self.host}, {statistics.fmean(rtts) * 1000:.2f} ms",
            loss,
            sent=sent,
            received=len(rtts),
            rtt_min=min(rtts),
            rtt_max=max(rtts),
            socket=mode,
        )


def _open_socket(address: str, privileged: bool | None) -> tuple[ICMPv4Socket | ICMPv6Socket, str]:
    socket_class = ICMPv6Socket if is_ipv6_address(address) else ICMPv4Socket
    if privileged is not False:
        try:
            return socket_class(privileged=True), "raw"
        except SocketPermissionError:
            if privileged:
                raise
    return socket_class(privileged=False), "datagram"


def _permission_help(privileged: bool | None) -> str:
    raw = "a raw ICMP socket needs root or CAP_NET_RAW"
    try:
        low, high = _PING_GROUP_RANGE.read_text().split()
    except (OSError, ValueError):
        ping = "ping sockets are not available here"
    else:
        ping = f"a ping socket needs the process's group ID ({os.getgid()}) within net.ipv4.ping_group_range, now '{low} {high}'"
    if privileged is True:
        return f"ICMP not permitted: {raw}"
    if privileged is False:
        return f"ICMP not permitted: {ping}"
    return f"ICMP not permitted: {raw}, and {ping}"
