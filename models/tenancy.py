"""Organisations, tenants, tenant groups and tags."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Audience, Base, OrgModel, TreeNode, color, long_text, natural_key, reference, text

# NetBox's app label for these models (content types such as "tenancy.<model>").
APP_LABEL = "tenancy"


class Organization(Base):
    """The top of the tree: a customer of Danbyte. Principals belong to one."""

    __tablename__ = "organization"
    __table_args__ = {"info": {"rls_kind": "organization"}}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()"))
    name: Mapped[str] = text(100, unique=True)
    slug: Mapped[str] = text(100, unique=True)
    created: Mapped[datetime] = mapped_column(server_default=sa.func.now())
    last_updated: Mapped[datetime] = mapped_column(server_default=sa.func.now())


class TenantGroup(TreeNode, OrgModel):
    """Nested grouping of tenants inside an organisation."""

    name: Mapped[str] = text(100, required=True)
    _name: Mapped[str | None] = natural_key()
    slug: Mapped[str] = text(100, required=True)
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))

    __table_args__ = (sa.UniqueConstraint("org_id", "slug"), sa.UniqueConstraint("org_id", "name"))


class Tenant(OrgModel):
    """The unit of isolation: every domain row belongs to exactly one tenant."""

    __tree_filters__ = {"group_id": ("group",)}

    __ordering__ = ("_name",)

    # A tenant's own change log belongs to it: other tenants' principals never see it.
    __audience__ = Audience.tenant
    __affects_principals__ = True
    __tagged__ = True

    __owner_column__ = "id"

    name: Mapped[str] = text(100, required=True)
    _name: Mapped[str | None] = natural_key()
    slug: Mapped[str] = text(100, required=True)
    group_id: Mapped[uuid.UUID | None] = reference("TenantGroup", ondelete="SET NULL", related_name="tenants")
    description: Mapped[str] = text(200)
    comments: Mapped[str] = long_text()
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))

    __table_args__ = (
        sa.UniqueConstraint("org_id", "slug"),
        sa.UniqueConstraint("org_id", "name"),
        {"info": {"rls_kind": "tenant"}},
    )


class Tag(OrgModel):
    """A label shared by the organisation's tenants; applied through TaggedItem."""

    # NetBox lists tags lightest first, then by name (root lists and an object's tags).
    __ordering__ = ("weight", "name")

    name: Mapped[str] = text(100, required=True)
    slug: Mapped[str] = text(100, required=True)
    color: Mapped[str] = color()
    description: Mapped[str] = text(200)
    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()), default=list, server_default="{}")
    """The types it may be applied to, as NetBox names them (``dcim.device``); empty: any."""
    weight: Mapped[int] = mapped_column(sa.SmallInteger(), default=1000, server_default="1000", info={"bounds": (0, 32767)})
    """Where the tag sorts among others (lightest first), as NetBox 4.3+ weighs it."""

    __table_args__ = (
        sa.UniqueConstraint("org_id", "slug"),
        sa.UniqueConstraint("org_id", "name"),
        sa.CheckConstraint("color ~ '^[0-9a-f]{6}$'", name="color_hex"),
        sa.Index("ix_tag_org_id_weight_name", "org_id", "weight", "name"),
    )


class TaggedItem(Base):
    """Generic tag assignment: (object type, object UUID) → tag, scoped by the object's tenant."""

    __tablename__ = "tagged_item"

    tag_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    object_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True)

    __table_args__ = (sa.Index("ix_tagged_item_object", "object_type", "object_id"), {"info": {"rls_kind": "tenant_link"}})
