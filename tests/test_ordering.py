"""Orders through references (models/ordering.py): a list ordered by a referenced row's own
order (Django's ordering by a relation, NetBox's ``Meta.ordering``) or by one column of it,
NULL references last unless declared first, on the root list and on nested lists, through
both read paths (the suite's shadow mode compares them on every query here). The data is
made so that the UUIDs sort otherwise than the declared order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from factories import change_settings

from models import ordering
from models.base import DeclarationError, Through, table_of
from models.dcim.components import InventoryItem
from models.dcim.sites import Location
from models.registry import spec_for


async def renamed_against_ids(lab: Lab, name: str, ids: list[str], names: list[str]) -> list[str]:
    """Name the objects so that ``names`` (in order) go to them from the highest id down:
    the declared order is then the reverse of the UUID order."""
    for object_id, new in zip(sorted(ids, reverse=True), names, strict=True):
        await lab.update(name, object_id, name=new)
    return sorted(ids, reverse=True)


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL the app sends while inside."""
    sent: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    engine = app.state.danbyte.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


async def test_components_order_by_their_device_then_naturally(app, api, org, monkeypatch):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    made = [await lab.device(c, kind, f"tmp{n}") for n in range(3)]
    # By name: edge1, edge2, edge10 (natural), held by ids from the highest down.
    devices = await renamed_against_ids(lab, "device", made, ["edge1", "edge2", "edge10"])
    for device in made:
        for name in ("eth10", "eth2"):
            await lab.make("interface", device=device, name=name, type="TYPE_1000BASE_T")
    # Two unnamed devices sort last, by numid (NetBox's id after an import), not by UUID.
    unnamed = [await lab.device(c, kind, None) for _ in range(2)]
    for device in unnamed:
        await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    names = {device: name for device, name in zip(devices, ["edge1", "edge2", "edge10"], strict=True)}
    expected = [{"name": i, "device": {"name": names[d]}} for d in devices for i in ("eth2", "eth10")]
    expected += [{"name": "eth0", "device": {"name": None}}] * 2
    got = await api.data("{ interface_list { name device { name id } } }")
    assert [{"name": i["name"], "device": {"name": i["device"]["name"]}} for i in got["interface_list"]] == expected
    assert [i["device"]["id"] for i in got["interface_list"][-2:]] == unnamed  # created first, lower numid
    assert sorted(made) != devices  # the UUIDs order otherwise
    nested = await api.data("{ device_list { name interfaces { name } } }")
    assert (
        nested["device_list"]
        == [{"name": names[d], "interfaces": [{"name": "eth2"}, {"name": "eth10"}]} for d in devices] + [{"name": None, "interfaces": [{"name": "eth0"}]}] * 2
    )

    # A device's interfaces share the device: no statement orders them through it, on
    # either path (a subquery per interface otherwise).
    query = "{ device_list { name interfaces { name } } }"
    for compiled in (True, False):
        change_settings(app, monkeypatch, compile_reads=compiled, compiler_shadow=False)
        with statements(app) as sent:
            assert (await api.data(query)) == nested
        interface_reads = [s for s in sent if re.search(r'\bFROM "?interface"?\b', s)]
        assert interface_reads, sent
        assert not any(re.search(r'FROM "?device"? (AS )?\w+ WHERE', s) for s in interface_reads), interface_reads


async def test_a_reader_who_cannot_see_the_device_learns_nothing_from_the_order(api, org):
    """Row-level security applies inside the order's subqueries: a hidden device orders as
    NULL, so its interfaces come by the reference itself, not by the device's name."""
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    made = [await lab.device(c, kind, f"tmp{n}") for n in range(3)]
    devices = await renamed_against_ids(lab, "device", made, ["a", "b", "c"])
    for device in made:
        await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    admin = await api.data("{ interface_list { device { id } } }")
    assert [i["device"]["id"] for i in admin["interface_list"]] == devices
    reader = api.as_key(await org.user_key(grants={"interface": ["view"]}))
    hidden = await reader.data("{ interface_list { name device { id } } }")
    assert [i["device"] for i in hidden["interface_list"]] == [None] * 3
    # By device_id: the UUID order, the reverse of the names'.
    ids = await api.data("{ interface_list { id device { id } } }")
    by_device = {i["device"]["id"]: i["id"] for i in ids["interface_list"]}
    seen = await reader.data("{ interface_list { id } }")
    assert [i["id"] for i in seen["interface_list"]] == [by_device[d] for d in sorted(made)]


