"""Subscription fan-out: 1,000 WebSocket subscribers over two `danbyte serve` processes.

    python -m benchmarks.ws_fanout [--subscribers 1000] [--rounds 20] [--clients 2]

Starts embedded PostgreSQL and Redis, a tenant with 10 check states, and two API
processes (`danbyte serve --workers 1 --no-worker`, loopback). ``--clients`` client
processes open the subscribers, spread evenly over the two servers; each connection
subscribes to ``check_state_changed`` (its current set first) and to ``object_changed``.
All use one token, so each server runs one group per document (danbyte/fanout.py). Then:

- state changes: a check state's row is updated by SQL and a worker's row event
  published (jobs.runtime.publish), ``--rounds`` times; the delivery latency is the time
  from just before publishing to each subscriber's receipt (clock of this machine);
- mutations: ``vrf_create`` over HTTP, ``--rounds`` times without subscribers and with
  them: the response time, and the delivery latency of the resulting object_changed
  event (from the request's start);
- each server's RSS before the subscribers connect, with them, and after they leave
  (``--cycles`` times: connect, subscribe, leave).

The clients run on the same two cores as the servers, PostgreSQL and Redis, so the
latencies include their time to read 1,000 sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psutil
import sqlalchemy as sa

from benchmarks.common import bench_database, create_bench_tenant
from tests.live import danbyte_serve  # the test suite's way of running `danbyte serve`

STATES = "subscription { check_state_changed { action id check_state { id state since address device { name } } } }"
CHANGES = 'subscription { object_changed(types: ["vrf"]) { type id action tenant } }'
VRF = "mutation($n: String!, $t: ID) { vrf_create(input: {name: $n, tenant: $t}) { id } }"


# --- client processes -----------------------------------------------------------------


def client_process(bases: list[str], key: str, count: int, live: bool, commands: Any, results: Any) -> None:
    asyncio.run(_client(bases, key, count, live, commands, results))


async def _client(bases: list[str], key: str, count: int, live: bool, commands: Any, results: Any) -> None:
    import websockets

    arrivals: list[list[tuple[float, str]]] = [[] for _ in range(count)]
    sockets: list[Any] = [None] * count
    gate = asyncio.Semaphore(25)

    async def open_one(n: int) -> None:
        async with gate:
            ws = await websockets.connect(bases[n % len(bases)].replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"], max_size=None)  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": CHANGES}}))
            if not live:
                sockets[n] = ws
                return
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STATES}}))
            while True:  # the current set, up to ready
                message = json.loads(await ws.recv())
                if message["type"] == "next" and message["payload"]["data"]["check_state_changed"]["action"] == "ready":
                    break
            sockets[n] = ws

    async def read(n: int) -> None:
        ws, seen = sockets[n], arrivals[n]
        try:
            async for text in ws:
                seen.append((time.time(), text))  # parsed after the run, not while timing
        except websockets.ConnectionClosed:
            pass

    await asyncio.gather(*(open_one(n) for n in range(count)))
    readers = [asyncio.create_task(read(n)) for n in range(count)]
    results.put("ready")
    await asyncio.to_thread(commands.get)  # "stop"
    await asyncio.sleep(1.0)  # the last deliveries
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    parsed = []
    for seen in arrivals:
        mine = []
        for at, text in seen:
            message = json.loads(text)
            if message["type"] == "next":
                data = message["payload"]["data"]
                mine.append((at, message["id"], (data.get("object_changed") or data.get("check_state_changed") or {}).get("id")))
        parsed.append(mine)
    results.put(parsed)


# --- the run --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return f"p50 {percentile(values, 0.5):6.1f} ms   p99 {percentile(values, 0.99):6.1f} ms   max {max(values):6.1f} ms   ({len(values)} deliveries)"


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of the server processes so far."""
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def rss_mib(pids: list[int]) -> list[float]:
    return [psutil.Process(pid).memory_info().rss / 2**20 for pid in pids]


