"""Circuits: a circuit's ``termination_a`` and ``termination_z`` follow its terminations
(registered in resolvers/rules.py). Paths through circuits are traced in resolvers/cables.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.registry import ModelSpec, spec_for
from resolvers.rules import RuleBook
from resolvers.writes import Write

CIRCUIT, TERMINATION = "Circuit", "CircuitTermination"


def register_rules(book: RuleBook) -> None:
    book.maintain_after(TERMINATION)(_circuit_points_at_its_ends)
    book.maintain_before_delete(TERMINATION)(_circuit_forgets_its_end)


def _side_column(side: Any) -> str:
    return f"termination_{str(side).lower()}_id"


async def _point(write: Write, circuit_id: Any, side: Any, termination_id: Any) -> None:
    table = spec_for(CIRCUIT).table
    await write.conn.execute(sa.update(table).where(table.c.id == circuit_id).values({_side_column(side): termination_id}))


async def _circuit_points_at_its_ends(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    if old is not None and (old.circuit_id, old.term_side) != (row.circuit_id, row.term_side):
        await _point(write, old.circuit_id, old.term_side, None)
    await _point(write, row.circuit_id, row.term_side, row.id)
    return row


async def _circuit_forgets_its_end(write: Write, spec: ModelSpec, old: Any) -> None:
    await _point(write, old.circuit_id, old.term_side, None)
