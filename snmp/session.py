"""A thin, typed layer over ezsnmp: gets and walks in, numeric OIDs and Python values out.

ezsnmp prints values through net-snmp and parses the text back. To make that lossless we
ask for numeric OIDs and enums and for every OCTET STRING in hex (so quotes, backslashes
and binary bytes survive), and point net-snmp at no MIB directory so that display hints
from locally installed MIBs cannot change the output format.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import ezsnmp
from ezsnmp import exceptions as ezsnmp_exceptions

from .credentials import Credentials, SnmpV1, SnmpV2c, SnmpV3
from .target import Target
from .values import Oid, RawValue, SnmpValue, format_oid, parse_oid, within

# A path that never exists, so net-snmp loads no MIB modules (see module docstring).
_NO_MIB_DIRECTORY = "/nonexistent/danbyte-snmp-no-mibs"

_INTEGER_TYPES = {"INTEGER", "INTEGER32", "COUNTER32", "COUNTER64", "GAUGE32", "UINTEGER32", "UNSIGNED32"}
_MISSING_TYPES = {"NOSUCHOBJECT", "NOSUCHINSTANCE"}
_LEADING_INT = re.compile(r"^\s*(-?\d+)")
_TIMETICKS = re.compile(r"\((\d+)\)")


class RequestError(Exception):
    """A request failed; subclasses say whether the rest of the discovery can go on."""

    fatal = False

    def __init__(self, message: str, oid: Oid | None = None):
        super().__init__(message)
        self.oid = oid


class NoResponseError(RequestError):
    fatal = True


class AuthenticationError(RequestError):
    fatal = True


class ConnectionFailedError(RequestError):
    fatal = True


class DeadlineError(RequestError):
    fatal = True


class AgentStatusError(RequestError):
    """The agent answered with an error status for this request only."""


class WalkOrderError(RequestError):
    """The agent returned OIDs out of order, so net-snmp stopped the walk."""


@dataclass(frozen=True)
class Varbind:
    oid: Oid
    value: SnmpValue


@dataclass
class Walk:
    base: Oid
    rows: list[Varbind] = field(default_factory=list)
    # The agent said endOfMibView: either the MIB really ends here or the walk was cut short.
    hit_end_of_mib: bool = False
    # Set once the agent has shown objects after an endOfMibView.
    ended_early: bool = False

    @property
    def last_oid(self) -> Oid:
        return self.rows[-1].oid if self.rows else self.base


_AUTH_MESSAGES = (
    "authentication failure",
    "unknown user name",
    "unsupported security level",
    "decryption error",
    "unknown security model",
    "authorizationerror",
    "usmstats",
)


def _classify(error: Exception, oid: Oid | None) -> RequestError:
    message = " ".join(str(error).split()) or type(error).__name__
    lowered = message.lower()
    if isinstance(error, ezsnmp_exceptions.TimeoutError) or "timeout" in lowered:
        return NoResponseError(message, oid)
    if any(text in lowered for text in _AUTH_MESSAGES):
        return AuthenticationError(message, oid)
    if "not increasing" in lowered:
        return WalkOrderError(message, oid)
    if isinstance(error, ezsnmp_exceptions.ConnectionError) or "unknown host" in lowered:
        return ConnectionFailedError(message, oid)
    if isinstance(error, ezsnmp_exceptions.PacketError) or "error in packet" in lowered:
        return AgentStatusError(message, oid)
    if isinstance(error, (ezsnmp_exceptions.ParseError, ezsnmp_exceptions.UnknownObjectIDError)):
        return ConnectionFailedError(message, oid)
    return AgentStatusError(message, oid)


def _peer_name(host: str) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"udp6:[{host}]"
    except ValueError:
        pass  # a host name: net-snmp resolves it
    return host


def _session_arguments(target: Target, credentials: Credentials) -> dict[str, object]:
    arguments: dict[str, object] = dict(
        hostname=_peer_name(target.host),
        port_number=target.port,
        timeout=target.timeout,
        retries=target.retries,
        set_max_repeaters_to_num=target.max_repetitions,
        print_oids_numerically=True,
        print_enums_numerically=True,
        print_hex_strings=True,
        mib_directories=_NO_MIB_DIRECTORY,
    )
    if isinstance(credentials, SnmpV1):
        arguments.update(version=1, community=credentials.community)
    elif isinstance(credentials, SnmpV2c):
        arguments.update(version=2, community=credentials.community)
    elif isinstance(credentials, SnmpV3):
        arguments.update(
            version=3,
            security_username=credentials.username,
            security_level=credentials.security_level,
            context=credentials.context,
        )
        if credentials.auth_protocol is not None:
            arguments.update(auth_protocol=credentials.auth_protocol.value, auth_passphrase=credentials.auth_key)
        if credentials.priv_protocol is not None:
            arguments.update(privacy_protocol=credentials.priv_protocol.value, privacy_passphrase=credentials.priv_key)
    else:  # pragma: no cover - guarded by the type checker
        raise TypeError(f"unsupported credentials: {type(credentials).__name__}")
    return arguments


def _convert(result: object) -> tuple[Oid, str, SnmpValue]:
    """One ezsnmp Result as (oid, kind, value); kind is "value", "missing" or "end"."""
    oid_text = getattr(result, "oid", "") or ""
    index = getattr(result, "index", "") or ""
    try:
        oid = parse_oid(f"{oid_text}.{index}" if index else oid_text)
    except ValueError:  # not numeric: nothing we could place in a table
        return (), "missing", None
    type_name = (getattr(result, "type", "") or "").strip()
    text = getattr(result, "value", "") or ""
    upper = type_name.upper()
    if upper in _MISSING_TYPES or upper.startswith("NO SUCH"):
        return oid, "missing", None
    if upper == "ENDOFMIBVIEW" or upper.startswith("NO MORE VARIABLES"):
        return oid, "end", None
    if upper == "HEX-STRING":
        try:
            return oid, "value", bytes.fromhex(text)
        except ValueError:
            return oid, "value", RawValue(type_name, text)
    if type_name == '""':  # net-snmp prints an empty OCTET STRING as ""
        return oid, "value", b""
    if upper == "STRING":
        return oid, "value", text.encode("utf-8")
    if upper in _INTEGER_TYPES:
        match = _LEADING_INT.match(text)
        return oid, "value", int(match.group(1)) if match else RawValue(type_name, text)
    if upper == "TIMETICKS":
        match = _TIMETICKS.search(text) or _LEADING_INT.match(text)
        return oid, "value", int(match.group(1)) if match else RawValue(type_name, text)
    if upper == "IPADDRESS":
        return oid, "value", text.strip()
    if upper == "OID":
        try:
            return oid, "value", parse_oid(text)
        except ValueError:
            return oid, "value", RawValue(type_name, text)
    if upper == "NULL":
        return oid, "value", None
    return oid, "value", RawValue(type_name, text)


class SnmpSession:
    """Requests to one target; counts what came back and watches the target's deadline.

    Not shared between threads: ``discover`` makes one per target.
    """

    def __init__(self, target: Target, credentials: Credentials, deadline: float | None = None):
        self.target = target
        self.credentials = credentials
        self.deadline = deadline
        self.varbinds_received = 0
        # The greatest OID the agent has returned: a walk that met endOfMibView before it was
        # cut short.
        self.greatest_oid_seen: Oid = ()
        # One ezsnmp session per GETBULK size: they only hold arguments, and ezsnmp applies
        # the size fixed at construction to every bulk walk.
        self._sessions: dict[int, ezsnmp.Session] = {}

    @property
    def uses_getbulk(self) -> bool:
        return not isinstance(self.credentials, SnmpV1)

    def _ezsnmp(self, max_repetitions: int | None = None) -> ezsnmp.Session:
        size = max(1, min(max_repetitions or self.target.max_repetitions, self.target.max_repetitions))
        session = self._sessions.get(size)
        if session is None:
            arguments = _session_arguments(self.target, self.credentials)
            arguments["set_max_repeaters_to_num"] = size
            try:
                session = ezsnmp.Session(**arguments)
            except Exception as error:  # ezsnmp raises plain exceptions for bad parameters
                raise ConnectionFailedError(" ".join(str(error).split()) or type(error).__name__) from error
            self._sessions[size] = session
        return session

    def _check_deadline(self, oid: Oid | None) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineError(f"max_duration of {self.target.max_duration}s used up", oid)

    def _seen(self, oid: Oid) -> None:
        self.varbinds_received += 1
        if oid > self.greatest_oid_seen:
            self.greatest_oid_seen = oid

    def get(self, oids: Sequence[Oid]) -> dict[Oid, SnmpValue]:
        """Values of the instances that exist; absent ones are left out."""
        if not oids:
            return {}
        self._check_deadline(oids[0])
        session = self._ezsnmp()
        try:
            results = session.get([format_oid(oid) for oid in oids])
        except Exception as error:
            failure = _classify(error, oids[0])
            # SNMPv1 fails the whole PDU if one instance is missing (noSuchName): ask one by one.
            if isinstance(failure, AgentStatusError) and len(oids) > 1 and "nosuchname" in str(failure).lower():
                found: dict[Oid, SnmpValue] = {}
                for oid in oids:
                    try:
                        found.update(self.get([oid]))
                    except AgentStatusError:
                        continue
                return found
            raise failure from error
        values: dict[Oid, SnmpValue] = {}
        for result in results:
            oid, kind, value = _convert(result)
            if kind == "value":
                self._seen(oid)
                values[oid] = value
        return values

    def walk(self, base: Oid, max_repetitions: int | None = None) -> Walk:
        """All instances below ``base``, in order; GETBULK unless the credentials are v1.

        ``max_repetitions`` (capped by the target's) sizes each GETBULK: callers that know
        roughly how many rows to expect save the agent from reading past the column.
        """
        self._check_deadline(base)
        session = self._ezsnmp(max_repetitions)
        try:
            if self.uses_getbulk:
                results = session.bulk_walk(format_oid(base))
            else:
                results = session.walk(format_oid(base))
        except Exception as error:
            raise _classify(error, base) from error
        walk = Walk(base)
        for result in results:
            oid, kind, value = _convert(result)
            if kind == "end":
                walk.hit_end_of_mib = True
            elif kind == "value" and within(oid, base):
                # net-snmp checks order already; duplicates can still come back with GETBULK.
                if walk.rows and oid <= walk.rows[-1].oid:
                    continue
                self._seen(oid)
                walk.rows.append(Varbind(oid, value))
        return walk

    def has_objects_after(self, base: Oid) -> bool:
        """Whether the agent holds any object after the subtree ``base`` (one GETNEXT).

        Some agents answer endOfMibView where they fail to encode a value (blanked or
        anonymised records); if objects follow the subtree, a walk that ended there was cut.
        """
        sibling = base[:-1] + (base[-1] + 1,)
        session = self._ezsnmp()
        try:
            results = session.get_next([format_oid(sibling)])
        except Exception as error:
            raise _classify(error, sibling) from error
        for result in results:
            oid, kind, _ = _convert(result)
            if kind == "value":
                self._seen(oid)
                return True
        return False

    def close(self) -> None:
        for session in self._sessions.values():
            try:
                session.close()
            except Exception:  # closing must never hide the real outcome
                pass
        self._sessions.clear()
