"""The ``danbyte`` command: serve, worker, migrate, createsuperuser, token create, assign-numids,
devicetypes import."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from danbyte.logging_setup import configure_logging, uvicorn_log_config
from danbyte.settings import Settings, get_settings

logger = logging.getLogger("danbyte")


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs; SQLAlchemy needs the psycopg driver named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def backing_services(settings: Settings, *, own: bool, max_connections: int | None = None) -> Iterator[tuple[str, str, Any]]:
    """(database URL, Redis URL, embedded services or None).

    Configured URLs win. Otherwise the embedded servers under DANBYTE_HOME: started and
    owned by ``serve`` (``own=True``), or borrowed by a one-off command when a server
    is already running them. ``max_connections`` raises embedded PostgreSQL's limit
    (default 100) when ``serve`` starts it."""
    if settings.database_url and settings.redis_url:
        yield async_url(settings.database_url), settings.redis_url, None
        return
    from danbyte.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServices, running_owner

    settings.home.mkdir(parents=True, exist_ok=True)
    owner = running_owner(settings.home)
    if owner is not None and not own:
        database_url = settings.database_url or EmbeddedPostgres(settings.home).url()
        redis_url = settings.redis_url or EmbeddedRedis(settings.home).url()
        yield async_url(database_url), redis_url, None
        return
    services = EmbeddedServices(settings.home)
    if max_connections is not None:
        services.postgres.max_connections = max(services.postgres.max_connections, max_connections)
    database_url, redis_url = services.start()
    try:
        yield async_url(settings.database_url or database_url), settings.redis_url or redis_url, services
    finally:
        if not own:
            services.stop()


def _run_async(fn: Callable[..., Any], *args: Any) -> Any:
    return asyncio.run(fn(*args))


async def _with_system_conn(database_url: str, work: Callable[[Any], Any]) -> Any:
    from danbyte.database import Database

    db = Database(database_url, pool_size=1)
    try:
        async with db.system_transaction() as conn:
            return await work(conn)
    finally:
        await db.dispose()


def _write_admin_token(home: Path, key: str) -> Path:
    path = home / "admin-token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    return path


def serve_workers(requested: int | None, settings: Settings) -> int:
    """API processes for ``serve``: --workers, else DANBYTE_WORKERS; 0 means one per core."""
    workers = settings.workers if requested is None else requested
    if workers < 0:
        raise SystemExit(f"danbyte serve: --workers / DANBYTE_WORKERS must be 0 or more, not {workers}")
    return workers or os.cpu_count() or 1


def metrics_setup(settings: Settings, *, clean: bool) -> None:
    """Before anything records a metric: every process of this command (and the API
    workers it spawns, which inherit the environment) records into one directory."""
    from danbyte.metrics_storage import use_directory

    use_directory(settings.metrics_dir or settings.home / "metrics", clean=clean)


def start_metrics_port(settings: Settings) -> None:
    """DANBYTE_METRICS_PORT: /metrics on a port of its own in this process."""
    if settings.metrics_port is None:
        return
    from danbyte.metrics import serve_port

    serve_port(settings.host, settings.metrics_port, settings.metrics_token)
    logger.info("metrics on http://%s:%d/metrics", settings.host, settings.metrics_port)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    metrics_setup(settings, clean=True)
    from danbyte.bootstrap import first_start
    from danbyte.migrations import migrate
    from jobs.broker import configure, start_worker
    from jobs.monitoring import start_check_scheduler
    from jobs.scheduler import start_scheduler

    workers = serve_workers(args.workers, settings)
    # N processes each with their own pool, plus the supervisor's job worker and one-off commands.
    per_process = settings.db_pool_size + settings.db_max_overflow
    max_connections = per_process * workers + 40 if workers > 1 else None
    with backing_services(settings, own=True, max_connections=max_connections) as (database_url, redis_url, services):
        migrate(database_url)
        if settings.secret_key is None:
            # The key that seals secrets, made on first start (before any worker process
            # could race to make it) and kept with the embedded data.
            from resolvers.secrets import home_key

            home_key(settings.home)
        key = _run_async(_with_system_conn, database_url, first_start)
        if key is not None:
            path = _write_admin_token(settings.home, key)
            print(f"Created user 'admin'. API token (shown once, also in {path}):\n  {key}", flush=True)
        broker = configure(database_url, redis_url)
        worker = start_worker(broker) if not args.no_worker else None
        # The scheduler goes with the worker: every worker process runs one (jobs/scheduler.py).
        scheduler = start_scheduler(database_url, redis_url, broker) if not args.no_worker else None
        # So does the check scheduler (jobs/monitoring.py; DANBYTE_CHECK_SCHEDULER=0: not here).
        checks = start_check_scheduler(database_url, redis_url) if not args.no_worker else None

        def shutdown() -> None:
            if checks is not None:
                checks.stop()
            if scheduler is not None:
                scheduler.stop()
            if worker is not None:
                worker.stop()
            broker.close()
            if services is not None:
                services.stop()

        port = args.port or settings.port
        start_metrics_port(settings)
        if workers == 1:
            _serve_one(database_url, redis_url, settings, port, shutdown)
            return 0
        try:
            return _serve_many(database_url, redis_url, settings, port, workers)
        finally:
            # uvicorn's supervisor returns (it does not re-raise the signal) once every API
            # process has exited, so the services can go now, after their last client.
            shutdown()


def _serve_one(database_url: str, redis_url: str, settings: Settings, port: int, shutdown: Callable[[], None]) -> None:
    """One process: the app runs here. uvicorn re-raises SIGTERM after its graceful stop and
    skips ``finally`` blocks, so the services stop from the app's lifespan shutdown."""
    import uvicorn

    from danbyte.app import create_app

    app = create_app(database_url, redis_url, settings, on_shutdown=[shutdown])
    print(f"Danbyte serving on http://{settings.host}:{port}/graphql", flush=True)
    # No per-message deflate: it compresses every frame per connection, which the fan-out's
    # shared bytes avoid (docs/subscriptions.md).
    uvicorn.run(
        app,
        host=settings.host,
        port=port,
        log_level="info",
        log_config=uvicorn_log_config(settings.log_format),
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )


