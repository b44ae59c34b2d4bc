"""The write path every generated mutation goes through.

validate → write (numid, row, many-to-many, tags) → model hooks → change-log rows →
commit → publish events. One transaction per mutation: any error rolls all of it back
and nothing is published.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import Base, table_of
from models.changelog import ObjectChange
from models.choices import ChangeAction
from models.numid import allocate_numids
from models.registry import InlineSpec, ModelSpec, OneOfSpec, column_value_for_json, content_type, spec_for, specs
from models.tenancy import Tag, TaggedItem
from permissions.principal import Principal
from resolvers import custom_fields
from resolvers.context import RequestContext
from resolvers.errors import ApiError, BadUserInput, Conflict, Forbidden, NotFound
from resolvers.rules import rule_book
from resolvers.secrets import seal_values
from resolvers.sql import any_of
from resolvers.validation import check_values, parse_id

logger = logging.getLogger("danbyte.writes")

T = TypeVar("T")


@dataclass
class Write:
    """One mutation's transaction: the connection and the changes it has logged so far."""

    ctx: RequestContext
    conn: AsyncConnection
    principal: Principal
    changes: list[dict[str, Any]] = field(default_factory=list)
    # Scratch space for the rules of one write (e.g. "spawn the gateway IP after insert").
    notes: dict[Any, Any] = field(default_factory=dict)
    # Run the generating rules (resolvers/rules.py); checks always run.
    generate: bool = True
    # Referenced objects already found in this transaction: (table, id) → tenant. A writer
    # that stamps many rows onto one owner checks the owner once; the composite foreign
    # keys still hold every row.
    found: dict[tuple[str, Any], Any] = field(default_factory=dict)
    # Rows this transaction deleted: (type key, id). A cascade reaching one twice skips it.
    deleted: set[tuple[str, Any]] = field(default_factory=set)

    async def remember(self, key: tuple[Any, ...], load: Callable[[], Awaitable[T]]) -> T:
        """``load()``'s answer, read once per write for ``key``, whose first item names the
        kind (``("templates", owner, id)``): a batch of forty devices reads their type's
        templates once."""
        if key not in self.notes:
            self.notes[key] = await load()
        return self.notes[key]

    def forget(self, kind: str) -> None:
        """Drop what ``remember`` keeps of ``kind``: the rows it was read from changed."""
        for key in [k for k in self.notes if isinstance(k, tuple) and k[:1] == (kind,)]:
            del self.notes[key]

    async def insert(self, spec: ModelSpec, values: dict[str, Any]) -> sa.Row:
        """Insert a row (with a numid when the model has one) and log it."""
        values = with_natural_keys(spec, values)
        if spec.numbered and values.get("numid") is None:
            (values["numid"],) = await allocate_numids(self.conn, values["tenant_id"], spec.type_key, 1)
        row = (await self.conn.execute(sa.insert(spec.table).values(**values).returning(spec.table))).one()
        await self.log(spec, ChangeAction.create, None, row)
        return row

    async def update(self, spec: ModelSpec, old: sa.Row, values: dict[str, Any]) -> sa.Row:
        values = {**with_natural_keys(spec, values), "last_updated": sa.func.now()}
        statement = sa.update(spec.table).where(spec.table.c.id == old.id).values(**values).returning(spec.table)
        row = (await self.conn.execute(statement)).one()
        await self.log(spec, ChangeAction.update, old, row)
        return row

    async def insert_many(self, spec: ModelSpec, rows: list[dict[str, Any]]) -> list[sa.Row]:
        """Insert rows in one statement, each logged under the request's id (components a
        device's type stamps out). Rules do not run: the caller is one."""
        if not rows:
            return []
        # Ids chosen here: one INSERT for all rows (asking the driver to keep the input order
        # costs one statement a row), its answer put back in input order by id.
        rows = [{"id": uuid.uuid4(), **with_natural_keys(spec, row)} for row in rows]
        if spec.numbered:  # one allocation per tenant of the batch
            by_tenant: dict[Any, list[dict[str, Any]]] = {}
            for row in rows:
                by_tenant.setdefault(row["tenant_id"], []).append(row)
            for tenant_id, group in by_tenant.items():
                for row, number in zip(group, await allocate_numids(self.conn, tenant_id, spec.type_key, len(group)), strict=True):
                    row["numid"] = number
        # Rows giving the same columns share an INSERT (a column left out takes its default).
        shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
        for row in rows:
            shapes.setdefault(frozenset(row), []).append(row)
        returned: dict[Any, sa.Row] = {}
        for group in shapes.values():
            returned.update((r.id, r) for r in await self.conn.execute(sa.insert(spec.table).values(group).returning(spec.table)))
        inserted = [returned[row["id"]] for row in rows]
        entries = [self._change(spec, ChangeAction.create, None, row) for row in inserted]
        await self.conn.execute(sa.insert(table_of(ObjectChange)), entries)
        return inserted

    async def log(self, spec: ModelSpec, action: ChangeAction, old: sa.Row | None, new: sa.Row | None) -> None:
        await self.conn.execute(sa.insert(table_of(ObjectChange)).values(**self._change(spec, action, old, new)))

    def _change(self, spec: ModelSpec, action: ChangeAction, old: sa.Row | None, new: sa.Row | None) -> dict[str, Any]:
        """The change-log row of one change; the change event is queued for after commit."""
        before, after = snapshot(old, spec.secret_names), snapshot(new, spec.secret_names)
        changed = sorted(k for k in set(before or {}) | set(after or {}) if (before or {}).get(k) != (after or {}).get(k))
        changed = [k for k in changed if k != "last_updated"]
        row = new if new is not None else old
        assert row is not None
        tenant_id = spec.model.owning_tenant(row)
        audience = spec.model.__audience__
        entry = dict(
            # Chosen here so the event can name its entry: a worker reads the change from it.
            id=uuid.uuid4(),
            org_id=self.principal.org_id,
            tenant_id=tenant_id,
            user_id=self.principal.user_id,
            user_name=self.principal.username,
            request_id=self.ctx.request_id,
            audience=audience,
            action=action,
            object_type=spec.type_key,
            object_id=row.id,
            object_numid=getattr(row, "numid", None),
            object_repr=_display(row)[:200],
            prechange_data=before,
            postchange_data=after,
            changed_fields=changed,
        )
        self.changes.append(
            {
                "type": spec.name,
                "object_type": spec.type_key,
                "id": str(row.id),
                "numid": getattr(row, "numid", None),
                "action": action.value,
                "changed_fields": changed,
                "tenant_id": str(tenant_id) if tenant_id else None,
                "audience": audience.value,
                "org_id": str(self.principal.org_id),
                "affects_principals": spec.model.__affects_principals__,
                "change_id": str(entry["id"]),
            }
        )
        return entry


