"""A NetBox export into one Danbyte organisation (``danbyte netbox import``).

Four steps on one database connection:

1. **Stage.** The records stream into temporary tables (``COPY``): each landing record
   with the NetBox tenant it names, what it points at, and its tags. Python holds one
   record at a time; the export's order no longer matters (dumpdata writes tenants after
   the devices naming them).
2. **Organisation-wide objects.** Tenant groups, tenants and tags, matched by slug to the
   organisation's existing ones.
3. **Placement** (``placement.POLICY``), in SQL over the staging tables: every record's
   home tenant (its own, else inherited), then the tenants it must exist in (wherever
   something references it), to a fixed point.
4. **Rows**, model by model in reference order, page by page: each record converted
   (``convert.Converter``) once per tenant it exists in and upserted by its stable id,
   so a second run of the same export changes nothing and a newer export updates what
   changed. A reference that closes a cycle between models (a device's primary IP, an
   interface's parent) is written once every model is in. Then many-to-many rows, tags,
   and the numid counters, moved past NetBox's ids.

Model rules do not run (the export holds what they would derive) and nothing is logged
per object: NetBox's own change log is the history. Each page is committed by the CLI's
``checkpoint``; a killed import run again finds its committed rows unchanged and writes
the rest.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from models.auth import User
from models.base import table_of
from models.changelog import ObjectChange
from models.choices import ChangeAction
from models.numid import assign_missing_numids
from models.registry import Kind, ModelSpec, specs
from models.tenancy import Tenant
from netbox_import.convert import Converter, Ids, Row, Skip, key, parse_datetime, plain, stable_id
from netbox_import.dumpdata import ContentTypes, ExportError, Record, Usernames
from netbox_import.media import ATTACHMENT, store_images
from netbox_import.model_map import Disposition, plan
from netbox_import.placement import EVERYWHERE, SPREAD
from netbox_import.rewrites import rewritten
from netbox_import.summary import ModelCount, Summary
from resolvers.writes import integrity_error, with_natural_keys

Checkpoint = Callable[[], Awaitable[None]]
Progress = Callable[[str, int, int | None], None]  # (label, done, total)

KEPT = "netbox_<field>"  # how the definitions of kept fields are counted
MAX_PASSES = 64  # placement reaches its fixed point in as many passes as references chain


@dataclass
class Options:
    organization_id: uuid.UUID
    source: str = "netbox"  # names the NetBox: ids derive from it
    default_tenant: str = "default"  # slug of the tenant for what has none
    page: int = 2000
    media: Path | None = None  # NetBox's media directory: image attachments' files


@dataclass
class _Run:
    conn: AsyncConnection
    options: Options
    summary: Summary
    checkpoint: Checkpoint
    progress: Progress
    content_types: ContentTypes = field(default_factory=ContentTypes)
    usernames: Usernames = field(default_factory=Usernames)
    converters: dict[str, Converter] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # Danbyte model → the NetBox label landing in it
    ids: Ids = field(init=False)
    staging: set[str] = field(default_factory=set)  # staging tables made for the rows of a model
    later: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = Ids(self.options.source)

    def converter(self, label: str) -> Converter | None:
        found = self.converters.get(label)
        if found is None:
            model_plan = plan(label)
            spec = model_plan.spec
            if model_plan.disposition is not Disposition.model or spec is None:
                return None
            found = self.converters[label] = Converter(model_plan, spec, self.content_types, self.usernames, self.later.get(spec.type_name, frozenset()))
            self.labels.setdefault(spec.type_name, label)
        return found


async def _nothing() -> None:
    return None


def _quiet(label: str, done: int, total: int | None) -> None:
    return None


async def import_records(
    conn: AsyncConnection,
    records: Iterable[Record],
    options: Options,
    *,
    checkpoint: Checkpoint | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> Summary:
    """Import ``records`` (an export, read as a stream) into the organisation."""
    started = time.perf_counter()
    run = _Run(conn, options, Summary(options.source, dry_run=dry_run), checkpoint or _nothing, progress or _quiet)
    run.later = write_order()[1]
    await _create_stage(conn)
    await _stage(run, records)
    await _write_organisation(run)
    await _point_object_fields(run)
    await _place(run)
    order, _ = write_order()
    for model in order:
        if model in run.labels and model not in org_models():
            await _write_model(run, model)
    await _write_later(run)
    await _store_media(run)
    await _stage_memberships(run)
    await _write_many(run)
    await _write_tags(run)
    await _write_history(run)
    await _define_kept_fields(run)
    # Counters move past NetBox's ids; rows a rewrite made (a ≤ 4.1 interface's MAC address)
    # have no NetBox id and are numbered after them.
    await assign_missing_numids(conn, [specs()[model].table for model in order if specs()[model].numbered and model in run.labels])
    await _count(run)
    await run.checkpoint()
    run.summary.seconds = time.perf_counter() - started
    return run.summary


# --- the order models are written in ------------------------------------------------------


@functools.cache
def org_models() -> tuple[str, ...]:
    """Organisation-wide models (tenants, tenant groups, tags): written first, matched by slug."""
    return tuple(name for name, spec in specs().items() if spec.org_scoped)


@functools.cache
def write_order() -> tuple[list[str], dict[str, frozenset[str]]]:
    """Every Danbyte model in an order where each comes after what it references, and the
    columns written afterwards: references to the model itself (a region's parent) and
    optional ones that close a cycle (a device's primary IP → an interface → the device).

    Required references order the models strictly; among the models they allow next, one
    whose optional references are all written already goes first."""
    all_specs = specs()

    def dependencies(spec: ModelSpec) -> list[tuple[str, str, bool]]:
        found = [(ref.column, ref.target, ref.nullable) for ref in spec.refs if ref.name != "tenant"]
        # A required one-of is checked at insert (exactly one member set): its members order.
        found += [(column, target, one_of.nullable) for one_of in spec.one_of for target, column in one_of.members]
        return [dep for dep in found if dep[1] in all_specs]

    deps = {name: dependencies(spec) for name, spec in all_specs.items()}
    order: list[str] = []
    done: set[str] = set()
    later: dict[str, frozenset[str]] = {}
    remaining = [*org_models(), *sorted(set(all_specs) - set(org_models()))]
    while remaining:
        ready = [n for n in remaining if all(t in done or t == n for _, t, nullable in deps[n] if not nullable)]
        if not ready:
            raise RuntimeError(f"required references form a cycle among {', '.join(remaining)}")

        def pending(name: str) -> int:
            return sum(1 for _, t, _ in deps[name] if t not in done and t != name)

        pick = min(ready, key=lambda n: (pending(n), remaining.index(n)))
        deferred = frozenset(column for column, t, _ in deps[pick] if t not in done)
        if deferred:
            later[pick] = deferred
        order.append(pick)
        done.add(pick)
        remaining.remove(pick)
    return order, later


# --- 1. staging ---------------------------------------------------------------------------

STAGE = """
DISCARD TEMP;
CREATE TEMP TABLE nb_record (seq bigint, model text, pk text, label text, tenant text, home text, home_rank int, fields jsonb, PRIMARY KEY (model, pk));
CREATE TEMP TABLE nb_edge (model text, pk text, target text, target_pk text, rank int, owner bool, needs bool);
CREATE TEMP TABLE nb_place (model text, pk text, tenant text, PRIMARY KEY (model, pk, tenant));
CREATE TEMP TABLE nb_tagged (seq bigserial, model text, pk text, tag text);
CREATE TEMP TABLE nb_tag_rows (tag_id uuid, object_type text, object_id uuid, tenant_id uuid);
CREATE TEMP TABLE nb_ids (id uuid);
CREATE TEMP TABLE nb_member (model text, pk text, tbl text, target text, target_pk text);
CREATE TEMP TABLE nb_later (model text, col text, id uuid, target uuid);
CREATE TEMP TABLE nb_many (tbl text, local uuid, remote uuid, tenant uuid);
CREATE TEMP TABLE nb_written (id uuid PRIMARY KEY, model text, created bool, changed bool);
CREATE TEMP TABLE nb_history (seq bigint, pk text, label text, model text, object_pk text, fields jsonb)
"""


async def _create_stage(conn: AsyncConnection) -> None:
    for statement in STAGE.strip().split(";\n"):
        await conn.execute(sa.text(statement))


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda v: plain(v) if isinstance(v, Decimal) else str(v))


STAGED_RECORD = "nb_record (seq, model, pk, label, tenant, fields)"
STAGED_EDGE = "nb_edge (model, pk, target, target_pk, rank, owner, needs)"
STAGED_TAG = "nb_tagged (model, pk, tag)"
STAGED_HISTORY = "nb_history (seq, pk, label, model, object_pk, fields)"
STAGED_MEMBER = "nb_member (model, pk, tbl, target, target_pk)"
# Rows that are one entry of another object's many-to-many list: "Model.list" → (the
# record's field naming that object, its field naming the entry).
FOLDED_MANY = {"Contact.groups": ("contact", "group")}
BATCH = 5000  # staged rows per COPY


async def _stage(run: _Run, records: Iterable[Record]) -> None:
    raw = await run.conn.get_raw_connection()
    pg: Any = raw.driver_connection
    summary = run.summary
    batches: dict[str, list[tuple[Any, ...]]] = {STAGED_RECORD: [], STAGED_EDGE: [], STAGED_TAG: [], STAGED_HISTORY: [], STAGED_MEMBER: []}

    async def flush(everything: bool = False) -> None:
        for into, rows in batches.items():
            if rows and (everything or len(rows) >= BATCH):
                await _copy(pg, into, rows)
                rows.clear()

    seq = 0
    for record in records:
        seq += 1
        summary.objects += 1
        model_plan = plan(record.model)
        count = summary.model(record.model, model_plan.disposition.value, model_plan.target or model_plan.into)
        count.read += 1
        if seq % BATCH == 0:
            run.progress("reading", seq, None)
            await flush()
        if run.content_types.learn(record) or run.usernames.learn(record):
            continue
        if model_plan.disposition is Disposition.folded and model_plan.into == "tags":
            batches[STAGED_TAG].extend(_tagged(run, record))
            continue
        if model_plan.disposition is Disposition.history:
            batches[STAGED_HISTORY].append(_history(run, record))
            continue
        if model_plan.disposition is Disposition.folded and model_plan.into in FOLDED_MANY:
            staged = _membership(record, model_plan.into)
            if staged is None:
                count.dropped["a membership naming no object"] += 1
            else:
                batches[STAGED_MEMBER].append(staged)
                batches[STAGED_EDGE].append((staged[0], staged[1], staged[3], staged[4], None, False, True))
            continue
        if model_plan.disposition is not Disposition.model:
            continue
        if record.model == "extras.webhook" and "secret" not in record.fields:
            summary.secrets.append(f"webhook {record.fields.get('name')!r}: its signing secret (the source did not give it; set it with webhook_update)")
        for label, record_pk, fields in rewritten(record):
            converter = run.converter(label)
            assert converter is not None
            natural = converter.plan.natural_key
            pk = record_pk if record_pk is not None else fields.get(natural) if natural is not None else None
            if pk is None:
                count.dropped["no id and no natural key"] += 1
                continue
            if label != record.model:  # a record a rewrite made (a ≤ 4.4 front port's mapping)
                summary.model(label, Disposition.model.value, converter.model)
            batches[STAGED_RECORD].append((seq, converter.model, key(pk), label, converter.own_tenant(fields), _dumps(fields)))
            edges = batches[STAGED_EDGE]
            spread = converter.model in SPREAD
            try:
                for ref, rank, owner in converter.references(pk, fields):
                    edges.append((converter.model, key(pk), ref.target, ref.pk, None if spread else rank, owner, not spread))
                if spread:
                    edges.extend((converter.model, key(pk), "Tenant", tenant, None, False, False) for tenant in converter.tenants_named(fields))
                for owner_ref, via, rank in converter.child_references(fields):
                    edges.append((owner_ref.target, owner_ref.pk, via.target, via.pk, rank, False, False))
            except ExportError as error:  # an unreadable reference: the row step refuses the record with the reason
                count.left_out[f"references: {error}"] += 1
    await flush(everything=True)
    await run.conn.execute(sa.text("CREATE INDEX ON nb_edge (model, pk)"))
    await run.conn.execute(sa.text("CREATE INDEX ON nb_edge (target, target_pk)"))
    await run.conn.execute(sa.text("ANALYZE nb_record, nb_edge, nb_tagged"))
    run.progress("reading", seq, seq)


async def _copy(pg: Any, into: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    async with pg.cursor() as cursor:
        async with cursor.copy(f"COPY {into} FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row)


def _history(run: _Run, record: Record) -> tuple[Any, ...]:
    """A change-log entry, staged with the Danbyte model and NetBox id of its object."""
    fields = record.fields
    label = run.content_types.label(fields.get("changed_object_type"), where=f"{record.model} object {record.index}")
    target = plan(label) if label else None
    model = target.target if target is not None and target.spec is not None else None
    return (record.index, key(record.pk), label, model, key(fields.get("changed_object_id")), _dumps(fields))


def _membership(record: Record, into: str) -> tuple[str, str, str, str, str] | None:
    """(model, pk, association table, target model, target pk) of a membership row."""
    model, name = into.split(".")
    owner_field, entry_field = FOLDED_MANY[into]
    relation = next(m for m in specs()[model].many if m.name == name)
    owner, entry = record.fields.get(owner_field), record.fields.get(entry_field)
    if owner is None or entry is None:
        return None
    return model, key(owner), relation.table, relation.target, key(entry)


def _tagged(run: _Run, record: Record) -> list[tuple[str, str, str]]:
    fields = record.fields
    label = run.content_types.label(fields.get("content_type"), where=f"{record.model} object {record.index}")
    target = plan(label) if label else None
    count = run.summary.models[record.model]
    if target is None or target.spec is None or not target.spec.tagged:
        count.dropped[f"a tag on {label}, which has no tags here"] += 1
        return []
    tag = fields.get("tag")
    return [(target.spec.type_name, key(fields.get("object_id")), key(tag[0] if isinstance(tag, list) and len(tag) == 1 else tag))]


# --- 2. tenants, tenant groups, tags ------------------------------------------------------


async def _write_organisation(run: _Run) -> None:
    """Organisation-wide objects, matched to existing ones by slug (a tag by name too)."""
    org = run.options.organization_id
    for model in [name for name in write_order()[0] if name in org_models()]:
        label = run.labels.get(model)
        table = specs()[model].table
        existing = {row.slug: row.id for row in await run.conn.execute(sa.select(table.c.slug, table.c.id).where(table.c.org_id == org))}
        if label is None:
            continue
        converter = run.converters[label]
        rows = (await run.conn.execute(sa.text("SELECT pk, fields FROM nb_record WHERE model = :m ORDER BY seq"), {"m": model})).all()
        for pk, fields in rows:
            slug = fields.get("slug")
            run.ids.org[(model, pk)] = existing.get(slug) or stable_id(run.options.source, model, pk, org)
        parents: list[tuple[uuid.UUID, Any]] = []
        for pk, fields in rows:
            row = _converted(run, converter, model, pk, fields, None)
            if row is None:
                continue
            values = {**row.values, "id": run.ids.org[(model, pk)], "org_id": org}
            parent = values.pop("parent_id", None)
            if parent is not None:
                parents.append((values["id"], parent))
            await _upsert(run, specs()[model], [values], exclude=("parent_id",))
            if model == "Tenant":
                run.summary.tenants[values["slug"]] = "existing" if values["slug"] in existing else "created"
            await run.conn.execute(sa.text("INSERT INTO nb_ids VALUES (:id)"), {"id": values["id"]})
        for child, parent in parents:
            await run.conn.execute(sa.update(table).where(table.c.id == child).values(parent_id=parent))
    # Tenant keys: a NetBox tenant's pk, and "" for the default tenant.
    tenants = table_of(Tenant)
    for pk, _ in (await run.conn.execute(sa.text("SELECT pk, fields FROM nb_record WHERE model = 'Tenant'"))).all():
        run.ids.tenants[pk] = run.ids.org[("Tenant", pk)]
    slug = run.options.default_tenant
    found = (await run.conn.execute(sa.select(tenants.c.id).where(tenants.c.org_id == org, tenants.c.slug == slug))).scalar_one_or_none()
    if found is None:
        found = stable_id(run.options.source, "Tenant", "default", org)
        await run.conn.execute(pg_insert(tenants).values(id=found, org_id=org, name=slug, slug=slug).on_conflict_do_nothing())
        run.summary.tenants[slug] = "created (default)"
    else:
        run.summary.tenants.setdefault(slug, "existing (default)")
    run.ids.tenants[""] = found
    users = table_of(User)
    run.ids.users = {row.username: row.id for row in await run.conn.execute(sa.select(users.c.username, users.c.id).where(users.c.org_id == org))}
    await run.checkpoint()


async def _point_object_fields(run: _Run) -> None:
    """NetBox's object custom fields: their values are references too (the object must
    exist in the tenant of the object holding the value)."""
    rows = (await run.conn.execute(sa.text("SELECT fields FROM nb_record WHERE model = 'CustomField'"))).scalars().all()
    for fields in rows:
        if fields.get("type") not in ("object", "multiobject"):
            continue
        related = fields.get("related_object_type", fields.get("object_type"))
        try:
            label = run.content_types.label(related)
        except ExportError:
            continue
        target = plan(label).target if label else None
        if target is None or specs()[target].org_scoped:
            continue
        run.ids.object_fields[str(fields.get("name"))] = target
        await run.conn.execute(
            sa.text("""
            INSERT INTO nb_edge (model, pk, target, target_pk, rank, owner, needs)
            SELECT r.model, r.pk, :target, v.value, NULL, false, true FROM nb_record r
            CROSS JOIN LATERAL (
                SELECT r.fields->'custom_field_data'->>:name AS value WHERE jsonb_typeof(r.fields->'custom_field_data'->:name) IN ('number', 'string')
                UNION ALL
                SELECT jsonb_array_elements_text(r.fields->'custom_field_data'->:name) WHERE jsonb_typeof(r.fields->'custom_field_data'->:name) = 'array'
            ) v
            WHERE r.fields ? 'custom_field_data'
            """),
            {"target": target, "name": fields.get("name")},
        )


# --- 3. placement -------------------------------------------------------------------------


async def _place(run: _Run) -> None:
    conn = run.conn

    async def until_done(statement: str) -> None:
        for _ in range(MAX_PASSES):
            if (await conn.execute(sa.text(statement))).rowcount == 0:
                return
        raise RuntimeError("placement did not settle")

    # A NetBox tenant that is the default tenant too is one key.
    default_key = next((pk for pk, tenant_id in run.ids.tenants.items() if pk and tenant_id == run.ids.tenants[""]), "")
    await conn.execute(sa.text("UPDATE nb_record SET home = tenant, home_rank = -1 WHERE tenant IS NOT NULL"))
    # Homes: the best-ranked reference that has one (owners rank 0), until nothing moves.
    await until_done(
        """
        UPDATE nb_record r SET home = best.home, home_rank = best.rank FROM (
            SELECT DISTINCT ON (e.model, e.pk) e.model, e.pk, t.home, e.rank
            FROM nb_edge e JOIN nb_record t ON t.model = e.target AND t.pk = e.target_pk
            WHERE e.rank IS NOT NULL AND t.home IS NOT NULL
            ORDER BY e.model, e.pk, e.rank, t.home
        ) best
        WHERE r.model = best.model AND r.pk = best.pk AND (r.home_rank IS NULL OR r.home_rank >= 0)
          AND (r.home_rank IS NULL OR best.rank < r.home_rank OR (best.rank = r.home_rank AND best.home IS DISTINCT FROM r.home))
        """
    )
    organisation_wide = "(" + ", ".join(f"'{m}'" for m in org_models()) + ")"
    await conn.execute(sa.text(f"INSERT INTO nb_place SELECT model, pk, home FROM nb_record WHERE home IS NOT NULL AND model NOT IN {organisation_wide}"))
    closure = """
        INSERT INTO nb_place (model, pk, tenant)
        SELECT e.target, e.target_pk, p.tenant FROM nb_edge e
        JOIN nb_place p ON p.model = e.model AND p.pk = e.pk
        JOIN nb_record t ON t.model = e.target AND t.pk = e.target_pk
        WHERE e.needs
        UNION
        SELECT e.model, e.pk, p.tenant FROM nb_edge e
        JOIN nb_record r ON r.model = e.model AND r.pk = e.pk AND r.home IS NULL
        JOIN nb_place p ON p.model = e.target AND p.pk = e.target_pk
        WHERE e.owner
        ON CONFLICT DO NOTHING
    """
    await until_done(closure)
    spread = "(" + ", ".join(f"'{m}'" for m in sorted(SPREAD)) + ")"
    await conn.execute(
        sa.text(f"""
        INSERT INTO nb_place
        SELECT DISTINCT e.model, e.pk, CASE WHEN e.target = 'Tenant' THEN e.target_pk ELSE p.tenant END FROM nb_edge e
        LEFT JOIN nb_place p ON p.model = e.target AND p.pk = e.target_pk
        WHERE e.model IN {spread} AND (e.target = 'Tenant' OR p.tenant IS NOT NULL)
        ON CONFLICT DO NOTHING
        """)
    )
    everywhere = "(" + ", ".join(f"'{m}'" for m in sorted(EVERYWHERE)) + ")"
    await conn.execute(
        sa.text(f"""
        INSERT INTO nb_place SELECT r.model, r.pk, t.tenant FROM nb_record r
        CROSS JOIN (SELECT DISTINCT tenant FROM nb_place UNION SELECT :default) t
        WHERE (r.model IN {everywhere} OR r.model IN {spread} AND NOT EXISTS (SELECT 1 FROM nb_edge e WHERE e.model = r.model AND e.pk = r.pk))
        ON CONFLICT DO NOTHING
        """),
        {"default": default_key},
    )
    await until_done(closure)
    await conn.execute(
        sa.text(f"""
        INSERT INTO nb_place SELECT r.model, r.pk, :default FROM nb_record r
        WHERE r.model NOT IN {organisation_wide} AND NOT EXISTS (SELECT 1 FROM nb_place p WHERE p.model = r.model AND p.pk = r.pk)
        """),
        {"default": default_key},
    )
    await until_done(closure)
    if default_key:
        run.ids.tenants[""] = run.ids.tenants[default_key]
    await conn.execute(sa.text("ANALYZE nb_place"))
    copies = await conn.execute(
        sa.text("""
        SELECT r.label, p.pk, p.tenant, r.home, r.fields->>'name' AS name FROM nb_place p JOIN nb_record r USING (model, pk)
        WHERE r.home IS NOT NULL AND p.tenant <> r.home ORDER BY r.label, p.pk
        """)
    )
    slugs = await _tenant_slugs(run)
    for label, pk, tenant, home, name in copies:
        run.summary.copies.append({"label": label, "pk": pk, "display": name or "", "from": slugs.get(home, home), "into": slugs.get(tenant, tenant)})
        run.summary.models[label].copies += 1


async def _tenant_slugs(run: _Run) -> dict[str, str]:
    tenants = table_of(Tenant)
    by_id = {row.id: row.slug for row in await run.conn.execute(sa.select(tenants.c.id, tenants.c.slug).where(tenants.c.org_id == run.options.organization_id))}
    return {key_: by_id.get(tenant_id, str(tenant_id)) for key_, tenant_id in run.ids.tenants.items()}


# --- 4. rows ------------------------------------------------------------------------------


def _converted(run: _Run, converter: Converter, model: str, pk: str, fields: dict[str, Any], tenant: str | None) -> Row | None:
    """The row, or None with the reason counted as dropped."""
    count = run.summary.models[converter.plan.label]
    try:
        # Organisation-wide rows (tenant None) point only at organisation-wide rows.
        row = converter.row(_pk(pk), fields, tenant if tenant is not None else "", run.ids)
    except Skip as skip:
        count.dropped[str(skip)] += 1
        return None
    for note, n in row.notes.items():
        count.left_out[note] += n
    return row


def _pk(pk: str) -> Any:
    return int(pk) if pk.isdigit() else pk


async def _write_model(run: _Run, model: str) -> None:
    spec = specs()[model]
    label = run.labels[model]
    converter = run.converters[label]
    total = (await run.conn.execute(sa.text("SELECT count(*) FROM nb_place WHERE model = :m"), {"m": model})).scalar_one()
    done, last = 0, (-1, "")
    page = run.options.page
    while True:
        rows = (
            await run.conn.execute(
                sa.text("""
                SELECT r.seq, r.pk, r.fields, p.tenant FROM nb_place p JOIN nb_record r USING (model, pk)
                WHERE p.model = :m AND (r.seq, p.tenant) > (:seq, :tenant) ORDER BY r.seq, p.tenant LIMIT :n
                """),
                {"m": model, "seq": last[0], "tenant": last[1], "n": page},
            )
        ).all()
        if not rows:
            break
        last = (rows[-1].seq, rows[-1].tenant)
        values: list[dict[str, Any]] = []
        later: list[tuple[str, str, uuid.UUID, uuid.UUID]] = []
        many: list[tuple[str, uuid.UUID, uuid.UUID, uuid.UUID]] = []
        for _, pk, fields, tenant in rows:
            row = _converted(run, converter, model, pk, fields, tenant)
            if row is None:
                continue
            object_id = run.ids.of(model, pk, tenant)
            tenant_id = run.ids.tenants[tenant]
            values.append({**row.values, "id": object_id, "tenant_id": tenant_id})
            later.extend((model, column, object_id, target) for column, target in row.later.items())
            many.extend((table, object_id, remote, tenant_id) for table, remotes in row.many.items() for remote in dict.fromkeys(remotes))
        await _upsert(run, spec, values)
        raw = await run.conn.get_raw_connection()
        await _copy(raw.driver_connection, "nb_later (model, col, id, target)", later)
        await _copy(raw.driver_connection, "nb_many (tbl, local, remote, tenant)", many)
        await _copy(raw.driver_connection, "nb_ids (id)", [(v["id"],) for v in values])
        done += len(rows)
        run.progress(label, done, total)
        await run.checkpoint()


async def _upsert(run: _Run, spec: ModelSpec, rows: list[dict[str, Any]], exclude: tuple[str, ...] = (), counted_as: str | None = None) -> None:
    """Insert new rows and update changed ones, by id; note which were created or changed.
    A batch that breaks a constraint is written again row by row, and the offending rows
    are dropped with the reason."""
    if not rows:
        return
    shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(frozenset(row), []).append(with_natural_keys(spec, row))
    await _staging_table(run, spec)  # made outside the savepoints below, which may roll back
    for group in shapes.values():
        # A sealed secret differs each time it is sealed: set when the row is created only.
        columns = [c for c in group[0] if c not in ("id", "tenant_id", "org_id") and c not in exclude and c not in spec.secret_names]
        size = run.options.page
        for start in range(0, len(group), size):
            chunk = group[start : start + size]
            try:
                async with run.conn.begin_nested():
                    await _upsert_copied(run, spec, chunk, columns, counted_as or spec.type_name)
            except (IntegrityError, DBAPIError):
                for row in chunk:
                    try:
                        async with run.conn.begin_nested():
                            await _upsert_copied(run, spec, [row], columns, counted_as or spec.type_name)
                    except IntegrityError as error:
                        _drop(run, spec, integrity_error(error).message)
                    except DBAPIError as error:
                        _drop(run, spec, str(error.orig).splitlines()[0])


def _drop(run: _Run, spec: ModelSpec, reason: str) -> None:
    label = run.labels.get(spec.type_name, spec.type_name)
    run.summary.models[label].dropped[reason] += 1


async def _staging_table(run: _Run, spec: ModelSpec) -> None:
    """The table rows of ``spec`` are copied into before their upsert: the target's shape,
    with no constraints and no defaults (every row gives the columns copied)."""
    staging = f"nb_rows_{spec.table.name}"
    if staging not in run.staging:
        await run.conn.execute(sa.text(f'CREATE TEMP TABLE "{staging}" AS SELECT * FROM "{spec.table.name}" WITH NO DATA'))
        run.staging.add(staging)


async def _upsert_copied(run: _Run, spec: ModelSpec, rows: list[dict[str, Any]], columns: list[str], counted_as: str) -> None:
    """Rows (of one shape) upserted by id: copied into the staging table, then one INSERT …
    SELECT that updates a row only where ``columns`` differ (a VALUES list of thousands of
    rows costs more to build and parse than to run); created and changed ids are noted."""
    table = spec.table.name
    staging = f"nb_rows_{table}"
    await run.conn.execute(sa.text(f'TRUNCATE "{staging}"'))
    given = list(rows[0])
    json_columns = {s.name for s in spec.scalars if s.kind is Kind.json}
    raw = await run.conn.get_raw_connection()
    listed = ", ".join(f'"{c}"' for c in given)
    await _copy(
        raw.driver_connection,
        f'"{staging}" ({listed})',
        [tuple(Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c] for c in given) for row in rows],
    )
    if columns:
        current = ", ".join(f't."{c}"' for c in columns)
        incoming = ", ".join(f'excluded."{c}"' for c in columns)
        assignments = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
        conflict = f"ON CONFLICT (id) DO UPDATE SET {assignments} WHERE ROW({current}) IS DISTINCT FROM ROW({incoming})"
    else:
        conflict = "ON CONFLICT (id) DO NOTHING"
    await run.conn.execute(
        sa.text(f"""
        WITH up AS (
            INSERT INTO "{table}" AS t ({listed}) SELECT {listed} FROM "{staging}" {conflict}
            RETURNING t.id, (t.xmax = 0) AS created
        )
        INSERT INTO nb_written (id, model, created, changed) SELECT id, :m, created, NOT created FROM up
        ON CONFLICT (id) DO UPDATE SET changed = true
        """),
        {"m": counted_as},
    )


async def _write_later(run: _Run) -> None:
    """References written once every model is in: set where the target exists."""
    pairs = (await run.conn.execute(sa.text("SELECT DISTINCT model, col FROM nb_later ORDER BY model, col"))).all()
    for model, column in pairs:
        spec = specs()[model]
        target_table = _target_table(spec, column)
        await run.conn.execute(
            sa.text(f"""
            WITH changed AS (
                UPDATE "{spec.table.name}" t SET "{column}" = l.target FROM nb_later l
                WHERE l.model = :m AND l.col = :c AND t.id = l.id AND t."{column}" IS DISTINCT FROM l.target
                  AND EXISTS (SELECT 1 FROM "{target_table}" x WHERE x.id = l.target)
                RETURNING t.id
            )
            INSERT INTO nb_written (id, model, created, changed) SELECT id, :m, false, true FROM changed
            ON CONFLICT (id) DO UPDATE SET changed = nb_written.changed OR NOT nb_written.created
            """),
            {"m": model, "c": column},
        )
        missing = (
            await run.conn.execute(
                sa.text(
                    f'SELECT count(*) FROM nb_later l WHERE l.model = :m AND l.col = :c AND NOT EXISTS (SELECT 1 FROM "{target_table}" x WHERE x.id = l.target)'
                ),
                {"m": model, "c": column},
            )
        ).scalar_one()
        if missing:
            run.summary.models[run.labels[model]].left_out[f"{column}: points at an object that was not imported"] += missing
    await run.checkpoint()


def _target_table(spec: ModelSpec, column: str) -> str:
    for ref in spec.refs:
        if ref.column == column:
            return specs()[ref.target].table.name
    for one_of in spec.one_of:
        for target, member in one_of.members:
            if member == column:
                return specs()[target].table.name
    raise KeyError(column)


async def _store_media(run: _Run) -> None:
    """Image attachments' files, read from NetBox's media directory (``media.py``)."""
    label = run.labels.get(ATTACHMENT)
    if label is None:
        return
    rows = (
        await run.conn.execute(
            sa.text("SELECT r.pk, r.fields->>'image', p.tenant FROM nb_place p JOIN nb_record r USING (model, pk) WHERE p.model = :m"), {"m": ATTACHMENT}
        )
    ).all()
    images = [(run.ids.of(ATTACHMENT, pk, tenant), run.ids.tenants[tenant], name) for pk, name, tenant in rows if name]
    for reason, n in (await store_images(run.conn, images, run.options.media)).items():
        run.summary.models[label].left_out[reason] += n
    await run.checkpoint()


async def _stage_memberships(run: _Run) -> None:
    """Membership rows (NetBox 4.3.0's contact groups) as entries of their object's list,
    in every tenant the object exists in."""
    rows = (
        await run.conn.execute(sa.text("SELECT m.model, m.pk, m.tbl, m.target, m.target_pk, p.tenant FROM nb_member m JOIN nb_place p USING (model, pk)"))
    ).all()
    entries = [
        (table, run.ids.of(model, pk, tenant), run.ids.of(target, target_pk, tenant), run.ids.tenants[tenant])
        for model, pk, table, target, target_pk, tenant in rows
    ]
    raw = await run.conn.get_raw_connection()
    await _copy(raw.driver_connection, "nb_many (tbl, local, remote, tenant)", entries)
    label = next((lbl for lbl, c in run.summary.models.items() if c.disposition == Disposition.folded.value and c.target in FOLDED_MANY), None)
    if label is not None:
        run.summary.models[label].created += len(entries)


async def _write_many(run: _Run) -> None:
    """Many-to-many rows: added where missing, and removed where the export no longer has
    them (for the objects this import wrote)."""
    tables = [row[0] for row in await run.conn.execute(sa.text("SELECT DISTINCT tbl FROM nb_many"))]
    relations = {m.table: m for spec in specs().values() for m in spec.many}
    touched = {m.table for spec in specs().values() if spec.type_name in run.labels for m in spec.many}
    for name in sorted(set(tables) | touched):
        relation = relations[name]
        await run.conn.execute(
            sa.text(f"""
            INSERT INTO "{name}" (tenant_id, "{relation.local}", "{relation.remote}")
            SELECT m.tenant, m.local, m.remote FROM nb_many m
            WHERE m.tbl = :t AND EXISTS (SELECT 1 FROM "{specs()[relation.target].table.name}" x WHERE x.id = m.remote)
            ON CONFLICT DO NOTHING
            """),
            {"t": name},
        )
        owner = next(s for s in specs().values() if any(m.table == name for m in s.many))
        await run.conn.execute(
            sa.text(f"""
            DELETE FROM "{name}" a USING "{owner.table.name}" o
            WHERE a."{relation.local}" = o.id AND o.id IN (SELECT id FROM nb_ids)
              AND NOT EXISTS (SELECT 1 FROM nb_many m WHERE m.tbl = :t AND m.local = a."{relation.local}" AND m.remote = a."{relation.remote}")
            """),
            {"t": name},
        )
    await run.checkpoint()


async def _write_tags(run: _Run) -> None:
    """Tag assignments for every tenant each tagged object exists in; an imported object's
    tags the export no longer gives are removed."""
    count = run.summary.models.get("extras.taggeditem")
    raw = await run.conn.get_raw_connection()
    last = 0
    while True:
        page = (
            await run.conn.execute(
                sa.text(
                    "SELECT t.seq, t.model, t.pk, t.tag, p.tenant FROM nb_tagged t LEFT JOIN nb_place p USING (model, pk) WHERE t.seq > :last ORDER BY t.seq LIMIT :n"
                ),
                {"last": last, "n": run.options.page},
            )
        ).all()
        if not page:
            break
        last = page[-1].seq
        rows = []
        for _, model, pk, tag, tenant in page:
            tag_id = run.ids.org_id("Tag", tag)
            if tag_id is None:
                if count is not None:
                    count.dropped[f"tag {tag} is not in the export"] += 1
                continue
            spec = specs()[model]
            if spec.org_scoped:  # a tenant's own tags (the only organisation-wide model with tags)
                object_id = run.ids.org_id(model, pk)
                row = (tag_id, spec.type_key, object_id, object_id) if object_id is not None else None
            else:
                row = (tag_id, spec.type_key, run.ids.of(model, pk, tenant), run.ids.tenants[tenant]) if tenant is not None else None
            if row is None:
                if count is not None:
                    count.dropped[f"a tag on {model} {pk}, which is not in the export"] += 1
                continue
            rows.append(row)
        await _copy(raw.driver_connection, "nb_tag_rows (tag_id, object_type, object_id, tenant_id)", rows)
    created = (
        await run.conn.execute(
            sa.text("""
            WITH added AS (
                INSERT INTO tagged_item (tag_id, object_type, object_id, tenant_id) SELECT DISTINCT tag_id, object_type, object_id, tenant_id FROM nb_tag_rows
                ON CONFLICT DO NOTHING RETURNING 1
            ) SELECT count(*) FROM added
            """)
        )
    ).scalar_one()
    total = (await run.conn.execute(sa.text("SELECT count(DISTINCT (tag_id, object_id)) FROM nb_tag_rows"))).scalar_one()
    removed = (
        await run.conn.execute(
            sa.text("""
            WITH gone AS (
                DELETE FROM tagged_item ti WHERE ti.object_id IN (SELECT id FROM nb_ids)
                AND NOT EXISTS (SELECT 1 FROM nb_tag_rows d WHERE d.object_id = ti.object_id AND d.tag_id = ti.tag_id)
                RETURNING 1
            ) SELECT count(*) FROM gone
            """)
        )
    ).scalar_one()
    if count is not None:
        count.created += created
        count.unchanged += total - created
        if removed:
            count.left_out["tags removed from objects (the export no longer has them)"] += removed
    await run.checkpoint()


async def _define_kept_fields(run: _Run) -> None:
    """A custom field for each NetBox field kept as ``netbox_<field>`` (fields with no
    Danbyte home yet), in every tenant holding objects of those types: the values can be
    read, filtered and edited like any custom field's."""
    if not run.ids.kept:
        return
    spec = specs()["CustomField"]
    tenants = [row[0] for row in await run.conn.execute(sa.text("SELECT DISTINCT tenant FROM nb_place"))]
    rows = []
    for name, (models, structured) in sorted(run.ids.kept.items()):
        object_types = sorted(specs()[model].content_type for model in models)
        for tenant in tenants:
            rows.append(
                {
                    "id": stable_id(run.options.source, "CustomField", name, run.ids.tenants[tenant]),
                    "tenant_id": run.ids.tenants[tenant],
                    "name": name,
                    "label": name.removeprefix("netbox_").replace("_", " ").capitalize() + " (NetBox)",
                    "type": "json" if structured else "text",
                    "object_types": object_types,
                    "description": "Kept by the NetBox import: a NetBox field with no Danbyte home yet",
                    "ui_editable": "no",
                }
            )
    existing = {
        (row.tenant_id, row.name): row.id
        for row in await run.conn.execute(
            sa.select(spec.table.c.tenant_id, spec.table.c.name, spec.table.c.id).where(spec.table.c.tenant_id.in_([r["tenant_id"] for r in rows]))
        )
    }
    # A field of that name defined by hand is left as it is.
    rows = [row for row in rows if existing.get((row["tenant_id"], row["name"]), row["id"]) == row["id"]]
    await _upsert(run, spec, rows, counted_as=KEPT)
    created, updated = (
        await run.conn.execute(
            sa.text("SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE changed AND NOT created) FROM nb_written WHERE model = :m"), {"m": KEPT}
        )
    ).one()
    count = run.summary.model("(fields kept as custom fields)", Disposition.model.value, "CustomField")
    count.created, count.updated, count.unchanged = created, updated, len(rows) - created - updated


async def _write_history(run: _Run) -> None:
    """NetBox's change log as this organisation's, with NetBox's times, users and
    snapshots: each entry on the object's row in its home tenant (a deleted object's
    tenant is the one its last snapshot names)."""
    changes = table_of(ObjectChange)
    last = -1
    while True:
        page = (
            await run.conn.execute(
                sa.text("""
                SELECT h.seq, h.pk, h.label, h.model, h.object_pk, h.fields,
                       (SELECT p.tenant FROM nb_place p JOIN nb_record r USING (model, pk)
                        WHERE p.model = h.model AND p.pk = h.object_pk ORDER BY p.tenant IS NOT DISTINCT FROM r.home DESC, p.tenant LIMIT 1) AS tenant
                FROM nb_history h WHERE h.seq > :last ORDER BY h.seq LIMIT :n
                """),
                {"last": last, "n": run.options.page},
            )
        ).all()
        if not page:
            break
        last = page[-1].seq
        count = run.summary.models[_history_label(run)]
        rows = [entry for item in page if (entry := _change_entry(run, count, item)) is not None]
        if rows:
            result = await run.conn.execute(pg_insert(changes).values(rows).on_conflict_do_nothing(index_elements=["id"]).returning(changes.c.id))
            created = len(result.all())
        else:
            created = 0
        count.created += created
        count.unchanged += len(rows) - created
        await run.checkpoint()


def _history_label(run: _Run) -> str:
    return next(label for label, count in run.summary.models.items() if count.disposition == Disposition.history.value)


def _change_entry(run: _Run, count: ModelCount, item: Any) -> dict[str, Any] | None:
    fields = item.fields
    if item.model is None:
        count.left_out[f"a change of {item.label}, which is not imported"] += 1
        return None
    spec = specs()[item.model]
    tenant = item.tenant
    if tenant is None:  # the object is gone: its snapshot names its tenant, if any
        snapshot = fields.get("postchange_data") or fields.get("prechange_data") or {}
        named = snapshot.get("tenant") if isinstance(snapshot, dict) else None
        tenant = str(named) if named is not None and str(named) in run.ids.tenants else ""
    if spec.org_scoped:
        object_id = run.ids.org_id(item.model, item.object_pk) or stable_id(run.options.source, item.model, item.object_pk, run.options.organization_id)
        tenant_id = object_id if item.model == "Tenant" else None
    else:
        object_id = run.ids.of(item.model, item.object_pk, tenant)
        tenant_id = run.ids.tenants[tenant]
    try:
        username = run.usernames.name(fields.get("user"))
        request_id = uuid.UUID(str(fields.get("request_id")))
        when = parse_datetime(str(fields.get("time")))
    except (ExportError, ValueError) as error:
        count.dropped[f"unreadable entry: {error}"] += 1
        return None
    before = fields.get("prechange_data")
    after = fields.get("postchange_data", fields.get("object_data"))
    changed = sorted(k for k in set(before or {}) | set(after or {}) if (before or {}).get(k) != (after or {}).get(k) and k != "last_updated")
    action = str(fields.get("action", ""))
    if action not in {a.value for a in ChangeAction}:
        count.dropped[f"action {action!r} is not create, update or delete"] += 1
        return None
    return {
        "id": stable_id(run.options.source, "ObjectChange", item.pk),
        "org_id": run.options.organization_id,
        "tenant_id": tenant_id,
        "audience": spec.model.__audience__,
        "time": when,
        "user_id": run.ids.users.get(username) if username else None,
        "user_name": (fields.get("user_name") or username or "")[:150],
        "request_id": request_id,
        "action": ChangeAction(action),
        "object_type": spec.type_key,
        "object_id": object_id,
        "object_numid": int(item.object_pk) if spec.numbered and item.object_pk.isdigit() else None,
        "object_repr": str(fields.get("object_repr", ""))[:200],
        "prechange_data": before,
        "postchange_data": after,
        "changed_fields": changed[:200],
    }


async def _count(run: _Run) -> None:
    """created / updated / unchanged per model, from what the upserts reported."""
    placed: dict[str, int] = dict((await run.conn.execute(sa.text("SELECT model, count(*) FROM nb_place GROUP BY model"))).all())
    written = (
        await run.conn.execute(
            sa.text("SELECT model, count(*) FILTER (WHERE created), count(*) FILTER (WHERE changed AND NOT created) FROM nb_written GROUP BY model")
        )
    ).all()
    by_model = {model: (created, updated) for model, created, updated in written}
    org_rows: dict[str, int] = dict((await run.conn.execute(sa.text("SELECT model, count(*) FROM nb_record GROUP BY model"))).all())
    for model, label in run.labels.items():
        count = run.summary.models[label]
        created, updated = by_model.get(model, (0, 0))
        total = placed.get(model, org_rows.get(model, 0) if model in org_models() else 0)
        count.created, count.updated = created, updated
        count.unchanged = max(0, total - created - updated - sum(count.dropped.values()))
