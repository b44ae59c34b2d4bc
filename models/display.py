"""What an object reads as: NetBox's ``display`` field (the object's ``str()``).

Each model says it once, as a SQL expression over its row (``__display__``), and both read
paths evaluate that one expression: the compiled SQL inlines it, the resolvers load it in
one statement per type and level (resolvers/loaders.display_loader). A declaration is
built from the helpers below; in its text ``{s}`` is the row, ``{display:a.b}`` what the
row's reference ``a``'s reference ``b`` reads as, ``{value:a.column}`` a column of a
referenced row, and ``{object:object}`` what the object of its any-object reference reads
as. Without a declaration an object reads as its name (or, unnamed, as its type and
number). SQL text goes to psycopg as it is: no ``%`` (write ``mod()``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.registry import ModelSpec

_PLACEHOLDER = re.compile(r"\{(display|value|object):([\w.]+)\}")

# NetBox's labels of the priorities contacts and circuit groups are assigned with.
PRIORITY_LABELS = {"primary": "Primary", "secondary": "Secondary", "tertiary": "Tertiary", "inactive": "Inactive"}


def col(name: str) -> str:
    """A column of the row, as text."""
    return f'({{s}}."{name}")::text'


def given(expression: str) -> str:
    """NULL where the text is empty: NetBox's blank strings are not shown."""
    return f"nullif({expression}, '')"


def parenthesised(main: str, extra: str) -> str:
    """``main (extra)``, or ``main`` when ``extra`` is empty: NetBox's common shape."""
    return f"CASE WHEN {given(extra)} IS NULL THEN {main} ELSE {main} || ' (' || {extra} || ')' END"


def choice_label(column: str, labels: Mapping[str, str]) -> str:
    """The label NetBox shows for a stored choice value (the value itself if unlisted)."""
    whens = " ".join(f"WHEN {_literal(value)} THEN {_literal(label)}" for value, label in labels.items())
    return f'CASE {{s}}."{column}" {whens} ELSE ({{s}}."{column}")::text END'


def capitalised(expression: str) -> str:
    """Python's ``str.capitalize``: the first letter upper case, the rest lower case."""
    return f"upper(left({expression}, 1)) || lower(substr({expression}, 2))"


def port_ranges(column: str) -> str:
    """A port list as NetBox writes it: runs of consecutive ports as ranges, ``22, 80-81``."""
    return (
        "(SELECT string_agg(CASE WHEN low = high THEN low::text ELSE low || '-' || high END, ', ' ORDER BY low)"
        " FROM (SELECT min(port) AS low, max(port) AS high"
        f' FROM (SELECT port, port - row_number() OVER (ORDER BY port) AS run FROM unnest({{s}}."{column}") AS port) ports'
        " GROUP BY run) runs)"
    )


def address_range(start: str, end: str) -> str:
    """NetBox's name of an address range: the parts both ends share (compared place by
    place, as NetBox does), then each end's other parts: ``10.0.0.1-100/24``; a range of
    one address names both ends in full."""
    ends = f'host({{s}}."{start}")', f'host({{s}}."{end}")'
    separator = f"CASE family({{s}}.\"{start}\") WHEN 6 THEN ':' ELSE '.' END"
    parts = f"unnest(string_to_array({ends[0]}, {separator}), string_to_array({ends[1]}, {separator})) WITH ORDINALITY AS part(a, b, place)"
    shared = f"(SELECT count(*) FROM {parts} WHERE a = b)"

    def rest(side: str) -> str:
        return f"(SELECT string_agg({side}, {separator} ORDER BY place) FROM {parts} WHERE place > {shared})"

    base = f"(SELECT string_agg(a, {separator} ORDER BY place) FROM {parts} WHERE a = b)"
    length = f'masklen({{s}}."{start}")'
    return (
        f"CASE WHEN {ends[0]} = {ends[1]} THEN {ends[0]} || '-' || {ends[1]} || '/' || {length}"
        f" ELSE coalesce({base}, '') || {separator} || coalesce({rest('a')}, '') || '-' || coalesce({rest('b')}, '') || '/' || {length} END"
    )


def numbered(prefix: str) -> str:
    """``prefix`` then the row's number (NetBox's pk once imported): ``#27``."""
    return f"{_literal(prefix)} || ({{s}}.numid)::text"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def default_display(spec: ModelSpec) -> str:
    """A model without a declaration reads as its name; unnamed, as its type and number."""
    columns = spec.table.c
    fallback = numbered(f"{spec.type_name} #") if "numid" in columns else f"{_literal(spec.type_name + ' ')} || ({{s}}.id)::text"
    if "name" not in columns:
        return fallback
    return f"coalesce({given(col('name'))}, {fallback})" if columns["name"].nullable else col("name")


def display_sql(spec: ModelSpec, alias: str) -> str:
    """The SQL text of ``spec``'s display over its row ``alias``."""
    declared = getattr(spec.model, "__display__", None)
    if declared is None:
        return _render(spec, default_display(spec), alias)
    # The field is never null: a row the declaration cannot name reads as the default.
    return f"coalesce({_render(spec, declared, alias)}, {_render(spec, default_display(spec), alias)})"


def _render(spec: ModelSpec, template: str, alias: str) -> str:
    def placeholder(match: re.Match[str]) -> str:
        kind, path = match.groups()
        if kind == "object":
            return _any_object(spec, alias)
        return _through(spec, alias, path.split("."), kind)

    return _PLACEHOLDER.sub(placeholder, template).replace("{s}", alias)


def _through(spec: ModelSpec, alias: str, path: list[str], kind: str) -> str:
    """A reference's display (or, for ``value``, a column of the row at the path's end)."""
    from models.registry import spec_for

    if kind == "value" and len(path) == 1:
        return f'({alias}."{path[0]}")::text'
    if kind == "display" and not path:
        return display_sql(spec, alias)
    name, rest = path[0], path[1:]
    ref = spec.ref(name)
    members = [(ref.target, ref.column)] if ref is not None else next((list(o.members) for o in spec.one_of if o.name == name), None)
    if members is None:
        raise LookupError(f"{spec.model.__name__}.__display__ names {name!r}, which is not a reference")
    values = []
    for index, (target_name, column) in enumerate(members):
        target = spec_for(target_name)
        inner = f"{alias}d{index}"  # its own scope: siblings may share it, ancestors differ
        values.append(f'(SELECT {_through(target, inner, rest, kind)} FROM "{target.table.name}" {inner} WHERE {inner}.id = {alias}."{column}")')
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


def _any_object(spec: ModelSpec, alias: str) -> str:
    """What the object of the row's any-object reference (``__any_object__``) reads as: one
    branch per type it may point at (PostgreSQL evaluates only the branch taken)."""
    from models.registry import specs

    declared = spec.any_object
    type_column, id_column = f"{declared.field}_type", f"{declared.field}_id"
    branches = []
    for target in specs().values():
        if not spec.may_point_at(target):
            continue
        inner = f"{alias}o"
        value = f'(SELECT {display_sql(target, inner)} FROM "{target.table.name}" {inner} WHERE {inner}.id = {alias}."{id_column}")'
        branches.append(f"WHEN {_literal(target.content_type)} THEN {value}")
    return f'CASE {alias}."{type_column}" {" ".join(branches)} END'
