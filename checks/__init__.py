"""Monitoring checks: probes, per-check state, and an asyncio runner.

A pure library: dataclasses in, dataclasses out, no database and nothing else from
Danbyte, so a worker (a dramatiq actor) can call it with plain data. See docs/checks.md.
"""

from checks.compare import Comparison
from checks.probes import (
    DnsProbe,
    HttpProbe,
    IcmpProbe,
    Probe,
    SnmpProbe,
    SshProbe,
    TcpProbe,
    UdpProbe,
    probe_from_dict,
    probe_to_dict,
)
from checks.results import CheckStatus, ProbeError, ProbeResult
from checks.runner import Check, CheckResult, Scheduler, SchedulerStats, execute, run_checks, run_interval
from checks.state import (
    HealthState,
    MachineState,
    StateMachine,
    StatePolicy,
    StateTracker,
    Transition,
    TransitionKind,
    advance,
    classify,
)

__all__ = [
    "Check",
    "CheckResult",
    "CheckStatus",
    "Comparison",
    "DnsProbe",
    "HealthState",
    "HttpProbe",
    "IcmpProbe",
    "MachineState",
    "Probe",
    "ProbeError",
    "ProbeResult",
    "Scheduler",
    "SchedulerStats",
    "SnmpProbe",
    "SshProbe",
    "StateMachine",
    "StatePolicy",
    "StateTracker",
    "TcpProbe",
    "Transition",
    "TransitionKind",
    "UdpProbe",
    "advance",
    "classify",
    "execute",
    "probe_from_dict",
    "probe_to_dict",
    "run_checks",
    "run_interval",
]
