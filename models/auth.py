"""Users, API tokens and object permissions."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, text

# NetBox's app label for these models (content types such as "users.<model>").
APP_LABEL = "users"


class User(Base):
    """A person or automation account. Admins hold every permission in their organisation."""

    __affects_principals__ = True

    __tablename__ = "user"
    __table_args__ = {"info": {"rls_kind": "org_member"}}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    org_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = text(150, unique=True)
    email: Mapped[str] = text(254)
    password_hash: Mapped[str] = text(200)
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Empty means every tenant of the organisation.
    tenant_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(sa.Uuid()), default=list, server_default="{}")
    created: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    last_updated: Mapped[datetime] = mapped_column(server_default=sa.func.now())


class Token(Base):
    """An API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    __affects_principals__ = True

    __tablename__ = "token"
    __table_args__ = {"info": {"rls_kind": "user_owned"}}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    description: Mapped[str] = text(200)
    write_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    expires: Mapped[datetime | None] = mapped_column()
    # Empty means every tenant the user may see; otherwise a subset of them.
    tenant_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(sa.Uuid()), default=list, server_default="{}")
    created: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    last_used: Mapped[datetime | None] = mapped_column()


class ObjectPermission(Base):
    """Grants a non-admin user actions (view, add, change, delete) on object types."""

    __affects_principals__ = True

    __tablename__ = "object_permission"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.String(50)))
    actions: Mapped[list[str]] = mapped_column(ARRAY(sa.String(10)))

    __table_args__ = (
        sa.CheckConstraint("actions <@ ARRAY['view','add','change','delete']::varchar[]", name="known_actions"),
        {"info": {"rls_kind": "user_owned"}},
    )
