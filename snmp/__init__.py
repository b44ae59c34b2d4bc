"""SNMP discovery: what a device says about itself, its interfaces and its neighbours.

A pure library (no database): dataclasses in, dataclasses out.

    from snmp import Target, SnmpV2c, discover
    facts = discover(Target("192.0.2.1", timeout=2, retries=1), SnmpV2c("public"))
    facts.system.platform, [i.name for i in facts.interfaces], facts.errors
"""

from .counters import counter_delta, rates
from .credentials import AuthProtocol, Credentials, PrivProtocol, SnmpV1, SnmpV2c, SnmpV3
from .discover import SECTIONS, CounterPoll, discover, discover_each, discover_many, probe, sample_counters
from .errors import (
    AgentError,
    AuthenticationFailed,
    ConnectionFailed,
    DeadlineExceeded,
    DiscoveryError,
    MalformedValue,
    NoResponse,
    Skipped,
    TableMissing,
    UnexpectedError,
    WalkEndedEarly,
)
from .facts import (
    ArpEntry,
    CounterSample,
    DeviceFacts,
    Interface,
    InterfaceCounters,
    InterfaceRates,
    IpAddress,
    LldpNeighbour,
    SystemInfo,
)
from .platforms import recognise
from .target import Target

__all__ = [
    "SECTIONS",
    "AgentError",
    "ArpEntry",
    "AuthProtocol",
    "AuthenticationFailed",
    "ConnectionFailed",
    "CounterPoll",
    "CounterSample",
    "Credentials",
    "DeadlineExceeded",
    "DeviceFacts",
    "DiscoveryError",
    "Interface",
    "InterfaceCounters",
    "InterfaceRates",
    "IpAddress",
    "LldpNeighbour",
    "MalformedValue",
    "NoResponse",
    "PrivProtocol",
    "Skipped",
    "SnmpV1",
    "SnmpV2c",
    "SnmpV3",
    "SystemInfo",
    "TableMissing",
    "Target",
    "UnexpectedError",
    "WalkEndedEarly",
    "counter_delta",
    "discover",
    "discover_each",
    "discover_many",
    "probe",
    "rates",
    "recognise",
    "sample_counters",
]
