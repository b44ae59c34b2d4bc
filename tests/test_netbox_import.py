"""`danbyte netbox import`: NetBox's demo export into an organisation, with nothing lost."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa
from conftest import SHARED_DATA
from netbox_demo import demo_records

from benchmarks.netbox_export import write_export
from netbox_import.command import Bars
from netbox_import.dumpdata import Record, read_export
from netbox_import.importer import Options, import_records
from resolvers.secrets import unseal

EXPORT = SHARED_DATA / "netbox" / "netbox-v4.2-demo.dumpdata.json"


async def run_import(db, org, **options):
    async with db.system_transaction() as conn:
        return await import_records(conn, read_export(EXPORT), Options(org.org_id, **options))


async def count_all(api, root: str) -> int:
    """Rows of a root list, page by page (a page holds at most 1,000)."""
    total, offset = 0, 0
    while True:
        rows = (await api.data("{ %s(pagination: {offset: %d, limit: 1000}) { id } }" % (root, offset)))[root]
        total += len(rows)
        if len(rows) < 1000:
            return total
        offset += 1000


async def test_demo_imports(db, org, api):
    summary = await run_import(db, org)
    assert summary.dropped == 0, summary.text()
    demo = demo_records()
    # Objects of one tenant each: as many as NetBox has, no component stamped twice, no
    # gateway address spawned (the model rules do not run on imported rows).
    for root, label in [
        ("device_list", "dcim.device"),
        ("interface_list", "dcim.interface"),
        ("front_port_list", "dcim.frontport"),
        ("ip_address_list", "ipam.ipaddress"),
        ("prefix_list", "ipam.prefix"),
        ("vlan_list", "ipam.vlan"),
        ("virtual_machine_list", "virtualization.virtualmachine"),
        ("vm_interface_list", "virtualization.vminterface"),
        ("circuit_termination_list", "circuits.circuittermination"),
    ]:
        assert await count_all(api, root) == len(demo[label]), label
    # NetBox's ids are the numbers, its times are kept, its tenants are the tenants.
    cables = (await api.data("{ cable_list { numid created last_updated tenant { slug } } }"))["cable_list"]
    exported = {c["pk"]: c["fields"] for c in demo["dcim.cable"]}
    assert {c["numid"] for c in cables} == set(exported)
    for cable in cables:
        assert cable["created"].replace("+00:00", "Z").startswith(exported[cable["numid"]]["created"][:19])
    devices = {d["numid"]: d for d in (await api.data("{ device_list { name numid tenant { slug } site { slug tenant { slug } } } }"))["device_list"]}
    tenants = {t["pk"]: t["fields"]["slug"] for t in demo["tenancy.tenant"]}
    assert set(devices) == {d["pk"] for d in demo["dcim.device"]}
    for record in demo["dcim.device"]:
        device = devices[record["pk"]]
        assert device["name"] == record["fields"]["name"]
        if record["fields"]["tenant"] is not None:
            assert device["tenant"]["slug"] == tenants[record["fields"]["tenant"]]
        assert device["site"]["tenant"] == device["tenant"]  # references stay inside a tenant
    # VLAN 100 at 13 sites with no group, as NetBox allows.
    vlan_100 = [v for v in demo["ipam.vlan"] if v["fields"]["vid"] == 100 and v["fields"]["group"] is None]
    assert len(vlan_100) == 13
    found = (await api.data("{ vlan_list(filters: {vid: {exact: 100}}) { site { slug } group { name } } }"))["vlan_list"]
    assert len([v for v in found if v["group"] is None]) == 13
    # The counters continue after NetBox's numbers.
    tenant = devices[1]["tenant"]["slug"]
    tenant_id = next(t["id"] for t in (await api.data("{ tenant_list { id slug } }"))["tenant_list"] if t["slug"] == tenant)
    sites = (await api.data("{ site_list { numid tenant { slug } } }"))["site_list"]
    highest = max(site["numid"] for site in sites if site["tenant"]["slug"] == tenant)
    made = await api.data('mutation { site_create(input: {tenant: "%s", name: "New", slug: "new"}) { numid } }' % tenant_id)
    assert made["site_create"]["numid"] == highest + 1 and highest >= 14


async def test_corpus_fixture(netbox_api, netbox_demo):
    org, summary = netbox_demo
    assert summary.dropped == 0
    data = await netbox_api.data("{ cable_list(filters: {numid: {exact: 27}}) { numid label } device_list { name } }")
    cable = next(c["fields"] for c in demo_records()["dcim.cable"] if c["pk"] == 27)
    assert data["cable_list"] == [{"numid": 27, "label": cable["label"]}]
    assert len(data["device_list"]) == len(demo_records()["dcim.device"])


async def test_second_run_changes_nothing(db, org):
    first = await run_import(db, org)
    second = await run_import(db, org)
    for label, count in second.models.items():
        assert count.created == 0 and count.updated == 0, (label, count)
        assert count.unchanged == first.models[label].created, label


# --- the command --------------------------------------------------------------------------


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "danbyte.cli", "netbox", "import", *args]


def command_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}


def run_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``danbyte netbox import`` run to its end in a process of its own."""
    return subprocess.run(command(*args), env=env, capture_output=True, text=True, timeout=300)


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
    process = subprocess.Popen(command(str(EXPORT), "--organization", slug), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    done = run_command(env, str(EXPORT), "--organization", slug, "--summary", str(summary_path))
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
    again = run_command(env, str(EXPORT), "--organization", slug, "--summary", str(summary_path))
    assert again.returncode == 0
    summary = json.loads(summary_path.read_text())
    assert all(m["created"] == 0 and m["updated"] == 0 for m in summary["models"]), [m for m in summary["models"] if m["created"] or m["updated"]]


async def test_dry_run_writes_nothing(app, committed_org, database_url, redis_url):
    db = app.state.danbyte.db
    slug = await org_slug(db, committed_org.org_id)
    done = run_command(command_env(database_url, redis_url), str(EXPORT), "--organization", slug, "--dry-run")
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
    done = run_command(env, str(truncated), "--organization", slug)
    assert done.returncode == 2
    assert "gzip stream is truncated" in done.stderr and "Traceback" not in done.stderr
    async with db.system_transaction() as conn:
        tenants = (await conn.execute(sa.text("SELECT count(*) FROM tenant WHERE org_id = :o"), {"o": committed_org.org_id})).scalar_one()
    assert tenants == len(committed_org.tenant_ids)
    unknown = run_command(env, str(EXPORT), "--organization", "no-such-org")
    assert unknown.returncode == 2 and "no organisation 'no-such-org'" in unknown.stderr
    neither = run_command(env)
    assert neither.returncode == 2 and "give an export file" in neither.stderr


# --- what the demo lacks: assignments, secrets, history, a newer export ---------------------

STAMP = {"created": "2024-01-02T03:04:05Z", "last_updated": "2024-01-02T03:04:05Z"}


def context(pk: int, name: str, **lists) -> Record:
    fields = {**STAMP, "name": name, "weight": 1000, "description": "", "is_active": True, "data": {"ntp": ["10.0.0.1"], "mtu": 9000}}
    return Record("extras.configcontext", pk, {**fields, **lists}, 0)


def change(pk: int, action: str, kind: list[str], object_id: int, before: dict | None, after: dict | None) -> Record:
    fields = {
        "time": "2023-05-06T07:08:09.123Z",
        "user": ["admin"],
        "user_name": "admin",
        "request_id": f"00000000-0000-4000-8000-{pk:012d}",
        "action": action,
        "changed_object_type": kind,
        "changed_object_id": object_id,
        "related_object_type": None,
        "related_object_id": None,
        "object_repr": "an object",
        "prechange_data": before,
        "postchange_data": after,
    }
    return Record("core.objectchange", pk, fields, 0)


EXTRA = [
    # Assigned to a Dunder-Mifflin site and a JBB site: one copy in each tenant, naming its own.
    context(1, "ntp", sites=[1, 15]),
    # Assigned to nothing: applies everywhere.
    context(2, "defaults"),
    context(3, "for-initech", tenants=[1]),
    Record(
        "extras.webhook",
        1,
        {
            **STAMP,
            "name": "ops",
            "payload_url": "https://hooks.example.com/netbox",
            "http_method": "POST",
            "http_content_type": "application/json",
            "additional_headers": "",
            "body_template": "",
            "secret": "s3cret",
            "ssl_verification": True,
            "ca_file_path": None,
            "description": "",
            "custom_field_data": {},
        },
        0,
    ),
    change(1, "update", ["dcim", "device"], 1, {"name": "old-name", "tenant": 5}, {"name": "dmi01-akron-rtr01", "tenant": 5}),
    change(2, "delete", ["dcim", "site"], 999, {"name": "gone", "tenant": 10}, None),
    change(3, "create", ["users", "token"], 4, None, {"key": "…"}),
]


def demo_with(extra: list[Record], change_record=None):
    for record in read_export(EXPORT):
        yield change_record(record) if change_record is not None else record
    yield from extra


async def import_with(db, org, extra, change_record=None, **options):
    async with db.system_transaction() as conn:
        return await import_records(conn, demo_with(extra, change_record), Options(org.org_id, **options))


async def test_assignments_secrets_and_history(db, org, api):
    summary = await import_with(db, org, EXTRA)
    assert summary.dropped == 0, summary.text()
    assert summary.copies == []  # an assignment copies nothing into another tenant
    contexts = (await api.data("{ config_context_list { name tenant { slug } sites { slug tenant { slug } } tenants { slug } } }"))["config_context_list"]
    ntp = sorted((c["tenant"]["slug"], [s["slug"] for s in c["sites"]]) for c in contexts if c["name"] == "ntp")
    assert ntp == [("dunder-mifflin", ["dm-nyc"]), ("jimbobs-banking-trust", ["jbb-branch-104"])]
    # Every tenant the import fills (those of sites among them), none it leaves empty.
    everywhere = {c["tenant"]["slug"] for c in contexts if c["name"] == "defaults"}
    with_sites = {s["tenant"]["slug"] for s in (await api.data("{ site_list { tenant { slug } } }"))["site_list"]}
    assert with_sites <= everywhere <= set(summary.tenants) and "default" in everywhere
    assert [(c["tenant"]["slug"], [t["slug"] for t in c["tenants"]]) for c in contexts if c["name"] == "for-initech"] == [("initech", ["initech"])]
    # The webhook's secret is sealed at rest, as one entered through the API.
    async with db.system_transaction() as conn:
        stored = (
            await conn.execute(sa.text("SELECT w.secret FROM webhook w JOIN tenant t ON t.id = w.tenant_id WHERE t.org_id = :o LIMIT 1"), {"o": org.org_id})
        ).scalar_one()
    assert stored != "s3cret" and unseal(stored) == "s3cret"
    # History: NetBox's entries with their times and users, on the imported objects.
    device = (await api.data('{ device_list(filters: {name: {exact: "dmi01-akron-rtr01"}}) { id } }'))["device_list"][0]["id"]
    async with db.system_transaction() as conn:
        entries = (
            await conn.execute(
                sa.text(
                    "SELECT object_id, object_numid, action, time, user_name, changed_fields, tenant_id FROM object_change WHERE org_id = :o ORDER BY time, object_numid"
                ),
                {"o": org.org_id},
            )
        ).all()
    assert [(str(e.object_id) == device, e.object_numid, e.action) for e in entries if e.object_numid == 1] == [(True, 1, "update")]
    updated = next(e for e in entries if e.object_numid == 1)
    assert updated.time.isoformat() == "2023-05-06T07:08:09.123000+00:00" and updated.user_name == "admin" and updated.changed_fields == ["name"]
    gone = next(e for e in entries if e.object_numid == 999)
    tenants = {t["slug"]: t["id"] for t in (await api.data("{ tenant_list { id slug } }"))["tenant_list"]}
    assert str(gone.tenant_id) == tenants["jimbobs-banking-trust"]
    history = summary.models["core.objectchange"]
    assert (history.read, history.created) == (3, 2)
    assert history.left_out == {"a change of users.token, which is not imported": 1}


async def test_newer_export_updates_what_changed(db, org, api):
    await import_with(db, org, EXTRA)
    untagged = []

    def newer(record: Record) -> Record:
        if record.model == "dcim.device" and record.pk == 1:
            return Record(record.model, record.pk, {**record.fields, "name": "renamed-rtr01"}, record.index)
        if record.model == "extras.taggeditem" and record.fields["object_id"] == 24 and record.fields["content_type"] == ["dcim", "site"]:
            untagged.append(record.fields["tag"])
            return Record("sessions.session", None, {}, record.index)  # the site's tags are gone
        return record

    summary = await import_with(db, org, EXTRA, newer)
    changed = {label: (c.created, c.updated) for label, c in summary.models.items() if c.created or c.updated}
    assert changed == {"dcim.device": (0, 1)}, changed
    assert len(untagged) > 0
    assert summary.models["extras.taggeditem"].left_out == {"tags removed from objects (the export no longer has them)": len(untagged)}
    names = {d["name"] for d in (await api.data("{ device_list { name } }"))["device_list"]}
    assert "renamed-rtr01" in names and "dmi01-akron-rtr01" not in names
    site = (await api.data('{ site_list(filters: {slug: {exact: "ncsu-128"}}) { numid tags { slug } } }'))["site_list"][0]
    assert site == {"numid": 24, "tags": []}


OLDER = [
    Record(
        "extras.webhook",
        2,
        {
            **STAMP,
            "name": "legacy",
            "payload_url": "https://hooks.example.com/legacy",
            "http_method": "POST",
            "http_content_type": "application/json",
            "additional_headers": "",
            "body_template": "",
            "ssl_verification": True,
            "ca_file_path": None,
            "content_types": [["dcim", "device"]],
            "type_create": True,
            "type_update": True,
            "type_delete": False,
            "type_job_start": False,
            "type_job_end": False,
            "enabled": True,
            "conditions": None,
        },
        0,
    ),
    Record(
        "extras.eventrule",
        1,
        {
            **STAMP,
            "name": "rule40",
            "description": "",
            "object_types": [["dcim", "site"]],
            "type_create": False,
            "type_update": False,
            "type_delete": True,
            "type_job_start": False,
            "type_job_end": True,
            "enabled": True,
            "conditions": None,
            "action_type": "webhook",
            "action_object_type": ["extras", "webhook"],
            "action_object_id": 2,
            "action_data": None,
            "custom_field_data": {},
        },
        0,
    ),
    Record(
        "extras.customfield",
        2,
        {
            **STAMP,
            "name": "legacy_cf",
            "label": "",
            "type": "text",
            "content_types": [["dcim", "site"]],
            "object_type": None,
            "group_name": "Legacy",
            "description": "",
            "required": False,
            "search_weight": 1000,
            "filter_logic": "loose",
            "default": None,
            "weight": 100,
            "ui_visibility": "read-only",
            "is_cloneable": False,
        },
        0,
    ),
]


OLDER.append(Record("tenancy.contactgroupmembership", 1, {"contact": 1, "group": 1}, 0))  # NetBox 4.3.0


def as_netbox_41(record: Record) -> Record:
    """The demo's first interface as NetBox ≤ 4.1 wrote it: its MAC address on itself."""
    if record.model == "dcim.interface" and record.pk == 1:
        fields = {k: v for k, v in record.fields.items() if k != "primary_mac_address"}
        return Record(record.model, record.pk, {**fields, "mac_address": "00:11:22:33:44:55"}, record.index)
    return record


async def test_older_releases_shapes(db, org, api):
    summary = await import_with(db, org, OLDER, as_netbox_41)
    assert summary.dropped == 0, summary.text()
    query = '{ interface_list(filters: {name: {exact: "GigabitEthernet0/0/0"}, device: {name: {exact: "dmi01-akron-rtr01"}}}) { primary_mac_address { mac_address numid } } }'
    interface = await api.data(query)
    rows = interface["interface_list"]
    assert [r["primary_mac_address"]["mac_address"].upper() for r in rows] == ["00:11:22:33:44:55"]
    assert rows[0]["primary_mac_address"]["numid"] is not None  # numbered after NetBox's ids
    rules = {
        r["name"]: r
        for r in (await api.data("{ event_rule_list { name event_types object_types enabled action_object { name } tenant { slug } } }"))["event_rule_list"]
    }
    assert rules["legacy"]["event_types"] == ["object_created", "object_updated"] and rules["legacy"]["object_types"] == ["dcim.device"]
    assert rules["legacy"]["action_object"] == {"name": "legacy"}
    assert rules["rule40"]["event_types"] == ["object_deleted", "job_completed", "job_errored", "job_failed"]
    assert rules["rule40"]["action_object"] == {"name": "legacy"}
    # A source without the webhook's secret (NetBox's REST API does not give it) lists it.
    assert summary.secrets == ["webhook 'legacy': its signing secret (the source did not give it; set it with webhook_update)"]
    assert "secrets an export cannot carry, to enter again" in summary.text()
    contact = (await api.data('{ contact_list(filters: {name: {exact: "Michael Scott"}}) { groups { name } } }'))["contact_list"]
    assert [sorted(g["name"] for g in c["groups"]) for c in contact] == [sorted(g["fields"]["name"] for g in demo_records()["tenancy.contactgroup"])]
    fields = {f["name"]: f for f in (await api.data("{ custom_field_list { name ui_visible ui_editable group_name } }"))["custom_field_list"]}
    assert fields["legacy_cf"] == {"name": "legacy_cf", "ui_visible": "always", "ui_editable": "no", "group_name": "Legacy"}


def site_record(pk: int, **changes) -> Record:
    fields = {
        **STAMP,
        "custom_field_data": {},
        "description": "",
        "comments": "",
        "name": f"site-{pk}",
        "slug": f"site-{pk}",
        "status": "active",
        "region": None,
        "group": None,
        "tenant": None,
        "facility": "",
        "time_zone": None,
        "physical_address": "",
        "shipping_address": "",
        "latitude": None,
        "longitude": None,
        "asns": [],
    }
    return Record("dcim.site", pk, {**fields, **changes}, 0)


ACROSS = [
    Record(
        "extras.customfield",
        3,
        {
            **STAMP,
            "name": "peer_site",
            "label": "",
            "type": "object",
            "object_types": [["dcim", "device"]],
            "related_object_type": ["dcim", "site"],
            "group_name": "",
            "description": "",
            "required": False,
            "search_weight": 1000,
            "filter_logic": "loose",
            "default": None,
            "weight": 100,
            "ui_visible": "always",
            "ui_editable": "yes",
            "is_cloneable": False,
        },
        0,
    ),
    # Dunder-Mifflin's VRF holding an Initech prefix: the VRF is copied into Initech.
    Record(
        "ipam.vrf",
        100,
        {
            **STAMP,
            "custom_field_data": {},
            "description": "",
            "comments": "",
            "name": "DM-shared",
            "rd": None,
            "tenant": 5,
            "enforce_unique": False,
            "import_targets": [],
            "export_targets": [],
        },
        0,
    ),
    Record(
        "ipam.prefix",
        5000,
        {
            **STAMP,
            "custom_field_data": {},
            "description": "",
            "comments": "",
            "scope_type": None,
            "scope_id": None,
            "prefix": "172.31.0.0/24",
            "vrf": 100,
            "tenant": 1,
            "vlan": None,
            "status": "active",
            "role": None,
            "is_pool": False,
            "mark_utilized": False,
        },
        0,
    ),
    # Careless records: each dropped with its reason, the rest imported.
    site_record(9000, status="bogus"),
    site_record(9001, name="x" * 500),
    Record(
        "ipam.ipaddress",
        9000,
        {
            **STAMP,
            "custom_field_data": {},
            "address": "not-an-address",
            "vrf": None,
            "tenant": None,
            "status": "active",
            "role": None,
            "description": "",
            "comments": "",
        },
        0,
    ),
]


def across(record: Record) -> Record:
    if record.model == "dcim.device" and record.pk == 1:  # a Dunder-Mifflin device naming a JBB site
        return Record(record.model, record.pk, {**record.fields, "custom_field_data": {"peer_site": 15}}, record.index)
    if record.model == "dcim.cable" and record.pk == 27:  # NetBox 4.6's cable bundle, left out here
        return Record(record.model, record.pk, {**record.fields, "bundle": "trunk-7"}, record.index)
    return record


async def test_references_across_tenants_copies_and_careless_records(db, org, api):
    summary = await import_with(db, org, ACROSS, across)
    copies = {(c["label"], c["pk"], c["from"], c["into"]) for c in summary.copies}
    assert copies == {("ipam.vrf", "100", "dunder-mifflin", "initech"), ("dcim.site", "15", "jimbobs-banking-trust", "dunder-mifflin")}
    assert summary.models["ipam.vrf"].copies == 1 and summary.models["dcim.site"].copies == 1
    assert "ipam.vrf 100 (DM-shared) from tenant dunder-mifflin into initech" in summary.text()
    prefix = (await api.data('{ prefix_list(filters: {prefix: {exact: "172.31.0.0/24"}}) { tenant { slug } vrf { name numid tenant { slug } } } }'))[
        "prefix_list"
    ]
    assert prefix == [{"tenant": {"slug": "initech"}, "vrf": {"name": "DM-shared", "numid": 100, "tenant": {"slug": "initech"}}}]
    # The object custom field names the copy in the device's own tenant.
    device = (await api.data('{ device_list(filters: {name: {exact: "dmi01-akron-rtr01"}}) { custom_fields tenant { slug } } }'))["device_list"][0]
    sites = {
        (s["id"], s["slug"], s["tenant"]["slug"])
        for s in (await api.data('{ site_list(filters: {slug: {exact: "jbb-branch-104"}}) { id slug tenant { slug } } }'))["site_list"]
    }
    assert (device["custom_fields"]["peer_site"], "jbb-branch-104", "dunder-mifflin") in sites
    # A field with no home yet is kept, and defined, so it can be read, filtered and edited.
    cable = (await api.data("{ cable_list(filters: {numid: {exact: 27}}) { custom_fields } }"))["cable_list"][0]
    assert cable["custom_fields"]["netbox_bundle"] == "trunk-7"
    kept = [
        f for f in (await api.data("{ custom_field_list { name type object_types tenant { slug } } }"))["custom_field_list"] if f["name"] == "netbox_bundle"
    ]
    assert kept and all(f["type"] == "text" and f["object_types"] == ["dcim.cable"] for f in kept)
    bundled = await api.data('{ cable_list(filters: {custom_field_data: {path: "netbox_bundle", lookup: {string_lookup: {exact: "trunk-7"}}}}) { numid } }')
    assert bundled["cable_list"] == [{"numid": 27}]
    # Careless records are dropped with the field and the reason; nothing else is.
    sites_dropped = summary.models["dcim.site"].dropped
    assert any(reason.startswith("status:") and "bogus" in reason for reason in sites_dropped), sites_dropped
    assert any(reason.startswith("name:") and "at most 100" in reason for reason in sites_dropped), sites_dropped
    assert any(reason.startswith("address:") for reason in summary.models["ipam.ipaddress"].dropped), summary.models["ipam.ipaddress"].dropped
    assert summary.dropped == 3


@pytest.mark.parametrize("natural_keys", [True, False])
async def test_generated_export_both_flavours(db, org, tmp_path, natural_keys):
    """An export of NetBox's shape with and without natural keys (content types and users
    as ids, tags with their pks) lands the same."""
    path = tmp_path / "generated.json.gz"
    counts = write_export(str(path), objects=3000, seed=7, natural_keys=natural_keys, gzip=True)
    async with db.system_transaction() as conn:
        summary = await import_records(conn, read_export(path), Options(org.org_id))
    assert summary.dropped == 0, summary.text()
    assert summary.objects == sum(counts.values())
    for label, count in summary.models.items():
        if count.disposition == "model" and count.read:
            assert count.created >= count.read, (label, count)
    tagged = summary.models["extras.taggeditem"]
    assert tagged.read == counts["extras.taggeditem"] and tagged.created >= tagged.read
    async with db.system_transaction() as conn:
        interfaces = (
            await conn.execute(sa.text("SELECT count(*) FROM interface x JOIN tenant t ON t.id = x.tenant_id WHERE t.org_id = :o"), {"o": org.org_id})
        ).scalar_one()
    assert interfaces >= counts["dcim.interface"]


def test_progress_bars_on_a_terminal_and_lines_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, log = Terminal(), io.StringIO()
    for err in (screen, log):
        bars = Bars(err)
        bars("dcim.interface", 500, 1000)
        bars.last = 0.0
        bars("dcim.interface", 1000, 1000)
    assert "\rdcim.interface" in screen.getvalue() and "[" + "#" * 30 + "] 1000/1000\n" in screen.getvalue()
    assert log.getvalue() == "dcim.interface: 1000\n"


def attachment(pk: int, site: int, image: str) -> Record:
    fields = {
        **STAMP,
        "object_type": ["dcim", "site"],
        "object_id": site,
        "image": image,
        "image_height": 480,
        "image_width": 640,
        "name": f"plan-{pk}",
        "description": "",
    }
    return Record("extras.imageattachment", pk, fields, 0)


async def test_attachments_with_their_files_and_journal(db, org, api, tmp_path):
    from PIL import Image

    media = tmp_path / "media"
    (media / "image-attachments").mkdir(parents=True)
    Image.new("RGB", (64, 48), "red").save(media / "image-attachments" / "site_15_floor.png")
    (tmp_path / "secret.png").write_bytes((media / "image-attachments" / "site_15_floor.png").read_bytes())
    (media / "image-attachments" / "not-an-image.png").write_text("hello")
    extra = [
        attachment(1, 15, "image-attachments/site_15_floor.png"),
        attachment(2, 15, "image-attachments/missing.png"),
        attachment(3, 15, "../secret.png"),
        attachment(4, 15, "image-attachments/not-an-image.png"),
        Record(
            "extras.journalentry",
            1,
            {
                **STAMP,
                "custom_field_data": {},
                "assigned_object_type": ["dcim", "device"],
                "assigned_object_id": 1,
                "created_by": ["admin"],
                "kind": "warning",
                "comments": "PSU 2 replaced",
            },
            0,
        ),
    ]
    summary = await import_with(db, org, extra, media=media)
    assert summary.dropped == 0, summary.text()
    assert summary.models["extras.imageattachment"].left_out == {
        "an image file not found under --media": 1,
        "an image file name leading outside --media": 1,
        "an image file refused: not a PNG, JPEG, GIF or WebP image": 1,
    }
    query = '{ site_list(filters: {slug: {exact: "jbb-branch-104"}}) { image_attachments { id name image { name } image_height image_width image_size } } }'
    images = {i["name"]: i for i in (await api.data(query))["site_list"][0]["image_attachments"]}
    assert images["plan-1"]["image"] == {"name": "image-attachments/site_15_floor.png"}
    assert (images["plan-1"]["image_width"], images["plan-1"]["image_height"]) == (64, 48)
    assert images["plan-1"]["image_size"] > 0 and images["plan-2"]["image_size"] == 0
    served = await api.client.get(f"/image-attachments/{images['plan-1']['id']}", headers={"Authorization": f"Bearer {org.admin_key}"})
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == (media / "image-attachments" / "site_15_floor.png").read_bytes()
    device = (await api.data("{ device_list(filters: {numid: {exact: 1}}) { journal_entries { kind comments created_by } } }"))["device_list"][0]
    assert device["journal_entries"] == [{"kind": "warning", "comments": "PSU 2 replaced", "created_by": "admin"}]
    # Without --media the attachments land and the summary says where their files are.
    plain = await import_with(db, org, extra[:1])
    assert plain.models["extras.imageattachment"].left_out == {"image files are in NetBox's media directory: give --media DIR to import them": 1}


async def test_a_row_the_database_refuses_is_dropped_alone(db, org, api):
    """Two sites with one slug in one tenant: the page falls back to row by row, the second
    is dropped with the constraint's reason, and every other row of the page is written."""
    summary = await import_with(db, org, [site_record(9100, slug="twin", tenant=5), site_record(9101, slug="twin", tenant=5)])
    dropped = summary.models["dcim.site"].dropped
    assert sum(dropped.values()) == 1 and "slug" in next(iter(dropped)), dropped
    slugs = [s["slug"] for s in (await api.data("{ site_list { slug } }"))["site_list"]]
    assert slugs.count("twin") == 1 and len(slugs) == len(demo_records()["dcim.site"]) + 1
