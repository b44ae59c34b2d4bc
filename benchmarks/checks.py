"""Checks benchmark: `python -m benchmarks.checks` (on demand, not part of the tests).

Runs 1,000 TCP and 200 HTTP checks against loopback listeners served by a separate
process (so the listeners do not share the checker's CPU), twice:

* burst: every check at once through ``run_checks``, bounded by ``--concurrency``:
  how many checks per second the runner sustains;
* one interval: the same checks spread over ``--interval`` seconds with
  ``run_interval``: how late checks start (scheduling delay, p50/p95/max) when the
  load is paced as a scheduler would pace it.

``--https`` makes the HTTP checks HTTPS with a certificate made on the spot (trustme).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from checks import Check, CheckResult, CheckStatus, HttpProbe, TcpProbe, run_checks, run_interval
from checks.runner import percentile

LOOPBACK = "127.0.0.1"
HTTP_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def raise_file_limit(wanted: int = 65536) -> tuple[int, int]:
    """Each check in flight holds a socket on both ends; lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def serve(ports: multiprocessing.connection.Connection, cert_dir: str | None) -> None:
    """The listeners' process: a TCP listener that answers nothing and closes at EOF, and
    a minimal HTTP/1.1 server."""
    raise_file_limit()

    async def tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HTTP_RESPONSE)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        tls = None
        if cert_dir is not None:
            import ssl

            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(Path(cert_dir) / "server.pem")
        tcp_server = await asyncio.start_server(tcp, LOOPBACK, 0, backlog=4096)
        http_server = await asyncio.start_server(http, LOOPBACK, 0, backlog=4096, ssl=tls)
        ports.send((tcp_server.sockets[0].getsockname()[1], http_server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


def make_checks(tcp_port: int, http_port: int, args: argparse.Namespace, ca_file: str | None) -> list[Check]:
    scheme = "https" if args.https else "http"
    tcp = [Check(f"tcp-{i}", TcpProbe(LOOPBACK, tcp_port), timeout=args.timeout) for i in range(args.tcp)]
    http = [
        Check(
            f"http-{i}",
            HttpProbe(f"{scheme}://{LOOPBACK}:{http_port}/health", body_pattern="ok", ca_file=ca_file),
            timeout=args.timeout,
        )
        for i in range(args.http)
    ]
    # interleave so both kinds are spread over the interval
    step = max(1, len(tcp) // max(1, len(http)))
    mixed: list[Check] = []
    for i in range(max(len(tcp), len(http) * step)):
        if i < len(tcp):
            mixed.append(tcp[i])
        if i % step == 0 and i // step < len(http):
            mixed.append(http[i // step])
    return mixed


def report(name: str, results: list[CheckResult], elapsed: float) -> None:
    outcomes = Counter(r.result.status for r in results)
    delays = [r.scheduling_delay for r in results]
    latencies = {kind: [r.result.latency for r in results if r.check_id.startswith(kind) and r.result.latency is not None] for kind in ("tcp", "http")}
    print(f"{name}: {len(results)} checks in {elapsed:.2f} s = {len(results) / elapsed:,.0f} checks/s")
    print(f"  up {outcomes[CheckStatus.UP]}, degraded {outcomes[CheckStatus.DEGRADED]}, down {outcomes[CheckStatus.DOWN]}")
    print(f"  scheduling delay: p50 {percentile(delays, 0.5) * 1000:.1f} ms, p95 {percentile(delays, 0.95) * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms")
    for kind, values in latencies.items():
        if values:
            print(f"  {kind} latency: median {statistics.median(values) * 1000:.2f} ms, p95 {percentile(values, 0.95) * 1000:.2f} ms")
    failures = [r.result.message for r in results if r.result.status is CheckStatus.DOWN][:3]
    if failures:
        print(f"  first failures: {failures}")


async def bench(args: argparse.Namespace, tcp_port: int, http_port: int, ca_file: str | None) -> None:
    checks = make_checks(tcp_port, http_port, args, ca_file)
    await run_checks(checks[:50], concurrency=args.concurrency)  # warm up (imports, TLS contexts)

    start = time.perf_counter()
    results = await run_checks(checks, concurrency=args.concurrency)
    report(f"burst (concurrency {args.concurrency})", results, time.perf_counter() - start)

    start = time.perf_counter()
    results = await run_interval(checks, interval=args.interval, concurrency=args.concurrency)
    elapsed = time.perf_counter() - start
    report(f"one {args.interval:g} s interval (concurrency {args.concurrency})", results, elapsed)
    print(f"  interval overrun: {max(0.0, elapsed - args.interval) * 1000:.0f} ms past the interval's end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tcp", type=int, default=1000)
    parser.add_argument("--http", type=int, default=200)
    parser.add_argument("--https", action="store_true", help="HTTPS instead of HTTP")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()

    soft, hard = raise_file_limit()
    print(f"open files limit: {soft} (hard {hard}); {multiprocessing.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as cert_dir:
        ca_file = None
        if args.https:
            import trustme

            ca = trustme.CA()
            ca.issue_cert(LOOPBACK).private_key_and_cert_chain_pem.write_to_path(f"{cert_dir}/server.pem")
            ca_file = f"{cert_dir}/ca.pem"
            ca.cert_pem.write_to_path(ca_file)
        receive, send = multiprocessing.Pipe(duplex=False)
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(send, cert_dir if args.https else None), daemon=True)
        server.start()
        try:
            tcp_port, http_port = receive.recv()
            asyncio.run(bench(args, tcp_port, http_port, ca_file))
        finally:
            server.terminate()
            server.join()


if __name__ == "__main__":
    main()
