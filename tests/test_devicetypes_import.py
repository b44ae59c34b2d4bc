"""`danbyte devicetypes import`: the community device-type library (../shared/data/devicetypes)
into one tenant, through the write path. Expected counts are computed from the YAML."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from pathlib import Path

import yaml
from conftest import SHARED_DATA

from netbox_import.devicetypes import main

LIBRARY = SHARED_DATA / "devicetypes"

# Library key → the device type's count field and the reverse list both types have.
KINDS = {
    "console-ports": ("console_port_template_count", "consoleporttemplates"),
    "console-server-ports": ("console_server_port_template_count", "consoleserverporttemplates"),
    "power-ports": ("power_port_template_count", "powerporttemplates"),
    "power-outlets": ("power_outlet_template_count", "poweroutlettemplates"),
    "interfaces": ("interface_template_count", "interfacetemplates"),
    "front-ports": ("front_port_template_count", "frontporttemplates"),
    "rear-ports": ("rear_port_template_count", "rearporttemplates"),
    "module-bays": ("module_bay_template_count", "modulebaytemplates"),
    "device-bays": ("device_bay_template_count", "devicebaytemplates"),
    "inventory-items": ("inventory_item_template_count", "inventoryitemtemplates"),
}
MODULE_KINDS = ("console-ports", "console-server-ports", "power-ports", "power-outlets", "interfaces", "front-ports", "rear-ports", "module-bays")


def library_files(kind: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((LIBRARY / kind).rglob("*.yaml"))]


def expected_counts(files: list[dict], kinds) -> dict[tuple[str, str], dict[str, int]]:
    """(manufacturer, model) → kind → how many the YAML lists; front ports also as mappings."""
    return {
        (data["manufacturer"], data["model"]): {**{kind: len(data.get(kind, [])) for kind in kinds}, "mappings": len(data.get("front-ports", []))}
        for data in files
    }


async def tenant_slug(api, tenant_id) -> str:
    tenants = (await api.data("{ tenant_list { id slug } }"))["tenant_list"]
    return next(t["slug"] for t in tenants if t["id"] == str(tenant_id))


async def run_import(db, slug: str, *paths: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await main(db, list(paths), slug, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def changelog_size(api) -> int:
    """Every change-log row the admin can read, page by page."""
    total, offset = 0, 0
    while True:
        page = (await api.data("{ changelog_list(pagination: {offset: %d, limit: 1000}) { id } }" % offset))["changelog_list"]
        total += len(page)
        offset += 1000
        if len(page) < 1000:
            return total


async def imported_counts(api) -> tuple[dict, dict]:
    device_fields = " ".join(count for count, _ in KINDS.values())
    module_fields = " ".join(f"{KINDS[kind][1]} {{ id }}" for kind in MODULE_KINDS)
    data = await api.data(
        "{ device_type_list { model manufacturer { name } port_mappings { id } %s }"
        " module_type_list { model manufacturer { name } port_mappings { id } %s } }" % (device_fields, module_fields)
    )
    devices = {
        (row["manufacturer"]["name"], row["model"]): {**{kind: row[count] for kind, (count, _) in KINDS.items()}, "mappings": len(row["port_mappings"])}
        for row in data["device_type_list"]
    }
    modules = {
        (row["manufacturer"]["name"], row["model"]): {**{kind: len(row[KINDS[kind][1]]) for kind in MODULE_KINDS}, "mappings": len(row["port_mappings"])}
        for row in data["module_type_list"]
    }
    return devices, modules


async def test_the_library_imports_with_its_counts_and_a_second_run_changes_nothing(api, org, db):
    slug = await tenant_slug(api, org.tenant_ids[0])
    code, out, err = await run_import(db, slug, LIBRARY)
    files = len(list(LIBRARY.rglob("*.yaml")))
    assert code == 0, out
    assert out.startswith(f"{files} files: {files} created, 0 updated, 0 unchanged, 0 refused"), out
    assert len(err.splitlines()) == files  # one progress line per file
    assert "is_powered (" in out  # reported, not refused
    written = int(re.search(r"; (\d+) rows written", out).group(1))
    assert await changelog_size(api) == written  # every row written is in the change log

    devices, modules = await imported_counts(api)
    assert devices == expected_counts(library_files("device-types"), KINDS)
    assert modules == expected_counts(library_files("module-types"), MODULE_KINDS)
    # Manufacturers by name, one each, whatever folder a file sits in (Tripp Lite under Eaton/).
    makers = {data["manufacturer"] for kind in ("device-types", "module-types") for data in library_files(kind)}
    makers |= {item["manufacturer"] for data in library_files("device-types") for item in data.get("inventory-items", [])}
    listed = (await api.data("{ manufacturer_list { name } }"))["manufacturer_list"]
    assert sorted(m["name"] for m in listed) == sorted(makers)

    # Again: nothing written, nothing logged (one test: the import takes a while).
    code, out, _ = await run_import(db, slug, LIBRARY)
    assert code == 0
    assert out.startswith(f"{files} files: 0 created, 0 updated, {files} unchanged, 0 refused; 0 rows written"), out
    assert await changelog_size(api) == written


async def test_fields_links_and_mappings_follow_the_yaml(api, org, db):
    slug = await tenant_slug(api, org.tenant_ids[0])
    assert (await run_import(db, slug, LIBRARY / "device-types" / "APC", LIBRARY / "device-types" / "Panduit", LIBRARY / "device-types" / "Juniper"))[0] == 0
    data = await api.data(
        '{ device_type_list(filters: {model: {exact: "AP7921B"}}) { u_height is_full_depth comments'
        " poweroutlettemplates { name type power_port { name } } }"
        ' mx: device_type_list(filters: {slug: {exact: "juniper-mx960"}}) { weight weight_unit airflow } }'
    )
    pdu = data["device_type_list"][0]
    assert (pdu["u_height"], pdu["is_full_depth"], pdu["comments"]) == ("1.0", False, "Rack PDU, Switched, 1U, 16A, 208/230V, (8)C13")
    assert {(o["name"], o["type"], o["power_port"]["name"]) for o in pdu["poweroutlettemplates"]} == {
        (f"Outlet {i}", "iec-60320-c13", "Power Port 1") for i in range(1, 9)
    }
    # 68.04 passes the schema's multipleOf 0.01 only as the decimal it is written as.
    assert data["mx"] == [{"weight": "68.04", "weight_unit": "kg", "airflow": "front-to-rear"}]
    panel = yaml.safe_load((LIBRARY / "device-types" / "Panduit" / "CP48BLY.yaml").read_text())
    mappings = await api.data(
        '{ port_template_mapping_list(filters: {device_type: {part_number: {exact: "CP48BLY"}}}, pagination: {limit: 1000})'
        " { front_port { name } rear_port { name positions } front_port_position rear_port_position } }"
    )
    got = {(m["front_port"]["name"], m["front_port_position"], m["rear_port"]["name"], m["rear_port_position"]) for m in mappings["port_template_mapping_list"]}
    assert got == {(f["name"], 1, f["rear_port"], f.get("rear_port_position", 1)) for f in panel["front-ports"]}


def copy_library(tmp_path: Path, *files: str) -> Path:
    """A library of a few files of the sample, with its schema: the root."""
    root = tmp_path / "library"
    shutil.copytree(LIBRARY / "schema", root / "schema")
    for name in files:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(LIBRARY / name, target)
    return root


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


C1000 = "device-types/Cisco/C1000-8T-2G-L.yaml"


async def test_an_edited_file_updates_its_templates(api, org, db, tmp_path):
    slug = await tenant_slug(api, org.tenant_ids[0])
    root = copy_library(tmp_path, C1000)
    assert (await run_import(db, slug, root))[0] == 0
    before = {c["id"] for c in (await api.data("{ changelog_list { id } }"))["changelog_list"]}

    def change(data):
        interfaces = data["interfaces"]
        interfaces.append({"name": "GigabitEthernet1/0/11", "type": "10gbase-x-sfpp"})
        interfaces[:] = [i for i in interfaces if i["name"] != "Vlan1"]
        interfaces[0]["type"] = "2.5gbase-t"

    edit(root / C1000, change)
    code, out, err = await run_import(db, slug, root)
    assert code == 0, out
    assert err == f"updated   {C1000}\n"
    assert out.startswith("1 files: 0 created, 1 updated, 0 unchanged, 0 refused; 3 rows written"), out
    data = await api.data("{ device_type_list { interfacetemplates { name type } } changelog_list { id action object_type object_repr changed_fields } }")
    interfaces = {(i["name"], i["type"]) for i in data["device_type_list"][0]["interfacetemplates"]}
    assert ("GigabitEthernet1/0/1", "2.5gbase-t") in interfaces
    assert ("GigabitEthernet1/0/11", "10gbase-x-sfpp") in interfaces
    assert "Vlan1" not in {name for name, _ in interfaces}
    assert len(interfaces) == 11
    changes = {(c["action"], c["object_type"], c["object_repr"]): c["changed_fields"] for c in data["changelog_list"] if c["id"] not in before}
    update = ("update", "interface_template", "GigabitEthernet1/0/1")
    assert set(changes) == {("delete", "interface_template", "Vlan1"), update, ("create", "interface_template", "GigabitEthernet1/0/11")}
    assert changes[update] == ["type"]


async def test_renamed_ports_carry_their_links(api, org, db, tmp_path):
    """A power port renamed: its outlets follow it, then the old port goes. Two front
    ports swapping rear ports: the old mappings go before the new ones are written."""
    slug = await tenant_slug(api, org.tenant_ids[0])
    pdu, panel = "device-types/APC/AP7921B.yaml", "device-types/Generic/SC-12-port-duplex-fiber-patch-panel-rear-splice.yaml"
    root = copy_library(tmp_path, pdu, panel)
    assert (await run_import(db, slug, root))[0] == 0

    def rename(data):
        data["power-ports"][0]["name"] = "Inlet"
        for outlet in data["power-outlets"]:
            outlet["power_port"] = "Inlet"

    def swap(data):
        first, second = data["front-ports"][:2]
        first["rear_port"], second["rear_port"] = second["rear_port"], first["rear_port"]

    edit(root / pdu, rename)
    edit(root / panel, swap)
    code, out, _ = await run_import(db, slug, root)
    assert code == 0, out
    assert "0 created, 2 updated" in out
    data = await api.data(
        '{ pdu: device_type_list(filters: {model: {exact: "AP7921B"}}) { powerporttemplates { name } poweroutlettemplates { power_port { name } } }'
        " panel: device_type_list(filters: {airflow: {exact: AIRFLOW_PASSIVE}}) { port_mappings { front_port { name } rear_port { name } } } }"
    )
    assert data["pdu"][0]["powerporttemplates"] == [{"name": "Inlet"}]
    assert {o["power_port"]["name"] for o in data["pdu"][0]["poweroutlettemplates"]} == {"Inlet"}
    mapped = {m["front_port"]["name"]: m["rear_port"]["name"] for m in data["panel"][0]["port_mappings"]}
    assert (mapped["Port/1.a"], mapped["Port/1.b"], mapped["Port/2.a"]) == ("Port/2", "Port/1", "Port/3")
    assert (await run_import(db, slug, root))[1].startswith("2 files: 0 created, 0 updated, 2 unchanged")


async def nothing_written(api) -> None:
    data = await api.data("{ device_type_list { id } manufacturer_list { id } changelog_list { id } }")
    assert data == {"device_type_list": [], "manufacturer_list": [], "changelog_list": []}


async def test_a_file_the_schema_refuses_is_refused_naming_the_field(api, org, db, tmp_path):
    slug = await tenant_slug(api, org.tenant_ids[0])
    root = copy_library(tmp_path, C1000)
    edit(root / C1000, lambda data: data["interfaces"][3].update(type="foo"))
    code, out, err = await run_import(db, slug, root)
    assert code == 1
    assert err.startswith(f"refused   {C1000}: interfaces[3].type: 'foo' is not one of ["), err
    assert f"refused:\n  {C1000}: interfaces[3].type: 'foo'" in out
    assert "0 created, 0 updated, 0 unchanged, 1 refused" in out
    await nothing_written(api)


async def test_danbyte_checks_name_the_field_too(api, org, db, tmp_path):
    """The schema has no length limit on names; Danbyte's check refuses, naming the path."""
    slug = await tenant_slug(api, org.tenant_ids[0])
    root = copy_library(tmp_path, C1000)
    edit(root / C1000, lambda data: data["interfaces"][2].update(name="x" * 70))
    code, out, _ = await run_import(db, slug, root)
    assert code == 1
    assert f"{C1000}: interfaces[2].name: is 70 characters long; at most 64 are allowed" in out, out
    await nothing_written(api)