def with_natural_keys(spec: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The values with every sort key whose source they set (``_name`` from ``name``)."""
    keys = {
        column: keyer(values[source], length) if values[source] is not None else None for column, source, keyer, length in spec.natural_keys if source in values
    }
    return {**values, **keys} if keys else values


# Never copied into the change log or events.
SECRET_COLUMNS = {"password_hash", "key_hash"}


def snapshot(row: sa.Row | None, secrets: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """A row as the change log keeps it: never a secret (hashes, sealed keys), nor a hidden key."""
    if row is None:
        return None
    left_out = SECRET_COLUMNS | secrets
    return {key: column_value_for_json(value) for key, value in row._mapping.items() if key not in left_out and not key.startswith("_")}


def _display(row: sa.Row) -> str:
    mapping = row._mapping
    for key in ("name", "prefix", "address", "username", "slug"):
        if mapping.get(key):
            return str(mapping[key])
    if "vid" in mapping:
        return f"VLAN {mapping['vid']}"
    return str(row.id)


def require(principal: Principal, action: str, spec: ModelSpec) -> None:
    """The permission check of every generic write (row-level security checks it again)."""
    if not principal.write_enabled:
        raise Forbidden("this token is read-only")
    if not principal.can(action, spec.type_key):
        raise Forbidden(f"you may not {action} {spec.type_key} objects")
    if action != "add" and not principal.can("view", spec.type_key):
        # The mutation answers with the object: changing or deleting what one may not
        # see would read it.
        raise Forbidden(f"you may not {action} {spec.type_key} objects you may not view")
    if not spec.tenant_scoped and not principal.all_tenants:
        # Shared by every tenant: one tenant's principal must not change what others use.
        raise Forbidden(f"{spec.name} objects are shared by all tenants: only a principal not limited to some tenants may {action} them")


def _split_input(spec: ModelSpec, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]], list[Any] | None]:
    """Input dict → (column values, many-to-many id lists, tag ids)."""
    values: dict[str, Any] = {}
    many: dict[str, list[Any]] = {}
    tags = data.pop("tags", None) if spec.tagged else None
    for name, value in data.items():
        one_of = next((o for o in spec.one_of if o.name == name), None)
        if one_of is not None:
            values.update(_one_of_values(one_of, value))
            continue
        ref = spec.ref(name)
        if ref is not None:
            if value is None and not ref.nullable:
                raise BadUserInput(f"{name} may not be null", field=name)
            values[ref.column] = parse_id(value, name) if value is not None else None
        elif any(m.name == name for m in spec.many):
            many[name] = [parse_id(v, name) for v in (value or [])]
        elif any(i.name == name for i in spec.inline):
            many[name] = list(value or [])  # {type, id} items, written by _write_inline
        else:
            values[name] = value
    return seal_values(spec, check_values(spec, values)), many, tags


def _one_of_values(one_of: OneOfSpec, value: Any) -> dict[str, Any]:
    """``{type: "dcim.site", id}`` → the member columns: that one set, every other cleared."""
    cleared: dict[str, Any] = dict.fromkeys((column for _, column in one_of.members), None)
    if value is None:
        if not one_of.nullable:
            raise BadUserInput(f"{one_of.name} may not be null", field=one_of.name)
        return cleared
    kinds = {content_type(spec_for(target).model): column for target, column in one_of.members}
    column = kinds.get(value.type)
    if column is None:
        raise BadUserInput(f"{one_of.name}.type: '{value.type}' is not one of {', '.join(kinds)}", field=f"{one_of.name}.type")
    cleared[column] = parse_id(value.id, f"{one_of.name}.id")
    return cleared


async def _check_references(write: Write, spec: ModelSpec, values: dict[str, Any], tenant_id: uuid.UUID | None) -> None:
    """Every referenced object must exist, be visible, and live in the same tenant."""
    for name, column, target_name in spec.links():
        if values.get(column) is None:
            continue
        target = spec_for(target_name)
        key = (target.type_key, values[column])
        if key not in write.found:
            table = target.table
            owner = table.c.tenant_id if target.tenant_scoped else sa.null()
            row = (await write.conn.execute(sa.select(table.c.id, owner.label("tenant")).where(table.c.id == values[column]))).one_or_none()
            if row is None:
                raise NotFound(f"{name}: no {target.name} with id {values[column]}", field=name)
            write.found[key] = row.tenant
        if target.tenant_scoped and tenant_id is not None and write.found[key] != tenant_id:
            raise BadUserInput(f"{name}: that {target.name} belongs to another tenant", field=name)


async def _owner_tenant(write: Write, spec: ModelSpec, values: dict[str, Any]) -> uuid.UUID:
    """The tenant of a new owned row: its owner's (a component's device), read under the
    writer's row-level security, so an owner the writer cannot see is not found."""
    for name in spec.tenant_from:
        ref = spec.ref(name)
        if ref is None or values.get(ref.column) is None:
            continue  # a kind may lack one of the owners (a device-type-only template)
        target = spec_for(ref.target)
        key = (target.type_key, values[ref.column])
        if key not in write.found:
            owner = target.table
            tenant = (await write.conn.execute(sa.select(owner.c.tenant_id).where(owner.c.id == values[ref.column]))).scalar_one_or_none()
            if tenant is None:
                raise NotFound(f"{name}: no {target.name} with id {values[ref.column]}", field=name)
            write.found[key] = tenant  # the reference check below reads it from here
        return write.found[key]
    owners = [name for name in spec.tenant_from if spec.ref(name) is not None]
    raise BadUserInput(f"give {' or '.join(owners)}", field=owners[0])