async def prepare(database_url: str, redis_url: str, states: int) -> tuple[str, str, str, list[str]]:
    """(token, organisation id, tenant id, check state ids)."""
    from danbyte.app import create_app

    app = create_app(database_url, redis_url)
    db = app.state.danbyte.db
    async with db.system_transaction() as conn:
        org, tenant, key = await create_bench_tenant(conn, "ws")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def make(root: str, input_type: str, **fields: Any) -> str:
            query = f"mutation($i: {input_type}!) {{ {root}_create(input: $i) {{ id }} }}"
            body = (
                await client.post(
                    "/graphql", json={"query": query, "variables": {"i": {**fields, "tenant": str(tenant)}}}, headers={"Authorization": f"Bearer {key}"}
                )
            ).json()
            if body.get("errors"):
                raise RuntimeError(body["errors"])
            return str(body["data"][f"{root}_create"]["id"])

        maker = await make("manufacturer", "ManufacturerCreateInput", name="Bench", slug="bench")
        kind = await make("device_type", "DeviceTypeCreateInput", manufacturer=maker, model="Box", slug="box")
        role = await make("device_role", "DeviceRoleCreateInput", name="Leaf", slug="leaf")
        site = await make("site", "SiteCreateInput", name="Lab", slug="lab")
        device = await make("device", "DeviceCreateInput", name="leaf1", device_type=kind, role=role, site=site)
        template = await make("check_template", "CheckTemplateCreateInput", name="ping", kind="KIND_ICMP")
    ids = []
    async with db.system_transaction() as conn:
        for n in range(states):
            row = await conn.execute(
                sa.text(
                    "INSERT INTO check_state (tenant_id, template_id, device_id, address, state) VALUES (:t, :tp, :d, CAST(:a AS inet), 'up') RETURNING id"
                ),
                {"t": tenant, "tp": template, "d": device, "a": f"192.0.2.{n + 1}"},
            )
            ids.append(str(row.scalar_one()))
    await app.state.danbyte.close()
    return key, str(org), str(tenant), ids


def state_event(org: str, tenant: str, state_id: str, state: str) -> dict[str, Any]:
    """A worker's row event (contract 1)."""
    return {
        "kind": "change",
        "type": "check_state",
        "object_type": "check_state",
        "id": state_id,
        "numid": None,
        "action": "update",
        "changed_fields": ["since", "state"],
        "tenant_id": tenant,
        "audience": "tenant",
        "org_id": org,
        "affects_principals": False,
        "change_id": None,
        "site_id": None,
        "device_id": None,
        "state": state,
    }


def mutate(bases: list[str], key: str, tenant: str, rounds: int, sent: list[float] | None = None) -> list[float]:
    """Response times (ms) of ``rounds`` vrf_create requests, alternating servers."""
    times = []
    with httpx.Client(timeout=60) as client:
        for n in range(rounds):
            started = time.time()
            body = client.post(
                f"{bases[n % 2]}/graphql",
                json={"query": VRF, "variables": {"n": f"bench-{time.time_ns()}", "t": tenant}},
                headers={"Authorization": f"Bearer {key}"},
            ).json()
            times.append((time.time() - started) * 1000)
            if body.get("errors"):
                raise RuntimeError(body["errors"])
            if sent is not None:
                sent.append(started)
            time.sleep(0.3)
    return times


