"""The per-check state machine, table-driven: sequences of probe results in, states and
transitions out. Results are written as letters:

    U up    D degraded (as reported by the probe)    X down
    S up but slow (latency 0.5 s)                     V up with value 5

and states as ? (unknown), U, D, X.
"""

from __future__ import annotations

import json

import pytest

from checks import (
    CheckStatus,
    Comparison,
    HealthState,
    MachineState,
    ProbeError,
    ProbeResult,
    StateMachine,
    StatePolicy,
    StateTracker,
    TransitionKind,
    advance,
    classify,
)

RESULTS = {
    "U": ProbeResult(CheckStatus.UP, 0.010, "fine", 1),
    "D": ProbeResult(CheckStatus.DEGRADED, 0.010, "certificate expires soon", 1),
    "X": ProbeResult(CheckStatus.DOWN, None, "connection refused", None, ProbeError.REFUSED),
    "S": ProbeResult(CheckStatus.UP, 0.500, "slow", 1),
    "V": ProbeResult(CheckStatus.UP, 0.010, "high", 5),
}
STATES = {"?": HealthState.UNKNOWN, "U": HealthState.UP, "D": HealthState.DEGRADED, "X": HealthState.DOWN}


def states_after(policy: StatePolicy, sequence: str) -> str:
    machine = StateMachine(policy)
    letters = {state: letter for letter, state in STATES.items()}
    seen = []
    for at, letter in enumerate(sequence):
        machine.observe(RESULTS[letter], at=float(at))
        seen.append(letters[machine.state])
    return "".join(seen)


RISE2_FALL3 = StatePolicy(rise=2, fall=3, flap_threshold=0)
ONE_AND_ONE = StatePolicy(rise=1, fall=1, flap_threshold=0)


@pytest.mark.parametrize(
    ("policy", "results", "states"),
    [
        # rise: two successes to leave unknown or down
        (RISE2_FALL3, "U", "?"),
        (RISE2_FALL3, "UU", "?U"),
        (RISE2_FALL3, "XUXUXU", "??????"),  # never two in a row: undecided
        # fall: three failures to go down; fewer are absorbed
        (RISE2_FALL3, "UUXX", "?UUU"),
        (RISE2_FALL3, "UUXXUXX", "?UUUUUU"),
        (RISE2_FALL3, "UUXXX", "?UUUX"),
        (RISE2_FALL3, "XXX", "??X"),
        (RISE2_FALL3, "UUXXXUU", "?UUUXXU"),
        # degraded: worse than up, better than down, with the same thresholds
        (RISE2_FALL3, "DD", "?D"),
        (RISE2_FALL3, "UUDD", "?UUU"),
        (RISE2_FALL3, "UUDDD", "?UUUD"),
        (RISE2_FALL3, "UUDXDX", "?UUUDD"),  # mixed degraded and down still degrade
        (RISE2_FALL3, "UUDDDXXX", "?UUUDDDX"),
        (RISE2_FALL3, "UUDDDUU", "?UUUDDU"),
        (RISE2_FALL3, "UUDDDUDU", "?UUUDDDD"),
        (RISE2_FALL3, "XXXDD", "??XXD"),
        (RISE2_FALL3, "XXXDUU", "??XXDU"),
        (RISE2_FALL3, "XXXUU", "??XXU"),  # straight back up when all were up
        # no hysteresis at 1/1
        (ONE_AND_ONE, "UXUDX", "UXUDX"),
        # thresholds on latency and value make an up result count as degraded
        (StatePolicy(rise=1, fall=1, max_latency=0.2), "USU", "UDU"),
        (StatePolicy(rise=1, fall=1, max_latency=1.0), "USU", "UUU"),
        (StatePolicy(rise=1, fall=1, degraded_when=Comparison(">", 3)), "UVVU", "UDDU"),
        (StatePolicy(rise=2, fall=2, degraded_when=Comparison(">", 3)), "UUVVXX", "?UUDDX"),
    ],
)
def test_states(policy: StatePolicy, results: str, states: str) -> None:
    assert states_after(policy, results) == states


