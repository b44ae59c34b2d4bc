"""Compile NetBox-style filter inputs into SQL WHERE clauses.

A filter is a nested object: ``{name: {i_contains: "x"}, vrf: {name: {exact: "a"}},
OR: {...}, NOT: {...}}``. Scalar fields take lookups; relations take the related
model's filter (compiled to ``col IN (SELECT id …)``, still under row-level security).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INET
from strawberry import UNSET

from models.registry import Kind, ModelSpec, ScalarSpec, spec_for
from models.tenancy import Tag, TaggedItem
from resolvers.errors import BadUserInput
from resolvers.validation import parse_id, parse_interface, parse_network


def _set_fields(obj: Any) -> list[tuple[str, Any]]:
    return [
        (f.name, getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if getattr(obj, f.name) is not UNSET and getattr(obj, f.name) is not None
    ]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _coerce(scalar: ScalarSpec, value: Any, path: str) -> Any:
    """Turn a filter value into what the column compares against."""
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


def _scalar_clause(column: sa.ColumnElement, scalar: ScalarSpec, lookup: Any, path: str) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    textual = sa.cast(column, sa.Text) if scalar.kind in (Kind.network, Kind.interface, Kind.choice) else column
    is_net = scalar.kind in (Kind.network, Kind.interface)
    for op, value in _set_fields(lookup):
        where = f"{path}.{op}"
        if op == "exact":
            clauses.append(column == _coerce(scalar, value, where))
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
            clauses.append(textual.regexp_match(value))
        elif op == "i_regex":
            clauses.append(textual.regexp_match(value, flags="i"))
        elif op == "in_list":
            clauses.append(column.in_([_coerce(scalar, v, where) for v in value]))
        elif op == "is_null":
            clauses.append(column.is_(None) if value else column.is_not(None))
        elif op in ("gt", "gte", "lt", "lte"):
            bound = _coerce(scalar, value, where)
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


def compile_filter(spec: ModelSpec, flt: Any, path: str = "filters") -> sa.ColumnElement[bool]:
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
            clauses.extend(_scalar_clause(table.c[name], scalar, value, where))
            continue
        if name == "tag":
            tag, item = Tag.__table__, TaggedItem.__table__
            tagged = (
                sa.select(item.c.object_id)
                .join(tag, tag.c.id == item.c.tag_id)
                .where(item.c.object_type == spec.type_key, tag.c.slug.in_(value))
            )
            clauses.append(table.c.id.in_(tagged))
            continue
        if name.endswith("_id") and spec.ref(name.removesuffix("_id")) is not None:
            ref = spec.ref(name.removesuffix("_id"))
            assert ref is not None
            id_scalar = ScalarSpec(name=name, kind=Kind.uuid, nullable=ref.nullable)
            clauses.extend(_scalar_clause(table.c[ref.column], id_scalar, value, where))
            continue
        ref = spec.ref(name)
        if ref is not None:
            target = spec_for(ref.target)
            inner = sa.select(target.table.c.id).where(compile_filter(target, value, where))
            clauses.append(table.c[ref.column].in_(inner))
            continue
        raise BadUserInput(f"{where}: unknown filter field", field=where)  # pragma: no cover
    # {a, OR: {b}} means a OR b; {a, NOT: {b}} means a AND NOT b (strawberry-django's reading).
    result: sa.ColumnElement[bool] | None = sa.and_(*clauses) if clauses else None
    if "AND" in combinators:
        other = compile_filter(spec, combinators["AND"], f"{path}.AND")
        result = other if result is None else sa.and_(result, other)
    if "OR" in combinators:
        other = compile_filter(spec, combinators["OR"], f"{path}.OR")
        result = other if result is None else sa.or_(result, other)
    if "NOT" in combinators:
        other = sa.not_(compile_filter(spec, combinators["NOT"], f"{path}.NOT"))
        result = other if result is None else sa.and_(result, other)
    return sa.true() if result is None else result
