"""DCIM reads resolve their relations through per-request loaders: the SQL statements of a
device list depend on the query's shape, not on how many devices, interfaces and
addresses it returns. And the DCIM benchmark's loader works, at a tiny size."""

from __future__ import annotations

import uuid

import pytest
from dcim_lab import Lab
from factories import change_settings

from benchmarks.common import measure
from benchmarks.dcim import QUERIES, Shape, checker, load

DEVICES_QUERY = "{ device_list { id name site { name } tenant { name } device_type { model } primary_ip4 { address } } }"
INTERFACES_QUERY = "{ device_list { id name interfaces { name ip_addresses { address } } } }"
PREFIXES_QUERY = "{ prefix_list { id prefix vrf { name } scope { __typename ... on SiteType { name } } } }"
ADDRESSES_QUERY = "{ ip_address_list { id address vrf { name } assigned_object { __typename ... on InterfaceType { name device { name } } } } }"
INTERFACES = ("eth0", "eth1", "eth2")


async def add_devices(lab: Lab, c: dict[str, str], device_type: str, start: int, count: int) -> None:
    """Devices stamped with the type's interfaces, an address on each of the first two, the
    first address the device's primary_ip4."""
    for n in range(start, start + count):
        device = await lab.device(c, device_type, f"leaf{n:02d}")
        got = await lab.ids("query($id: ID!) { device(id: $id) { interfaces { id name } } }", id=device)
        interfaces = {i["name"]: i["id"] for i in got["device"]["interfaces"]}
        addresses = [
            await lab.make("ip_address", address=f"10.0.{j}.{n + 1}/24", assigned_object={"type": "dcim.interface", "id": interfaces[name]})
            for j, name in enumerate(INTERFACES[:2])
        ]
        await lab.update("device", device, primary_ip4=addresses[0])


@pytest.mark.parametrize("compiled", [True, False], ids=["sql", "resolvers"])
async def test_device_list_statements_are_flat_in_the_row_count(api, org, db, app, monkeypatch, compiled):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device_type = await lab.device_type(c, "ACME-3T")
    for name in INTERFACES:
        await lab.make("interface_template", device_type=device_type, name=name, type="TYPE_1000BASE_T")
    await add_devices(lab, c, device_type, 0, 2)
    await api.data("{ tenant_list { id } }")  # warm the token cache
    change_settings(app, monkeypatch, compile_reads=compiled)

    small = {query: await api.sql_statements(query) for query in (DEVICES_QUERY, INTERFACES_QUERY)}
    devices = (await api.data(DEVICES_QUERY))["device_list"]
    assert [(d["name"], d["site"]["name"], d["device_type"]["model"], d["primary_ip4"]["address"]) for d in devices] == [
        ("leaf00", "AMS1", "ACME-3T", "10.0.0.1/24"),
        ("leaf01", "AMS1", "ACME-3T", "10.0.0.2/24"),
    ]
    assert all(d["tenant"] is not None for d in devices)

    await add_devices(lab, c, device_type, 2, 10)
    large = {query: await api.sql_statements(query) for query in (DEVICES_QUERY, INTERFACES_QUERY)}
    devices = (await api.data(INTERFACES_QUERY))["device_list"]
    assert len(devices) == 12
    assert all([i["name"] for i in d["interfaces"]] == list(INTERFACES) for d in devices)
    assert sum(len(i["ip_addresses"]) for d in devices for i in d["interfaces"]) == 24

    assert small == large
    if compiled:
        # The transaction set-up, then one statement building the whole answer.
        assert large == {DEVICES_QUERY: 2, INTERFACES_QUERY: 2}
    else:
        # The transaction set-up, the list, then one statement per relation per level.
        assert large == {DEVICES_QUERY: 2 + 4, INTERFACES_QUERY: 2 + 2}


def test_the_benchmark_measures_the_issue_queries():
    assert set(QUERIES.values()) == {DEVICES_QUERY, INTERFACES_QUERY, PREFIXES_QUERY, ADDRESSES_QUERY}


async def test_benchmark_loader_at_a_tiny_size(app, database_url):
    """The loader's data set through the write path, committed in an organisation of its own."""
    shape = Shape(sites=2, devices_per_site=3, interfaces=4, addresses=2, racks_per_site=1, fabric_links=3)
    result = await load(database_url, shape, f"smoke-{uuid.uuid4().hex[:8]}")
    rows = result.rows
    assert rows["device"] == 6 and rows["interface"] == 6 * 4 and rows["ip_address"] == 6 * 2
    assert rows["cable"] == 2 * 2 and rows["cable_termination"] == 2 * 2 * 2  # one pair per site, 2 cables each
    assert rows["rack"] == 2 and rows["vlan"] == 2 * 2 and rows["prefix"] == 2 * (1 + 2 + 3)
    assert result.phases["Device (+ stamped interfaces)"].objects == 6
    for query in QUERIES.values():
        measured = await measure(app, result.key, query, 1, check=checker(shape, query))
        assert measured.statements > 0 and measured.size_bytes > 0 and measured.p95_ms >= measured.median_ms
        assert measured.paths == "sql"
