"""Rows only workers write (check states, alerts, deliveries, observations, …), inserted by
tests as a worker writes them: as the database owner, without a numid, then numbered by the
statement the workers number with (models/numid.py: number_unnumbered), so no test leaves
an unnumbered row behind.

``read_only_row`` makes a row of any read-only model from the registry alone (its required
references filled with new objects of the same tenant), for the generated suites."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from registry_samples import Samples, all_specs, creatable
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import table_of
from models.numid import number_unnumbered
from models.registry import ModelSpec, spec_for


async def insert_worker_row(conn: AsyncConnection, model: type, **values: Any) -> Any:
    """Insert one row of ``model`` with ``values`` and give it its tenant's next number;
    the row as written (every column, numid included)."""
    table = table_of(model)
    row_id = (await conn.execute(sa.insert(table).values(**values).returning(table.c.id))).scalar_one()
    return (await conn.execute(number_unnumbered(table.name, where="t.id = :id", returning="t.*"), {"id": row_id})).one()


async def read_only_row(db: Any, samples: Samples, spec: ModelSpec, tenant: Any, values: dict[str, Any] | None = None) -> Any:
    """A row of the read-only (worker-written) ``spec`` in ``tenant``, written as the owner:
    ``values`` (columns), required references and a required one-of pointing at new objects
    of the tenant (made through the API where the API can make them, else rows made the
    same way), other required columns from ``minimal_row``. Numbered where the model is."""
    given = dict(values or {})
    by_table = {s.table.name: s for s in all_specs()}
    table = spec.table
    for key in table.foreign_key_constraints:
        local = [c for c in key.columns if c.name != "tenant_id"]
        if not local or all(c.nullable for c in local) or any(c.name in given for c in local):
            continue
        (column,) = local  # (a composite key's other column is the tenant)
        given[column.name] = await object_in(db, samples, by_table[key.referred_table.name], tenant)
    for one_of in spec.one_of:
        if not one_of.nullable and not any(column in given for _, column in one_of.members):
            target, column = one_of.members[0]
            given[column] = await object_in(db, samples, spec_for(target), tenant)
    filled = minimal_row(table, skip=frozenset(given), n=samples.next_number())
    row = {"tenant_id": uuid.UUID(str(tenant)), **filled, **given}
    async with db.system_transaction() as conn:  # the owner: workers write past row-level security
        if spec.numbered:
            return await insert_worker_row(conn, spec.model, **row)
        return (await conn.execute(sa.insert(table).values(**row).returning(*table.c))).one()


async def object_in(db: Any, samples: Samples, spec: ModelSpec, tenant: Any) -> str:
    """The id of a new object of ``spec`` for a row of ``tenant`` to point at."""
    if creatable(spec):
        return (await samples.create(spec, tenant if spec.tenant_scoped else None)).id
    return str((await read_only_row(db, samples, spec, tenant)).id)


async def referenced_row(conn: AsyncConnection, table: sa.Table, tenant: uuid.UUID) -> dict:
    """Values for a row whose required references point at rows of ``tenant`` (the first
    found in each referenced table), the rest from ``minimal_row``."""
    values: dict = {}
    for key in table.foreign_key_constraints:
        local = [c for c in key.columns if c.name != "tenant_id"]
        if not local or all(c.nullable for c in local):
            continue
        target = key.referred_table
        remote = {element.parent.name: element.column for element in key.elements}
        row = (await conn.execute(sa.select(*(remote[c.name] for c in local)).where(target.c.tenant_id == tenant).limit(1))).one()
        values.update({c.name: value for c, value in zip(local, row, strict=True)})
    return {**minimal_row(table, skip=frozenset(values)), **values}


def minimal_row(table: sa.Table, skip: frozenset[str] = frozenset(), n: int = 0) -> dict:
    """Values for the columns a row must have (not null, no default), from their types alone;
    references stay unset (a required one would need its target: not supported here). Texts
    and addresses differ with ``n`` (rows of one tenant may have to be unique in them)."""
    samples = {uuid.UUID: uuid.uuid4, int: lambda: 1, str: lambda: f"x{n}", bool: lambda: False, datetime: lambda: datetime.now(UTC)}
    values = {}
    for column in table.columns:
        if column.nullable or column.default is not None or column.server_default is not None or column.name == "tenant_id" or column.name in skip:
            continue
        assert not column.foreign_keys, f"{table.name}.{column.name}: a required reference"
        kind = column.type.python_type
        if isinstance(column.type, sa.Enum):  # a choice: its first value
            values[column.name] = next(iter(column.type.enum_class or column.type.enums))  # type: ignore[call-overload]
        else:  # an address (inet) reads as object: any address will do
            values[column.name] = samples[kind]() if kind is not object else str(ipaddress.ip_address("198.18.0.1") + n)
    return values
