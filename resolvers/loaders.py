"""Per-request dataloaders keyed by (table, column): one SQL statement per relation per level.

No loader checks permissions: row-level security (permissions/rls.py) returns only rows
of tenants and object types the principal may view, whatever the statement.

Rows are SQLAlchemy ``Row`` objects: plain tuples with attribute access, so scalar
fields resolve synchronously with no ORM in the way.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from strawberry.dataloader import DataLoader

from models.base import Base
from models.display import display_sql
from models.registry import InlineSpec, ManySpec, ModelSpec, OneOfSpec, spec_for
from models.tenancy import Tag, TaggedItem
from resolvers.context import RequestContext
from resolvers.sql import any_of


async def fetch(ctx: RequestContext, statement: sa.Executable, params: dict[str, Any] | None = None) -> list[sa.Row]:
    async def rows(conn: Any) -> list[sa.Row]:
        return list((await conn.execute(statement, params or {})).all())

    return await ctx.run(rows)


def display_loader(ctx: RequestContext, spec: ModelSpec) -> DataLoader:
    """What rows of ``spec`` read as (models/display.py: the SQL the compiler inlines)."""

    async def load(keys: list[Any]) -> list[str | None]:
        statement = sa.text(f'SELECT s.id, {display_sql(spec, "s")} AS display FROM "{spec.table.name}" s WHERE s.id = ANY(:ids)')
        found = {row.id: row.display for row in await fetch(ctx, statement, {"ids": list(keys)})}
        return [found.get(key) for key in keys]

    return ctx.loader(("display", spec.type_key), load)


def by_id(ctx: RequestContext, spec: ModelSpec) -> DataLoader:
    table = spec.table

    async def load(keys: list[Any]) -> list[sa.Row | None]:
        rows = await fetch(ctx, sa.select(table).where(any_of(table.c.id, keys)))
        found = {row.id: row for row in rows}
        return [found.get(key) for key in keys]

    return ctx.loader(("id", spec.type_key), load)


def by_column(ctx: RequestContext, spec: ModelSpec, column: str, window: Any = None, where: Any = None, where_key: str = "") -> DataLoader:
    """Rows of ``spec`` grouped by the value of ``column`` (a reverse relation), in the
    page ``window`` (resolvers.reads.Window; by default the first ``max_nested_list``);
    only those meeting ``where`` (a nested list's ``filters``, named by ``where_key``)."""
    table = spec.table
    offset, limit = (window.offset, window.limit) if window is not None else (0, ctx.settings.max_nested_list)

    async def load(keys: list[Any]) -> list[list[sa.Row]]:
        # One row past the page per parent, no more: prefetch cuts the list there and
        # reports it (a container's 100,000 addresses are never all read).
        # Each parent's rows apart: what orders by the parent alone is constant there.
        place = sa.func.row_number().over(partition_by=table.c[column], order_by=spec.ordering_within(column)).label("_place")
        chosen = any_of(table.c[column], keys) if where is None else sa.and_(any_of(table.c[column], keys), where)
        ranked = sa.select(table, place).where(chosen).subquery()
        within = sa.and_(ranked.c._place > offset, ranked.c._place <= offset + limit + 1)
        rows = await fetch(ctx, sa.select(*(ranked.c[c.name] for c in table.columns)).where(within).order_by(ranked.c[column], ranked.c._place))
        grouped: dict[Any, list[sa.Row]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, column)].append(row)
        return [grouped.get(key, []) for key in keys]

    return ctx.loader(("column", spec.type_key, column, offset, limit, where_key), load)


def by_unique_column(ctx: RequestContext, spec: ModelSpec, column: str) -> DataLoader:
    """The one row of ``spec`` whose unique ``column`` has each value (a one-to-one reverse)."""
    table = spec.table

    async def load(keys: list[Any]) -> list[sa.Row | None]:
        found = {getattr(row, column): row for row in await fetch(ctx, sa.select(table).where(any_of(table.c[column], keys)))}
        return [found.get(key) for key in keys]

    return ctx.loader(("unique", spec.type_key, column), load)


