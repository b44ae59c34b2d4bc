"""Virtualization: a new virtual machine takes its type's defaults (registered in
resolvers/rules.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.registry import ModelSpec, spec_for
from resolvers.rules import RuleBook
from resolvers.writes import Write

VM, VM_TYPE = "VirtualMachine", "VirtualMachineType"
# A VM's column → its type's default for it (NetBox's apply_type_defaults).
TYPE_DEFAULTS = {"platform_id": "default_platform_id", "vcpus": "default_vcpus", "memory": "default_memory"}


def register_rules(book: RuleBook) -> None:
    book.generate_before(VM)(_type_defaults)


async def _type_defaults(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """On create only, as NetBox: what the VM leaves empty comes from its type's defaults."""
    if old is not None or values.get("virtual_machine_type_id") is None:
        return
    empty = [column for column in TYPE_DEFAULTS if values.get(column) is None]
    if not empty:
        return
    table = spec_for(VM_TYPE).table
    statement = sa.select(*(table.c[TYPE_DEFAULTS[column]] for column in empty)).where(table.c.id == values["virtual_machine_type_id"])
    defaults = (await write.conn.execute(statement)).one_or_none()
    if defaults is None:
        return  # the reference check has named it already
    for column, value in zip(empty, defaults, strict=True):
        if value is not None:
            values[column] = value
