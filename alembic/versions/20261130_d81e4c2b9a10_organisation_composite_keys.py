"""Organisation-wide references carry the organisation in their key

Revision ID: d81e4c2b9a10
Revises: c3a9d1e0f7b2
Create Date: 2026-11-30

A tenant's group and a tenant group's parent were plain foreign keys on ``id``: only the
application kept them inside one organisation. Like tenant-scoped references, they are
now composite ``(org_id, x_id) → x(org_id, id)``.
"""

from alembic import op

revision = "d81e4c2b9a10"
down_revision = "c3a9d1e0f7b2"
branch_labels = None
depends_on = None

ORG_TABLES = ("tenant_group", "tenant", "tag")


def upgrade() -> None:
    for table in ORG_TABLES:
        op.create_unique_constraint(f"uq_{table}_org_id_id", table, ["org_id", "id"])
    op.drop_constraint("fk_tenant_group_parent_id", "tenant_group", type_="foreignkey")
    op.create_foreign_key("fk_tenant_group_org_id_parent_id", "tenant_group", "tenant_group", ["org_id", "parent_id"], ["org_id", "id"], ondelete="RESTRICT")
    op.drop_constraint("fk_tenant_group_id", "tenant", type_="foreignkey")
    op.create_foreign_key("fk_tenant_org_id_group_id", "tenant", "tenant_group", ["org_id", "group_id"], ["org_id", "id"], ondelete="SET NULL (group_id)")


def downgrade() -> None:
    op.drop_constraint("fk_tenant_org_id_group_id", "tenant", type_="foreignkey")
    op.create_foreign_key("fk_tenant_group_id", "tenant", "tenant_group", ["group_id"], ["id"], ondelete="SET NULL")
    op.drop_constraint("fk_tenant_group_org_id_parent_id", "tenant_group", type_="foreignkey")
    op.create_foreign_key("fk_tenant_group_parent_id", "tenant_group", "tenant_group", ["parent_id"], ["id"], ondelete="RESTRICT")
    for table in ORG_TABLES:
        op.drop_constraint(f"uq_{table}_org_id_id", table, type_="unique")
