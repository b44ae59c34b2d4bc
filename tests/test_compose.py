"""compose.yaml cannot drift from the code: its services run real `danbyte` commands, every
DANBYTE_* variable it sets is a setting the code reads, and PostgreSQL's max_connections
covers the pools it configures (docs/scaling.md)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from danbyte.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]


def known_settings() -> set[str]:
    """Every DANBYTE_ variable the code reads (settings, CLI, embedded services)."""
    names: set[str] = set()
    for path in [*(ROOT / "danbyte").glob("*.py"), *(ROOT / "jobs").glob("*.py")]:
        names |= set(re.findall(r'"(DANBYTE_[A-Z0-9_]+)"', path.read_text()))
    return names


def env(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[service].get("environment", {}).items()}


def test_services_and_their_commands() -> None:
    assert set(SERVICES) >= {"postgres", "redis", "migrate", "api", "worker"}
    for name in ("migrate", "api", "worker"):
        command = SERVICES[name]["command"]
        assert command[0] == "danbyte"
        args = build_parser().parse_args(command[1:])  # exits (fails) on an unknown option
        assert args.command == command[1]
    assert build_parser().parse_args(SERVICES["api"]["command"][1:]).no_worker
    for name in ("postgres", "redis", "api"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert (ROOT / "Dockerfile").exists() and "build" in SERVICES["api"]


def test_environment_names_are_settings() -> None:
    known = known_settings()
    for name in ("migrate", "api", "worker"):
        names = set(env(name))
        assert {"DANBYTE_DATABASE_URL", "DANBYTE_REDIS_URL", "DANBYTE_SECRET_KEY"} <= names, name
        assert names <= known, names - known
    assert env("api")["DANBYTE_HOST"] == "0.0.0.0"


def test_urls_point_at_the_services() -> None:
    from sqlalchemy.engine import make_url

    pg = SERVICES["postgres"]["environment"]
    url = make_url(env("api")["DANBYTE_DATABASE_URL"])
    assert (url.host, url.port, url.username, url.password, url.database) == ("postgres", 5432, pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    assert env("api")["DANBYTE_REDIS_URL"].startswith("redis://redis:6379")


def test_max_connections_covers_the_pools() -> None:
    command = SERVICES["postgres"]["command"]
    max_connections = int(next(c.split("=")[1] for c in command if c.startswith("max_connections=")))
    api = env("api")
    per_api = int(api["DANBYTE_WORKERS"]) * (int(api["DANBYTE_DB_POOL_SIZE"]) + int(api["DANBYTE_DB_MAX_OVERFLOW"]))
    worker_threads = int(SERVICES["worker"]["command"][SERVICES["worker"]["command"].index("--threads") + 1])
    needed = SERVICES["api"]["deploy"]["replicas"] * per_api + SERVICES["worker"]["deploy"]["replicas"] * (worker_threads + 16) + 10
    assert needed <= max_connections, (needed, max_connections)
