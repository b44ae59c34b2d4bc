"""Saved queries (models/saved_queries.py): what a document must be to be kept, and how one
is found and run by name (danbyte/app.py: ``/graphql?query_name=<name>``).

Checked when written, so running one by name never meets a document that cannot run: it
parses and validates against the schema, holds queries only (a GET must never write, and
a subscription needs a connection that stays open), names its operation when it holds
several, and its default variables are an object naming variables it declares. Found by
name through the caller's read transaction, so row-level security and the view grant
decide which saved queries exist for the caller; run with the caller's permissions."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, OperationType, parse, specified_rules, validate

from models.registry import spec_for
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, NotFound
from resolvers.loaders import fetch
from resolvers.reads import require_view
from resolvers.rules import RuleBook, value_after
from resolvers.writes import Write
from schema.extensions import document_limits

MODEL = "SavedQuery"
# What a name may be: it stands in a URL (``?query_name=``) without escaping.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# A document this long or shorter is kept parsed and validated by the server's document
# cache (danbyte/documents.py: KEEP_AT_MOST), so a dashboard polling it pays for neither.
MAX_QUERY_CHARS = 64 * 1024
# Variables (the defaults, and what a caller sends) as JSON text.
MAX_VARIABLES_CHARS = 16 * 1024

_schema: GraphQLSchema | None = None


def use_schema(schema: GraphQLSchema) -> None:
    """The schema documents are checked against: the app's, set when it is built."""
    global _schema
    _schema = schema


def graphql_schema() -> GraphQLSchema:
    """The app's schema, or (a writer without an app: the CLI, a job) one built once."""
    global _schema
    if _schema is None:
        from danbyte.settings import get_settings
        from schema.root import build_schema

        _schema = build_schema(get_settings())._schema
    return _schema


def register_rules(book: RuleBook) -> None:
    book.check(MODEL)(_saved_query_valid)


async def _saved_query_valid(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    if "name" in values and not NAME.match(values["name"] or ""):
        raise BadUserInput("name: letters, digits, '-', '_' and '.' only, starting with a letter or digit (it stands in a URL)", field="name")
    if not {"query", "operation_name", "variables"} & set(values):
        return
    check_saved_query(
        value_after(values, old, "query", ""),
        value_after(values, old, "operation_name", ""),
        value_after(values, old, "variables", {}),
        settings=write.ctx.settings,
    )


def check_saved_query(query: str, operation_name: str, variables: Any, *, settings: Any) -> None:
    """Refuse a document that could not run by name, naming the field at fault, or one
    over the server's token, depth or alias limits (``settings``)."""
    max_tokens = settings.max_tokens
    if len(query) > MAX_QUERY_CHARS:
        raise BadUserInput(f"query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are allowed", field="query")
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError as error:
        raise BadUserInput(f"query: {error.message}", field="query") from None
    errors = validate(graphql_schema(), document, [*specified_rules, *document_limits(settings)])
    if errors:
        raise BadUserInput(f"query: {errors[0].message}", field="query", errors=[e.message for e in errors[:5]])
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    for node in operations:
        if node.operation is not OperationType.QUERY:
            # The check looks at every operation, not only the one chosen: a document is run
            # over GET, and another operation_name must not turn it into a write.
            raise BadUserInput(f"query: a saved query holds queries only, not a {node.operation.value}", field="query")
    if operation_name:
        chosen = [node for node in operations if node.name is not None and node.name.value == operation_name]
        if not chosen:
            named = ", ".join(node.name.value for node in operations if node.name is not None) or "none"
            raise BadUserInput(f"operation_name: the document has no operation {operation_name} (it has: {named})", field="operation_name")
    elif len(operations) > 1:
        raise BadUserInput("operation_name: the document holds several operations; name the one to run", field="operation_name")
    else:
        chosen = operations
    check_variables(variables, "variables")
    declared = {definition.variable.name.value for definition in chosen[0].variable_definitions or ()}
    for name in variables:
        if name not in declared:
            raise BadUserInput(f"variables.{name}: the query declares no ${name}", field=f"variables.{name}")


def check_variables(variables: Any, field: str) -> dict[str, Any]:
    if not isinstance(variables, dict):
        raise BadUserInput(f"{field} must be a JSON object", field=field)
    if len(json.dumps(variables)) > MAX_VARIABLES_CHARS:
        raise BadUserInput(f"{field}: at most {MAX_VARIABLES_CHARS} characters of JSON", field=field)
    return variables


def parse_variables(text: str) -> dict[str, Any]:
    """``variables`` as a URL gives them: JSON text of an object."""
    if len(text) > MAX_VARIABLES_CHARS:
        raise BadUserInput(f"variables: at most {MAX_VARIABLES_CHARS} characters of JSON", field="variables")
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadUserInput("variables: nested too deeply", field="variables") from None
    except ValueError as error:
        raise BadUserInput(f"variables: not valid JSON: {error}", field="variables") from None
    return check_variables(value, "variables")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise BadUserInput("query_name: the name of a saved query", field="query_name")
    if len(name) > 100 or not NAME.match(name):
        raise BadUserInput("query_name: no saved query can have this name (letters, digits, '-', '_' and '.', at most 100)", field="query_name")
    return name


def check_tenant(tenant: Any) -> uuid.UUID | None:
    if tenant is None or tenant == "":
        return None
    try:
        return uuid.UUID(str(tenant))
    except ValueError:
        raise BadUserInput(f"tenant: '{tenant}' is not a valid id", field="tenant") from None


@dataclass(frozen=True)
class Found:
    query: str
    operation_name: str | None
    variables: dict[str, Any]


async def find(ctx: RequestContext, name: str, tenant: uuid.UUID | None) -> Found:
    """The saved query ``name`` as the caller sees it (row-level security, the view grant):
    one statement on the request's read transaction, which the query then reuses."""
    spec = spec_for(MODEL)
    require_view(ctx, spec)
    table = spec.table
    where = table.c.name == name
    if tenant is not None:
        where = sa.and_(where, table.c.tenant_id == tenant)
    rows = await fetch(ctx, sa.select(table.c.query, table.c.operation_name, table.c.variables).where(where).limit(2))
    if not rows:
        # Another tenant's saved query is not there for the caller: the same answer.
        raise NotFound(f"no saved query named {name}" + (" in that tenant" if tenant else ""), field="query_name")
    if len(rows) > 1:
        raise BadUserInput(f"query_name: several of your tenants have a saved query named {name}: add tenant=<tenant id>", field="tenant")
    row = rows[0]
    return Found(row.query, row.operation_name or None, dict(row.variables or {}))