async def test_prefixes_global_first_then_by_vrf_id(api, org):
    """NetBox's ``F("vrf").asc(nulls_first=True)``: the global table first, then VRFs by
    their id (numid here), not by name."""
    lab = Lab(api, org.tenant_ids[0])
    zeta = await lab.make("vrf", name="zeta")  # numid 1
    alpha = await lab.make("vrf", name="alpha")  # numid 2
    for vrf in (alpha, None, zeta):
        for prefix in ("10.2.0.0/16", "10.10.0.0/16"):
            await lab.make("prefix", prefix=prefix, vrf=vrf)
    got = await api.data("{ prefix_list { prefix vrf { name } } }")
    order = [(p["vrf"] and p["vrf"]["name"], p["prefix"]) for p in got["prefix_list"]]
    assert order == [(vrf, p) for vrf in (None, "zeta", "alpha") for p in ("10.2.0.0/16", "10.10.0.0/16")]
    nested = await api.data("{ vrf_list { name prefixes { prefix } } }")
    assert nested["vrf_list"] == [{"name": name, "prefixes": [{"prefix": "10.2.0.0/16"}, {"prefix": "10.10.0.0/16"}]} for name in ("alpha", "zeta")]


async def test_vlans_by_site_then_group_null_references_last(api, org):
    lab = Lab(api, org.tenant_ids[0])
    made = [await lab.make("site", name=f"tmp{n}", slug=f"tmp{n}") for n in range(2)]
    sites = await renamed_against_ids(lab, "site", made, ["ams", "fra"])
    group = await lab.make("vlan_group", name="core", slug="core")
    vlans = [(None, None, 5), (None, group, 7), (sites[1], None, 3), (sites[0], group, 9), (sites[0], None, 20), (sites[1], group, 1)]
    for site, vlan_group, vid in vlans:
        await lab.make("vlan", vid=vid, name=f"v{vid}", site=site, group=vlan_group)
    got = await api.data("{ vlan_list { vid site { name } group { name } } }")
    # Site (NULL last), then group (NULL last), then vid.
    assert [v["vid"] for v in got["vlan_list"]] == [9, 20, 1, 3, 7, 5]
    nested = await api.data("{ site_list { name vlans { vid } } vlan_group_list { vlans { vid } } }")
    assert nested["site_list"] == [{"name": "ams", "vlans": [{"vid": 9}, {"vid": 20}]}, {"name": "fra", "vlans": [{"vid": 1}, {"vid": 3}]}]
    assert nested["vlan_group_list"] == [{"vlans": [{"vid": 9}, {"vid": 1}, {"vid": 7}]}]


async def test_circuits_by_provider_then_account_then_cid(api, org):
    """Two levels: a circuit's account orders by its own provider, then its account."""
    lab = Lab(api, org.tenant_ids[0])
    made = [await lab.make("provider", name=f"tmp{n}", slug=f"tmp{n}") for n in range(2)]
    providers = await renamed_against_ids(lab, "provider", made, ["Alpha", "Zeta"])
    kind = await lab.make("circuit_type", name="Transit", slug="transit")
    account = await lab.make("provider_account", provider=providers[0], account="ACC-2")
    first = await lab.make("provider_account", provider=providers[0], account="ACC-1")
    for cid, provider, held in (("C1", providers[0], None), ("C2", providers[0], account), ("C3", providers[1], None), ("C4", providers[0], first)):
        await lab.make("circuit", cid=cid, provider=provider, provider_account=held, type=kind)
    got = await api.data("{ circuit_list { cid } provider_account_list { account } }")
    assert [c["cid"] for c in got["circuit_list"]] == ["C4", "C2", "C1", "C3"]  # ACC-1, ACC-2, no account; then Zeta
    assert [a["account"] for a in got["provider_account_list"]] == ["ACC-1", "ACC-2"]
    nested = await api.data("{ provider_list { name circuits { cid } accounts { account circuits { cid } } } }")
    assert nested["provider_list"] == [
        {"name": "Alpha", "circuits": [{"cid": "C4"}, {"cid": "C2"}, {"cid": "C1"}], "accounts": [
            {"account": "ACC-1", "circuits": [{"cid": "C4"}]}, {"account": "ACC-2", "circuits": [{"cid": "C2"}]}]},
        {"name": "Zeta", "circuits": [{"cid": "C3"}], "accounts": []},
    ]  # fmt: skip


