"""Live subscriptions: the current set, then each change (docs/subscriptions.md).

A feed is declared once (``register``): a field name, a registry model and its filters.
Its subscription first yields one ``current`` event per row matching the filters that
the subscriber may view (read under its row-level security, like a list), then one
``ready`` event, then an event per committed change of that type (the change events
writes and workers publish: resolvers/writes.py ``_change``, plus filter keys),
each row loaded again by id under the subscriber's visibility:

- ``create`` / ``update``: the row matches the filters (with its current values);
- ``delete``: it was deleted, or is no longer visible to you;
- ``leave``: an update moved it out of your filters (a filtered field changed; the event
  does not say what the row was before, so this may come for a row you never had).

An event carrying a filter key (``site_id``, ``state``, …) is matched on it before any
row is read; one without is matched on the row.

Under the fan-out (danbyte/fanout.py) a group of equal subscriptions runs the changes
once (``live_phase = "changes"``) and each new member its current set
(``live_phase = "current"``); elsewhere one run does both.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
import strawberry
from sqlalchemy.exc import SQLAlchemyError

from models.registry import ModelSpec, spec_for, specs
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.loaders import fetch
from resolvers.prefetch import Record, prefetch, sub_selections, to_record
from resolvers.reads import require_view
from resolvers.validation import parse_id

logger = logging.getLogger("danbyte.live")

# Most values one filter argument may list.
MAX_VALUES = 100
ACTIONS = "current (the initial set), ready (the initial set is complete), create, update, delete (deleted, or no longer visible to you) or leave (an update moved it out of your filters)"


@dataclass(frozen=True)
class LiveFilter:
    """One filter argument: the values of ``column`` (on the model, or on ``via``'s target
    reached through the model's reference column) it lets through, and the change event's
    key that carries the same value."""

    arg: str
    column: str
    event_key: str
    via: tuple[str, str] | None = None  # (the model's reference column, the target model)
    choices: bool = False

    @property
    def moved_by(self) -> str:
        """The model's field whose change can move a row in or out of this filter."""
        return self.via[0] if self.via else self.column


def ids(arg: str, column: str | None = None, *, event_key: str | None = None, via: tuple[str, str] | None = None) -> LiveFilter:
    """Objects by id: ``ids("device")`` is ``device_id``; ``ids("site", via=("device_id",
    "Device"))`` the devices' ``site_id``."""
    column = column or f"{arg}_id"
    return LiveFilter(arg, column, event_key or column, via)


def choice(arg: str, column: str | None = None, *, event_key: str | None = None) -> LiveFilter:
    """Values of a choice column: ``choice("state", "status")`` filters ``status``."""
    column = column or arg
    return LiveFilter(arg, column, event_key or column, choices=True)


@dataclass(frozen=True)
class LiveFeed:
    field: str
    model: str
    filters: tuple[LiveFilter, ...]
    description: str = ""


FEEDS: dict[str, LiveFeed] = {}


def register(field_name: str, model: str, *filters: LiveFilter, description: str = "") -> LiveFeed:
    """Declare the live subscription ``field_name`` over registry model ``model``."""
    feed = LiveFeed(field_name, model, tuple(filters), description)
    FEEDS[field_name] = feed
    return feed


def live_fields() -> frozenset[str]:
    """The subscription fields that send a current set first (for the fan-out)."""
    return frozenset(name for name, feed in FEEDS.items() if feed.model in specs())


def subscription_fields(generated: dict[str, Any]) -> dict[str, Any]:
    return {name: _field(feed, generated[feed.model]) for name, feed in FEEDS.items() if feed.model in generated}


def _choices(spec: ModelSpec, column: str) -> tuple[str, ...]:
    return tuple(getattr(spec.table.c[column].type, "enums", ()))


def _wanted(feed: LiveFeed, spec: ModelSpec, given: dict[str, Any]) -> dict[LiveFilter, frozenset[str]]:
    """The filters given, their values checked (each refusal names the argument)."""
    wanted: dict[LiveFilter, frozenset[str]] = {}
    for flt in feed.filters:
        values = given.get(flt.arg)
        if values is None:
            continue
        if len(values) > MAX_VALUES:
            raise BadUserInput(f"{flt.arg}: at most {MAX_VALUES} values", field=flt.arg)
        if flt.choices:
            allowed = _choices(spec, flt.column)
            for value in values:
                if value not in allowed:
                    raise BadUserInput(f"{flt.arg}: '{value}' is not one of {', '.join(allowed)}", field=flt.arg)
            wanted[flt] = frozenset(values)
        else:
            wanted[flt] = frozenset(str(parse_id(value, flt.arg)) for value in values)
    return wanted


def _conditions(spec: ModelSpec, wanted: dict[LiveFilter, frozenset[str]]) -> list[sa.ColumnElement[bool]]:
    table = spec.table
    conditions: list[sa.ColumnElement[bool]] = []
    for flt, values in wanted.items():
        if flt.choices:
            # The column's enum members when it has an enum class (its values are the choices).
            enum_class = getattr(table.c[flt.column].type, "enum_class", None)
            typed: list[Any] = [enum_class(v) if enum_class is not None else v for v in sorted(values)]
        else:
            typed = [uuid.UUID(v) for v in sorted(values)]
        if flt.via is not None:
            local, target_model = flt.via
            target = spec_for(target_model).table
            # Under row-level security too: targets you may not view match nothing.
            conditions.append(table.c[local].in_(sa.select(target.c.id).where(target.c[flt.column].in_(typed))))
        else:
            conditions.append(table.c[flt.column].in_(typed))
    return conditions


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _visible(principal: Any, event: dict[str, Any]) -> bool:
    if event.get("org_id") != str(principal.org_id):
        return False
    tenant = event.get("tenant_id")
    return bool(principal.may_see_change(event["object_type"], uuid.UUID(tenant) if tenant else None, event.get("audience", "")))


def _event_type(spec: ModelSpec, object_type: Any) -> Any:
    name = f"{spec.type_name}ChangedEvent"
    annotations = {"action": str, "id": Optional[strawberry.ID], "changed_fields": list[str], spec.name: Optional[object_type]}
    namespace = {
        "__module__": __name__,
        "__annotations__": annotations,
        "action": strawberry.field(description=f"What happened: {ACTIONS}."),
        "id": strawberry.field(description=f"The {spec.name}'s id (null for ready)."),
        "changed_fields": strawberry.field(description="The fields an update changed (as the change log records them)."),
        spec.name: strawberry.field(description=f"The {spec.name} as you may see it now; null for ready, delete and leave."),
    }
    return strawberry.type(type(name, (), namespace), name=name, description=f"A {spec.name} of the current set, or a change to one.")


def _field(feed: LiveFeed, gen: Any) -> Any:
    spec = gen.spec
    event_type = _event_type(spec, gen.type)
    type_name = spec.model.__name__

    def event(action: str, id: Any, changed: list[str], record: Record | None) -> Any:
        return event_type(action=action, id=strawberry.ID(str(id)) if id is not None else None, changed_fields=changed, **{spec.name: record})

    async def current(ctx: RequestContext, wanted: dict[LiveFilter, frozenset[str]], selections: list[Any], path: list[Any]) -> AsyncGenerator[Any, None]:
        """The rows matching the filters that the subscriber may view, in pages (keyset on id)."""
        table, page = spec.table, ctx.settings.max_page_size
        conditions = _conditions(spec, wanted)
        after: Any = None
        while True:
            statement = sa.select(table).where(*conditions).order_by(table.c.id).limit(page)
            if after is not None:
                statement = statement.where(table.c.id > after)
            rows = await fetch(ctx, statement)
            records = [to_record(row) for row in rows]
            await prefetch(ctx, type_name, records, selections, path)
            for record in records:
                yield event("current", record.id, [], record)
            if len(rows) < page:
                return
            after = rows[-1].id

    async def change(ctx: RequestContext, wanted: dict[LiveFilter, frozenset[str]], raw: dict[str, Any], selections: list[Any], path: list[Any]) -> Any:
        """The event a committed change makes for this subscriber, or None."""
        changed = list(raw.get("changed_fields") or [])
        missed = [flt for flt, values in wanted.items() if flt.event_key in raw and _text(raw[flt.event_key]) not in values]
        if missed:
            # Only an update of the filtered fields can have moved it out of the set; else
            # this subscriber never had it. (Keys missing from the event: decided on the row.)
            if raw["action"] == "update" and all(flt.moved_by in changed for flt in missed):
                return event("leave", raw["id"], changed, None)
            return None
        if raw["action"] == "delete":
            return event("delete", raw["id"], changed, None)
        table = spec.table
        conditions = _conditions(spec, wanted)
        matches = sa.and_(sa.true(), *conditions).label("__live_matches")
        rows = await fetch(ctx, sa.select(table, matches).where(table.c.id == parse_id(raw["id"], "id")))
        if not rows:
            return event("delete", raw["id"], changed, None)  # gone since, or hidden from you now
        record = to_record(rows[0])
        if not record.__dict__.pop("__live_matches"):
            moved = raw["action"] == "update" and any(flt.moved_by in changed for flt in wanted)
            return event("leave", raw["id"], changed, None) if moved else None
        await prefetch(ctx, type_name, [record], selections, path)
        return event(raw["action"], raw["id"], changed, record)

    async def resolve(info: strawberry.Info, **given: Any) -> AsyncGenerator[Any, None]:
        ctx: RequestContext = info.context
        principal = ctx.require_principal()
        require_view(ctx, spec)
        wanted = _wanted(feed, spec, given)
        selections = sub_selections(info, spec.name)
        path = [*info.path.as_list(), spec.name]
        phase = ctx.live_phase
        if phase != "changes":
            async for answer in current(ctx, wanted, selections, path):
                yield answer
            yield event("ready", None, [], None)
            if phase == "current":
                return
            await ctx.close()  # no read transaction held while waiting for changes
        async for raw in ctx.events.subscribe():  # type: ignore[union-attr]
            if raw.get("kind", "change") != "change" or "action" not in raw or raw.get("object_type") != spec.type_key:
                continue
            if not _visible(principal, raw):
                continue
            try:
                answer = await change(ctx, wanted, raw, selections, path)
            except (BadUserInput, SQLAlchemyError):
                # A malformed event or a failed read loses this event, not the subscription.
                logger.warning("live subscription %s skipped an event", feed.field, exc_info=True)
                await ctx.abandon()
                continue
            if answer is not None:
                yield answer
            await ctx.close()  # no read transaction held between events

    parameters = [inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=strawberry.Info)]
    for flt in feed.filters:
        annotation = Optional[list[str]] if flt.choices else Optional[list[strawberry.ID]]
        parameters.append(inspect.Parameter(flt.arg, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    returns = AsyncGenerator[event_type, None]  # type: ignore[valid-type]
    resolve.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    resolve.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    resolve.__name__ = feed.field
    return strawberry.subscription(resolver=resolve, name=feed.field, description=feed.description or None)
