"""Inventory benchmark: `make bench` (or `python -m benchmarks.inventory --sites 50 --devices-per-site 40`).

Loads the DCIM benchmark's data set (benchmarks/dcim.py: 50 sites x 40 devices = 2,000
devices by default, each with a primary IPv4 address, in racks, one tenant) and serves it
with a real `danbyte serve` process (one API process, the default page ceiling). Then times,
grouped by site, role, platform, tenant and rack:

- the inventory time: Ansible's ``InventoryManager`` over ``danbyte.yml`` in a warm
  process (what ``ansible-playbook`` does before its first task: the plugin's requests,
  hosts, variables and groups), without Ansible's start-up or an export;
- end to end in a new process each run: ``ansible-inventory --graph``, ``--list`` (which
  adds Ansible's JSON export of every host's variables) and ``ansible-playbook`` with one
  ``run_once`` task;
- Ansible's own floor for the same work: the identical inventory read from a local JSON
  file (``--graph``, ``--list``), and Ansible's start-up with one host;
- the plugin's fetch alone (``nornir_danbyte.core.load_all``, what both clients run:
  the paged GraphQL requests for devices and virtual machines), in this process;
- the Nornir plugin's ``InitNornir`` (fetch and building Nornir's hosts and groups);

median over ``--repeats`` runs after a warm-up, and the SQL statements the server ran
per inventory request (X-Danbyte-Debug).

Uses DANBYTE_BENCH_DATABASE_URL and DANBYTE_BENCH_REDIS_URL when set, else the embedded
servers in a temporary home; the data goes into a fresh database ``danbyte_bench_inventory``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import bench_database
from benchmarks.dcim import Shape, _load_in_child, report_load

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GROUP_BY = ["site", "role", "platform", "tenant", "rack"]


# Times InventoryManager in a process of its own (the collection path is read at import).
IN_PROCESS = """
import statistics, sys, time
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
timings = []
for _ in range(int(sys.argv[1]) + 1):
    started = time.perf_counter()
    InventoryManager(loader=DataLoader(), sources=["danbyte.yml"])
    timings.append(time.perf_counter() - started)
