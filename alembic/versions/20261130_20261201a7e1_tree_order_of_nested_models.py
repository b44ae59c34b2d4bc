"""tree order of nested models

Every nested model (``TreeNode``) gets its hidden tree key ``_tree``, filled for the rows
there are (parents before children), and the triggers that keep it from then on, each
table's made from the one template of ``models/tree.py``.

Revision ID: 20261201a7e1
Revises: 20261130f7f7
Create Date: 2026-11-30 23:40:52.898092
"""

import sqlalchemy as sa

from alembic import op
from models.tree import LEVEL_SQL, backfill_sql, drop_sql, triggers_sql

revision = "20261201a7e1"
down_revision = "20261130f7f7"
branch_labels = None
depends_on = None

# The tables of TreeNode models when this revision was written: (table, numbered, scope).
# A nested model declared later adds its own in its migration (tests/test_tree_order.py
# fails until it does).
TABLES = (
    ("contact_group", True, "tenant_id"),
    ("device_role", True, "tenant_id"),
    ("location", True, "tenant_id"),
    ("platform", True, "tenant_id"),
    ("region", True, "tenant_id"),
    ("site_group", True, "tenant_id"),
    ("tenant_group", False, "org_id"),
    ("wireless_lan_group", True, "tenant_id"),
)


def upgrade() -> None:
    op.execute(LEVEL_SQL)
    for table, numbered, scope in TABLES:
        op.add_column(table, sa.Column("_tree", sa.Text(collation="C"), nullable=True))
        op.execute(backfill_sql(table, numbered=numbered, scope=scope))
        op.execute(triggers_sql(table, numbered=numbered, scope=scope))


def downgrade() -> None:
    for table, _, _ in TABLES:
        op.execute(drop_sql(table))
        op.drop_column(table, "_tree")
    op.execute("DROP FUNCTION IF EXISTS danbyte_tree_level(text, integer, uuid)")
