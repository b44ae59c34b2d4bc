"""One NetBox record → the Danbyte row it becomes in one tenant.

A ``Converter`` per NetBox model turns each field as ``model_map`` plans it: values by the
Danbyte column's kind (times, dates, decimals, addresses, choices as NetBox spells them),
references into the ids the target gets in the same tenant (``Ids``: derived from the
source, the model, the NetBox id and the tenant, so a re-run finds its rows again), generic
pairs into the one-of column of the target's type, content types into Danbyte's,
``custom_field_data`` and the fields with no home yet (``netbox_<field>``) into
``custom_fields``. ``references`` lists what a record points at, for the tenant policy
(``placement``), before any row is written.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from models.registry import Kind, ModelSpec, ScalarSpec, specs
from netbox_import.dumpdata import ContentTypes, ExportError, Usernames
from netbox_import.model_map import CUSTOM_FIELD_PREFIX, FieldPlan, How, ModelPlan, Status, plan
from netbox_import.placement import INHERIT, INHERIT_FROM_CHILD
from netbox_import.rewrites import MOVED
from resolvers.errors import ApiError
from resolvers.secrets import seal_values
from resolvers.validation import check_scalar

NAMESPACE = uuid.UUID("6f1c3b2a-5d4e-4c8b-9a7f-0e1d2c3b4a59")


def stable_id(*parts: object) -> uuid.UUID:
    """The id an imported row gets: the same parts, the same id, on every run."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(str(part) for part in parts))


class Skip(Exception):
    """A record that cannot land (the reason is the message)."""


@dataclass(frozen=True)
class Ref:
    """A record's pointer at another record: Danbyte model and NetBox id."""

    field: str  # the Danbyte field ("site", "termination")
    target: str
    pk: str


@dataclass
class Ids:
    """Every id an import hands out."""

    source: str
    org: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)  # (model, pk) → id of tenants, groups, tags
    tenants: dict[str, uuid.UUID] = field(default_factory=dict)  # tenant key → tenant id
    users: dict[str, uuid.UUID] = field(default_factory=dict)  # username → Danbyte user id
    # NetBox's object custom fields: name → the Danbyte model their values point at.
    object_fields: dict[str, str] = field(default_factory=dict)
    # Fields kept in custom fields: netbox_<field> → (Danbyte models holding it, whether any value is not text).
    kept: dict[str, tuple[set[str], bool]] = field(default_factory=dict)

    def of(self, model: str, pk: Any, tenant: str) -> uuid.UUID:
        """The id of record ``pk`` of ``model`` in tenant key ``tenant``."""
        return stable_id(self.source, model, pk, self.tenants[tenant])

    def org_id(self, model: str, pk: Any) -> uuid.UUID | None:
        return self.org.get((model, str(pk)))


def key(pk: Any) -> str:
    """A NetBox id (or natural key) as the staging tables keep it."""
    if isinstance(pk, list):
        return "\x1f".join(str(part) for part in pk)
    return str(pk)


# --- values -------------------------------------------------------------------------------


