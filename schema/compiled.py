"""Root fields answered by one compiled SQL statement each (resolvers/compiled.py).

``CompiledReads`` runs inside strawberry's execution, after parsing, validation and the
abuse limits: for a query over HTTP it compiles each generated ``x`` / ``x_list`` root
field, runs its statement, and keeps the JSON text PostgreSQL returned (``RawJSON``),
which the transport splices into the response without decoding it. Whatever it cannot
answer stays in the document for graphql-core and the resolvers: a field the compiler
cannot express, a root field reached through a fragment, and every error (permission,
bad filter, not found: the resolvers raise them with their usual shape and codes).
Mutations, subscriptions and WebSocket requests keep the resolver path.

With ``X-Danbyte-Debug: 1`` (administrators) the response's ``extensions.paths`` says
which path answered each root field, and why a field took the resolvers.

Shadow mode (``DANBYTE_COMPILER_SHADOW=1``, on in the test suite) answers every compiled
field on both paths and fails the request when the JSON or the cut lists differ: every
query the tests send is a differential test of the compiler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments

from danbyte.database import current_stats
from models.registry import ModelSpec
from resolvers import reads
from resolvers.compiled import CannotCompile, Compiler, RootPlan
from resolvers.errors import ApiError
from resolvers.loaders import fetch
from schema.build import OVERRIDDEN

logger = logging.getLogger("danbyte.compiled")


class RawJSON:
    """A JSON value as the text PostgreSQL built; the transport writes it as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text[:60]!r})"


@dataclass(frozen=True)
class Root:
    """A generated root field: the model it reads, and whether it is the list."""

    spec: ModelSpec
    many: bool


class CompilerDiffers(Exception):
    """Shadow mode: the compiled answer is not the resolvers' (a compiler defect)."""


def compiled_reads(roots: dict[str, Root]) -> type[SchemaExtension]:
    """The extension for a schema whose generated root fields are ``roots``."""

    class CompiledReads(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            context = self.execution_context
            ctx = context.context
            settings = ctx.settings
            document = context.graphql_document
            operation = get_operation_ast(document, context.operation_name) if document is not None else None
            if not (getattr(ctx, "raw_answers", False) and operation is not None and operation.operation == OperationType.QUERY):
                yield
                return
            if not settings.compile_reads:
                ctx.paths.update(dict.fromkeys(_direct_keys(operation), "resolvers: not compiled (DANBYTE_COMPILE_READS=0)"))
                yield
                return
            schema = context.schema._schema
            variables = get_variable_values(schema, operation.variable_definitions or (), context.variables or {})
            if isinstance(variables, list):  # the resolver path reports the coercion errors
                yield
                return
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}  # type: ignore[union-attr]
            answers, keys = await _answer(ctx, context.schema, operation, fragments, variables, roots, settings)
            if answers and ctx.settings.compiler_shadow:
                await _compare(ctx, schema, document, operation, answers, context.variables)
            rest = [s for s in operation.selection_set.selections if not (isinstance(s, FieldNode) and _key(s) in answers)]
            if not rest:
                context.result = ExecutionResult(data={}, errors=None)
            elif answers:
                context.graphql_document = _with_selections(document, operation, rest)
            yield
            result = context.result
            if answers and isinstance(result, ExecutionResult) and result.data is not None:
                data = result.data
                result.data = {key: RawJSON(answers[key]) if key in answers else data[key] for key in keys if key in answers or key in data}

    return CompiledReads


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _direct_keys(operation: OperationDefinitionNode) -> list[str]:
    return [_key(s) for s in operation.selection_set.selections if isinstance(s, FieldNode)]


def _with_selections(document: Any, operation: OperationDefinitionNode, selections: list[Any]) -> Any:
    """The document with ``operation`` selecting only ``selections`` (the cached document
    itself is shared by every request with this text, so it is copied, not changed)."""
    narrowed = _replaced(operation, selection_set=SelectionSetNode(selections=tuple(selections), loc=operation.selection_set.loc))
    return _replaced(document, definitions=tuple(narrowed if d is operation else d for d in document.definitions))


def _replaced(node: Any, **changes: Any) -> Any:
    """A copy of an AST node (they are immutable) with some attributes changed."""
    return type(node)(**{**{key: getattr(node, key) for key in node.keys}, **changes})


async def _answer(
    ctx: Any,
    schema: Any,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
    roots: dict[str, Root],
    settings: Any,
) -> tuple[dict[str, str], list[str]]:
    """JSON text per response key of the root fields compiled and answered, and every
    response key in the document's order; the reason each other root field takes the
    resolvers goes to ``ctx.paths``."""
    graphql_schema = schema._schema
    query_type = graphql_schema.query_type
    assert query_type is not None
    probe = Compiler(graphql_schema, fragments, variables, settings.max_nested_list, OVERRIDDEN)
    grouped = probe.root_fields(query_type, operation.selection_set)
    direct = {id(s) for s in operation.selection_set.selections}
    answers: dict[str, str] = {}
    for key, nodes in grouped.items():
        name = nodes[0].name.value
        root = roots.get(name)
        if root is None:
            ctx.paths[key] = "resolvers: not a generated root field"
            continue
        if any(id(node) not in direct for node in nodes):
            ctx.paths[key] = "resolvers: selected through a fragment"
            continue
        compiler = Compiler(graphql_schema, fragments, variables, settings.max_nested_list, OVERRIDDEN)
        try:
            arguments = _arguments(schema, query_type, name, nodes[0], variables)
            text = await _run(ctx, compiler, root, nodes, key, arguments)
        except (CannotCompile, ApiError) as reason:
            ctx.paths[key] = f"resolvers: {reason}"
            continue
        except Exception:
            # A compiler defect must not cost the client its answer: the resolvers give it,
            # on a fresh read transaction (a failed statement aborts the one it ran in).
            logger.exception("compiling %s failed; answered by the resolvers", key)
            if settings.compiler_shadow:
                raise
            await ctx.abandon()
            ctx.paths[key] = "resolvers: compiler error (logged)"
            continue
        if text is None:
            ctx.paths[key] = "resolvers: no single object answers it"
            continue
        ctx.paths[key] = "sql"
        answers[key] = text
    return answers, list(grouped)


