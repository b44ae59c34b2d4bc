"""What a model's lists are ordered by: its ``__ordering__`` planned once, then written as
SQLAlchemy expressions (the resolvers' statements), as SQL text over a row alias (the SQL
compiler's nested lists), or as joins (a root list's page, on both paths). All come from
the same plan, so the two read paths cannot order differently.

A plain name is a column of the row. ``Through(reference)`` (models.base) is the
referenced row's own order, as Django orders by a relation: its ``__ordering_through__``
(Django's ``Meta.ordering``, where a tree lists itself otherwise) or ``__ordering__`` terms,
followed recursively, then its id; ``Through(reference, column)`` is one column of it.
The plan is a list of terms, each a column reached through a chain of references; a term
with references is a correlated scalar subquery on the target table, aliased (a model
may order through a reference to itself):

    (SELECT a1._name FROM circuit a0 JOIN provider a1 ON a1.id = a0.provider_id
     WHERE a0.id = row.circuit_id)

A NULL reference gives NULL, and so does one the reader may not see (row-level security
applies inside the subquery as everywhere), sorting last, or first where the term says
``nulls_first``. Rules that keep it cheap:

- the referenced row's id is the row's own reference column: no subquery for it;
- a term already in the plan is not repeated (it cannot change the order again);
- ``within``: in a list already restricted to one value of a column (a device's
  interfaces, ``WHERE device_id = :parent``), terms that depend on that column alone are
  constant and left out, so a nested list runs no subquery per row for them;
- ``joined``: a root list's page sorts every row it filters, so there the referenced rows
  are LEFT JOINed once per chain of references instead (PostgreSQL hashes the table once;
  a subquery per row made 80,000 interfaces sort 3-4 times slower). A LEFT JOIN on the
  target's id gives what the subquery gives: one row or NULL, row-level security included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from models.base import Base, DeclarationError, Ordering, model_by_name, table_of


@dataclass(frozen=True)
class Hop:
    """One reference followed: ``column`` on the row before it, into ``table``."""

    column: str
    table: sa.Table


@dataclass(frozen=True)
class Term:
    """``column`` of the row reached through ``hops`` (none: the row's own column)."""

    hops: tuple[Hop, ...]
    column: str
    nulls_first: bool = False

    @property
    def first_column(self) -> str:
        """The row's own column the term starts from."""
        return self.hops[0].column if self.hops else self.column


Plan = tuple[Term, ...]


def plan(model: type[Base], terms: Ordering | None = None) -> Plan:
    """The order of ``model``'s lists: its ``__ordering__`` (or ``terms``), then its id."""
    found = _expand(model, model.__ordering__ if terms is None else terms, (), False, ())
    found.append(Term((), "id"))
    distinct: list[Term] = []
    for term in found:
        if all((term.hops, term.column) != (seen.hops, seen.column) for seen in distinct):
            distinct.append(term)
    return tuple(distinct)


def within(order: Plan, columns: Iterable[str]) -> Plan:
    """``order`` in a list whose rows share one value of each of ``columns``."""
    fixed = set(columns)
    return tuple(term for term in order if term.first_column not in fixed)


def _expand(model: type[Base], terms: Ordering, hops: tuple[Hop, ...], nulls_first: bool, stack: tuple[tuple[str, str], ...]) -> list[Term]:
    """``stack``: the (model, reference) pairs being followed; meeting one again would
    never end (a model ordered by its parent's whole order)."""
    table = table_of(model)
    found: list[Term] = []
    for term in terms:
        if isinstance(term, str):
            if term not in table.c:
                raise DeclarationError(f"{model.__name__}.__ordering__: no column {term!r}")
            found.append(_term(hops, term, nulls_first))
            continue
        column = table.c.get(f"{term.reference}_id")
        ref = column.info.get("ref") if column is not None else None
        if column is None or ref is None:
            raise DeclarationError(f"{model.__name__}.__ordering__: {term.reference!r} is not a reference of {model.__name__}")
        target = model_by_name(ref.target)
        followed = (*hops, Hop(column.name, table_of(target)))
        first = nulls_first or term.nulls_first
        if term.column is not None:
            if term.column not in table_of(target).c:
                raise DeclarationError(f"{model.__name__}.__ordering__: {target.__name__} has no column {term.column!r}")
            found.append(_term(followed, term.column, first))
            continue
        step = (model.__name__, term.reference)
        if step in stack:
            raise DeclarationError(f"{model.__name__}.__ordering__: ordering through {term.reference!r} comes back to {target.__name__} without end")
        through = target.__ordering__ if target.__ordering_through__ is None else target.__ordering_through__
        found.extend(_expand(target, through, followed, first, (*stack, step)))
        found.append(_term(followed, "id", first))
    return found


def _term(hops: tuple[Hop, ...], column: str, nulls_first: bool) -> Term:
    # The referenced row's id is the reference column of the row before it.
    if column == "id" and hops:
        return Term(hops[:-1], hops[-1].column, nulls_first)
    return Term(hops, column, nulls_first)


# --- written for SQLAlchemy ------------------------------------------------------------


def expressions(order: Plan, row: sa.FromClause) -> tuple[sa.ColumnElement[Any], ...]:
    """``order`` as ORDER BY expressions over ``row`` (a table or an alias of one)."""
    return tuple(_expression(term, row) for term in order)


def _expression(term: Term, row: sa.FromClause) -> sa.ColumnElement[Any]:
    value: sa.ColumnElement[Any]
    if not term.hops:
        value = row.c[term.column]
    else:
        aliases = [hop.table.alias() for hop in term.hops]
        joined: sa.FromClause = aliases[0]
        for hop, before, alias in zip(term.hops[1:], aliases, aliases[1:], strict=False):
            joined = joined.join(alias, alias.c.id == before.c[hop.column])
        first = aliases[0].c.id == row.c[term.hops[0].column]
        value = sa.select(aliases[-1].c[term.column]).select_from(joined).where(first).correlate(row).scalar_subquery()
    return value.asc().nulls_first() if term.nulls_first else value


def joined(order: Plan, table: sa.Table) -> tuple[sa.FromClause, tuple[sa.ColumnElement[Any], ...]]:
    """``order`` over ``table`` LEFT JOINed to each referenced row it reads: the FROM of a
    statement selecting ``table``'s rows, and the ORDER BY expressions over it."""
    source: sa.FromClause = table
    reached: dict[tuple[Hop, ...], sa.FromClause] = {(): table}
    found: list[sa.ColumnElement[Any]] = []
    for term in order:
        for depth in range(1, len(term.hops) + 1):
            path = term.hops[:depth]
            if path not in reached:
                alias = path[-1].table.alias()
                source = source.outerjoin(alias, alias.c.id == reached[path[:-1]].c[path[-1].column])
                reached[path] = alias
        value: sa.ColumnElement[Any] = reached[term.hops].c[term.column]
        found.append(value.asc().nulls_first() if term.nulls_first else value)
    return source, tuple(found)


# --- written as SQL text ----------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def texts(order: Plan, alias: str) -> tuple[str, ...]:
    """``order`` as ORDER BY items over the row alias ``alias``; the subqueries' own
    aliases start with it, so they are unique in any statement the alias is."""
    return tuple(_text(term, alias, f"{alias}_{number}") for number, term in enumerate(order))


def _text(term: Term, alias: str, prefix: str) -> str:
    if not term.hops:
        value = f"{alias}.{_quote(term.column)}"
    else:
        names = [f"{prefix}_{index}" for index in range(len(term.hops))]
        joins = "".join(
            f" JOIN {_quote(hop.table.name)} {name} ON {name}.id = {before}.{_quote(hop.column)}"
            for hop, before, name in zip(term.hops[1:], names, names[1:], strict=False)
        )
        first = term.hops[0]
        value = (
            f"(SELECT {names[-1]}.{_quote(term.column)} FROM {_quote(first.table.name)} {names[0]}{joins} WHERE {names[0]}.id = {alias}.{_quote(first.column)})"
        )
    return f"{value} NULLS FIRST" if term.nulls_first else value
