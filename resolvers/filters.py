"""Compile NetBox-style filter inputs into SQL WHERE clauses.

A filter is a nested object: ``{name: {i_contains: "x"}, vrf: {name: {exact: "a"}},
OR: {...}, NOT: {...}}``. Scalar fields take lookups; relations take the related
model's filter (compiled to ``col IN (SELECT id …)``, still under row-level security).

Everything a client can get wrong is refused with ``BAD_USER_INPUT`` naming the filter path
before the list's SQL runs (a failed statement would abort the read transaction that the
request's other root fields share):

- nesting: each AND, OR, NOT and related-object filter is one level; at most
  ``settings.max_filter_depth`` (DANBYTE_MAX_FILTER_DEPTH, 16) below the root filter;
- lists (``in_list``, ``tag``): at most ``settings.max_list_values`` values
  (DANBYTE_MAX_LIST_VALUES, 10,000), compared as ``= ANY(:array)``, one parameter per list;
- ``regex`` / ``i_regex``: each distinct pattern is compiled by PostgreSQL itself (its ARE
  dialect is not Python's ``re``) inside a savepoint, before the list's query;
- addresses and prefixes: what PostgreSQL's inet/cidr accept (no IPv6 zones); integers
  within their column's storage range.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, CIDR, INET
from strawberry import UNSET

from models.registry import Kind, ModelSpec, OneOfSpec, ScalarSpec, content_type, spec_for
from models.tenancy import Tag, TaggedItem
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, Forbidden
from resolvers.sql import any_of
from resolvers.validation import parse_id, parse_interface, parse_network


def _set_fields(obj: Any) -> list[tuple[str, Any]]:
    return [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj) if getattr(obj, f.name) is not UNSET and getattr(obj, f.name) is not None]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class FilterLimits:
    """How much one filter may ask for.

    ``max_depth`` also keeps SQL compilation safe: SQLAlchemy's compiler recurses about ten
    Python frames per nested NOT, and ``{name: …, NOT: {name: …, NOT: …}}`` some 82 levels
    deep exceeded Python's recursion limit while the statement was compiled (a masked
    RecursionError; related-object filters overflow near 100). A bare ``{NOT: {NOT: …}}``
    only survived because SQLAlchemy folds ``NOT (a = b)`` into ``a != b``. Keep
    DANBYTE_MAX_FILTER_DEPTH well below that.
    """

    max_depth: int = 16
    max_list_values: int = 10_000

    @classmethod
    def from_settings(cls, settings: Any) -> FilterLimits:
        return cls(
            max_depth=getattr(settings, "max_filter_depth", cls.max_depth),
            max_list_values=getattr(settings, "max_list_values", cls.max_list_values),
        )


@dataclass
class _Compilation:
    limits: FilterLimits
    # Who asks: a related-object filter on a type they may not view is refused outright
    # (row-level security would make it match nothing; the error says why).
    principal: Any = None
    # (lookup, pattern) → the first filter path that uses it, checked by PostgreSQL afterwards.
    patterns: dict[tuple[str, str], str] = field(default_factory=dict)

    def may_view(self, where: str, object_type: str) -> None:
        if self.principal is not None and not self.principal.can("view", object_type):
            raise Forbidden(f"{where}: you may not view {object_type} objects, so you may not filter by them", field=where)

    def nested(self, where: str, depth: int) -> int:
        if depth > self.limits.max_depth:
            raise BadUserInput(
                f"{where}: filters may nest at most {self.limits.max_depth} levels deep (each AND, OR, NOT and related-object filter is one level)",
                field=where,
            )
        return depth

    def sized(self, where: str, values: list[Any]) -> list[Any]:
        if len(values) > self.limits.max_list_values:
            raise BadUserInput(
                f"{where}: {len(values)} values; at most {self.limits.max_list_values} are allowed in one list",
                field=where,
            )
        return values


# Largest magnitude each integer column type stores; a value beyond it fails the cast in SQL.
_INTEGER_LIMITS = ((sa.SmallInteger, 2**15), (sa.BigInteger, 2**63), (sa.Integer, 2**31))


def _check_integer(column: sa.ColumnElement, value: Any, path: str) -> None:
    for kind, limit in _INTEGER_LIMITS:
        if isinstance(column.type, kind):
            if isinstance(value, int) and not -limit <= value < limit:
                raise BadUserInput(f"{path}: {value} is out of range {-limit}..{limit - 1}", field=path)
            return


def _coerce(scalar: ScalarSpec, value: Any, path: str, column: sa.ColumnElement | None = None) -> Any:
    """Turn a filter value into what the column compares against."""
    if isinstance(value, enum.Enum):  # a choice's GraphQL enum member: compare its value
        value = value.value
    if scalar.kind in (Kind.integer, Kind.big_integer) and column is not None:
        _check_integer(column, value, path)
    if scalar.kind is Kind.choice:
        assert scalar.enum is not None
        try:
            return scalar.enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in scalar.enum)
            raise BadUserInput(f"{path}: '{value}' is not one of {allowed}", field=path) from None
    if scalar.kind is Kind.uuid:
        return parse_id(value, path)
    if scalar.kind in (Kind.datetime, Kind.date):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise BadUserInput(f"{path}: '{value}' is not an ISO 8601 date or time", field=path) from None
        return parsed.date() if scalar.kind is Kind.date else parsed
    if scalar.kind is Kind.network:
        return str(parse_network(value, path))
    if scalar.kind is Kind.interface:
        return str(parse_interface(value, path))
    return value


# NetBox's FloatLookup nests its operations one level down; a range is two comparisons.
_NESTED_LOOKUPS = ("filter_lookup", "comparison_lookup", "range_lookup")
_RANGE_BOUNDS = {"start": "gte", "end": "lte"}


def _operations(lookup: Any, path: str) -> list[tuple[str, str, Any]]:
    """(path, operation, value) of every operation a lookup sets, nested ones flattened."""
    found = []
    for op, value in _set_fields(lookup):
        if op in _NESTED_LOOKUPS:
            found += [(f"{path}.{op}.{inner}", _RANGE_BOUNDS.get(inner, inner), v) for inner, v in _set_fields(value)]
        else:
            found.append((f"{path}.{op}", op, value))
    return found


def _scalar_clause(column: sa.ColumnElement, scalar: ScalarSpec, lookup: Any, path: str, state: _Compilation) -> list[sa.ColumnElement[bool]]:
    return _operation_clauses(column, scalar, _operations(lookup, path), state)


def _operation_clauses(
    column: sa.ColumnElement, scalar: ScalarSpec, operations: list[tuple[str, str, Any]], state: _Compilation
) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    textual = sa.cast(column, sa.Text) if scalar.kind in (Kind.network, Kind.interface, Kind.choice) else column
    is_net = scalar.kind in (Kind.network, Kind.interface)
    for where, op, value in operations:
        if op == "exact":
            clauses.append(column == _coerce(scalar, value, where, column))
        elif op == "i_exact":
            clauses.append(sa.func.lower(textual) == value.lower())
        elif op in ("contains", "i_contains", "starts_with", "i_starts_with", "ends_with", "i_ends_with"):
            pattern = _like_escape(value)
            if "contains" in op:
                pattern = f"%{pattern}%"
            elif "starts" in op:
                pattern = f"{pattern}%"
            else:
                pattern = f"%{pattern}"
            method = textual.ilike if op.startswith("i_") else textual.like
            clauses.append(method(pattern, escape="\\"))
        elif op == "regex":
            state.patterns.setdefault((op, value), where)
            clauses.append(textual.regexp_match(value))
        elif op == "i_regex":
            state.patterns.setdefault((op, value), where)
            clauses.append(textual.regexp_match(value, flags="i"))
        elif op == "in_list":
            clauses.append(any_of(column, [_coerce(scalar, v, where, column) for v in state.sized(where, value)]))
        elif op == "is_null":
            clauses.append(column.is_(None) if value else column.is_not(None))
        elif op in ("gt", "gte", "lt", "lte"):
            bound = _coerce(scalar, value, where, column)
            compare = {"gt": column > bound, "gte": column >= bound, "lt": column < bound, "lte": column <= bound}
            clauses.append(compare[op])
        elif is_net and op.startswith("net_"):
            other = sa.cast(str(parse_interface(value, where)), INET)
            operator = {
                "net_contains": ">>",
                "net_contains_or_equals": ">>=",
                "net_contained": "<<",
                "net_contained_or_equal": "<<=",
            }[op]
            clauses.append(column.op(operator)(other))
        elif is_net and op == "family":
            clauses.append(sa.func.family(column) == value)
        else:  # pragma: no cover - the generated input types only offer the ops above
            raise BadUserInput(f"{where}: unsupported lookup", field=where)
    return clauses


async def compile_filter(spec: ModelSpec, flt: Any, path: str = "filters", *, ctx: RequestContext) -> sa.ColumnElement[bool]:
    """The WHERE clause for ``flt``; raises BadUserInput naming the path for anything the
    list's SQL would fail on (limits from ``ctx.settings``; regex patterns checked on the
    request's read connection)."""
    state = _Compilation(FilterLimits.from_settings(ctx.settings), ctx.require_principal())
    clause = _compile(spec, flt, path, 0, state)
    if state.patterns:
        await _check_patterns(ctx, state.patterns)
    return clause