def _serve_many(database_url: str, redis_url: str, settings: Settings, port: int, workers: int) -> int:
    """``workers`` API processes under uvicorn's supervisor, which is this process.

    Each worker builds its app in ``danbyte.asgi`` from the URLs passed in the
    environment, with its own Redis subscription for events. Returns 0 after SIGINT /
    SIGTERM, 3 when the workers could not start (uvicorn's supervisor then gives up
    and returns as well)."""
    import signal

    import uvicorn

    from danbyte.asgi import ENV_NAMES, worker_environment

    os.environ.update(worker_environment(database_url, redis_url))
    # uvicorn's supervisor returns normally both after SIGINT / SIGTERM and when it gives
    # up on workers that fail to start; the signal wakeup fd (one byte per signal that
    # has a Python handler) tells the two apart.
    signals_r, signals_w = os.pipe()
    os.set_blocking(signals_r, False)
    os.set_blocking(signals_w, False)
    previous_wakeup = signal.set_wakeup_fd(signals_w, warn_on_full_buffer=False)
    print(f"Danbyte serving on http://{settings.host}:{port}/graphql ({workers} API processes)", flush=True)
    try:
        uvicorn.run(
            "danbyte.asgi:create_worker_app",
            factory=True,
            workers=workers,
            host=settings.host,
            port=port,
            log_level="info",
            log_config=uvicorn_log_config(settings.log_format),
            ws="websockets-sansio",
            ws_per_message_deflate=False,  # as in _serve_one
        )
        try:
            received = os.read(signals_r, 1024)
        except BlockingIOError:
            received = b""
    finally:
        signal.set_wakeup_fd(previous_wakeup)
        os.close(signals_r)
        os.close(signals_w)
        for name in ENV_NAMES:
            os.environ.pop(name, None)
    if signal.SIGINT in received or signal.SIGTERM in received:
        return 0
    logger.error("the API processes could not start; stopping")
    return 3


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    metrics_setup(settings, clean=False)  # the serve on this machine (if any) cleaned it
    import signal
    import threading

    from jobs.broker import configure, start_worker
    from jobs.monitoring import start_check_scheduler
    from jobs.scheduler import start_scheduler

    with backing_services(settings, own=False) as (database_url, redis_url, _):
        start_metrics_port(settings)
        broker = configure(database_url, redis_url)
        worker = start_worker(broker, threads=args.threads)
        scheduler = None if args.no_scheduler else start_scheduler(database_url, redis_url, broker)
        checks = None if args.no_checks else start_check_scheduler(database_url, redis_url)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        print("worker running; Ctrl-C stops it", flush=True)
        stop.wait()
        if checks is not None:
            checks.stop()
        if scheduler is not None:
            scheduler.stop()
        worker.stop()
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from danbyte.migrations import migrate

    if settings.database_url:
        # An external database needs no Redis to migrate (one-off step before a rolling
        # deploy, docs/scaling.md); the advisory lock makes it safe beside starting servers.
        migrate(async_url(settings.database_url))
    else:
        with backing_services(settings, own=False) as (database_url, _, _):
            migrate(database_url)
    print("database is at the latest migration")
    return 0