def main(argv: list[str] | None = None) -> int:
    from jobs.runtime import publish

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--states", type=int, default=10, help="check states in each current set")
    parser.add_argument("--cycles", type=int, default=3, help="times the subscribers connect and leave (RSS after each)")
    parser.add_argument("--no-live", dest="live", action="store_false", help="object_changed only (to compare with a server without check_state_changed)")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        database_url, redis_url = bench_database(stack, "danbyte_bench_ws")
        key, org, tenant, state_ids = asyncio.run(prepare(database_url, redis_url, args.states))
        home = Path(tempfile.mkdtemp(prefix="ws-bench-"))
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url, "DANBYTE_WORKERS": "1"}
        first = stack.enter_context(danbyte_serve(home, env, "--no-worker", timeout=120))
        second = stack.enter_context(danbyte_serve(home, env, "--no-worker", timeout=120))
        bases, pids = [first[0], second[0]], [first[1].pid, second[1].pid]
        print(f"two API processes; {os.cpu_count()} CPUs shared with PostgreSQL, Redis and {args.clients} client processes")

        mutate(bases, key, tenant, 5)  # warm up both
        alone = mutate(bases, key, tenant, args.rounds)
        rss_before = rss_mib(pids)

        spawn = multiprocessing.get_context("spawn")
        commands, results = spawn.Queue(), spawn.Queue()
        share = [args.subscribers // args.clients + (1 if n < args.subscribers % args.clients else 0) for n in range(args.clients)]
        clients = [spawn.Process(target=client_process, args=(bases, key, count, args.live, commands, results)) for count in share]
        started = time.monotonic()
        for process in clients:
            process.start()
        for _ in clients:
            assert results.get(timeout=600) == "ready"
        print(f"{args.subscribers} subscribers connected, subscribed and sent their current set in {time.monotonic() - started:.1f} s")
        time.sleep(2.0)
        rss_with = rss_mib(pids)

        engine = sa.create_engine(database_url)
        stack.callback(engine.dispose)
        published: dict[str, float] = {}
        cpu_before = cpu_seconds(pids)
        for n in range(args.rounds if args.live else 0):
            state_id = state_ids[n % len(state_ids)]
            state = "down" if n % 2 == 0 else "up"
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE check_state SET state = :s, since = now() WHERE id = :id"), {"s": state, "id": state_id})
            at = time.time()
            publish(redis_url, [state_event(org, tenant, state_id, state)])
            published[f"{n}"] = at
            time.sleep(0.5)
        state_cpu = cpu_seconds(pids) - cpu_before
        sent: list[float] = []
        loaded = mutate(bases, key, tenant, args.rounds, sent)
        for _ in clients:
            commands.put("stop")
        per_connection: list[list[tuple[float, str, str]]] = []
        for _ in clients:
            per_connection.extend(results.get(timeout=600))
        for process in clients:
            process.join(60)
        time.sleep(3.0)  # the servers give memory back a second after the subscribers leave
        rss_after = [rss_mib(pids)]
        for _ in range(args.cycles - 1):
            # Again: memory kept for subscribers who left would add up here.
            again = [spawn.Process(target=client_process, args=(bases, key, count, args.live, commands, results)) for count in share]
            for process in again:
                process.start()
            for _ in again:
                assert results.get(timeout=600) == "ready"
            for _ in again:
                commands.put("stop")
            for _ in again:
                results.get(timeout=600)
            for process in again:
                process.join(60)
            time.sleep(3.0)
            rss_after.append(rss_mib(pids))

        state_latency: list[float] = []
        change_latency: list[float] = []
        last_state: list[float] = []
        state_rounds = [published[f"{n}"] for n in range(args.rounds if args.live else 0)]
        missing = 0
        for arrivals in per_connection:
            states = [at for at, sub, _ in arrivals if sub == "1"][-args.rounds :]
            changes = [at for at, sub, _ in arrivals if sub == "2"][-args.rounds :]
            missing += (args.rounds - len(states) if args.live else 0) + (args.rounds - len(changes))
            state_latency += [(at - t0) * 1000 for at, t0 in zip(states, state_rounds, strict=False)]
            change_latency += [(at - t0) * 1000 for at, t0 in zip(changes, sent, strict=False)]
        for n, t0 in enumerate(state_rounds):
            arrived = [[at for at, sub, _ in a if sub == "1"][-args.rounds :] for a in per_connection]
            last_state.append(max((row[n] - t0) * 1000 for row in arrived if len(row) > n))

        if args.live:
            print(f"\nstate change → {args.subscribers} subscribers (check_state_changed, {args.rounds} changes)")
            print(f"   delivery       {summary(state_latency)}")
            print(f"   last subscriber per change: median {statistics.median(last_state):.1f} ms, max {max(last_state):.1f} ms")
            per_delivery = state_cpu / max(1, len(state_latency)) * 1e6
            print(
                f"   servers' CPU: {state_cpu * 1000:.0f} ms for {len(state_latency)} deliveries, {per_delivery:.0f} µs each (idle time between changes included)"
            )
        print(f"\nmutation (vrf_create over HTTP, {args.rounds} each)")
        print(f"   response without subscribers   median {statistics.median(alone):6.1f} ms   max {max(alone):6.1f} ms")
        print(f"   response with {args.subscribers} subscribers  median {statistics.median(loaded):6.1f} ms   max {max(loaded):6.1f} ms")
        print(f"   object_changed delivery (from the request's start)   {summary(change_latency)}")
        if missing:
            print(f"   MISSING deliveries: {missing}")
        print("\nserver RSS (MiB, each process)")
        print(f"   before subscribers {', '.join(f'{v:.0f}' for v in rss_before)}")
        print(f"   with {args.subscribers}         {', '.join(f'{v:.0f}' for v in rss_with)}")
        for cycle, figures in enumerate(rss_after, 1):
            print(f"   after they left ({cycle})  {', '.join(f'{v:.0f}' for v in figures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
