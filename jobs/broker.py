"""dramatiq on Redis: one broker for the API process (enqueue) and workers (consume).

dramatiq binds an actor to the broker current when its module is imported;
``configure()`` rebinds every actor in ``jobs.actors.ACTORS`` to the Redis broker, so
import order does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage


@dataclass
class JobSettings:
    database_url: str
    redis_url: str


_settings: JobSettings | None = None


NAMESPACE = "danbyte"


def configure(database_url: str, redis_url: str) -> RedisBroker:
    global _settings
    from danbyte.settings import get_settings

    _settings = JobSettings(database_url, redis_url)
    settings = get_settings()
    # A killed worker's messages come back after heartbeat_timeout, found by the
    # maintenance some command runs (maintenance_chance per million); the job table's
    # reaper (jobs/scheduler.py) is the guarantee behind it.
    broker = RedisBroker(
        url=redis_url,
        namespace=NAMESPACE,
        heartbeat_timeout=settings.job_heartbeat_ms,
        maintenance_chance=settings.job_maintenance_chance,
    )
    # Actors that count their attempts read their message (a webhook delivery's log).
    broker.add_middleware(CurrentMessage())
    dramatiq.set_broker(broker)
    from jobs.actors import ACTORS

    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)
    return broker


PRODUCER_PREFIX = "producer-"


def producer(redis_url: str) -> RedisBroker:
    """A broker that only sends messages, for a process that enqueues jobs without
    running them or configuring the process-wide broker (the API's event bus). Redis is
    reached on the first message."""
    broker = RedisBroker(url=redis_url, namespace=NAMESPACE)
    # Enqueueing records a heartbeat under the broker's id, as consuming does: the prefix
    # tells a producer's apart (a producer holds no messages to recover if it dies).
    broker.broker_id = f"{PRODUCER_PREFIX}{broker.broker_id}"
    from jobs.actors import ACTORS

    for actor in ACTORS:
        broker.declare_actor(actor)
    return broker


def job_settings() -> JobSettings:
    if _settings is None:
        raise RuntimeError("jobs.broker.configure() was not called")
    return _settings


def start_worker(broker: RedisBroker, threads: int = 2) -> dramatiq.Worker:
    """A worker inside this process (``danbyte serve`` runs one)."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=200)
    worker.start()
    return worker