async def _find_references(write: Write, spec: ModelSpec, items: list[dict[str, Any]]) -> None:
    """Look up every object a batch refers to, one statement per referenced type, into the
    write's cache; what is not found stays out, for the per-object check to name."""
    wanted: dict[str, set[Any]] = {}
    for _, column, target_name in spec.links():
        for item in items:
            if item.get(column) is not None and (spec_for(target_name).type_key, item[column]) not in write.found:
                wanted.setdefault(target_name, set()).add(item[column])
    for target_name, ids in wanted.items():
        target = spec_for(target_name)
        table = target.table
        owner = table.c.tenant_id if target.tenant_scoped else sa.null()
        key = table.c.id
        statement = sa.select(key, owner.label("tenant")).where(any_of(key, ids))
        for row in await write.conn.execute(statement):
            write.found[(target.type_key, row.id)] = row.tenant


async def _check_no_cycle(write: Write, spec: ModelSpec, values: dict[str, Any], old: sa.Row | None) -> None:
    parent = spec.ref("parent")
    if parent is None or old is None or values.get(parent.column) is None:
        return
    table = spec.table
    up = sa.select(table.c.id, table.c.parent_id).where(table.c.id == values[parent.column]).cte("up", recursive=True)
    up = up.union(sa.select(table.c.id, table.c.parent_id).join(up, table.c.id == up.c.parent_id))
    ancestors = {row.id for row in await write.conn.execute(sa.select(up.c.id))}
    if old.id in ancestors:
        raise BadUserInput(f"parent: a {spec.name} cannot be nested inside itself or its own descendants", field="parent")


