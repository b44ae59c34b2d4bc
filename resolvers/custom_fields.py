"""Custom field values, checked and completed on every write (models/custom_fields.py).

Every tenant-scoped row carries ``custom_fields``, a JSON object. The write path
(resolvers/writes.py) hands each create and update here before the row is written:

- a key that names no custom field of the row's type (in the row's tenant) is refused;
- each value is checked against its field: its type, choices, bounds, pattern or JSON
  Schema, and, for object fields, that the objects exist in the tenant;
- a create gets every field's key, its default where the writer gives none; an update
  merges the keys given into the stored object (null clears one), as NetBox's API does;
- a required field may not end up null; a unique one may not repeat a value another
  object of the type holds in the tenant.

The definitions are read through ``danbyte_custom_fields_for`` (a SECURITY DEFINER
function, alembic revision 20261130f1b1): a writer who may not view custom fields is
checked all the same. They are read once per write transaction and object type.

Defining a field keeps the objects in step (rules below): creating it adds its key, with
its default, to every object of its types in the tenant; renaming it renames the key;
dropping a type or deleting the field removes it. Those bulk updates are not change-logged
one object at a time: the field's own change records them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from models.choices import CustomFieldType
from models.registry import ModelSpec, spec_by_content_type, spec_for
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.rules import RuleBook, value_after
from resolvers.sql import any_of
from resolvers.validation import ALLOWED_URL_SCHEMES

MODEL = "CustomField"
CHOICE_SET = "CustomFieldChoiceSet"
GROUP = "CustomFieldGroup"
# What a write remembers the definitions under (Write.remember).
DEFINITIONS = "custom-fields"

_OPAQUE_SCHEMES = frozenset({"mailto", "tel", "xmpp"})  # no //host part
# Values of a choice set with base choices are checked by the codes' shape: Danbyte does
# not ship the airport, country and location code lists.
BASE_CHOICE_SHAPES = {
    "IATA": re.compile(r"^[A-Z]{3}$"),
    "ISO_3166": re.compile(r"^[A-Z]{2}$"),
    "UN_LOCODE": re.compile(r"^[A-Z]{2} ?[A-Z2-9]{3}$"),
}
# JSON integers are unbounded; a value beyond 64 bits could not be compared in SQL filters.
_INT_LIMIT = 2**63
_NUMERIC = (CustomFieldType.integer, CustomFieldType.decimal)
_PATTERNED = (CustomFieldType.text, CustomFieldType.longtext, CustomFieldType.url)
_CHOOSING = (CustomFieldType.select, CustomFieldType.multiselect)
_POINTING = (CustomFieldType.object, CustomFieldType.multiobject)

_DEFINITIONS = sa.text(
    "SELECT name, type, required, is_unique, default_value, related_object_type, validation_minimum,"
    " validation_maximum, validation_regex, validation_schema, base_choices, extra_choices"
    " FROM danbyte_custom_fields_for(:tenant, :object_type)"
)


@dataclass(frozen=True)
class Definition:
    """What one custom field asks of its values."""

    name: str
    type: CustomFieldType
    required: bool = False
    unique: bool = False
    default: Any = None
    related_object_type: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    regex: str = ""
    schema: Any = None
    base_choices: str | None = None
    extra_choices: Any = None

    @classmethod
    def from_row(cls, row: Any) -> Definition:
        return cls(
            name=row.name,
            type=CustomFieldType(row.type),
            required=row.required,
            unique=row.is_unique,
            default=row.default_value,
            related_object_type=row.related_object_type or "",
            minimum=row.validation_minimum,
            maximum=row.validation_maximum,
            regex=row.validation_regex or "",
            schema=row.validation_schema,
            base_choices=row.base_choices,
            extra_choices=row.extra_choices,
        )

    def allows_choice(self, value: str) -> bool:
        values = {pair[0] for pair in self.extra_choices or ()}
        shape = BASE_CHOICE_SHAPES.get(self.base_choices or "")
        return value in values or (shape is not None and bool(shape.match(value)))


def fieldable(spec: ModelSpec) -> bool:
    """Whether a type's objects take custom fields: rows with ``custom_fields`` that belong
    to a tenant (a tenant's own row belongs to it, and takes the fields it defines)."""
    return spec.model.__owner_column__ is not None and spec.scalar("custom_fields") is not None


def _owner(spec: ModelSpec) -> sa.Column[Any]:
    """The column naming the tenant whose custom fields an object of ``spec`` takes."""
    assert spec.model.__owner_column__ is not None
    return spec.table.c[spec.model.__owner_column__]


# ---------------------------------------------------------------------------------------
# Values


def _fail(where: str, message: str) -> BadUserInput:
    return BadUserInput(f"{where}: {message}", field=where)


def _number(value: Any, where: str, integral: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _fail(where, f"{json.dumps(value)[:50]} is not {'an integer' if integral else 'a number'}")
    if integral:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise _fail(where, f"{value!r} is not an integer")
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise _fail(where, f"{value} is out of range")
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(where, f"{value!r} is not a number") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 18:
        raise _fail(where, f"{value!r} is out of range")
    return int(number) if number == number.to_integral_value() and "." not in str(value) else float(number)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"{json.dumps(value)[:50]} is not text")
    return value


def _url(value: Any, where: str) -> str:
    text = _text(value, where)
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ALLOWED_URL_SCHEMES or (parts.scheme.lower() not in _OPAQUE_SCHEMES and not parts.netloc):
        raise _fail(where, f"'{text[:100]}' is not a URL ({', '.join(sorted(ALLOWED_URL_SCHEMES))})")
    return text


def _date(value: Any, where: str) -> str:
    try:
        return date.fromisoformat(_text(value, where)).isoformat()
    except ValueError:
        raise _fail(where, f"'{value}' is not a date (YYYY-MM-DD)") from None


def _datetime(value: Any, where: str) -> str:
    try:
        return datetime.fromisoformat(_text(value, where)).isoformat()
    except ValueError:
        raise _fail(where, f"'{value}' is not an ISO 8601 date and time") from None


def _choice(definition: Definition, value: Any, where: str) -> str:
    text = _text(value, where)
    if not definition.allows_choice(text):
        raise _fail(where, f"'{text[:100]}' is not one of the field's choices")
    return text


def _ids(value: Any, where: str, many: bool) -> list[uuid.UUID]:
    items = value if many else [value]
    if many and not isinstance(value, list):
        raise _fail(where, "give a list of object ids")
    found: list[uuid.UUID] = []
    for index, item in enumerate(items):
        try:
            found.append(uuid.UUID(item))
        except (ValueError, TypeError, AttributeError):
            raise _fail(f"{where}.{index}" if many else where, f"{json.dumps(item)[:50]} is not an object id") from None
    return found


def _plain(number: Decimal) -> str:
    """500.0000 → "500", 0.5000 → "0.5"."""
    return f"{number.normalize():f}"


def check_value(definition: Definition, value: Any, where: str) -> Any:
    """The value to store for ``definition``, or BadUserInput naming ``where``. Null is
    always well-formed (required-ness is judged on the whole object)."""
    if value is None:
        return None
    kind = definition.type
    if value == "" and kind in _PATTERNED:
        return value  # empty text is no value (NetBox checks patterns on values only)
    if kind in _NUMERIC:
        value = _number(value, where, integral=kind is CustomFieldType.integer)
        if definition.minimum is not None and Decimal(str(value)) < definition.minimum:
            raise _fail(where, f"{value} is less than the minimum {_plain(definition.minimum)}")
        if definition.maximum is not None and Decimal(str(value)) > definition.maximum:
            raise _fail(where, f"{value} is more than the maximum {_plain(definition.maximum)}")
        return value
    if kind is CustomFieldType.boolean:
        if not isinstance(value, bool):
            raise _fail(where, f"{json.dumps(value)[:50]} is not true or false")
        return value
    if kind in _PATTERNED:
        value = _url(value, where) if kind is CustomFieldType.url else _text(value, where)
        if definition.regex and not re.match(definition.regex, value):
            raise _fail(where, f"'{value[:100]}' does not match the pattern {definition.regex}")
        return value
    if kind is CustomFieldType.date:
        return _date(value, where)
    if kind is CustomFieldType.datetime:
        return _datetime(value, where)
    if kind is CustomFieldType.select:
        return _choice(definition, value, where)
    if kind is CustomFieldType.multiselect:
        if not isinstance(value, list):
            raise _fail(where, "give a list of choices")
        return list(dict.fromkeys(_choice(definition, item, f"{where}.{index}") for index, item in enumerate(value)))
    if kind in _POINTING:
        ids = _ids(value, where, many=kind is CustomFieldType.multiobject)
        return [str(i) for i in dict.fromkeys(ids)] if kind is CustomFieldType.multiobject else str(ids[0])
    if kind is CustomFieldType.json and definition.schema is not None:
        error = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(definition.schema)(definition.schema).iter_errors(value))
        if error is not None:
            raise _fail(where, f"does not satisfy the field's schema: {error.message[:200]}")
    return value


