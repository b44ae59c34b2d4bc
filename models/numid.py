"""Per (tenant, object type) human numbers: allocation and backfill.

Allocation takes the counter row's lock for the rest of the transaction, so concurrent
creates in one tenant queue on it and never share or skip a number.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import TenantModel, all_models, table_of
from models.changelog import NumidCounter


async def allocate_numids(conn: AsyncConnection, tenant_id: uuid.UUID, object_type: str, count: int) -> list[int]:
    """Reserve ``count`` consecutive numbers and return them."""
    counter = table_of(NumidCounter)
    statement = (
        insert(counter)
        .values(tenant_id=tenant_id, object_type=object_type, last=count)
        .on_conflict_do_update(index_elements=["tenant_id", "object_type"], set_={"last": counter.c.last + count})
        .returning(counter.c.last)
    )
    last = (await conn.execute(statement)).scalar_one()
    return list(range(last - count + 1, last + 1))


def numbered_tables() -> list[sa.Table]:
    return [table_of(m) for m in all_models() if issubclass(m, TenantModel)]


async def catch_up_counter(conn: AsyncConnection, table: sa.Table) -> None:
    """Move each tenant's counter of ``table`` past the highest number its rows hold
    (rows written with their numbers: by hand, or imported with NetBox's ids)."""
    await conn.execute(
        sa.text(
            f"""
            INSERT INTO numid_counter (tenant_id, object_type, last)
            SELECT tenant_id, :type, max(numid) FROM "{table.name}" WHERE numid IS NOT NULL GROUP BY tenant_id
            ON CONFLICT (tenant_id, object_type) DO UPDATE SET last = greatest(numid_counter.last, excluded.last)
            """
        ),
        {"type": table.name},
    )


async def assign_missing_numids(conn: AsyncConnection, tables: list[sa.Table] | None = None) -> int:
    """Number unnumbered rows (of ``tables``, default every numbered table) in creation
    order, after each counter's last value.

    Idempotent: a second run finds nothing to number and changes nothing.
    """
    counter = table_of(NumidCounter)
    total = 0
    for table in numbered_tables() if tables is None else tables:
        # Counters first catch up with numbers already present (rows inserted by hand).
        await catch_up_counter(conn, table)
        result = await conn.execute(
            sa.text(
                f"""
                WITH todo AS (
                    SELECT t.id, t.tenant_id,
                           coalesce(c.last, 0) + row_number() OVER (PARTITION BY t.tenant_id ORDER BY t.created, t.id) AS n
                    FROM "{table.name}" t
                    LEFT JOIN numid_counter c ON c.tenant_id = t.tenant_id AND c.object_type = :type
                    WHERE t.numid IS NULL
                ), numbered AS (
                    UPDATE "{table.name}" t SET numid = todo.n FROM todo WHERE t.id = todo.id
                    RETURNING todo.tenant_id, todo.n
                )
                SELECT tenant_id, max(n) AS last, count(*) AS numbered FROM numbered GROUP BY tenant_id
                """
            ),
            {"type": table.name},
        )
        for tenant_id, last, numbered in result.all():
            total += numbered
            await conn.execute(
                insert(counter)
                .values(tenant_id=tenant_id, object_type=table.name, last=last)
                .on_conflict_do_update(index_elements=["tenant_id", "object_type"], set_={"last": last})
            )
    return total