def parse_datetime(value: Any) -> Any:
    """A time as Django writes it ("2021-04-14T17:36:01.841Z"), aware."""
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _date(value: Any) -> Any:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _decimal(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Skip(f"{value!r} is not a number") from None


def _choice(scalar: ScalarSpec, value: Any) -> Any:
    # NetBox stores an unset choice as "" where Danbyte has null.
    if value == "" and scalar.nullable and scalar.enum is not None and "" not in {m.value for m in scalar.enum}:
        return None
    return value


PARSE: dict[Kind, Callable[[Any], Any]] = {
    Kind.datetime: parse_datetime,
    Kind.date: _date,
    Kind.decimal: _decimal,
    Kind.uuid: lambda value: uuid.UUID(str(value)) if value is not None else None,
}


def value_for(scalar: ScalarSpec, value: Any) -> Any:
    """A NetBox value as the Danbyte column stores it (checked as the write path checks)."""
    if scalar.kind is Kind.choice:
        value = _choice(scalar, value)
    elif scalar.kind in PARSE:
        value = PARSE[scalar.kind](value)
    if value is None and not scalar.nullable and scalar.kind is Kind.string:
        value = ""
    if scalar.kind in (Kind.datetime, Kind.uuid) or not scalar.writable:
        return value  # derived columns (times, cable ends) are the export's to say
    try:
        checked = check_scalar(scalar, value)
    except ApiError as error:
        raise Skip(error.message) from None
    return checked.value if isinstance(checked, enum.Enum) else checked


def plain(value: Any) -> Any:
    """A value fit for a JSON column (decimals as numbers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# --- one model ----------------------------------------------------------------------------


@dataclass
class Row:
    """What one record becomes in one tenant."""

    values: dict[str, Any]
    later: dict[str, uuid.UUID]  # columns written after every model (cycles between models)
    many: dict[str, list[uuid.UUID]]  # association table → target ids
    notes: Counter[str]  # what was left out of the record, by reason


@dataclass
class Converter:
    """How the records of one NetBox model become rows of its Danbyte model."""

    plan: ModelPlan
    spec: ModelSpec
    content_types: ContentTypes
    usernames: Usernames
    later: frozenset[str] = frozenset()  # columns deferred to after every model

    @property
    def model(self) -> str:
        return self.spec.type_name

    def _field(self, name: str) -> FieldPlan:
        return self.plan.field(name)

    def _target_model(self, label: Any, where: str) -> str | None:
        found = self.content_types.label(label, where=where)
        if found is None:
            return None
        target = plan(found)
        return target.target if target.spec is not None else None

    def own_tenant(self, fields: dict[str, Any]) -> str | None:
        """The NetBox tenant the record names (its key), if it names one."""
        if "tenant" in fields and self._field("tenant").target == "tenant" and fields["tenant"] is not None:
            return key(fields["tenant"])
        return None

    def references(self, pk: Any, fields: dict[str, Any]) -> Iterator[tuple[Ref, int | None, bool]]:
        """(reference, inheritance rank or None, whether it names the owner) of each
        pointer at a tenant-scoped record."""
        ranks = {name: rank for rank, name in enumerate(INHERIT.get(self.model, ()), start=1)}
        for name in self.spec.tenant_from:
            ranks[name] = 0
        for ref in self._refs(fields):
            yield ref, ranks.get(ref.field), ref.field in self.spec.tenant_from

    def tenants_named(self, fields: dict[str, Any]) -> Iterator[str]:
        """The NetBox tenants a many-to-many list names (a config context's ``tenants``)."""
        for name, value in fields.items():
            fp = self._field(name)
            if fp.status is Status.mapped and fp.how is How.references and value:
                relation = next((m for m in self.spec.many if m.name == fp.target), None)
                if relation is not None and relation.target == "Tenant":
                    yield from (key(item) for item in _listed(value))

    def child_references(self, fields: dict[str, Any]) -> Iterator[tuple[Ref, Ref, int]]:
        """(owner, what gives the owner its tenant, rank): a cable's terminations."""
        declared = INHERIT_FROM_CHILD.get(self.model)
        if declared is None:
            return
        owner_field, via = declared
        refs = {ref.field: ref for ref in self._refs(fields)}
        if owner_field in refs and via in refs:
            rank = 1 if fields.get("cable_end") in ("A", None) else 2
            yield refs[owner_field], refs[via], rank

    def _refs(self, fields: dict[str, Any]) -> Iterator[Ref]:
        where = f"{self.plan.label}"
        pairs: dict[str, dict[str, Any]] = {}
        for name, value in fields.items():
            fp = self._field(name)
            if fp.status is not Status.mapped or value is None or fp.target is None:
                continue
            if fp.how is How.reference:
                ref = self.spec.ref(fp.target)
                if ref is not None and ref.name != "tenant" and not specs()[ref.target].org_scoped:
                    yield Ref(ref.name, ref.target, key(value))
            elif fp.how is How.references:
                many = next((m for m in self.spec.many if m.name == fp.target), None)
                if many is not None and not specs()[many.target].org_scoped:
                    for item in _listed(value):
                        yield Ref(many.name, many.target, key(item))
            elif fp.how is How.member and fp.member is not None:
                yield Ref(fp.target, fp.member, key(value))
            elif fp.how in (How.generic, How.content_type, How.any_object):
                pairs.setdefault(self._pair_key(fp.target), {})["type" if name.endswith("_type") else "id"] = value
        for target_field, pair in pairs.items():
            if pair.get("type") is None or pair.get("id") is None:
                continue
            model = self._target_model(pair["type"], f"{where}.{target_field}")
            if model is not None:
                yield Ref(target_field, model, key(pair["id"]))

    def row(self, pk: Any, fields: dict[str, Any], tenant: str, ids: Ids) -> Row:
        """The row of record ``pk`` in tenant key ``tenant`` (``Skip`` if it cannot land)."""
        spec = self.spec
        values: dict[str, Any] = {}
        later: dict[str, uuid.UUID] = {}
        many: dict[str, list[uuid.UUID]] = {}
        notes: Counter[str] = Counter()
        custom: dict[str, Any] = {}
        pairs: dict[str, dict[str, Any]] = {}

        def point(column: str, model: str, target_pk: Any) -> None:
            target = specs()[model]
            if target.org_scoped:
                found = ids.org_id(model, key(target_pk))
                if found is None:
                    notes[f"{column}: {model} {target_pk} is not in the export"] += 1
                values[column] = found
                return
            target_id = ids.of(model, key(target_pk), tenant)
            if column in self.later:
                later[column] = target_id
            else:
                values[column] = target_id

        moved = MOVED.get(self.plan.label, frozenset())
        for name, value in fields.items():
            fp = self._field(name)
            status = fp.status
            if status is Status.ignored or name in moved:
                continue
            if status is Status.custom_field:
                if value not in (None, "", [], {}) and value is not False:  # unset, or off: nothing to keep
                    kept_name = f"{CUSTOM_FIELD_PREFIX}{name}"
                    custom[kept_name] = plain(self._keepable(name, value))
                    models, structured = ids.kept.setdefault(kept_name, (set(), False))
                    models.add(self.model)
                    if not isinstance(custom[kept_name], str) and not structured:
                        ids.kept[kept_name] = (models, True)
                continue
            if status is not Status.mapped or fp.target is None:
                if value not in (None, "", [], {}, False):
                    notes[f"{name}: {fp.note or status.value}"] += 1
                continue
            how, target = fp.how, fp.target
            try:
                if how is How.value:
                    scalar = spec.scalar(target)
                    if scalar is None:
                        notes[f"{name}: no column {target}"] += 1
                        continue
                    if value is None and not scalar.nullable and scalar.kind is not Kind.string:
                        continue  # NetBox left it unset (a termination's times): the column's default
                    values[target] = value_for(scalar, plain(value) if scalar.kind is Kind.json else value)
                elif how is How.reference:
                    ref = spec.ref(target)
                    if ref is None:
                        notes[f"{name}: no reference {target}"] += 1
                    elif ref.name == "tenant":
                        continue  # the tenant is the placement's
                    elif value is None:
                        values.setdefault(ref.column, None)
                    else:
                        point(ref.column, ref.target, value)
                elif how is How.references:
                    relation = next(m for m in spec.many if m.name == target)
                    targets = specs()[relation.target]
                    items = _listed(value)
                    if targets.org_scoped:
                        found = [i for item in items if (i := ids.org_id(relation.target, key(item))) is not None]
                        if relation.target == "Tenant":  # references stay inside the row's tenant
                            found = [i for i in found if i == ids.tenants[tenant]]
                        many[relation.table] = found
                    else:
                        many[relation.table] = [ids.of(relation.target, key(item), tenant) for item in items]
                elif how is How.member:
                    one_of = next(o for o in spec.one_of if o.name == target)
                    column = dict(one_of.members)[fp.member or ""]
                    if value is not None:
                        point(column, fp.member or "", value)
                elif how in (How.generic, How.content_type, How.any_object):
                    if how is How.content_type and self._pair_key(target) == target:
                        named = self._danbyte_type(self.content_types.label(value, where=f"{self.plan.label}.{name}"))
                        scalar = spec.scalar(target)
                        values[target] = "" if named is None and scalar is not None and not scalar.nullable else named
                    else:
                        pairs.setdefault(self._pair_key(target), {})["type" if name.endswith("_type") else "id"] = value
                elif how is How.content_types:
                    labels = self.content_types.labels(value, where=f"{self.plan.label}.{name}")
                    values[target] = [self._danbyte_type(label) for label in labels]
                elif how is How.custom_fields:
                    if isinstance(value, dict):
                        custom.update(self._custom_values(plain(value), tenant, ids))
                elif how is How.user:
                    username = self.usernames.name(value, where=f"{self.plan.label}.{name}")
                    scalar = spec.scalar(target)
                    if scalar is not None and scalar.kind is Kind.string:
                        values[target] = username or ""
                    else:
                        values[target] = ids.users.get(username) if username else None
                elif (scalar := spec.scalar(name)) is not None:  # special, but a column of its name keeps the value
                    values[name] = value_for(scalar, value)
                elif value not in (None, "", [], {}, False):
                    notes[f"{name}: {fp.note}"] += 1
            except ExportError as error:
                raise Skip(str(error)) from None
            except Skip as skip:
                raise Skip(f"{name}: {skip}") from None
        for target, pair in pairs.items():
            self._pair(target, pair, tenant, ids, values, later, notes)
        if custom or "custom_field_data" in fields:
            if spec.scalar("custom_fields") is not None:
                values["custom_fields"] = custom
        if spec.numbered:
            values["numid"] = _numid(pk)
        return Row(seal_values(spec, values), later, many, notes)

    def _pair(self, target: str, pair: dict[str, Any], tenant: str, ids: Ids, values: dict[str, Any], later: dict[str, uuid.UUID], notes: Counter[str]) -> None:
        kind, object_pk = pair.get("type"), pair.get("id")
        any_object = self.spec.any_object
        model = self._target_model(kind, f"{self.plan.label}.{target}") if kind is not None else None
        if any_object is not None and target == any_object.field:
            if model is None or object_pk is None:
                values[any_object.type_column] = None if model is None else specs()[model].content_type
                values.setdefault(any_object.id_column, None)
                return
            values[any_object.type_column] = specs()[model].content_type
            values[any_object.id_column] = ids.of(model, key(object_pk), tenant)
            return
        one_of = next((o for o in self.spec.one_of if o.name == target), None)
        if one_of is None:  # a pair NetBox keeps where Danbyte has a plain reference (an event rule's webhook)
            ref = self.spec.ref(target)
            if ref is None or kind is None or object_pk is None:
                return
            if model != ref.target:
                raise Skip(f"{target}: a {self.content_types.label(kind)} has no Danbyte home here (only a {ref.target})")
            if ref.column in self.later:
                later[ref.column] = ids.of(model, key(object_pk), tenant)
            else:
                values[ref.column] = ids.of(model, key(object_pk), tenant)
            return
        members = dict(one_of.members)
        for column in members.values():
            values.setdefault(column, None)
        if kind is None or object_pk is None:
            return
        if model is None or model not in members:
            raise Skip(f"{target}: a {kind} is not one of {', '.join(members)}")
        column = members[model]
        target_id = ids.of(model, key(object_pk), tenant)
        if column in self.later:
            values.pop(column, None)
            later[column] = target_id
        else:
            values[column] = target_id

    def _custom_values(self, values: dict[str, Any], tenant: str, ids: Ids) -> dict[str, Any]:
        """Custom field values, with an object field's NetBox ids as the ids of those
        objects in the same tenant (the placement put them there)."""
        for name, target in ids.object_fields.items():
            value = values.get(name)
            if isinstance(value, list):
                values[name] = [str(ids.of(target, key(item), tenant)) for item in value if item is not None]
            elif value is not None and not isinstance(value, (dict, bool)):
                values[name] = str(ids.of(target, key(value), tenant))
        return values

    def _pair_key(self, target: str) -> str:
        """Both halves of a generic pair under one name: the one-of's, or the any-object
        reference's field (``object`` for ``object_type`` and ``object_id``)."""
        any_object = self.spec.any_object
        if any_object is not None and target in (any_object.type_column, any_object.id_column):
            return str(any_object.field)
        return target

    def _danbyte_type(self, label: str | None) -> str | None:
        if label is None:
            return None
        target = plan(label)
        return target.spec.content_type if target.spec is not None else label

    def _keepable(self, name: str, value: Any) -> Any:
        """A field kept in custom fields: content types named by label, the rest as is."""
        if name.endswith("_type") and isinstance(value, (list, int)):
            try:
                return self.content_types.label(value)
            except ExportError:
                return value
        return value


def _listed(value: Any) -> list[Any]:
    """A many-to-many value: a list, or one id where an older NetBox had a single reference."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _numid(pk: Any) -> int | None:
    if isinstance(pk, int) and not isinstance(pk, bool):
        return pk
    if isinstance(pk, str) and pk.isdigit():
        return int(pk)
    return None
