"""The tree key of nested models (``TreeNode._tree``), kept by the database.

NetBox lists its nested models (regions, site groups, locations, tenant and contact groups,
wireless LAN groups, device roles, platforms) through django-mptt's ``TreeManager``:
``ORDER BY tree_id, lft``, depth first, each parent before its children, siblings and roots
by name. Danbyte keeps one text column per row that sorts the same way byte by byte: the
path of per-level keys from the root, each level

    natural name key ‖ \\x01 ‖ numid, ten digits (the id where there is none) ‖ \\x02

``\\x01`` sorts below every character a name key holds (both control characters are taken
out of it), so "a" and all its descendants come before its sibling "a b"; a parent's key is
a prefix of its children's, so it comes first; the number breaks ties between siblings
whose names have one key and makes every key unique in its tenant.

Every writer keeps it right because the database computes it: per table, a BEFORE trigger
derives the row's key from its parent's whenever the parent, the name, its key or the number
is written (or the key itself: nothing a client sends survives), and an AFTER trigger
re-keys the row's direct children when its key changed, which cascades down the subtree.
Both triggers are made from the one template below by the migrations, for each table of a
``TreeNode`` model; tests/test_tree_order.py checks every such table has them.

Row-level security: the BEFORE trigger runs as the writer (SECURITY INVOKER), so it reads
the parent under the writer's own policies and never sees another tenant's row. A parent
the writer may not read, or one written later in the same statement (a batch listing a
child before its parent), leaves the key NULL; the AFTER trigger then computes it as the
owner (SECURITY DEFINER). An AFTER trigger fires only for a row that passed the writer's
policies, and it reads and writes only rows of that row's own tenant (or organisation), by
its scope column, as the composite foreign keys already require.

The parent is read ``FOR SHARE``: a child written while another transaction re-keys its
parent waits for that to commit and reads the new key, and a re-keying waits for children
being written under the parent. (A transaction renaming a child while another renames its
parent can deadlock; PostgreSQL then aborts one of them.)
"""

from __future__ import annotations

# One SQL function, shared by every table: the key of one level. Immutable: a row's level
# depends on its own values only.
LEVEL_SQL = r"""
CREATE OR REPLACE FUNCTION danbyte_tree_level(sort_name text, numid integer, id uuid) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(sort_name, chr(1) || chr(2), '') || chr(1) || coalesce(lpad(numid::text, 10, '0'), id::text) || chr(2)
$$;
"""

# {table}: the table; {scope}: tenant_id or org_id; {numid}: NEW.numid, or NULL::integer
# for a table without numbers; {written}: the columns whose writes change the key.
TRIGGERS_SQL = r"""
CREATE OR REPLACE FUNCTION "{table}_tree_key"() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE
    own text := danbyte_tree_level(coalesce(NEW._name, NEW.name), {numid}, NEW.id);
    above text;
BEGIN
    IF NEW.parent_id IS NULL THEN
        NEW._tree := own;
        RETURN NEW;
    END IF;
    -- Under the writer's row-level security: NULL when it may not read the parent.
    SELECT p._tree INTO above FROM "{table}" p WHERE p.{scope} = NEW.{scope} AND p.id = NEW.parent_id FOR SHARE;
    -- A level's number part (from its one \x01) found above: the row would be its own ancestor.
    IF strpos(above, substr(own, strpos(own, chr(1)))) > 0 THEN
        -- Named after the parent's key, so the write path's error names the field.
        RAISE EXCEPTION 'a {table} cannot be nested inside itself or its own descendants'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'fk_{table}_{scope}_parent_id';
    END IF;
    NEW._tree := above || own;  -- NULL until the parent has a key: see "{table}_tree_settle"
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION "{table}_tree_settle"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW._tree IS NULL THEN
        -- The writer could not read the parent, or it had no key yet. Asked again here, as
        -- the owner, in the row's own scope; a parent still without a key gets one later in
        -- this statement and re-keys its children then.
        IF EXISTS (SELECT FROM "{table}" p WHERE p.{scope} = NEW.{scope} AND p.id = NEW.parent_id AND p._tree IS NOT NULL) THEN
            UPDATE "{table}" SET _tree = NULL WHERE {scope} = NEW.{scope} AND id = NEW.id;
        END IF;
    ELSE
        -- The key changed: the children's keys start with it (each recomputes its own).
        UPDATE "{table}" SET _tree = NULL WHERE {scope} = NEW.{scope} AND parent_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION "{table}_tree_key"() FROM PUBLIC;
REVOKE ALL ON FUNCTION "{table}_tree_settle"() FROM PUBLIC;

DROP TRIGGER IF EXISTS tree_key ON "{table}";
DROP TRIGGER IF EXISTS tree_settle_insert ON "{table}";
DROP TRIGGER IF EXISTS tree_settle_update ON "{table}";
CREATE TRIGGER tree_key BEFORE INSERT OR UPDATE OF {written} ON "{table}"
    FOR EACH ROW EXECUTE FUNCTION "{table}_tree_key"();
CREATE TRIGGER tree_settle_insert AFTER INSERT ON "{table}"
    FOR EACH ROW WHEN (NEW._tree IS NULL) EXECUTE FUNCTION "{table}_tree_settle"();
CREATE TRIGGER tree_settle_update AFTER UPDATE OF {written} ON "{table}"
    FOR EACH ROW WHEN (NEW._tree IS NULL OR OLD._tree IS DISTINCT FROM NEW._tree) EXECUTE FUNCTION "{table}_tree_settle"();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS tree_key ON "{table}";
DROP TRIGGER IF EXISTS tree_settle_insert ON "{table}";
DROP TRIGGER IF EXISTS tree_settle_update ON "{table}";
DROP FUNCTION IF EXISTS "{table}_tree_key"();
DROP FUNCTION IF EXISTS "{table}_tree_settle"();
"""

# The triggers every tree table carries (checked by tests/test_tree_order.py).
TRIGGERS = ("tree_key", "tree_settle_insert", "tree_settle_update")

# Existing rows' keys, parents before children, in one statement per table.
BACKFILL_SQL = r"""
WITH RECURSIVE walk AS (
    SELECT t.id, t.{scope} AS scope, danbyte_tree_level(coalesce(t._name, t.name), {numid}, t.id) AS key
    FROM "{table}" t WHERE t.parent_id IS NULL
    UNION ALL
    SELECT t.id, t.{scope}, walk.key || danbyte_tree_level(coalesce(t._name, t.name), {numid}, t.id)
    FROM "{table}" t JOIN walk ON t.{scope} = walk.scope AND t.parent_id = walk.id
)
UPDATE "{table}" t SET _tree = walk.key FROM walk WHERE t.id = walk.id
"""


def _parameters(table: str, numbered: bool, scope: str, alias: str) -> dict[str, str]:
    numid = f"{alias}.numid" if numbered else "NULL::integer"
    written = ", ".join(["parent_id", "name", "_name", *(["numid"] if numbered else []), "_tree"])
    return {"table": table, "scope": scope, "numid": numid, "written": written}


def triggers_sql(table: str, *, numbered: bool = True, scope: str = "tenant_id") -> str:
    """The functions and triggers keeping ``table``'s tree key (a migration runs it)."""
    return TRIGGERS_SQL.format(**_parameters(table, numbered, scope, "NEW"))


def backfill_sql(table: str, *, numbered: bool = True, scope: str = "tenant_id") -> str:
    """Set every existing row's key of ``table`` (before its triggers exist)."""
    return BACKFILL_SQL.format(**_parameters(table, numbered, scope, "t"))


def drop_sql(table: str) -> str:
    return DROP_SQL.format(table=table)
