"""How fast a NetBox export lands: the demo export and a generated one of NetBox's shape.

For each export it runs ``danbyte netbox import`` twice into a fresh organisation (the
second run finds everything unchanged) and prints objects read per second, the rows
written, and the peak memory of the process, which should not grow with the export.

    python -m benchmarks.netbox_import [--objects 100000] [--skip-demo]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.common import bench_database
from benchmarks.netbox_export import write_export

DEMO = Path(__file__).resolve().parents[2] / "shared" / "data" / "netbox" / "netbox-v4.2-demo.dumpdata.json"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def import_once(database_url: str, organization: str, path: Path) -> tuple[float, int, int, int]:
    """(seconds, objects read, rows created, rows unchanged) of one import."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from danbyte.bootstrap import create_organization
    from netbox_import.command import Request, main

    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        from sqlalchemy import text

        exists = (await conn.execute(text("SELECT 1 FROM organization WHERE slug = :s"), {"s": organization})).first()
        if exists is None:
            await create_organization(conn, organization, organization)
    await engine.dispose()
    out, err = io.StringIO(), io.StringIO()
    summary_file = Path(tempfile.mkdtemp()) / "summary.json"
    started = time.perf_counter()
    code = await main(database_url, Request(str(path), organization=organization, summary=str(summary_file)), out, err)
    seconds = time.perf_counter() - started
    if code != 0:
        print(out.getvalue()[-3000:], err.getvalue()[-3000:], file=sys.stderr)
    import json

    summary = json.loads(summary_file.read_text())
    created = sum(m["created"] for m in summary["models"])
    unchanged = sum(m["unchanged"] for m in summary["models"])
    return seconds, summary["objects_read"], created, unchanged


def report(name: str, database_url: str, path: Path) -> None:
    for attempt in ("first run", "second run"):
        seconds, read, created, unchanged = asyncio.run(import_once(database_url, f"bench-{name}", path))
        print(
            f"{name:<22} {attempt:<11} {read:>8} objects in {seconds:6.1f} s = {read / seconds:>7,.0f} objects/s;"
            f" rows created {created}, unchanged {unchanged}; peak memory {peak_mb():.0f} MB",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000, help="size of the generated export")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url, _ = bench_database(stack, "danbyte_bench_netbox")
        if not args.skip_demo:
            report("demo (NetBox 4.2)", database_url, DEMO)
        generated = Path(tempfile.mkdtemp()) / "generated.json.gz"
        counts = write_export(str(generated), objects=args.objects, gzip=True)
        report(f"generated {sum(counts.values()):,}", database_url, generated)


if __name__ == "__main__":
    main()