def _arguments(schema: Any, query_type: GraphQLObjectType, name: str, node: FieldNode, variables: VariableValues) -> dict[str, Any]:
    """The field's arguments as its resolver receives them (strawberry's input classes)."""
    values = get_argument_values(query_type.fields[name], node, variables)
    definition = schema.get_type_by_name(query_type.name)
    field = next(f for f in definition.fields if f.name == name)
    return convert_arguments(values, field.arguments, scalar_registry=schema.schema_converter.scalar_registry, config=schema.config)


async def _run(ctx: Any, compiler: Compiler, root: Root, nodes: list[FieldNode], key: str, arguments: dict[str, Any]) -> str | None:
    """Compile and run one root field; None when the resolvers must answer (not found)."""
    spec, table = root.spec, root.spec.table
    if root.many:
        page = await reads.plan_page(ctx, spec, arguments.get("filters"), arguments.get("pagination"))
        place = sa.func.row_number().over(order_by=page.ordering).label("_place")
        limit = page.limit + 1 if page.capped else page.limit
        rows = sa.select(table, place).select_from(page.source).where(*page.where).order_by(*page.ordering).offset(page.offset).limit(limit)
        page_end, capped, root_limit = page.offset + page.limit, page.capped, page.limit
    else:
        where, _ = reads.one_where(ctx, spec, **arguments)
        rows = sa.select(table).where(where).limit(2)
        page_end, capped, root_limit = 0, False, 0
    plan: RootPlan = compiler.root(spec, nodes, key, root.many, page_end, capped)
    found = await fetch(ctx, sa.select(_Around(plan.before, rows, plan.after)))
    answer = found[0][0]
    if answer is None:
        return None
    flags, text = answer[: len(plan.cut_paths)], answer[len(plan.cut_paths) :]
    for flag, path in zip(flags, plan.cut_paths, strict=True):
        if flag == "1":
            ctx.report_cut(path, root_limit if path == [key] else compiler.cap)
    return str(text)


class _Around(sa.sql.expression.ColumnElement[str]):
    """SQL text written around a SQLAlchemy statement, as one value: the statement's
    parameters are bound and processed by SQLAlchemy as anywhere else, and the compiled
    form is cached by SQLAlchemy (the texts and the statement's shape are its key), so a
    repeated query is not compiled again."""

    inherit_cache = True
    type = sa.Text()
    _traverse_internals = [("before", InternalTraversal.dp_string), ("inner", InternalTraversal.dp_clauseelement), ("after", InternalTraversal.dp_string)]

    def __init__(self, before: str, inner: sa.Select[Any], after: str) -> None:
        # The driver takes %(name)s parameters: a bare % in the text would be one.
        assert "%" not in before + after
        self.before, self.inner, self.after = before, inner, after


@compiles(_Around)
def _render_around(element: _Around, compiler: Any, **kw: Any) -> str:
    return f"({element.before}({compiler.process(element.inner, **kw)}){element.after})"


async def _compare(ctx: Any, schema: Any, document: Any, operation: OperationDefinitionNode, answers: dict[str, str], raw_variables: Any) -> None:
    """Shadow mode: the same fields through the resolvers; any difference is raised."""
    compiled_cuts = list(ctx.truncated)
    ctx.truncated = []
    uncounted = current_stats.set(None)  # the request's SQL figures stay those of the compiled path
    selections = [s for s in operation.selection_set.selections if isinstance(s, FieldNode) and _key(s) in answers]
    name = operation.name.value if operation.name else None
    result = execute(schema, _with_selections(document, operation, selections), context_value=ctx, variable_values=raw_variables, operation_name=name)
    try:
        if not isinstance(result, ExecutionResult):
            result = await result
    finally:
        current_stats.reset(uncounted)
    resolver_cuts, ctx.truncated = ctx.truncated, compiled_cuts
    if result.errors:
        raise CompilerDiffers(f"the resolvers failed where the compiler answered: {result.errors}")
    for key, text in answers.items():
        expected = json.loads(json.dumps((result.data or {}).get(key)))
        if json.loads(text) != expected:
            raise CompilerDiffers(f"{key}: compiled {text[:2000]} != resolvers {json.dumps(expected)[:2000]}")
    if sorted(map(json.dumps, resolver_cuts)) != sorted(map(json.dumps, compiled_cuts)):
        raise CompilerDiffers(f"cut lists: compiled {compiled_cuts} != resolvers {resolver_cuts}")
