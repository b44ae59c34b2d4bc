"""Alert evaluation and notification delivery (docs/alerts.md).

``evaluate_alerts(conn, now)`` brings the ``alert`` table in line with the check states,
for every tenant at once, in a few set-based statements under a transaction-level
advisory lock (several workers may call it; they take turns, and each finds the work of
the one before done):

1. **resolve** open alerts whose condition no longer holds (the check left the rule's
   states, left its scope, the rule was disabled or deleted, the check is gone) — unless
   the check is flapping: a flapping check's open alerts stay open;
2. **raise** one alert per (enabled rule, check) whose check has been in one of the
   rule's states for at least ``for_seconds`` and is not flapping, unless one is open
   (the partial unique index ``uq_alert_open`` holds that against racing evaluators);
3. **silence**: an open alert matching an active silence is marked silenced; one whose
   silence ended is unmarked (and, still open, notified then);
4. **escalate** firing (unacknowledged), unsilenced alerts open longer than their rule's
   ``escalate_after_seconds`` to its escalation channel, once.

It returns the row events to publish after commit (jobs/row_events.py) and sends one
``notify_alert`` message per notified alert event. A message may reach a worker before
the transaction that raised it commits: ``notify_alert`` waits (retries) until the alert
reads as the event says, and drops it if it never does (the transaction rolled back).
Silenced alerts are never notified.

``deliver_notification`` sends one event to one channel, as the channel's kind wants it,
and logs each attempt in ``notification_delivery``; connection errors, timeouts and 5xx
(SMTP: 4xx) answers are retried with the webhooks' settings (DANBYTE_WEBHOOK_RETRIES,
_BACKOFF_MS, _TIMEOUT). The channel's secret is unsealed here only, to sign, to route or
to log in, and goes nowhere else.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import cache
from typing import Any

import dramatiq
import sqlalchemy as sa
from dramatiq.middleware import TimeLimitExceeded

from danbyte.settings import get_settings
from jobs.broker import job_settings
from jobs.delivery import MAX_BACKOFF_MS, Attempt, attempt_number, backoff_ms, post, signature, storable
from jobs.monitoring import register_cycle_hook
from jobs.row_events import row_event
from models.alerts import CHAT_KINDS, DeliveryStatus, NotificationKind
from models.numid import number_unnumbered
from resolvers.secrets import unseal

QUEUE = "alerts"
# pg_advisory_xact_lock key of the evaluation ('alerts' in ASCII).
LOCK_KEY = 0x616C65727473
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
# How often notify_alert looks again for an alert whose transaction has not committed.
NOTIFY_WAITS = 8
SMTP_PORT, SUBMISSION_PORT = 25, 587

logger = logging.getLogger("danbyte.alerts")


# --- evaluation -----------------------------------------------------------------------------


def _scope(owner: str, alias: str) -> str:
    """SQL: the rule or silence ``alias`` (table ``owner``) covers the check ``cs`` (its
    device ``d``): every dimension it lists matches, an empty one matches all."""
    key = f"{owner}_id"
    dimensions = {
        "sites": ("site_id", "d.site_id"),
        "roles": ("device_role_id", "d.role_id"),
        "devices": ("device_id", "cs.device_id"),
        "templates": ("check_template_id", "cs.template_id"),
    }
    terms = []
    for name, (column, value) in dimensions.items():
        table = f"{owner}_{name}"
        terms.append(
            f"(NOT EXISTS (SELECT 1 FROM {table} x WHERE x.{key} = {alias}.id)"
            f" OR EXISTS (SELECT 1 FROM {table} x WHERE x.{key} = {alias}.id AND x.{column} = {value}))"
        )
    terms.append(
        f"(NOT EXISTS (SELECT 1 FROM {owner}_tags x WHERE x.{key} = {alias}.id)"
        f" OR EXISTS (SELECT 1 FROM {owner}_tags x JOIN tagged_item ti ON ti.tag_id = x.tag_id"
        f" WHERE x.{key} = {alias}.id AND ti.tenant_id = cs.tenant_id AND ("
        "(ti.object_type = 'device' AND ti.object_id = cs.device_id)"
        " OR (ti.object_type = 'ip_address' AND ti.object_id = cs.ip_address_id)"
        " OR (ti.object_type = 'service' AND ti.object_id = cs.service_id))))"
    )
    return " AND ".join(terms)


# The check states each enabled rule covers and whose state is one of the rule's (how
# long it has been so is for the raise to judge: the resolve ignores it).
_MATCHING = f"""
    SELECT r.id AS rule_id, cs.id AS check_state_id
    FROM alert_rule r
    JOIN check_state cs ON cs.tenant_id = r.tenant_id AND cs.state = ANY (r.states)
    LEFT JOIN device d ON d.id = cs.device_id
    WHERE r.enabled AND {_scope("alert_rule", "r")}
