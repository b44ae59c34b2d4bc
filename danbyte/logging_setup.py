"""Log lines as text (the default) or JSON, one object per line (``DANBYTE_LOG_FORMAT=json``).

Each GraphQL request over HTTP logs one line on ``danbyte.request`` with its request id,
user, organisation, tenants, operation name, outcome (``ok`` or the first error's code),
duration and SQL statements; the fields are attributes of the record, so the JSON
formatter writes them as keys and the text formatter as ``key=value``. Nothing writes
request headers or bodies; as a second guard every line has API tokens (``dbt_…``) and
``Bearer``/``Token`` credentials masked, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The attributes a request line carries, in this order.
REQUEST_FIELDS = ("request_id", "user", "org", "tenants", "operation", "outcome", "error_code", "duration_ms", "sql_statements", "status")
# Not extra fields: the record's own, and uvicorn's copy of its message with colours.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName", "color_message"}
_SECRETS = re.compile(r"(dbt_[A-Za-z0-9_\-]{8,})|((?:Bearer|Token)\s+)[^\s\"',]+", re.IGNORECASE)


def redact(text: str) -> str:
    """API tokens and credentials after Bearer/Token masked."""
    return _SECRETS.sub(lambda m: "dbt_***" if m.group(1) else m.group(2) + "***", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's extra fields,
    and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": redact(record.getMessage()),
        }
        for key, value in _extras(record).items():
            line.setdefault(key, redact(value) if isinstance(value, str) else value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, the request fields appended as ``key=value``, secrets masked."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{key}={value}" for key, value in extras.items() if value is not None and value != "")
        return redact(text)


def formatter(log_format: str) -> logging.Formatter:
    if log_format not in ("text", "json"):
        raise SystemExit(f"DANBYTE_LOG_FORMAT must be text or json, not {log_format!r}")
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The root logger writes to stderr in ``log_format``; uvicorn's loggers follow it
    (``uvicorn_log_config``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def uvicorn_log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's logging configuration, its lines in the same format as ours (also in the
    API worker processes it spawns, which receive it)."""
    factory = "danbyte.logging_setup.JsonFormatter" if log_format == "json" else "danbyte.logging_setup.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"danbyte": {"()": factory}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "danbyte", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