def test_transitions_are_ordered_and_explained() -> None:
    machine = StateMachine(StatePolicy(rise=2, fall=2, flap_threshold=0))
    for at, letter in enumerate("UUXXDDUU"):
        machine.observe(RESULTS[letter], at=float(at))
    assert [(t.at, t.kind, t.previous, t.current) for t in machine.transitions] == [
        (1.0, TransitionKind.STATE, HealthState.UNKNOWN, HealthState.UP),
        (3.0, TransitionKind.STATE, HealthState.UP, HealthState.DOWN),
        (5.0, TransitionKind.STATE, HealthState.DOWN, HealthState.DEGRADED),
        (7.0, TransitionKind.STATE, HealthState.DEGRADED, HealthState.UP),
    ]
    reasons = [t.reason for t in machine.transitions]
    assert reasons[1] == "2 consecutive failures: connection refused"
    assert "certificate expires soon" in reasons[2]
    assert machine.snapshot.since == 7.0


def test_observe_returns_only_new_transitions() -> None:
    machine = StateMachine(StatePolicy(rise=1, fall=1))
    assert [t.current for t in machine.observe(RESULTS["U"], at=0.0)] == [HealthState.UP]
    assert machine.observe(RESULTS["U"], at=1.0) == []


# Flapping: rise 1, fall 1, 4 changes within 100 s start it, 2 or fewer end it.
FLAPPY = StatePolicy(rise=1, fall=1, flap_threshold=4, flap_window=100.0)


@pytest.mark.parametrize(
    ("policy", "timed_results", "events"),
    [
        # leaving UNKNOWN is no flap; the 4th change at t=40 starts it
        (
            FLAPPY,
            [(0, "U"), (10, "X"), (20, "U"), (30, "X"), (40, "U")],
            [
                (0, "state", "?", "U", False),
                (10, "state", "U", "X", False),
                (20, "state", "X", "U", False),
                (30, "state", "U", "X", False),
                (40, "state", "X", "U", True),
                (40, "flapping_started", "U", "U", True),
            ],
        ),
        # flapping ends once at most 2 changes remain within the window (t=125 keeps 30, 40)
        (
            FLAPPY,
            [(0, "U"), (10, "X"), (20, "U"), (30, "X"), (40, "U"), (115, "U"), (125, "U")],
            [
                (0, "state", "?", "U", False),
                (10, "state", "U", "X", False),
                (20, "state", "X", "U", False),
                (30, "state", "U", "X", False),
                (40, "state", "X", "U", True),
                (40, "flapping_started", "U", "U", True),
                (125, "flapping_stopped", "U", "U", False),
            ],
        ),
        # a change after a long quiet spell ends flapping at once
        (
            FLAPPY,
            [(0, "U"), (10, "X"), (20, "U"), (30, "X"), (40, "U"), (200, "X")],
            [
                (0, "state", "?", "U", False),
                (10, "state", "U", "X", False),
                (20, "state", "X", "U", False),
                (30, "state", "U", "X", False),
                (40, "state", "X", "U", True),
                (40, "flapping_started", "U", "U", True),
                (200, "state", "U", "X", False),
                (200, "flapping_stopped", "X", "X", False),
            ],
        ),
        # changes further apart than the window never add up to flapping
        (
            FLAPPY,
            [(0, "U"), (60, "X"), (120, "U"), (180, "X"), (240, "U"), (300, "X")],
            [
                (0, "state", "?", "U", False),
                (60, "state", "U", "X", False),
                (120, "state", "X", "U", False),
                (180, "state", "U", "X", False),
                (240, "state", "X", "U", False),
                (300, "state", "U", "X", False),
            ],
        ),
        # transitions while flapping are marked so notifications can be held back
        (
            FLAPPY,
            [(0, "U"), (1, "X"), (2, "U"), (3, "X"), (4, "U"), (5, "D")],
            [
                (0, "state", "?", "U", False),
                (1, "state", "U", "X", False),
                (2, "state", "X", "U", False),
                (3, "state", "U", "X", False),
                (4, "state", "X", "U", True),
                (4, "flapping_started", "U", "U", True),
                (5, "state", "U", "D", True),
            ],
        ),
        # threshold 0 turns detection off
        (
            StatePolicy(rise=1, fall=1, flap_threshold=0),
            [(0, "U"), (1, "X"), (2, "U"), (3, "X"), (4, "U")],
            [
                (0, "state", "?", "U", False),
                (1, "state", "U", "X", False),
                (2, "state", "X", "U", False),
                (3, "state", "U", "X", False),
                (4, "state", "X", "U", False),
            ],
        ),
        # rise/fall damping means single blips never even count as changes
        (
            StatePolicy(rise=2, fall=2, flap_threshold=2, flap_window=100.0),
            [(0, "U"), (1, "U"), (2, "X"), (3, "U"), (4, "X"), (5, "U")],
            [(1, "state", "?", "U", False)],
        ),
    ],
)
def test_flapping(policy: StatePolicy, timed_results: list[tuple[int, str]], events: list[tuple]) -> None:
    machine = StateMachine(policy)
    letters = {state: letter for letter, state in STATES.items()}
    for at, letter in timed_results:
        machine.observe(RESULTS[letter], at=float(at))
    assert [(t.at, t.kind.value, letters[t.previous], letters[t.current], t.flapping) for t in machine.transitions] == events


