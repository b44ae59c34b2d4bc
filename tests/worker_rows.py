"""Rows only workers write (check states and the like), inserted by tests as a worker writes
them: without a numid, then numbered by the statement the workers number with
(models/numid.py: number_unnumbered), so no test leaves an unnumbered row behind."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import table_of
from models.numid import number_unnumbered


async def insert_worker_row(conn: AsyncConnection, model: type, **values: Any) -> Any:
    """Insert one row of ``model`` with ``values`` and give it its tenant's next number;
    the row as written (every column, numid included)."""
    table = table_of(model)
    row_id = (await conn.execute(sa.insert(table).values(**values).returning(table.c.id))).scalar_one()
    return (await conn.execute(number_unnumbered(table.name, where="t.id = :id", returning="t.*"), {"id": row_id})).one()