# Compiles each pattern with the lookup's own operator (~ or ~*); an invalid one raises SQLSTATE 2201B.
_REGEX_CHECK = sa.text(
    "SELECT count(*) FROM unnest(CAST(:patterns AS text[]), CAST(:insensitive AS boolean[])) AS p(pattern, insensitive)"
    " WHERE CASE WHEN insensitive THEN '' ~* pattern ELSE '' ~ pattern END"
)


async def _regex_error(conn: Any, patterns: list[tuple[str, str]]) -> str | None:
    """PostgreSQL's complaint about an invalid pattern among ``patterns``, or None. Runs in a
    savepoint, so a failure leaves the request's read transaction usable."""
    try:
        async with conn.begin_nested():
            params = {"patterns": [p for _, p in patterns], "insensitive": [op == "i_regex" for op, _ in patterns]}
            await conn.execute(_REGEX_CHECK, params)
    except sa.exc.DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "2201B":
            raise
        return str(error.orig).splitlines()[0] if str(error.orig) else "invalid"
    return None


async def _check_patterns(ctx: RequestContext, patterns: dict[tuple[str, str], str]) -> None:
    """Let PostgreSQL compile every distinct pattern (its ARE dialect is not Python's ``re``):
    one statement for all of them; only if one is invalid, one statement each to name it."""

    async def check(conn: Any) -> None:
        if await _regex_error(conn, list(patterns)) is None:
            return
        for (op, pattern), where in patterns.items():
            detail = await _regex_error(conn, [(op, pattern)])
            if detail is not None:
                raise BadUserInput(f"{where}: '{pattern}' is not a valid regular expression ({detail})", field=where)

    await ctx.run(check)


