"""NetBox's demo export imported once into an organisation of its own, committed, for
tests that only read it (the query corpus). Tests that write use their own import inside
the rolled-back transaction (tests/test_netbox_import.py)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from conftest import SHARED_DATA
from factories import OrgFixture, make_org

from netbox_import.dumpdata import read_export
from netbox_import.importer import Options, import_records
from netbox_import.summary import Summary

EXPORT: Path = SHARED_DATA / "netbox" / "netbox-v4.2-demo.dumpdata.json"


@cache
def demo_records() -> dict[str, list[dict[str, Any]]]:
    """The export's records by NetBox label, as plain JSON (the expected answers' source)."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for obj in json.loads(EXPORT.read_text()):
        by_model.setdefault(obj["model"], []).append(obj)
    return by_model


async def import_demo(database: Any) -> tuple[OrgFixture, Summary]:
    """A new organisation (its two fixture tenants unused) holding the demo export."""
    org = await make_org(database, tenants=0)
    async with database.system_transaction() as conn:
        summary = await import_records(conn, read_export(EXPORT), Options(org.org_id))
    return org, summary
