"""Embedded PostgreSQL/Redis lifecycle, with real server processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

from danbyte.embedded import EmbeddedServices


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # PID 1 may not reap
    except psutil.NoSuchProcess:
        return False


def _server_pids(home: Path) -> tuple[int, int]:
    postmaster = int((home / "postgres" / "postmaster.pid").read_text().split()[0])
    redis_server = int((home / "redis" / "redis.pid").read_text().split()[0])
    return postmaster, redis_server


def _check_working(services: EmbeddedServices, redis_url: str) -> None:
    host = str(services.postgres.socket_dir)
    with psycopg.connect(host=host, user="postgres", dbname="postgres") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping()
    finally:
        client.close()


@pytest.fixture
def base() -> Iterator[Path]:
    # Not tmp_path: as root, postgres runs as an unprivileged user that must traverse
    # every parent dir, and each pytest session chmods /tmp/pytest-of-<user> back to
    # 0700, which breaks a concurrent run's servers.
    base = Path(tempfile.mkdtemp(prefix="danbyte-embedded-test-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def long_home(base: Path) -> Iterator[Path]:
    # Long enough that neither socket fits in sun_path inside home.
    home = base / ("home-" + "x" * 80)
    yield home
    EmbeddedServices(home).stop()


def test_start_is_idempotent_and_stop_stops(long_home: Path) -> None:
    services = EmbeddedServices(long_home, fast=True)
    database_url, redis_url = services.start()

    socket_dir = services.postgres.socket_dir
    assert socket_dir.parent == Path("/tmp") and socket_dir.name.startswith("danbyte-")
    assert database_url == f"postgresql+psycopg://postgres@/postgres?host={socket_dir}"
    assert redis_url == f"unix://{socket_dir}/redis.sock?db=0"
    assert (long_home / "owner.pid").read_text().split()[0] == str(os.getpid())
    _check_working(services, redis_url)

    pids = _server_pids(long_home)
    assert services.start() == (database_url, redis_url)
    assert _server_pids(long_home) == pids

    services.stop()
    assert not any(_alive(pid) for pid in pids)
    assert not (long_home / "owner.pid").exists()
    assert not socket_dir.exists()
    services.stop()  # stopping again is a no-op

    # A restart reuses the data dir (no second initdb) and works.
    assert services.start() == (database_url, redis_url)
    _check_working(services, redis_url)


CHILD = """
import sys, time
from pathlib import Path
from danbyte.embedded import EmbeddedServices
print(*EmbeddedServices(Path(sys.argv[1]), fast=True).start(), flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_orphans_of_a_killed_owner_are_replaced(base: Path) -> None:
    home = base / "home"
    services = EmbeddedServices(home, fast=True)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert len(line) == 2, "child failed to start the services"
        orphans = _server_pids(home)

        # While the owner lives, others may neither take over nor stop its servers.
        with pytest.raises(RuntimeError, match=f"another danbyte process \\(pid {child.pid}\\) owns"):
            services.start()
        services.stop()
        assert all(_alive(pid) for pid in orphans)

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert all(_alive(pid) for pid in orphans)  # servers outlive their owner

        database_url, redis_url = services.start()
        assert [database_url, redis_url] == line
        assert not any(_alive(pid) for pid in orphans)
        assert (home / "owner.pid").read_text().split()[0] == str(os.getpid())
        _check_working(services, redis_url)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        services.stop()