async def test_a_front_port_naming_a_missing_rear_port_is_refused(api, org, db, tmp_path):
    slug = await tenant_slug(api, org.tenant_ids[0])
    panel = "device-types/Panduit/CDPP8RG-S.yaml"
    root = copy_library(tmp_path, panel)
    edit(root / panel, lambda data: data["front-ports"][5].update(rear_port="99"))
    code, out, _ = await run_import(db, slug, root)
    assert code == 1
    assert f"{panel}: front-ports[5].rear_port: no rear port named '99' in this file" in out, out
    await nothing_written(api)


async def test_a_bad_file_does_not_stop_the_others(api, org, db, tmp_path):
    slug = await tenant_slug(api, org.tenant_ids[0])
    root = copy_library(tmp_path, C1000, "device-types/APC/AP7921B.yaml")
    (root / "device-types" / "APC" / "broken.yaml").write_text("manufacturer: APC\nmodel: [unclosed\n")
    code, out, _ = await run_import(db, slug, root, tmp_path / "nowhere")
    assert code == 1
    assert "4 files: 2 created, 0 updated, 0 unchanged, 2 refused" in out, out
    assert "device-types/APC/broken.yaml: line 3, column 1:" in out
    assert f"{tmp_path / 'nowhere'}: no such file or directory" in out
    assert len((await api.data("{ device_type_list { id } }"))["device_type_list"]) == 2


