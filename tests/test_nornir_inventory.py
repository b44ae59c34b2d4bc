"""The Nornir plugin against a real server: InitNornir through the registered entry point,
hosts with hostname, platform, groups and data, a filter, and a task run on the hosts."""

from __future__ import annotations

import pytest
from inventory_estate import build_estate, build_estate_more
from live import danbyte_serve
from nornir import InitNornir
from nornir.core.filter import F
from nornir.core.task import Result, Task

from nornir_danbyte.core import Client, DanbyteError, load_all


@pytest.fixture(scope="module")
def server(database_url, redis_url, tmp_path_factory):
    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    with danbyte_serve(tmp_path_factory.mktemp("nornir"), env, "--no-worker") as (base, _):
        yield base


def init(url: str, token: str, **options):
    return InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": 4}},
        inventory={"plugin": "DanbyteInventory", "options": {"url": url, "token": token, **options}},
        logging={"enabled": False},
    )


def describe(task: Task) -> Result:
    host = task.host
    return Result(host=host, result={"hostname": host.hostname, "platform": host.platform, "site": host["site"]["slug"]})


async def test_nornir_inventory_hosts_groups_filters_and_a_task(server, committed_org, committed_api):
    estate = await build_estate(committed_api, committed_org)
    key_a = await committed_org.user_key(is_admin=True, token_tenant_ids=[committed_org.tenant_ids[0]])
    nr = init(server, key_a, query={"devices": "serial"}, platform_map={"ios": "cisco_ios"})
    hosts = nr.inventory.hosts
    assert set(hosts) == {"leaf1", "leaf2", "spine1", "web1"}  # nothing of tenant B
    leaf1 = hosts["leaf1"]
    assert leaf1.hostname == "10.0.0.1" and leaf1.platform == "cisco_ios"
    assert hosts["leaf2"].hostname == "2001:db8::2" and hosts["leaf2"].platform == "eos"
    assert hosts["spine1"].hostname is None and hosts["spine1"].platform is None
    tenant_group = "tenant_" + estate["tenant_a"]
    assert [g.name for g in leaf1.groups] == ["site_ams1", "role_leaf", tenant_group]
    assert set(nr.inventory.groups) == {"site_ams1", "site_fra1", "role_leaf", "role_spine", tenant_group}
    assert nr.inventory.groups["site_ams1"]["site"] == {"name": "AMS1", "slug": "ams1"}
    assert leaf1["serial"] == "SN-LEAF1" and leaf1["tags"] == ["core"] and leaf1["custom_fields"]["env"] == "prod"
    assert hosts["web1"]["kind"] == "virtual_machine" and hosts["web1"].hostname == "192.0.2.10"
    assert leaf1.has_parent_group("site_ams1") and not hosts["spine1"].has_parent_group("site_ams1")

    # Nornir's own filter on the plugin's groups and data, then a task on what is left.
    ams = nr.filter(F(groups__contains="site_ams1") & F(kind="device"))
    assert set(ams.inventory.hosts) == {"leaf1", "leaf2"}
    results = ams.run(task=describe)
    assert not results.failed
    assert {name: r[0].result for name, r in results.items()} == {
        "leaf1": {"hostname": "10.0.0.1", "platform": "cisco_ios", "site": "ams1"},
        "leaf2": {"hostname": "2001:db8::2", "platform": "eos", "site": "ams1"},
    }

    # The same NetBox-style filters as the Ansible plugin, applied by the server.
    filtered = init(server, key_a, filters={"role": "leaf", "status": "active"}, group_by=["platform", "tags"])
    assert set(filtered.inventory.hosts) == {"leaf1", "web1"}
    assert set(filtered.inventory.groups) == {"platform_ios", "tag_core"}
    assert set(init(server, key_a, filters={"location": "nowhere-such"}, virtual_machines=False).inventory.hosts) == set()

    # Keyset pages: one host per request still lists every host once.
    paged = init(server, key_a, page_size=1)
    assert set(paged.inventory.hosts) == set(hosts)


async def test_one_request_per_kind_costs_a_few_statements(server, committed_org, committed_api):
    await build_estate(committed_api, committed_org)
    # X-Danbyte-Debug (an administrator's): the server reports its SQL statements per request.
    client = Client(server, committed_org.admin_key, headers={"X-Danbyte-Debug": "1"})
    items = load_all(client, query={"devices": "serial"})
    assert len(items["device"]) == 4 and len(items["virtual_machine"]) == 1
    assert len(client.statements) == 2  # one request per kind
    few = client.statements
    # Twice the devices: the same statements (nested fields are read with the rows, not per row).
    lab = await build_estate_more(committed_api, committed_org)
    client.statements.clear()
    items = load_all(client, query={"devices": "serial"})
    assert len(items["device"]) == 4 + lab
    assert client.statements == few, (client.statements, few)


async def test_nornir_refuses_a_bad_token_and_unknown_filters(server, committed_org, monkeypatch):
    with pytest.raises(DanbyteError, match="invalid token"):
        init(server, "dbt_not-a-token")
    with pytest.raises(ValueError, match="unknown filter 'colour'"):
        init(server, committed_org.admin_key, filters={"colour": "red"})
    # URL and token from the environment, as the Ansible plugin reads them.
    monkeypatch.setenv("DANBYTE_URL", server)
    monkeypatch.setenv("DANBYTE_TOKEN", committed_org.admin_key)
    nr = InitNornir(inventory={"plugin": "DanbyteInventory"}, logging={"enabled": False})
    assert len(nr.inventory.hosts) == 0  # this organisation has no devices yet
