"""Helpers shared by the probes: turning socket errors into typed results."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import time

from checks.results import ProbeError, ProbeResult, down

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


def since(start: float) -> float:
    return time.perf_counter() - start


def failure(exc: BaseException, doing: str, timeout: float | None = None) -> ProbeResult:
    """A down result for an exception raised while ``doing`` something. No latency: the
    peer gave no answer worth timing."""
    if isinstance(exc, TimeoutError):
        after = f" after {timeout:g} s" if timeout is not None else ""
        return down(ProbeError.TIMEOUT, f"timed out{after} {doing}")
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc
        return down(ProbeError.TLS_ERROR, f"TLS error {doing}: {reason}")
    if isinstance(exc, socket.gaierror):
        return down(ProbeError.RESOLUTION_FAILED, f"cannot resolve host {doing}: {exc.strerror}")
    if isinstance(exc, ConnectionRefusedError):
        return down(ProbeError.REFUSED, f"connection refused {doing}")
    if isinstance(exc, PermissionError):
        return down(ProbeError.PERMISSION_DENIED, f"permission denied {doing}: {exc}")
    if isinstance(exc, (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError)):
        return down(ProbeError.PROTOCOL_ERROR, f"connection closed by peer {doing}")
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return down(ProbeError.UNREACHABLE, f"unreachable {doing}: {exc.strerror}")
    if isinstance(exc, OSError):
        return down(ProbeError.NETWORK_ERROR, f"network error {doing}: {exc.strerror or exc}")
    raise exc


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def close_writer(writer: asyncio.StreamWriter) -> None:
    """Close a stream without letting a peer that never finishes the close stall us."""
    writer.close()
    try:
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except (OSError, TimeoutError, ssl.SSLError):
        writer.transport.abort()


def as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data
