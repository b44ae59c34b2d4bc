"""References to an object of any type (models.base.AnyObject): the object named by
``<field>_type`` and ``<field>_id`` exists, may be seen by the writer, and is in the row's
tenant (registered in resolvers/rules.py for every model that declares one). Lists of
object types (an export template's or saved filter's ``object_types``) name known types."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from models.registry import Kind, ModelSpec, spec_by_content_type, specs
from resolvers.errors import BadUserInput, NotFound
from resolvers.rules import RuleBook
from resolvers.writes import Write, parse_id


def register_rules(book: RuleBook) -> None:
    for spec in specs().values():
        if spec.any_object is not None:
            book.check(spec.type_name)(_object_exists_in_the_tenant)
        types = spec.scalar(OBJECT_TYPES)
        if types is not None and types.kind is Kind.strings:
            book.check(spec.type_name)(object_types_known)


# A list of content types (``dcim.device``) by NetBox's field name for one.
OBJECT_TYPES = "object_types"


async def object_types_known(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """Every name in ``object_types`` is a type of the graph; repeats are dropped."""
    if values.get(OBJECT_TYPES) is None:
        return
    for index, name in enumerate(values[OBJECT_TYPES]):
        if spec_by_content_type(name) is None:
            raise BadUserInput(f"{OBJECT_TYPES}: '{name}' names no type (such as dcim.device)", field=f"{OBJECT_TYPES}.{index}")
    values[OBJECT_TYPES] = list(dict.fromkeys(values[OBJECT_TYPES]))


async def _object_exists_in_the_tenant(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    kind_column, id_column = spec.any_object.type_column, spec.any_object.id_column
    if kind_column not in values and id_column not in values and "tenant_id" not in values:
        return
    kind = values.get(kind_column, getattr(old, kind_column, None))
    object_id = values.get(id_column, getattr(old, id_column, None))
    target = spec_by_content_type(kind) if isinstance(kind, str) else None
    if target is None or not spec.may_point_at(target):
        raise BadUserInput(f"{kind_column}: '{kind}' names no type an object of which can be pointed at (such as dcim.site)", field=kind_column)
    if not isinstance(object_id, uuid.UUID):
        object_id = parse_id(object_id, id_column)
        if id_column in values:
            values[id_column] = object_id
    table = target.table
    # Row-level security hides what the writer may not see: that answers as "no such object".
    found = (await write.conn.execute(sa.select(table.c.tenant_id).where(table.c.id == object_id))).one_or_none()
    tenant = values.get("tenant_id", getattr(old, "tenant_id", None))
    if found is None or (tenant is not None and found.tenant_id != tenant):
        raise NotFound(f"{id_column}: no {kind} with id {object_id}", field=id_column)
