"""Schema extensions: abuse limits, error codes and masking, per-request cleanup and debug figures."""

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

from resolvers.errors import ApiError, log_unexpected


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


class RequestLifecycle(SchemaExtension):
    """Closes the request's read transaction; reports SQL figures to admins who ask."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        ctx = self.execution_context.context
        if getattr(ctx, "close", None) is not None:
            await ctx.close()

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        stats = getattr(ctx, "stats", None)
        if stats is None or not getattr(ctx, "debug", False):
            return {}
        return {"sql_statements": stats.statements, "sql_ms": round(stats.seconds * 1000, 3)}


def extensions_for(settings: Any) -> list[Any]:
    # Factories, so each request gets fresh extension instances.
    return [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        RequestLifecycle,
        CodedErrors,
    ]
