"""The app of one API worker process of ``danbyte serve --workers N`` (N > 1).

The supervisor (``cmd_serve``) has already started the embedded services, migrated
and created the admin token; it runs ``uvicorn.run("danbyte.asgi:create_worker_app",
factory=True, workers=N)``, and uvicorn spawns N fresh interpreters that each call
:func:`create_worker_app`. The factory only builds the app from the URLs the
supervisor put in the environment: it starts no embedded services, runs no
migrations and no job worker, and stops nothing on shutdown but its own connections.

A worker whose supervisor disappears (``kill -9``) stops itself, so orphaned workers
never keep the listening socket, and with it the port, from the next start.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

ENV_DATABASE_URL = "DANBYTE_SERVE_DATABASE_URL"
ENV_REDIS_URL = "DANBYTE_SERVE_REDIS_URL"
ENV_SUPERVISOR_PID = "DANBYTE_SERVE_SUPERVISOR_PID"
ENV_NAMES = (ENV_DATABASE_URL, ENV_REDIS_URL, ENV_SUPERVISOR_PID)

STARTUP_FAILURE = 3  # uvicorn.config.STARTUP_FAILURE: the supervisor stops instead of respawning
ORPHAN_GRACE = 10.0  # seconds an orphaned worker gets for a graceful stop before it exits hard
_PR_SET_PDEATHSIG = 1

logger = logging.getLogger("danbyte.asgi")


def worker_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """What the supervisor puts in ``os.environ`` before uvicorn spawns the workers."""
    return {ENV_DATABASE_URL: database_url, ENV_REDIS_URL: redis_url, ENV_SUPERVISOR_PID: str(os.getpid())}


def create_worker_app() -> Any:
    """uvicorn's factory in each API worker."""
    from danbyte.logging_setup import configure_logging
    from danbyte.settings import get_settings

    configure_logging(get_settings().log_format)
    try:
        database_url = os.environ[ENV_DATABASE_URL]
        redis_url = os.environ[ENV_REDIS_URL]
        supervisor = int(os.environ[ENV_SUPERVISOR_PID])
        exit_with_supervisor(supervisor)

        from danbyte.app import create_app
        from danbyte.settings import get_settings
        from jobs.broker import configure

        broker = configure(database_url, redis_url)  # so the API can enqueue; the supervisor consumes
        return create_app(database_url, redis_url, get_settings(), on_shutdown=[broker.close])
    except Exception:
        # uvicorn would respawn a worker that dies with any other code, forever.
        logger.exception("API worker %d could not start", os.getpid())
        sys.exit(STARTUP_FAILURE)


def exit_with_supervisor(supervisor: int) -> None:
    """Stop this process (SIGTERM: uvicorn's graceful stop) once ``supervisor`` is gone.

    On Linux the kernel sends the signal the moment the supervisor dies
    (PR_SET_PDEATHSIG; uvicorn spawns every worker from the supervisor's main thread, so
    the signal is not sent early when some other thread ends). A thread watching
    ``getppid()`` covers other systems, the window before prctl, and a graceful stop
    that hangs."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_supervisor, args=(supervisor,), name="danbyte-supervisor-watch", daemon=True).start()


def _watch_supervisor(supervisor: int) -> None:
    while os.getppid() == supervisor:
        time.sleep(0.5)
    logger.warning("supervisor %d is gone; API worker %d stops", supervisor, os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_GRACE)
    logger.warning("API worker %d did not stop within %.0f s; exiting", os.getpid(), ORPHAN_GRACE)
    os._exit(1)