"""

# The active silence covering an alert's rule and check, if any (the latest-ending one).
_SILENCE_OF = f"""
    (SELECT s.id FROM silence s
     WHERE s.tenant_id = cs.tenant_id AND s.starts_at <= :now AND s.ends_at > :now
       AND (NOT EXISTS (SELECT 1 FROM silence_rules x WHERE x.silence_id = s.id)
            OR EXISTS (SELECT 1 FROM silence_rules x WHERE x.silence_id = s.id AND x.alert_rule_id = {{rule}}))
       AND {_scope("silence", "s")}
     ORDER BY s.ends_at DESC, s.id LIMIT 1)
"""

_RESOLVE = sa.text(
    f"""
    WITH matching AS ({_MATCHING})
    UPDATE alert a SET status = 'resolved', resolved_at = :now, last_updated = now()
    WHERE a.status <> 'resolved'
      AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.rule_id = a.rule_id AND m.check_state_id = a.check_state_id)
      -- a flapping check's alert stays open until the check settles
      AND NOT coalesce((SELECT cs.flapping FROM check_state cs WHERE cs.id = a.check_state_id), false)
    RETURNING a.*
    """
)

_RAISE = sa.text(
    f"""
    WITH matching AS ({_MATCHING})
    INSERT INTO alert (tenant_id, rule_id, check_state_id, device_id, site_id, ip_address_id, severity, status, state,
                       summary, started_at, silenced, silence_id)
    SELECT cs.tenant_id, r.id, cs.id, cs.device_id, d.site_id, cs.ip_address_id, r.severity, 'firing', cs.state,
           left(r.name || ': ' || t.name || ' @ ' || coalesce(d.name || ' ', '') || host(cs.address)
                || coalesce(':' || cs.port, '') || ' is ' || cs.state, 500),
           :now, silence.id IS NOT NULL, silence.id
    FROM matching m
    JOIN alert_rule r ON r.id = m.rule_id
    JOIN check_state cs ON cs.id = m.check_state_id
    JOIN check_template t ON t.id = cs.template_id
    LEFT JOIN device d ON d.id = cs.device_id
    LEFT JOIN LATERAL (SELECT {_SILENCE_OF.format(rule="r.id")} AS id) silence ON true
    WHERE cs.since <= CAST(:now AS timestamptz) - make_interval(secs => r.for_seconds)
      AND NOT cs.flapping
      AND NOT EXISTS (SELECT 1 FROM alert o WHERE o.rule_id = r.id AND o.check_state_id = cs.id AND o.status <> 'resolved')
    ON CONFLICT (rule_id, check_state_id) WHERE status <> 'resolved' DO NOTHING
    RETURNING id
    """
)

# New alerts' numbers: a range per tenant from its counter, in the order they started.
_NUMBER = number_unnumbered("alert", where="t.id = ANY (:ids)", order="t.started_at, t.id", returning="t.*")

_SILENCE = sa.text(
    f"""
    WITH judged AS (
        SELECT a.id, a.silenced AS was_silenced, {_SILENCE_OF.format(rule="a.rule_id")} AS silence_id
        FROM alert a
        JOIN check_state cs ON cs.id = a.check_state_id
        LEFT JOIN device d ON d.id = cs.device_id
        WHERE a.status <> 'resolved'
    )
    UPDATE alert a SET silenced = judged.silence_id IS NOT NULL, silence_id = judged.silence_id, last_updated = now()
    FROM judged
    WHERE a.id = judged.id AND (a.silenced IS DISTINCT FROM (judged.silence_id IS NOT NULL) OR a.silence_id IS DISTINCT FROM judged.silence_id)
    RETURNING a.*, judged.was_silenced
    """
)

_ESCALATE = sa.text(
    """
    UPDATE alert a SET escalated_at = :now, last_updated = now()
    FROM alert_rule r
    WHERE r.id = a.rule_id AND a.status = 'firing' AND a.escalated_at IS NULL AND NOT a.silenced
      AND r.escalation_channel_id IS NOT NULL AND r.escalate_after_seconds IS NOT NULL
      AND a.started_at <= CAST(:now AS timestamptz) - make_interval(secs => r.escalate_after_seconds)
    RETURNING a.*
    """
)

_ORGS = sa.text("SELECT id, org_id FROM tenant WHERE id = ANY (:ids)")

_RAISED_FIELDS = ["rule", "check_state", "device", "site", "ip_address", "severity", "status", "state", "summary", "started_at", "silenced", "silence"]


@dataclass
class Evaluation:
    """What one evaluation changed: the row events to publish, and the alert events to
    notify, as (alert id, event), both only once the transaction has committed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def evaluate(conn: sa.Connection, now: datetime, *, wait: bool = True) -> Evaluation | None:
    """Bring alerts in line with check states at ``now`` (see the module's docstring), in
    the caller's transaction. ``wait=False``: None at once if another evaluation holds
    the lock (a periodic caller skips a turn)."""
    if wait:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}).scalar_one():
        return None
    at = {"now": now}
    changed: list[tuple[Any, str, list[str]]] = []  # (row, action, changed fields)
    outcome = Evaluation()
    for row in conn.execute(_RESOLVE, at).all():
        changed.append((row, "update", ["status", "resolved_at"]))
        if not row.silenced:
            outcome.notifications.append((row.id, "resolve"))
    ids = list(conn.execute(_RAISE, at).scalars())
    if ids:
        for row in conn.execute(_NUMBER, {"ids": ids}).all():
            changed.append((row, "create", _RAISED_FIELDS))
            if not row.silenced:
                outcome.notifications.append((row.id, "trigger"))
    raised = set(ids)
    for row in conn.execute(_SILENCE, at).all():
        if row.id not in raised:
            changed.append((row, "update", ["silenced", "silence"]))
        if row.was_silenced and not row.silenced:
            # Its silence ended while it is open: it is news now.
            outcome.notifications.append((row.id, "trigger"))
    for row in conn.execute(_ESCALATE, at).all():
        changed.append((row, "update", ["escalated_at"]))
        outcome.notifications.append((row.id, "escalate"))
    if changed:
        orgs = {tenant: org for tenant, org in conn.execute(_ORGS, {"ids": list({row.tenant_id for row, _, _ in changed})})}
        outcome.events = [row_event("Alert", row, orgs[row.tenant_id], action, fields, **_filter_keys(row)) for row, action, fields in _last_per_row(changed)]
    return outcome


