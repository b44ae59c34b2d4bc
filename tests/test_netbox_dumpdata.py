"""Reading a NetBox dumpdata export (netbox_import/dumpdata.py) and what becomes of every
NetBox model and field (netbox_import/model_map.py). Pure: no database, no services.

The demo export (../shared/data/netbox) is NetBox 4.2 with natural keys; the flavour
without natural keys is generated here. ``netbox_models.json`` beside this file lists
every model NetBox 3.6 to 4.6 keeps and the fields dumpdata writes for it, replayed from
NetBox's own migrations by scripts/netbox_models.py.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import SHARED_DATA

from models.registry import specs
from netbox_import.dumpdata import MAX_DEPTH, ContentTypes, ExportError, Record, Usernames, read_export
from netbox_import.model_map import DANBYTE_ONLY, MODELS, Disposition, How, Status, plan, targets

EXPORT = SHARED_DATA / "netbox" / "netbox-v4.2-demo.dumpdata.json"
NETBOX_MODELS = json.loads((Path(__file__).parent / "netbox_models.json").read_text())["models"]
CONTENT_TYPE_MODELS = {"contenttypes.contenttype", "core.objecttype"}


@pytest.fixture(scope="module")
def demo() -> list[Record]:
    return list(read_export(EXPORT))


@pytest.fixture(scope="module")
def demo_fields(demo) -> dict[str, set[str]]:
    fields: dict[str, set[str]] = defaultdict(set)
    for record in demo:
        fields[record.model].update(record.fields)
    return fields


def write(path: Path, objects, *, gz: bool = False) -> Path:
    data = json.dumps(objects, indent=2).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def failure(source) -> ExportError:
    """The error reading ``source`` raises, after reading every record before it."""
    with pytest.raises(ExportError) as raised:
        for _ in read_export(source):
            pass
    error = raised.value
    # The parser's own exception is not chained on: the message says it all.
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return error


# --- the reader: the demo export ----------------------------------------------------------


def test_demo_export_reads_every_object_as_json_does(demo):
    reference = json.loads(EXPORT.read_text(), parse_float=Decimal)
    assert len(demo) == len(reference) == 7082
    assert [(r.model, r.pk, r.fields) for r in demo] == [(o["model"], o.get("pk"), o["fields"]) for o in reference]
    assert [r.index for r in demo] == list(range(1, 7083))
    counts = Counter(r.model for r in demo)
    # The README's inventory of the export.
    assert counts["dcim.device"] == 72 and counts["dcim.interface"] == 1586 and counts["dcim.cable"] == 108
    assert counts["dcim.cabletermination"] == 216 and counts["ipam.prefix"] == 90 and counts["ipam.ipaddress"] == 180
    assert counts["virtualization.virtualmachine"] == 180 and counts["virtualization.vminterface"] == 720


def test_demo_export_natural_keys(demo):
    # Natural-key objects carry no pk; everything else has its NetBox id.
    without_pk = {r.model for r in demo if r.pk is None}
    assert without_pk == {"auth.permission", "contenttypes.contenttype", "extras.taggeditem", "extras.tag", "users.user", "users.group"}
    assert all(isinstance(r.pk, int) for r in demo if r.model == "dcim.device")
    types = ContentTypes()
    assert sum(types.learn(r) for r in demo) == 156
    assert types.by_id == {}  # natural keys: nothing to learn, every reference names its type
    terminations = [r for r in demo if r.model == "dcim.cabletermination"]
    labels = Counter(types.label(r.fields["termination_type"], where=f"object {r.index}") for r in terminations)
    assert labels == {
        "dcim.interface": 102,
        "circuits.circuittermination": 32,
        "dcim.poweroutlet": 26,
        "dcim.powerport": 26,
        "dcim.frontport": 24,
        "dcim.rearport": 6,
    }
    names = Usernames()
    assert sum(names.learn(r) for r in demo) == 6
    dashboard = next(r for r in demo if r.model == "extras.dashboard")
    assert names.name(dashboard.fields["user"]) == "admin"


def test_gzip_is_told_by_its_magic_bytes_not_its_name(tmp_path, demo):
    data = EXPORT.read_bytes()
    zipped = tmp_path / "export.json"  # gzipped, named like plain JSON
    zipped.write_bytes(gzip.compress(data))
    plain = tmp_path / "export.json.gz"  # plain, named like gzip
    plain.write_bytes(data)
    for path in (zipped, plain):
        records = list(read_export(path))
        assert [(r.model, r.pk, r.fields) for r in records] == [(r.model, r.pk, r.fields) for r in demo]
    # A binary stream works too, and is left open for its owner.
    with zipped.open("rb") as stream:
        assert sum(1 for _ in read_export(stream)) == 7082
        assert not stream.closed


def _peak_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        assert sum(1 for _ in read_export(path)) > 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_export(tmp_path):
    record = {"model": "dcim.interface", "fields": {"name": "GigabitEthernet0/0/0", "description": "x" * 150, "mtu": 1500, "speed": None}}
    peaks, sizes = [], []
    for count in (5_000, 40_000):  # about 1.4 MB, then 11 MB
        path = tmp_path / f"export-{count}.json"
        with path.open("w") as out:
            out.write("[")
            for pk in range(count):
                out.write(("," if pk else "") + json.dumps({**record, "pk": pk}))
            out.write("]")
        sizes.append(path.stat().st_size)
        peaks.append(_peak_reading(path))
    # Eight times the records, the same memory: one record and the parser's buffers.
    assert sizes[1] > 10_000_000 and peaks[1] < peaks[0] * 1.25 + 65_536 and peaks[1] < sizes[1] / 10, (sizes, peaks)


# --- the reader: an export without natural keys -------------------------------------------

# dumpdata without --natural-foreign: in NetBox's order of installed apps (auth,
# contenttypes, then NetBox's: dcim, ipam, extras… and users after them), every object
# with its pk, content types and users as integers.
PLAIN_EXPORT = [
    {"model": "auth.permission", "pk": 1, "fields": {"name": "Can add site", "content_type": 1, "codename": "add_site"}},
    {"model": "contenttypes.contenttype", "pk": 1, "fields": {"app_label": "dcim", "model": "site"}},
    {"model": "contenttypes.contenttype", "pk": 2, "fields": {"app_label": "dcim", "model": "interface"}},
    {"model": "contenttypes.contenttype", "pk": 41, "fields": {"app_label": "ipam", "model": "ipaddress"}},
    {
        "model": "dcim.site",
        "pk": 7,
        "fields": {"name": "AMS1", "slug": "ams1", "custom_field_data": {"ratio": 0.1, "big": 12345678901234567890}},
    },
    {
        "model": "ipam.ipaddress",
        "pk": 12,
        "fields": {"address": "10.0.0.1/24", "assigned_object_type": 2, "assigned_object_id": 5, "custom_field_data": {}},
    },
    {"model": "extras.tag", "pk": 1, "fields": {"name": "core", "slug": "core", "color": "ff0000", "object_types": [1, 2]}},
    {"model": "extras.journalentry", "pk": 9, "fields": {"assigned_object_type": 1, "assigned_object_id": 7, "created_by": 3, "kind": "info"}},
    {"model": "users.user", "pk": 3, "fields": {"username": "ops", "password": "!", "is_superuser": False}},
    {"model": "users.userconfig", "pk": 1, "fields": {"user": 3, "data": {}}},
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_export_without_natural_keys(tmp_path, gz):
    path = write(tmp_path / "plain.json", PLAIN_EXPORT, gz=gz)
    records = list(read_export(path))
    assert [(r.model, r.pk) for r in records] == [(o["model"], o["pk"]) for o in PLAIN_EXPORT]
    # Numbers stay exact: no float, no rounding.
    site = records[4]
    assert site.fields["custom_field_data"] == {"ratio": Decimal("0.1"), "big": 12345678901234567890}
    assert type(site.fields["custom_field_data"]["ratio"]) is Decimal

    types = ContentTypes.from_export(path)
    assert types.by_id == {1: "dcim.site", 2: "dcim.interface", 41: "ipam.ipaddress"}
    address, tag, entry = records[5], records[6], records[7]
    assert types.label(address.fields["assigned_object_type"]) == "dcim.interface"
    assert types.labels(tag.fields["object_types"]) == ["dcim.site", "dcim.interface"]
    assert types.label(entry.fields["assigned_object_type"]) == "dcim.site"
    # The same reference in natural-key form, or already a label, or null.
    assert types.label(["dcim", "interface"]) == types.label("dcim.interface") == "dcim.interface"
    assert types.label(None) is None and types.labels(None) == []

    # The journal entry names its author before the users come: they are read ahead.
    names = Usernames.from_export(path)
    assert names.by_id == {3: "ops"}
    assert names.name(entry.fields["created_by"]) == "ops" and names.name(["ops"]) == "ops" and names.name(None) is None


def test_content_types_are_read_up_to_the_end_of_their_block(tmp_path):
    # dumpdata writes a model's records together: nothing after the block is parsed, so
    # the broken tail below is never reached.
    path = tmp_path / "head.json"
    path.write_bytes(json.dumps(PLAIN_EXPORT)[:-1].encode() + b', {"model": oops')
    assert ContentTypes.from_export(path).by_id == {1: "dcim.site", 2: "dcim.interface", 41: "ipam.ipaddress"}
    with pytest.raises(ExportError, match="object 11"):
        list(read_export(path))
    # Users are read up to the end of theirs: the tail is never reached either.
    cut = json.dumps(PLAIN_EXPORT[:-1])[:-1].encode() + b', {"model": "users.userconfig", "pk": 1, "fields": {}}, {"model": oops'
    path.write_bytes(cut)
    assert Usernames.from_export(path).by_id == {3: "ops"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (99, "content type 99 is not in the export"),
        ("dcim", "is not a content type"),
        (["dcim"], "is not a content type"),
        (["dcim", ""], "is not a content type"),
        (True, "is not a content type"),
        ({"app_label": "dcim"}, "is not a content type"),
    ],
)
def test_a_bad_content_type_reference_is_named(value, problem):
    types = ContentTypes()
    types.learn(Record("contenttypes.contenttype", 1, {"app_label": "dcim", "model": "site"}, 1))
    with pytest.raises(ExportError, match=problem) as raised:
        types.label(value, where="ipam.prefix 4 scope_type")
    assert str(raised.value).startswith("ipam.prefix 4 scope_type: ")
    with pytest.raises(ExportError, match="expected a list"):
        types.labels(1, where="extras.tag 1 object_types")


def test_bad_content_type_and_user_records(tmp_path):
    with pytest.raises(ExportError, match="object 4: a content type needs its app_label and model"):
        ContentTypes().learn(Record("contenttypes.contenttype", 3, {"app_label": "dcim"}, 4))
    with pytest.raises(ExportError, match="object 5: a user needs its username"):
        Usernames().learn(Record("users.user", 3, {"username": ""}, 5))
    names = Usernames()
    with pytest.raises(ExportError, match="user 8 is not in the export"):
        names.name(8, where="dcim.rackreservation 2 user")
    with pytest.raises(ExportError, match="is not a user"):
        names.name(["a", "b"])


# --- the reader: malformed input ----------------------------------------------------------

GOOD = b'{"model": "dcim.site", "pk": 1, "fields": {"name": "a"}}'


@pytest.mark.parametrize(
    ("data", "position", "problem"),
    [
        (b"", "the start", "the export is empty"),
        (b" \n\t ", "the start", "the export is empty"),
        (b"hello", "the start", "not a JSON list of records (it starts with 'h')"),
        (b'{"model": "dcim.site"}', "the start", "not a JSON list of records"),
        (b"[" + GOOD + b", 3]", "object 2 (after dcim.site pk=1, object 1)", "a record must be an object, not a number"),
        (b'[{"pk": 1, "fields": {}}]', "object 1", 'a record needs its model as "app_label.model"'),
        (b'[{"model": "Site", "fields": {}}]', "object 1", "not 'Site'"),
        (b'[{"model": 5, "fields": {}}]', "object 1", "not 5"),
        (b"[" + GOOD + b', {"model": "dcim.site", "pk": 2}]', "object 2 (after dcim.site pk=1, object 1)", 'the dcim.site record has no "fields" object'),
        (b'[{"model": "dcim.site", "fields": []}]', "object 1", 'no "fields" object'),
        (b'[{"model": "dcim.site", "pk": {"a": 1}, "fields": {}}]', "object 1", "pk must be a number or a string, not an object"),
        (b"[" + GOOD + b", " + GOOD + b", " + GOOD[:30], "object 3 (after dcim.site pk=1, object 2)", "not valid JSON: parse error: premature EOF"),
        (b"[" + GOOD + b"] trailing", "after the end of the list (object 1 was the last)", "not valid JSON"),
        (b'[{"model": "dcim.site", "fields": {"name": NaN}}]', "object 1", "not valid JSON"),
        (b'[{"model": "dcim.site", "fields": {"name": "\xff"}}]', "object 1", "not valid"),
        (b'[{"model": "a.b", "fields": {"x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}}]", "object 1", f"nested deeper than {MAX_DEPTH} levels"),
    ],
    ids=[
        "empty",
        "blank",
        "not-json",
        "an-object",
        "not-a-record",
        "no-model",
        "bad-label",
        "model-not-a-string",
        "no-fields",
        "fields-not-an-object",
        "bad-pk",
        "truncated",
        "trailing-garbage",
        "nan",
        "bad-utf8",
        "nesting-bomb",
    ],
)
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_malformed_input_is_named_by_position(tmp_path, data, position, problem, gz):
    path = tmp_path / "bad.json"
    path.write_bytes(gzip.compress(data) if gz else data)
    error = failure(path)
    assert str(error).startswith(f"{path}: {position}: "), str(error)
    assert problem in str(error)
    # What came before the fault was read and handed over.
    if position.startswith("object "):
        assert error.index == int(position.split()[1])


def test_a_truncated_gzip_stream_is_named(tmp_path):
    zipped = gzip.compress(EXPORT.read_bytes())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(zipped[: len(zipped) // 2])
    seen = []
    with pytest.raises(ExportError) as raised:
        for record in read_export(path):
            seen.append(record)
    error = raised.value
    assert len(seen) > 1000 and error.index == len(seen) + 1
    assert f"object {len(seen) + 1} (after " in str(error)
    assert "truncated" in str(error) or "premature EOF" in str(error)


def test_a_damaged_gzip_stream_is_named(tmp_path):
    zipped = bytearray(gzip.compress(EXPORT.read_bytes()))
    middle = len(zipped) // 2
    zipped[middle : middle + 64] = bytes(64)  # zeroes in the middle of the deflate stream
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(zipped))
    error = failure(path)
    assert error.index is not None and error.index > 1
    assert "gzip stream is truncated or damaged" in str(error) or "not valid" in str(error)
    # A damaged trailer (the checksum) is caught too, after the last record.
    zipped = bytearray(gzip.compress(json.dumps(PLAIN_EXPORT).encode()))
    zipped[-8] ^= 0xFF
    path.write_bytes(bytes(zipped))
    assert "gzip stream is truncated or damaged" in str(failure(path))


def test_byte_order_mark_and_whitespace_before_the_list(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b" " * 10_000 + b"\n[" + GOOD + b"]")
    assert [(r.model, r.pk) for r in read_export(path)] == [("dcim.site", 1)]
    assert [r.pk for r in read_export(io.BytesIO(gzip.compress(b"[" + GOOD + b"]")))] == [1]


# --- the model map ------------------------------------------------------------------------


def test_every_target_is_a_danbyte_model_and_every_danbyte_model_is_reached():
    registry = specs()
    landing = targets()
    assert set(landing) <= set(registry), set(landing) - set(registry)
    assert set(DANBYTE_ONLY) <= set(registry) and not set(DANBYTE_ONLY) & set(landing)
    unreached = set(registry) - set(landing) - set(DANBYTE_ONLY)
    assert not unreached, f"Danbyte models no NetBox model lands in: {sorted(unreached)}"
    # A Danbyte model named like a NetBox model is where that model lands.
    for spec in registry.values():
        if spec.content_type in NETBOX_MODELS:
            assert plan(spec.content_type).target == spec.type_name, spec.content_type


def test_every_netbox_model_of_every_release_has_a_disposition():
    missing = sorted(label for label in NETBOX_MODELS if label not in MODELS)
    assert not missing, f"NetBox models with no disposition: {missing}"
    for label, entry in MODELS.items():
        assert entry.reason or entry.disposition is Disposition.model, label
        if entry.disposition is Disposition.model:
            assert entry.target in specs(), label


def without_a_home(fields_by_model: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """Of an export's models and their fields: (models with no disposition, fields of
    landing models that are neither mapped, ignored nor kept in custom fields)."""
    unknown_models = sorted(label for label in fields_by_model if plan(label).disposition is Disposition.unknown)
    homeless = []
    for label, names in sorted(fields_by_model.items()):
        model = plan(label)
        if model.target is None:
            continue
        for name, field in model.fields(names).items():
            if field.status not in (Status.mapped, Status.ignored, Status.custom_field):
                homeless.append(f"{label}.{name}: {field.status.value} {field.note}")
    return unknown_models, homeless


def test_demo_export_every_model_and_field_has_a_home(demo_fields):
    unknown_models, homeless = without_a_home(demo_fields)
    assert not unknown_models, f"models of the demo export with no disposition: {unknown_models}"
    assert not homeless, "fields of the demo export with no home:\n" + "\n".join(homeless)


def test_every_field_of_every_release_has_a_home():
    homeless, dropped = [], set()
    for label, model in NETBOX_MODELS.items():
        mapped = plan(label)
        if mapped.target is None:
            continue
        for name in model["fields"]:
            field = mapped.field(name)
            if field.status is Status.unknown:
                homeless.append(f"{label}.{name} ({model['fields'][name]['kind']}, {model['fields'][name].get('releases', model['releases'])})")
            elif field.status is not Status.mapped:
                assert field.note, f"{label}.{name} is {field.status.value} without a reason"
            if field.status is Status.dropped:
                dropped.add(f"{label}.{name}")
            if field.status is Status.custom_field:
                assert field.target == f"custom_fields.netbox_{name}"
                assert mapped.spec.scalar("custom_fields") is not None, f"{label}.{name}: {mapped.target} has no custom fields"
    assert not homeless, "NetBox fields with no home:\n" + "\n".join(homeless)
    # Losses are few and deliberate: a new one must be added here, in sight.
    assert dropped == {"core.objectchange.message", "extras.tag.owner"}


def _danbyte_field(spec, name):
    for group in (spec.scalars, spec.refs, spec.many, spec.one_of):
        for item in group:
            if item.name == name:
                return item
    return None


def test_mapped_fields_agree_with_what_netbox_declares():
    """The migrations say what each NetBox field is (a reference to which model, a content
    type, a user): what it maps to must be the same thing here."""
    problems = []
    for label, model in NETBOX_MODELS.items():
        mapped = plan(label)
        if mapped.target is None:
            continue
        for name, declared in model["fields"].items():
            field = mapped.field(name)
            if field.status is not Status.mapped:
                continue
            kind, *rest = declared["kind"].split()
            points_at = label if kind == "TreeForeignKey" else (rest[0] if rest else None)
            relation = kind in ("ForeignKey", "OneToOneField", "TreeForeignKey", "ManyToManyField")
            owner, target_name = field.target.split(".", 1) if "." in field.target else (mapped.target, field.target)
            target = _danbyte_field(specs()[owner], target_name)
            where = f"{label}.{name} → {field.target}"
            if target is None:
                problems.append(f"{where}: no such Danbyte field")
                continue
            if points_at in CONTENT_TYPE_MODELS:
                if field.how not in (How.content_type, How.content_types, How.generic, How.special):
                    problems.append(f"{where}: a content type carried as {field.how}")
            elif points_at in ("users.user", "auth.user"):
                if field.how is not How.user:
                    problems.append(f"{where}: a user carried as {field.how}")
            elif relation:
                lands = plan(points_at).target
                if field.how in (How.reference, How.references) and getattr(target, "target", None) != lands:
                    problems.append(f"{where}: NetBox points at {points_at} (→ {lands}), Danbyte at {getattr(target, 'target', None)}")
                elif field.how is How.member and (lands != field.member or field.member not in dict(target.members)):
                    problems.append(f"{where}: member {field.member} of {target_name} for {points_at} (→ {lands})")
                elif field.how not in (How.reference, How.references, How.member, How.special):
                    problems.append(f"{where}: a reference carried as {field.how}")
            elif field.how in (How.reference, How.references, How.member, How.user):
                problems.append(f"{where}: a plain {kind} carried as {field.how}")
    assert not problems, "\n".join(problems)


def test_generic_references_of_the_demo_land_on_members(demo):
    """Each (type, id) pair of the demo names a type whose Danbyte model the one-of takes."""
    types = ContentTypes()
    checked = Counter()
    for record in demo:
        model = plan(record.model)
        if model.spec is None:
            continue
        for name, value in record.fields.items():
            field = model.field(name)
            if field.how is not How.generic or not name.endswith("_type") or value is None:
                continue
            lands = plan(types.label(value)).target
            target = _danbyte_field(model.spec, field.target)
            members = [member for member, _ in target.members] if hasattr(target, "members") else [target.target]
            assert lands in members, f"{record!r} {name}={value} lands in {lands}, {field.target} takes {members}"
            checked[record.model] += 1
    assert checked == {"dcim.cabletermination": 216, "circuits.circuittermination": 45, "ipam.prefix": 65, "ipam.vlangroup": 6}


def test_plan_answers():
    device = plan("dcim.device")
    assert device.disposition is Disposition.model and device.target == "Device" and device.numid_from_pk
    assert (device.field("custom_field_data").target, device.field("custom_field_data").how) == ("custom_fields", How.custom_fields)
    assert (device.field("role").target, device.field("role").how) == ("role", How.reference)
    assert device.field("interface_count").status is Status.ignored
    assert (device.field("cluster").target, device.field("cluster").how) == ("cluster", How.reference)
    assert plan("dcim.rack").field("rack_type").target == "custom_fields.netbox_rack_type"  # rack types are left out
    assert device.field("no_such_field").status is Status.unknown
    assert not plan("dcim.interface").numid_from_pk  # components have no numid
    assert not plan("extras.tag").numid_from_pk and plan("extras.tag").target == "Tag"
    # Tags have no custom fields: what would be kept there is lost, and says so.
    assert plan("extras.tag").field("owner").status is Status.dropped and "no custom fields" in plan("extras.tag").field("owner").note

    prefix = plan("ipam.prefix")
    assert {prefix.field(n).target for n in ("scope_type", "scope_id")} == {"scope"}
    assert prefix.field("_depth").status is Status.ignored
    assert plan("dcim.rack").field("type").target == "form_factor"  # NetBox ≤ 4.0
    assert plan("ipam.service").field("device").member == "Device"  # NetBox ≤ 4.2
    assert plan("dcim.frontport").field("rear_port").target == "PortMapping.rear_port"  # NetBox ≤ 4.4
    assert plan("tenancy.contactassignment").field("object_type").how is How.content_type
    assert plan("tenancy.contactassignment").field("object_id").how is How.any_object
    assert plan("extras.tag").field("object_types").how is How.content_types
    # NetBox 4.3+'s tag weight and range marks land in columns of the same name.
    assert (plan("extras.tag").field("weight").status, plan("extras.tag").field("weight").target) == (Status.mapped, "weight")
    for name in ("mark_utilized", "mark_populated"):
        assert (plan("ipam.iprange").field(name).status, plan("ipam.iprange").field(name).target) == (Status.mapped, name)
    # Q-in-Q (NetBox 4.2+) lands on Danbyte's own fields, no longer in custom fields.
    vlan = plan("ipam.vlan")
    assert (vlan.field("qinq_svlan").target, vlan.field("qinq_svlan").how) == ("qinq_svlan", How.reference)
    assert vlan.field("qinq_role").target == "qinq_role" and vlan.field("qinq_role").status is Status.mapped
    for label in ("dcim.interface", "virtualization.vminterface"):
        assert (plan(label).field("qinq_svlan").target, plan(label).field("qinq_svlan").how) == ("qinq_svlan", How.reference), label

    for label in ("core.objectchange", "extras.objectchange"):
        assert plan(label).disposition is Disposition.history and plan(label).target == "ObjectChange"
    assert plan("extras.taggeditem").disposition is Disposition.folded and plan("extras.taggeditem").into == "tags"
    assert plan("tenancy.contactgroupmembership").into == "Contact.groups"  # NetBox 4.3.0
    assert plan("dcim.cablepath").disposition is Disposition.skipped
    assert plan("contenttypes.contenttype").disposition is Disposition.lookup
    for left_out in ("dcim.racktype", "dcim.cablebundle", "dcim.virtualdevicecontext", "dcim.moduletypeprofile", "ipam.asnrange", "ipam.vlantranslationpolicy"):
        assert plan(left_out).disposition is Disposition.custom_data, left_out
    for internal in ("extras.script", "extras.dashboard", "extras.notification", "sessions.session", "extras.cachedvalue", "core.datafile"):
        assert plan(internal).disposition is Disposition.skipped, internal
    for present in ("circuits.virtualcircuit", "circuits.circuitgroup", "dcim.inventoryitemrole"):
        assert plan(present).disposition is Disposition.model, present

    plugin = plan("netbox_bgp.session")
    assert plugin.disposition is Disposition.unknown and plugin.target is None and plugin.reason
    assert plugin.field("anything").status is Status.ignored
