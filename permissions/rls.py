"""Row-level security: the database, not the resolvers, decides what a request may see.

Requests run as the role ``danbyte_app`` (``SET LOCAL ROLE`` inside their transaction),
which owns nothing and is no superuser, so every policy below applies to it. The
principal is described by per-transaction settings:

- ``danbyte.org``, ``danbyte.tenants``, ``danbyte.all_tenants``: the organisation, the
  tenants it may reach, and whether no tenant list narrows it;
- ``danbyte.view_all`` / ``danbyte.view_types``: the object types whose rows it may
  read (administrators: all);
- ``danbyte.org_admin``: an administrator of the whole organisation.

Every table's policy is derived from its model's declaration (``table_kind``), so a model
added later is protected the same way the day it is declared; a test compares the
policies in the database with ``expected_policies()``. Reads check the tenant *and* the
per-type view grant, so a relation, a reverse relation, a related-object filter or a
join can never return a row whose type the principal may not view: this is the one
choke point for every read path. Writes to organisation-wide objects need a principal
that no tenant list narrows.

Migrations and system jobs run as the owner and are not restricted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from permissions.principal import Principal

APP_ROLE = "danbyte_app"

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION danbyte_tenants() RETURNS uuid[] LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('danbyte.tenants', true), ''), '{}')::uuid[] $$;
CREATE OR REPLACE FUNCTION danbyte_all_tenants() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('danbyte.all_tenants', true), ''), 'off')::boolean $$;
CREATE OR REPLACE FUNCTION danbyte_org() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('danbyte.org', true), '')::uuid $$;
"""

# Added by the per-type view migration.
VIEW_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION danbyte_may_view(object_type text) RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('danbyte.view_all', true), ''), 'off')::boolean
       OR object_type = ANY (coalesce(nullif(current_setting('danbyte.view_types', true), ''), '{}')::text[]) $$;
CREATE OR REPLACE FUNCTION danbyte_org_admin() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('danbyte.org_admin', true), ''), 'off')::boolean $$;
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

# Settings are read through scalar subqueries, which PostgreSQL evaluates once per
# statement (an InitPlan) instead of once per row.
_TENANTS = "(SELECT danbyte_tenants())::uuid[]"
_ORG = "(SELECT danbyte_org())"
_ALL_TENANTS = "(SELECT danbyte_all_tenants())"
_IN_TENANT = f"tenant_id = ANY ({_TENANTS})"
_IN_ORG = f"org_id = {_ORG}"
_ORG_WIDE_WRITER = f"{_IN_ORG} AND {_ALL_TENANTS}"
_USER_IN_ORG = f'user_id IN (SELECT id FROM "user" WHERE {_IN_ORG})'


def _may_view(object_type: str) -> str:
    return f"(SELECT danbyte_may_view({object_type}))"


_MAY_VIEW_OWN_TYPE = _may_view("'{type}'")

# A change-log entry is readable by whoever may see the object it records.
_CHANGELOG_READ = (
    f"{_IN_ORG} AND {_MAY_VIEW_OWN_TYPE} AND danbyte_may_view(object_type)"
    " AND CASE audience"
    " WHEN 'administrators' THEN (SELECT danbyte_org_admin())"
    " WHEN 'organization' THEN true"
    f" ELSE {_IN_TENANT} OR {_ALL_TENANTS} END"
)


@dataclass(frozen=True)
class Policy:
    """What the request role may read, and what it may insert, update or delete."""

    read: str
    write: str


# {type} is the table's object type (its name), for the per-type view grant.
POLICY_BY_KIND = {
    # Domain objects: their tenant, and the view grant on their type.
    "tenant_scoped": Policy(f"{_IN_TENANT} AND {_MAY_VIEW_OWN_TYPE}", _IN_TENANT),
    # Association rows, tag assignments, counters: the rows they join carry the grants.
    # A tenant created in this very transaction (tagged as it is created) is not in the
    # tenant list set when the transaction began: an unrestricted principal may write
    # rows of any tenant of its organisation.
    "tenant_link": Policy(_IN_TENANT, f"{_IN_TENANT} OR ({_ALL_TENANTS} AND tenant_id IN (SELECT id FROM tenant WHERE {_IN_ORG}))"),
    # Tenants: a principal sees its own (all of the organisation's when unrestricted).
    "tenant": Policy(
        f"(id = ANY ({_TENANTS}) OR ({_ALL_TENANTS} AND {_IN_ORG})) AND {_MAY_VIEW_OWN_TYPE}",
        _ORG_WIDE_WRITER,
    ),
    "organization": Policy(f"id = {_ORG}", "false"),
    # Shared by every tenant of the organisation (tags, tenant groups).
    "org_scoped": Policy(f"{_IN_ORG} AND {_MAY_VIEW_OWN_TYPE}", _ORG_WIDE_WRITER),
    # Accounts: the admin mutations decide who may manage which (schema/admin.py).
    "org_member": Policy(_IN_ORG, _IN_ORG),
    "user_owned": Policy(_USER_IN_ORG, _USER_IN_ORG),
    "changelog": Policy(_CHANGELOG_READ, _IN_ORG),
}


def table_kind(table: sa.Table) -> str:
    """The policy kind of a table, from its model's place on the ladder."""
    from models.base import Base, OrgModel, TenantScoped

    if table.info.get("rls_kind"):
        return table.info["rls_kind"]
    if table.info.get("tenant_scoped"):
        return "tenant_link"
    model = next((m.class_ for m in Base.registry.mappers if m.local_table is table), None)
    if model is not None and issubclass(model, TenantScoped):
        return "tenant_scoped"
    if model is not None and issubclass(model, OrgModel):
        return "org_scoped"
    raise LookupError(f"table {table.name} declares no row-level security kind (set info['rls_kind'])")