def test_snapshot_survives_a_round_trip_through_json() -> None:
    """A worker can store the state between runs and carry on where it left off."""
    policy = FLAPPY
    sequence = [(0, "U"), (10, "X"), (20, "U"), (30, "X"), (40, "U"), (50, "X"), (60, "X")]
    continuous = StateMachine(policy)
    for at, letter in sequence:
        continuous.observe(RESULTS[letter], at=float(at))

    stored = MachineState().to_dict()
    emitted = []
    for at, letter in sequence:
        restored = MachineState.from_dict(json.loads(json.dumps(stored)))
        state, transitions = advance(restored, RESULTS[letter], policy, at)
        stored = state.to_dict()
        emitted.extend(transitions)
    assert MachineState.from_dict(stored) == continuous.snapshot
    assert emitted == continuous.transitions


@pytest.mark.parametrize(
    ("policy", "letter", "level", "reason"),
    [
        (StatePolicy(max_latency=0.2), "S", CheckStatus.DEGRADED, "latency 500.0 ms above 200.0 ms: slow"),
        (StatePolicy(max_latency=0.2), "X", CheckStatus.DOWN, "connection refused"),  # no latency to judge
        (StatePolicy(degraded_when=Comparison(">=", 5)), "V", CheckStatus.DEGRADED, "value 5 >= 5: high"),
        (StatePolicy(degraded_when=Comparison(">=", 5)), "U", CheckStatus.UP, "fine"),
        (StatePolicy(), "D", CheckStatus.DEGRADED, "certificate expires soon"),
    ],
)
def test_classify(policy: StatePolicy, letter: str, level: CheckStatus, reason: str) -> None:
    assert classify(RESULTS[letter], policy) == (level, reason)


def test_tracker_keeps_one_machine_per_check() -> None:
    tracker = StateTracker(StatePolicy(rise=1, fall=1))
    assert tracker.state("a") is HealthState.UNKNOWN
    tracker.observe("a", RESULTS["U"], at=0.0)
    tracker.observe("b", RESULTS["X"], at=0.0)
    assert (tracker.state("a"), tracker.state("b")) == (HealthState.UP, HealthState.DOWN)
    # a changed policy applies from the next result on
    tracker.observe("a", RESULTS["S"], at=1.0, policy=StatePolicy(rise=1, fall=1, max_latency=0.1))
    assert tracker.state("a") is HealthState.DEGRADED


@pytest.mark.parametrize("options", [{"rise": 0}, {"fall": 0}, {"flap_threshold": 1}])
def test_policy_rejects_nonsense(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        StatePolicy(**options)


@pytest.mark.parametrize(
    ("comparison", "value", "holds"),
    [
        (Comparison(">", 3), 5, True),
        (Comparison(">", 3), "5", True),  # numeric strings compare as numbers
        (Comparison(">", 3), "five", False),
        (Comparison(">", 3), None, False),
        (Comparison("==", 18446744073709551615), "18446744073709551615", True),  # Counter64 max, exact
        (Comparison("==", 18446744073709551615), 18446744073709551614, False),
        (Comparison("==", "up"), "up", True),
        (Comparison("!=", "up"), "down", True),
        (Comparison("<=", 0.5), 0.5, True),
        (Comparison("contains", "OpenSSH"), "SSH-2.0-OpenSSH_9.6", True),
        (Comparison("contains", "192.0.2.1"), ("192.0.2.1", "192.0.2.2"), True),
        (Comparison("matches", r"^SSH-2\.0-"), "SSH-2.0-OpenSSH_9.6", True),
        (Comparison("matches", r"^SSH-1"), "SSH-2.0-OpenSSH_9.6", False),
    ],
)
def test_comparison(comparison: Comparison, value: object, holds: bool) -> None:
    assert comparison.holds(value) is holds  # type: ignore[arg-type]


def test_comparison_rejects_unknown_operator_and_bad_pattern() -> None:
    with pytest.raises(ValueError, match="operator"):
        Comparison("~", 1)
    with pytest.raises(ValueError, match="regular expression"):
        Comparison("matches", "(")
