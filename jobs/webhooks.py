"""Webhooks, sent by job workers after the change that raised them is committed.

The write path stays cheap: a process that publishes a write's change events also
enqueues one ``dispatch_changes`` message naming the write's change-log entries
(danbyte/events.py). The worker reads those entries, matches them against the enabled
event rules of the same tenant (object type, event type, conditions on the object's
data: the change log's snapshot, the pre-delete one for deletes), and enqueues one
``deliver_webhook`` per match. A delivery renders the webhook's URL, headers and body
with NetBox's context, signs the body with the unsealed secret (HMAC-SHA512 in
``X-Hook-Signature``), sends it, and records the attempt in ``webhook_delivery``. A
connection error, a timeout or a 5xx answer is retried with exponential backoff
(``DANBYTE_WEBHOOK_RETRIES`` times); anything else is final.

The secret is unsealed only here, only to sign, and goes nowhere else: not into the
request (but its signature), the delivery log or the logs.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import dramatiq
import sqlalchemy as sa
from dramatiq.middleware import TimeLimitExceeded

from danbyte.settings import get_settings
from jobs.broker import job_settings
from jobs.delivery import MAX_BACKOFF_MS, Attempt, attempt_number, backoff_ms, post, signature, storable
from models.base import table_of
from models.changelog import ObjectChange
from models.choices import ChangeAction, EventRuleAction
from models.conditions import evaluate
from models.registry import spec_by_type_key, specs
from models.webhooks import EVENT_TYPES, WEBHOOK_EVENTS, EventRule, Webhook, WebhookDelivery
from resolvers.errors import ApiError
from resolvers.secrets import unseal
from resolvers.sql import any_of
from resolvers.templates import is_header_text, render
from resolvers.webhooks import url_is_http

QUEUE = "webhooks"
# Headers that frame the request itself: a template must not set them.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "x-hook-signature"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

logger = logging.getLogger("danbyte.webhooks")


@cache
def _engine(url: str) -> sa.Engine:
    """One pooled engine per database for the worker's threads. The worker connects as the
    table owner, like every job: a rule's tenant is matched explicitly below."""
    return sa.create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True)


def changes_to_dispatch(events: list[dict[str, Any]]) -> list[str]:
    """The change-log entries of a write's events that a tenant's rules may hear (changes
    to organisation-wide objects and accounts belong to no tenant)."""
    return [event["change_id"] for event in events if event.get("tenant_id") and event.get("change_id")]


def enqueue_dispatch(broker: dramatiq.Broker, events: list[dict[str, Any]]) -> bool:
    """Enqueue the matching of a committed write's changes (one message per write), on
    ``broker`` (a producer: the caller need not run jobs). False when nothing could match."""
    ids = changes_to_dispatch(events)
    if ids:
        tenants = sorted({event["tenant_id"] for event in events if event.get("tenant_id")})
        broker.enqueue(dispatch_changes.message(ids, tenants))
    return bool(ids)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1000, max_backoff=60_000)
def dispatch_changes(change_ids: list[str], tenant_ids: list[str]) -> None:
    """Match committed changes against the enabled event rules of their tenants; enqueue a
    delivery per match."""
    ids = [uuid.UUID(i) for i in change_ids]
    with _engine(job_settings().database_url).connect() as conn:
        matches = _matches(conn, ids, {uuid.UUID(t) for t in tenant_ids})
    # A server that answers byte by byte is cut off: dramatiq interrupts the attempt.
    time_limit = (get_settings().webhook_timeout * 6 + 30) * 1000
    for rule_id, event in matches:
        deliver_webhook.send_with_options(args=(str(rule_id), [str(entry.id) for entry in event.entries]), time_limit=time_limit)