# A key in a JSON path: NetBox's rule (letters, digits, '_' and '-'), segments joined by '__'.
_JSON_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
# NetBox's JSON string lookup names its list and null operations its own way.
_JSON_OPERATION_NAMES = {"in_": "in_list", "isnull": "is_null"}


def _json_clause(column: sa.ColumnElement, flt: Any, where: str, state: _Compilation) -> list[sa.ColumnElement[bool]]:
    """``custom_field_data: {path: "a__b", lookup: {int_comparison_lookup: {gt: 3}}}``: the
    value at the path, compared as the lookup's kind; a value of another JSON type (text
    where a number is asked for) does not match rather than failing the query."""
    segments = flt.path.split("__")
    if not all(_JSON_KEY.match(segment) for segment in segments) or len(segments) > state.limits.max_depth:
        raise BadUserInput(f"{where}.path: '{flt.path[:100]}' is not a path of keys (letters, digits, '_', '-') joined by '__'", field=f"{where}.path")
    keys = sa.literal(segments, ARRAY(sa.Text()))
    node = column.op("#>", return_type=column.type)(keys)
    text = column.op("#>>", return_type=sa.Text())(keys)
    chosen = _set_fields(flt.lookup)
    if len(chosen) != 1:
        raise BadUserInput(f"{where}.lookup: give exactly one lookup", field=f"{where}.lookup")
    name, lookup = chosen[0]
    path = f"{where}.lookup.{name}"
    operations = [(f"{path}.{op}", _RANGE_BOUNDS.get(op, _JSON_OPERATION_NAMES.get(op, op)), value) for op, value in _set_fields(lookup)]

    def typed(json_type: str, cast: Any) -> sa.ColumnElement[Any]:
        return sa.case((sa.func.jsonb_typeof(node) == json_type, sa.cast(text, cast)), else_=sa.null())

    if name.startswith(("int_", "float_")):
        kind, value_of = (Kind.integer if name.startswith("int_") else Kind.decimal), typed("number", sa.Numeric())
    elif name == "boolean_lookup":
        kind, value_of = Kind.boolean, typed("boolean", sa.Boolean())
    else:  # strings, and dates and times held as ISO 8601 text (which sorts as they do)
        kind, value_of = Kind.string, text
    return _operation_clauses(value_of, ScalarSpec(name=name, kind=kind, nullable=True), operations, state)


