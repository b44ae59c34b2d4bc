"""What every outbound delivery shares (webhooks, jobs/webhooks.py; alert notifications,
jobs/alerts.py): the HMAC signature, the attempt's outcome as a delivery log keeps it,
counting attempts, the backoff between them, and posting a body over HTTP without
letting the remote end decide how much is read or how long it takes."""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from dramatiq.middleware import CurrentMessage

# How much of an answer's body a delivery log keeps, and how much is read at all.
RESPONSE_EXCERPT = 1000
_READ_AT_MOST = 8192
# The longest wait between two attempts, whatever the backoff setting makes of it.
MAX_BACKOFF_MS = 3_600_000


@dataclass
class Attempt:
    """What one delivery attempt did, as a delivery log keeps it."""

    method: str
    url: str = ""
    status_code: int | None = None
    response: str = ""
    error: str = ""
    # A connection error, a timeout or a 5xx: worth trying again.
    retry: bool = False


def signature(body: bytes, secret: str) -> str:
    """NetBox's ``X-Hook-Signature``: the HMAC-SHA512 hex digest of the body, keyed by the secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha512).hexdigest()


def attempt_number() -> int:
    """1 for the current message's first delivery, then one more per retry (the broker's
    CurrentMessage middleware must be on: jobs.broker.configure adds it)."""
    message = CurrentMessage.get_current_message()
    return (message.options.get("retries", 0) if message is not None else 0) + 1


def backoff_ms(attempt: int, base_ms: int) -> int:
    """The wait before the attempt after ``attempt``: doubling from ``base_ms``, capped."""
    return int(min(base_ms * 2 ** (attempt - 1), MAX_BACKOFF_MS))


def post(method: str, url: str, body: bytes, headers: dict[str, str], *, timeout: float, verify: ssl.SSLContext | bool = True) -> Attempt:
    """Send ``body``; never raises for what the remote end does (that is the outcome).
    Answers are read as sent (never decompressed), and only their start; redirects are
    not followed (a body signed for one URL goes to that URL)."""
    outcome = Attempt(method, url)
    try:
        with httpx.Client(verify=verify, timeout=timeout, follow_redirects=False, headers={"Accept-Encoding": "identity"}) as client:
            with client.stream(method, url, content=body, headers=headers) as response:
                outcome.status_code = response.status_code
                outcome.response = excerpt(response, time.monotonic() + timeout)
    except (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError) as error:
        outcome.error = f"{type(error).__name__}: {error}"
        outcome.retry = True
        return outcome
    except (httpx.HTTPError, UnicodeEncodeError) as error:  # a header that is not ASCII, a bad URL
        outcome.error = f"{type(error).__name__}: {error}"
        return outcome
    if outcome.status_code >= 500:
        outcome.error, outcome.retry = f"the server answered {outcome.status_code}", True
    elif not 200 <= outcome.status_code <= 299:
        outcome.error = f"the server answered {outcome.status_code}"
    return outcome


def excerpt(response: httpx.Response, deadline: float) -> str:
    read = b""
    for chunk in response.iter_raw():
        read += chunk
        if len(read) >= _READ_AT_MOST or time.monotonic() > deadline:
            break
    return read[:_READ_AT_MOST].decode("utf-8", "replace")[:RESPONSE_EXCERPT]


def storable(text: Any) -> str:
    """PostgreSQL text holds no NUL character."""
    return str(text).replace("\x00", "\ufffd")
