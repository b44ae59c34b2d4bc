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


def number_unnumbered(table: str, where: str = "true", order: str = "created, id", returning: str | None = None) -> sa.TextClause:
    """One statement that numbers the unnumbered rows of ``table`` matching ``where`` (SQL
    over alias ``t``, may hold bind parameters), per tenant in ``order``, after each
    counter's last value; the counter ends at the highest number given.

    The counter is bumped by the rows' count with ``INSERT … ON CONFLICT … RETURNING``
    before any row is numbered: the bump takes the counter row's lock, so a concurrent
    allocation or numbering queues on it and gets the range after this one, never the same
    numbers. ``returning`` (over alias ``t``) makes the statement return the numbered rows;
    without it, it returns one row: how many it numbered.

    ``table``, ``where`` and ``order`` are SQL written in code, never user input.
    """
    update = f"""
        UPDATE "{table}" t SET numid = b.last - new.total + new.n
        FROM new JOIN bumped b ON b.tenant_id = new.tenant_id
        WHERE t.id = new.id AND t.numid IS NULL  -- numbered meanwhile by another: keeps its number
        RETURNING {returning or "1"}
    """
    return sa.text(
        f"""
        WITH new AS (
            SELECT t.id, t.tenant_id,
                   row_number() OVER (PARTITION BY t.tenant_id ORDER BY {order}) AS n,
                   count(*) OVER (PARTITION BY t.tenant_id) AS total
            FROM "{table}" t WHERE t.numid IS NULL AND ({where})
        ), bumped AS (
            INSERT INTO numid_counter (tenant_id, object_type, last)
            SELECT tenant_id, '{table}', max(total) FROM new GROUP BY tenant_id
            ON CONFLICT (tenant_id, object_type) DO UPDATE SET last = numid_counter.last + excluded.last
            RETURNING tenant_id, last
        )"""
        + (update if returning else f", numbered AS ({update}) SELECT count(*) FROM numbered")
    )


async def assign_missing_numids(conn: AsyncConnection, tables: list[sa.Table] | None = None) -> int:
    """Number unnumbered rows (of ``tables``, default every numbered table) in creation
    order, after each counter's last value: two statements a table.

    Idempotent: a second run finds nothing to number and changes nothing.
    """
    total = 0
    for table in numbered_tables() if tables is None else tables:
        # Counters first catch up with numbers already present (rows inserted by hand).
        await catch_up_counter(conn, table)
        total += (await conn.execute(number_unnumbered(table.name, order="t.created, t.id"))).scalar_one()
    return total