async def _write_many(write: Write, spec: ModelSpec, row: sa.Row, many: dict[str, list[Any]]) -> None:
    # settings.max_list_values (DANBYTE_MAX_LIST_VALUES) bounds every id list, repeats included;
    # raising rolls the whole write back.
    limit = write.ctx.settings.max_list_values
    for name, ids in many.items():
        if len(ids) > limit:
            raise BadUserInput(f"{name}: {len(ids)} ids; at most {limit} are allowed in one list", field=name)
    for name, ids in many.items():
        carried = next((i for i in spec.inline if i.name == name), None)
        if carried is not None:
            await _write_inline(write, spec, row, carried, ids)
            continue
        relation = next(m for m in spec.many if m.name == name)
        association = Base.metadata.tables[relation.table]
        distinct = list(dict.fromkeys(ids))
        await check_references_many(write, relation.target, distinct, row.tenant_id, name)
        await write.conn.execute(sa.delete(association).where(association.c[relation.local] == row.id))
        if distinct:
            await write.conn.execute(
                sa.insert(association),
                [{"tenant_id": row.tenant_id, relation.local: row.id, relation.remote: i} for i in distinct],
            )


async def _write_inline(write: Write, spec: ModelSpec, row: sa.Row, carried: InlineSpec, items: list[Any]) -> None:
    """Replace the object's carried rows (a cable's A-end terminations) by ``items``; each
    row goes through the full write path of its own model, its rules included."""
    if carried.required and not items:
        raise BadUserInput(f"{carried.name}: give at least one", field=carried.name)
    source = spec_for(carried.source)
    table = source.table
    matching = [table.c[carried.parent] == row.id, *(table.c[column] == value for column, value in carried.fixed)]
    for old in (await write.conn.execute(sa.select(table).where(*matching).with_for_update())).all():
        await delete_row(write, source, old)
    one_of = next(o for o in source.one_of if o.name == carried.item)
    for item in items:
        try:
            values = {carried.parent: row.id, **dict(carried.fixed), **_one_of_values(one_of, item)}
            await insert_object(write, source, values)
        except ApiError as error:
            # The client wrote ``a_terminations``, not the termination row's own field.
            raise type(error)(f"{carried.name}: {error.message}", field=carried.name) from None


async def check_references_many(write: Write, target_name: str, ids: list[Any], tenant_id: Any, field: str) -> None:
    """Every id names a target the writer may see (NOT_FOUND naming ``field``), of the
    row's tenant where the target belongs to one (an organisation-wide tag or tenant group
    is any tenant's to use): one statement however many ids."""
    target = spec_for(target_name)
    key, owner = target.table.c.id, target.model.__owner_column__
    owner_column = target.table.c[owner] if owner is not None else sa.null()
    found = {r[0]: r[1] for r in await write.conn.execute(sa.select(key, owner_column).where(any_of(key, ids)))}
    for i in ids:
        if i not in found:
            raise NotFound(f"{field}: no {target.name} with id {i}", field=field)
        if owner is not None and found[i] != tenant_id:
            raise BadUserInput(f"{field}: that {target.name} belongs to another tenant", field=field)


async def _write_tags(write: Write, spec: ModelSpec, row: sa.Row, tag_ids: list[Any]) -> None:
    tag, item = table_of(Tag), table_of(TaggedItem)
    limit = write.ctx.settings.max_list_values
    if len(tag_ids) > limit:  # repeats count: the limit is on what the client sends
        raise BadUserInput(f"tags: {len(tag_ids)} ids; at most {limit} are allowed in one list", field="tags")
    ids = list(dict.fromkeys(parse_id(t, "tags") for t in tag_ids))
    matching = any_of(tag.c.id, ids)
    known = {r.id: r for r in await write.conn.execute(sa.select(tag.c.id, tag.c.slug, tag.c.object_types).where(matching))}
    missing = [str(i) for i in ids if i not in known]
    if missing:
        raise NotFound(f"tags: no tag with id {', '.join(missing)}", field="tags")
    # A tag restricted to some types (its object_types) applies to those only.
    for found in known.values():
        if found.object_types and spec.content_type not in found.object_types:
            raise BadUserInput(f"tags: the tag '{found.slug}' applies to {', '.join(found.object_types)} only, not {spec.content_type}", field="tags")
    tenant_id = spec.model.owning_tenant(row)
    await write.conn.execute(sa.delete(item).where(item.c.object_type == spec.type_key, item.c.object_id == row.id))
    if ids:
        await write.conn.execute(
            sa.insert(item),
            [{"tag_id": i, "object_type": spec.type_key, "object_id": row.id, "tenant_id": tenant_id} for i in ids],
        )