def network_list_filter(spec: ModelSpec) -> str | None:
    """The name of NetBox's list-of-networks filter on a type with addresses: ``contains``
    where its address is a prefix (prefixes, aggregates: those containing one of the
    networks), ``parent`` where its addresses are hosts (IP addresses, ranges: those whose
    every address lies in one of them); None for a type without addresses."""
    family = spec.scalar(spec.family_column) if spec.family_column is not None else None
    if family is None:
        return None
    return "contains" if family.kind is Kind.network else "parent"


def _network_list_clause(spec: ModelSpec, name: str, values: list[str], where: str, state: _Compilation) -> sa.ColumnElement[bool]:
    # As NetBox reads each value: a network, host bits dropped ("10.1.1.7" is 10.1.1.7/32);
    # an empty list filters nothing. A value that is no network is refused (NetBox skips it).
    networks = [sa.cast(str(parse_interface(value.strip(), where).network), CIDR) for value in state.sized(where, values)]
    if not networks:
        return sa.true()
    table = spec.table
    if name == "contains":
        column = table.c[spec.family_column or ""]
        return sa.or_(*(column.op(">>")(network) for network in networks))
    hosts = [sa.cast(sa.func.host(table.c[s.name]), INET) for s in spec.scalars if s.kind is Kind.interface]
    return sa.or_(*(sa.and_(*(host.op("<<=")(network) for host in hosts)) for network in networks))


def assigned_filter(spec: ModelSpec) -> OneOfSpec | None:
    """The optional ``assigned_object`` reference behind NetBox's ``assigned: Boolean``
    filter (IP and MAC addresses: assigned to something, or not)."""
    return next((o for o in spec.one_of if o.name == "assigned_object" and o.nullable), None)


def _one_of_filter(spec: ModelSpec, name: str) -> OneOfSpec | None:
    return next((o for o in spec.one_of if name in (f"{o.name}_type", f"{o.name}_id")), None)


def _one_of_clause(spec: ModelSpec, one_of: OneOfSpec, name: str, value: Any, where: str, state: _Compilation) -> sa.ColumnElement[bool]:
    """``scope_id: X`` or ``scope_type: {app_label, model}``: which member columns are set.

    Either tells something about the referenced object, so the principal must be able to
    view every type the reference may point at."""
    for target, _ in one_of.members:
        state.may_view(where, spec_for(target).type_key)
    table = spec.table
    if name.endswith("_id"):
        wanted = parse_id(value, where)
        return sa.or_(*(table.c[column] == wanted for _, column in one_of.members))
    text = ScalarSpec(name="content_type", kind=Kind.string, nullable=False)
    matching = []
    for target, column in one_of.members:
        app_label, model = content_type(spec_for(target).model).split(".")
        conditions: list[sa.ColumnElement[bool]] = [table.c[column].is_not(None)]
        for part, literal in (("app_label", app_label), ("model", model)):
            lookup = getattr(value, part, UNSET)
            if lookup is not UNSET and lookup is not None:
                conditions.extend(_scalar_clause(sa.literal(literal, sa.String()), text, lookup, f"{where}.{part}", state))
        matching.append(sa.and_(*conditions))
    return sa.or_(*matching)


