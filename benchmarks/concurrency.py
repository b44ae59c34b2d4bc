"""Concurrent readers against `danbyte serve --workers 1` and `--workers N`.

    python -m benchmarks.concurrency [--workers N] [--clients 200] [--requests 5]

Starts the real CLI on embedded PostgreSQL and Redis in a temporary DANBYTE_HOME
(the same home for both runs; loopback only), loads a few prefixes, then for each worker
count has ``--clients`` concurrent clients (one keep-alive connection each) send
``--requests`` small ``prefix_list`` queries each, and prints latency percentiles and
requests per second. The load generator runs on the same machine, in one process, so it
takes some of the CPU the server could use; each run is bounded by ``--time-limit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.live import danbyte_serve  # the test suite's way of running `danbyte serve`

QUERY = "{ prefix_list(pagination: {limit: 10}) { id prefix status } }"
NO_URLS = {"DANBYTE_DATABASE_URL": "", "DANBYTE_REDIS_URL": "", "DANBYTE_HOST": "127.0.0.1"}


def graphql(base: str, key: str, query: str) -> dict:
    response = httpx.post(f"{base}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    body = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def load_prefixes(base: str, key: str, count: int) -> None:
    tenant = graphql(base, key, "{ tenant_list { id } }")["tenant_list"][0]["id"]
    if graphql(base, key, "{ prefix_list(pagination: {limit: 1}) { id } }")["prefix_list"]:
        return
    for i in range(count):
        graphql(base, key, f'mutation {{ prefix_create(input: {{prefix: "10.{i}.0.0/16", tenant: "{tenant}"}}) {{ id }} }}')


def connection_spread(pid: int, port: int) -> list[int]:
    """Established client connections held by each process serving ``port``."""
    import psutil

    parent = psutil.Process(pid)
    servers = [c for c in parent.children() if "spawn_main" in " ".join(c.cmdline())] or [parent]
    return sorted(
        (sum(1 for c in proc.net_connections(kind="tcp") if c.laddr.port == port and c.raddr) for proc in servers),
        reverse=True,
    )


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time so far of the server's processes and of this one (the load generator).

    Not PostgreSQL's: its backends come and go with the pools' overflow connections and
    take their CPU time with them (and it is ~0.2 ms per request here anyway)."""
    import psutil

    def tree(root: int) -> float:
        try:
            proc = psutil.Process(root)
            procs = [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for p in procs:
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    me = psutil.Process().cpu_times()
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return {"server": tree(pid), "client": me.user + me.system, "machine": busy}


class Connection:
    """A bare HTTP/1.1 keep-alive client: the load generator shares the machine with the
    server, so it must cost far less per request than the server does (httpx with 200
    pooled connections cost twice the server's CPU per request)."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        body = json.dumps({"query": QUERY}).encode()
        self.graphql = (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.health = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = {k.lower(): v for k, v in fields.items()}.get("content-length")
            if length is None:
                raise ValueError("response without Content-Length")
            return status, await self.reader.readexactly(int(length))
        except BaseException:
            self.close()  # a half-read connection is useless; the next request reconnects
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_load(base: str, key: str, pid: int, clients: int, requests: int, time_limit: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    error_kinds: dict[str, int] = {}
    port = int(base.rsplit(":", 1)[1])
    connections = [Connection(port, key) for _ in range(clients)]
    # Open every connection first, so the run measures requests, not connects.
    await asyncio.gather(*(c.request(c.health) for c in connections))
    spread = await asyncio.to_thread(connection_spread, pid, port)

    async def client(connection: Connection) -> None:
        nonlocal errors
        for _ in range(requests):
            started = time.perf_counter()
            try:
                status, body = await connection.request(connection.graphql)
                problem = f"HTTP {status}" if status != 200 else (body.decode() if b'"errors"' in body else None)
            except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as error:
                problem = repr(error)
            if problem is None:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
                error_kinds[problem[:200]] = error_kinds.get(problem[:200], 0) + 1

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(client(c) for c in connections)), time_limit)
    except TimeoutError:
        pass  # what finished counts; the rest is reported as missing
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(pid)
    for connection in connections:
        connection.close()
    ms = sorted(x * 1000 for x in latencies)

    def pick(q: float) -> float:
        return ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")

    return {
        "ok": len(ms),
        "errors": errors,
        "missing": clients * requests - len(ms) - errors,
        "p50": statistics.median(ms) if ms else float("nan"),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ms[-1] if ms else float("nan"),
        "rps": len(ms) / elapsed,
        "seconds": elapsed,
        "spread": spread,
        "error_kinds": error_kinds,
        # CPU ms per answered request, by whom
        "cpu": {name: (cpu_after[name] - cpu_before[name]) * 1000 / max(1, len(ms)) for name in cpu_after},
        # cores busy during the run: the API processes, and everything on the machine
        "cores": {name: (cpu_after[name] - cpu_before[name]) / elapsed for name in cpu_after},
    }


def single_request_ms(base: str, key: str, repeats: int = 30) -> float:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            http.post("/graphql", json={"query": QUERY}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="API processes of the second run")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5, help="requests per client")
    parser.add_argument("--prefixes", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per run at most")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="dbt-bench-"))  # short: unix socket paths are limited
    results = {}
    try:
        for workers in dict.fromkeys([1, args.workers]):
            with danbyte_serve(home, NO_URLS, "--workers", str(workers), timeout=120) as (base, process):
                pid = process.pid
                key = (home / "admin-token").read_text().strip()
                load_prefixes(base, key, args.prefixes)
                alone = single_request_ms(base, key)
                results[workers] = asyncio.run(run_load(base, key, pid, args.clients, args.requests, args.time_limit))
                results[workers]["alone"] = alone
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(
        "\n'cores' is CPU time over wall time during the load: of the API processes, and of the"
        " whole machine (PostgreSQL, the load generator, anything else running)."
    )
    print(f"{args.clients} concurrent clients x {args.requests} requests of {QUERY!r} ({os.cpu_count()} cores; load generator on the same machine)\n")
    print(
        f"{'workers':>7} {'alone ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7}"
        f" {'ok':>5} {'err':>4} {'miss':>5} {'CPU ms/req: API':>15} {'client':>6} {'cores: API':>10} {'all':>4}  connections per process"
    )
    for workers, r in results.items():
        print(
            f"{workers:>7} {r['alone']:>9.1f} {r['p50']:>8.0f} {r['p95']:>8.0f} {r['p99']:>8.0f} {r['max']:>8.0f}"
            f" {r['rps']:>7.0f} {r['ok']:>5} {r['errors']:>4} {r['missing']:>5}"
            f" {r['cpu']['server']:>15.1f} {r['cpu']['client']:>6.1f}"
            f" {r['cores']['server']:>10.2f} {r['cores']['machine']:>4.2f}  {'/'.join(map(str, r['spread']))}"
        )
    for workers, r in results.items():
        for problem, count in r["error_kinds"].items():
            print(f"  workers={workers}: {count} x {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