def resolve_tenant(principal: Principal, values: dict[str, Any]) -> uuid.UUID:
    """The tenant a new object goes into: the one given, or the principal's only tenant."""
    tenant_id = values.get("tenant_id")
    if tenant_id is None:
        if len(principal.tenant_ids) == 1:
            return next(iter(principal.tenant_ids))
        raise BadUserInput("tenant is required (you can write to more than one tenant)", field="tenant")
    if tenant_id not in principal.tenant_ids and not principal.all_tenants:
        raise NotFound(f"tenant: no tenant with id {tenant_id}", field="tenant")
    # An organisation-wide principal may use a tenant created after it authenticated;
    # row-level security checks the tenant against the organisation on insert.
    return tenant_id


async def run_write(ctx: RequestContext, work: Callable[[Write], Awaitable[T]], *, generate: bool = True) -> T:
    """Run ``work`` in one transaction; map database errors; publish events after commit.

    ``generate=False``: for a writer that brings derived data with it (an importer): the
    model rules that derive data stay off, the checks run."""
    principal = ctx.require_principal()
    try:
        async with ctx.db.request_transaction(principal, writing=True) as conn:
            write = Write(ctx, conn, principal, generate=generate)
            row = await work(write)
    except IntegrityError as error:
        raise integrity_error(error) from None
    except sa.exc.ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) == "42501":  # row-level security refused the row
            raise NotFound("tenant: no such tenant among yours", field="tenant") from None
        raise
    except DataError as error:
        raise BadUserInput(f"the database refused the value: {_first_line(error)}") from None
    if ctx.events is not None and write.changes:
        try:
            if any(change["affects_principals"] for change in write.changes):
                await ctx.events.invalidate_principals()
            await ctx.events.publish(write.changes)
        except Exception:  # the write is committed: a lost notification must not turn it into an error
            logger.exception("could not publish %d change events", len(write.changes))
    return row


async def insert_object(
    write: Write, spec: ModelSpec, values: dict[str, Any], many: dict[str, list[Any]] | None = None, tags: list[Any] | None = None
) -> sa.Row:
    """Everything a create does inside its transaction."""
    return await _write_object(write, spec, values, many, tags, old=None)


async def _write_object(
    write: Write,
    spec: ModelSpec,
    values: dict[str, Any],
    many: dict[str, list[Any]] | None,
    tags: list[Any] | None,
    old: sa.Row | None,
) -> sa.Row:
    """The one write sequence for creates (``old`` None) and updates: checks, hooks, the
    row, its many-to-many relations and tags, then the after-hooks."""
    if old is None and spec.tenant_from and values.get("tenant_id") is None:
        values["tenant_id"] = await _owner_tenant(write, spec, values)
    await _check_references(write, spec, values, values.get("tenant_id") if old is None else getattr(old, "tenant_id", None))
    await _check_no_cycle(write, spec, values, old)
    await custom_fields.apply(write, spec, values, old)
    book = rule_book()
    for before in book.before(spec.type_name, generate=write.generate, creating=old is None):
        await before(write, spec, values, old)
    row = await (write.insert(spec, values) if old is None else write.update(spec, old, values))
    if many:
        await _write_many(write, spec, row, many)
    if tags is not None:
        await _write_tags(write, spec, row, tags)
    for after in book.after(spec.type_name, generate=write.generate):
        row = await after(write, spec, row, old)
    return row


async def update_object(
    write: Write, spec: ModelSpec, values: dict[str, Any], old: sa.Row, many: dict[str, list[Any]] | None = None, tags: list[Any] | None = None
) -> sa.Row:
    """Everything an update does inside its transaction (for writers that batch several)."""
    return await _write_object(write, spec, values, many, tags, old)


