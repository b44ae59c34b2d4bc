"""Model rules that run inside every write, registered explicitly by their domains.

A rule is a *check* (it refuses bad input, naming the field) or a *generator* (it derives
data: a prefix's gateway address, the gateway IP itself). A writer that brings the
derived data with it — an importer copying another system's rows — turns the generators
off for its writes (``run_write(..., generate=False)``), never the checks.

Each domain lists its rules in a ``register_rules(book)`` function, and ``DOMAINS`` names
the domains. The write path loads the book before its first write, whoever the writer is
(GraphQL, the CLI, a job), so no rule depends on some module having been imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from models.registry import ModelSpec
    from resolvers.writes import Write

# Domains whose rules every write runs, in this order.
DOMAINS = (
    "resolvers.dcim",
    "resolvers.cables",
    "resolvers.circuits",
    "resolvers.virtualization",
    "resolvers.wireless",
    "resolvers.ipam",
    "resolvers.objects",
    "resolvers.extras",
    "resolvers.templates",
    "resolvers.custom_fields",
    "resolvers.attachments",
    "resolvers.custom_links",
    "resolvers.webhooks",
    "resolvers.discovery",
    "resolvers.jobs",
    "resolvers.monitoring",
    "resolvers.alerts",
    "resolvers.saved_queries",
)

# Before the row is written: may refuse, or fill in values. After: may write more rows.
BeforeRule = Callable[["Write", "ModelSpec", dict[str, Any], "sa.Row | None"], Awaitable[None]]
AfterRule = Callable[["Write", "ModelSpec", "sa.Row", "sa.Row | None"], Awaitable["sa.Row"]]
# Before a row is deleted: may refuse, or fix rows that point at it.
DeleteRule = Callable[["Write", "ModelSpec", "sa.Row"], Awaitable[None]]


def value_after(values: dict[str, Any], old: Any, name: str, default: Any = None) -> Any:
    """What column ``name`` holds once the write is done: the value given, else the row's
    (``old`` None on a create: ``default``)."""
    return values[name] if name in values else getattr(old, name, default)


@dataclass(frozen=True)
class Rule:
    run: Callable[..., Awaitable[Any]]
    generates: bool
    # A check that only judges changes to existing rows (``old`` is never None for it).
    updates_only: bool = False


@dataclass
class RuleBook:
    """Every model's rules, by model class name."""

    _before: dict[str, list[Rule]] = field(default_factory=dict)
    _after: dict[str, list[Rule]] = field(default_factory=dict)
    _deleting: dict[str, list[Rule]] = field(default_factory=dict)

    def check(self, *models: str) -> Callable[[BeforeRule], BeforeRule]:
        """A rule that refuses bad input before the row is written; it always runs."""
        return self._add(self._before, models, generates=False)

    def check_update(self, *models: str) -> Callable[[BeforeRule], BeforeRule]:
        """A check of changes to existing rows only (a primary address being moved): creates
        skip it, which lets a batch of creates be written set-based."""
        return self._add(self._before, models, generates=False, updates_only=True)

    def generate_before(self, *models: str) -> Callable[[BeforeRule], BeforeRule]:
        """A rule that fills in derived values before the row is written."""
        return self._add(self._before, models, generates=True)

    def generate_after(self, *models: str) -> Callable[[AfterRule], AfterRule]:
        """A rule that writes derived rows after the row; returns the (re-read) row."""
        return self._add(self._after, models, generates=True)

    def maintain_after(self, *models: str) -> Callable[[AfterRule], AfterRule]:
        """A rule that keeps other rows right after the row is written (an endpoint's
        cable), or checks what only exists then (many-to-many lists); it always runs,
        importers included."""
        return self._add(self._after, models, generates=False)

    def check_created_after(self, *models: str) -> Callable[[AfterRule], AfterRule]:
        """A check of a row just created, judged after the insert (the transaction undoes a
        refusal, and batches stay set-based) and skipped, as generators are, by a writer
        bringing another system's rows: that system judged them when they were made (an
        address that predates its range being marked populated)."""
        return self._add(self._after, models, generates=True)

    def maintain_before_delete(self, *models: str) -> Callable[[DeleteRule], DeleteRule]:
        """A rule that keeps other rows right before the row is deleted; it always runs."""
        return self._add(self._deleting, models, generates=False)

    def before_delete(self, model: str) -> list[DeleteRule]:
        return [rule.run for rule in self._deleting.get(model, [])]

    def before(self, model: str, *, generate: bool, creating: bool = False) -> list[BeforeRule]:
        rules = self._before.get(model, [])
        return [rule.run for rule in rules if (generate or not rule.generates) and not (creating and rule.updates_only)]

    def after(self, model: str, *, generate: bool) -> list[AfterRule]:
        return [rule.run for rule in self._after.get(model, []) if generate or not rule.generates]

    def _add(self, table: dict[str, list[Rule]], models: tuple[str, ...], *, generates: bool, updates_only: bool = False) -> Callable[[Any], Any]:
        def register(run: Any) -> Any:
            for model in models:
                table.setdefault(model, []).append(Rule(run, generates, updates_only))
            return run

        return register


_book: RuleBook | None = None


def rule_book() -> RuleBook:
    """The rules of every domain in ``DOMAINS``, registered on first use."""
    global _book
    if _book is None:
        book = RuleBook()
        for domain in DOMAINS:
            importlib.import_module(domain).register_rules(book)
        _book = book
    return _book
