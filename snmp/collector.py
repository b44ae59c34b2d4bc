"""Per-discovery bookkeeping between sections and the session.

Sections ask for table columns and scalars and never see an exception: the collector
turns request failures into typed errors, and at the end decides which empty tables were
missing and which walks were cut short. A walk that met endOfMibView was cut short if the
agent has objects after it: one GETNEXT past the column asks, and any later object seen
during the discovery proves it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

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
    WalkEndedEarly,
)
from .session import (
    AuthenticationError,
    ConnectionFailedError,
    DeadlineError,
    NoResponseError,
    RequestError,
    SnmpSession,
    Walk,
    WalkOrderError,
)
from .values import Oid, SnmpValue, describe, format_oid

# Index (the OID part after the column) -> value
Column = dict[Oid, SnmpValue]

T = TypeVar("T")

_FATAL: dict[type[RequestError], type[DiscoveryError]] = {
    NoResponseError: NoResponse,
    AuthenticationError: AuthenticationFailed,
    ConnectionFailedError: ConnectionFailed,
    DeadlineError: DeadlineExceeded,
}

# GETs are split so that requests stay well inside an agent's PDU size.
MAX_OIDS_PER_GET = 20


@dataclass
class _TableOutcome:
    section: str
    name: str
    oid: Oid
    walks: list[Walk] = field(default_factory=list)
    failed: bool = False  # an error was already reported for it


@dataclass
class _MalformedColumn:
    count: int
    example_oid: Oid
    example: str


class Collector:
    def __init__(self, session: SnmpSession):
        self.session = session
        self.errors: list[DiscoveryError] = []
        # Set by the first fatal failure; every later request is skipped at once, so an agent
        # that stops answering costs one timeout, not one per remaining walk.
        self.stopped: DiscoveryError | None = None
        self._skipped_sections: list[str] = []
        self._tables: list[_TableOutcome] = []
        self._malformed: dict[tuple[str, Oid], _MalformedColumn] = {}

    def _failed(self, section: str, error: RequestError) -> None:
        oid = format_oid(error.oid) if error.oid else None
        if error.fatal:
            self.stopped = _FATAL[type(error)](section, str(error), oid)
            self.errors.append(self.stopped)
        elif isinstance(error, WalkOrderError):
            self.errors.append(WalkEndedEarly(section, str(error), oid))
        else:
            self.errors.append(AgentError(section, str(error), oid))

    def _skip(self, section: str) -> None:
        if self.stopped is not None and section != self.stopped.section and section not in self._skipped_sections:
            self._skipped_sections.append(section)

    def columns(self, section: str, table: str, columns: Sequence[Oid], expected_rows: int | None = None) -> dict[Oid, Column]:
        """Walk some columns of one table: {column: {index: value}}; failures are recorded.

        After the first column the row count is known, and each GETBULK is sized to fetch a
        column plus one OID past its end (see ``bulk_size``).
        """
        outcome = _TableOutcome(section, table, columns[0][:-1])
        found: dict[Oid, Column] = {column: {} for column in columns}
        for column in columns:
            size = None if expected_rows is None else bulk_size(expected_rows, self.session.target.max_repetitions)
            if self.stopped is not None:
                self._skip(section)
                outcome.failed = True
                continue
            try:
                walk = self.session.walk(column, size)
            except RequestError as error:
                self._failed(section, error)
                outcome.failed = True
                continue
            outcome.walks.append(walk)
            found[column] = {row.oid[len(column) :]: row.value for row in walk.rows}
            expected_rows = max(expected_rows or 0, len(walk.rows))
            if walk.hit_end_of_mib:
                self._check_end(section, walk)
        self._tables.append(outcome)
        return found

    def _check_end(self, section: str, walk: Walk) -> None:
        """Ask whether anything follows a walk that met endOfMibView (see finish too)."""
        try:
            walk.ended_early = self.session.has_objects_after(walk.base)
        except RequestError as error:
            self._failed(section, error)

    def get(self, section: str, oids: Sequence[Oid]) -> dict[Oid, SnmpValue]:
        """Values of existing instances; failures are recorded."""
        values: dict[Oid, SnmpValue] = {}
        for start in range(0, len(oids), MAX_OIDS_PER_GET):
            if self.stopped is not None:
                self._skip(section)
                break
            try:
                values.update(self.session.get(oids[start : start + MAX_OIDS_PER_GET]))
            except RequestError as error:
                self._failed(section, error)
        return values

    def malformed(self, section: str, column: Oid, index: Oid, value: SnmpValue, reason: str) -> None:
        """Count an undecodable value; one error per column keeps the list short."""
        key = (section, column)
        entry = self._malformed.get(key)
        if entry is None:
            self._malformed[key] = _MalformedColumn(1, column + index, f"{describe(value)} ({reason})")
        else:
            entry.count += 1

    def decode(self, section: str, column: Oid, index: Oid, value: SnmpValue, decoder: Callable[[SnmpValue], T]) -> T | None:
        """``decoder(value)``, or None for an absent value; malformed values are counted."""
        if value is None:
            return None
        try:
            return decoder(value)
        except ValueError as error:
            self.malformed(section, column, index, value, str(error))
            return None

    def cell(self, section: str, table: dict[Oid, Column], column: Oid, index: Oid, decoder: Callable[[SnmpValue], T]) -> T | None:
        """One decoded value of a table from ``columns``, or None."""
        return self.decode(section, column, index, table.get(column, {}).get(index), decoder)

    def finish(self) -> list[DiscoveryError]:
        """All errors, including the missing tables and early ends only knowable now."""
        errors = list(self.errors)
        for section in self._skipped_sections:
            reason = self.stopped
            assert reason is not None
            if isinstance(reason, DeadlineExceeded):
                errors.append(DeadlineExceeded(section, reason.detail))
            else:
                errors.append(Skipped(section, f"not attempted after {reason.kind} in {reason.section}"))
        greatest = self.session.greatest_oid_seen
        for outcome in self._tables:
            cut_short = [walk for walk in outcome.walks if walk.ended_early or (walk.hit_end_of_mib and greatest > walk.last_oid)]
            for walk in cut_short:
                errors.append(
                    WalkEndedEarly(
                        outcome.section,
                        f"{outcome.name}: walk of {format_oid(walk.base)} stopped with endOfMibView after "
                        f"{len(walk.rows)} rows although the agent has later objects",
                        format_oid(walk.last_oid),
                    )
                )
            has_rows = any(walk.rows for walk in outcome.walks)
            if not has_rows and not cut_short and not outcome.failed:
                errors.append(TableMissing(outcome.section, f"{outcome.name}: no rows", format_oid(outcome.oid)))
        for (section, _column), entry in self._malformed.items():
            errors.append(
                MalformedValue(
                    section,
                    f"{entry.count} value(s) could not be decoded, e.g. {entry.example}",
                    format_oid(entry.example_oid),
                )
            )
        return errors


def bulk_size(expected_rows: int, limit: int) -> int:
    """GETBULK size that reads ``expected_rows`` and the first OID after them in the fewest
    requests, spread evenly so the last request does not read far past the column."""
    wanted = expected_rows + 1
    requests = -(-wanted // limit)
    return -(-wanted // requests)


def rows(columns: dict[Oid, Column]) -> list[Oid]:
    """The indexes present in any of the columns, in OID order."""
    indexes: set[Oid] = set()
    for column in columns.values():
        indexes.update(column)
    return sorted(indexes)