def count_by_column(ctx: RequestContext, spec: ModelSpec, column: str) -> DataLoader:
    """How many rows of ``spec`` (that the principal may see) point at each key."""
    table = spec.table
    key = table.c[column]

    async def load(keys: list[Any]) -> list[int]:
        statement = sa.select(key, sa.func.count()).where(any_of(key, keys)).group_by(key)
        counts = {row[0]: row[1] for row in await fetch(ctx, statement)}
        return [counts.get(k, 0) for k in keys]

    return ctx.loader(("count", spec.type_key, column), load)


def inline(ctx: RequestContext, spec: ModelSpec, carried: InlineSpec, item: OneOfSpec) -> DataLoader:
    """A carried list (a cable's ``a_terminations``): for each parent, the ``item`` targets
    of its ``spec`` rows, each record marked with its type for the union."""
    from resolvers.prefetch import typed_record

    table = spec.table

    async def load(keys: list[Any]) -> list[list[Any]]:
        fixed = [table.c[column] == value for column, value in carried.fixed]
        # Grouped by parent below: the order within one parent is all that counts.
        order = spec.ordering_within(carried.parent)
        rows = await fetch(ctx, sa.select(table).where(any_of(table.c[carried.parent], keys), *fixed).order_by(*order))
        wanted: dict[str, set[Any]] = defaultdict(set)
        for row in rows:
            for target, column in item.members:
                if getattr(row, column) is not None:
                    wanted[target].add(getattr(row, column))
        found: dict[Any, Any] = {}
        for target, ids in wanted.items():
            target_ids = list(ids)
            for key, hit in zip(target_ids, await by_id(ctx, spec=spec_for(target)).load_many(target_ids), strict=True):
                if hit is not None:  # hidden by row-level security: left out
                    found[key] = typed_record(hit, target)
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row in rows:
            for _, column in item.members:
                value = getattr(row, column)
                if value is not None and value in found:
                    grouped[getattr(row, carried.parent)].append(found[value])
        return [grouped.get(key, []) for key in keys]

    return ctx.loader(("inline", spec.type_key, carried.name), load)


def many(ctx: RequestContext, relation: ManySpec) -> DataLoader:
    target = spec_for(relation.target)
    association = Base.metadata.tables[relation.table]
    local = association.c[relation.local]

    async def load(keys: list[Any]) -> list[list[sa.Row]]:
        statement = (
            sa.select(local.label("_owner"), target.table)
            .join(target.table, target.table.c.id == association.c[relation.remote])
            .where(any_of(local, keys))
            .order_by(*target.ordering)
        )
        grouped: dict[Any, list[sa.Row]] = defaultdict(list)
        for row in await fetch(ctx, statement):
            grouped[row._owner].append(row)
        return [grouped.get(key, []) for key in keys]

    return ctx.loader(("many", relation.table, relation.local), load)


def tags(ctx: RequestContext, type_key: str) -> DataLoader:
    tag, item = Tag.__table__, TaggedItem.__table__

    async def load(keys: list[Any]) -> list[list[sa.Row]]:
        statement = (
            sa.select(item.c.object_id.label("_owner"), tag)
            .join(tag, tag.c.id == item.c.tag_id)
            .where(item.c.object_type == type_key, any_of(item.c.object_id, keys))
            .order_by(*spec_for(Tag.__name__).ordering)  # the model's (weight, name), as every tag list
        )
        grouped: dict[Any, list[sa.Row]] = defaultdict(list)
        for row in await fetch(ctx, statement):
            grouped[row._owner].append(row)
        return [grouped.get(key, []) for key in keys]

    return ctx.loader(("tags", type_key), load)


def by_object(ctx: RequestContext, spec: ModelSpec, content_type: str) -> DataLoader:
    """Rows of ``spec`` whose any-object reference points at objects of ``content_type``
    (a site's contact assignments), grouped by the object's id."""
    table, kind, key = spec.table, spec.any_object.type_column, spec.any_object.id_column

    async def load(keys: list[Any]) -> list[list[sa.Row]]:
        statement = sa.select(table).where(table.c[kind] == content_type, any_of(table.c[key], keys)).order_by(*spec.ordering)
        grouped: dict[Any, list[sa.Row]] = defaultdict(list)
        for row in await fetch(ctx, statement):
            grouped[getattr(row, key)].append(row)
        return [grouped.get(key, []) for key in keys]

    return ctx.loader(("object", spec.type_key, content_type), load)