async def _create_superuser(conn: Any, username: str, password: str, email: str, org_slug: str) -> str:
    from danbyte.bootstrap import create_admin, create_organization
    from models.tenancy import Organization

    org_table = Organization.__table__
    org = (await conn.execute(sa.select(org_table).where(org_table.c.slug == org_slug))).one_or_none()
    if org is None:
        org = await create_organization(conn, org_slug, org_slug)
    user = await create_admin(conn, org.id, username, password, email)
    return str(user.id)


def cmd_createsuperuser(args: argparse.Namespace, settings: Settings) -> int:
    password = args.password or os.environ.get("DANBYTE_SUPERUSER_PASSWORD")
    if password is None:
        password = getpass.getpass("Password: ")
    with backing_services(settings, own=False) as (database_url, _, _):
        _run_async(
            _with_system_conn,
            database_url,
            lambda conn: _create_superuser(conn, args.username, password, args.email, args.organization),
        )
    print(f"created administrator {args.username}")
    return 0


async def _token_for(conn: Any, username: str, write: bool, expires: datetime | None, tenants: list[str]) -> str:
    from models.auth import User
    from models.tenancy import Tenant
    from permissions.tokens import create_token

    user_table, tenant_table = User.__table__, Tenant.__table__
    user = (await conn.execute(sa.select(user_table).where(user_table.c.username == username))).one_or_none()
    if user is None:
        raise SystemExit(f"no user named {username!r}")
    tenant_ids = []
    for slug in tenants:
        tenant_id = (
            await conn.execute(sa.select(tenant_table.c.id).where(tenant_table.c.org_id == user.org_id, tenant_table.c.slug == slug))
        ).scalar_one_or_none()
        if tenant_id is None:
            raise SystemExit(f"no tenant with slug {slug!r} in the user's organisation")
        tenant_ids.append(tenant_id)
    _, key = await create_token(conn, user.id, tenant_ids=tenant_ids, write_enabled=write, expires=expires)
    return key


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    expires = datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
    with backing_services(settings, own=False) as (database_url, _, _):
        key = _run_async(
            _with_system_conn,
            database_url,
            lambda conn: _token_for(conn, args.user, not args.read_only, expires, args.tenant or []),
        )
    print(key)
    return 0


def cmd_assign_numids(args: argparse.Namespace, settings: Settings) -> int:
    from models.numid import assign_missing_numids

    with backing_services(settings, own=False) as (database_url, _, _):
        count = _run_async(_with_system_conn, database_url, assign_missing_numids)
    print(f"numbered {count} rows")
    return 0


def cmd_devicetypes_import(args: argparse.Namespace, settings: Settings) -> int:
    from netbox_import.devicetypes import run

    with backing_services(settings, own=False) as (database_url, redis_url, _):
        return _run_async(run, database_url, redis_url, args.paths, args.tenant, args.organization, settings)


