"""Per-level prefetching: load a query's relations once per level, before graphql-core walks it.

graphql-core resolves fields one row at a time. A relation resolved through a
dataloader per row costs an awaitable and strawberry's full resolver path per row and
field, which was most of a large query's time (1,000 prefixes with five relations:
~6,000 awaitables, 617 ms). Instead every root field (get, list, mutation result) looks
ahead at its selection set and, level by level, calls each selected relation's
per-request dataloader batch function once for all rows, storing the answers on the
records under the field's name. Relation fields are then plain attributes that
strawberry resolves on its fast path, with no resolver at all. The SQL is the same:
one statement per relation per level, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from resolvers.context import RequestContext
from resolvers.reads import Window, nested_window


class Record:
    """A row as a plain object: columns as attributes, plus prefetched relations."""

    def __getattr__(self, name: str) -> Any:
        # Only reached for an attribute that is neither a column nor prefetched: a root
        # field that forgot to prefetch. Fail loudly (masked for the client, logged).
        raise AttributeError(f"{name!r} was not prefetched on this record")

    def __repr__(self) -> str:
        return f"Record({self.__dict__!r})"


def to_record(row: Any) -> Record:
    record = Record.__new__(Record)
    record.__dict__ = dict(row._mapping)
    return record


def to_records(rows: Iterable[Any]) -> list[Record]:
    return [to_record(row) for row in rows]


def typed_record(row: Any, type_name: str) -> Record:
    """A row as a record that says its type, for a union's ``__typename`` (TYPE_MARK)."""
    record = to_record(row)
    record.__dict__[TYPE_MARK] = type_name
    return record


def of_type(record: Any, type_name: str) -> Any:
    """``record``, marked with its type unless it already is."""
    record.__dict__.setdefault(TYPE_MARK, type_name)
    return record


MISSING = object()


def prefetched(root: Any, field: str) -> Any:
    """The batch answer prefetched for computed ``field`` on ``root``, else MISSING."""
    return root.__dict__.get(_computed_slot(field), MISSING) if isinstance(root, Record) else MISSING


def _computed_slot(field: str) -> str:
    return f"__answer_{field}"


@dataclass(frozen=True)
class Relation:
    """How to batch-load one relation field of a type."""

    loader: Callable[..., Any]  # (ctx[, window=]) → a DataLoader whose load_fn answers a list of keys
    key: str  # the record attribute that is the loader's key (``vrf_id``, ``id``)
    target: str | None  # type whose own relations may be prefetched below (None for leaves)
    many: bool
    # A computed field (depth, utilisation) keeps the raw answer for its resolver; a
    # relation stores its records under the field's own name.
    computed: bool = False
    # The answers are plain values (counts), stored as they are.
    raw: bool = False
    # The answers are records of several types, each marked with its type (TYPE_MARK).
    union: bool = False
    # The loader takes ``window=``, a nested list's page (resolvers.reads.Window), and reads
    # only those rows (and one more); other list loaders' answers are sliced.
    windowed: bool = False

    def slot(self, field: str) -> str:
        return _computed_slot(field) if self.computed else field


@dataclass(frozen=True)
class Arc:
    """How to batch-load a one-of reference: per member, the column holding its id, the
    member's type and its loader. Each answer is marked with its type for the union."""

    members: tuple[tuple[str, str, Callable[[RequestContext], Any]], ...]


# The attribute naming the type of a record loaded through an Arc (for union resolution).
TYPE_MARK = "_danbyte_type"

# type name (model class name) → field name → Relation; filled by schema.build / overrides.
RELATIONS: dict[str, dict[str, Relation | Arc]] = {}


async def _prefetch_arc(ctx: RequestContext, name: str, arc: Arc, records: list[Record], selections: list[Any], path: list[Any]) -> None:
    for record in records:
        record.__dict__[name] = None
    for column, target, loader in arc.members:
        keys = list({getattr(r, column) for r in records} - {None})
        if not keys:
            continue
        found: dict[Any, Record] = {}
        for key, row in zip(keys, await loader(ctx).load_fn(keys), strict=True):
            if row is not None:  # hidden by row-level security: the field reads null
                found[key] = typed_record(row, target)
        for record in records:
            value = found.get(getattr(record, column))
            if value is not None:
                record.__dict__[name] = value
        if found and selections:
            await prefetch(ctx, target, list(found.values()), selections, [*path, name])


def register(type_name: str, field: str, relation: Relation | Arc) -> None:
    RELATIONS.setdefault(type_name, {})[field] = relation


def selected_fields(selections: Iterable[Any]) -> Iterable[SelectedField]:
    """The fields of a selection, through fragments (aliases repeat a field)."""
    return _fields(selections)


def sub_selections(info: Any, *names: str) -> list[Any]:
    """What a resolver's field selects below its children ``names`` (fragments and aliases
    included), for prefetching the records it returns."""
    return [s for field in info.selected_fields for child in _fields(field.selections) if child.name in names for s in child.selections]