def expected_policies(metadata: sa.MetaData) -> dict[str, Policy]:
    """Table name → its policy, for every table of the metadata."""
    result = {}
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        kind = table_kind(table)
        policy = POLICY_BY_KIND[kind]
        # A hidden table holding data of an exposed one (an image's bytes) is read under
        # the view grant of that one's type (``view_as``).
        kind_of = table.info.get("view_as", table.name)
        result[table.name] = Policy(policy.read.format(type=kind_of), policy.write.format(type=kind_of))
    return result


def protect_table_sql(table: str, policy: Policy) -> str:
    """Enable RLS on ``table`` with a read policy and write policies; grant the request role DML."""
    return (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;\n'
        f'DROP POLICY IF EXISTS {table}_isolation ON "{table}";\n'
        f'DROP POLICY IF EXISTS {table}_read ON "{table}";\n'
        f'DROP POLICY IF EXISTS {table}_insert ON "{table}";\n'
        f'DROP POLICY IF EXISTS {table}_update ON "{table}";\n'
        f'DROP POLICY IF EXISTS {table}_delete ON "{table}";\n'
        f'CREATE POLICY {table}_read ON "{table}" FOR SELECT USING ({policy.read});\n'
        f'CREATE POLICY {table}_insert ON "{table}" FOR INSERT WITH CHECK ({policy.write});\n'
        f'CREATE POLICY {table}_update ON "{table}" FOR UPDATE USING ({policy.write}) WITH CHECK ({policy.write});\n'
        f'CREATE POLICY {table}_delete ON "{table}" FOR DELETE USING ({policy.write});\n'
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {APP_ROLE};\n'
    )


def policy_digest(table: str, policy: Policy) -> str:
    return "danbyte:" + hashlib.sha256(protect_table_sql(table, policy).encode()).hexdigest()[:16]


def applied_digests(conn: sa.Connection) -> dict[str, str]:
    """Table → the digest recorded on its read policy (what was applied last)."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, d.description FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
            " JOIN pg_description d ON d.objoid = p.oid WHERE p.polname = c.relname || '_read'"
        )
    )
    return {name: description for name, description in rows}


def apply_policies(conn: sa.Connection, metadata: sa.MetaData) -> list[str]:
    """Bring every table's policies in line with its declaration; return the tables changed.

    Runs after the migrations (``danbyte migrate``), so a new model is protected without a
    hand-written migration step. Tables whose policies already match are left alone (no
    exclusive locks on a running system)."""
    conn.execute(sa.text(FUNCTIONS_SQL + VIEW_FUNCTIONS_SQL))
    applied = applied_digests(conn)
    changed = []
    for table, policy in expected_policies(metadata).items():
        digest = policy_digest(table, policy)
        if applied.get(table) == digest:
            continue
        conn.execute(sa.text(protect_table_sql(table, policy)))
        conn.execute(sa.text(f"COMMENT ON POLICY {table}_read ON \"{table}\" IS '{digest}'"))
        changed.append(table)
    return changed


def legacy_protect_table_sql(table: str, kind: str) -> str:
    """The first migration's single policy per table (kept so that migration replays as it did)."""
    condition = _LEGACY_POLICY_BY_KIND[kind]
    return (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;\n'
        f'CREATE POLICY {table}_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition});\n'
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {APP_ROLE};\n'
    )


_LEGACY_POLICY_BY_KIND = {
    "tenant_scoped": "tenant_id = ANY (danbyte_tenants())",
    "tenant": "id = ANY (danbyte_tenants()) OR (danbyte_all_tenants() AND org_id = danbyte_org())",
    "organization": "id = danbyte_org()",
    "org_scoped": "org_id = danbyte_org()",
    "changelog": "org_id = danbyte_org() AND (tenant_id IS NULL OR tenant_id = ANY (danbyte_tenants()))",
    "user_owned": 'user_id IN (SELECT id FROM "user" WHERE org_id = danbyte_org())',
}


# One round trip. A principal without a tenant list gets every tenant of its organisation
# as of now (so a tenant created a moment ago is included); the subquery runs first,
# while still the owner, before the role switch makes row-level security apply.
SET_PRINCIPAL = sa.text(
    "SELECT set_config('danbyte.tenants', CASE WHEN CAST(:all AS text) = 'on' THEN"
    " (SELECT coalesce(array_agg(id), '{}')::text FROM tenant WHERE org_id = CAST(:org AS uuid))"
    " ELSE CAST(:tenants AS text) END, true),"
    " set_config('danbyte.org', CAST(:org AS text), true), set_config('danbyte.all_tenants', CAST(:all AS text), true),"
    " set_config('danbyte.view_all', CAST(:view_all AS text), true),"
    " set_config('danbyte.view_types', CAST(:view_types AS text), true),"
    " set_config('danbyte.org_admin', CAST(:org_admin AS text), true),"
    " set_config('role', CAST(:role AS text), true)"
)


def _flag(value: bool) -> str:
    return "on" if value else "off"


def principal_settings(principal: Principal, writing: bool = False) -> dict[str, str]:
    """The per-transaction settings the policies above read (run by ``SET_PRINCIPAL``)."""
    readable = principal.readable_types(writing)
    return {
        "role": APP_ROLE,
        "tenants": tenants_literal(principal.tenant_ids),
        "org": str(principal.org_id),
        "all": _flag(principal.all_tenants),
        "view_all": _flag(readable is None),
        "view_types": "{" + ",".join(sorted(readable or ())) + "}",
        "org_admin": _flag(principal.unrestricted_admin),
    }


def tenants_literal(tenant_ids: frozenset) -> str:
    return "{" + ",".join(str(t) for t in sorted(tenant_ids, key=str)) + "}"
