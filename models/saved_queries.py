"""Saved queries: named GraphQL documents with defaults for their variables, run by name
(``GET /graphql?query_name=<name>``) for tools that can only send a GET: Grafana's JSON
data sources, spreadsheets, scripts (docs/saved-queries.md).

NetBox 4.6 has no such object; Nautobot's ``GraphQLQuery`` does (``name``, ``query``,
``variables``), and its field names are kept. A saved query belongs to a tenant and is
seen by whoever may view saved queries in that tenant; it runs with the permissions of
the caller, never of whoever wrote it. Checked when written (resolvers/saved_queries.py):
the document validates against the schema and holds queries only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantModel, text

APP_LABEL = "extras"


class SavedQuery(TenantModel):
    """A GraphQL query document kept under a name unique in its tenant."""

    __tagged__ = False
    __ordering__ = ("name",)

    name: Mapped[str] = text(100, required=True)
    """Letters, digits, ``-``, ``_`` and ``.``: it stands in a URL as ``query_name``."""
    description: Mapped[str] = text(200)
    query: Mapped[str] = mapped_column(sa.Text(), info={"required": True})
    """The GraphQL document: queries only (a GET must never write)."""
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))
    """Defaults of the document's variables, a JSON object; a caller's variables override them."""
    operation_name: Mapped[str] = text(100)
    """The operation to run when the document holds several; blank when it holds one."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.UniqueConstraint("tenant_id", "name"),)
