"""Per-check state: rise/fall thresholds, degraded thresholds and flap detection.

Each probe result is first classified as up, degraded or down (a result that is up but
slower than ``max_latency``, or whose value meets ``degraded_when``, counts as
degraded). States are ordered UP < DEGRADED < DOWN, and a check moves

* to a worse state after ``fall`` consecutive results at least that bad, and
* to a better state after ``rise`` consecutive results at least that good,

so a check that alternates degraded and down results while up still degrades, and one
blipping once never moves. UNKNOWN (nothing decided yet) goes to DOWN after ``fall``
downs and to UP or DEGRADED after ``rise`` results that are not down. A check is
flapping once ``flap_threshold`` state changes fall within ``flap_window`` seconds and
stops flapping when at most ``flap_clear`` remain in the window (hysteresis, so it does
not toggle at the edge).

The whole state is a frozen ``MachineState``; ``advance`` is a pure function of it, so
a worker can persist it between runs. ``StateMachine`` wraps it for in-process use.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from checks.compare import Comparison
from checks.results import CheckStatus, ProbeResult


class HealthState(enum.StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


class TransitionKind(enum.StrEnum):
    STATE = "state"
    FLAPPING_STARTED = "flapping_started"
    FLAPPING_STOPPED = "flapping_stopped"


@dataclass(frozen=True, slots=True)
class StatePolicy:
    rise: int = 2
    fall: int = 3
    max_latency: float | None = None  # seconds; slower up results count as degraded
    degraded_when: Comparison | None = None  # on the measured value, e.g. loss > 0
    flap_threshold: int = 4  # state changes within flap_window that mean flapping; 0 = off
    flap_window: float = 600.0
    flap_clear: int | None = None  # flapping ends at this many changes in the window; default threshold // 2

    def __post_init__(self) -> None:
        if self.rise < 1 or self.fall < 1:
            raise ValueError("rise and fall must be at least 1")
        if self.flap_threshold and self.flap_threshold < 2:
            raise ValueError("flap_threshold must be 0 (off) or at least 2")
        if isinstance(self.degraded_when, dict):  # from JSON
            object.__setattr__(self, "degraded_when", Comparison(**self.degraded_when))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # degraded_when becomes {"op": ..., "operand": ...}

    @property
    def flap_clear_at(self) -> int:
        return self.flap_threshold // 2 if self.flap_clear is None else self.flap_clear


@dataclass(frozen=True, slots=True)
class Transition:
    at: float  # time of the result that caused it (epoch seconds unless the caller chose otherwise)
    kind: TransitionKind
    previous: HealthState
    current: HealthState
    reason: str
    flapping: bool  # true while flapping: a consumer may hold back notifications

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "kind": self.kind.value,
            "previous": self.previous.value,
            "current": self.current.value,
            "reason": self.reason,
            "flapping": self.flapping,
        }


@dataclass(frozen=True, slots=True)
class MachineState:
    state: HealthState = HealthState.UNKNOWN
    # consecutive results that were up / not down / not up / down
    up_streak: int = 0
    not_down_streak: int = 0
    not_up_streak: int = 0
    down_streak: int = 0
    changes: tuple[float, ...] = ()  # times of state changes still inside the flap window
    flapping: bool = False
    since: float | None = None  # when the current state began

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["changes"] = list(self.changes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MachineState:
        values = dict(data)
        values["state"] = HealthState(values.get("state", "unknown"))
        values["changes"] = tuple(values.get("changes", ()))
        return cls(**values)


_SEVERITY = {CheckStatus.UP: 0, CheckStatus.DEGRADED: 1, CheckStatus.DOWN: 2}


def classify(result: ProbeResult, policy: StatePolicy) -> tuple[CheckStatus, str]:
    """The result's level after the degraded thresholds, and why."""
    if result.status is not CheckStatus.UP:
        return result.status, result.message
    if policy.max_latency is not None and result.latency is not None and result.latency > policy.max_latency:
        return CheckStatus.DEGRADED, (f"latency {result.latency * 1000:.1f} ms above {policy.max_latency * 1000:.1f} ms: {result.message}")
    if policy.degraded_when is not None and policy.degraded_when.holds(result.value):
        return CheckStatus.DEGRADED, f"value {result.value!r} {policy.degraded_when.describe()}: {result.message}"
    return CheckStatus.UP, result.message


