"""Root read paths: one object by id or numid, and filtered, paginated lists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from strawberry import UNSET

from models.registry import ModelSpec
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.filters import compile_filter
from resolvers.loaders import fetch
from resolvers.writes import parse_id


def require_view(ctx: RequestContext, spec: ModelSpec) -> None:
    if not ctx.require_principal().can("view", spec.type_key):
        raise Forbidden(f"you may not view {spec.name} objects")


def _given(value: Any) -> bool:
    return value is not UNSET and value is not None


def one_where(ctx: RequestContext, spec: ModelSpec, id: Any = None, numid: Any = None, tenant: Any = None) -> tuple[sa.ColumnElement[bool], str]:
    """The condition that finds one object by id, or by numid (and tenant), and how to
    describe it in a not-found message; refuses a principal that may not view the type."""
    require_view(ctx, spec)
    table = spec.table
    if _given(id):
        return table.c.id == parse_id(id, "id"), f"id {id}"
    if _given(numid) and spec.numbered:
        where = table.c.numid == numid
        if _given(tenant):
            where = sa.and_(where, table.c.tenant_id == _tenant_id(ctx, tenant))
        return where, f"numid {numid}"
    raise BadUserInput("give id, or numid" if spec.numbered else "give id", field="id")


async def get_one(ctx: RequestContext, spec: ModelSpec, id: Any = None, numid: Any = None, tenant: Any = None) -> sa.Row:
    where, described = one_where(ctx, spec, id=id, numid=numid, tenant=tenant)
    rows = await fetch(ctx, sa.select(spec.table).where(where).limit(2))
    if not rows:
        raise NotFound(f"no {spec.name} with {described}", field="id" if _given(id) else "numid")
    if len(rows) > 1:
        raise BadUserInput("numid is numbered per tenant and several of your tenants have it: add tenant", field="tenant")
    return rows[0]


def _tenant_id(ctx: RequestContext, tenant: Any) -> uuid.UUID:
    return parse_id(tenant, "tenant")


def needed_columns(spec: ModelSpec, names: set[str]) -> list[sa.Column[Any]] | None:
    """The columns a selection of fields ``names`` reads: each scalar, each reference's key,
    the members of each one-of, the id (every list and count is keyed on it). None (all
    columns) when a field is not one the registry describes: a computed field may read
    any column, so only plain selections are narrowed."""
    table = spec.table
    columns: set[str] = {"id"}
    keyed_by_id = {r.name for r in spec.reverse} | {m.name for m in spec.many} | {c.name for c in spec.counts} | {i.name for i in spec.inline}
    keyed_by_id |= {o.name for o in spec.object_reverse} | {"display"}  # loaded by id (models/display.py)
    for name in names - {"__typename", "class_type"}:  # neither reads a column
        ref = spec.ref(name)
        one_of = next((o for o in spec.one_of if o.name == name), None)
        if spec.scalar(name) is not None:
            columns.add(name)
        elif ref is not None:
            columns.add(ref.column)
        elif one_of is not None:
            columns.update(column for _, column in one_of.members)
        elif name in keyed_by_id or (name == "tags" and spec.tagged):
            continue
        else:
            return None
    return [table.c[name] for name in sorted(columns)]


@dataclass(frozen=True)
class Window:
    """Which items of a nested list to answer: from ``offset``, at most ``limit``;
    ``reported``: the ceiling, not the client, chose the limit, so a cut is reported."""

    offset: int
    limit: int
    reported: bool

    def slot(self, field: str) -> str:
        """Where a record keeps this window of ``field`` (the whole default list: the name)."""
        if self.reported:
            return f"{field}@{self.offset}" if self.offset else field
        return f"{field}@{self.offset}:{self.limit}"


def nested_window(pagination: Any, ceiling: float) -> Window:
    """The window a nested list's ``pagination`` argument asks for (an input object, or
    the plain dict a selection carries), checked as a root list's is. Without a limit the
    nested-list ceiling applies."""
    read = pagination.get if isinstance(pagination, dict) else lambda name: getattr(pagination, name, None)
    if _given(read("start")):
        raise BadUserInput("pagination.start pages root lists; nested lists take offset and limit", field="pagination.start")
    offset, limit = _count(read("offset")), _count(read("limit"))
    if offset is not None and offset < 0:
        raise BadUserInput("pagination.offset must not be negative", field="pagination.offset")
    if limit is not None:
        if limit < 0:
            raise BadUserInput("pagination.limit must not be negative", field="pagination.limit")
        if limit > ceiling:
            raise BadUserInput(f"pagination.limit {limit} is over the nested-list ceiling of {ceiling}", field="pagination.limit")
        return Window(offset or 0, limit, reported=False)
    return Window(offset or 0, int(min(ceiling, 2**31)), reported=True)


def _count(value: Any) -> int | None:
    """An offset or limit as given: a number, or the text of a literal in a selection ("2")."""
    if not _given(value):
        return None
    return int(value)


@dataclass(frozen=True)
class Page:
    """Which rows of a root list to answer: conditions, order, and the window. ``capped``:
    the page ceiling, not the client, chose ``limit``, so a longer list must be reported.
    ``source``: the FROM the order needs (the table, joined to what it orders through)."""

    source: sa.FromClause
    where: tuple[sa.ColumnElement[bool], ...]
    ordering: tuple[sa.ColumnElement[Any], ...]
    offset: int
    limit: int
    capped: bool


async def plan_page(ctx: RequestContext, spec: ModelSpec, filters: Any = None, pagination: Any = None) -> Page:
    """The page a list field's ``filters`` and ``pagination`` ask for, checked (limits,
    permission) before any row is read."""
    require_view(ctx, spec)
    table = spec.table
    ceiling = ctx.settings.max_page_size
    where: list[sa.ColumnElement[bool]] = []
    if _given(filters):
        where.append(await compile_filter(spec, filters, ctx=ctx))
    limit, offset = ceiling, 0
    capped = True
    if _given(pagination):
        if _given(pagination.limit):
            if pagination.limit < 0:
                raise BadUserInput("pagination.limit must not be negative", field="pagination.limit")
            if pagination.limit > ceiling:
                raise BadUserInput(f"pagination.limit {pagination.limit} is over the page ceiling of {ceiling}", field="pagination.limit")
            limit, capped = pagination.limit, False
        if _given(pagination.offset):
            if pagination.offset < 0:
                raise BadUserInput("pagination.offset must not be negative", field="pagination.offset")
            offset = pagination.offset
    source, ordering = spec.page_order
    if _given(pagination) and _given(pagination.start):
        if offset:
            raise BadUserInput("give start or offset, not both", field="pagination.offset")  # as NetBox refuses
        # Keyset: rows after the cursor in id order (pass the last id of the previous page),
        # as NetBox orders by primary key under a cursor; NetBox's first page, ``start: 0``,
        # is before every id.
        if str(pagination.start) != "0":
            where.append(table.c.id > parse_id(pagination.start, "pagination.start"))
        source, ordering = table, (table.c.id,)
    return Page(source, tuple(where), tuple(ordering), offset, limit, capped)


async def list_rows(
    ctx: RequestContext,
    spec: ModelSpec,
    filters: Any = None,
    pagination: Any = None,
    path: list[Any] | None = None,
    fields: set[str] | None = None,
) -> list[sa.Row]:
    """One page of ``spec``'s rows. Without a client limit the page ceiling applies, and a
    list it cuts short is reported under ``path`` (``ctx.truncated``). ``fields``: the
    selected field names, to read only the columns they need (``needed_columns``)."""
    page = await plan_page(ctx, spec, filters, pagination)
    narrowed = needed_columns(spec, fields) if fields is not None else None
    statement = sa.select(*narrowed) if narrowed is not None else sa.select(spec.table)
    # One row more than the page tells whether the ceiling cut the list short.
    limit = page.limit + 1 if page.capped else page.limit
    statement = statement.select_from(page.source).where(*page.where).order_by(*page.ordering).offset(page.offset).limit(limit)
    rows = await fetch(ctx, statement)
    if page.capped and len(rows) > page.limit:
        ctx.report_cut(path or [f"{spec.name}_list"], page.limit)
        return rows[: page.limit]
    return rows
