"""`danbyte serve` on the embedded default, end to end: first start, token file, clean stop,
recovery after kill -9, and the one-off commands."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from live import alive, danbyte_serve, wait_dead

# Nothing configured: embedded services, and a secrets key generated into the home.
NO_URLS = {"DANBYTE_DATABASE_URL": "", "DANBYTE_REDIS_URL": "", "DANBYTE_SECRET_KEY": ""}


def server_pids(home: Path) -> dict[str, int]:
    return {
        "postgres": int((home / "postgres" / "postmaster.pid").read_text().split()[0]),
        "redis": int((home / "redis" / "redis.pid").read_text().split()[0]),
    }


def me(base: str, key: str) -> dict:
    response = httpx.post(f"{base}/graphql", json={"query": "{ me { username is_admin } tenant_list { name } }"}, headers={"Authorization": f"Bearer {key}"})
    return response.json()["data"]


def cli(home: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "danbyte.cli", *args],
        env={**os.environ, "DANBYTE_HOME": str(home), **NO_URLS},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def home():
    # Short path: unix socket paths are limited to ~100 bytes.
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="dbt-home-"))
    yield path
    for pid_file in (path / "postgres" / "postmaster.pid", path / "redis" / "redis.pid"):
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# One process (the app and the embedded services in uvicorn's process) and several
# (uvicorn's supervisor owns them; tests/test_serve_workers.py has more on that path).
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_embedded_services_lifecycle(home, workers):
    with danbyte_serve(home, NO_URLS, "--workers", workers, timeout=120) as (base, process):
        token_file = home / "admin-token"
        key = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        secrets_key = (home / "secret-key").read_text()
        assert stat.S_IMODE((home / "secret-key").stat().st_mode) == 0o600 and len(secrets_key) >= 48
        assert me(base, key) == {"me": {"username": "admin", "is_admin": True}, "tenant_list": [{"name": "Default"}]}
        pids = server_pids(home)
        assert all(alive(p) for p in pids.values())
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    # SIGTERM stopped everything serve started.
    assert wait_dead(list(pids.values())), pids
    log = "\n".join(p.read_text() for p in home.glob("serve-*.log"))
    assert log.count("API token (shown once") == 1

    # A second start reuses the data and prints no new token.
    with danbyte_serve(home, NO_URLS, "--workers", workers, timeout=120) as (base, process):
        assert me(base, key)["me"]["username"] == "admin"
        assert (home / "secret-key").read_text() == secrets_key  # made once, kept
        orphans = server_pids(home)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    # kill -9 leaves the servers running as orphans ...
    assert all(alive(p) for p in orphans.values())
    # ... and the next start finds and stops them, then comes up.
    with danbyte_serve(home, NO_URLS, "--workers", workers, timeout=120) as (base, process):
        assert wait_dead(list(orphans.values()))
        assert me(base, key)["me"]["username"] == "admin"
        # One-off commands borrow the running servers.
        cli(home, "createsuperuser", "--username", "second", "--password", "pw")
        new_key = cli(home, "token", "create", "--user", "second", "--read-only").strip()
        assert me(base, new_key)["me"] == {"username": "second", "is_admin": True}
        error = httpx.post(
            f"{base}/graphql",
            json={"query": 'mutation { vrf_create(input: {name: "x"}) { id } }'},
            headers={"Authorization": f"Token {new_key}"},
        ).json()["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "numbered 0 rows" in cli(home, "assign-numids")
        assert "latest migration" in cli(home, "migrate")
        pids = server_pids(home)
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert wait_dead(list(pids.values()))


def test_old_postgresql_is_refused():
    from danbyte.migrations import UnsupportedServer, require_version

    require_version(150000)
    with pytest.raises(UnsupportedServer, match="PostgreSQL 14 is too old"):
        require_version(140011)
