"""Typed problems reported next to partial facts.

These are records, not exceptions: ``discover`` never raises for a device's behaviour, it
returns what it could collect plus a list of these. Match on the class
(``isinstance(e, NoResponse)``) or on ``kind`` once serialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DiscoveryError:
    """Something went wrong in one section ("system", "interfaces", "lldp", ...)."""

    section: str
    detail: str
    oid: str | None = None
    kind: str = field(default="error", init=False)


@dataclass(frozen=True)
class NoResponse(DiscoveryError):
    """The agent did not answer within timeout * (retries + 1); later sections are skipped."""

    kind: str = field(default="no_response", init=False)


@dataclass(frozen=True)
class AuthenticationFailed(DiscoveryError):
    """SNMPv3 user, key or security level rejected (v1/v2c bad communities look like NoResponse)."""

    kind: str = field(default="authentication_failed", init=False)


@dataclass(frozen=True)
class ConnectionFailed(DiscoveryError):
    """No request could be sent: unresolvable host name, unusable transport or parameters."""

    kind: str = field(default="connection_failed", init=False)


@dataclass(frozen=True)
class TableMissing(DiscoveryError):
    """The agent returned no rows for a table (SNMP cannot tell absent from empty)."""

    kind: str = field(default="table_missing", init=False)


@dataclass(frozen=True)
class WalkEndedEarly(DiscoveryError):
    """A walk stopped (endOfMibView, OIDs out of order) although the agent holds later data."""

    kind: str = field(default="walk_ended_early", init=False)


@dataclass(frozen=True)
class MalformedValue(DiscoveryError):
    """Values that could not be decoded (wrong type, wrong length, bad index); fields left empty."""

    kind: str = field(default="malformed_value", init=False)


@dataclass(frozen=True)
class AgentError(DiscoveryError):
    """The agent answered with an error status (genErr, tooBig, ...)."""

    kind: str = field(default="agent_error", init=False)


@dataclass(frozen=True)
class DeadlineExceeded(DiscoveryError):
    """The target's max_duration ran out before this section could run."""

    kind: str = field(default="deadline_exceeded", init=False)


@dataclass(frozen=True)
class Skipped(DiscoveryError):
    """Not attempted because an earlier failure makes it pointless (agent gone, auth failed)."""

    kind: str = field(default="skipped", init=False)


@dataclass(frozen=True)
class UnexpectedError(DiscoveryError):
    """A bug in this package while handling the section; logged with its traceback."""

    kind: str = field(default="unexpected_error", init=False)
