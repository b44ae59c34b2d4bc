"""DCIM benchmark: `make bench` (or `python -m benchmarks.dcim --sites 50 --devices-per-site 40`).

Builds a data set of NetBox's shape in one tenant, through the write path (the functions
every mutation runs, in-process, so the model rules run: creating a device stamps out its
type's 40 interfaces, a cable sets its endpoints' cable, a primary IP must sit on the
device's own interface), one transaction per site:

- a manufacturer, a device role and a 1U device type with ``--interfaces`` (40) interface
  templates (1000BASE-T);
- per site: a VLAN group with ``--addresses`` (5) VLANs, a /16 container prefix, one
  /24 per VLAN and ``--fabric-links`` (20) /30s in the VRF "Fabric" (each scoped to the
  site), ``--racks-per-site`` (2) 42U racks, ``--devices-per-site`` (40) 1U devices
  in those racks (front face, distinct positions), each with its interfaces stamped out;
  ``--addresses`` IPv4 addresses per device, address j on interface j inside VLAN j's /24,
  the first made the device's primary_ip4 (an update, after the addresses exist); devices
  paired 2k with 2k+1, each pair joined by 2 cables between their last two interfaces.

Prints the load rate (rows created per second, and per object kind the seconds and SQL
statements the write path spent), then for each query (issue 8's four: devices with four
relations, devices' interfaces and addresses, prefixes with their scope union, addresses
with their assigned-object union) the latency (median and p95 over ``--repeats`` runs
after a warm-up), SQL statements per request (X-Danbyte-Debug), SQL time, response size,
the time of one hand-written statement returning the same document and the ratio to it,
and which path answered (the SQL compiler, or the resolvers); then the p95 of 8
concurrent clients, the resident set size of this process after the runs, and the same
queries with the compiler off. The ASGI app is served in-process (httpx's ASGI
transport, as in benchmarks/ipam.py), so the RSS is the server's together with the
benchmark client's; the loader runs in a child process so it does not count.

Lists are capped by the page ceiling (DANBYTE_MAX_PAGE_SIZE, default 1000): the bench
raises it for its server to the number of devices, so one request returns all of them.

Uses DANBYTE_BENCH_DATABASE_URL and DANBYTE_BENCH_REDIS_URL when set, else the embedded
servers in a temporary home; the data goes into a fresh database ``danbyte_bench_dcim``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing import get_context
from typing import Any

import sqlalchemy as sa

from benchmarks.common import bench_database, create_bench_tenant, measure, memory_mb

QUERIES: dict[str, str] = {
    "devices: site, tenant, type, primary_ip4": "{ device_list { id name site { name } tenant { name } device_type { model } primary_ip4 { address } } }",
    "devices: interfaces -> ip_addresses": "{ device_list { id name interfaces { name ip_addresses { address } } } }",
    "prefixes: vrf, scope union": "{ prefix_list { id prefix vrf { name } scope { __typename ... on SiteType { name } } } }",
    "ip addresses: vrf, assigned_object union": (
        "{ ip_address_list { id address vrf { name } assigned_object { __typename ... on InterfaceType { name device { name } } } } }"
    ),
}

# Each query's answer written by hand as one SQL statement building the JSON document: the
# floor issue 8's compiler is measured against (same rows, same order, same document).
HAND_WRITTEN: dict[str, str] = {
    "devices: site, tenant, type, primary_ip4": """
        SELECT json_build_object('data', json_build_object('device_list', coalesce(json_agg(json_build_object(
            'id', d.id, 'name', d.name, 'site', json_build_object('name', s.name), 'tenant', json_build_object('name', t.name),
            'device_type', json_build_object('model', dt.model),
            'primary_ip4', CASE WHEN ip.id IS NULL THEN NULL ELSE json_build_object('address', ip.address::text) END
        ) ORDER BY d._name, d.id), '[]'::json)))::text
        FROM device d JOIN site s ON s.id = d.site_id JOIN tenant t ON t.id = d.tenant_id
        JOIN device_type dt ON dt.id = d.device_type_id LEFT JOIN ip_address ip ON ip.id = d.primary_ip4_id
        WHERE d.tenant_id = :tenant""",
    "devices: interfaces -> ip_addresses": """
        SELECT json_build_object('data', json_build_object('device_list', coalesce(json_agg(json_build_object(
            'id', d.id, 'name', d.name, 'interfaces', i.items) ORDER BY d._name, d.id), '[]'::json)))::text
        FROM device d CROSS JOIN LATERAL (
            SELECT coalesce(json_agg(json_build_object('name', i.name, 'ip_addresses', a.items) ORDER BY i._name, i.id), '[]'::json) AS items
            FROM interface i CROSS JOIN LATERAL (
                SELECT coalesce(json_agg(json_build_object('address', ip.address::text) ORDER BY ip.id), '[]'::json) AS items
                FROM ip_address ip WHERE ip.assigned_object_interface_id = i.id
            ) a WHERE i.device_id = d.id
        ) i
        WHERE d.tenant_id = :tenant""",
    "prefixes: vrf, scope union": """
        SELECT json_build_object('data', json_build_object('prefix_list', coalesce(json_agg(json_build_object(
            'id', p.id, 'prefix', p.prefix, 'vrf', CASE WHEN v.id IS NULL THEN NULL ELSE json_build_object('name', v.name) END,
            'scope', CASE WHEN s.id IS NOT NULL THEN json_build_object('__typename', 'SiteType', 'name', s.name) END
        ) ORDER BY p.id), '[]'::json)))::text
        FROM prefix p LEFT JOIN vrf v ON v.id = p.vrf_id LEFT JOIN site s ON s.id = p.scope_site_id
        WHERE p.tenant_id = :tenant""",
    "ip addresses: vrf, assigned_object union": """
        SELECT json_build_object('data', json_build_object('ip_address_list', coalesce(json_agg(json_build_object(
            'id', ip.id, 'address', ip.address, 'vrf', CASE WHEN v.id IS NULL THEN NULL ELSE json_build_object('name', v.name) END,
            'assigned_object', CASE WHEN i.id IS NOT NULL THEN json_build_object(
                '__typename', 'InterfaceType', 'name', i.name, 'device', json_build_object('name', d.name)) END
        ) ORDER BY ip.id), '[]'::json)))::text
        FROM ip_address ip LEFT JOIN vrf v ON v.id = ip.vrf_id
        LEFT JOIN interface i ON i.id = ip.assigned_object_interface_id LEFT JOIN device d ON d.id = i.device_id
        WHERE ip.tenant_id = :tenant""",
}
CONCURRENT_CLIENTS = 8

PAGE_SIZE_VARIABLE = "DANBYTE_MAX_PAGE_SIZE"
RACK_UNITS = 42
# Rows counted for the load rate: every object the load creates, stamped ones included.
COUNTED_TABLES = (
    "manufacturer",
    "device_role",
    "device_type",
    "interface_template",
    "site",
    "vlan_group",
    "vlan",
    "prefix",
    "rack",
    "device",
    "interface",
    "ip_address",
    "cable",
    "cable_termination",
)


@dataclass(frozen=True)
class Shape:
    sites: int = 50
    devices_per_site: int = 40
    interfaces: int = 40
    addresses: int = 5
    racks_per_site: int = 2
    fabric_links: int = 20  # /30 prefixes per site in the VRF "Fabric" (1,300 prefixes in all by default)

    @property
    def prefixes(self) -> int:
        return self.sites * (1 + self.addresses + self.fabric_links)

    def check(self) -> None:
        """Addresses are 10.<site>.<j>.<device + 1>/24: the shape must fit that plan."""
        if not 1 <= self.sites <= 255:
            raise SystemExit("--sites: 1 to 255")
        if not 1 <= self.devices_per_site <= 253:
            raise SystemExit("--devices-per-site: 1 to 253")
        if not 1 <= self.addresses <= 255:
            raise SystemExit("--addresses: 1 to 255")
        if not 0 <= self.fabric_links <= 1024:
            raise SystemExit("--fabric-links: 0 to 1024")
        if self.interfaces < max(self.addresses, 2):
            raise SystemExit("--interfaces: at least --addresses and at least 2 (the cables take the last two)")
        if self.racks_per_site * RACK_UNITS < self.devices_per_site:
            raise SystemExit(f"--racks-per-site: {self.racks_per_site} racks of {RACK_UNITS}U cannot hold {self.devices_per_site} 1U devices")

    @property
    def devices(self) -> int:
        return self.sites * self.devices_per_site


@dataclass(frozen=True)
class Endpoint:
    """An ``ObjectReferenceInput`` as the write path reads it: ``.type`` and ``.id``."""

    type: str
    id: str


@dataclass
class Phase:
    """What one kind of write cost over the whole load."""

    objects: int = 0
    seconds: float = 0.0
    statements: int = 0


@dataclass
class LoadResult:
    key: str
    tenant_id: uuid.UUID
    seconds: float
    rows: dict[str, int]
    phases: dict[str, Phase] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def interface_name(index: int) -> str:
    return f"GigabitEthernet1/0/{index + 1}"


class Loader:
    """Writes the data set through resolvers/writes.py with one principal."""

    def __init__(self, db: Any, principal: Any, tenant_id: uuid.UUID, shape: Shape) -> None:
        from danbyte.database import QueryStats
        from danbyte.settings import get_settings
        from resolvers.context import RequestContext

        self.db, self.principal, self.tenant, self.shape = db, principal, str(tenant_id), shape
        self.ctx = RequestContext(db=db, principal=principal, events=None, settings=get_settings())
        self.phases: dict[str, Phase] = {}
        self.stats = QueryStats()

    async def create(self, write: Any, model: str, data: dict[str, Any], phase: str | None = None) -> Any:
        """One object through the create path (input split and checked, references, rules,
        row, change log): what ``<model>_create`` does inside its transaction."""
        from models.registry import spec_for
        from resolvers.writes import insert_object, prepare_create, require

        spec = spec_for(model)
        require(write.principal, "add", spec)
        tenant = spec.ref("tenant")
        if tenant is not None and tenant.writable:
            data = {"tenant": self.tenant, **data}
        with self.timed(phase or model):
            values, many, tags = prepare_create(write.principal, spec, data)
            return await insert_object(write, spec, values, many, tags)

    def timed(self, phase: str) -> _Timed:
        return _Timed(self, phase)

    async def catalogue(self) -> dict[str, str]:
        from resolvers.writes import run_write

        async def work(write: Any) -> dict[str, str]:
            maker = await self.create(write, "Manufacturer", {"name": "Acme", "slug": "acme"})
            role = await self.create(write, "DeviceRole", {"name": "Leaf", "slug": "leaf", "color": "2196f3"})
            kind = await self.create(write, "DeviceType", {"manufacturer": str(maker.id), "model": "ACME-48T", "slug": "acme-48t", "u_height": Decimal(1)})
            for i in range(self.shape.interfaces):
                await self.create(write, "InterfaceTemplate", {"device_type": str(kind.id), "name": interface_name(i), "type": "1000base-t"})
            vrf = await self.create(write, "VRF", {"name": "Fabric"})
            return {"role": str(role.id), "device_type": str(kind.id), "vrf": str(vrf.id)}

        return await run_write(self.ctx, work)

    async def site(self, s: int, catalogue: dict[str, str]) -> None:
        """Everything at site ``s``, in one transaction; then the primary addresses."""
        from resolvers.writes import run_write

        shape = self.shape
        primaries: list[tuple[str, str]] = []

        async def work(write: Any) -> None:
            site = await self.create(write, "Site", {"name": f"Site {s:03d}", "slug": f"site-{s:03d}", "status": "active"})
            site_id = str(site.id)
            scope = Endpoint("dcim.site", site_id)
            group = await self.create(write, "VLANGroup", {"name": f"Site {s:03d} VLANs", "slug": f"site-{s:03d}-vlans", "scope": scope})
            await self.create(write, "Prefix", {"prefix": f"10.{s}.0.0/16", "status": "container", "site": site_id, "scope": scope})
            for j in range(shape.addresses):
                vlan = await self.create(write, "VLAN", {"vid": 100 + j, "name": f"vlan-{100 + j}", "site": site_id, "group": str(group.id)})
                await self.create(write, "Prefix", {"prefix": f"10.{s}.{j}.0/24", "site": site_id, "scope": scope, "vlan": str(vlan.id)})
            for k in range(shape.fabric_links):  # point-to-point links between the site's leaves
                await self.create(
                    write, "Prefix", {"prefix": f"172.{16 + s // 16}.{s % 16 * 16 + k // 64}.{k % 64 * 4}/30", "scope": scope, "vrf": catalogue["vrf"]}
                )
            # Racks without a location have names unique in the tenant (models/dcim/racks.py),
            # so each carries its site's name.
            racks = [
                str((await self.create(write, "Rack", {"name": f"Site {s:03d} R{r + 1}", "site": site_id, "u_height": RACK_UNITS, "status": "active"})).id)
                for r in range(shape.racks_per_site)
            ]
            devices = []
            for d in range(shape.devices_per_site):
                data = {
                    "name": f"site{s:03d}-leaf{d + 1:02d}",
                    "device_type": catalogue["device_type"],
                    "role": catalogue["role"],
                    "site": site_id,
                    "rack": racks[d % len(racks)],
                    "position": Decimal(d // len(racks) + 1),
                    "face": "front",
                    "status": "active",
                }
                devices.append((await self.create(write, "Device", data, phase="Device (+ stamped interfaces)")).id)
            interfaces = await self._interfaces(write, devices)
            for d, device in enumerate(devices):
                for j in range(shape.addresses):
                    on = Endpoint("dcim.interface", interfaces[device][interface_name(j)])
                    address = await self.create(write, "IPAddress", {"address": f"10.{s}.{j}.{d + 1}/24", "status": "active", "assigned_object": on})
                    if j == 0:
                        primaries.append((str(device), str(address.id)))
            for d in range(0, len(devices) - 1, 2):
                a, b = interfaces[devices[d]], interfaces[devices[d + 1]]
                for i in (shape.interfaces - 2, shape.interfaces - 1):
                    ends = {
                        "a_terminations": [Endpoint("dcim.interface", a[interface_name(i)])],
                        "b_terminations": [Endpoint("dcim.interface", b[interface_name(i)])],
                    }
                    await self.create(write, "Cable", {"type": "cat6", "status": "connected", **ends}, phase="Cable (+ 2 terminations)")
            await self._primaries(write, primaries)

        await run_write(self.ctx, work)

    async def _interfaces(self, write: Any, devices: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
        """The stamped interfaces of ``devices``: device → name → id (a read, not a write)."""
        from models.registry import spec_for
        from resolvers.sql import any_of

        table = spec_for("Interface").table
        found: dict[uuid.UUID, dict[str, str]] = {device: {} for device in devices}
        rows = await write.conn.execute(sa.select(table.c.id, table.c.device_id, table.c.name).where(any_of(table.c.device_id, devices)))
        for row in rows:
            found[row.device_id][row.name] = str(row.id)
        return found

    async def _primaries(self, write: Any, primaries: list[tuple[str, str]]) -> None:
        """Each device's first address becomes its primary_ip4, in the site's transaction
        (``update_object``: the primary-address rule runs as for ``device_update``)."""
        from models.registry import spec_for
        from resolvers.writes import update_object

        spec = spec_for("Device")
        for device, address in primaries:
            with self.timed("Device update primary_ip4"):
                old = (await write.conn.execute(sa.select(spec.table).where(spec.table.c.id == uuid.UUID(device)).with_for_update())).one()
                await update_object(write, spec, {"primary_ip4_id": uuid.UUID(address)}, old)


class _Timed:
    """Adds the seconds and SQL statements of a block to a phase of the loader."""

    def __init__(self, loader: Loader, phase: str) -> None:
        self.loader, self.phase = loader, phase

    def __enter__(self) -> None:
        self.started, self.statements = time.perf_counter(), self.loader.stats.statements

    def __exit__(self, *exc: object) -> None:
        phase = self.loader.phases.setdefault(self.phase, Phase())
        phase.objects += 1
        phase.seconds += time.perf_counter() - self.started
        phase.statements += self.loader.stats.statements - self.statements


async def load(database_url: str, shape: Shape, label: str, *, progress: bool = False) -> LoadResult:
    """Create an organisation with one tenant and load ``shape`` into it through the write path."""
    from danbyte.database import Database, current_stats
    from permissions.tokens import principal_for_key

    db = Database(database_url, pool_size=2)
    try:
        async with db.system_transaction() as conn:
            _, tenant_id, key = await create_bench_tenant(conn, label)
            principal = await principal_for_key(conn, key)
        loader = Loader(db, principal, tenant_id, shape)
        current_stats.set(loader.stats)  # the engine counts every statement into it
        started = time.perf_counter()
        catalogue = await loader.catalogue()
        for s in range(1, shape.sites + 1):
            await loader.site(s, catalogue)
            if progress and (s % 10 == 0 or s == shape.sites):
                print(f"  loaded {s}/{shape.sites} sites in {time.perf_counter() - started:.1f} s", flush=True)
        seconds = time.perf_counter() - started
        current_stats.set(None)
        async with db.system_transaction() as conn:
            rows = {
                table: (await conn.execute(sa.text(f'SELECT count(*) FROM "{table}" WHERE tenant_id = :t'), {"t": tenant_id})).scalar_one()
                for table in COUNTED_TABLES
            }
            await conn.execute(sa.text("ANALYZE " + ", ".join(f'"{t}"' for t in COUNTED_TABLES)))
    finally:
        await db.dispose()
    return LoadResult(key, tenant_id, seconds, rows, loader.phases)


def _load_in_child(database_url: str, shape: Shape, label: str) -> LoadResult:
    return asyncio.run(load(database_url, shape, label, progress=True))


def checker(shape: Shape, query: str) -> Any:
    """What the warm-up answer of ``query`` must hold: every device (with every interface
    and address), every prefix, every address."""

    def check(data: dict[str, Any]) -> None:
        if "prefix_list" in data:
            prefixes = data["prefix_list"]
            assert len(prefixes) == shape.prefixes, f"{len(prefixes)} prefixes returned, {shape.prefixes} expected"
            assert all(p["scope"] and p["scope"]["__typename"] == "SiteType" for p in prefixes)
            return
        if "ip_address_list" in data:
            addresses = data["ip_address_list"]
            assert len(addresses) == shape.devices * shape.addresses, len(addresses)
            assert all(a["assigned_object"] and a["assigned_object"]["device"] for a in addresses)
            return
        devices = data["device_list"]
        assert len(devices) == shape.devices, f"{len(devices)} devices returned, {shape.devices} expected"
        if "interfaces" in query:
            interfaces = [i for d in devices for i in d["interfaces"]]
            assert len(interfaces) == shape.devices * shape.interfaces, len(interfaces)
            assert sum(len(i["ip_addresses"]) for i in interfaces) == shape.devices * shape.addresses
        else:
            assert all(d["primary_ip4"] and d["tenant"] and d["site"] for d in devices)

    return check


def report_load(shape: Shape, result: LoadResult) -> None:
    rows = result.rows
    print(
        f"\n== DCIM: {shape.sites} sites x {shape.devices_per_site} devices = {shape.devices:,} devices, "
        f"{shape.interfaces} interfaces and {shape.addresses} addresses each, {shape.racks_per_site} racks per site"
    )
    print(
        f"loaded {result.total_rows:,} rows in {result.seconds:.1f} s ({result.total_rows / result.seconds:,.0f} rows/s) "
        "through the write path, one transaction per site"
    )
    print("  " + ", ".join(f"{table} {count:,}" for table, count in rows.items()))
    print(f"  {'write':45} {'objects':>8} {'s':>7} {'ms each':>8} {'SQL each':>9}")
    for name, phase in sorted(result.phases.items(), key=lambda item: -item[1].seconds):
        print(f"  {name:45} {phase.objects:8,} {phase.seconds:7.1f} {phase.seconds * 1000 / phase.objects:8.2f} {phase.statements / phase.objects:9.1f}")


async def run(database_url: str, redis_url: str, shape: Shape, repeats: int) -> None:
    from danbyte.app import create_app
    from danbyte.settings import Settings

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        result = await asyncio.get_running_loop().run_in_executor(pool, _load_in_child, database_url, shape, "dcim")
    report_load(shape, result)

    # The page ceiling, raised through its environment variable before the server reads it.
    configured = Settings().max_page_size
    longest = max(shape.devices, shape.devices * shape.addresses, shape.prefixes)
    if configured < longest:
        os.environ[PAGE_SIZE_VARIABLE] = str(longest)
    settings = Settings()
    raised = f"raised from {configured}" if settings.max_page_size != configured else "as configured"
    print(
        f"page ceiling: {PAGE_SIZE_VARIABLE}={settings.max_page_size} ({raised}) for the bench server: one request returns every device, prefix or address ({longest:,} rows at most), no pagination"
    )

    app = create_app(database_url, redis_url, settings)
    before = memory_mb()
    print(f"{'query':42} {'median ms':>10} {'p95 ms':>9} {'SQL':>5} {'SQL ms':>8} {'KB':>8} {'1 SQL ms':>9} {'ratio':>6}  path")
    for name, query in QUERIES.items():
        answered: list[dict[str, Any]] = []
        checks = checker(shape, query)

        def keep(data: dict[str, Any], checks: Any = checks, answered: list[dict[str, Any]] = answered) -> None:
            checks(data)
            answered.append(data)

        m = await measure(app, result.key, query, repeats, check=keep)
        floor, document = hand_written_ms(database_url, HAND_WRITTEN[name], result.tenant_id, repeats)
        same = "same" if json.loads(document)["data"] == answered[0] else "DIFFERENT"
        print(
            f"{name:42} {m.median_ms:10.1f} {m.p95_ms:9.1f} {m.statements:5d} {m.sql_ms:8.1f} {m.size_bytes / 1024:8.1f} {floor:9.1f}"
            f" {m.median_ms / floor:5.1f}x  {m.paths} ({same} document)"
        )
    print("(1 SQL ms: the same document from one hand-written statement, median, as the database owner; ratio: median / that)")
    first = next(iter(QUERIES))
    p95, errors = await concurrent_p95(app, result.key, QUERIES[first], CONCURRENT_CLIENTS, repeats)
    print(f"{CONCURRENT_CLIENTS} concurrent clients, {first}: p95 {p95:.1f} ms, {errors} errors")
    after = memory_mb()
    await app.state.danbyte.close()
    print(
        f"server RSS after {repeats + 1} runs of each query: {after['VmRSS']:.0f} MiB (peak {after['VmHWM']:.0f} MiB, "
        f"{before['VmRSS']:.0f} MiB before the first query); VmRSS/VmHWM of this process, which serves the ASGI app "
        "in-process with the benchmark client (the loader ran in a child process)"
    )
    await resolver_figures(database_url, redis_url, settings, result.key, max(1, repeats // 3))


async def resolver_figures(database_url: str, redis_url: str, settings: Any, key: str, repeats: int) -> None:
    """The same queries with the SQL compiler off (DANBYTE_COMPILE_READS=0): what the
    resolvers alone take, for comparison."""
    import dataclasses

    from danbyte.app import create_app

    app = create_app(database_url, redis_url, dataclasses.replace(settings, compile_reads=False))
    print(f"resolvers only (DANBYTE_COMPILE_READS=0), median of {repeats}:")
    for name, query in QUERIES.items():
        m = await measure(app, key, query, repeats)
        print(f"  {name:42} {m.median_ms:10.1f} ms, {m.statements} SQL statements")
    await app.state.danbyte.close()


def hand_written_ms(database_url: str, statement: str, tenant_id: uuid.UUID, repeats: int) -> tuple[float, str]:
    """Median milliseconds of one statement returning the whole JSON document as text, and
    the document."""
    engine = sa.create_engine(database_url)
    timings = []
    try:
        with engine.connect() as conn:
            document = conn.execute(sa.text(statement), {"tenant": tenant_id}).scalar_one()  # warm-up
            for _ in range(repeats):
                started = time.perf_counter()
                conn.execute(sa.text(statement), {"tenant": tenant_id}).scalar_one()
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        engine.dispose()
    return statistics.median(timings), document


async def concurrent_p95(app: Any, key: str, query: str, clients: int, repeats: int) -> tuple[float, int]:
    """p95 latency (ms) with ``clients`` clients asking at once, ``repeats`` times each, and
    how many answers were errors."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    timings: list[float] = []
    errors = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in range(repeats):
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": query}, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or response.json().get("errors"):
                errors += 1

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    timings.sort()
    return timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))], errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=Shape.sites)
    parser.add_argument("--devices-per-site", type=int, default=Shape.devices_per_site)
    parser.add_argument("--interfaces", type=int, default=Shape.interfaces, help="interface templates of the device type")
    parser.add_argument("--addresses", type=int, default=Shape.addresses, help="IPv4 addresses (and VLANs, /24 prefixes) per device / site")
    parser.add_argument("--racks-per-site", type=int, default=Shape.racks_per_site)
    parser.add_argument("--fabric-links", type=int, default=Shape.fabric_links, help="/30 prefixes per site (at most 1024)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per query, after one warm-up")
    args = parser.parse_args()
    shape = Shape(args.sites, args.devices_per_site, args.interfaces, args.addresses, args.racks_per_site, args.fabric_links)
    shape.check()
    with ExitStack() as stack:
        bench_url, redis_url = bench_database(stack, "danbyte_bench_dcim")
        asyncio.run(run(bench_url, redis_url, shape, args.repeats))


if __name__ == "__main__":
    main()