# ---------------------------------------------------------------------------------------
# Objects' values, on every write


async def definitions(write: Any, spec: ModelSpec, tenant_id: Any) -> list[Definition]:
    """The custom fields of ``spec``'s type in the tenant (once per write transaction)."""

    async def load() -> list[Definition]:
        rows = await write.conn.execute(_DEFINITIONS, {"tenant": tenant_id, "object_type": spec.content_type})
        return [Definition.from_row(row) for row in rows]

    return await write.remember((DEFINITIONS, tenant_id, spec.content_type), load)


async def apply(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """Check and complete ``values["custom_fields"]`` for a create (``old`` None) or update."""
    if not fieldable(spec) or (old is not None and "custom_fields" not in values):
        return
    owner = _owner(spec).name
    tenant_id = values.get(owner) if old is None else getattr(old, owner)
    given = values.get("custom_fields") or {}
    # (A tenant being created has defined no fields yet.)
    fields = await definitions(write, spec, tenant_id) if tenant_id is not None else []
    known = {definition.name: definition for definition in fields}
    for name in given:
        if name not in known:
            where = f"custom_fields.{name}"
            raise _fail(where, f"{spec.content_type} has no custom field '{name}'")
    if old is None:
        # Defaults complete a create unless the writer brings derived data itself.
        stored = {d.name: d.default for d in fields} if write.generate else {}
    else:
        stored = dict(old.custom_fields or {})
        stored.update({d.name: None for d in fields if d.name not in stored})
    for name, value in given.items():
        stored[name] = check_value(known[name], value, f"custom_fields.{name}")
    for definition in fields:
        where = f"custom_fields.{definition.name}"
        value = stored.get(definition.name)
        if definition.required and value in (None, "", []):
            raise _fail(where, "a value is required")
        if definition.type in _POINTING and value is not None and definition.name in given:
            await _objects_exist(write, definition, value, tenant_id, where)
        if definition.unique and value is not None:
            await _unique(write, spec, definition, value, tenant_id, None if old is None else old.id, where)
    values["custom_fields"] = stored


async def _objects_exist(write: Any, definition: Definition, value: Any, tenant_id: Any, where: str) -> None:
    target = spec_by_content_type(definition.related_object_type)
    assert target is not None  # checked when the field was written
    ids = [uuid.UUID(v) for v in (value if isinstance(value, list) else [value])]
    table = target.table
    scoped = [table.c.tenant_id == tenant_id] if target.tenant_scoped else []
    # Row-level security hides what the writer may not see: that answers as "no such object".
    found = {row.id for row in await write.conn.execute(sa.select(table.c.id).where(any_of(table.c.id, ids), *scoped))}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(f"{where}: no {definition.related_object_type} with id {', '.join(missing)} in the tenant", field=where)


async def _unique(write: Any, spec: ModelSpec, definition: Definition, value: Any, tenant_id: Any, own_id: Any, where: str) -> None:
    """No other object of the type in the tenant holds the value (this transaction's
    earlier rows included: a batch of creates is checked against itself too)."""
    table = spec.table
    holder = table.c.custom_fields[definition.name]
    # Containment first: the custom fields' GIN index finds the candidates; equality then
    # keeps a list that merely contains the value out.
    held = table.c.custom_fields.op("@>", return_type=sa.Boolean())(_json({definition.name: value}))
    clash = sa.select(table.c.id).where(_owner(spec) == tenant_id, held, holder == _json(value))
    if own_id is not None:
        clash = clash.where(table.c.id != own_id)
    # Values this transaction gave: a set-based batch inserts its rows after all are checked.
    seen = write.notes.setdefault(("custom-field-values", spec.type_name, definition.name), {})
    marker = json.dumps(value, sort_keys=True)
    earlier = seen.get(marker)
    taken_here = earlier is not None and (own_id is None or earlier != own_id)
    if taken_here or (await write.conn.execute(clash.limit(1))).first() is not None:
        raise BadUserInput(f"{where}: another {spec.content_type} already has the value {marker[:100]} (the field is unique)", field=where)
    seen[marker] = own_id if own_id is not None else object()  # a create: a holder of its own


# ---------------------------------------------------------------------------------------
# The fields themselves


def register_rules(book: RuleBook) -> None:
    book.generate_before(MODEL)(_group_name_from_group)
    book.check(MODEL)(_field_is_sound)
    book.check(MODEL)(_writer_may_change_the_types)
    book.maintain_after(MODEL)(_objects_follow_the_field)
    book.maintain_before_delete(MODEL)(_objects_lose_the_field)
    book.check(CHOICE_SET)(_choice_set_is_sound)
    book.check_update(CHOICE_SET)(_choices_in_use_stay)


async def _group_name_from_group(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    if "group_id" in values or old is None:
        group_id = values.get("group_id")
        row = None
        if group_id is not None:
            table = spec_for(GROUP).table
            row = (await write.conn.execute(sa.select(table.c.name).where(table.c.id == group_id))).one_or_none()
        values["group_name"] = row.name if row is not None else ""


async def _field_is_sound(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """The field's own settings fit its type; its default is a value it accepts."""
    name = value_after(values, old, "name", "")
    kind = CustomFieldType(value_after(values, old, "type", CustomFieldType.text))
    if old is not None and "type" in values and kind != old.type:
        raise _fail("type", "a custom field's type cannot change; create a new field")
    related = value_after(values, old, "related_object_type", "")
    if kind in _POINTING:
        target = spec_by_content_type(related) if related else None
        if target is None or not target.tenant_scoped:
            raise _fail("related_object_type", f"an {kind.value} field needs the type its values point at (such as dcim.site); '{related}' is none")
    elif related:
        raise _fail("related_object_type", f"only object fields point at a type, not {kind.value} fields")
    choice_set_id = value_after(values, old, "choice_set_id")
    if (kind in _CHOOSING) != (choice_set_id is not None):
        raise _fail("choice_set", "selection fields need a choice set" if kind in _CHOOSING else f"{kind.value} fields take no choice set")
    minimum, maximum = value_after(values, old, "validation_minimum"), value_after(values, old, "validation_maximum")
    if (minimum is not None or maximum is not None) and kind not in _NUMERIC:
        raise _fail("validation_minimum" if minimum is not None else "validation_maximum", "only integer and decimal fields have bounds")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise _fail("validation_maximum", f"{maximum} is below the minimum {minimum}")
    regex = value_after(values, old, "validation_regex", "")
    if regex:
        if kind not in _PATTERNED:
            raise _fail("validation_regex", "only text, long text and URL fields have a pattern")
        try:
            re.compile(regex)
        except re.error as error:
            raise _fail("validation_regex", f"'{regex}' is not a regular expression ({error})") from None
    schema = value_after(values, old, "validation_schema")
    if schema is not None:
        if kind is not CustomFieldType.json:
            raise _fail("validation_schema", "only JSON fields have a schema")
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except (jsonschema.exceptions.SchemaError, TypeError, AttributeError) as error:
            raise _fail("validation_schema", f"not a JSON Schema: {getattr(error, 'message', error)}") from None
    for index, object_type in enumerate(value_after(values, old, "object_types", []) or []):
        target = spec_by_content_type(object_type)
        if target is not None and not fieldable(target):
            raise _fail(f"object_types.{index}", f"{object_type} objects take no custom fields")
    default = value_after(values, old, "default")
    if default is not None and (
        "default" in values or any(k in values for k in ("validation_minimum", "validation_maximum", "validation_regex", "validation_schema", "choice_set_id"))
    ):
        choices = await _choices_of(write, choice_set_id)
        definition = Definition(
            name=name, type=kind, related_object_type=related, minimum=_decimal(minimum), maximum=_decimal(maximum), regex=regex, schema=schema, **choices
        )
        checked = check_value(definition, default, "default")
        if kind in _POINTING:
            await _objects_exist(write, definition, checked, values.get("tenant_id", getattr(old, "tenant_id", None)), "default")
        values["default"] = checked


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def _choices_of(write: Any, choice_set_id: Any) -> dict[str, Any]:
    if choice_set_id is None:
        return {}
    table = spec_for(CHOICE_SET).table
    row = (await write.conn.execute(sa.select(table.c.base_choices, table.c.extra_choices).where(table.c.id == choice_set_id))).one_or_none()
    if row is None:
        return {}
    return {"base_choices": row.base_choices.value if row.base_choices else None, "extra_choices": row.extra_choices}


async def _writer_may_change_the_types(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A field changes what every object of its types must hold: only a writer who may
    change those objects may define one on them."""
    for index, object_type in enumerate(values.get("object_types") or []):
        target = spec_by_content_type(object_type)
        if target is not None and not write.principal.can("change", target.type_key):
            raise Forbidden(
                f"object_types.{index}: you may not change {object_type} objects, so you may not give them a custom field", field=f"object_types.{index}"
            )


def _types(row: Any) -> list[ModelSpec]:
    found = (spec_by_content_type(name) for name in (row.object_types or []))
    return [target for target in found if target is not None and fieldable(target)]


async def _objects_follow_the_field(write: Any, spec: ModelSpec, row: Any, old: Any) -> Any:
    write.forget(DEFINITIONS)  # a field changed: later writes read them again
    before = {target.type_name for target in _types(old)} if old is not None else set()
    after = {target.type_name: target for target in _types(row)}
    renamed = old is not None and old.name != row.name
    for target in _types(old) if old is not None else []:
        data = target.table.c.custom_fields
        if target.type_name not in after:
            await _update(write, target, row.tenant_id, _without(data, old.name), data.has_key(old.name))
        elif renamed:
            moved = _with(_without(data, old.name), row.name, data[old.name])
            await _update(write, target, row.tenant_id, moved, data.has_key(old.name))
    for name, target in after.items():
        data = target.table.c.custom_fields
        if name not in before or renamed:
            added = _with(data, row.name, _json(row.default))
            await _update(write, target, row.tenant_id, added, sa.not_(data.has_key(row.name)))
    return row


async def _objects_lose_the_field(write: Any, spec: ModelSpec, row: Any) -> None:
    write.forget(DEFINITIONS)  # a field changed: later writes read them again
    for target in _types(row):
        data = target.table.c.custom_fields
        await _update(write, target, row.tenant_id, _without(data, row.name), data.has_key(row.name))


def _json(value: Any) -> Any:
    """A JSON value as a SQL jsonb literal (null as JSON's null)."""
    return sa.cast(sa.literal(json.dumps(value), sa.Text()), JSONB())


def _without(data: Any, key: str) -> Any:
    return data.op("-", return_type=data.type)(sa.literal(key, sa.Text()))


def _with(data: Any, key: str, value: Any) -> Any:
    return data.op("||", return_type=data.type)(sa.func.jsonb_build_object(sa.literal(key, sa.Text()), value))


async def _update(write: Any, target: ModelSpec, tenant_id: Any, value: Any, condition: Any) -> None:
    await write.conn.execute(sa.update(target.table).where(_owner(target) == tenant_id, condition).values(custom_fields=value))


def _choice_values(extra_choices: Any) -> set[str]:
    return {pair[0] for pair in extra_choices or ()}


async def _choice_set_is_sound(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    extra = value_after(values, old, "extra_choices")
    base = value_after(values, old, "base_choices")
    if extra is not None:
        if not isinstance(extra, list):
            raise _fail("extra_choices", "give a list of [value, label] pairs")
        for index, pair in enumerate(extra):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) and pair[0].strip()):
                raise _fail(f"extra_choices.{index}", f"{json.dumps(pair)[:60]} is not a [value, label] pair of text")
        repeated = [value for value in _choice_values(extra) if sum(pair[0] == value for pair in extra) > 1]
        if repeated:
            raise _fail("extra_choices", f"the value '{repeated[0]}' is listed twice")
    if not extra and base is None:
        raise _fail("extra_choices", "give extra choices or base choices")


async def _choices_in_use_stay(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A choice objects still hold cannot be taken away (NetBox refuses it too)."""
    if "extra_choices" not in values:
        return
    removed = sorted(_choice_values(old.extra_choices) - _choice_values(values["extra_choices"]))
    if not removed:
        return
    table = spec_for(MODEL).table
    users = await write.conn.execute(sa.select(table.c.name, table.c.object_types).where(table.c.choice_set_id == old.id))
    for name, object_types in users:
        for object_type in object_types:
            target = spec_by_content_type(object_type)
            if target is None or not fieldable(target):
                continue
            data = target.table.c.custom_fields
            holds = sa.or_(data[name].astext.in_(removed), data[name].has_any(sa.cast(removed, sa.ARRAY(sa.Text()))))
            clash = sa.select(target.table.c.id).where(_owner(target) == old.tenant_id, holds).limit(1)
            if (await write.conn.execute(clash)).first() is not None:
                raise _fail("extra_choices", f"{object_type} objects still hold a removed choice of the field '{name}' ({', '.join(removed)[:100]})")
