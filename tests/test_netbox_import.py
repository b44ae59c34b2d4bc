"""`danbyte netbox import`: NetBox's demo export into an organisation, with nothing lost."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import subprocess
import sys

import sqlalchemy as sa
from conftest import SHARED_DATA

from netbox_import.dumpdata import read_export
from netbox_import.importer import Options, import_records

EXPORT = SHARED_DATA / "netbox" / "netbox-v4.2-demo.dumpdata.json"


async def run_import(db, org, **options):
    async with db.system_transaction() as conn:
        return await import_records(conn, read_export(EXPORT), Options(org.org_id, **options))


async def test_demo_imports(db, org, api):
    summary = await run_import(db, org)
    print(summary.text())
    assert summary.dropped == 0


async def test_corpus_fixture(netbox_api, netbox_demo):
    org, summary = netbox_demo
    assert summary.dropped == 0
    data = await netbox_api.data("{ cable_list(filters: {numid: {exact: 27}}) { numid label } device_list { name } }")
    assert len(data["device_list"]) == 72


async def test_second_run_changes_nothing(db, org):
    first = await run_import(db, org)
    second = await run_import(db, org)
    for label, count in second.models.items():
        assert count.created == 0 and count.updated == 0, (label, count)
        assert count.unchanged == first.models[label].created, label


# --- the command --------------------------------------------------------------------------


def command(database_url: str, redis_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "danbyte.cli", "netbox", "import", *args]


def command_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}


async def org_rows(db, org_id, table: str) -> int:
    async with db.system_transaction() as conn:
        return (
            await conn.execute(sa.text(f'SELECT count(*) FROM "{table}" x JOIN tenant t ON t.id = x.tenant_id WHERE t.org_id = :o'), {"o": org_id})
        ).scalar_one()


async def org_slug(db, org_id) -> str:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT slug FROM organization WHERE id = :o"), {"o": org_id})).scalar_one()


async def test_killed_import_finishes_when_run_again(app, committed_org, database_url, redis_url, tmp_path):
    db = app.state.danbyte.db
    slug = await org_slug(db, committed_org.org_id)
    env = command_env(database_url, redis_url)
    # Killed with SIGKILL once rows are committed and before the end.
    process = subprocess.Popen(command(database_url, redis_url, str(EXPORT), "--organization", slug), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if await org_rows(db, committed_org.org_id, "interface") > 0:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    partial = await org_rows(db, committed_org.org_id, "interface")
    assert 0 < partial
    summary_path = tmp_path / "summary.json"
    done = subprocess.run(command(database_url, redis_url, str(EXPORT), "--organization", slug, "--summary", str(summary_path)), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Tenant policy" in done.stderr
    summary = json.loads(summary_path.read_text())
    interfaces = next(m for m in summary["models"] if m["label"] == "dcim.interface")
    # Rows the killed run committed are unchanged, or updated where it had not yet written
    # their references to later models; the rest are created.
    assert interfaces["read"] == 1586 and interfaces["created"] + interfaces["updated"] + interfaces["unchanged"] == 1586
    assert summary["dropped"] == 0
    # Nothing doubled: every NetBox interface once, the cables' numbers NetBox's.
    assert await org_rows(db, committed_org.org_id, "interface") == 1586
    assert await org_rows(db, committed_org.org_id, "cable") == 108
    again = subprocess.run(command(database_url, redis_url, str(EXPORT), "--organization", slug, "--summary", str(summary_path)), env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    summary = json.loads(summary_path.read_text())
    assert all(m["created"] == 0 and m["updated"] == 0 for m in summary["models"]), [m for m in summary["models"] if m["created"] or m["updated"]]


async def test_dry_run_writes_nothing(app, committed_org, database_url, redis_url):
    db = app.state.danbyte.db
    slug = await org_slug(db, committed_org.org_id)
    done = subprocess.run(
        command(database_url, redis_url, str(EXPORT), "--organization", slug, "--dry-run"), env=command_env(database_url, redis_url), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "dry run: nothing was written" in done.stdout
    assert re.search(r"dcim\.interface\s+1586\s+1586", done.stdout)
    assert await org_rows(db, committed_org.org_id, "interface") == 0
    async with db.system_transaction() as conn:
        tenants = (await conn.execute(sa.text("SELECT count(*) FROM tenant WHERE org_id = :o"), {"o": committed_org.org_id})).scalar_one()
    assert tenants == len(committed_org.tenant_ids)


async def test_unreadable_export_writes_nothing(app, committed_org, database_url, redis_url, tmp_path):
    db = app.state.danbyte.db
    slug = await org_slug(db, committed_org.org_id)
    truncated = tmp_path / "truncated.json.gz"
    data = gzip.compress(EXPORT.read_bytes())
    truncated.write_bytes(data[: len(data) * 9 // 10])
    env = command_env(database_url, redis_url)
    done = subprocess.run(command(database_url, redis_url, str(truncated), "--organization", slug), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "gzip stream is truncated" in done.stderr and "Traceback" not in done.stderr
    async with db.system_transaction() as conn:
        tenants = (await conn.execute(sa.text("SELECT count(*) FROM tenant WHERE org_id = :o"), {"o": committed_org.org_id})).scalar_one()
    assert tenants == len(committed_org.tenant_ids)
    unknown = subprocess.run(command(database_url, redis_url, str(EXPORT), "--organization", "no-such-org"), env=env, capture_output=True, text=True, timeout=300)
    assert unknown.returncode == 2 and "no organisation 'no-such-org'" in unknown.stderr
    neither = subprocess.run(command(database_url, redis_url), env=env, capture_output=True, text=True, timeout=300)
    assert neither.returncode == 2 and "give an export file" in neither.stderr
