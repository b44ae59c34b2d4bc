"""SNMP GET of one OID, with an optional comparison of the value.

v1 and v2c are sent by this module over asyncio UDP (``_ber``). SNMPv3 (USM: engine
discovery, key localisation, HMAC, DES / AES) goes through the project's ``snmp`` package
(ezsnmp, net-snmp) in a small thread pool of its own, so v3 requests queue behind each
other and never behind the event loop's default executor (``getaddrinfo``); the probe
still stops at its timeout whatever the thread does.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from checks.compare import Comparison
from checks.probes import _ber
from checks.probes._common import failure, hostport, since
from checks.results import ProbeError, ProbeResult, Value, down, up

_VERSIONS = {"1": 0, "2c": 1, "3": 3}
# net-snmp's names (snmp.AuthProtocol / snmp.PrivProtocol values).
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV_PROTOCOLS = ("DES", "AES", "AES-192", "AES-256")
# SNMPv3 requests in flight at once per process (each holds a thread while it waits).
V3_THREADS = 32
_v3_pool: ThreadPoolExecutor | None = None

# ezsnmp's type names → the names v1/v2c results carry (``_ber``'s).
_V3_TYPES = {
    "INTEGER": "Integer",
    "INTEGER32": "Integer",
    "STRING": "OctetString",
    "HEX-STRING": "OctetString",
    '""': "OctetString",
    "OID": "ObjectIdentifier",
    "IPADDRESS": "IpAddress",
    "COUNTER32": "Counter32",
    "GAUGE32": "Gauge32",
    "UNSIGNED32": "UInteger32",
    "UINTEGER32": "UInteger32",
    "TIMETICKS": "TimeTicks",
    "COUNTER64": "Counter64",
    "OPAQUE": "Opaque",
    "NULL": "Null",
}


def _secret() -> Any:
    # Kept out of repr (logged checks and probes) and marked for probe_to_dict, which
    # wraps the value so a logged plain form shows *** instead.
    return field(default=None, repr=False, metadata={"secret": True})


@dataclass(frozen=True, slots=True)
class SnmpProbe:
    """Up when the agent returns a value for ``oid`` that satisfies ``expect`` (when
    given). The value is an int for numeric types, the dotted text for OIDs and IP
    addresses, and text for OCTET STRINGs that are printable UTF-8, else their bytes as
    colon-separated hex (``d6:0e:32:94:e0:a0``); details carry ``type``. The request is
    resent ``retries`` times, evenly within the timeout. Agents drop requests with a wrong
    community silently, so a wrong community shows as a timeout.

    ``version="3"``: the USM user ``username`` with ``auth_protocol`` / ``auth_key`` (none:
    noAuthNoPriv) and ``priv_protocol`` / ``priv_key`` (none: no privacy), in
    ``context``. A rejected user, key or security level is down with
    ``authentication_failed`` (the agent reports it, so this is quick, not a timeout)."""

    kind: ClassVar[str] = "snmp"
    host: str
    oid: str
    community: str = field(default="public", repr=False, metadata={"secret": True})
    port: int = 161
    version: str = "2c"
    expect: Comparison | None = None
    retries: int = 1
    username: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = _secret()
    priv_protocol: str | None = None
    priv_key: str | None = _secret()
    context: str = ""

    def __post_init__(self) -> None:
        if self.version not in _VERSIONS:
            raise ValueError(f"SNMP version {self.version!r} is not supported; use '1', '2c' or '3'")
        _ber.encode_oid(self.oid)  # reject a malformed OID when defined
        if isinstance(self.expect, dict):  # from JSON
            object.__setattr__(self, "expect", Comparison(**self.expect))
        if self.retries < 0:
            raise ValueError("retries cannot be negative")
        if self.version != "3":
            if self.username or self.auth_key or self.priv_key:
                raise ValueError("a USM user and keys are for SNMP version '3'")
            return
        if not self.username:
            raise ValueError("SNMPv3 needs a username")
        if self.auth_protocol is not None and self.auth_protocol not in AUTH_PROTOCOLS:
            raise ValueError(f"auth_protocol {self.auth_protocol!r}: one of {', '.join(AUTH_PROTOCOLS)}")
        if self.priv_protocol is not None and self.priv_protocol not in PRIV_PROTOCOLS:
            raise ValueError(f"priv_protocol {self.priv_protocol!r}: one of {', '.join(PRIV_PROTOCOLS)}")
        if (self.auth_protocol is None) != (self.auth_key is None) or (self.priv_protocol is None) != (self.priv_key is None):
            raise ValueError("an SNMPv3 protocol and its key go together")
        if self.priv_protocol is not None and self.auth_protocol is None:
            raise ValueError("SNMPv3 privacy requires authentication")

    @property
    def security_level(self) -> str:
        return "authPriv" if self.priv_protocol else "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    async def run(self, timeout: float) -> ProbeResult:
        if self.version == "3":
            return await self._run_v3(timeout)
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

    async def _run_v3(self, timeout: float) -> ProbeResult:
        global _v3_pool
        target = hostport(self.host, self.port)
        if _v3_pool is None:
            _v3_pool = ThreadPoolExecutor(V3_THREADS, thread_name_prefix="snmpv3-probe")
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                kind, type_name, value = await loop.run_in_executor(_v3_pool, self._get_v3, timeout / (self.retries + 1))
        except TimeoutError:
            # waiting for a thread counts against the timeout as the agent's silence does
            return down(ProbeError.TIMEOUT, f"timed out after {timeout:g} s waiting for {target} to answer GET {self.oid} (no agent?)")
        latency = since(start)
        if kind == "timeout":
            return down(ProbeError.TIMEOUT, f"timed out after {timeout:g} s waiting for {target} to answer GET {self.oid} (no agent, or a wrong engine?)")
        if kind == "auth":
            return down(
                ProbeError.AUTHENTICATION_FAILED,
                f"{target} rejected SNMPv3 user {self.username!r} ({self.security_level}): {value} — wrong user, key or security level?",
                latency,
            )
        if kind == "error":
            return down(ProbeError.UNEXPECTED_RESPONSE, f"{target} answered an error for {self.oid}: {value}", latency)
        if kind == "network":
            return down(ProbeError.NETWORK_ERROR, f"cannot reach {target}: {value}")
        if kind == "missing":
            return down(ProbeError.NOT_FOUND, f"{target} has {type_name} at {self.oid}", latency)
        return self._verdict(value, type_name, latency)

    def _get_v3(self, per_try: float) -> tuple[str, str, Any]:
        """One GET through net-snmp (in a pool thread): (outcome, type, value or reason),
        the outcome one of value, missing, timeout, auth, error, network."""
        import snmp

        # snmp.session's own conversion and error classes, so v3 values and failures read
        # as discovery's do; its get() drops the type name the result needs, hence _ezsnmp.
        from snmp.session import AgentStatusError, AuthenticationError, NoResponseError, RequestError, SnmpSession, _classify, _convert
        from snmp.values import RawValue, format_oid, parse_oid

        credentials = snmp.SnmpV3(
            username=self.username or "",
            auth_protocol=snmp.AuthProtocol(self.auth_protocol) if self.auth_protocol else None,
            auth_key=self.auth_key,
            priv_protocol=snmp.PrivProtocol(self.priv_protocol) if self.priv_protocol else None,
            priv_key=self.priv_key,
            context=self.context,
        )
        session = SnmpSession(snmp.Target(self.host, self.port, timeout=max(per_try, 0.01), retries=self.retries), credentials)
        oid = parse_oid(self.oid)
        try:
            try:
                results = list(session._ezsnmp().get([format_oid(oid)]))
            except RequestError:
                raise
            except Exception as error:
                raise _classify(error, oid) from error
        except NoResponseError:
            return "timeout", "", None
        except AuthenticationError as error:
            return "auth", "", str(error)
        except AgentStatusError as error:
            return "error", "", str(error)
        except RequestError as error:
            return "network", "", str(error)
        finally:
            session.close()
        if not results:
            return "missing", "noSuchObject", None
        result = results[0]
        _, kind, value = _convert(result)
        type_name = (getattr(result, "type", "") or "").strip()
        if kind != "value":
            return "missing", {"NOSUCHINSTANCE": "noSuchInstance", "ENDOFMIBVIEW": "endOfMibView"}.get(type_name.upper(), "noSuchObject"), None
        if isinstance(value, tuple):
            value = format_oid(value).lstrip(".")
        elif isinstance(value, RawValue):
            value = value.text
        return "value", _V3_TYPES.get(type_name.upper(), type_name), value

    def _verdict(self, raw: int | bytes | str | None, type_name: str, latency: float) -> ProbeResult:
        value = _present(raw)
        if self.expect is not None and not self.expect.holds(value):
            return down(ProbeError.UNEXPECTED_RESPONSE, f"{self.oid} = {value!r}, expected {self.expect.describe()}", latency, value, type=type_name)
        return up(latency, f"{self.oid} = {value!r}", value, type=type_name)

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
        return self._verdict(varbind.value, varbind.type, latency)


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
