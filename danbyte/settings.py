"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024


def base64_length(size: int) -> int:
    """Characters of ``size`` bytes in base64 (4 for every 3, padded)."""
    return 4 * -(-size // 3)


def _default_body_bytes() -> int:
    # At least 1 MiB, and room for the largest image an upload may carry (in base64) with
    # the rest of the request around it.
    return max(1_048_576, base64_length(_env_int("DANBYTE_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)) + 65_536)


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(os.environ.get("DANBYTE_HOME", "~/.local/share/danbyte")).expanduser())
    database_url: str | None = field(default_factory=lambda: os.environ.get("DANBYTE_DATABASE_URL") or None)
    redis_url: str | None = field(default_factory=lambda: os.environ.get("DANBYTE_REDIS_URL") or None)
    secret_key: str | None = field(default_factory=lambda: os.environ.get("DANBYTE_SECRET_KEY") or None)
    host: str = field(default_factory=lambda: os.environ.get("DANBYTE_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _env_int("DANBYTE_PORT", 8000))
    # Largest page a list query may ask for; a list without pagination gets this many rows.
    max_page_size: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_PAGE_SIZE", 1000))
    max_query_depth: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_QUERY_DEPTH", 10))
    max_aliases: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_ALIASES", 30))
    max_tokens: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_TOKENS", 5000))
    # Most objects one nested list answers per parent (a container prefix's addresses).
    max_nested_list: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_NESTED_LIST", 1000))
    # Distinct query texts kept parsed and validated, and persisted queries kept by hash.
    document_cache_size: int = field(default_factory=lambda: _env_int("DANBYTE_DOCUMENT_CACHE_SIZE", 1000))
    # Answer generated root fields of queries from one compiled SQL statement each
    # (schema/compiled.py); off: every field through the resolvers.
    compile_reads: bool = field(default_factory=lambda: os.environ.get("DANBYTE_COMPILE_READS", "1") != "0")
    # Also answer each compiled field through the resolvers and fail on any difference
    # (the test suite runs with it on; it doubles the work of every read).
    compiler_shadow: bool = field(default_factory=lambda: os.environ.get("DANBYTE_COMPILER_SHADOW", "0") == "1")
    # Largest request body accepted on POST /graphql (HTTP 413 beyond it); by default large
    # enough for an image upload of max_image_bytes.
    max_body_bytes: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_BODY_BYTES", _default_body_bytes()))
    # Largest image an image attachment may hold (its decoded bytes).
    max_image_bytes: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES))
    # How deep AND/OR/NOT and related-object filters may nest, and how many values one
    # list (``in_list``, a mutation's ``tags`` or many-to-many ids) may carry.
    max_filter_depth: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_FILTER_DEPTH", 16))
    max_list_values: int = field(default_factory=lambda: _env_int("DANBYTE_MAX_LIST_VALUES", 10_000))
    # Database connections one API process keeps open, and how many more it may open
    # under load: N processes need N × (pool + overflow) from the server.
    db_pool_size: int = field(default_factory=lambda: _env_int("DANBYTE_DB_POOL_SIZE", 10))
    db_max_overflow: int = field(default_factory=lambda: _env_int("DANBYTE_DB_MAX_OVERFLOW", 20))
    # API processes `danbyte serve` starts (0: one per core).
    workers: int = field(default_factory=lambda: _env_int("DANBYTE_WORKERS", 0))
    # Webhook deliveries: retries after a connection error, timeout or 5xx answer, the wait
    # before the first retry (doubled each time), and each request's timeout in seconds.
    webhook_retries: int = field(default_factory=lambda: _env_int("DANBYTE_WEBHOOK_RETRIES", 5))
    webhook_backoff_ms: int = field(default_factory=lambda: _env_int("DANBYTE_WEBHOOK_BACKOFF_MS", 10_000))
    webhook_timeout: int = field(default_factory=lambda: _env_int("DANBYTE_WEBHOOK_TIMEOUT", 10))
    # Jobs (docs/jobs.md). A running job whose worker has not written a heartbeat for this
    # many seconds is lost: retried, or errored after its last attempt. Workers beat three
    # times per period.
    job_stale_seconds: float = field(default_factory=lambda: _env_float("DANBYTE_JOB_STALE_SECONDS", 30.0))
    # dramatiq's own heartbeat: after this long a dead worker's unacknowledged messages are
    # put back in the queue (the database reaper is the guarantee; this is the fast path).
    job_heartbeat_ms: int = field(default_factory=lambda: _env_int("DANBYTE_JOB_HEARTBEAT_MS", 15_000))
    # Of a million Redis commands, how many also run dramatiq's maintenance (that requeue).
    job_maintenance_chance: int = field(default_factory=lambda: _env_int("DANBYTE_JOB_MAINTENANCE_CHANCE", 1000))
    # Log lines a job keeps (the latest).
    job_log_lines: int = field(default_factory=lambda: _env_int("DANBYTE_JOB_LOG_LINES", 1000))
    # The shortest interval a job schedule may have, in seconds.
    job_min_interval: int = field(default_factory=lambda: _env_int("DANBYTE_JOB_MIN_INTERVAL", 10))
    # Modules that register more job kinds (comma-separated), imported by every process.
    job_modules: tuple[str, ...] = field(default_factory=lambda: _env_list("DANBYTE_JOB_MODULES"))
    # Seconds between two runs of each worker's scheduler (due schedules, lost jobs).
    scheduler_tick: float = field(default_factory=lambda: _env_float("DANBYTE_SCHEDULER_TICK", 1.0))
    # Days an interface's counter samples are kept (the counter_poll job deletes older ones).
    counter_retention_days: int = field(default_factory=lambda: _env_int("DANBYTE_COUNTER_RETENTION_DAYS", 7))
    # Events kept in Redis (about this many) for subscribers resuming after a reconnect (danbyte/event_log.py).
    event_retention: int = field(default_factory=lambda: _env_int("DANBYTE_EVENT_RETENTION", 100_000))
    # Messages a WebSocket connection may have waiting to be written before it is closed
    # as a slow consumer (close code 4008, danbyte/fanout.py).
    ws_queue_limit: int = field(default_factory=lambda: _env_int("DANBYTE_WS_QUEUE_LIMIT", 1000))
    # Seconds between two checks of open WebSocket connections' tokens: an expired or revoked
    # token is closed with 4401, changed grants with 4403 (danbyte/fanout.py: Fanout.recheck).
    ws_recheck_seconds: float = field(default_factory=lambda: _env_float("DANBYTE_WS_RECHECK_SECONDS", 5.0))
    # Days a check's results are kept (resolvers.monitoring.purge_results deletes older ones).
    check_retention_days: int = field(default_factory=lambda: _env_int("DANBYTE_CHECK_RETENTION_DAYS", 14))
    # The check scheduler in every worker process (jobs/monitoring.py); 0 turns it off there.
    check_scheduler: bool = field(default_factory=lambda: os.environ.get("DANBYTE_CHECK_SCHEDULER", "1") != "0")
    # Seconds between two resolves of the checks from the assignments (one worker per period).
    check_resolve_interval: float = field(default_factory=lambda: _env_float("DANBYTE_CHECK_RESOLVE_INTERVAL", 30.0))
    # Checks one claim takes and one write transaction holds; probes one worker runs at once.
    check_batch: int = field(default_factory=lambda: _env_int("DANBYTE_CHECK_BATCH", 500))
    check_concurrency: int = field(default_factory=lambda: _env_int("DANBYTE_CHECK_CONCURRENCY", 500))
    # Cycle hooks (alerts) run after a write that changed a state, else at least this often.
    check_hook_interval: float = field(default_factory=lambda: _env_float("DANBYTE_CHECK_HOOK_INTERVAL", 10.0))
    # Operations (docs/operations.md): a Bearer token for /metrics (else an administrator's
    # API token is required); a port of its own for /metrics (the supervisor's or a worker's,
    # every process's figures); where the processes keep them; distinct operation names
    # labelled per process (then "other"); log lines as text or JSON.
    metrics_token: str | None = field(default_factory=lambda: os.environ.get("DANBYTE_METRICS_TOKEN") or None)
    metrics_port: int | None = field(default_factory=lambda: _env_int("DANBYTE_METRICS_PORT", 0) or None)
    metrics_dir: Path | None = field(default_factory=lambda: Path(os.environ["DANBYTE_METRICS_DIR"]) if os.environ.get("DANBYTE_METRICS_DIR") else None)
    metrics_max_operations: int = field(default_factory=lambda: _env_int("DANBYTE_METRICS_MAX_OPERATIONS", 200))
    log_format: str = field(default_factory=lambda: os.environ.get("DANBYTE_LOG_FORMAT", "text").lower())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
