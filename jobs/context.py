"""The tenant a job's domain work runs in.

Job bookkeeping (claiming, heartbeats, the scheduler, the reaper) runs as the table
owner, because it works across tenants. A job's *domain* reads and writes never do: they
run in ``tenant_transaction``, which sets the same per-transaction settings a request
sets (``permissions/rls.py``) for the job's user narrowed to the job's tenant, and
switches to the request role. Row-level security and the composite keys then hold the
job to its tenant and its user's view grants, whatever its code does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache

import sqlalchemy as sa

from permissions.principal import Principal
from permissions.rls import SET_PRINCIPAL, principal_settings
from permissions.tokens import principal_for_user

# What every job may do with its own bookkeeping rows, whatever its user's grants: read
# its job and record the items it has done (job_item is read under the job's grant).
_OWN_BOOKKEEPING = frozenset({"view", "add"})


@cache
def engine_for(url: str) -> sa.Engine:
    """One small blocking pool per database for a worker's threads."""
    return sa.create_engine(url, pool_size=4, max_overflow=4, pool_pre_ping=True)


def job_principal(conn: sa.Connection, user_id: uuid.UUID, tenant_id: uuid.UUID) -> Principal:
    """The job's user on the job's tenant only (AuthError when that user may no longer run it)."""
    principal = principal_for_user(conn, user_id, tenant_id)
    grants = dict(principal.grants)
    grants["job"] = grants.get("job", frozenset()) | _OWN_BOOKKEEPING
    return replace(principal, grants=grants)


@contextmanager
def tenant_transaction(engine: sa.Engine, principal: Principal) -> Iterator[sa.Connection]:
    """One transaction as the request role, seeing and writing what ``principal`` may;
    committed when the block ends, rolled back when it raises."""
    with engine.begin() as conn:
        conn.execute(SET_PRINCIPAL, principal_settings(principal, writing=True))
        yield conn
