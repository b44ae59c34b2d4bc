"""Device types and module types from the community device-type library
(``danbyte devicetypes import PATH... --tenant SLUG``).

The library keeps one YAML file per type, ``device-types/<Manufacturer>/*.yaml`` and
``module-types/<Manufacturer>/*.yaml``, and its JSON schemas in ``schema/`` at its root.
Each file is read, checked against that schema, and written in one transaction through
the write path (resolvers/writes.py), so every permission check, model rule, row-level
security policy and change-log entry applies as for a GraphQL mutation. A refused file
writes nothing and the run goes on with the next.

A file is the truth for the fields it may carry: importing it again writes nothing; an
edited file updates its type, and its templates matched by name per kind (missing ones
created, changed fields updated, ones no longer in the file deleted). A field the library
defines but a file leaves out gets Danbyte's default. Fields the library does not define
(a device type's ``default_platform``, an interface template's ``bridge``) are left alone;
the few *extras* below are copied when a file carries them and otherwise left alone too.

What the keys become:

- device type: ``manufacturer`` (a name: found in the tenant by name or slug, else
  created), ``model``, ``slug``, ``part_number``, ``u_height``, ``is_full_depth``,
  ``airflow``, ``subdevice_role``, ``weight``, ``weight_unit``, ``description``,
  ``comments``; extra: ``exclude_from_utilization``.
- module type: ``manufacturer``, ``model``, ``part_number``, ``weight``, ``weight_unit``,
  ``description``, ``comments``; extra: ``airflow``.
- component lists → templates, same field names (see ``KINDS``). ``power_port`` of a power
  outlet and ``rear_port`` of a front port name a port of the same file; a front port
  becomes a FrontPortTemplate plus a PortTemplateMapping (front position 1 ↔
  ``rear_port_position``, default 1), as NetBox 4.6 models it. An inventory item's
  ``manufacturer`` is a name, like the type's.

Ignored without a word: ``front_image``, ``rear_image`` (flags saying the library has
pictures; Danbyte stores none). Reported as not mapped, never refused: ``is_powered`` (the
library's marker for types that need no power port; Danbyte has no such field), ``poe``
on console ports, console server ports and rear ports (no such field on those
templates), ``weight`` / ``weight_unit`` on module bays (bays have no weight), and any key
a newer library adds.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
import yaml
from jsonschema import Draft7Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy.exc import IntegrityError

from danbyte.settings import get_settings
from models.registry import ModelSpec, spec_for
from permissions.principal import Principal
from resolvers.context import Database, EventSink, RequestContext
from resolvers.errors import ApiError, BadUserInput
from resolvers.writes import Write, delete_row, insert_object, integrity_error, prepare_create, require, run_write, update_object

# The change log's user name for what this importer writes.
IMPORTER = "devicetypes import (cli)"
IMAGE_FLAGS = frozenset({"front_image", "rear_image"})
STATUSES = ("created", "updated", "unchanged", "refused")


# --- what a file's keys become ------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """A kind of file: the model it becomes and the fields it carries."""

    directory: str  # the library folder: "device-types"
    model: str
    field: str  # what a template calls its owner: "device_type"
    fields: tuple[str, ...]
    extras: tuple[str, ...] = ()
    schema: str = ""  # the library's schema file


OWNERS = {
    owner.directory: owner
    for owner in (
        Owner(
            "device-types",
            "DeviceType",
            "device_type",
            ("model", "slug", "part_number", "u_height", "is_full_depth", "airflow", "subdevice_role", "weight", "weight_unit", "description", "comments"),
            ("exclude_from_utilization",),
            "devicetype.json",
        ),
        Owner(
            "module-types",
            "ModuleType",
            "module_type",
            ("model", "part_number", "weight", "weight_unit", "description", "comments"),
            ("airflow",),
            "moduletype.json",
        ),
    )
}


@dataclass(frozen=True)
class Kind:
    """One component list of a file and the template model it becomes."""

    key: str  # the library's key: "power-outlets"
    model: str
    fields: tuple[str, ...]
    extras: tuple[str, ...] = ()
    # Keys naming another row, resolved by the importer rather than copied.
    links: tuple[str, ...] = ()


# In writing order: a kind after the kinds it names (outlets after power ports, front
# ports after rear ports); inventory items last, because deleting a template deletes the
# inventory items that describe it.
KINDS = (
    Kind("power-ports", "PowerPortTemplate", ("name", "label", "type", "maximum_draw", "allocated_draw", "description")),
    Kind("rear-ports", "RearPortTemplate", ("name", "label", "type", "color", "positions", "description")),
    Kind("console-ports", "ConsolePortTemplate", ("name", "label", "type", "description")),
    Kind("console-server-ports", "ConsoleServerPortTemplate", ("name", "label", "type", "description")),
    Kind("interfaces", "InterfaceTemplate", ("name", "label", "type", "mgmt_only", "poe_mode", "poe_type", "description"), ("enabled", "rf_role")),
    Kind("module-bays", "ModuleBayTemplate", ("name", "label", "position", "description"), ("enabled",)),
    Kind("device-bays", "DeviceBayTemplate", ("name", "label", "description"), ("enabled",)),
    Kind("power-outlets", "PowerOutletTemplate", ("name", "label", "type", "feed_leg", "description"), ("color",), ("power_port",)),
    Kind("front-ports", "FrontPortTemplate", ("name", "label", "type", "color", "description"), ("positions",), ("rear_port", "rear_port_position")),
    Kind("inventory-items", "InventoryItemTemplate", ("name", "label", "part_id", "description"), (), ("manufacturer",)),
)
KIND_BY_KEY = {kind.key: kind for kind in KINDS}
# Kinds other kinds name: kept until those are rewritten, deleted last.
TARGETS = ("power-ports", "rear-ports")


def field_default(spec: ModelSpec, name: str) -> Any:
    """Danbyte's default of a column, for a field the file leaves out."""
    default = spec.table.c[name].default
    return default.arg if default is not None and default.is_scalar else None  # type: ignore[attr-defined]


