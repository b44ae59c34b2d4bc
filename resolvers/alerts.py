"""Alerts: what a write of a channel, a rule or a silence must get right (registered in
resolvers/rules.py), and ``alert_acknowledge``. Evaluation and delivery are jobs/alerts.py."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from models.alerts import CHAT_KINDS, AlertStatus, NotificationKind
from models.monitoring import CheckHealth
from models.registry import ModelSpec, spec_for
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, Conflict, NotFound
from resolvers.rules import RuleBook, value_after
from resolvers.secrets import unseal
from resolvers.validation import parse_id
from resolvers.webhooks import url_is_http
from resolvers.writes import Write, require, run_write

# States a rule may fire on: every state but up (leaving them is what resolves an alert).
ALERTING_STATES = tuple(state.value for state in CheckHealth if state is not CheckHealth.up)
# The channels that post to a URL (PagerDuty's defaults to its own endpoint).
# One address, without what would let a value break out of its header (CR, LF, commas).
_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$|^\[?[0-9A-Fa-f:.]+\]?$")
COMMENT_LENGTH = 2000
MAX_RECIPIENTS = 50


def register_rules(book: RuleBook) -> None:
    book.check("NotificationChannel")(_channel_is_usable)
    book.check("AlertRule")(_rule_is_runnable)
    book.check("Silence")(_silence_is_a_window)


async def _channel_is_usable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    kind = NotificationKind(value_after(values, old, "kind"))
    url = value_after(values, old, "url", "")
    if "url" in values or "kind" in values:
        if kind in CHAT_KINDS and url:
            raise BadUserInput(
                f"url: a {kind.value} incoming webhook URL lets whoever reads it post to the channel: "
                "give it as the secret (sealed, never answered) and leave url empty",
                field="url",
            )
        if kind is NotificationKind.webhook and not url:
            raise BadUserInput("url: a webhook channel posts to a URL; give one", field="url")
        if url and not url_is_http(url):
            raise BadUserInput("url: enter a URL beginning with http:// or https://", field="url")
    if kind in CHAT_KINDS and ("secret" in values or "kind" in values):
        sealed = value_after(values, old, "secret")
        if not sealed:
            raise BadUserInput(f"secret: a {kind.value} channel needs its incoming webhook URL as the secret", field="secret")
        if "secret" in values and not url_is_http(unseal(sealed)):  # sealed by now: checked in clear
            raise BadUserInput("secret: enter the incoming webhook URL, beginning with http:// or https://", field="secret")
    if kind is NotificationKind.pagerduty and not value_after(values, old, "secret"):
        raise BadUserInput("secret: a PagerDuty channel needs its routing key (integration key) as the secret", field="secret")
    if kind is NotificationKind.email:
        host = value_after(values, old, "smtp_host", "")
        if not host:
            raise BadUserInput("smtp_host: an e-mail channel needs the SMTP server's host name", field="smtp_host")
        if not _HOST.match(host):
            raise BadUserInput("smtp_host: a host name or an IP address", field="smtp_host")
        sender = value_after(values, old, "email_from", "")
        if not _ADDRESS.match(sender or ""):
            raise BadUserInput("email_from: an e-mail address such as alerts@example.com", field="email_from")
        recipients = value_after(values, old, "recipients", []) or []
        if not recipients:
            raise BadUserInput("recipients: give at least one e-mail address", field="recipients")
        if len(recipients) > MAX_RECIPIENTS:
            raise BadUserInput(f"recipients: at most {MAX_RECIPIENTS} addresses", field="recipients")
        for index, address in enumerate(recipients):
            if not _ADDRESS.match(address):
                raise BadUserInput(f"recipients: '{address[:100]}' is not an e-mail address", field=f"recipients.{index}")
        if "recipients" in values:
            values["recipients"] = list(dict.fromkeys(recipients))
    elif "recipients" in values and values["recipients"]:
        raise BadUserInput(f"recipients: only an e-mail channel has recipients (this one is {kind.value})", field="recipients")


async def _rule_is_runnable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    if "states" in values:
        states = values["states"] or []
        if not states:
            raise BadUserInput(f"states: give at least one of {', '.join(ALERTING_STATES)}", field="states")
        for index, state in enumerate(states):
            if state not in ALERTING_STATES:
                raise BadUserInput(f"states: '{state[:40]}' is not a state that alerts; use {', '.join(ALERTING_STATES)}", field=f"states.{index}")
        values["states"] = list(dict.fromkeys(states))
    channel = value_after(values, old, "escalation_channel_id")
    after = value_after(values, old, "escalate_after_seconds")
    if (channel is None) != (after is None):
        field = "escalate_after_seconds" if channel is not None else "escalation_channel"
        raise BadUserInput(f"{field}: an escalation needs both a channel and escalate_after_seconds", field=field)


async def _silence_is_a_window(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    starts, ends = value_after(values, old, "starts_at"), value_after(values, old, "ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise BadUserInput("ends_at: a silence must end after it starts", field="ends_at")
    if "comment" in values or old is None:
        comment = (values.get("comment") or "").strip()
        if not comment:
            raise BadUserInput("comment: say why alerts are silenced", field="comment")
        values["comment"] = comment
    if old is None:
        values["author"] = write.principal.username or ""


def alert_filter_keys(row: Any) -> dict[str, Any]:
    """The keys live subscribers filter alert events on (docs/alerts.md, row events)."""
    return {
        "site_id": str(row.site_id) if row.site_id else None,
        "device_id": str(row.device_id) if row.device_id else None,
        "severity": getattr(row.severity, "value", row.severity),
        "status": getattr(row.status, "value", row.status),
    }


async def acknowledge(ctx: RequestContext, alert_id: Any, comment: str) -> sa.Row:
    """Acknowledge a firing alert with a comment (its channels are told by the caller, after commit)."""
    principal = ctx.require_principal()
    spec = spec_for("Alert")
    require(principal, "change", spec)
    object_id = parse_id(alert_id, "id")
    comment = (comment or "").strip()
    if not comment:
        raise BadUserInput("comment: say what is being done about it", field="comment")
    if len(comment) > COMMENT_LENGTH:
        raise BadUserInput(f"comment: at most {COMMENT_LENGTH} characters", field="comment")

    async def work(write: Write) -> sa.Row:
        table = spec.table
        # Row-level security hides another tenant's alert: not found, like an unknown id.
        old = (await write.conn.execute(sa.select(table).where(table.c.id == object_id).with_for_update())).one_or_none()
        if old is None:
            raise NotFound(f"id: no alert with id {object_id}", field="id")
        if old.status is not AlertStatus.firing:
            raise Conflict(f"id: alert #{old.numid} is {old.status.value}: only a firing alert can be acknowledged", field="id")
        values = {
            "status": AlertStatus.acknowledged,
            "acknowledged_at": sa.func.now(),
            "acknowledged_by": (principal.username or "")[:150],
            "acknowledged_comment": comment,
        }
        row = await write.update(spec, old, values)
        write.changes[-1].update(kind="change", **alert_filter_keys(row))
        return row

    return await run_write(ctx, work)
