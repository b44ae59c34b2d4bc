"""Job kinds for tests only: imported by the test process, and by worker subprocesses
through DANBYTE_JOB_MODULES=job_kinds (with this folder on PYTHONPATH).

``test_items``: ``count`` units of work, each writing one journal entry on ``site``
(comments ``item <i> of <job id>``) after ``delay`` seconds inside its transaction, so a
worker killed mid-job dies with an item's transaction open. Counting the entries per
item shows whether any unit was done twice.

``test_reach``: tries to read and write the rows of another tenant (``site`` belongs to
it) from inside the job's tenant transaction, and reports what it could do.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from jobs.runtime import JobFailed, JobRun, ParameterError, register_kind


def _check_items(parameters: dict[str, Any]) -> dict[str, Any]:
    count = parameters.get("count", 3)
    if not isinstance(count, int) or not 0 <= count <= 1000:
        raise ParameterError("count", "0 to 1000")
    return {"count": count, "delay": float(parameters.get("delay", 0)), "site": parameters.get("site"), "fail": bool(parameters.get("fail", False))}


def _journal(conn: sa.Connection, run: JobRun, site: str, comments: str, tenant_id: uuid.UUID | None = None) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO journal_entry (tenant_id, assigned_object_type, assigned_object_id, kind, comments, created_by)"
            " VALUES (:tenant, 'dcim.site', :site, 'info', :comments, 'job')"
        ),
        {"tenant": tenant_id or run.tenant_id, "site": site, "comments": comments},
    )


def test_items(run: JobRun) -> dict[str, Any]:
    params = _check_items(run.parameters)
    if params["fail"]:
        raise JobFailed("asked to fail")
    run.log(f"{params['count']} items")

    def work(conn: sa.Connection, index: int) -> None:
        time.sleep(params["delay"])
        _journal(conn, run, params["site"], f"item {index} of {run.id}")

    return run.each(range(params["count"]), key=str, work=work)


def test_reach(run: JobRun) -> dict[str, Any]:
    other_site = run.parameters["site"]
    other_tenant = run.parameters["tenant"]
    report: dict[str, Any] = {}
    with run.transaction() as conn:
        report["sites_seen"] = conn.execute(sa.text("SELECT count(*) FROM site WHERE id = :id"), {"id": other_site}).scalar_one()
        report["own_tenant_sites"] = conn.execute(sa.text("SELECT count(*) FROM site WHERE tenant_id = :t"), {"t": run.tenant_id}).scalar_one()
        report["renamed"] = conn.execute(sa.text("UPDATE site SET description = 'taken' WHERE id = :id"), {"id": other_site}).rowcount
    try:
        with run.transaction() as conn:
            _journal(conn, run, other_site, "foreign", tenant_id=uuid.UUID(other_tenant))
        report["foreign_insert"] = "written"
    except DBAPIError as error:
        report["foreign_insert"] = "refused" if "row-level security" in str(error.orig) else str(error.orig)
    return report


register_kind("test_items", test_items, check=_check_items, description="tests: journal entries, one per item")
register_kind("test_reach", test_reach, description="tests: reach into another tenant")
