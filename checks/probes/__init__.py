"""Probes: frozen dataclasses describing what to test, each with
``async run(timeout) -> ProbeResult``. A probe never raises for a failing target: it
returns a down result with a typed ``ProbeError``, and it stops on its own at
``timeout`` seconds."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from checks.compare import Comparison
from checks.probes.dns import DnsProbe
from checks.probes.http import HttpProbe
from checks.probes.icmp import IcmpProbe
from checks.probes.snmp import SnmpProbe
from checks.probes.ssh import SshProbe
from checks.probes.tcp import TcpProbe
from checks.probes.udp import UdpProbe
from checks.results import ProbeResult


@runtime_checkable
class Probe(Protocol):
    kind: ClassVar[str]

    async def run(self, timeout: float) -> ProbeResult: ...


PROBE_TYPES: dict[str, type[Any]] = {cls.kind: cls for cls in (IcmpProbe, TcpProbe, UdpProbe, HttpProbe, SnmpProbe, SshProbe, DnsProbe)}


def probe_from_dict(data: Mapping[str, Any]) -> Probe:
    """Build a probe from its plain form, e.g. ``{"kind": "tcp", "host": "192.0.2.1",
    "port": 22}`` (as stored or sent to a worker)."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in PROBE_TYPES:
        raise ValueError(f"unknown probe kind {kind!r}; expected one of {sorted(PROBE_TYPES)}")
    return PROBE_TYPES[kind](**fields)


class Secret(str):
    """A secret in a probe's plain form (a community, a USM key): the text itself to JSON
    and to ``probe_from_dict``, ``***`` to ``repr`` — so a plain form (or a Check's) that
    ends up in a log line or an exception shows no key."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def probe_to_dict(probe: Probe) -> dict[str, Any]:
    """The plain form. Secret fields come wrapped in ``Secret``: whoever stores or sends
    it still holds the keys (it is meant to round-trip), so keep it out of storage."""
    data: dict[str, Any] = {"kind": probe.kind}
    for field in dataclasses.fields(probe):  # type: ignore[arg-type]
        value = getattr(probe, field.name)
        if field.metadata.get("secret") and isinstance(value, str):
            value = Secret(value)
        elif isinstance(value, Comparison):
            value = {"op": value.op, "operand": value.operand}
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        data[field.name] = value
    return data


__all__ = [
    "PROBE_TYPES",
    "DnsProbe",
    "HttpProbe",
    "IcmpProbe",
    "Probe",
    "Secret",
    "SnmpProbe",
    "SshProbe",
    "TcpProbe",
    "UdpProbe",
    "probe_from_dict",
    "probe_to_dict",
]
