"""The change log: one row per written object, with before/after snapshots."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Audience, Base, choice, text
from models.choices import ChangeAction
from models.display import choice_label

# NetBox's app label for these models (content types such as "core.<model>").
APP_LABEL = "core"


class ObjectChange(Base):
    __display__ = f"{{s}}.object_type || ' ' || {{s}}.object_repr || ' ' || {choice_label('action', {'create': 'created', 'update': 'updated', 'delete': 'deleted'})} || ' by ' || coalesce({{s}}.user_name, '')"
    __tablename__ = "object_change"
    __graphql_name__ = "changelog"
    __exposed__ = True
    __read_only__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    # The tenant whose principals may read the entry (a tenant's own entries carry its
    # id); NULL for organisation-wide objects and accounts.
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # Who may read the entry, copied from the model's declaration when it was written.
    audience: Mapped[Audience] = choice(Audience, default=Audience.administrators, server_default="administrators")
    time: Mapped[datetime] = mapped_column(server_default=sa.func.now(), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    user_name: Mapped[str] = text(150)
    request_id: Mapped[uuid.UUID] = mapped_column(index=True)
    action: Mapped[ChangeAction] = choice(ChangeAction)
    object_type: Mapped[str] = mapped_column(sa.String(50))
    object_id: Mapped[uuid.UUID] = mapped_column()
    object_numid: Mapped[int | None] = mapped_column()
    object_repr: Mapped[str] = text(200)
    prechange_data: Mapped[dict[str, Any] | None] = mapped_column()
    postchange_data: Mapped[dict[str, Any] | None] = mapped_column()
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(sa.String(64)), default=list, server_default="{}")

    __table_args__ = (sa.Index("ix_object_change_object", "object_type", "object_id"), {"info": {"rls_kind": "changelog"}})


class NumidCounter(Base):
    """Last numid handed out per (tenant, object type)."""

    __tablename__ = "numid_counter"
    __table_args__ = {"info": {"rls_kind": "tenant_link"}}

    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    last: Mapped[int] = mapped_column(sa.Integer(), default=0)
