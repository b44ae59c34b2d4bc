"""Where to send requests, and how long to wait for each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One SNMP agent.

    ``timeout`` (seconds) and ``retries`` apply to every request, so one unanswered request
    costs ``timeout * (retries + 1)``. ``max_duration`` bounds a whole discovery: it is
    checked before each walk or get, so it can be overrun by at most one walk.
    ``max_repetitions`` is the GETBULK size (v2c/v3); lower it for agents with small buffers.
    """

    host: str
    port: int = 161
    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    max_duration: float | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("host is required")
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.retries < 0:
            raise ValueError("retries cannot be negative")
        if self.max_repetitions < 1:
            raise ValueError("max_repetitions must be at least 1")
        if self.max_duration is not None and self.max_duration < 0:
            raise ValueError("max_duration cannot be negative")

    @property
    def worst_case_request_seconds(self) -> float:
        """How long one request may take when the agent never answers."""
        return self.timeout * (self.retries + 1)
