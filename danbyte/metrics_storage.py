"""Where prometheus-client keeps this process's figures (danbyte/metrics.py): chosen before
the metrics exist, so this module creates none."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psutil

ENV_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


def use_directory(path: Path, *, clean: bool = False) -> Path:
    """Record into ``path`` (multiprocess mode) in this process and every child it starts.
    ``clean``: first remove the files of processes that are gone (a fresh start)."""
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV_DIRECTORY] = str(path)
    if clean:
        for file in path.glob("*.db"):
            pid = file.stem.rsplit("_", 1)[-1]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                with contextlib.suppress(OSError):
                    file.unlink()
    # Imported earlier (a plugin), prometheus-client would keep its in-memory values.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    return path


def multiprocess_directory() -> str | None:
    return os.environ.get(ENV_DIRECTORY) or None