def _fields(selections: Iterable[Any]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            yield from _fields(selection.selections)


async def prefetch(ctx: RequestContext, type_name: str, records: list[Record], selections: Iterable[Any], path: list[Any] | None = None) -> None:
    """Attach every selected relation of ``records`` (and theirs, recursively). A nested
    list longer than ``settings.max_nested_list`` is cut there and reported once under its
    field path (``ctx.truncated``, list positions left out)."""
    path = list(path or [])
    if not records:
        return
    relations = RELATIONS.get(type_name, {})
    cap = ctx.settings.max_nested_list
    wanted: dict[tuple[str, Window | None], list[Any]] = {}
    for field in _fields(selections):
        relation = relations.get(field.name)
        if relation is None:
            continue
        window = None
        if isinstance(relation, Relation) and relation.many:
            if field.arguments.get("filters") is not None:
                continue  # a filtered list is loaded by its field (filtered_list)
            window = nested_window(field.arguments.get("pagination"), cap)
        elif field.arguments:
            continue
        # Aliases of one field (and page) share one load; their sub-selections are merged.
        wanted.setdefault((field.name, window), []).extend(field.selections)
    for (name, window), sub_selections in wanted.items():
        relation = relations[name]
        if isinstance(relation, Arc):
            await _prefetch_arc(ctx, name, relation, records, sub_selections, path)
            continue
        cut = False
        slot = window.slot(name) if window is not None else relation.slot(name)
        keys = list({getattr(r, relation.key) for r in records} - {None})
        loader = relation.loader(ctx, window=window) if relation.windowed else relation.loader(ctx)
        answers = await loader.load_fn(keys) if keys else []
        converted: dict[int, Any] = {}

        def convert(row: Any) -> Any:
            # A row shared by many parents (their VRF) becomes one record.
            if row is None or isinstance(row, Record) or relation.raw:  # noqa: B023 (used within this iteration only)
                return row
            found = converted.get(id(row))  # noqa: B023 (used within this iteration only)
            if found is None:
                found = converted[id(row)] = to_record(row)  # noqa: B023
            return found

        by_key: dict[Any, Any] = {}
        children: list[Record] = []
        for key, answer in zip(keys, answers, strict=True):
            if window is not None:
                if not relation.windowed:
                    answer = answer[window.offset :]
                if len(answer) > window.limit:
                    answer, cut = answer[: window.limit], cut or window.reported
                value = [convert(row) for row in answer]
                children.extend(value)
            else:
                value = convert(answer)
                if value is not None and not relation.raw:
                    children.append(value)
            by_key[key] = value
        if cut:
            ctx.report_cut([*path, name], window.limit if window is not None else cap)
        empty: Any = [] if relation.many else (0 if relation.raw else None)
        for record in records:
            record.__dict__[slot] = by_key.get(getattr(record, relation.key), empty)
        if sub_selections and (relation.target is not None or relation.union):
            unique = list({id(c): c for c in children}.values())
            if relation.union:
                await prefetch_marked(ctx, unique, sub_selections, [*path, name])
            elif relation.target is not None:
                await prefetch(ctx, relation.target, unique, sub_selections, [*path, name])


async def prefetch_marked(ctx: RequestContext, records: list[Record], selections: Iterable[Any], path: list[Any] | None = None) -> None:
    """Prefetch records of several types, each marked with its type (TYPE_MARK)."""
    by_type: dict[str, list[Record]] = {}
    for record in records:
        by_type.setdefault(record.__dict__[TYPE_MARK], []).append(record)
    for type_name, group in by_type.items():
        await prefetch(ctx, type_name, group, selections, path)


async def filtered_list(ctx: RequestContext, info: Any, owner: str, name: str, root: Any, pagination: Any, flt: Any) -> list[Record]:
    """A nested list with NetBox's ``filters`` argument (``interfaces(filters: …)``): the
    rows of its page meeting the filter and what is selected below them, loaded for every
    parent at once (the statements do not grow with the parents)."""
    from models.registry import spec_for
    from resolvers.filters import compile_filter

    relation = RELATIONS[owner][name]
    assert isinstance(relation, Relation) and relation.target is not None
    target = relation.target
    window = nested_window(pagination, ctx.settings.max_nested_list)
    path = [key for key in info.path.as_list() if isinstance(key, str)]
    where_key = repr(flt)
    selections = [s for field in info.selected_fields for s in field.selections]

    async def load(keys: list[Any]) -> list[list[Record]]:
        where = await compile_filter(spec_for(target), flt, "filters", ctx=ctx)
        answers = await relation.loader(ctx, window=window, where=where, where_key=where_key).load_fn(keys)
        lists: list[list[Record]] = []
        for answer in answers:
            if len(answer) > window.limit:
                answer = answer[: window.limit]
                if window.reported:
                    ctx.report_cut(path, window.limit)
            lists.append(to_records(answer))
        await prefetch(ctx, target, [record for found in lists for record in found], selections, path)
        return lists

    # One load per field (its path, aliases apart), filter and page.
    return await ctx.loader(("filtered list", tuple(path), where_key, window), load).load(getattr(root, relation.key))
