"""The generated NetBox exports of the import benchmark (benchmarks/netbox_export.py): read
back with the importer's reader, landing in the model map, referentially whole, of the size
asked, the same bytes for the same seed, and written in constant memory. Pure: no
database, no services.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from test_netbox_dumpdata import EXPORT, _danbyte_field, without_a_home

from benchmarks.netbox_export import APP_ORDER, NATURAL_PRIMARY, Sizes, main, write_export
from netbox_import.dumpdata import ContentTypes, Record, Usernames, read_export
from netbox_import.model_map import How, plan, targets

OBJECTS = 6_000  # three sites and the virtual machines filling the rest
FLAVOURS = {"natural": True, "plain": False}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[Path, dict[str, int], list[Record]]]:
    """Each flavour: (its file, the counts write_export returned, its records read back)."""
    folder = tmp_path_factory.mktemp("generated")
    found = {}
    for flavour, natural in FLAVOURS.items():
        path = folder / f"{flavour}.json"
        counts = write_export(path, objects=OBJECTS, natural_keys=natural)
        found[flavour] = (path, counts, list(read_export(path)))
    return found


@pytest.fixture(scope="module")
def demo_fields() -> dict[str, dict[str, set[str]]]:
    """The demo export's fields of each model, in its order (every record of a model has
    the same), each with the JSON types of its values that are not null."""
    found: dict[str, dict[str, set[str]]] = {}
    for item in json.loads(EXPORT.read_text()):
        fields = found.setdefault(item["model"], {name: set() for name in item["fields"]})
        for name, value in item["fields"].items():
            if value is not None:
                fields[name].add(type(value).__name__)
    return found


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_counts_are_what_is_read_and_the_size_asked(generated, flavour):
    _, counts, records = generated[flavour]
    assert Counter(r.model for r in records) == counts
    assert abs(sum(counts.values()) - OBJECTS) <= OBJECTS * 0.05
    # The whole network, not a sample: every kind the importer meets, interfaces the most.
    assert counts["dcim.site"] == 3 and counts["tenancy.tenant"] == 20 and counts["virtualization.virtualmachine"] > 200
    assert max(counts, key=counts.__getitem__) == "dcim.interface"


@pytest.mark.parametrize("objects", [2_500, 3_000, 7_777, 40_000, 100_000, 1_000_000, 5_000_000])
def test_the_size_is_reached_within_five_percent(objects):
    sizes = Sizes.of(objects)
    assert abs(sizes.total - objects) <= objects * 0.05, sizes
    assert sizes.vms <= sizes.clusters * 1022  # each cluster's /22 holds its machines' addresses


def test_too_large_is_refused():
    with pytest.raises(ValueError, match="sites"):
        Sizes.of(50_000_000)
    with pytest.raises(ValueError, match="positive"):
        Sizes.of(0)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_record_has_the_demos_fields_in_its_order(generated, demo_fields, flavour):
    """The same fields, in the same order, with values of the same JSON types (decimals
    as strings, times as ISO strings, references as integers or natural keys)."""
    _, _, records = generated[flavour]
    mismatched = set()
    for record in records:
        demo = demo_fields[record.model]
        assert list(record.fields) == list(demo), record
        for name, value in record.fields.items():
            # Without natural keys, the demo's natural key (a list) is an integer id.
            accepted = demo[name] | ({"int"} if flavour == "plain" and "list" in demo[name] else set())
            if value is not None and demo[name] and type(value).__name__ not in accepted:
                mismatched.add(f"{record.model}.{name}: {type(value).__name__}, the demo has {demo[name]}")
    assert not mismatched, sorted(mismatched)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_model_and_field_has_a_home(generated, flavour):
    _, _, records = generated[flavour]
    fields_by_model: dict[str, set[str]] = defaultdict(set)
    for record in records:
        fields_by_model[record.model].update(record.fields)
    unknown_models, homeless = without_a_home(fields_by_model)
    assert not unknown_models and not homeless, (unknown_models, homeless)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_reference_points_at_a_record_of_the_export(generated, flavour):
    path, _, records = generated[flavour]
    types = ContentTypes.from_export(path)
    users = Usernames.from_export(path)
    pks: dict[str, set[int]] = defaultdict(set)
    tags: dict[object, str] = {}
    for record in records:
        pks[record.model].add(record.pk)
        if record.model == "extras.tag":
            tags[record.pk if record.pk is not None else record.fields["name"]] = record.fields["name"]
    landing = targets()
    checked: Counter[str] = Counter()

    def points_at(value, labels, where):
        assert isinstance(value, int) and any(value in pks[label] for label in labels), f"{where}={value!r} is not a {labels} of the export"

    for record in records:
        where = f"{record!r}"
        if record.model == "extras.taggeditem":  # folded into its object's tags
            points_at(record.fields["object_id"], [types.label(record.fields["content_type"])], f"{where} object_id")
            tag = record.fields["tag"]
            assert (tag[0] if isinstance(tag, list) else tag) in (tags if isinstance(tag, int) else tags.values()), where
            checked["tag"] += 1
            continue
        model = plan(record.model)
        if model.spec is None:
            continue
        for name, value in record.fields.items():
            field = model.field(name)
            if value is None or value == []:
                continue
            if field.how in (How.reference, How.references):
                target = _danbyte_field(model.spec, field.target).target
                for one in value if isinstance(value, list) else [value]:
                    points_at(one, landing[target], f"{where} {name}")
                checked[field.how.value] += 1
            elif field.how is How.generic and name.endswith("_id"):
                points_at(value, [types.label(record.fields[name.removesuffix("_id") + "_type"])], f"{where} {name}")
                checked["generic"] += 1
            elif field.how is How.content_type:
                assert types.label(value, where=where)
                checked["content type"] += 1
            elif field.how is How.content_types:
                assert types.labels(value, where=where)
                checked["content types"] += 1
            elif field.how is How.user:
                assert users.name(value, where=where) in {r.fields["username"] for r in records if r.model == "users.user"}
                checked["user"] += 1
        if record.model == "dcim.frontport":  # NetBox ≤ 4.4's mapping: a rear port of the same device
            points_at(record.fields["rear_port"], ["dcim.rearport"], f"{where} rear_port")
    # Each kind of reference was met, many times.
    assert checked["reference"] > 5_000 and checked["references"] > 100 and checked["generic"] > 1_000, checked
    assert checked["tag"] > 100 and checked["content types"] >= 3 and checked["user"] >= 3, checked
    # Content types: natural keys in one flavour, ids of the export's records in the other.
    if flavour == "natural":
        assert types.by_id == {} and users.by_id == {}
    else:
        assert len(types.by_id) == len(pks["contenttypes.contenttype"]) and len(users.by_id) == 4


def test_the_network_holds_together(generated):
    """What NetBox itself would refuse: a port cabled twice, a cable without both ends, a
    primary address on another device's interface, a device in another site's rack."""
    _, _, records = generated["natural"]
    by: dict[str, dict[int, dict]] = defaultdict(dict)
    for record in records:
        if record.pk is not None:
            by[record.model][record.pk] = record.fields
    ends: dict[int, list[str]] = defaultdict(list)
    endpoints = set()
    for term in by["dcim.cabletermination"].values():
        ends[term["cable"]].append(term["cable_end"])
        label = ".".join(term["termination_type"])
        endpoint = (label, term["termination_id"])
        assert endpoint not in endpoints, endpoint
        endpoints.add(endpoint)
        component = by[label][term["termination_id"]]
        assert (component["cable"], component["cable_end"]) == (term["cable"], term["cable_end"])
    assert set(ends) == set(by["dcim.cable"]) and all(sorted(e) == ["A", "B"] for e in ends.values())
    kinds = Counter(label for label, _ in endpoints)
    assert set(kinds) == {"dcim.interface", "dcim.frontport", "dcim.rearport", "circuits.circuittermination"}
    # Every component claiming a cable is one of its ends.
    for label in ("dcim.interface", "dcim.frontport", "dcim.rearport", "circuits.circuittermination"):
        assert {(label, pk) for pk, f in by[label].items() if f["cable"]} <= endpoints

    addresses, interfaces = by["ipam.ipaddress"], by["dcim.interface"]
    for device_pk, device in by["dcim.device"].items():
        rack = by["dcim.rack"][device["rack"]]
        assert rack["site"] == device["site"] and rack["location"] == device["location"]
        for field in ("primary_ip4", "oob_ip"):
            if device[field] is not None:  # an address on one of the device's own interfaces
                ip = addresses[device[field]]
                assert ip["assigned_object_type"] == ["dcim", "interface"]
                assert interfaces[ip["assigned_object_id"]]["device"] == device_pk, (device["name"], field)
    for vm_pk, vm in by["virtualization.virtualmachine"].items():
        ip = addresses[vm["primary_ip4"]]
        assert by["virtualization.vminterface"][ip["assigned_object_id"]]["virtual_machine"] == vm_pk
        if vm["device"] is not None:  # pinned to a host of its own cluster
            assert by["dcim.device"][vm["device"]]["cluster"] == vm["cluster"]
    assert len({ip["address"] for ip in addresses.values()}) == len(addresses)
    # Names NetBox keeps unique are.
    for label, key in (("dcim.site", "name"), ("dcim.device", "name"), ("tenancy.tenant", "name"), ("virtualization.virtualmachine", "name")):
        assert len({f[key] for f in by[label].values()}) == len(by[label]), label
    # VLAN 100 in no group at every site, as in the demo; some devices and prefixes untenanted.
    vlan_100 = [v for v in by["ipam.vlan"].values() if v["vid"] == 100]
    assert len(vlan_100) == len(by["dcim.site"]) and all(v["group"] is None for v in vlan_100)
    assert any(d["tenant"] is None for d in by["dcim.device"].values()) and any(p["tenant"] is None for p in by["ipam.prefix"].values())
    assert any(p["vrf"] is not None for p in by["ipam.prefix"].values()) and any(p["vrf"] is None for p in by["ipam.prefix"].values())
    assert all(t["custom_field_data"]["cust_id"] is not None for t in by["tenancy.tenant"].values())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_records_come_in_dumpdatas_order(generated, demo_fields, flavour):
    _, _, records = generated[flavour]
    blocks = [records[0].model] + [b.model for a, b in zip(records, records[1:], strict=False) if a.model != b.model]
    assert len(blocks) == len(set(blocks)), "a model's records are not together"
    assert blocks[0] == "contenttypes.contenttype"
    # The ordering problems the importer must solve: tenants after their devices,
    # addresses after the devices naming them primary, VLAN groups after their VLANs' users.
    assert blocks.index("dcim.device") < blocks.index("tenancy.tenant")
    assert blocks.index("dcim.device") < blocks.index("ipam.ipaddress")
    assert blocks.index("dcim.interface") < blocks.index("ipam.vlan")
    if flavour == "natural":
        demo_order = [label for label in demo_fields if label in blocks]
        assert blocks == demo_order
        assert {r.model for r in records if r.pk is None} == NATURAL_PRIMARY
        assert blocks[-2:] == ["users.user", "dcim.rackreservation"]
    else:
        assert all(isinstance(r.pk, int) for r in records)
        apps = [label.split(".")[0] for label in blocks]
        assert apps == sorted(apps, key=APP_ORDER.index)
        assert blocks.index("extras.customfield") < blocks.index("extras.tag")
        assert blocks.index("dcim.rack") + 1 == blocks.index("dcim.rackreservation")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_gzip_holds_the_same_bytes(generated, tmp_path, flavour):
    path, counts, _ = generated[flavour]
    zipped = tmp_path / "export.json.gz"
    assert write_export(zipped, objects=OBJECTS, natural_keys=FLAVOURS[flavour], gzip=True) == counts
    assert zipped.read_bytes()[:2] == b"\x1f\x8b" and gzip.decompress(zipped.read_bytes()) == path.read_bytes()
    assert sum(1 for _ in read_export(zipped)) == sum(counts.values())


def test_the_same_seed_gives_the_same_bytes():
    def export(seed: int, **options) -> bytes:
        stream = io.BytesIO()
        write_export(stream, objects=3_000, seed=seed, **options)
        assert not stream.closed  # the caller's stream stays open
        return stream.getvalue()

    assert export(7) == export(7) and export(7) != export(8)
    assert export(7, natural_keys=False, gzip=True) == export(7, natural_keys=False, gzip=True)
    # --indent 2, as the demo: the same records, laid out as dumpdata does.
    indented = export(7, indent=2)
    assert indented.startswith(b'[\n{\n  "model": "contenttypes.contenttype",\n  "fields": {\n') and indented.endswith(b"\n}\n]\n")
    assert json.loads(indented) == json.loads(export(7))


def _peak(path: Path, objects: int) -> int:
    tracemalloc.start()
    try:
        write_export(path, objects=objects)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_export(tmp_path):
    write_export(tmp_path / "warm.json", objects=2_500)  # caches and imports outside the measure
    small = _peak(tmp_path / "small.json", 2_500)
    large = _peak(tmp_path / "large.json", 20_000)
    assert (tmp_path / "large.json").stat().st_size > 6 * (tmp_path / "small.json").stat().st_size
    assert large < 2 * small, (small, large)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli.json.gz"
    main([str(out), "--objects", "3000", "--seed", "3", "--no-natural-keys"])
    records = list(read_export(out))
    assert abs(len(records) - 3_000) <= 150 and all(isinstance(r.pk, int) for r in records)
    assert f"{out}: {len(records)} records" in capsys.readouterr().err
