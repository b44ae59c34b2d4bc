"""SQL pieces every read and write path shares."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY


def any_of(column: sa.ColumnElement[Any], values: Any) -> sa.ColumnElement[bool]:
    """``column = ANY(:array)``: one parameter however long the list (``IN`` binds one per
    value, and PostgreSQL takes at most 65,535 per statement), and the same plan for 10 or
    10,000 values."""
    item = column.type
    values = list(values)
    if isinstance(item, sa.String):
        # Not the column's varchar(n)[]: that cast would silently truncate longer values.
        # Choices (sa.Enum is a String) compare by their text.
        item = sa.String()
        values = [v.value if isinstance(v, enum.Enum) else v for v in values]
    return column == sa.any_(sa.literal(values, ARRAY(item)))
