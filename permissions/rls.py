"""Row-level security: the database, not the resolvers, keeps tenants apart.

Requests run as the role ``danbyte_app`` (``SET LOCAL ROLE`` inside their transaction),
which owns nothing and is no superuser, so every policy below applies to it. The
allowed tenants and the organisation are per-transaction settings
(``danbyte.tenants``, ``danbyte.org``): a query that forgets a filter sees nothing of
anyone else. Migrations and system jobs run as the owner and are not restricted.
"""

from __future__ import annotations

APP_ROLE = "danbyte_app"

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION danbyte_tenants() RETURNS uuid[] LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('danbyte.tenants', true), ''), '{}')::uuid[] $$;
CREATE OR REPLACE FUNCTION danbyte_all_tenants() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('danbyte.all_tenants', true), ''), 'off')::boolean $$;
CREATE OR REPLACE FUNCTION danbyte_org() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('danbyte.org', true), '')::uuid $$;
"""

ROLE_SQL = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END $$;
GRANT {APP_ROLE} TO current_user;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
"""

# Which rows of a table the request role sees, by kind of table.
POLICY_BY_KIND = {
    "tenant_scoped": "tenant_id = ANY (danbyte_tenants())",
    # A principal with no tenant list owns the whole organisation, new tenants included.
    "tenant": "id = ANY (danbyte_tenants()) OR (danbyte_all_tenants() AND org_id = danbyte_org())",
    "organization": "id = danbyte_org()",
    "org_scoped": "org_id = danbyte_org()",
    "changelog": "org_id = danbyte_org() AND (tenant_id IS NULL OR tenant_id = ANY (danbyte_tenants()))",
    "user_owned": 'user_id IN (SELECT id FROM "user" WHERE org_id = danbyte_org())',
}


def protect_table_sql(table: str, kind: str) -> str:
    """Enable RLS on ``table``, add its policy and grant the request role DML on it."""
    condition = POLICY_BY_KIND[kind]
    return (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;\n'
        f'CREATE POLICY {table}_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition});\n'
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {APP_ROLE};\n'
    )