def advance(current: MachineState, result: ProbeResult, policy: StatePolicy, at: float) -> tuple[MachineState, list[Transition]]:
    """The state after one more result, and the transitions that result caused: a state
    change first (if any), then the start or end of flapping (if any)."""
    level, reason = classify(result, policy)
    machine = _prune(_count(current, level), policy, at)
    transitions: list[Transition] = []
    target = _target_state(machine, policy)
    changed = target is not None and target is not machine.state
    if changed:
        assert target is not None
        previous = machine.state
        if previous is not HealthState.UNKNOWN:  # leaving UNKNOWN is no flap
            machine = replace(machine, changes=(*machine.changes, at))
        machine = replace(machine, state=target, since=at)
    flapping = _flapping(machine, policy)
    if changed:
        transitions.append(Transition(at, TransitionKind.STATE, previous, machine.state, _why(machine.state, policy, reason), flapping))
    if flapping != machine.flapping:
        machine = replace(machine, flapping=flapping)
        kind = TransitionKind.FLAPPING_STARTED if flapping else TransitionKind.FLAPPING_STOPPED
        why = f"{len(machine.changes)} state changes within {policy.flap_window:g} s"
        transitions.append(Transition(at, kind, machine.state, machine.state, why, flapping))
    return machine, transitions


def _count(machine: MachineState, level: CheckStatus) -> MachineState:
    severity = _SEVERITY[level]
    return replace(
        machine,
        up_streak=machine.up_streak + 1 if severity == 0 else 0,
        not_down_streak=machine.not_down_streak + 1 if severity < 2 else 0,
        not_up_streak=machine.not_up_streak + 1 if severity > 0 else 0,
        down_streak=machine.down_streak + 1 if severity == 2 else 0,
    )


def _flapping(machine: MachineState, policy: StatePolicy) -> bool:
    if policy.flap_threshold == 0:
        return False
    if machine.flapping:
        return len(machine.changes) > policy.flap_clear_at
    return len(machine.changes) >= policy.flap_threshold


def _target_state(machine: MachineState, policy: StatePolicy) -> HealthState | None:
    state = machine.state
    if machine.down_streak >= policy.fall:
        return HealthState.DOWN
    if state in (HealthState.UNKNOWN, HealthState.DOWN, HealthState.DEGRADED) and machine.up_streak >= policy.rise:
        return HealthState.UP
    if state in (HealthState.UNKNOWN, HealthState.DOWN) and machine.not_down_streak >= policy.rise:
        return HealthState.DEGRADED
    if state is HealthState.UP and machine.not_up_streak >= policy.fall:
        return HealthState.DEGRADED
    return None


def _why(target: HealthState, policy: StatePolicy, reason: str) -> str:
    if target is HealthState.DOWN:
        return f"{policy.fall} consecutive failures: {reason}"
    if target is HealthState.UP:
        return f"{policy.rise} consecutive successes: {reason}"
    return f"degraded: {reason}"


def _prune(machine: MachineState, policy: StatePolicy, at: float) -> MachineState:
    horizon = at - policy.flap_window
    if not machine.changes or machine.changes[0] > horizon:
        return machine
    return replace(machine, changes=tuple(t for t in machine.changes if t > horizon))


class StateMachine:
    """One check's state, fed one result at a time. ``transitions`` keeps every
    transition emitted, in order."""

    def __init__(self, policy: StatePolicy | None = None, initial: MachineState | None = None) -> None:
        self.policy = policy or StatePolicy()
        self.snapshot = initial or MachineState()
        self.transitions: list[Transition] = []

    @property
    def state(self) -> HealthState:
        return self.snapshot.state

    @property
    def flapping(self) -> bool:
        return self.snapshot.flapping

    def observe(self, result: ProbeResult, at: float | None = None) -> list[Transition]:
        self.snapshot, emitted = advance(self.snapshot, result, self.policy, time.time() if at is None else at)
        self.transitions.extend(emitted)
        return emitted

    def observe_all(self, results: Iterable[tuple[ProbeResult, float]]) -> list[Transition]:
        emitted: list[Transition] = []
        for result, at in results:
            emitted.extend(self.observe(result, at))
        return emitted


@dataclass
class StateTracker:
    """State machines for many checks, keyed by check id, created on first sight."""

    default_policy: StatePolicy = field(default_factory=StatePolicy)
    machines: dict[str, StateMachine] = field(default_factory=dict)

    def observe(self, check_id: str, result: ProbeResult, at: float | None = None, policy: StatePolicy | None = None) -> list[Transition]:
        machine = self.machines.get(check_id)
        if machine is None:
            machine = self.machines[check_id] = StateMachine(policy or self.default_policy)
        elif policy is not None:
            machine.policy = policy  # a check's thresholds may be edited between runs
        return machine.observe(result, at)

    def state(self, check_id: str) -> HealthState:
        machine = self.machines.get(check_id)
        return machine.state if machine else HealthState.UNKNOWN