def prepare_create(
    principal: Principal, spec: ModelSpec, data: dict[str, Any], tenant_id: uuid.UUID | None = None
) -> tuple[dict[str, Any], dict[str, list[Any]], list[Any] | None]:
    """Split and check a create input; ``tenant_id`` overrides the input's tenant (allocations)."""
    values, many, tags = _split_input(spec, dict(data))
    if tenant_id is not None:
        values["tenant_id"] = tenant_id
    elif spec.tenant_from:
        pass  # taken from the owner inside the transaction (_owner_tenant)
    elif spec.tenant_scoped:
        values["tenant_id"] = resolve_tenant(principal, values)
    elif spec.org_scoped:
        values["org_id"] = principal.org_id
    return values, many, tags


async def create(ctx: RequestContext, spec: ModelSpec, data: dict[str, Any]) -> sa.Row:
    principal = ctx.require_principal()
    require(principal, "add", spec)
    values, many, tags = prepare_create(principal, spec, data)
    return await run_write(ctx, lambda write: insert_object(write, spec, values, many, tags))


# --- batches: one transaction for many objects, all or nothing ---------------------------


@dataclass(frozen=True)
class Place:
    """Where a batch's items stand in its arguments, for naming a failing one's field:
    ``inputs.3.address`` (creates), ``inputs.3.input.address`` (updates: ``{id, input}``),
    ``ids.3`` (deletes: the item is the id)."""

    argument: str
    nested: str | None = ""

    def of(self, index: int, field: str | None) -> str:
        where = f"{self.argument}.{index}"
        if self.nested is None or not field:
            return where
        if self.nested and field != "id":
            where = f"{where}.{self.nested}"
        return f"{where}.{field}"


CREATES, UPDATES, DELETES = Place("inputs"), Place("inputs", "input"), Place("ids", None)


def _indexed(error: ApiError, index: int, place: Place) -> ApiError:
    """The error of one object of a batch, naming its place; other details kept."""
    extensions = dict(error.extensions or {})
    extensions.pop("code", None)
    where = place.of(index, extensions.pop("field", None))
    return type(error)(f"{place.argument}[{index}]: {error.message}", field=where, **extensions)


def _batch(ctx: RequestContext, spec: ModelSpec, action: str, items: list[Any], prepare: Callable[[Any], T], place: Place) -> list[T]:
    """A batch's items checked before its transaction: the right to ``action``, the size,
    each item prepared (a failure names its index)."""
    require(ctx.require_principal(), action, spec)
    limit = ctx.settings.max_list_values
    if len(items) > limit:
        raise BadUserInput(f"{place.argument}: {len(items)} objects; at most {limit} are allowed in one batch", field=place.argument)
    prepared = []
    for index, item in enumerate(items):
        try:
            prepared.append(prepare(item))
        except ApiError as error:
            raise _indexed(error, index, place) from None
    return prepared


async def _each(write: Write, items: list[T], work: Callable[[T], Awaitable[sa.Row]], place: Place = CREATES) -> list[sa.Row]:
    """Run ``work`` on each item in order; a failure names the item's index and rolls the
    whole batch back (the transaction is one)."""
    rows = []
    for index, item in enumerate(items):
        try:
            rows.append(await work(item))
        except ApiError as error:
            raise _indexed(error, index, place) from None
        except IntegrityError as error:
            raise _indexed(integrity_error(error), index, place) from None
    return rows


async def create_many(ctx: RequestContext, spec: ModelSpec, items: list[dict[str, Any]]) -> list[sa.Row]:
    """``<type>_create_many``: every object in one transaction, one change-log request,
    events after the commit."""
    principal = ctx.require_principal()
    prepared = _batch(ctx, spec, "add", items, lambda data: prepare_create(principal, spec, data), CREATES)
    return await run_write(ctx, lambda write: insert_objects(write, spec, prepared))


def _set_based(write: Write, spec: ModelSpec, prepared: list[tuple[dict[str, Any], dict[str, list[Any]], list[Any] | None]]) -> bool:
    """Whether a batch of creates can be written with set-based statements: nothing runs
    per row before the insert (no rule judging a create, no owner to look up, no cycle
    to check) and no row brings many-to-many lists or tags."""
    plain = not any(many or tags is not None for _, many, tags in prepared)
    return plain and not spec.tenant_from and not rule_book().before(spec.type_name, generate=write.generate, creating=True)


