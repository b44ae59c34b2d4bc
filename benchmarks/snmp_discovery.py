"""SNMP discovery benchmark: `python -m benchmarks.snmp_discovery [--targets 200]`.

Serves the 16 recordings in ../shared/data/snmp with snmpsim on loopback (several
processes, several ports each, so that (port, community) makes every target distinct),
then prints:

1. each recording discovered alone, one after another (the slowest is the baseline);
2. all 16 discovered at once: wall time against the slowest single discovery;
3. the recordings repeated to --targets distinct targets: devices/s and OIDs/s.

snmpsim answers from Python and is usually the bottleneck, not the client: watch the CPU.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from snmp import DeviceFacts, SnmpV2c, Target, UnexpectedError, discover, discover_many
from tests.snmp_agent import RECORDINGS, SnmpAgent, community_of, free_udp_port


def _run(requests: list[tuple[Target, SnmpV2c]], concurrency: int) -> tuple[float, float, list[DeviceFacts]]:
    """(wall seconds, this process's CPU seconds, results); snmpsim's CPU is not counted."""
    start, cpu = time.monotonic(), time.process_time()
    results = discover_many(requests, concurrency=concurrency)
    return time.monotonic() - start, time.process_time() - cpu, results


def _check(results: list[DeviceFacts], interfaces: dict[str, int], names: list[str]) -> None:
    for name, facts in zip(names, results, strict=True):
        if not facts.reachable or facts.errors_of(UnexpectedError) or len(facts.interfaces) != interfaces[name]:
            raise SystemExit(f"discovery of {name} on port {facts.port} went wrong: {facts.errors[:3]}")


def _report(label: str, wall: float, cpu: float, results: list[DeviceFacts], slowest_alone: float) -> None:
    oids = sum(facts.varbinds_received for facts in results)
    durations = [facts.duration_seconds for facts in results]
    print(f"   {label}: {len(results)} devices, {oids} OIDs")
    print(f"      wall {wall:.2f} s = {wall / slowest_alone:.2f} x the slowest single discovery; {len(results) / wall:.1f} devices/s, {oids / wall:.0f} OIDs/s")
    print(
        f"      per device: median {statistics.median(durations):.2f} s, max {max(durations):.2f} s; client CPU {cpu:.2f} s ({cpu / oids * 1e6:.0f} us per OID)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--agents", type=int, default=os.cpu_count() or 2, help="snmpsim processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    args = parser.parse_args()

    names = [community_of(path) for path in RECORDINGS]
    ports_needed = math.ceil(args.targets / len(names))
    agent_count = max(1, min(args.agents, ports_needed))
    ports = [free_udp_port() for _ in range(ports_needed)]
    work = Path(tempfile.mkdtemp(prefix="snmp-bench-"))
    agents = [SnmpAgent(work / f"agent{i}", ports=ports[i::agent_count]) for i in range(agent_count)]
    print(f"snmpsim: {agent_count} processes, {ports_needed} ports, {len(names)} recordings; client: concurrency {args.concurrency}, {os.cpu_count()} CPUs")
    try:
        start = time.monotonic()
        for agent in agents:  # one at a time: the first builds the index, the rest reuse it
            agent.work_dir.mkdir(parents=True)
            if agent is not agents[0]:
                shutil.copytree(agents[0].work_dir / "cache", agent.work_dir / "cache")
            agent.start(probe_community=names[0])
        print(f"agents ready in {time.monotonic() - start:.1f} s")

        def target(port: int) -> Target:
            return Target("127.0.0.1", port, timeout=args.timeout, retries=1)

        alone = [discover(target(ports[0]), SnmpV2c(name)) for name in names]
        interfaces = {name: len(facts.interfaces) for name, facts in zip(names, alone, strict=True)}
        _check(alone, interfaces, names)
        slowest = max(alone, key=lambda facts: facts.duration_seconds)
        slowest_name = names[alone.index(slowest)]
        print(f"\n1. alone, one after another (total {sum(f.duration_seconds for f in alone):.2f} s):")
        for name, facts in sorted(zip(names, alone, strict=True), key=lambda pair: -pair[1].duration_seconds):
            print(f"   {name:<36} {facts.duration_seconds:5.2f} s  {facts.varbinds_received:5d} OIDs  {len(facts.interfaces):3d} interfaces")
        print(f"   slowest single discovery: {slowest_name}, {slowest.duration_seconds:.2f} s")

        print("\n2./3. concurrently:")
        requests = [(target(ports[0]), SnmpV2c(name)) for name in names]
        wall, cpu, results = _run(requests, len(requests))
        _check(results, interfaces, names)
        _report("all 16 recordings at once, one snmpsim port", wall, cpu, results, slowest.duration_seconds)

        spread = [(target(ports[i % len(ports)]), SnmpV2c(names[i % len(names)])) for i in range(len(names))]
        wall, cpu, results = _run(spread, len(spread))
        _check(results, interfaces, names)
        _report(f"all 16 recordings at once, spread over {len(ports)} ports / {agent_count} snmpsim processes", wall, cpu, results, slowest.duration_seconds)

        # Every (port, community) pair is a distinct target.
        many = [(target(port), SnmpV2c(name)) for port in ports for name in names][: args.targets]
        many_names = [name for _ in ports for name in names][: args.targets]
        wall, cpu, results = _run(many, args.concurrency)
        _check(results, interfaces, many_names)
        _report(f"{len(many)} distinct targets, concurrency {args.concurrency}", wall, cpu, results, slowest.duration_seconds)
    finally:
        for agent in agents:
            agent.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
