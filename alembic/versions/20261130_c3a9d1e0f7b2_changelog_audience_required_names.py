"""Change-log entries carry their audience; names and slugs have no default

Revision ID: c3a9d1e0f7b2
Revises: b400b916ef58
Create Date: 2026-11-30

Entries for organisation-level objects used to be stored without a tenant and were
visible to every tenant's principals. Each entry now records who may read it
(``audience``) and a tenant's own entries carry its id. Names and slugs lose their ''
server default: a create must give them. Row-level security policies are applied by
``danbyte migrate`` from the models' declarations (permissions/rls.py), not here.
"""

import sqlalchemy as sa

from alembic import op

revision = "c3a9d1e0f7b2"
down_revision = "b400b916ef58"
branch_labels = None
depends_on = None

REQUIRED = {
    "rir": ("name", "slug"),
    "route_target": ("name",),
    "vrf": ("name",),
    "role": ("name", "slug"),
    "vlan_group": ("name", "slug"),
    "vlan": ("name",),
    "region": ("name", "slug"),
    "site": ("name", "slug"),
    "location": ("name", "slug"),
    "tenant_group": ("name", "slug"),
    "tenant": ("name", "slug"),
    "tag": ("name", "slug"),
}


def upgrade() -> None:
    op.add_column(
        "object_change",
        sa.Column(
            "audience",
            sa.Enum("tenant", "organization", "administrators", name="audience", native_enum=False, length=32, create_constraint=True),
            server_default="administrators",
            nullable=False,
        ),
    )
    # Existing entries: tenant-scoped ones keep their tenant; a tenant's own entries
    # become its tenant's; tags and tenant groups are the organisation's; the rest
    # (users, tokens) administrators'.
    op.execute("UPDATE object_change SET audience = 'tenant' WHERE tenant_id IS NOT NULL")
    op.execute("UPDATE object_change SET audience = 'tenant', tenant_id = object_id WHERE object_type = 'tenant'")
    op.execute("UPDATE object_change SET audience = 'organization' WHERE object_type IN ('tag', 'tenant_group')")
    for table, columns in REQUIRED.items():
        for column in columns:
            op.alter_column(table, column, server_default=None)


def downgrade() -> None:
    for table, columns in REQUIRED.items():
        for column in columns:
            op.alter_column(table, column, server_default="")
    op.execute("UPDATE object_change SET tenant_id = NULL WHERE object_type = 'tenant'")
    op.drop_column("object_change", "audience")