async def insert_objects(write: Write, spec: ModelSpec, prepared: list[tuple[dict[str, Any], dict[str, list[Any]], list[Any] | None]]) -> list[sa.Row]:
    """Create a batch: set-based where the model allows (references checked with one
    statement per referenced type, numids, rows and change-log entries each with one),
    else object by object. Either way the after-rules run per row and an error names the
    object's index."""
    if not _set_based(write, spec, prepared):
        return await _each(write, prepared, lambda p: insert_object(write, spec, *p))
    values = [v for v, _, _ in prepared]
    await _find_references(write, spec, values)
    for index, item in enumerate(values):  # each found above: no statement, only the checks
        try:
            await _check_references(write, spec, item, item.get("tenant_id"))
            await custom_fields.apply(write, spec, item, None)
        except ApiError as error:
            raise _indexed(error, index, CREATES) from None
    try:
        async with write.conn.begin_nested():  # a key violation is found again object by object
            rows = await write.insert_many(spec, values)
    except IntegrityError:
        return await _each(write, prepared, lambda p: insert_object(write, spec, *p))
    book = rule_book()
    done = []
    for index, row in enumerate(rows):
        try:
            for after in book.after(spec.type_name, generate=write.generate):
                row = await after(write, spec, row, None)
        except ApiError as error:
            raise _indexed(error, index, CREATES) from None
        done.append(row)
    return done


async def update_many(ctx: RequestContext, spec: ModelSpec, items: list[tuple[Any, dict[str, Any]]]) -> list[sa.Row]:
    """``<type>_update_many``: (id, changes) pairs in one transaction."""

    def prepare(item: tuple[Any, dict[str, Any]]) -> tuple[uuid.UUID, dict[str, Any], dict[str, list[Any]], list[Any] | None]:
        object_id, data = item
        values, many, tags = _split_input(spec, dict(data))
        if "tenant_id" in values:
            raise BadUserInput("tenant cannot be changed; create the object in the other tenant instead", field="tenant")
        return parse_id(object_id, "id"), values, many, tags

    prepared = _batch(ctx, spec, "change", items, prepare, UPDATES)

    async def one(write: Write, item: tuple[uuid.UUID, dict[str, Any], dict[str, list[Any]], list[Any] | None]) -> sa.Row:
        object_id, values, many, tags = item
        return await _write_object(write, spec, values, many, tags, await _load_for_write(write, spec, object_id))

    return await run_write(ctx, lambda write: _each(write, prepared, lambda item: one(write, item), UPDATES))


async def delete_many(ctx: RequestContext, spec: ModelSpec, ids: list[Any]) -> list[sa.Row]:
    """``<type>_delete_many``: the objects in one transaction."""
    parsed = _batch(ctx, spec, "delete", ids, lambda object_id: parse_id(object_id, "id"), DELETES)

    async def one(write: Write, object_id: uuid.UUID) -> sa.Row:
        return await delete_row(write, spec, await _load_for_write(write, spec, object_id))

    return await run_write(ctx, lambda write: _each(write, parsed, lambda object_id: one(write, object_id), DELETES))


async def _load_for_write(write: Write, spec: ModelSpec, object_id: uuid.UUID) -> sa.Row:
    row = (await write.conn.execute(sa.select(spec.table).where(spec.table.c.id == object_id).with_for_update())).one_or_none()
    if row is None:
        raise NotFound(f"no {spec.name} with id {object_id}", field="id")
    return row


async def update(ctx: RequestContext, spec: ModelSpec, object_id: Any, data: dict[str, Any]) -> sa.Row:
    principal = ctx.require_principal()
    require(principal, "change", spec)
    object_id = parse_id(object_id, "id")
    values, many, tags = _split_input(spec, dict(data))
    if "tenant_id" in values:
        raise BadUserInput("tenant cannot be changed; create the object in the other tenant instead", field="tenant")

    async def work(write: Write) -> sa.Row:
        old = await _load_for_write(write, spec, object_id)
        return await _write_object(write, spec, values, many, tags, old)

    return await run_write(ctx, work)


async def delete(ctx: RequestContext, spec: ModelSpec, object_id: Any) -> sa.Row:
    principal = ctx.require_principal()
    require(principal, "delete", spec)
    object_id = parse_id(object_id, "id")

    async def work(write: Write) -> sa.Row:
        return await delete_row(write, spec, await _load_for_write(write, spec, object_id))

    return await run_write(ctx, work)


