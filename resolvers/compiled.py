"""A root field's selection compiled to one SQL statement that builds its JSON answer.

The resolver path reads rows level by level and lets graphql-core build the answer one
field at a time in Python (15–20 µs a field: most of a large answer's time). Here the
validated selection becomes a single statement in which PostgreSQL builds the answer
itself, and its text goes to the client as it is:

- an object is ``json_build_object('key', value, …)`` over one row, its keys the
  response keys (aliases) in selection order;
- a to-one relation (reference, one-to-one reverse, each member of a one-of union) is a
  plain ``LEFT JOIN`` on a unique key, its JSON built only when a row matched (a lateral
  subquery returning the JSON measured 2.5x slower: PostgreSQL built it for every row of
  the joined table before the join);
- a list (reverse relation, many-to-many, tags, a carried union list) is a ``LATERAL``
  ``json_agg`` over at most ``max_nested_list + 1`` rows in the model's order; one row
  past the ceiling tells the list was cut, and that flag travels up to the root as a
  column (``_cut<N>``) so the response can say where lists were cut, as the resolver path
  does;
- counts are scalar subqueries; ``family`` is computed from the address.

Row-level security applies because the statement runs as the request role on the
request's transaction; per-type view grants are part of every table's policy, so a
related object of a type the principal may not view reads as null (or is left out of a
list), exactly as on the resolver path.

A field the compiler cannot express (one computed in Python: a prefix's tree, a rack's
units, a cable trace; a field with arguments) raises ``CannotCompile``: that root field
is answered by the resolvers instead. Scalars are formatted as strawberry formats them
(timestamps as Python's ``isoformat``, decimals as text), so both paths give the same
JSON; ``tests/test_compiled.py`` and the test suite's shadow mode check it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
    is_abstract_type,
)
from graphql.execution.values import VariableValues, get_argument_values

from models.base import Ordering
from models.display import display_sql
from models.registry import Kind, ModelSpec, ScalarSpec, spec_for, specs
from models.tenancy import Tag, TaggedItem
from resolvers.reads import Window, nested_window

# json_build_object takes at most 100 arguments: 50 key/value pairs.
_MOST_PAIRS = 50


class CannotCompile(Exception):
    """The selection needs a resolver; the message says which field."""


@dataclass(frozen=True)
class SqlValue:
    """A derived scalar written as this SQL (``{s}``: the alias of the row answered)."""

    sql: str


@dataclass(frozen=True)
class SqlRelation:
    """A derived relation: the rows of ``target`` meeting ``where`` (``{s}``: the row
    answered, ``{t}``: the related row), one (at most one row matches) or a list in
    ``order`` (``__ordering__`` terms; the target's own by default)."""

    target: str
    where: str
    many: bool
    order: Ordering | None = None


# (model, field) → the SQL form of a field its override computes; registered by the
# domain next to the override (schema/overrides.py). A computed field without one sends
# its root field to the resolvers.
SQL_FORMS: dict[tuple[str, str], SqlValue | SqlRelation] = {}


def register_sql(owner: str, field: str, form: SqlValue | SqlRelation) -> None:
    SQL_FORMS[owner, field] = form


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _iso_timestamp(column: str) -> str:
    """``timestamptz`` as Python's ``datetime.isoformat()``: microseconds only when there
    are any, the offset as ``+HH:MM`` (PostgreSQL's own JSON trims trailing zeros)."""
    return (
        f"(to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({column}, 'US') = '000000' THEN ''"
        f" ELSE to_char({column}, '.US') END || to_char({column}, 'TZH:TZM'))"
    )


def scalar_sql(scalar: ScalarSpec, column: str) -> str:
    """A column as the JSON value strawberry would answer for it."""
    if scalar.kind is Kind.datetime:
        return _iso_timestamp(column)
    if scalar.kind is Kind.decimal:
        return f"({column})::text"  # GraphQL's Decimal is a string
    if scalar.column_text:
        return f"({column})::text"  # as the column reads on the resolver path (an address with its mask)
    return column


@dataclass
class Built:
    """One object's JSON over a row source: the expression, the laterals it needs, and the
    cut flags of the lists below it (flag number → boolean expression)."""

    json: str
    joins: list[str] = field(default_factory=list)
    cuts: dict[int, str] = field(default_factory=dict)


@dataclass
class RootPlan:
    """The statement of one root field: SQL text before and after the page statement it
    is written around, and the paths of the lists whose cut flags lead its answer, in the
    resolver path's report order."""

    before: str
    after: str
    cut_paths: list[list[str]]


class Compiler:
    """Compiles the selections of one operation (its fragments and variables)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        cap: int,
        overridden: dict[str, frozenset[str]],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.cap = cap
        self.overridden = overridden
        self.by_type = {f"{spec.type_name}Type": spec for spec in specs().values()}
        self._aliases = itertools.count()
        self.cut_paths: list[tuple[str, ...]] = []

    # --- selections -----------------------------------------------------------------

    def fields(self, runtime: GraphQLObjectType, nodes: Iterable[FieldNode]) -> dict[str, list[FieldNode]]:
        """The fields the nodes select on an object of type ``runtime``, by response key,
        through fragments and ``@skip``/``@include`` (what graphql-core would resolve)."""
        grouped: dict[str, list[FieldNode]] = {}
        for node in nodes:
            if node.selection_set is not None:
                self._collect(runtime, node.selection_set, grouped, set())
        return grouped

    def root_fields(self, query_type: GraphQLObjectType, selection_set: SelectionSetNode) -> dict[str, list[FieldNode]]:
        """An operation's root fields by response key, as ``fields`` collects them."""
        grouped: dict[str, list[FieldNode]] = {}
        self._collect(query_type, selection_set, grouped, set())
        return grouped

    def _collect(self, runtime: GraphQLObjectType, selection_set: SelectionSetNode, grouped: dict[str, list[FieldNode]], spread: set[str]) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, runtime):
                    self._collect(runtime, selection.selection_set, grouped, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in spread or fragment is None:
                    continue
                spread.add(name)
                if self._applies(fragment.type_condition, runtime):
                    self._collect(runtime, fragment.selection_set, grouped, spread)

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value == GraphQLSkipDirective.name and get_argument_values(GraphQLSkipDirective, directive, self.variables)["if"]:
                return False
            if directive.name.value == GraphQLIncludeDirective.name and not get_argument_values(GraphQLIncludeDirective, directive, self.variables)["if"]:
                return False
        return True

    def _applies(self, condition: NamedTypeNode | None, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is runtime:
            return True
        return is_abstract_type(named) and self.schema.is_sub_type(named, runtime)

    # --- objects --------------------------------------------------------------------

    def _alias(self) -> str:
        return f"t{next(self._aliases)}"

    def _object_type(self, spec: ModelSpec) -> GraphQLObjectType:
        named = self.schema.get_type(f"{spec.type_name}Type")
        assert isinstance(named, GraphQLObjectType)
        return named

    def object(self, spec: ModelSpec, alias: str, nodes: list[FieldNode], path: tuple[str, ...]) -> Built:
        """The JSON of one ``spec`` row (``alias``) for the fields ``nodes`` select."""
        runtime = self._object_type(spec)
        built = Built(json="")
        pairs: list[tuple[str, str]] = []
        for key, field_nodes in self.fields(runtime, nodes).items():
            name = field_nodes[0].name.value
            arguments = get_argument_values(runtime.fields[name], field_nodes[0], self.variables) if field_nodes[0].arguments else {}
            # A nested list's filters are the resolvers' (resolvers.prefetch.filtered_list).
            if {argument for argument, value in arguments.items() if value is not None} - {"pagination"}:
                raise CannotCompile(f"{runtime.name}.{name} with arguments")
            # Aliases of one key have equal arguments (validation); an error falls back.
            window = nested_window(arguments.get("pagination"), self.cap)
            pairs.append((key, self._field(spec, alias, runtime, name, field_nodes, path, built, window)))
        built.json = json_object(pairs)
        return built

    def _field(
        self, spec: ModelSpec, alias: str, runtime: GraphQLObjectType, name: str, nodes: list[FieldNode], path: tuple[str, ...], built: Built, window: Window
    ) -> str:
        """The SQL value of one field; ``window``: the page of a list field."""
        if name == "__typename":
            return f"{_literal(runtime.name)}::text"
        if name == "class_type":  # every generated type's (schema.build): the model's class name
            return f"{_literal(spec.model.__name__)}::text"
        if name == "display":  # every generated type's (schema.build): the model's declared SQL
            return display_sql(spec, alias)
        form = SQL_FORMS.get((spec.model.__name__, name))
        if form is not None:
            return self._derived(form, alias, nodes, (*path, name), built, window)
        if name in self.overridden.get(spec.model.__name__, ()):
            raise CannotCompile(f"{runtime.name}.{name} is computed by a resolver")
        column = f"{alias}.{_quote(name)}"
        scalar = spec.scalar(name)
        if scalar is not None:
            return scalar_sql(scalar, column)
        if name == "family" and spec.family_column is not None:
            return self._family(f"{alias}.{_quote(spec.family_column)}", nodes)
        below = (*path, name)
        ref = spec.ref(name)
        if ref is not None:
            target = spec_for(ref.target)
            return self._one(target, nodes, below, built, f"{{t}}.id = {alias}.{_quote(ref.column)}")[0]
        for reverse in spec.reverse:
            if reverse.name == name:
                source = spec_for(reverse.source)
                where = f"{{t}}.{_quote(reverse.column)} = {alias}.id"
                if reverse.many:
                    # One parent's rows: what orders by the parent alone is constant.
                    return self._list(source, nodes, below, built, window, where, within=(reverse.column,))
                return self._one(source, nodes, below, built, where)[0]
        for count in spec.counts:
            if count.name == name:
                source = spec_for(count.source)
                return f"(SELECT count(*) FROM {_quote(source.table.name)} c WHERE c.{_quote(count.column)} = {alias}.id)"
        for relation in spec.many:
            if relation.name == name:
                link = self._alias()
                joined = f"JOIN {_quote(relation.table)} {link} ON {link}.{_quote(relation.remote)} = " + "{t}.id"
                through = f"{link}.{_quote(relation.local)} = {alias}.id"
                return self._list(spec_for(relation.target), nodes, below, built, window, through, joined=joined)
        for one_of in spec.one_of:
            if one_of.name == name:
                return self._union_one(one_of.members, alias, nodes, below, built)
        for carried in spec.inline:
            if carried.name == name:
                return self._carried(carried, alias, nodes, below, built, window)
        for pointing in spec.object_reverse:
            if pointing.name == name:
                source = spec_for(pointing.source)
                kind, key = _quote(source.any_object.type_column), _quote(source.any_object.id_column)
                where = f"{{t}}.{kind} = {_literal(spec.content_type)} AND {{t}}.{key} = {alias}.id"
                return self._list(source, nodes, below, built, window, where)
        if name == "tags" and spec.tagged:
            link = self._alias()
            joined = f"JOIN {_quote(TaggedItem.__tablename__)} {link} ON {link}.tag_id = " + "{t}.id" + f" AND {link}.object_type = {_literal(spec.type_key)}"
            tagged = f"{link}.object_id = {alias}.id"
            return self._list(spec_for(Tag.__name__), nodes, below, built, window, tagged, joined=joined)
        raise CannotCompile(f"{runtime.name}.{name} has no SQL form")

    def _derived(self, form: SqlValue | SqlRelation, alias: str, nodes: list[FieldNode], path: tuple[str, ...], built: Built, window: Window) -> str:
        if isinstance(form, SqlValue):
            return form.sql.replace("{s}", alias)
        target, where = spec_for(form.target), form.where.replace("{s}", alias)
        if form.many:
            return self._list(target, nodes, path, built, window, where, order=form.order)
        return self._one(target, nodes, path, built, where)[0]

    def _family(self, column: str, nodes: list[FieldNode]) -> str:
        runtime = self.schema.get_type("IPAddressFamilyType")
        assert isinstance(runtime, GraphQLObjectType)
        values = {
            "value": f"family({column})",
            "label": f"'IPv' || family({column})",
            "__typename": f"{_literal(runtime.name)}::text",
        }
        return json_object([(key, values[field_nodes[0].name.value]) for key, field_nodes in self.fields(runtime, nodes).items()])

    # --- relations ------------------------------------------------------------------

    def _lateral(self, select: str, built: Built, cuts: dict[int, str]) -> str:
        """Join ``select`` as a lateral; its cut flags are ORed into ``built``'s."""
        name = f"l{next(self._aliases)}"
        built.joins.append(f"LEFT JOIN LATERAL ({select}) {name} ON true")
        self._merge_cuts(built, {number: f"coalesce({name}._cut{number}, false)" for number in cuts})
        return name

    @staticmethod
    def _flag_columns(cuts: dict[int, str]) -> str:
        return "".join(f", {expression} AS _cut{number}" for number, expression in cuts.items())

    def _one(self, spec: ModelSpec, nodes: list[FieldNode], path: tuple[str, ...], built: Built, where: str) -> tuple[str, str]:
        """A to-one relation as a plain ``LEFT JOIN`` in the parent's FROM (its own joins
        after it), so the planner may hash-join it and builds the JSON only for the rows
        answered (a lateral subquery's value would be built for every joined row). At most
        one row matches: the condition is on a primary key or a unique column. ``where``:
        the join condition, the related row's alias written ``{t}``. Answers (the JSON,
        null without a row; the alias)."""
        alias = self._alias()
        inner = self.object(spec, alias, nodes, path)
        built.joins.append(f"LEFT JOIN {_quote(spec.table.name)} {alias} ON {where.replace('{t}', alias)}")
        built.joins.extend(inner.joins)
        self._merge_cuts(built, inner.cuts)
        return f"CASE WHEN {alias}.id IS NULL THEN NULL ELSE {inner.json} END", alias

    @staticmethod
    def _merge_cuts(built: Built, cuts: dict[int, str]) -> None:
        for number, flag in cuts.items():
            built.cuts[number] = f"({built.cuts[number]} OR {flag})" if number in built.cuts else flag

    def _union_one(self, members: Iterable[tuple[str, str]], alias: str, nodes: list[FieldNode], path: tuple[str, ...], built: Built) -> str:
        """A one-of reference: each member a join; a later member wins, as on the resolver path."""
        found = [self._one(spec_for(target), nodes, path, built, f"{{t}}.id = {alias}.{_quote(column)}") for target, column in members]
        return "CASE " + " ".join(f"WHEN {member}.id IS NOT NULL THEN {value}" for value, member in reversed(found)) + " END"

    def _cut_number(self, path: tuple[str, ...]) -> int:
        if path not in self.cut_paths:
            self.cut_paths.append(path)
        return self.cut_paths.index(path)

    def _cut_flag(self, path: tuple[str, ...], window: Window) -> int | None:
        """The number of a list's cut flag; None when the client chose its limit (no report)."""
        return self._cut_number(path) if window.reported else None

    @staticmethod
    def _page(ordering: str, window: Window) -> str:
        """The rows of a window, and one more that tells the list goes on."""
        return f"ORDER BY {ordering} OFFSET {window.offset} LIMIT {window.limit + 1}"

    def _aggregate(self, items: str, built: Built, number: int | None, cuts: dict[int, str], window: Window) -> str:
        """``json_agg`` of the window's rows of ``items`` (which has ``j``, ``_place`` counted
        from the list's start, and the cut flags of each item), with this list's own flag
        and its items' flags."""
        own = {number: f"count(*) > {window.limit}"} if number is not None else {}
        flags = "".join(f", {expression} AS _cut{n}" for n, expression in own.items())
        flags += "".join(f", bool_or(q._cut{n}) AS _cut{n}" for n in cuts)
        end = window.offset + window.limit
        select = f"SELECT coalesce(json_agg(q.j ORDER BY q._place) FILTER (WHERE q._place <= {end}), '[]'::json) AS j{flags} FROM ({items}) q"
        return f"{self._lateral(select, built, {**own, **cuts})}.j"

    def _list(
        self,
        spec: ModelSpec,
        nodes: list[FieldNode],
        path: tuple[str, ...],
        built: Built,
        window: Window,
        where: str,
        joined: str = "",
        order: Ordering | None = None,
        within: tuple[str, ...] = (),
    ) -> str:
        """``where`` and ``joined``: the condition on the related rows, and a join they need,
        their alias written ``{t}``; ``order``: other terms than the model's own;
        ``within``: columns ``where`` holds to one value (left out of the order)."""
        number = self._cut_flag(path, window)  # before the items': the report lists a list before its sublists
        alias = self._alias()
        inner = self.object(spec, alias, nodes, path)
        ordering = ", ".join(spec.order_sql(alias, within, order))
        items = (
            f"SELECT {inner.json} AS j, row_number() OVER (ORDER BY {ordering}) AS _place{self._flag_columns(inner.cuts)}"
            f" FROM {_quote(spec.table.name)} {alias} {joined.replace('{t}', alias)} {' '.join(inner.joins)}"
            f" WHERE {where.replace('{t}', alias)} {self._page(ordering, window)}"
        )
        return self._aggregate(items, built, number, inner.cuts, window)

    def _carried(self, carried: Any, alias: str, nodes: list[FieldNode], path: tuple[str, ...], built: Built, window: Window) -> str:
        """A carried list of union items (a cable's ``a_terminations``): the rows of the
        source whose parent is this object, each as the member it points at; rows whose
        member is hidden are left out."""
        number = self._cut_flag(path, window)
        source = spec_for(carried.source)
        item = next(o for o in source.one_of if o.name == carried.item)
        rows = self._alias()
        holder = Built(json="")
        value = self._union_one(item.members, rows, nodes, path, holder)
        ordering = ", ".join(source.order_sql(rows, (carried.parent,)))
        fixed = "".join(f" AND {rows}.{_quote(column)} = {_literal(v)}" for column, v in carried.fixed)
        items = (
            f"SELECT {value} AS j, row_number() OVER (ORDER BY {ordering}) AS _place{self._flag_columns(holder.cuts)}"
            f" FROM {_quote(source.table.name)} {rows} {' '.join(holder.joins)}"
            f" WHERE {rows}.{_quote(carried.parent)} = {alias}.id{fixed} AND {value} IS NOT NULL {self._page(ordering, window)}"
        )
        return self._aggregate(items, built, number, holder.cuts, window)

    # --- root fields ----------------------------------------------------------------

    def root(self, spec: ModelSpec, nodes: list[FieldNode], key: str, many: bool, page_end: int, capped: bool) -> RootPlan:
        """The statement answering root field ``key`` over the rows a page statement selects
        (every column of ``spec``'s table, plus ``_place`` for a list), written around it.

        It answers one text: a '0'/'1' per cut list (``cut_paths``: the root list's own
        first when ``capped``), then the JSON. One value, so that the page statement can be
        a SQLAlchemy statement embedded in it (its parameters processed as usual); for one
        object, null unless exactly one row matched (else the resolvers answer)."""
        alias = self._alias()
        built = self.object(spec, alias, nodes, (key,))
        joins = " ".join(built.joins)
        paths = [list(path) for path in self.cut_paths]
        if not many:
            flags = "".join(f"{_digit(built.cuts.get(n, 'false'))} || " for n in range(len(paths)))
            answer = f"SELECT {flags}({built.json})::text AS answer FROM "
            return RootPlan(f"SELECT CASE WHEN count(*) = 1 THEN max(q.answer) END FROM ({answer}", f" {alias} {joins}) q", paths)
        items = f"SELECT {built.json} AS j, {alias}._place{self._flag_columns(built.cuts)} FROM "
        own = [f"count(*) > {page_end}"] if capped else []
        flags = "".join(f"{_digit(flag)} || " for flag in own + [f"bool_or(q._cut{n})" if n in built.cuts else "false" for n in range(len(paths))])
        answer = f"SELECT {flags}(coalesce(json_agg(q.j ORDER BY q._place) FILTER (WHERE q._place <= {page_end}), '[]'::json))::text FROM ("
        return RootPlan(answer + items, f" {alias} {joins}) q", [[key]] + paths if capped else paths)


def _digit(flag: str) -> str:
    return f"(CASE WHEN {flag} THEN '1' ELSE '0' END)"


def json_object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object with these keys, in this order. Beyond json_build_object's 50 pairs,
    a one-row subquery's row_to_json (its column names are the keys)."""
    if len(pairs) <= _MOST_PAIRS:
        return "json_build_object(" + ", ".join(f"{_literal(key)}, {value}" for key, value in pairs) + ")"
    columns = ", ".join(f"{value} AS {_quote(key)}" for key, value in pairs)
    return f"(SELECT row_to_json(r) FROM (SELECT {columns}) r)"
