"""Discovery job benchmark: `python -m benchmarks.discovery_job [--devices 200] [--concurrency 32]`.

Serves the 16 recordings in ../shared/data/snmp from snmpsim (two processes, several
ports each, so that every (port, community) pair is a distinct agent), models --devices
devices each bound to the SNMP profile of one (port, recording), starts one `discovery`
job over their site through the API, and lets a `danbyte worker` process run it. Prints
the job's wall time (started to finished), devices/s, OIDs/s and the worker's peak
memory. snmpsim answers from Python and shares the machine's cores with the worker and
PostgreSQL: watch the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from benchmarks.common import bench_database, create_bench_tenant
from tests.snmp_agent import RECORDINGS, SnmpAgent, community_of, free_udp_port

ROOT = Path(__file__).resolve().parent.parent


class Client:
    def __init__(self, app: Any, key: str) -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None)
        self.headers = {"Authorization": f"Bearer {key}"}

    async def make(self, root: str, input_type: str, /, **fields: Any) -> str:
        query = f"mutation($i: {input_type}!) {{ {root}_create(input: $i) {{ id }} }}"
        body = (await self.http.post("/graphql", json={"query": query, "variables": {"i": fields}}, headers=self.headers)).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"][f"{root}_create"]["id"]

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = (await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]


async def model(database_url: str, redis_url: str, ports: list[int], devices: int, concurrency: int, timeout: float) -> str:
    """The devices, their profiles and the started job's id."""
    from danbyte.app import create_app

    app = create_app(database_url, redis_url)
    async with app.state.danbyte.db.system_transaction() as conn:
        _, tenant, key = await create_bench_tenant(conn, "discovery")
    client = Client(app, key)
    maker = await client.make("manufacturer", "ManufacturerCreateInput", name="Bench", slug="bench", tenant=str(tenant))
    kind = await client.make("device_type", "DeviceTypeCreateInput", manufacturer=maker, model="Agent", slug="agent", tenant=str(tenant))
    role = await client.make("device_role", "DeviceRoleCreateInput", name="Agent", slug="agent", tenant=str(tenant))
    site = await client.make("site", "SiteCreateInput", name="Lab", slug="lab", tenant=str(tenant))
    names = [community_of(path) for path in RECORDINGS]
    started = time.monotonic()
    for n in range(devices):
        port, community = ports[n // len(names)], names[n % len(names)]
        profile = await client.make(
            "snmp_profile",
            "SnmpProfileCreateInput",
            name=f"agent-{n}",
            version="V2C",
            community=community,
            port=port,
            timeout=str(timeout),
            retries=1,
            tenant=str(tenant),
        )
        await client.make(
            "device",
            "DeviceCreateInput",
            name=f"agent-{n:03}",
            device_type=kind,
            role=role,
            site=site,
            management_address="127.0.0.1",
            snmp_profile=profile,
            tenant=str(tenant),
        )
    print(f"modelled {devices} devices and profiles through the API in {time.monotonic() - started:.1f} s")
    job = await client.data(
        'mutation($p: JSON, $t: ID) { job_start(kind: "discovery", parameters: $p, tenant: $t) { id } }',
        p={"site": site, "concurrency": concurrency},
        t=str(tenant),
    )
    await client.http.aclose()
    await app.state.danbyte.close()
    return job["job_start"]["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--agents", type=int, default=2, help="snmpsim processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="per SNMP request, seconds")
    args = parser.parse_args()
    # The API seals the communities and the worker unseals them: one key for both.
    from cryptography.fernet import Fernet

    os.environ.setdefault("DANBYTE_SECRET_KEY", Fernet.generate_key().decode())

    ports_needed = math.ceil(args.devices / len(RECORDINGS))
    ports = [free_udp_port() for _ in range(ports_needed)]
    with ExitStack() as stack:
        database_url, redis_url = bench_database(stack, "danbyte_bench_discovery")
        work = Path(tempfile.mkdtemp(prefix="discovery-bench-"))
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        agents = [SnmpAgent(work / f"agent{i}", ports=ports[i :: args.agents]) for i in range(min(args.agents, ports_needed))]
        for agent in agents:  # one at a time: the first builds the index, the rest reuse it
            agent.work_dir.mkdir(parents=True)
            if agent is not agents[0]:
                shutil.copytree(agents[0].work_dir / "cache", agent.work_dir / "cache")
            agent.start(probe_community=community_of(RECORDINGS[0]))
            stack.callback(agent.stop)
        print(f"snmpsim: {len(agents)} processes, {len(ports)} ports; {os.cpu_count()} CPUs")
        job_id = asyncio.run(model(database_url, redis_url, ports, args.devices, args.concurrency, args.timeout))

        log_path = work / "worker.log"
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "danbyte.cli", "worker", "--threads", "1", "--no-scheduler"],
                env={**os.environ, "DANBYTE_HOME": str(work), "DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        stack.callback(worker.wait, 20)
        stack.callback(worker.terminate)
        engine = sa.create_engine(database_url)
        stack.callback(engine.dispose)
        deadline = time.monotonic() + 600
        while True:
            with engine.connect() as conn:
                row = conn.execute(sa.text("SELECT status, result, started, finished, log FROM job WHERE id = :id"), {"id": job_id}).one()
            if row.status in ("completed", "failed", "errored"):
                break
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker stopped or the job took too long ({row.status}):\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        if row.status != "completed":
            raise SystemExit(f"job {row.status}: {row.log[-5:]}")
        result = row.result
        wall = (row.finished - row.started).total_seconds()
        print(
            f"\ndiscovery job: {result['devices']} devices, {result['discovered']} discovered, {result['reachable']} answered, concurrency {args.concurrency}"
        )
        print(f"   wall (started → finished) {wall:.1f} s; discovering {result['seconds']:.1f} s")
        print(f"   {result['discovered'] / wall:.1f} devices/s, {result['varbinds'] / wall:.0f} OIDs/s")
        print(f"   the worker's peak memory: {result['peak_rss_kb'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
