"""Check scheduler benchmark: `python -m benchmarks.check_scheduler [--tcp 1000] [--http 200]
[--interval 10] [--workers 2] [--intervals 3]`.

Models one device on loopback with two services — one on --tcp ports, one on --http ports
— and a TCP and an HTTP check template (no port of their own: each port of the service is
a check) assigned to them, through the API. A separate process listens on every one of
those ports (so the listeners do not share the checkers' CPU) and counts connections.
Then --workers `danbyte worker` processes run the check scheduler (jobs/monitoring.py).
After a warm-up of one interval and a half, it measures --intervals intervals from the
database's check_result rows:

- checks/s over the window;
- start delay (a run's start minus its due slot on the check's grid), p50 / p95 / max;
- missed intervals (a check with fewer runs in the window than intervals) and doubled
  ones (more), and whether the listeners saw more connections than results;
- each worker's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from benchmarks.checks import HTTP_RESPONSE, raise_file_limit
from benchmarks.common import bench_database, create_bench_tenant
from benchmarks.discovery_job import Client
from checks.runner import percentile

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"


def serve(pipe: multiprocessing.connection.Connection, tcp: int, http: int) -> None:
    """The listeners' process: ``tcp`` plain TCP ports (closed at EOF) and ``http`` HTTP/1.1
    ports; sends the ports, then on any message the connection count per port."""
    raise_file_limit()
    seen: Counter[int] = Counter()

    async def main() -> None:
        async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen[writer.get_extra_info("sockname")[1]] += 1
            try:
                await reader.read()
            except ConnectionError:
                pass
            writer.close()

        async def http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen[writer.get_extra_info("sockname")[1]] += 1
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(HTTP_RESPONSE)
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        servers: list[asyncio.Server] = []
        tcp_ports: list[int] = []
        http_ports: list[int] = []
        for count, ports, handler in ((tcp, tcp_ports, plain), (http, http_ports, http_handler)):
            for _ in range(count):
                server = await asyncio.start_server(handler, LOOPBACK, 0, backlog=256)
                servers.append(server)
                ports.append(server.sockets[0].getsockname()[1])
        pipe.send((tcp_ports, http_ports))
        loop = asyncio.get_running_loop()
        while True:
            await loop.run_in_executor(None, pipe.recv)
            pipe.send(dict(seen))

    asyncio.run(main())


async def model(database_url: str, redis_url: str, tcp_ports: list[int], http_ports: list[int], interval: int) -> tuple[str, str]:
    """The device, its services, the templates and assignments; (tcp template, http template)."""
    from danbyte.app import create_app

    app = create_app(database_url, redis_url)
    async with app.state.danbyte.db.system_transaction() as conn:
        _, tenant, key = await create_bench_tenant(conn, "checks")
    client = Client(app, key)
    t = str(tenant)
    maker = await client.make("manufacturer", "ManufacturerCreateInput", name="Bench", slug="bench", tenant=t)
    kind = await client.make("device_type", "DeviceTypeCreateInput", manufacturer=maker, model="Box", slug="box", tenant=t)
    role = await client.make("device_role", "DeviceRoleCreateInput", name="Server", slug="server", tenant=t)
    site = await client.make("site", "SiteCreateInput", name="Lab", slug="lab", tenant=t)
    device = await client.make("device", "DeviceCreateInput", name="loopback", device_type=kind, role=role, site=site, management_address=LOOPBACK, tenant=t)
    parent = {"type": "dcim.device", "id": device}
    templates = []
    for name, template_kind, ports, parameters in (
        ("tcp", "KIND_TCP", tcp_ports, {}),
        ("http", "KIND_HTTP", http_ports, {"path": "/health", "body_pattern": "ok"}),
    ):
        service = await client.make("service", "ServiceCreateInput", name=name, protocol="ROLE_TCP", ports=ports, parent=parent, tenant=t)
        template = await client.make(
            "check_template",
            "CheckTemplateCreateInput",
            name=name,
            kind=template_kind,
            parameters=parameters,
            interval_seconds=interval,
            timeout_seconds=min(5, interval - 1),
            tenant=t,
        )
        await client.make(
            "check_assignment", "CheckAssignmentCreateInput", template=template, assigned_object={"type": "ipam.service", "id": service}, tenant=t
        )
        templates.append(template)
    await client.http.aclose()
    await app.state.danbyte.close()
    return templates[0], templates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tcp", type=int, default=1000)
    parser.add_argument("--http", type=int, default=200)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="`danbyte worker` processes")
    parser.add_argument("--intervals", type=int, default=3, help="intervals measured after the warm-up")
    args = parser.parse_args()
    raise_file_limit()
    total = args.tcp + args.http

    with ExitStack() as stack:
        database_url, redis_url = bench_database(stack, "danbyte_bench_checks")
        receive, send = multiprocessing.get_context("spawn").Pipe()
        listeners = multiprocessing.get_context("spawn").Process(target=serve, args=(send, args.tcp, args.http), daemon=True)
        listeners.start()
        stack.callback(listeners.terminate)
        tcp_ports, http_ports = receive.recv()
        asyncio.run(model(database_url, redis_url, tcp_ports, http_ports, args.interval))
        print(f"{args.tcp} TCP + {args.http} HTTP checks, interval {args.interval} s, {args.workers} worker processes, {os.cpu_count()} CPUs")

        work = Path(tempfile.mkdtemp(prefix="checks-bench-"))
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        env = {**os.environ, "DANBYTE_HOME": str(work), "DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
        workers = []
        for n in range(args.workers):
            log = open(work / f"worker{n}.log", "wb")
            stack.callback(log.close)
            process = subprocess.Popen(
                [sys.executable, "-m", "danbyte.cli", "worker", "--threads", "1"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
            )
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            workers.append(process)
        peak_rss = [0] * len(workers)
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.5):
                for i, process in enumerate(workers):
                    try:
                        peak_rss[i] = max(peak_rss[i], psutil.Process(process.pid).memory_info().rss)
                    except psutil.Error:
                        pass

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        engine = sa.create_engine(database_url)
        stack.callback(engine.dispose)
        warm_up = 1.5 * args.interval
        time.sleep(warm_up)
        with engine.connect() as conn:
            started = conn.execute(sa.text("SELECT now()")).scalar_one()
        window = args.intervals * args.interval
        time.sleep(window + 2)  # and the last batch's write
        sampling.set()
        sampler.join()
        for i, process in enumerate(workers):
            if process.poll() is not None:
                raise SystemExit(f"worker {i} stopped:\n{(work / f'worker{i}.log').read_text()[-3000:]}")
        # Stop the workers (they finish and write the runs in flight), then compare the
        # listeners' connections with the results written.
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(30)

        with engine.connect() as conn:
            runs = conn.execute(
                sa.text(
                    """
                    SELECT s.id, extract(epoch FROM r.at) AS at, extract(epoch FROM s.next_due_at) AS slot
                    FROM check_result r JOIN check_state s ON s.id = r.check_state_id
                    WHERE r.at >= :start AND r.at < :start + make_interval(secs => :window)
                    ORDER BY s.id, r.at
                    """
                ),
                {"start": started, "window": window},
            ).all()
            states: dict[str, int] = {row.state: row.n for row in conn.execute(sa.text("SELECT state, count(*) AS n FROM check_state GROUP BY state"))}
            results_total = conn.execute(sa.text("SELECT count(*) FROM check_result")).scalar_one()
        receive.send("counts")
        connections = sum(receive.recv().values())
        per_check: dict[Any, list[float]] = {}
        for row in runs:
            per_check.setdefault(row.id, []).append(float(row.at))
        # signed distance to the nearest slot (a clock a hair early reads as 0)
        delays = [max(0.0, (float(row.at) - float(row.slot) + args.interval / 2) % args.interval - args.interval / 2) for row in runs]
        gaps = [b - a for times in per_check.values() for a, b in zip(times, times[1:], strict=False)]
        # a check missed an interval when it has no run in the window or two runs more than
        # an interval and a half apart; it ran twice in one when two runs are half an interval apart
        missed = max(0, total - len(per_check)) + sum(1 for gap in gaps if gap > 1.5 * args.interval)
        doubled = sum(1 for gap in gaps if gap < 0.5 * args.interval)
        print(f"\nwindow: {args.intervals} intervals ({window} s) after a {warm_up:g} s warm-up")
        print(f"   {len(runs)} runs = {len(runs) / window:,.1f} checks/s (expected {total / args.interval:,.1f})")
        print(
            f"   start delay (start − due slot): p50 {percentile(delays, 0.5) * 1000:.1f} ms, p95 {percentile(delays, 0.95) * 1000:.1f} ms,"
            f" max {max(delays, default=0) * 1000:.1f} ms"
        )
        print(
            f"   missed intervals: {missed}; runs twice in one interval: {doubled}; run-to-run gap min {min(gaps, default=0):.3f} s, max {max(gaps, default=0):.3f} s"
        )
        print(f"   listener connections {connections} for {results_total} results written (whole run, workers stopped); states {states}")
        for i, rss in enumerate(peak_rss):
            print(f"   worker {i}: peak RSS {rss / 2**20:.0f} MiB")
            problems = [line for line in (work / f"worker{i}.log").read_text(errors="replace").splitlines() if "failed" in line or "Error" in line]
            if problems:
                print(f"   worker {i} logged {len(problems)} problems, the first: {problems[:3]}")


if __name__ == "__main__":
    main()