def _last_per_row(changed: list[tuple[Any, str, list[str]]]) -> list[tuple[Any, str, list[str]]]:
    """One event per row: its last state; a row created in this run stays a create."""
    merged: dict[Any, tuple[Any, str, list[str]]] = {}
    for row, action, fields in changed:
        if row.id in merged:
            _, first_action, first_fields = merged[row.id]
            merged[row.id] = (row, first_action, sorted(set(first_fields) | set(fields)))
        else:
            merged[row.id] = (row, action, fields)
    return list(merged.values())


def _filter_keys(row: Any) -> dict[str, Any]:
    return {
        "site_id": str(row.site_id) if row.site_id else None,
        "device_id": str(row.device_id) if row.device_id else None,
        "severity": row.severity,
        "status": row.status,
    }


def evaluate_alerts(conn: sa.Connection, now: datetime) -> list[dict[str, Any]]:
    """The check scheduler's cycle hook: evaluate in the caller's transaction, send
    the notifications (``notify_alert`` waits for the commit), return the row events the
    caller publishes after committing."""
    outcome = evaluate(conn, now)
    assert outcome is not None  # waited for the lock
    send_notifications(dramatiq.get_broker(), outcome.notifications)
    return outcome.events


def send_notifications(broker: dramatiq.Broker, notifications: list[tuple[uuid.UUID, str]]) -> None:
    for alert_id, event in notifications:
        broker.enqueue(notify_message(alert_id, event))


