"""Stamping out components from templates: a device's from its type, a module's from its
module type.

Nothing here names a kind. A template model names the component it becomes
(``__component__``); a template's columns are copied onto the component's columns of the
same name, and a template's reference to another template (an outlet's power port, a
front port's mapping, an inventory item's component) becomes a reference to the
component stamped from that template. Every kind of one owner is inserted in one
statement per kind, each row logged under the request's id.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import sqlalchemy as sa

from models.base import Ref, model_by_name
from models.registry import SYSTEM_COLUMNS, ModelSpec, spec_for, specs
from resolvers.writes import Write

# The columns naming a template's owner; the component gets its own owner columns instead.
TEMPLATE_OWNERS = ("device_type_id", "module_type_id")
# What ``{module}`` in a template's name or label becomes: the module bay's position.
MODULE_TOKEN = "{module}"


@cache
def template_specs() -> tuple[ModelSpec, ...]:
    """Every template kind, in declaration order (a kind after those it refers to)."""
    return tuple(spec for spec in specs().values() if getattr(spec.model, "__component__", None))


def component_of(template: ModelSpec) -> ModelSpec:
    return spec_for(template.model.__component__)  # type: ignore[attr-defined]


def is_template(model_name: str) -> bool:
    return bool(getattr(model_by_name(model_name), "__component__", None))


@cache
def _column_map(template_name: str) -> tuple[tuple[str, str, bool], ...]:
    """(template column, component column, holds a template id) for every copied column."""
    template = spec_for(template_name)
    component = component_of(template)
    targets = set(component.table.c.keys())
    mapped: list[tuple[str, str, bool]] = []
    for column in template.table.columns:
        if column.name in SYSTEM_COLUMNS or column.name in TEMPLATE_OWNERS or column.name == "custom_fields":
            continue
        ref: Ref | None = column.info.get("ref")
        if ref is not None and is_template(ref.target):
            stamped = model_by_name(ref.target).__component__  # type: ignore[attr-defined]
            one_of = column.info.get("one_of")
            name = _one_of_column(component, one_of, stamped) if one_of else column.name
            mapped.append((column.name, name, True))
        elif column.name in targets:
            mapped.append((column.name, column.name, False))
    return tuple(mapped)


def _one_of_column(component: ModelSpec, field: str, target: str) -> str:
    one_of = next(o for o in component.one_of if o.name == field)
    return dict(one_of.members)[target]


async def _templates(write: Write, owner_column: str, owner_id: uuid.UUID) -> list[tuple[ModelSpec, list[sa.Row]]]:
    """Every template of one owner, by kind; read once per write (forty devices of one type
    in one transaction read their type's templates once)."""

    async def load() -> list[tuple[ModelSpec, list[sa.Row]]]:
        kinds = [template for template in template_specs() if owner_column in template.table.c]  # some kinds have no module type
        found = []
        for template in kinds:
            table = template.table
            found.append((template, list((await write.conn.execute(sa.select(table).where(table.c[owner_column] == owner_id))).all())))
        return found

    return await write.remember(("templates", owner_column, owner_id), load)


async def stamp(write: Write, owner_column: str, owner_id: uuid.UUID, owners: dict[str, Any], module_position: str | None = None) -> None:
    """Create the components of every template whose ``owner_column`` is ``owner_id``, with
    the component owner columns ``owners`` (``{"device_id": …, "module_id": …}``)."""
    found: list[tuple[ModelSpec, list[sa.Row]]] = []
    stamped_ids: dict[uuid.UUID, uuid.UUID] = {}
    for template, rows in await _templates(write, owner_column, owner_id):
        for row in rows:
            stamped_ids[row.id] = uuid.uuid4()
        found.append((template, rows))
    for template, rows in found:
        if not rows:
            continue
        component = component_of(template)
        own = {name: value for name, value in owners.items() if name in component.table.c}
        values = []
        for row in rows:
            value: dict[str, Any] = {"id": stamped_ids[row.id], "tenant_id": row.tenant_id, **own}
            for source, target, holds_template in _column_map(template.type_name):
                data = getattr(row, source)
                if holds_template:
                    data = stamped_ids.get(data) if data is not None else None
                elif module_position is not None and isinstance(data, str) and source in ("name", "label"):
                    data = data.replace(MODULE_TOKEN, module_position)
                value[target] = data
            values.append(value)
        await write.insert_many(component, values)