async def test_an_order_through_a_reference_to_the_same_table(api, org):
    """The target is aliased: inventory items ordered through their parent item (its
    name; then its own whole order), as subqueries, as SQL text and as joins alike."""
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "d")
    b = await lab.make("inventory_item", device=device, name="b")
    a = await lab.make("inventory_item", device=device, name="a")
    await lab.make("inventory_item", device=device, name="x", parent=b)
    await lab.make("inventory_item", device=device, name="y", parent=a)
    await lab.make("inventory_item", device=device, name="z", parent=a)
    table = table_of(InventoryItem)
    for terms, expected in (
        ((Through("parent", "_name"), "_name"), ["y", "z", "x", "a", "b"]),
        ((Through("parent"), "_name"), ["y", "z", "x", "a", "b"]),  # the parent's own order: its name
    ):
        order = ordering.plan(InventoryItem, terms)
        async with org.db.system_transaction() as conn:
            by_expressions = (
                await conn.execute(sa.select(table.c.name).where(table.c.device_id == device).order_by(*ordering.expressions(order, table)))
            ).scalars()
            text = f"SELECT t.name FROM inventory_item t WHERE t.device_id = :d ORDER BY {', '.join(ordering.texts(order, 't'))}"
            by_text = (await conn.execute(sa.text(text), {"d": device})).scalars()
            source, joined_order = ordering.joined(order, table)  # a root page's form
            by_joins = (await conn.execute(sa.select(table.c.name).select_from(source).where(table.c.device_id == device).order_by(*joined_order))).scalars()
            assert list(by_expressions) == list(by_text) == list(by_joins) == expected, terms


def test_a_list_restricted_to_one_reference_leaves_out_what_it_fixes():
    interface = spec_for("Interface")
    assert len(interface.ordering) == 5  # the device's name and numid, device_id, _name, id
    assert interface.order_sql("t", ("device_id",)) == ('t."_name"', 't."id"')
    assert len(interface.ordering_within("device_id")) == 2
    # A term the parent does not fix stays: a VLAN group's VLANs still order by site.
    assert any("site" in term for term in spec_for("VLAN").order_sql("t", ("group_id",)))
    # The referenced row's id is the row's own reference column: no subquery for it.
    assert 't."site_id"' in spec_for("VLAN").order_sql("t")
    assert spec_for("Prefix").order_sql("t")[0].endswith("NULLS FIRST")


def test_declarations_are_checked(monkeypatch):
    for terms, message in (
        (("no_such_column",), "no column 'no_such_column'"),
        ((Through("nothing"),), "'nothing' is not a reference"),
        ((Through("device", "nope"),), "Device has no column 'nope'"),
    ):
        with pytest.raises(DeclarationError, match=message):
            ordering.plan(InventoryItem, terms)
    # Ordering through a reference back to the same model's full order never ends.
    monkeypatch.setattr(Location, "__ordering__", (Through("parent"),))
    monkeypatch.setattr(Location, "__ordering_through__", None)
    with pytest.raises(DeclarationError, match="comes back to Location"):
        ordering.plan(Location)


def test_an_order_through_a_tree_follows_its_meta_ordering():
    """A location lists as a tree (``_tree``), but a rack ordered by its location orders by
    the location's ``Meta.ordering`` (site, name), as Django does."""
    assert [term.column for term in ordering.plan(Location)] == ["_tree", "id"]
    rack = ordering.plan(spec_for("Rack").model)
    through_location = [term.column for term in rack if term.hops and term.hops[0].column == "location_id"]
    assert through_location == ["_name", "site_id", "_name"], through_location