# The check scheduler runs its cycle hooks after each batch of results commits,
# and at least every few seconds without one, so for_seconds, escalations and silences
# ending follow the clock as well as the checks.
register_cycle_hook(evaluate_alerts)


# --- notification -------------------------------------------------------------------------

EVENTS = ("trigger", "acknowledge", "escalate", "resolve")


@cache
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True)


def notify_message(alert_id: uuid.UUID | str, event: str) -> dramatiq.Message[Any]:
    return notify_alert.message(str(alert_id), event)


def _committed(alert: Any, event: str) -> bool:
    """Whether the alert reads as the event says (its transaction has committed)."""
    if event == "acknowledge":
        return alert.acknowledged_at is not None
    if event == "escalate":
        return alert.escalated_at is not None
    if event == "resolve":
        return alert.status == "resolved"
    return True


_CHANNELS = sa.text(
    """
    SELECT c.id FROM notification_channel c
    WHERE c.tenant_id = :tenant AND c.enabled AND (
        (:routine AND c.id IN (SELECT notification_channel_id FROM alert_rule_channels WHERE alert_rule_id = :rule))
        OR (:escalation AND c.id = (SELECT escalation_channel_id FROM alert_rule WHERE id = :rule)))
    ORDER BY c.name
    """
)


@dramatiq.actor(queue_name=QUEUE, max_retries=NOTIFY_WAITS, min_backoff=100, max_backoff=2000)
def notify_alert(alert_id: str, event: str) -> None:
    """Send one alert event to each of its channels: a trigger to the rule's channels, an
    escalation to its escalation channel, an acknowledgement or a resolution to both
    (the escalation channel only once it was escalated to)."""
    if event not in EVENTS:
        return
    with _engine(job_settings().database_url).connect() as conn:
        alert = conn.execute(sa.text("SELECT * FROM alert WHERE id = :id"), {"id": uuid.UUID(alert_id)}).one_or_none()
        if alert is None or not _committed(alert, event):
            if attempt_number() <= NOTIFY_WAITS:
                raise dramatiq.Retry(f"alert {alert_id}: not committed yet", delay=100 * attempt_number())
            logger.warning("alert %s: gave up waiting for its %s to commit", alert_id, event)
            return
        if alert.rule_id is None or alert.silenced:
            return
        routine = event in ("trigger", "acknowledge", "resolve")
        escalation = event == "escalate" or (event != "trigger" and alert.escalated_at is not None)
        channels = conn.execute(_CHANNELS, {"tenant": alert.tenant_id, "rule": alert.rule_id, "routine": routine, "escalation": escalation}).scalars().all()
    time_limit = (get_settings().webhook_timeout * 6 + 30) * 1000
    for channel_id in channels:
        deliver_notification.send_with_options(args=(str(channel_id), alert_id, event), time_limit=time_limit)