def cmd_netbox_import(args: argparse.Namespace, settings: Settings) -> int:
    from netbox_import.command import main, request_from

    if (args.source is None) == (args.url is None):
        print("danbyte netbox import: give an export file, or --url and --token of a NetBox", file=sys.stderr)
        return 2
    if args.url is not None and not args.token:
        print("danbyte netbox import: --url needs --token", file=sys.stderr)
        return 2
    with backing_services(settings, own=False) as (database_url, _, _):
        return _run_async(main, database_url, request_from(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="danbyte", description="Danbyte network source of truth")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and, with no URLs configured, embedded PostgreSQL and Redis)")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--no-worker", action="store_true", help="do not run a job worker in this process")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="API processes (default: DANBYTE_WORKERS, else one per core; 0 means one per core)",
    )
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run background job workers")
    worker.add_argument("--threads", type=int, default=4)
    worker.add_argument("--no-scheduler", action="store_true", help="do not run the job scheduler and reaper in this process")
    worker.add_argument("--no-checks", action="store_true", help="do not run monitoring checks in this process (also DANBYTE_CHECK_SCHEDULER=0)")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    superuser = sub.add_parser("createsuperuser", help="create an administrator")
    superuser.add_argument("--username", required=True)
    superuser.add_argument("--password", help="or DANBYTE_SUPERUSER_PASSWORD, else prompted")
    superuser.add_argument("--email", default="")
    superuser.add_argument("--organization", default="default", help="organisation slug (created if missing)")
    superuser.set_defaults(func=cmd_createsuperuser)
    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    token_create = token_sub.add_parser("create", help="create a token and print its key once")
    token_create.add_argument("--user", required=True, help="username")
    token_create.add_argument("--read-only", action="store_true")
    token_create.add_argument("--expires-days", type=int, default=None)
    token_create.add_argument("--tenant", action="append", help="restrict to this tenant slug (repeatable)")
    token_create.set_defaults(func=cmd_token_create)
    sub.add_parser("assign-numids", help="number rows that have no numid yet").set_defaults(func=cmd_assign_numids)
    devicetypes = sub.add_parser("devicetypes", help="the community device-type library")
    devicetypes_sub = devicetypes.add_subparsers(dest="devicetypes_command", required=True)
    devicetypes_import = devicetypes_sub.add_parser("import", help="import device and module types from library YAML files or folders")
    devicetypes_import.add_argument("paths", nargs="+", metavar="PATH", help="a YAML file, or a folder walked for .yaml / .yml")
    devicetypes_import.add_argument("--tenant", required=True, help="tenant slug the types go into")
    devicetypes_import.add_argument("--organization", default=None, help="organisation slug, when the tenant slug is in several")
    devicetypes_import.set_defaults(func=cmd_devicetypes_import)
    netbox = sub.add_parser("netbox", help="NetBox: import an export or a live NetBox")
    netbox_sub = netbox.add_subparsers(dest="netbox_command", required=True)
    netbox_import = netbox_sub.add_parser("import", help="import a NetBox 3.6–4.6 dumpdata export (plain or gzipped), or a live NetBox")
    netbox_import.add_argument("source", nargs="?", metavar="SOURCE", help="a `manage.py dumpdata` JSON file (.json or .json.gz)")
    netbox_import.add_argument("--url", help="a live NetBox's address (read through its REST API)")
    netbox_import.add_argument("--token", help="the NetBox API token (with --url)")
    netbox_import.add_argument("--organization", default="default", help="organisation slug the import goes into (default: default)")
    netbox_import.add_argument("--default-tenant", default="default", help="tenant slug for objects with no tenant and no parent (created if missing)")
    netbox_import.add_argument("--name", default="netbox", help="names this NetBox: ids derive from it, so re-imports of its exports update the same objects")
    netbox_import.add_argument("--dry-run", action="store_true", help="report what the import would do, writing nothing")
    netbox_import.add_argument("--summary", metavar="FILE", help="also write the summary as JSON to FILE")
    netbox_import.add_argument("--media", metavar="DIR", help="NetBox's media directory (MEDIA_ROOT): image attachments' files are read from it")
    netbox_import.set_defaults(func=cmd_netbox_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(settings.log_format)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, settings)
    except Exception as error:  # one clear line for the operator, not a traceback
        from danbyte.migrations import UnsupportedServer

        if isinstance(error, UnsupportedServer):
            print(f"danbyte: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