print(statistics.median(timings[1:]))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(stack: ExitStack, database_url: str, redis_url: str) -> str:
    """A `danbyte serve` process on the bench database until ``stack`` closes: its base URL."""
    port = _free_port()
    home = Path(tempfile.mkdtemp(prefix="dbt-bench-inv-"))
    env = {**os.environ, "DANBYTE_HOME": str(home), "DANBYTE_WORKERS": "1", "DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    log = open(home / "serve.log", "wb")  # closed by the stack
    stack.callback(log.close)
    process = subprocess.Popen(
        [sys.executable, "-m", "danbyte.cli", "serve", "--port", str(port), "--no-worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )

    def stop() -> None:
        process.terminate()
        process.wait(60)

    stack.callback(stop)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError((home / "serve.log").read_text())
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError((home / "serve.log").read_text())
        time.sleep(0.2)


def strip_unsafe(value: Any) -> Any:
    """A listing without Ansible's markers for values it will not template."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: strip_unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_unsafe(v) for v in value]
    return value


def comparable(listing: dict[str, Any]) -> dict[str, Any]:
    """A listing as compared: without unsafe markers, the order of ``all``'s groups aside."""
    plain = strip_unsafe(listing)
    plain["all"]["children"] = sorted(plain["all"].get("children", []))
    return plain


def static_inventory(listing: dict[str, Any]) -> dict[str, Any]:
    """``ansible-inventory --list`` output as an inventory file for Ansible's yaml plugin."""
    hostvars = strip_unsafe(listing["_meta"]["hostvars"])
    children = {
        name: {"hosts": {host: None for host in group.get("hosts", [])}} for name, group in listing.items() if name not in ("_meta", "all", "ungrouped")
    }
    return {"all": {"hosts": hostvars, "children": children}}


def timed(run: Any, repeats: int) -> tuple[float, Any]:
    """(median seconds over ``repeats`` runs after a warm-up, the warm-up's answer)."""
    answer = run()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=Shape.sites)
    parser.add_argument("--devices-per-site", type=int, default=Shape.devices_per_site)
    parser.add_argument("--interfaces", type=int, default=Shape.interfaces, help="interface templates of the device type")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each measurement, after one warm-up")
    args = parser.parse_args()
    shape = Shape(args.sites, args.devices_per_site, args.interfaces)
    shape.check()

    from nornir import InitNornir

    from nornir_danbyte.core import Client, load_all

    with ExitStack() as stack:
        database_url, redis_url = bench_database(stack, "danbyte_bench_inventory")
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            result = pool.submit(_load_in_child, database_url, shape, "inventory").result()
        report_load(shape, result)
        base = serve(stack, database_url, redis_url)
        work = Path(tempfile.mkdtemp(prefix="dbt-bench-ansible-"))
        (work / "danbyte.yml").write_text(json.dumps({"plugin": "danbyte.sot.inventory", "group_by": GROUP_BY}))
        env = {
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / "clients"),
            "ANSIBLE_HOME": str(work / "home"),
            "DANBYTE_URL": base,
            "DANBYTE_TOKEN": result.key,
        }

        def ansible_cli(tool: str, *args: str) -> str:
            done = subprocess.run([str(BIN / tool), *args], cwd=work, env=env, capture_output=True, text=True)
            if done.returncode != 0 or "[WARNING]" in done.stderr:
                raise RuntimeError(done.stderr + done.stdout)
            return done.stdout

        seconds, text = timed(lambda: ansible_cli("ansible-inventory", "-i", "danbyte.yml", "--list"), args.repeats)
        listing = json.loads(text)
        hosts = len(listing["_meta"]["hostvars"])
        if hosts != shape.devices:
            raise RuntimeError(f"{hosts} hosts listed, {shape.devices} expected")
        with_address = sum(1 for v in listing["_meta"]["hostvars"].values() if v.get("ansible_host"))
        groups = len([g for g in listing if g not in ("_meta", "all", "ungrouped")])
        print(f"\n== Inventory: {hosts:,} hosts ({with_address:,} with ansible_host), {groups} groups by {', '.join(GROUP_BY)}")

        load = subprocess.run([sys.executable, "-c", IN_PROCESS, str(args.repeats)], cwd=work, env=env, capture_output=True, text=True)
        if load.returncode != 0:
            raise RuntimeError(load.stderr)
        print(
            f"inventory time, Ansible's InventoryManager over danbyte.yml in a warm process: {float(load.stdout):.2f} s median of {args.repeats} (aim <= 1 s)"
        )
        print("end to end, a new Python process each run (Ansible's start-up included), median:")
        graph, _ = timed(lambda: ansible_cli("ansible-inventory", "-i", "danbyte.yml", "--graph"), args.repeats)
        print(f"  ansible-inventory --graph (inventory built, groups printed): {graph:.2f} s")
        print(f"  ansible-inventory --list (and every host's variables exported as JSON): {seconds:.2f} s")
        (work / "play.yml").write_text(
            json.dumps([{"hosts": "all", "gather_facts": False, "tasks": [{"ansible.builtin.debug": {"var": "site"}, "run_once": True}]}])
        )
        play, _ = timed(lambda: ansible_cli("ansible-playbook", "-i", "danbyte.yml", "play.yml"), args.repeats)
        print(f"  ansible-playbook, one run_once task over all hosts: {play:.2f} s")

        # Ansible's own floor: the identical inventory (hosts, variables, groups) read from a
        # local JSON file by its yaml plugin, with no server and no plugin involved.
        (work / "static.json").write_text(json.dumps(static_inventory(listing)))
        floor_list, text = timed(lambda: ansible_cli("ansible-inventory", "-i", "static.json", "--list"), args.repeats)
        if comparable(json.loads(text)) != comparable(listing):
            raise RuntimeError("the static copy lists differently")
        floor_graph, _ = timed(lambda: ansible_cli("ansible-inventory", "-i", "static.json", "--graph"), args.repeats)
        print(f"  the same inventory from a local JSON file: --graph {floor_graph:.2f} s, --list {floor_list:.2f} s")
        base_start, _ = timed(lambda: ansible_cli("ansible-inventory", "-i", "localhost,", "--list"), args.repeats)
        print(f"  Ansible's start-up (ansible-inventory --list of one host): {base_start:.2f} s")

        client = Client(base, result.key, headers={"X-Danbyte-Debug": "1"})
        seconds, items = timed(lambda: load_all(client, filters=None), args.repeats)
        requests = len(client.statements) // (args.repeats + 1)
        per_request = client.statements[:requests]
        print(
            f"plugin fetch alone (devices and virtual machines): {seconds:.2f} s median, {requests} GraphQL requests "
            f"(pages of 1,000), SQL statements per request: {per_request}"
        )
        assert len(items["device"]) == shape.devices

        def nornir() -> int:
            nr = InitNornir(inventory={"plugin": "DanbyteInventory", "options": {"url": base, "token": result.key}}, logging={"enabled": False})
            return len(nr.inventory.hosts)

        seconds, count = timed(nornir, args.repeats)
        print(f"InitNornir with DanbyteInventory: {seconds:.2f} s median, {count:,} hosts")


if __name__ == "__main__":
    main()
