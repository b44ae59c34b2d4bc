"""Extras: a journal entry's author is whoever writes it (registered in resolvers/rules.py)."""

from __future__ import annotations

from typing import Any

from models.registry import ModelSpec
from resolvers.rules import RuleBook
from resolvers.writes import Write


def register_rules(book: RuleBook) -> None:
    book.generate_before("JournalEntry")(_written_by_the_writer)


async def _written_by_the_writer(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    if old is None:
        values["created_by"] = write.principal.username or ""
