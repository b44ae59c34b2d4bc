"""dramatiq on Redis: one broker for the API process (enqueue) and workers (consume).

Actors are declared at import time against whatever broker is current, so
``configure()`` must run before ``jobs.actors`` is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker


@dataclass
class JobSettings:
    database_url: str
    redis_url: str


_settings: JobSettings | None = None


def configure(database_url: str, redis_url: str) -> RedisBroker:
    global _settings
    _settings = JobSettings(database_url, redis_url)
    broker = RedisBroker(url=redis_url, namespace="danbyte")
    dramatiq.set_broker(broker)
    return broker


def job_settings() -> JobSettings:
    if _settings is None:
        raise RuntimeError("jobs.broker.configure() was not called")
    return _settings


def start_worker(broker: RedisBroker, threads: int = 2) -> dramatiq.Worker:
    """A worker inside this process (``danbyte serve`` runs one)."""
    import jobs.actors  # noqa: F401  (registers the actors on the broker)

    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=200)
    worker.start()
    return worker