def wanted_values(spec: ModelSpec, fields: tuple[str, ...], extras: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The fields a file sets: every field (its default when left out) and the extras given."""
    values = {name: data.get(name, field_default(spec, name)) for name in fields}
    values.update({name: data[name] for name in extras if name in data})
    return values


def unmapped_keys(owner: Owner, data: dict[str, Any]) -> list[str]:
    """Keys of a file nothing in Danbyte takes (``is_powered``, ``console-ports[].poe``)."""
    known = {"manufacturer", *owner.fields, *owner.extras, *KIND_BY_KEY, *IMAGE_FLAGS}
    found = {key for key in data if key not in known}
    for key, kind in KIND_BY_KEY.items():
        items = data.get(key)
        taken = {*kind.fields, *kind.extras, *kind.links}
        for item in items if isinstance(items, list) else []:
            found.update(f"{key}[].{name}" for name in (item if isinstance(item, dict) else {}) if name not in taken)
    return sorted(found)


# --- reading and checking a file ----------------------------------------------------------


class Refused(Exception):
    """A file that is not imported, and why (the message names the field)."""


@dataclass
class Definition:
    """One file of the library, read."""

    path: Path
    shown: str  # its path from the library root: "device-types/Cisco/C9300-24T.yaml"
    owner: Owner
    root: Path
    data: dict[str, Any]


def locate(path: Path) -> tuple[Path, Owner] | None:
    """(library root, owner) of a file under ``device-types/`` or ``module-types/``."""
    for parent in path.absolute().parents:
        if parent.name in OWNERS:
            return parent.parent, OWNERS[parent.name]
    return None


def decimals(value: Any) -> Any:
    """YAML floats as the decimals they are written as: ``weight: 38.08`` must pass the
    schema's ``multipleOf: 0.01`` (binary floats fail it) and compare equal to the stored
    numeric. The library's own tests read numbers the same way."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decimals(item) for item in value]
    return value


def read_definition(path: Path) -> Definition:
    located = locate(path)
    if located is None:
        raise Refused("not under a device-types/ or module-types/ folder of the library, so not known to be a device or module type")
    root, owner = located
    shown = path.absolute().relative_to(root.absolute()).as_posix()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise Refused(f"{where}{error.problem or error}") from None
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as error:
        raise Refused(str(error)) from None
    if not isinstance(data, dict):
        raise Refused("the file holds no YAML mapping")
    return Definition(path, shown, owner, root, decimals(data))


@functools.cache
def schema_validators(root: Path) -> dict[str, Draft7Validator] | None:
    """The library's own schemas, from ``schema/`` at its root, ``$ref``s resolved among
    them; None when the library has no such folder. Numbers are read as decimals, as the
    files are (``decimals``)."""
    folder = root / "schema"
    if not folder.is_dir():
        return None
    documents = {path.name: json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal) for path in folder.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources((name, Resource.from_contents(doc, default_specification=DRAFT7)) for name, doc in documents.items())
    return {owner.directory: Draft7Validator(documents[owner.schema], registry=registry) for owner in OWNERS.values() if owner.schema in documents}


def json_path(parts: Iterable[str | int]) -> str:
    """``['interfaces', 3, 'type']`` → ``interfaces[3].type``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def schema_message(error: ValidationError) -> str:
    """jsonschema's message, short: an enum of 200 interface types is not listed whole."""
    if error.validator == "enum" and isinstance(error.validator_value, list) and len(error.validator_value) > 8:
        shown = ", ".join(repr(value) for value in error.validator_value[:6])
        return f"{error.instance!r} is not one of [{shown}, … {len(error.validator_value)} values in all]"
    if error.validator == "multipleOf":
        return f"{error.instance} is not a multiple of {error.validator_value}"
    return error.message


def check_schema(definition: Definition) -> None:
    """Refuse a file its library's schema refuses, naming each field by its JSON path."""
    validators = schema_validators(definition.root)
    validator = (validators or {}).get(definition.owner.directory)
    if validator is None:
        return
    errors = list(validator.iter_errors(definition.data))
    if errors:
        described = [f"{json_path(error.absolute_path) or '(file)'}: {schema_message(error)}" for error in errors[:5]]
        more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise Refused("; ".join(described) + more)


# --- planning: what a file's templates should be ------------------------------------------


@dataclass
class Item:
    """One template a file wants: where it is in the file and what it says."""

    path: str  # "interfaces[3]"
    data: dict[str, Any]


def plan_templates(owner: Owner, data: dict[str, Any]) -> dict[str, dict[str, Item]]:
    """Kind key → name → item, after the checks a database cannot phrase well: names
    unique per kind, a named port present in the file, a rear port position that exists
    and is taken once."""
    plan: dict[str, dict[str, Item]] = {}
    for kind in KINDS:
        items = data.get(kind.key) or []
        if items and spec_for(kind.model).ref(owner.field) is None:
            raise BadUserInput(f"{kind.key}: a {owner.model} has no {kind.key} (NetBox keeps them to device types)", field=kind.key)
        if not isinstance(items, list):
            raise BadUserInput(f"{kind.key}: a list is expected", field=kind.key)
        plan[kind.key] = {}
        for index, item in enumerate(items):
            path = f"{kind.key}[{index}]"
            if not isinstance(item, dict):
                raise BadUserInput(f"{path}: a mapping is expected", field=path)
            name = item.get("name")
            if not isinstance(name, str):
                raise BadUserInput(f"{path}.name: a name (a string) is required", field=f"{path}.name")
            if name in plan[kind.key]:
                raise BadUserInput(f"{path}.name: '{name}' is also the name of {plan[kind.key][name].path}", field=f"{path}.name")
            plan[kind.key][name] = Item(path, item)
    _check_links(plan)
    return plan


def _check_links(plan: dict[str, dict[str, Item]]) -> None:
    for item in plan["power-outlets"].values():
        port = item.data.get("power_port")
        if port is not None and (not isinstance(port, str) or port not in plan["power-ports"]):
            raise BadUserInput(f"{item.path}.power_port: no power port named '{port}' in this file", field=f"{item.path}.power_port")
    taken: dict[tuple[str, Any], str] = {}
    for item in plan["front-ports"].values():
        rear, position = item.data.get("rear_port"), item.data.get("rear_port_position", 1)
        if not isinstance(rear, str):
            raise BadUserInput(f"{item.path}.rear_port: a front port names its rear port", field=f"{item.path}.rear_port")
        if rear not in plan["rear-ports"]:
            raise BadUserInput(f"{item.path}.rear_port: no rear port named '{rear}' in this file", field=f"{item.path}.rear_port")
        positions = plan["rear-ports"][rear].data.get("positions", 1)
        if isinstance(positions, int) and not (isinstance(position, int) and 1 <= position <= positions):
            where = f"{item.path}.rear_port_position"
            raise BadUserInput(f"{where}: {position} is not a position of rear port '{rear}' (1–{positions})", field=where)
        if (rear, position) in taken:
            where = f"{item.path}.rear_port_position"
            raise BadUserInput(f"{where}: position {position} of rear port '{rear}' is already mapped by {taken[rear, position]}", field=where)
        taken[rear, position] = item.path


# --- writing ------------------------------------------------------------------------------


def located(path: str, error: ApiError) -> ApiError:
    """The write path names a field of one object; the operator needs the file's JSON path
    to it: ``type: 'x' is not one of …`` → ``interfaces[3].type: 'x' is not one of …``."""
    name = (error.extensions or {}).get("field")
    if not path or not name:
        return type(error)(f"{path}: {error.message}" if path else error.message, field=path or name)
    message = error.message
    for separator in (": ", " "):
        if message.startswith(name + separator):
            message = message[len(name) + len(separator) :]
            break
    return type(error)(f"{path}.{name}: {message}", field=f"{path}.{name}")


@contextmanager
def naming(path: str) -> Iterator[None]:
    """Errors raised inside, the database's constraint errors included, name ``path``."""
    try:
        yield
    except IntegrityError as error:
        raise located(path, integrity_error(error)) from None
    except ApiError as error:
        raise located(path, error) from None


def slugify(name: str) -> str:
    """A manufacturer's slug from the library's name: ``Palo Alto`` → ``palo-alto``."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-_")[:100]


@dataclass
class FileWriter:
    """The writes of one file, inside its transaction."""

    write: Write
    tenant_id: uuid.UUID
    manufacturers: dict[str, uuid.UUID] = field(default_factory=dict)
    # Kind key → template name → id, as written: what links resolve to.
    ids: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)

    async def save(self, spec: ModelSpec, path: str, data: dict[str, Any], old: sa.Row | None) -> sa.Row:
        """Create the row, or update the fields that differ; an unchanged row is not written."""
        principal = self.write.principal
        with naming(path):
            values, _, _ = prepare_create(principal, spec, data, self.tenant_id)
            if old is None:
                require(principal, "add", spec)
                return await insert_object(self.write, spec, values)
            changed = {name: value for name, value in values.items() if name != "tenant_id" and getattr(old, name) != value}
            if not changed:
                return old
            require(principal, "change", spec)
            return await update_object(self.write, spec, changed, old)

    async def delete(self, spec: ModelSpec, rows: Iterable[sa.Row]) -> None:
        for row in rows:
            require(self.write.principal, "delete", spec)
            await delete_row(self.write, spec, row)

    async def manufacturer(self, name: str, path: str) -> uuid.UUID:
        """The tenant's manufacturer of that name (or of its slug), created when missing."""
        if not isinstance(name, str):
            raise BadUserInput(f"{path}: a manufacturer's name is required", field=path)
        if name not in self.manufacturers:
            spec = spec_for("Manufacturer")
            table, slug = spec.table, slugify(name)
            query = sa.select(table).where(table.c.tenant_id == self.tenant_id, sa.or_(table.c.name == name, table.c.slug == slug))
            found = (await self.write.conn.execute(query.order_by(table.c.name != name).limit(1))).first()
            if found is None:
                found = await self.save(spec, path, {"name": name, "slug": slug}, None)
            self.manufacturers[name] = found.id
        return self.manufacturers[name]

    async def rows(self, spec: ModelSpec, column: str, owner_id: uuid.UUID) -> list[sa.Row]:
        table = spec.table
        return list((await self.write.conn.execute(sa.select(table).where(table.c[column] == owner_id))).all())


async def find_owner(writer: FileWriter, spec: ModelSpec, manufacturer_id: uuid.UUID, data: dict[str, Any]) -> sa.Row | None:
    """The type a file describes: by (manufacturer, model), else by (manufacturer, slug),
    so a model renamed in the library updates its type. Locked: two imports of one type
    take turns."""
    table = spec.table
    mine = sa.select(table).where(table.c.tenant_id == writer.tenant_id, table.c.manufacturer_id == manufacturer_id).with_for_update()
    found = (await writer.write.conn.execute(mine.where(table.c.model == data.get("model")))).one_or_none()
    if found is None and "slug" in table.c and data.get("slug"):
        found = (await writer.write.conn.execute(mine.where(table.c.slug == data["slug"]))).one_or_none()
    return found


async def sync_templates(writer: FileWriter, owner: Owner, owner_id: uuid.UUID, plan: dict[str, dict[str, Item]]) -> None:
    """Make the type's templates what the file says.

    Order matters for the rows that name others: mappings no longer wanted go first (a
    rear port position is mapped once); each kind then drops its templates no longer in
    the file and writes the rest, power ports and rear ports before what names them;
    power ports and rear ports no longer in the file go last, once nothing names them."""
    column = f"{owner.field}_id"
    mappings = await _drop_stale_mappings(writer, owner, owner_id, plan)
    stale_targets: list[tuple[ModelSpec, list[sa.Row]]] = []
    for kind in KINDS:
        spec = spec_for(kind.model)
        if spec.ref(owner.field) is None:
            continue
        current = {row.name: row for row in await writer.rows(spec, column, owner_id)}
        stale = [row for name, row in current.items() if name not in plan[kind.key]]
        if kind.key in TARGETS:
            stale_targets.append((spec, stale))
        else:
            await writer.delete(spec, stale)
        writer.ids[kind.key] = {}
        for name, item in plan[kind.key].items():
            data = {**wanted_values(spec, kind.fields, kind.extras, item.data), owner.field: owner_id, **await _links(writer, kind, item)}
            writer.ids[kind.key][name] = (await writer.save(spec, item.path, data, current.get(name))).id
    await _add_mappings(writer, owner, owner_id, plan, mappings)
    for spec, stale in stale_targets:
        await writer.delete(spec, stale)


async def _links(writer: FileWriter, kind: Kind, item: Item) -> dict[str, Any]:
    """A template's references, from the names the file gives."""
    if kind.key == "power-outlets":
        port = item.data.get("power_port")
        return {"power_port": writer.ids["power-ports"][port] if port is not None else None}
    if kind.key == "inventory-items":
        maker = item.data.get("manufacturer")
        return {"manufacturer": await writer.manufacturer(maker, f"{item.path}.manufacturer") if maker is not None else None}
    return {}


MappingKey = tuple[str, int, str, int]  # front port name and position, rear port name and position


def _wanted_mappings(plan: dict[str, dict[str, Item]]) -> dict[MappingKey, Item]:
    return {(name, 1, item.data["rear_port"], item.data.get("rear_port_position", 1)): item for name, item in plan["front-ports"].items()}


async def _drop_stale_mappings(writer: FileWriter, owner: Owner, owner_id: uuid.UUID, plan: dict[str, dict[str, Item]]) -> set[MappingKey]:
    """Delete the front → rear mappings the file no longer has; the ones kept, by names."""
    column = f"{owner.field}_id"
    fronts = {row.id: row.name for row in await writer.rows(spec_for("FrontPortTemplate"), column, owner_id)}
    rears = {row.id: row.name for row in await writer.rows(spec_for("RearPortTemplate"), column, owner_id)}
    spec = spec_for("PortTemplateMapping")
    wanted = _wanted_mappings(plan)
    kept: set[MappingKey] = set()
    stale = []
    for row in await writer.rows(spec, column, owner_id):
        key = (fronts[row.front_port_id], row.front_port_position, rears[row.rear_port_id], row.rear_port_position)
        if key in wanted:
            kept.add(key)
        else:
            stale.append(row)
    await writer.delete(spec, stale)
    return kept


async def _add_mappings(writer: FileWriter, owner: Owner, owner_id: uuid.UUID, plan: dict[str, dict[str, Item]], kept: set[MappingKey]) -> None:
    spec = spec_for("PortTemplateMapping")
    for key, item in _wanted_mappings(plan).items():
        if key in kept:
            continue
        front, front_position, rear, rear_position = key
        data = {
            owner.field: owner_id,
            "front_port": writer.ids["front-ports"][front],
            "front_port_position": front_position,
            "rear_port": writer.ids["rear-ports"][rear],
            "rear_port_position": rear_position,
        }
        await writer.save(spec, item.path, data, None)


async def apply(write: Write, definition: Definition, tenant_id: uuid.UUID) -> tuple[str, int]:
    """Write one file's type and templates: (created | updated | unchanged, rows written)."""
    owner, data = definition.owner, definition.data
    plan = plan_templates(owner, data)
    writer = FileWriter(write, tenant_id)
    spec = spec_for(owner.model)
    maker = await writer.manufacturer(data.get("manufacturer", ""), "manufacturer")
    old = await find_owner(writer, spec, maker, data)
    row = await writer.save(spec, "", {**wanted_values(spec, owner.fields, owner.extras, data), "manufacturer": maker}, old)
    await sync_templates(writer, owner, row.id, plan)
    status = "created" if old is None else "updated" if write.changes else "unchanged"
    return status, len(write.changes)


# --- running: files, transactions, the report ---------------------------------------------


def tenant_administrator(org_id: uuid.UUID, tenant_id: uuid.UUID) -> Principal:
    """The principal the CLI writes as: an administrator of the tenant's organisation,
    limited to that one tenant.

    Safe to build without a token: whoever runs the CLI already holds the database
    owner's credentials (DANBYTE_DATABASE_URL, or the embedded server's files), which
    pass row-level security altogether. This principal only narrows them: writes run as
    the restricted role, row-level security confines them to the one tenant, every
    permission check and model rule runs, and the change log names the importer. No user
    or token is created, so nothing is left behind that could be used later."""
    return Principal(user_id=None, username=IMPORTER, org_id=org_id, tenant_ids=frozenset({tenant_id}), is_admin=True, all_tenants=False)


async def find_tenant(db: Database, slug: str, organization: str | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    """(organisation id, tenant id) of a tenant slug, read as the table owner (no principal
    exists yet). Slugs are unique per organisation: several matches need ``organization``."""
    from models.tenancy import Organization, Tenant

    tenant, org = Tenant.__table__, Organization.__table__
    query = sa.select(tenant.c.org_id, tenant.c.id).join(org, org.c.id == tenant.c.org_id).where(tenant.c.slug == slug)
    if organization is not None:
        query = query.where(org.c.slug == organization)
    async with db.system_transaction() as conn:
        found = list((await conn.execute(query)).all())
    if not found:
        raise LookupError(f"no tenant with slug '{slug}'" + (f" in organisation '{organization}'" if organization else ""))
    if len(found) > 1:
        raise LookupError(f"tenant slug '{slug}' exists in {len(found)} organisations; give --organization SLUG")
    return found[0].org_id, found[0].id


def collect(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[str]]:
    """(files to import, walked YAML files outside the library's type folders, paths that
    do not exist). A directory is walked for .yaml / .yml; a file named is taken as is."""
    files: list[Path] = []
    skipped: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
                (files if locate(found) is not None else skipped).append(found)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    return list(dict.fromkeys(files)), skipped, missing


@dataclass
class Outcome:
    shown: str
    status: str
    reason: str = ""
    rows: int = 0
    unmapped: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.status:<9} {self.shown}" + (f": {self.reason}" if self.reason else "")


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def refused(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "refused"]

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(status)} {status}" for status in STATUSES)
        rows = sum(outcome.rows for outcome in self.outcomes)
        lines = [f"{len(self.outcomes)} files: {counts}; {rows} rows written in {self.seconds:.1f} s"]
        unmapped = Counter(key for outcome in self.outcomes for key in outcome.unmapped)
        if unmapped:
            listed = ", ".join(f"{key} ({n} file{'s' if n > 1 else ''})" for key, n in sorted(unmapped.items()))
            lines.append(f"not mapped, left out: {listed}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} YAML files outside device-types/ and module-types/")
        lines.extend(self.notes)
        if self.refused:
            lines.append("refused:")
            lines.extend(f"  {outcome.shown}: {outcome.reason}" for outcome in self.refused)
        return "\n".join(lines)