async def test_without_a_schema_folder_the_import_says_so(api, org, db, tmp_path):
    slug = await tenant_slug(api, org.tenant_ids[0])
    root = copy_library(tmp_path, C1000)
    shutil.rmtree(root / "schema")
    code, out, _ = await run_import(db, slug, root / C1000)
    assert code == 0
    assert "not checked against the library's schema" in out


async def test_an_unknown_tenant_is_an_error(db):
    code, _, err = await run_import(db, "no-such-tenant", LIBRARY)
    assert code == 2
    assert "no tenant with slug 'no-such-tenant'" in err


async def test_the_cli_imports_end_to_end(committed_api, committed_org, database_url, redis_url, monkeypatch, tmp_path):
    """`danbyte devicetypes import` as the command runs it: its own engine, real commits."""
    from danbyte import cli
    from danbyte.settings import get_settings

    slug = await tenant_slug(committed_api, committed_org.tenant_ids[0])
    root = copy_library(tmp_path, C1000)
    monkeypatch.setenv("DANBYTE_DATABASE_URL", database_url)
    monkeypatch.setenv("DANBYTE_REDIS_URL", redis_url)
    get_settings.cache_clear()
    try:
        # asyncio.run inside: the command needs a thread of its own, away from the test's loop.
        code = await asyncio.to_thread(cli.main, ["devicetypes", "import", str(root), "--tenant", slug])
    finally:
        get_settings.cache_clear()
    assert code == 0
    data = await committed_api.data("{ device_type_list { model interface_template_count } changelog_list { user_name } }")
    assert data["device_type_list"] == [{"model": "C1000-8T-2G-L", "interface_template_count": 11}]
    assert {c["user_name"] for c in data["changelog_list"]} >= {"devicetypes import (cli)"}