_ALERT_CONTEXT = sa.text(
    """
    SELECT a.*, r.name AS rule_name, t.name AS template_name, t.kind AS check_kind, host(cs.address) AS address, cs.port,
           cs.state AS check_state, cs.message AS check_message, d.name AS device_name, s.name AS site_name
    FROM alert a
    LEFT JOIN alert_rule r ON r.id = a.rule_id
    LEFT JOIN check_state cs ON cs.id = a.check_state_id
    LEFT JOIN check_template t ON t.id = cs.template_id
    LEFT JOIN device d ON d.id = a.device_id
    LEFT JOIN site s ON s.id = a.site_id
    WHERE a.id = :id
    """
)


# Retried by raising dramatiq.Retry with our own delay; the actor's limit is a backstop.
@dramatiq.actor(queue_name=QUEUE, max_retries=100, min_backoff=1000, max_backoff=MAX_BACKOFF_MS)
def deliver_notification(channel_id: str, alert_id: str, event: str) -> None:
    """Send one alert event to one channel and log the attempt."""
    settings = get_settings()
    attempt = attempt_number()
    engine = _engine(job_settings().database_url)
    with engine.connect() as conn:
        channel = conn.execute(sa.text("SELECT * FROM notification_channel WHERE id = :id"), {"id": uuid.UUID(channel_id)}).one_or_none()
        alert = conn.execute(_ALERT_CONTEXT, {"id": uuid.UUID(alert_id)}).one_or_none()
    if channel is None or alert is None or channel.tenant_id != alert.tenant_id or not channel.enabled:
        return  # deleted or disabled since
    try:
        outcome = send(channel, context(alert, event), timeout=settings.webhook_timeout)
    except TimeLimitExceeded:
        outcome = Attempt("POST", error="the server took too long to answer", retry=True)
    except Exception:
        # A secret sealed under another key, a body that cannot be built: final, logged for
        # the operator (never with the request, which may hold the secret).
        logger.exception("notification channel %s: could not prepare the notification", channel.id)
        outcome = Attempt("POST", error="the notification could not be prepared (see the worker's log)")
    retrying = outcome.retry and attempt <= settings.webhook_retries
    status = DeliveryStatus.sent if not outcome.error else DeliveryStatus.retrying if retrying else DeliveryStatus.failed
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO notification_delivery (tenant_id, channel_id, alert_id, event, attempt, status, status_code, response, error)
                VALUES (:tenant, :channel, :alert, :event, :attempt, :status, :code, :response, :error)
                """
            ),
            {
                "tenant": channel.tenant_id,
                "channel": channel.id,
                "alert": alert.id,
                "event": event,
                "attempt": attempt,
                "status": status.value,
                "code": outcome.status_code,
                "response": storable(outcome.response),
                "error": storable(outcome.error),
            },
        )
    logger.info("notification %s of alert #%s via %s: attempt %d, %s", event, alert.numid, channel.name, attempt, outcome.status_code or outcome.error[:200])
    if retrying:
        raise dramatiq.Retry(f"notification channel {channel.id}: attempt {attempt} failed", delay=backoff_ms(attempt, settings.webhook_backoff_ms))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def context(alert: Any, event: str) -> dict[str, Any]:
    """The event as the generic webhook's JSON body carries it (and every other body is
    made from)."""
    return {
        "event": event,
        "alert": {
            "id": str(alert.id),
            "numid": alert.numid,
            "status": alert.status,
            "severity": alert.severity,
            "state": alert.state,
            "summary": alert.summary,
            "started_at": _iso(alert.started_at),
            "resolved_at": _iso(alert.resolved_at),
            "acknowledged_at": _iso(alert.acknowledged_at),
            "acknowledged_by": alert.acknowledged_by,
            "acknowledged_comment": alert.acknowledged_comment,
            "escalated_at": _iso(alert.escalated_at),
        },
        "rule": {"id": str(alert.rule_id) if alert.rule_id else None, "name": alert.rule_name},
        "check": {
            "id": str(alert.check_state_id) if alert.check_state_id else None,
            "template": alert.template_name,
            "kind": alert.check_kind,
            "address": alert.address,
            "port": alert.port,
            "state": alert.check_state,
            "message": alert.check_message,
        },
        "device": {"id": str(alert.device_id), "name": alert.device_name} if alert.device_id else None,
        "site": {"id": str(alert.site_id), "name": alert.site_name} if alert.site_id else None,
        "tenant_id": str(alert.tenant_id),
    }


_TITLES = {"trigger": "Alert", "acknowledge": "Acknowledged", "escalate": "Escalated", "resolve": "Resolved"}
_COLOURS = {"critical": 0xD32F2F, "warning": 0xF9A825, "info": 0x1976D2}
_RESOLVED_COLOUR = 0x388E3C
# PagerDuty Events v2 severities: critical, error, warning, info (Danbyte has no "error").
PAGERDUTY_SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}
PAGERDUTY_ACTION = {"trigger": "trigger", "escalate": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}


def title(ctx: dict[str, Any]) -> str:
    alert = ctx["alert"]
    return f"[{_TITLES[ctx['event']]}] #{alert['numid']} {alert['severity'].upper()}: {alert['summary']}"


def _facts(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    alert, check = ctx["alert"], ctx["check"]
    facts = [("Severity", alert["severity"]), ("Status", alert["status"]), ("Rule", ctx["rule"]["name"] or "(deleted)")]
    if check["template"]:
        where = f"{check['address']}:{check['port']}" if check["port"] else str(check["address"])
        facts += [("Check", f"{check['template']} @ {where}"), ("State", str(check["state"]))]
    if ctx["device"]:
        facts.append(("Device", ctx["device"]["name"]))
    if ctx["site"]:
        facts.append(("Site", ctx["site"]["name"]))
    facts.append(("Started", str(alert["started_at"])))
    if alert["acknowledged_by"]:
        facts.append(("Acknowledged by", f"{alert['acknowledged_by']}: {alert['acknowledged_comment']}"))
    if check["message"]:
        facts.append(("Message", str(check["message"])[:500]))
    return facts


def _colour(ctx: dict[str, Any]) -> int:
    return _RESOLVED_COLOUR if ctx["event"] == "resolve" else _COLOURS.get(ctx["alert"]["severity"], 0x9E9E9E)


def slack_text(text: str) -> str:
    """Text as Slack shows it, not as a control sequence: ``<!channel>`` or ``<@U123>`` in a
    device name or a comment would otherwise notify people (Slack's three escapes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def body(kind: NotificationKind, ctx: dict[str, Any], routing_key: str = "") -> dict[str, Any]:
    """The JSON a channel of ``kind`` is sent (e-mail excepted)."""
    heading, facts = title(ctx), _facts(ctx)
    if kind is NotificationKind.slack:
        # Slack incoming webhooks: ``text`` is the fallback, ``blocks`` the message.
        lines = "\n".join(f"*{name}:* {slack_text(value)}" for name, value in facts)
        return {
            "text": slack_text(heading),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": lines[:3000]}},
            ],
        }
    if kind is NotificationKind.teams:
        # Office 365 connector card (MessageCard), which Teams incoming webhooks take.
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": heading[:200],
            "themeColor": f"{_colour(ctx):06X}",
            "title": heading,
            "sections": [{"facts": [{"name": name, "value": value} for name, value in facts]}],
        }
    if kind is NotificationKind.discord:
        return {
            "content": heading[:2000],
            # Names and comments are data: "@everyone" in one must not ping a server.
            "allowed_mentions": {"parse": []},
            "embeds": [
                {
                    "title": heading[:256],
                    "color": _colour(ctx),
                    "fields": [{"name": name, "value": value[:1024] or "-", "inline": name in ("Severity", "Status")} for name, value in facts[:25]],
                    "timestamp": ctx["alert"]["started_at"],
                }
            ],
        }
    if kind is NotificationKind.pagerduty:
        action = PAGERDUTY_ACTION[ctx["event"]]
        event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": f"danbyte-alert-{ctx['alert']['id']}"}
        if action == "trigger":
            check, device = ctx["check"], ctx["device"]
            event["payload"] = {
                "summary": ctx["alert"]["summary"][:1024],
                "source": (device["name"] if device else None) or str(check["address"] or "danbyte"),
                "severity": PAGERDUTY_SEVERITY.get(ctx["alert"]["severity"], "warning"),
                "timestamp": ctx["alert"]["started_at"],
                "component": check["template"],
                "group": ctx["site"]["name"] if ctx["site"] else None,
                "class": check["kind"],
                "custom_details": dict(facts),
            }
        return event
    return ctx  # the generic webhook: the context itself


