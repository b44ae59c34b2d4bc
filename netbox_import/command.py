"""``danbyte netbox import SOURCE``: the command around the importer.

SOURCE is a ``manage.py dumpdata`` file (plain or gzipped), or ``--url`` and ``--token``
of a live NetBox. The tenant policy is printed first; progress goes to stderr (a bar per
model on a terminal, a line per model otherwise), the summary to stdout, and as JSON to
``--summary FILE``. Each page of rows is committed as it is written, so a killed import
run again picks up where it stopped; ``--dry-run`` does everything in one transaction and
rolls it back. An export that cannot be read stops the import before any row is written.

Exit codes: 0 done, 1 records were dropped (the summary says why), 2 the export or the
NetBox cannot be read, or the organisation is unknown.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from models.base import table_of
from models.tenancy import Organization
from netbox_import.dumpdata import ExportError, Record, read_export
from netbox_import.importer import Options, import_records
from netbox_import.placement import POLICY


@dataclass
class Request:
    source: str | None  # a file, or None with url
    url: str | None = None
    token: str | None = None
    organization: str = "default"
    name: str = "netbox"  # the NetBox's name: ids derive from it
    default_tenant: str = "default"
    dry_run: bool = False
    summary: str | None = None  # where the JSON summary goes
    media: str | None = None  # NetBox's media directory (image attachments' files)
    page: int = 2000


class Bars:
    """Progress on stderr: a redrawn bar per model on a terminal, a line per model otherwise."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.live = err.isatty()
        self.last = 0.0

    def __call__(self, label: str, done: int, total: int | None) -> None:
        finished = total is not None and done >= total
        if self.live:
            now = time.monotonic()
            if not finished and now - self.last < 0.1:
                return
            self.last = now
            if total:
                filled = int(30 * done / total)
                line = f"\r{label:<34} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
            else:
                line = f"\r{label:<34} {done}"
            self.err.write(line + ("\n" if finished else ""))
            self.err.flush()
        elif finished:
            print(f"{label}: {done}", file=self.err, flush=True)


def records_of(request: Request, err: TextIO) -> Iterable[Record]:
    if request.url:
        from netbox_import.rest import SKIPPED, read_api

        def said(what: str, count: int) -> None:
            if count == SKIPPED:
                print(f"note: {what}", file=err, flush=True)

        return read_api(request.url, request.token or "", progress=said)
    assert request.source is not None
    return read_export(request.source)


async def run_import(conn: AsyncConnection, request: Request, out: TextIO, err: TextIO) -> int:
    organizations = table_of(Organization)
    org_id = (await conn.execute(sa.select(organizations.c.id).where(organizations.c.slug == request.organization))).scalar_one_or_none()
    if org_id is None:
        print(f"danbyte netbox import: no organisation '{request.organization}' (create it with `danbyte createsuperuser --organization`)", file=err)
        return 2
    await conn.commit()
    print(f"Tenant policy (default tenant: {request.default_tenant}):\n{POLICY}\n", file=err, flush=True)

    async def checkpoint() -> None:
        if not request.dry_run:
            await conn.commit()

    options = Options(
        org_id, source=request.name, default_tenant=request.default_tenant, page=request.page, media=Path(request.media) if request.media else None
    )
    try:
        summary = await import_records(conn, records_of(request, err), options, checkpoint=checkpoint, progress=Bars(err), dry_run=request.dry_run)
    except ExportError as error:
        await conn.rollback()
        print(f"danbyte netbox import: {error}", file=err)
        return 2
    if request.dry_run:
        await conn.rollback()
    else:
        await conn.commit()
    print(summary.text(), file=out)
    if request.summary:
        summary.write_json(request.summary)
    return 1 if summary.dropped else 0


async def main(database_url: str, request: Request, out: TextIO | None = None, err: TextIO | None = None) -> int:
    engine = create_async_engine(database_url, pool_size=1, native_inet_types=False)
    try:
        async with engine.connect() as conn:
            return await run_import(conn, request, out or sys.stdout, err or sys.stderr)
    finally:
        await engine.dispose()


def request_from(args: Any) -> Request:
    return Request(
        source=args.source,
        url=args.url,
        token=args.token,
        organization=args.organization,
        name=args.name,
        default_tenant=args.default_tenant,
        dry_run=args.dry_run,
        summary=args.summary,
        media=args.media,
    )
