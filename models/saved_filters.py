"""Saved filters: named filter parameters for some object types, kept for reuse (NetBox 4.6
``extras.SavedFilter``).

A NetBox saved filter also names its owner (``user``) and, unless ``shared``, is shown
to that owner alone. Danbyte objects belong to tenants, not users: a saved filter is
seen by whoever may view saved filters in its tenant, and ``shared`` is kept as data."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantModel, text

# An extras model in NetBox (content type "extras.savedfilter"), declared in a module of
# its own.
APP_LABEL = "extras"


class SavedFilter(TenantModel):
    """A named set of filter parameters for objects of some types, lightest weight first."""

    __tagged__ = False  # NetBox's saved filters take no tags
    __ordering__ = ("weight", "name")

    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()), info={"required": True})
    """The types it filters, at least one, as NetBox names them (``dcim.device``)."""
    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=100, server_default="100", info={"bounds": (0, 32767)})
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    shared: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    parameters: Mapped[dict[str, Any]] = mapped_column()
    """The filter's parameters, a JSON object (NetBox's keyword arguments)."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"), sa.UniqueConstraint("tenant_id", "slug"))