def send(channel: Any, ctx: dict[str, Any], *, timeout: float) -> Attempt:
    """Build and send one notification; never raises for what the remote end does."""
    kind = NotificationKind(channel.kind)
    if kind is NotificationKind.email:
        return send_email(channel, ctx, timeout=timeout)
    secret = unseal(channel.secret) if channel.secret else ""
    if kind in CHAT_KINDS:
        url = secret or channel.url  # a chat channel's URL is its secret (a row from before: url)
    else:
        url = channel.url or (PAGERDUTY_URL if kind is NotificationKind.pagerduty else "")
    payload = json.dumps(body(kind, ctx, routing_key=secret if kind is NotificationKind.pagerduty else ""), default=str).encode()
    headers = {"Content-Type": "application/json"}
    if kind is NotificationKind.webhook and secret:
        headers["X-Hook-Signature"] = signature(payload, secret)
    return post("POST", url, payload, headers, timeout=timeout)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def send_email(channel: Any, ctx: dict[str, Any], *, timeout: float) -> Attempt:
    """A plain-text message through the channel's SMTP server (STARTTLS and login when set)."""
    port = channel.smtp_port or (SUBMISSION_PORT if channel.smtp_starttls else SMTP_PORT)
    outcome = Attempt("SMTP", f"smtp://{channel.smtp_host}:{port}")
    message = EmailMessage()
    message["Subject"] = _one_line(title(ctx))[:250]
    message["From"] = channel.email_from
    message["To"] = ", ".join(channel.recipients)
    lines = [title(ctx), "", *(f"{name}: {_one_line(value)}" for name, value in _facts(ctx)), "", f"Alert id: {ctx['alert']['id']}"]
    message.set_content("\n".join(lines) + "\n")
    try:
        with smtplib.SMTP(channel.smtp_host, port, timeout=timeout) as smtp:
            if channel.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.smtp_username:
                smtp.login(channel.smtp_username, unseal(channel.secret) if channel.secret else "")
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        outcome.status_code = max(codes) if codes else None
        outcome.error = "every recipient was refused"
        outcome.retry = all(400 <= code < 500 for code in codes)
        return outcome
    except smtplib.SMTPNotSupportedError as error:  # AUTH or STARTTLS asked of a server without it
        outcome.error = f"the server does not support it: {error}"
        return outcome
    except smtplib.SMTPResponseException as error:
        outcome.status_code = error.smtp_code
        outcome.error = f"the server answered {error.smtp_code}"
        outcome.response = error.smtp_error.decode("utf-8", "replace")[:1000] if isinstance(error.smtp_error, bytes) else str(error.smtp_error)[:1000]
        outcome.retry = 400 <= error.smtp_code < 500
        return outcome
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, disconnected, TLS
        outcome.error = f"{type(error).__name__}: {error}"
        outcome.retry = True
        return outcome
    outcome.status_code = 250
    outcome.response = f"accepted for {len(channel.recipients) - len(refused)} of {len(channel.recipients)} recipients"
    if refused:
        outcome.response += "; refused: " + ", ".join(sorted(refused))
    return outcome
