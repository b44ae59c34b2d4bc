"""What a probe reports: a status, how long it took, what it measured and why."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# A measured value. Tuples hold multi-valued answers (DNS records); bytes are raw replies.
Value: TypeAlias = int | float | str | bytes | tuple[str, ...] | None


class CheckStatus(enum.StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


class ProbeError(enum.StrEnum):
    """Why a probe is down (or could not run), so callers can branch without parsing text."""

    TIMEOUT = "timeout"
    REFUSED = "refused"  # TCP RST or ICMP port unreachable
    UNREACHABLE = "unreachable"  # no route, host or network unreachable
    PERMISSION_DENIED = "permission_denied"  # e.g. ICMP without raw or ping sockets
    AUTHENTICATION_FAILED = "authentication_failed"  # SNMPv3 user, key or security level rejected
    RESOLUTION_FAILED = "resolution_failed"  # the target's host name did not resolve
    TLS_ERROR = "tls_error"
    PROTOCOL_ERROR = "protocol_error"  # the peer answered something unparseable
    UNEXPECTED_RESPONSE = "unexpected_response"  # parsed fine, but not what was expected
    NOT_FOUND = "not_found"  # SNMP noSuch*, DNS NXDOMAIN / no data
    NETWORK_ERROR = "network_error"  # any other OSError
    INTERNAL_ERROR = "internal_error"  # a bug in the probe; the runner contains it


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe run. ``latency`` is in seconds (None when nothing was measured)."""

    status: CheckStatus
    latency: float | None
    message: str
    value: Value = None
    error: ProbeError | None = None
    # Probe-specific facts beside the main value (HTTP: cert_days_left, ...).
    details: Mapping[str, Value | bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The target answered as expected (up or degraded)."""
        return self.status is not CheckStatus.DOWN

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (bytes become text with escapes)."""
        return {
            "status": self.status.value,
            "latency": self.latency,
            "message": self.message,
            "value": jsonable(self.value),
            "error": self.error.value if self.error else None,
            "details": {key: jsonable(val) for key, val in self.details.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeResult:
        value = data.get("value")
        return cls(
            status=CheckStatus(data["status"]),
            latency=data.get("latency"),
            message=data.get("message", ""),
            value=tuple(value) if isinstance(value, list) else value,
            error=ProbeError(data["error"]) if data.get("error") else None,
            details=dict(data.get("details") or {}),
        )


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, tuple):
        return list(value)
    return value


def up(latency: float | None, message: str, value: Value = None, **details: Value | bool) -> ProbeResult:
    return ProbeResult(CheckStatus.UP, latency, message, value, None, details)


def degraded(latency: float | None, message: str, value: Value = None, **details: Value | bool) -> ProbeResult:
    return ProbeResult(CheckStatus.DEGRADED, latency, message, value, None, details)


def down(
    error: ProbeError,
    message: str,
    latency: float | None = None,
    value: Value = None,
    **details: Value | bool,
) -> ProbeResult:
    return ProbeResult(CheckStatus.DOWN, latency, message, value, error, details)