async def delete_row(write: Write, spec: ModelSpec, old: sa.Row) -> sa.Row:
    """Everything a delete does inside its transaction: the rules that keep other rows
    right (a cable's endpoints), tags, the row, its change-log entry."""
    if (spec.type_key, old.id) in write.deleted:
        return old  # already gone with a row deleted before it (an inventory item's parent)
    write.deleted.add((spec.type_key, old.id))
    for before in rule_book().before_delete(spec.type_name):
        await before(write, spec, old)
    # Rows the database would remove with this one (a device's interfaces) go through this
    # same path first: each gets its change-log entry and its own rules (a cable's ends).
    for child_name, column in _cascading(spec.type_name):
        child_spec = spec_for(child_name)
        table = child_spec.table
        for child in (await write.conn.execute(sa.select(table).where(table.c[column] == old.id))).all():
            await delete_row(write, child_spec, child)
    # So do the rows that point at it by type and id (its contact assignments).
    for pointing in spec.object_reverse:
        source = spec_for(pointing.source)
        table = source.table
        kind, key = table.c[source.any_object.type_column], table.c[source.any_object.id_column]
        for row in (await write.conn.execute(sa.select(table).where(kind == spec.content_type, key == old.id))).all():
            await delete_row(write, source, row)
    item = table_of(TaggedItem)
    await write.conn.execute(sa.delete(item).where(item.c.object_type == spec.type_key, item.c.object_id == old.id))
    await write.conn.execute(sa.delete(spec.table).where(spec.table.c.id == old.id))
    await write.log(spec, ChangeAction.delete, old, None)
    return old


@cache
def _cascading(type_name: str) -> tuple[tuple[str, str], ...]:
    """(child model, column) of every reference to ``type_name`` that deletes with it,
    whether or not it has a reverse field (a cable termination's endpoint has none)."""
    return tuple(
        (child.type_name, column.name)
        for child in specs().values()
        for column in child.table.columns
        if (ref := column.info.get("ref")) is not None and ref.target == type_name and ref.ondelete == "CASCADE"
    )


def _first_line(error: Exception) -> str:
    orig = getattr(error, "orig", error)
    return str(orig).splitlines()[0] if str(orig) else type(orig).__name__


def _constraint(name: str | None) -> sa.Constraint | sa.Index | None:
    """The constraint or unique index the database named."""
    if not name:
        return None
    for table in Base.metadata.tables.values():
        candidates: list[sa.Constraint | sa.Index] = [*table.constraints, *table.indexes]
        for constraint in candidates:
            if constraint.name == name:
                return constraint
    return None


def _field_of(constraint: Any, column: str) -> str:
    """The input field a constrained column is written through."""
    table = getattr(constraint, "table", None)
    one_of = table.c[column].info.get("one_of") if table is not None and column in table.c else None
    return one_of or column.removesuffix("_id")


def integrity_error(error: IntegrityError) -> ApiError:
    """Map a database constraint violation to an error naming the field."""
    diag = getattr(error.orig, "diag", None)
    sqlstate = getattr(error.orig, "sqlstate", None)
    constraint = _constraint(getattr(diag, "constraint_name", None))
    columns = [c.name for c in getattr(constraint, "columns", [])] if constraint is not None else []
    # A member column of a one-of answers as the one-of's field (``member``, not ``member_circuit``).
    fields = [_field_of(constraint, c) for c in columns if c != "tenant_id"]
    if constraint is not None and constraint.info.get("field"):  # what the key declares a violation names
        fields = [f for f in fields if f != constraint.info["field"]] + [constraint.info["field"]]
    # The last column of a key is the one that tells rows apart ((tenant, vrf, prefix) → prefix).
    field_name = fields[-1] if fields else None
    if sqlstate == "23505":
        return Conflict(f"an object with the same {' and '.join(fields) or 'key'} already exists", field=field_name)
    if sqlstate == "23001":  # restrict_violation: ON DELETE RESTRICT refused to orphan rows
        table = getattr(diag, "table_name", None)
        return Conflict(f"the object is still referenced by {table or 'other objects'}; remove those first", field="id")
    if sqlstate == "23503":
        detail = getattr(diag, "message_detail", "") or ""
        if "still referenced" in detail:
            table = getattr(diag, "table_name", None)
            return Conflict(f"the object is still referenced by {table or 'other objects'}; remove those first", field=field_name)
        return NotFound(f"{field_name or 'reference'}: the referenced object does not exist in this tenant", field=field_name)
    if sqlstate == "23514" and constraint is not None and not isinstance(constraint, sa.CheckConstraint):
        # A trigger's refusal naming the key it guards (a tree's cycle, models/tree.py).
        return BadUserInput(f"{field_name}: {getattr(diag, 'message_primary', '')}", field=field_name)
    if sqlstate == "23514":
        return BadUserInput(f"value out of range ({getattr(diag, 'constraint_name', '')})", field=field_name)
    return BadUserInput(f"the database refused the value: {_first_line(error)}", field=field_name)
