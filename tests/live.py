"""Real server processes for tests that cross process boundaries (`danbyte serve`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def danbyte_serve(home: Path, env: dict[str, str], *args: str, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `danbyte serve` until the block ends; yield (base URL, process)."""
    port = free_port()
    log = open(home / f"serve-{port}.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "danbyte.cli", "serve", "--port", str(port), *args],
        # One API process unless a test asks for more: fast to start on any machine.
        env={**os.environ, "DANBYTE_HOME": str(home), "DANBYTE_WORKERS": "1", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"danbyte serve exited {process.returncode}:\n{(home / f'serve-{port}.log').read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError((home / f"serve-{port}.log").read_text())
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def server_log(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(home.glob("serve-*.log")))