async def import_file(db: Database, principal: Principal, tenant_id: uuid.UUID, path: Path, settings: Any, events: EventSink | None) -> Outcome:
    """Read, check and write one file in its own transaction; a refusal writes nothing."""
    shown = str(path)
    try:
        definition = read_definition(path)
        shown = definition.shown
        check_schema(definition)
        ctx = RequestContext(db=db, principal=principal, events=events, settings=settings)
        status, rows = await run_write(ctx, lambda write: apply(write, definition, tenant_id))
    except Refused as refusal:
        return Outcome(shown, "refused", str(refusal))
    except ApiError as error:
        return Outcome(shown, "refused", error.message)
    return Outcome(shown, status, rows=rows, unmapped=unmapped_keys(definition.owner, definition.data))


async def import_paths(
    db: Database,
    principal: Principal,
    tenant_id: uuid.UUID,
    paths: Iterable[Path],
    *,
    settings: Any,
    events: EventSink | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Import every file under ``paths``; ``progress`` gets one line per file."""
    started = time.perf_counter()
    files, skipped, missing = collect(paths)
    report = Report(skipped=skipped)
    report.outcomes.extend(Outcome(name, "refused", "no such file or directory") for name in missing)
    unchecked: set[Path] = set()
    for path in files:
        library = locate(path)
        if library is not None and schema_validators(library[0]) is None and library[0] not in unchecked:
            unchecked.add(library[0])
            note = f"note: no schema/ folder at the library root {library[0]}: its files are not checked against the library's schema (Danbyte's own checks still run)"
            report.notes.append(note)
            if progress is not None:
                progress(note)
        outcome = await import_file(db, principal, tenant_id, path, settings, events)
        report.outcomes.append(outcome)
        if progress is not None:
            progress(outcome.line())
    report.seconds = time.perf_counter() - started
    return report


async def main(
    db: Database,
    paths: Iterable[Path | str],
    tenant: str,
    *,
    organization: str | None = None,
    settings: Any = None,
    events: EventSink | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``danbyte devicetypes import``: progress to ``err``, the summary to ``out``. Exit
    code 0, 1 when a file was refused, 2 when the tenant is unknown."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        org_id, tenant_id = await find_tenant(db, tenant, organization)
    except LookupError as error:
        print(f"danbyte devicetypes import: {error}", file=err)
        return 2
    principal = tenant_administrator(org_id, tenant_id)
    report = await import_paths(
        db,
        principal,
        tenant_id,
        [Path(path) for path in paths],
        settings=settings or get_settings(),
        events=events,
        progress=lambda line: print(line, file=err, flush=True),
    )
    print(report.summary(), file=out)
    return 1 if report.refused else 0


async def run(database_url: str, redis_url: str | None, paths: list[str], tenant: str, organization: str | None, settings: Any) -> int:
    """The CLI's entry: its own engine, and change events published like the API's."""
    from danbyte.database import Database as Engine
    from danbyte.events import EventBus

    db = Engine(database_url, pool_size=1)
    events = EventBus(redis_url) if redis_url else None
    try:
        return await main(db, paths, tenant, organization=organization, settings=settings, events=events)
    finally:
        if events is not None:
            await events.close()
        await db.dispose()