@dataclass(frozen=True)
class Event:
    """What one write did to one object, as NetBox queues it: several changes to an object
    in one request are one event (created then updated: created, with the last data; any
    change then deleted: deleted), its snapshots from before the first change to after
    the last."""

    first: Any  # change-log rows, in the order they were written
    last: Any

    @property
    def entries(self) -> tuple[Any, ...]:
        return (self.first,) if self.first is self.last else (self.first, self.last)

    @property
    def event_type(self) -> str:
        if self.last.action is ChangeAction.delete:
            return EVENT_TYPES[ChangeAction.delete]
        return EVENT_TYPES[ChangeAction.create if self.first.action is ChangeAction.create else ChangeAction.update]

    @property
    def data(self) -> dict[str, Any]:
        """The object as the event carries it: after the write, or just before its delete."""
        return (self.last.prechange_data if self.last.action is ChangeAction.delete else self.last.postchange_data) or {}

    @property
    def snapshots(self) -> dict[str, Any]:
        return {"prechange": self.first.prechange_data, "postchange": self.last.postchange_data}

    @property
    def object_type(self) -> str:
        return spec_by_type_key(self.first.object_type).content_type


def events_of(entries: list[Any]) -> list[Event]:
    """The changes of one write as events, one per object, in the order of their first change."""
    by_object: dict[tuple[str, uuid.UUID], list[Any]] = {}
    for entry in entries:
        by_object.setdefault((entry.object_type, entry.object_id), []).append(entry)
    return [Event(changes[0], changes[-1]) for changes in by_object.values()]


def _matches(conn: sa.Connection, ids: list[uuid.UUID], tenants: set[uuid.UUID]) -> list[tuple[uuid.UUID, Event]]:
    change, rule = table_of(ObjectChange), table_of(EventRule)
    # The rules first: most writes have none to hear them, and then the snapshots stay unread.
    rules = conn.execute(sa.select(rule).where(any_of(rule.c.tenant_id, tenants), rule.c.enabled).order_by(rule.c.name)).all()
    if not rules:
        return []
    rows = conn.execute(sa.select(change).where(any_of(change.c.id, ids), change.c.tenant_id.is_not(None))).all()
    order = {change_id: index for index, change_id in enumerate(ids)}  # one write's entries share a time
    known = {spec.type_key for spec in specs().values()}
    entries = sorted((row for row in rows if row.object_type in known), key=lambda row: order[row.id])
    found = []
    for event in events_of(entries):
        for candidate in rules:
            if candidate.tenant_id != event.first.tenant_id or candidate.action_type is not EventRuleAction.webhook:
                continue
            if event.object_type in candidate.object_types and event.event_type in candidate.event_types and evaluate(candidate.conditions, event.data):
                found.append((candidate.id, event))
    return found


# Retried by raising dramatiq.Retry with a delay of our own; the actor's own limit is a
# backstop beyond any DANBYTE_WEBHOOK_RETRIES one would set.
@dramatiq.actor(queue_name=QUEUE, max_retries=100, min_backoff=1000, max_backoff=MAX_BACKOFF_MS)
def deliver_webhook(rule_id: str, change_ids: list[str]) -> None:
    """Send one event rule's webhook for one event (its first and last change-log entries),
    and log the attempt."""
    settings = get_settings()
    attempt = attempt_number()
    engine = _engine(job_settings().database_url)
    rule_table, webhook_table, change_table = table_of(EventRule), table_of(Webhook), table_of(ObjectChange)
    ids = [uuid.UUID(i) for i in change_ids]
    with engine.connect() as conn:
        rule = conn.execute(sa.select(rule_table).where(rule_table.c.id == uuid.UUID(rule_id))).one_or_none()
        found = {row.id: row for row in conn.execute(sa.select(change_table).where(any_of(change_table.c.id, ids)))}
        webhook = None
        if rule is not None:
            webhook = conn.execute(sa.select(webhook_table).where(webhook_table.c.id == rule.action_object_id)).one_or_none()
    entries = [found[i] for i in ids if i in found]
    if rule is None or webhook is None or len(entries) != len(ids) or any(entry.tenant_id != rule.tenant_id for entry in entries):
        return  # deleted since (a webhook's rules go with it), or not this rule's to hear
    event = Event(entries[0], entries[-1])
    try:
        outcome = send(webhook, context(rule, event), timeout=settings.webhook_timeout)
    except TimeLimitExceeded:
        outcome = Attempt(webhook.http_method.value, error="the server took too long to answer", retry=True)
    except Exception:
        # A template that recurses too deep, a secret sealed under another key: final, and
        # logged for the operator (never with the request, which holds the signature).
        logger.exception("webhook %s: could not prepare the request", webhook.id)
        outcome = Attempt(webhook.http_method.value, error="the request could not be prepared (see the worker's log)")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(table_of(WebhookDelivery)).values(
                tenant_id=rule.tenant_id,
                webhook_id=webhook.id,
                event_rule_id=rule.id,
                event_type=event.event_type,
                object_type=event.object_type,
                object_id=event.first.object_id,
                request_id=event.first.request_id,
                attempt=attempt,
                http_method=outcome.method,
                request_url=storable(outcome.url),
                status_code=outcome.status_code,
                response=storable(outcome.response),
                error=storable(outcome.error),
            )
        )
    shown = outcome.status_code or outcome.error[:200]
    logger.info("webhook %s for %s %s: attempt %d, %s", webhook.name, event.object_type, event.event_type, attempt, shown)
    if outcome.retry and attempt <= settings.webhook_retries:
        raise dramatiq.Retry(f"webhook {webhook.id}: attempt {attempt} failed", delay=backoff_ms(attempt, settings.webhook_backoff_ms))


