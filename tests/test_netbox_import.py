"""`danbyte netbox import`: NetBox's demo export into an organisation, with nothing lost."""

from __future__ import annotations

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
