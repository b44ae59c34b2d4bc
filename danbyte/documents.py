"""Documents parsed and validated once: a polling dashboard pays for neither after the
first request.

- ``KnownDocuments``: texts that parsed, and that validated cleanly, in bounded LRUs (so
  unique texts cannot grow memory; texts over KEEP_AT_MOST characters are not kept). The schema, the parse options (the token limit) and
  the validation rules (their limits) are fixed for the life of the process, so a text
  parsed or valid once is so again: the work is skipped for it.
- ``PersistedQueries``: Apollo's automatic persisted queries. A client sends
  ``extensions.persistedQuery = {version: 1, sha256Hash}``; with the text, the server
  checks the hash and keeps the text; without it, the server answers from what it kept,
  or ``PersistedQueryNotFound`` (HTTP 200, code ``PERSISTED_QUERY_NOT_FOUND``) so the client
  sends the text once. Kept per process, bounded; a restart costs one round trip.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Texts longer than this are not kept: a query a dashboard repeats is short, and a long one
# is a one-off (an image uploaded inline), which would hold megabytes in the cache per entry.
KEEP_AT_MOST = 64 * 1024


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class KnownDocuments:
    """Query texts parsed, and those that validated without errors (shared by every request
    of the process). Only what succeeded is kept: a bad text is refused every time."""

    def __init__(self, size: int) -> None:
        self._parsed = _Lru(size)
        self._valid = _Lru(size)

    def extension(self) -> type[SchemaExtension]:
        """A schema extension that parses and validates each text once."""
        known = self

        class ParseAndValidateOnce(SchemaExtension):
            def on_parse(self) -> Iterator[None]:
                context = self.execution_context
                document = known._parsed.get(context.query or "")
                if document is not None:
                    context.graphql_document = document  # strawberry skips parsing a document it has
                yield
                if document is None and context.graphql_document is not None and len(context.query or "") <= KEEP_AT_MOST:
                    known._parsed.put(context.query or "", context.graphql_document)

            def on_validate(self) -> Iterator[None]:
                context = self.execution_context
                text = context.query or ""
                if known._valid.get(text) and context.pre_execution_errors is None:
                    context.pre_execution_errors = []  # strawberry skips validation it sees done
                    yield
                    return
                yield
                if context.pre_execution_errors == [] and len(text) <= KEEP_AT_MOST:
                    known._valid.put(text, True)

        return ParseAndValidateOnce


class PersistedQueryError(Exception):
    """A persisted-query request the server cannot answer (code and HTTP status included)."""

    def __init__(self, message: str, code: str, status: int, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.field = message, code, status, field


class PersistedQueries:
    def __init__(self, size: int) -> None:
        self._texts = _Lru(size)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The query text to run: the one given, or the one kept under the request's hash."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        field = "extensions.persistedQuery"
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError("persistedQuery: only version 1 is supported", "PERSISTED_QUERY_NOT_SUPPORTED", 400, field)
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise PersistedQueryError("persistedQuery.sha256Hash: 64 lower-case hex digits", "BAD_USER_INPUT", 400, f"{field}.sha256Hash")
        if query:
            if hashlib.sha256(query.encode()).hexdigest() != digest:
                raise PersistedQueryError("provided sha does not match query", "BAD_USER_INPUT", 400, f"{field}.sha256Hash")
            if len(query) <= KEEP_AT_MOST:
                self._texts.put(digest, query)
            return query
        kept = self._texts.get(digest)
        if kept is None:
            # Apollo's clients look for this message (and code) and retry with the text.
            raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
        return kept