def _category_clause(table: sa.Table, category: Any, wanted: str) -> sa.ColumnElement[bool]:
    """Rows whose column value is in the category ``wanted`` (its group, or none of them)."""
    column = table.c[category.column]
    groups = dict(category.groups)
    if wanted in groups:
        return column.in_(sorted(groups[wanted]))
    grouped = sorted(value for values in groups.values() for value in values)
    return column.not_in(grouped)


def _through_clause(spec: ModelSpec, hops: tuple[str, ...], value: Any, where: str, depth: int, state: _Compilation) -> sa.ColumnElement[bool]:
    """A filter on what the last of ``hops`` points at (a component's ``site``: its
    device's), as the nested reference filters it stands for would be."""
    ref = spec.ref(hops[0])
    assert ref is not None  # checked when the schema is built
    target = spec_for(ref.target)
    state.may_view(where, target.type_key)
    if len(hops) == 1:
        condition = _compile(target, value, where, state.nested(where, depth + 1), state)
    else:
        condition = _through_clause(target, hops[1:], value, where, depth + 1, state)
    return spec.table.c[ref.column].in_(sa.select(target.table.c.id).where(condition))


def _tree_nodes(spec: ModelSpec, node_id: Any, match: str) -> sa.Select[Any]:
    """The ids of ``spec``'s rows that ``match`` (NetBox's TreeNodeMatch) the node
    ``node_id`` of its ``parent`` tree, as NetBox's MPTT lookups select them; walked with a
    recursive CTE under the reader's row-level security."""
    table = spec.table
    parent_ref = spec.ref("parent")
    assert parent_ref is not None  # checked when the registry is built
    parent = table.c[parent_ref.column]
    if match == "exact":
        return sa.select(table.c.id).where(table.c.id == node_id)
    if match == "children":
        return sa.select(table.c.id).where(parent == node_id)
    if match == "parent":
        return sa.select(parent).where(table.c.id == node_id, parent.is_not(None))
    if match == "siblings":  # a top-level node has none (NetBox: each root is a tree of its own)
        return sa.select(table.c.id).where(parent == sa.select(parent).where(table.c.id == node_id).scalar_subquery(), table.c.id != node_id)
    if match == "ancestors":
        start = sa.select(parent.label("id")).where(table.c.id == node_id, parent.is_not(None))
        up = start.cte("tree_nodes", recursive=True, nesting=True)
        walked = up.union(sa.select(parent.label("id")).join(up, table.c.id == up.c.id).where(parent.is_not(None)))
        return sa.select(walked.c.id)
    # descendants, with or without the node itself
    start = sa.select(table.c.id).where(table.c.id == node_id if match == "self_and_descendants" else parent == node_id)
    down = start.cte("tree_nodes", recursive=True, nesting=True)
    walked = down.union(sa.select(table.c.id).join(down, parent == down.c.id))
    return sa.select(walked.c.id)


def _tree_clause(spec: ModelSpec, hops: tuple[str, ...], value: Any, where: str, state: _Compilation) -> sa.ColumnElement[bool]:
    """``location_id: {id, match_type}``: rows whose reference (through ``hops``) is one of
    the matching nodes. An id the reader cannot see matches nothing, as an unknown one."""
    node_id = parse_id(value.id, f"{where}.id")
    ref = spec.ref(hops[0])
    assert ref is not None  # checked when the registry is built
    target = spec_for(ref.target)
    state.may_view(where, target.type_key)
    if len(hops) == 1:
        matching = _tree_nodes(target, node_id, value.match_type.value)
    else:
        matching = sa.select(target.table.c.id).where(_tree_clause(target, hops[1:], value, where, state))
    return spec.table.c[ref.column].in_(matching)


