"""Schema extensions: abuse limits, error codes and masking, per-request cleanup and debug figures."""

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    ValidationRule,
    VariableDefinitionNode,
)
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as create_aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator

from danbyte.documents import KnownDocuments
from resolvers.errors import ApiError, BadUserInput, log_unexpected

# PostgreSQL text and jsonb cannot hold NUL, and a lone UTF-16 surrogate (what JSON's
# "\ud800" decodes to) cannot be encoded as UTF-8 at all: both would fail deep inside a
# write as internal errors, so they are refused as input instead.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "text must not contain NUL (U+0000) or unpaired UTF-16 surrogates (U+D800 to U+DFFF)"

logger = logging.getLogger("danbyte.requests")


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (ApiError, GraphQLError))


class CodedErrors(MaskErrors):
    """Mask unexpected errors (no stack trace, no internals); give every error a code."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log_unexpected(error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                # Parse, validation, coercion and limit errors: the request itself is wrong.
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return processed


def _literal_path(containers: tuple[Any, ...], keys: tuple[Any, ...]) -> str | None:
    """Where a literal sits, from the visitor's ancestors and the keys leading down through
    them: argument, input fields and list positions, or the variable whose default it is."""
    steps: list[str] = []
    previous = None
    for container, key in zip(containers, keys, strict=False):
        if isinstance(container, (ArgumentNode, ObjectFieldNode)):
            steps.append(container.name.value)
        elif isinstance(container, VariableDefinitionNode):
            steps.append(container.variable.name.value)
        elif isinstance(previous, ListValueNode):
            steps.append(str(key))  # the container is the list's items; the key is the position
        previous = container
    return ".".join(steps) or None


class StorableStringLiterals(ValidationRule):
    """Refuses a string literal the database could not store, wherever it is in the document
    (arguments, input objects, JSON literals, lists, variable defaults); the error's field
    is its path, such as ``input.custom_fields.note.1``."""

    def enter_string_value(self, node: StringValueNode, key: Any, parent: Any, path: Any, ancestors: Any) -> None:
        if UNSTORABLE.search(node.value):
            field = _literal_path((*ancestors, parent), tuple(path))
            self.report_error(BadUserInput(UNSTORABLE_MESSAGE, field=field))


# graphql-core's own limit for documents and typed variables; it does not count inside a JSON
# scalar (custom_fields), where json, psycopg and the response encoder would run out of stack.
MAX_VARIABLE_DEPTH = 200


def variables_error(variables: dict[str, Any] | None) -> BadUserInput | None:
    """The first problem in the decoded variables, or None: text the database could not store
    (a bad object key is blamed on its object) or nesting deeper than MAX_VARIABLE_DEPTH.
    A loop over a stack rather than recursion, since the nesting is what is being checked."""
    pending: list[tuple[str, Any, int]] = [("", variables, 0)]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return BadUserInput(UNSTORABLE_MESSAGE, field=path)
        elif isinstance(value, (dict, list)) and depth > MAX_VARIABLE_DEPTH:
            variable = path.split(".", 1)[0]
            return BadUserInput(f"variables nest deeper than {MAX_VARIABLE_DEPTH} levels", field=variable)
        elif isinstance(value, dict):
            for key, item in value.items():
                if UNSTORABLE.search(key):
                    return BadUserInput(f"object keys: {UNSTORABLE_MESSAGE}", field=path or None)
                pending.append((f"{path}.{key}" if path else key, item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}.{index}", item, depth + 1) for index, item in enumerate(value))
    return None


class RequestChecks(SchemaExtension):
    """Refusals graphql-core does not make by itself, before any resolver runs (over HTTP and
    WebSocket alike): text the database could not store, in literals and variables; variables
    nested too deeply; a document with several operations but no operation name."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # Until the document is parsed, strawberry's operation_name is exactly what the client
        # sent; afterwards it falls back to the first operation's name (and runs that one).
        self.requested_operation = context.operation_name
        context.validation_rules = (*context.validation_rules, StorableStringLiterals)
        yield

    def on_validate(self) -> Iterator[None]:
        checks = (self._operation_choice(), variables_error(self.execution_context.variables))
        errors: list[GraphQLError] = [error for error in checks if error is not None]
        if errors:
            # Set before validation runs: strawberry then skips validation and answers with these.
            self.execution_context.pre_execution_errors = errors
        yield

    def _operation_choice(self) -> BadUserInput | None:
        document = self.execution_context.graphql_document
        if self.requested_operation is not None or document is None:
            return None
        operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
        if len(operations) > 1:
            # graphql-core's own rule (its execute() would say the same).
            return BadUserInput("Must provide operation name if query contains multiple operations.", field="operationName")
        return None


class RequestLifecycle(SchemaExtension):
    """Closes the request's read transaction; reports lists cut short, and SQL figures to admins who ask."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        if getattr(ctx, "close", None) is not None:
            try:
                await ctx.close()
            except Exception:  # the answer is computed: a failed cleanup must not replace it
                logger.exception("could not close the request's read transaction")

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        results: dict[str, Any] = {}
        if getattr(ctx, "truncated", None):
            # Lists the page ceiling cut short, for every client: ask with pagination for more.
            results["truncated"] = ctx.truncated
        stats = getattr(ctx, "stats", None)
        if stats is not None and getattr(ctx, "debug", False):
            results.update({"sql_statements": stats.statements, "sql_ms": round(stats.seconds * 1000, 3)})
            if getattr(ctx, "paths", None):
                results["paths"] = ctx.paths
        return results


def document_limits(settings: Any) -> list[type[ValidationRule]]:
    """The depth and alias limits every request is held to, as validation rules, for a
    document checked before it runs (a saved query, when it is saved)."""
    return [create_depth_validator(settings.max_query_depth, None), create_aliases_validator(settings.max_aliases)]


def extensions_for(settings: Any, compiled: Any) -> list[Any]:
    # Factories, so each request gets fresh extension instances; the document caches are
    # shared by all of them (danbyte/documents.py). ``compiled``: the extension answering
    # root fields from compiled SQL, after the checks and before the read closes.
    known = KnownDocuments(settings.document_cache_size)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        known.extension(),
        RequestChecks,
        RequestLifecycle,
        compiled,
        CodedErrors,
    ]
