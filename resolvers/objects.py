"""References to an object of any type (models.base.AnyObject): the object named by
``<field>_type`` and ``<field>_id`` exists, may be seen by the writer, and is in the row's
tenant (registered in resolvers/rules.py for every model that declares one)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from models.registry import ModelSpec, spec_by_content_type, specs
from resolvers.errors import BadUserInput, NotFound
from resolvers.rules import RuleBook
from resolvers.writes import Write, parse_id


def register_rules(book: RuleBook) -> None:
    for spec in specs().values():
        if spec.any_object is not None:
            book.check(spec.type_name)(_object_exists_in_the_tenant)


async def _object_exists_in_the_tenant(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    kind_column, id_column = spec.any_object.type_column, spec.any_object.id_column
    if kind_column not in values and id_column not in values and "tenant_id" not in values:
        return
    kind = values.get(kind_column, getattr(old, kind_column, None))
    object_id = values.get(id_column, getattr(old, id_column, None))
    target = spec_by_content_type(kind) if isinstance(kind, str) else None
    if target is None or target is spec or not target.tenant_scoped or target.any_object is not None or not spec.any_object.accepts(target.type_name):
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
