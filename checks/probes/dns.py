"""DNS resolution of one name and record type against a given (or the system's)
nameserver."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import ClassVar

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from checks.probes._common import since
from checks.results import ProbeError, ProbeResult, Value, down, up


@dataclass(frozen=True, slots=True)
class DnsProbe:
    """Up when ``name`` has ``record_type`` records and every entry of ``expect`` is
    among them (compared case-insensitively, trailing dots ignored). The value is the
    sorted tuple of answers in text form; CNAMEs are followed and the final name is in
    details as ``canonical_name``. ``nameserver`` is an IP address; without it the
    system's resolvers (/etc/resolv.conf) are asked. Truncated answers are retried over
    TCP on the same port."""

    kind: ClassVar[str] = "dns"
    name: str
    record_type: str = "A"
    nameserver: str | None = None
    port: int = 53
    expect: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:  # reject unknown types when defined, not at every probe
            dns.rdatatype.from_text(self.record_type)
        except dns.rdatatype.UnknownRdatatype:
            raise ValueError(f"unknown DNS record type {self.record_type!r}") from None
        object.__setattr__(self, "expect", tuple(self.expect))

    async def run(self, timeout: float) -> ProbeResult:
        question = f"{self.name} {self.record_type.upper()}"
        try:
            resolver = self._resolver()
        except dns.resolver.NoResolverConfiguration:
            return down(ProbeError.RESOLUTION_FAILED, "no nameserver given and none configured on this host")
        where = f"{self.nameserver}:{self.port}" if self.nameserver else "the system resolver"
        start = time.perf_counter()
        try:
            answer = await resolver.resolve(self.name, self.record_type, lifetime=timeout, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return down(ProbeError.NOT_FOUND, f"{self.name} does not exist (NXDOMAIN from {where})", since(start))
        except dns.resolver.LifetimeTimeout:
            return down(ProbeError.TIMEOUT, f"timed out after {timeout:g} s resolving {question} at {where}")
        except dns.resolver.NoNameservers as exc:
            # SERVFAIL, REFUSED and the like: the server answered, but not usefully
            return down(ProbeError.UNEXPECTED_RESPONSE, f"{where} failed {question}: {_errors(exc)}", since(start))
        except dns.exception.DNSException as exc:
            return down(ProbeError.PROTOCOL_ERROR, f"resolving {question} at {where}: {exc}")
        except OSError as exc:
            return down(ProbeError.NETWORK_ERROR, f"resolving {question} at {where}: {exc}")
        latency = since(start)
        if answer.rrset is None:
            return down(ProbeError.NOT_FOUND, f"{self.name} has no {self.record_type} records ({where})", latency)
        values = tuple(sorted(rdata.to_text() for rdata in answer.rrset))
        details: dict[str, Value] = {"canonical_name": answer.canonical_name.to_text(), "ttl": answer.rrset.ttl}
        missing = sorted(set(map(_normal, self.expect)) - set(map(_normal, values)))
        if missing:
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"{question} lacks {', '.join(missing)} (got {', '.join(values)})",
                latency,
                values,
                **details,
            )
        return up(latency, f"{question}: {', '.join(values)}", values, **details)

    def _resolver(self) -> dns.asyncresolver.Resolver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        if self.nameserver is not None:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(self.nameserver, self.port)]
        else:
            resolver.nameservers = list(_system_nameservers())
        return resolver


@functools.lru_cache(maxsize=1)
def _system_nameservers() -> tuple[str, ...]:
    """Read /etc/resolv.conf once, not at every probe."""
    return tuple(str(ns) for ns in dns.resolver.Resolver().nameservers)


def _normal(text: str) -> str:
    return text.lower().rstrip(".")


def _errors(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    # each error is (server, tcp, port, error or rcode text, response)
    reasons = {str(error[3]) for error in errors if len(error) > 3}
    return "; ".join(sorted(reasons)) or str(exc)