def _compile(spec: ModelSpec, flt: Any, path: str, depth: int, state: _Compilation) -> sa.ColumnElement[bool]:
    table = spec.table
    clauses: list[sa.ColumnElement[bool]] = []
    combinators: dict[str, Any] = {}
    for name, value in _set_fields(flt):
        where = f"{path}.{name}"
        if name in ("AND", "OR", "NOT"):
            combinators[name] = value
            continue
        scalar = spec.scalar(name)
        if scalar is not None:
            clauses.extend(_scalar_clause(table.c[name], scalar, value, where, state))
            continue
        one_of = _one_of_filter(spec, name)
        if one_of is not None:
            clauses.append(_one_of_clause(spec, one_of, name, value, where, state))
            continue
        assigned = assigned_filter(spec) if name == "assigned" else None
        if assigned is not None:
            for member, _ in assigned.members:
                state.may_view(where, spec_for(member).type_key)  # it tells whether one points at an object
            set_members = [table.c[column].is_not(None) for _, column in assigned.members]
            clauses.append(sa.or_(*set_members) if value else sa.not_(sa.or_(*set_members)))
            continue
        if name == network_list_filter(spec):
            clauses.append(_network_list_clause(spec, name, value, where, state))
            continue
        if name == "family" and spec.family_column is not None:
            clauses.append(sa.func.family(table.c[spec.family_column]) == int(value.value))
            continue
        category = spec.categories.get(name)
        if category is not None:
            clauses.append(_category_clause(table, category, value.value))
            continue
        if name == "custom_field_data":
            clauses.extend(_json_clause(table.c.custom_fields, value, where, state))
            continue
        if name == "tag":
            state.may_view(where, Tag.__tablename__)
            tag, item = Tag.__table__, TaggedItem.__table__
            tagged = (
                sa.select(item.c.object_id)
                .join(tag, tag.c.id == item.c.tag_id)
                .where(item.c.object_type == spec.type_key, any_of(tag.c.slug, state.sized(where, value)))
            )
            clauses.append(table.c.id.in_(tagged))
            continue
        if name == "tags":
            # NetBox's ``tags: {slug: {exact: "x"}}``: one tag must match the whole filter.
            state.may_view(where, Tag.__tablename__)
            tag_spec, item = spec_for(Tag.__name__), TaggedItem.__table__
            matching = sa.select(tag_spec.table.c.id).where(_compile(tag_spec, value, where, state.nested(where, depth + 1), state))
            tagged = sa.select(item.c.object_id).where(item.c.object_type == spec.type_key, item.c.tag_id.in_(matching))
            clauses.append(table.c.id.in_(tagged))
            continue
        tree = spec.tree_filters.get(name)
        if tree is not None:
            clauses.append(_tree_clause(spec, tree, value, where, state))
            continue
        if name.endswith("_id") and spec.ref(name.removesuffix("_id")) is not None:
            ref = spec.ref(name.removesuffix("_id"))
            assert ref is not None
            # The column is the object's own, beyond row-level security's reach: without
            # view on the target it would tell which object it points at.
            state.may_view(where, spec_for(ref.target).type_key)
            id_scalar = ScalarSpec(name=name, kind=Kind.uuid, nullable=ref.nullable)
            clauses.extend(_scalar_clause(table.c[ref.column], id_scalar, value, where, state))
            continue
        ref = spec.ref(name)
        if ref is not None:
            target = spec_for(ref.target)
            state.may_view(where, target.type_key)
            inner = sa.select(target.table.c.id).where(_compile(target, value, where, state.nested(where, depth + 1), state))
            clauses.append(table.c[ref.column].in_(inner))
            continue
        hops = spec.filter_through.get(name)
        if hops is not None:
            clauses.append(_through_clause(spec, hops, value, where, depth, state))
            continue
        raise BadUserInput(f"{where}: unknown filter field", field=where)  # pragma: no cover
    # {a, OR: {b}} means a OR b; {a, NOT: {b}} means a AND NOT b (strawberry-django's reading).
    result: sa.ColumnElement[bool] | None = sa.and_(*clauses) if clauses else None
    if "AND" in combinators:
        where = f"{path}.AND"
        other = _compile(spec, combinators["AND"], where, state.nested(where, depth + 1), state)
        result = other if result is None else sa.and_(result, other)
    if "OR" in combinators:
        where = f"{path}.OR"
        other = _compile(spec, combinators["OR"], where, state.nested(where, depth + 1), state)
        result = other if result is None else sa.or_(result, other)
    if "NOT" in combinators:
        where = f"{path}.NOT"
        other = sa.not_(_compile(spec, combinators["NOT"], where, state.nested(where, depth + 1), state))
        result = other if result is None else sa.and_(result, other)
    return sa.true() if result is None else result