def context(rule: Any, event: Event) -> dict[str, Any]:
    """NetBox's webhook context (extras/webhooks.py ``send_webhook``): the event, when, the
    type, who, the request, the object's data (the rule's ``action_data`` under it) and
    its snapshots. The data is the change log's snapshot of the object: columns by name
    (``site_id``), choices as their values, no secrets."""
    return {
        "event": WEBHOOK_EVENTS[event.event_type],
        "timestamp": event.last.time.isoformat(),
        "object_type": event.object_type,
        "username": event.last.user_name,
        "request_id": str(event.last.request_id),
        "data": {**(rule.action_data or {}), **event.data},
        "snapshots": event.snapshots,
    }


def send(webhook: Any, context: dict[str, Any], *, timeout: float) -> Attempt:
    """Render, sign and send the webhook's request; never raises for what the remote end
    or the templates do (that is the attempt's outcome)."""
    method = webhook.http_method.value
    try:
        url = render(webhook.payload_url, None, context, "payload_url").strip()
    except ApiError as error:
        return Attempt(method, webhook.payload_url, error=error.message)
    outcome = Attempt(method, url)
    if not url_is_http(url):
        outcome.error = "payload_url: the rendered URL is not an http:// or https:// URL"
        return outcome
    try:
        headers = {"Content-Type": webhook.http_content_type, **_headers(webhook.additional_headers, context)}
        body = (render(webhook.body_template, None, context, "body_template") if webhook.body_template else json.dumps(context)).encode()
    except ApiError as error:
        outcome.error = error.message
        return outcome
    if webhook.secret:
        headers["X-Hook-Signature"] = signature(body, unseal(webhook.secret))
    try:
        verify = _verification(webhook)
    except (OSError, ssl.SSLError):
        # Say no more about the file than that: the path is the tenant's, the host is not.
        outcome.error = "ca_file_path: the CA certificate file could not be loaded"
        return outcome
    return post(method, url, body, headers, timeout=timeout, verify=verify)


def _headers(template: str, context: dict[str, Any]) -> dict[str, str]:
    """``Name: value`` lines of the rendered template (NetBox's ``render_headers``); a line
    without a colon is skipped, a name that is not a header name is refused."""
    if not template:
        return {}
    headers = {}
    for line in render(template, None, context, "additional_headers").splitlines():
        if ":" not in line:
            continue
        name, value = (part.strip() for part in line.split(":", 1))
        if not _TOKEN.match(name) or not is_header_text(value):
            raise _Refused(f"additional_headers: '{name[:100]}' is not a valid header line")
        if name.lower() in _FRAMING:
            raise _Refused(f"additional_headers: {name} is set by the sender, not by a template")
        headers[name] = value
    return headers


class _Refused(ApiError):
    pass


def _verification(webhook: Any) -> ssl.SSLContext | bool:
    if not webhook.ssl_verification:
        return False
    if webhook.ca_file_path:
        return ssl.create_default_context(cafile=webhook.ca_file_path)
    return True
