"""The danbyte.sot Ansible collection against a real server: `ansible-inventory --list`
and `ansible-playbook` with real ansible-core, the collection found through
ANSIBLE_COLLECTIONS_PATH (and once installed from its built tarball)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from inventory_estate import build_estate
from live import danbyte_serve
from tls_proxy import tls_front

from benchmarks.inventory import strip_unsafe as plain

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / "clients"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def server(database_url, redis_url, tmp_path_factory):
    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    with danbyte_serve(tmp_path_factory.mktemp("ansible"), env, "--no-worker") as (base, _):
        yield base


def ansible(tool: str, *args: str, cwd: Path, token: str, url: str, collections: Path = COLLECTIONS, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_LOCAL_TEMP": str(cwd / "tmp"),
        "ANSIBLE_HOME": str(cwd / "home"),
        "ANSIBLE_NOCOLOR": "1",
        "DANBYTE_URL": url,
        "DANBYTE_TOKEN": token,
        **env,
    }
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=180)


def inventory(cwd: Path, url: str, token: str, config: dict, **env: str) -> dict:
    (cwd / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory", **config}))
    done = ansible("ansible-inventory", "-i", "danbyte.yml", "--list", cwd=cwd, token=token, url=url, **env)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "[WARNING]" not in done.stderr, done.stderr  # a failed inventory source is only a warning
    return plain(json.loads(done.stdout))


def leaf1_name_is_kept(hostvars: dict) -> bool:
    """``name`` is reserved by Ansible: it comes as ``danbyte_name``, with no warning."""
    return hostvars["leaf1"]["danbyte_name"] == "leaf1" and "name" not in hostvars["leaf1"]


def members(listing: dict, group: str) -> set[str]:
    return set(listing.get(group, {}).get("hosts", []))


async def test_ansible_inventory_lists_hosts_groups_and_variables(server, committed_org, committed_api, tmp_path):
    estate = await build_estate(committed_api, committed_org)
    config = {
        "group_by": ["site", "role", "platform", "tenant", "tags", "rack", "cf_env", "location"],
        "query": {"devices": "serial", "virtual_machines": {"cluster": "name", "memory": None}},
        "platforms": {"ios": "cisco.ios.ios"},
        "compose": {"env_upper": "custom_fields.env | upper", "is_core": "'core' in danbyte_tags"},
        "keyed_groups": [{"key": "status", "prefix": "state"}],
        "groups": {"planned": "status == 'planned'"},
    }
    listing = inventory(tmp_path, server, committed_org.admin_key, config)
    hostvars = listing["_meta"]["hostvars"]
    # The organisation's administrator reads both tenants; tenant limits are tested below.
    assert set(hostvars) == {"leaf1", "leaf2", "spine1", "web1", "b-secret"}
    assert leaf1_name_is_kept(hostvars)
    leaf1 = hostvars["leaf1"]
    assert leaf1["ansible_host"] == "10.0.0.1" and leaf1["primary_ip4"] == "10.0.0.1"
    assert leaf1["ansible_network_os"] == "cisco.ios.ios"  # mapped
    assert hostvars["leaf2"]["ansible_network_os"] == "eos"  # the slug when unmapped
    assert hostvars["leaf2"]["ansible_host"] == "2001:db8::2"  # IPv6 when there is no IPv4
    assert "ansible_host" not in hostvars["spine1"] and "ansible_network_os" not in hostvars["spine1"]
    assert leaf1["danbyte_serial"] == "SN-LEAF1" and leaf1["site"] == {"name": "AMS1", "slug": "ams1"} and leaf1["danbyte_tags"] == ["core"]
    assert leaf1["custom_fields"]["env"] == "prod" and leaf1["kind"] == "device"
    assert leaf1["env_upper"] == "PROD" and leaf1["is_core"] is True and hostvars["leaf2"]["is_core"] is False
    web1 = hostvars["web1"]
    assert web1["kind"] == "virtual_machine" and web1["cluster"] == {"name": "prod"} and "memory" in web1
    assert web1["ansible_host"] == "192.0.2.10" and web1["ansible_network_os"] == "cisco.ios.ios"
    assert members(listing, "site_ams1") == {"leaf1", "leaf2", "web1"} and members(listing, "site_fra1") == {"spine1"}
    assert members(listing, "role_leaf") == {"leaf1", "leaf2", "web1"} and members(listing, "role_spine") == {"spine1"}
    assert members(listing, "platform_ios") == {"leaf1", "web1"} and members(listing, "platform_eos") == {"leaf2"}
    assert members(listing, "tag_core") == {"leaf1", "spine1"} and members(listing, "rack_R1") == {"spine1"}
    assert members(listing, "cf_env_prod") == {"leaf1", "web1"} and members(listing, "cf_env_lab") == {"leaf2"}
    assert members(listing, f"tenant_{estate['tenant_a']}".replace("-", "_")) == {"leaf1", "leaf2", "spine1", "web1"}
    assert members(listing, "state_planned") == {"leaf2"} and members(listing, "planned") == {"leaf2"}

    # NetBox-style filters: values of one key are alternatives, keys must all hold, and a
    # device-only key (rack) leaves virtual machines out.
    assert set(inventory(tmp_path, server, committed_org.admin_key, {"filters": {"site": "ams1", "status": "active"}})["_meta"]["hostvars"]) == {
        "leaf1",
        "web1",
    }
    assert set(inventory(tmp_path, server, committed_org.admin_key, {"filters": {"rack": "R1"}})["_meta"]["hostvars"]) == {"spine1"}
    assert set(inventory(tmp_path, server, committed_org.admin_key, {"filters": {"tag": "core", "role": ["leaf", "spine"]}})["_meta"]["hostvars"]) == {
        "leaf1",
        "spine1",
    }
    assert set(inventory(tmp_path, server, committed_org.admin_key, {"filters": {"cf_env": ["prod", "lab"], "platform": "ios"}})["_meta"]["hostvars"]) == {
        "leaf1",
        "web1",
    }
    # Several custom field values are alternatives, and still must hold with the other keys.
    assert set(inventory(tmp_path, server, committed_org.admin_key, {"filters": {"cf_env": ["prod", "lab"], "status": "planned"}})["_meta"]["hostvars"]) == {
        "leaf2"
    }
    only_vms = inventory(tmp_path, server, committed_org.admin_key, {"devices": False})
    assert set(only_vms["_meta"]["hostvars"]) == {"web1"}
    raw = inventory(tmp_path, server, committed_org.admin_key, {"group_by": ["site"], "group_names_raw": True, "virtual_machines": False})
    assert members(raw, "ams1") == {"leaf1", "leaf2"}


async def test_tenant_limited_token_sees_only_its_tenant(server, committed_org, committed_api, tmp_path):
    await build_estate(committed_api, committed_org)
    key_b = await committed_org.user_key(is_admin=True, token_tenant_ids=[committed_org.tenant_ids[1]])
    key_a = await committed_org.user_key(is_admin=True, token_tenant_ids=[committed_org.tenant_ids[0]])
    # The same inventory file, with caching on: one tenant's cached answer is not another's.
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    assert set(inventory(tmp_path, server, key_a, config)["_meta"]["hostvars"]) == {"leaf1", "leaf2", "spine1", "web1"}
    assert set(inventory(tmp_path, server, key_b, config)["_meta"]["hostvars"]) == {"b-secret"}
    # A filter naming tenant A's objects finds nothing with B's token.
    assert inventory(tmp_path, server, key_b, {"filters": {"site": "ams1"}})["_meta"]["hostvars"] == {}


async def test_the_cache_answers_without_the_server(server, committed_org, committed_api, tmp_path):
    await build_estate(committed_api, committed_org)
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"), "cache_timeout": 3600}
    first = inventory(tmp_path, server, committed_org.admin_key, config)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    # Nothing listens on this URL's port: only the cache can answer (the URL is not in the key).
    dead = "http://127.0.0.1:9"
    second = inventory(tmp_path, dead, committed_org.admin_key, {**config, "url": server})
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    # Without the cache the dead server is an error (so the line above did not reach it).
    (tmp_path / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory", "url": dead}))
    done = ansible("ansible-inventory", "-i", "danbyte.yml", "--list", cwd=tmp_path, token=committed_org.admin_key, url=dead)
    assert "Connection refused" in done.stderr, done.stderr


async def test_bad_token_and_bad_options_are_clear_errors(server, committed_org, tmp_path):
    (tmp_path / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory"}))
    done = ansible("ansible-inventory", "-i", "danbyte.yml", "--list", cwd=tmp_path, token="not-a-token", url=server, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    assert done.returncode != 0 and "Danbyte inventory" in done.stderr and "invalid token" in done.stderr, done.stderr
    (tmp_path / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory", "filters": {"colour": "red"}}))
    done = ansible(
        "ansible-inventory", "-i", "danbyte.yml", "--list", cwd=tmp_path, token=committed_org.admin_key, url=server, ANSIBLE_INVENTORY_UNPARSED_FAILED="1"
    )
    assert done.returncode != 0 and "unknown filter 'colour'" in done.stderr, done.stderr
    # A query that would smuggle a second root field through a field name is refused here.
    (tmp_path / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory", "query": {"devices": {"name } tenant_list { id": None}}}))
    done = ansible(
        "ansible-inventory", "-i", "danbyte.yml", "--list", cwd=tmp_path, token=committed_org.admin_key, url=server, ANSIBLE_INVENTORY_UNPARSED_FAILED="1"
    )
    assert done.returncode != 0 and "is not a GraphQL field name" in done.stderr, done.stderr


async def test_playbook_reads_host_variables_from_the_installed_collection(server, committed_org, committed_api, tmp_path):
    estate = await build_estate(committed_api, committed_org)
    # Text from the source of truth is data: a template in it must not run on the controller.
    planted = tmp_path / "planted"
    trap = "{{ lookup('pipe', 'touch %s') }}" % planted
    await estate["lab"].update("device", estate["leaf1"], description=trap)
    # Built and installed as a user would, not read from the repository.
    built = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(COLLECTIONS / "ansible_collections" / "danbyte" / "sot")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    tarball = next(tmp_path.glob("danbyte-sot-*.tar.gz"))
    installed = tmp_path / "installed"
    done = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(installed)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory", "group_by": ["site"], "query": {"devices": "description"}}))
    (tmp_path / "play.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "ansible.builtin.copy": {
                                "dest": str(tmp_path / "out.json"),
                                "content": "{{ {'host': hostvars['leaf1'].ansible_host, 'os': hostvars['leaf1'].ansible_network_os, "
                                "'site_hosts': groups['site_ams1'] | sort, 'description': hostvars['leaf1'].description} | to_json }}",
                            }
                        }
                    ],
                }
            ]
        )
    )
    done = ansible("ansible-playbook", "-i", "danbyte.yml", "play.yml", cwd=tmp_path, token=committed_org.admin_key, url=server, collections=installed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"host": "10.0.0.1", "os": "ios", "site_hosts": ["leaf1", "leaf2", "web1"], "description": trap}
    assert not planted.exists()


async def test_validate_certs_behind_tls(server, committed_org, committed_api, tmp_path):
    """Behind a TLS front with a private CA: refused by default, accepted with the CA
    trusted, and accepted with ``validate_certs: false``."""
    await build_estate(committed_api, committed_org)
    key = committed_org.admin_key
    with tls_front(server, tmp_path) as (https, ca_file):
        (tmp_path / "danbyte.yml").write_text(yaml.safe_dump({"plugin": "danbyte.sot.inventory", "url": https}))
        done = ansible("ansible-inventory", "-i", "danbyte.yml", "--list", cwd=tmp_path, token=key, url=https, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
        assert done.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in done.stderr, done.stderr
        trusted = inventory(tmp_path, https, key, {"url": https}, SSL_CERT_FILE=str(ca_file))
        unverified = inventory(tmp_path, https, key, {"url": https, "validate_certs": False})
    assert "leaf1" in trusted["_meta"]["hostvars"]
    assert unverified["_meta"]["hostvars"] == trusted["_meta"]["hostvars"]
