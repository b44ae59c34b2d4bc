"""Alerts on check states: rules that say which states alert (after how long, where, how
severe), the alerts themselves (one open per rule and check), silences (maintenance
windows), notification channels, and the log of every delivery attempt.

Alerts are raised, escalated and resolved by ``jobs.alerts.evaluate_alerts`` (set-based
SQL, docs/alerts.md); they are read-only through the generic API and acknowledged with
``alert_acknowledge``. A channel's secret (HMAC secret, PagerDuty routing key, SMTP
password) is sealed at rest and write-only. Danbyte's own: NetBox has no monitoring."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NO_REVERSE, ManyToMany, NamedModel, TenantModel, TenantScoped, choice, long_text, reference, secret, text
from models.choices import prefixed

APP_LABEL = "monitoring"


@prefixed("kind", name="NotificationChannelKindEnum")
class NotificationKind(enum.StrEnum):
    """How a channel is reached (jobs/alerts.py builds each body)."""

    webhook = "webhook"
    email = "email"
    slack = "slack"
    teams = "teams"
    discord = "discord"
    pagerduty = "pagerduty"


@prefixed("severity", name="AlertSeverityEnum")
class AlertSeverity(enum.StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


@prefixed("status", name="AlertStatusEnum")
class AlertStatus(enum.StrEnum):
    firing = "firing"
    acknowledged = "acknowledged"
    resolved = "resolved"


@prefixed("status", name="NotificationDeliveryStatusEnum")
class DeliveryStatus(enum.StrEnum):
    """One attempt's outcome: ``retrying`` (failed, another attempt follows), ``failed``
    (failed, final), ``sent``."""

    sent = "sent"
    retrying = "retrying"
    failed = "failed"


# What a rule and a silence may be narrowed to, by field: every dimension given must match
# (any of its objects), an empty one matches all (as config contexts). A check matches a
# site, role or device through the device it was resolved for, a tag through its device,
# IP address or service, a template through its own template.
SCOPE_DIMENSIONS = {
    "sites": "Site",
    "roles": "DeviceRole",
    "devices": "Device",
    "tags": "Tag",
    "templates": "CheckTemplate",
}


def _scope() -> dict[str, ManyToMany]:
    return {field: ManyToMany(target, related_name=NO_REVERSE) for field, target in SCOPE_DIMENSIONS.items()}


# Chat channels whose incoming webhook URL is the credential: it is kept as the sealed secret.
CHAT_KINDS = frozenset({NotificationKind.slack, NotificationKind.teams, NotificationKind.discord})


class NotificationChannel(NamedModel):
    """Where alert notifications go: a generic webhook (HMAC-signed JSON), Slack, Teams or
    Discord incoming webhooks, PagerDuty Events v2, or e-mail through an SMTP server given
    here (host, port, optional STARTTLS and login)."""

    __tagged__ = False

    kind: Mapped[NotificationKind] = choice(NotificationKind)
    secret: Mapped[str | None] = secret(1000)
    """webhook: the HMAC-SHA512 key (``X-Hook-Signature``); slack, teams, discord: the
    incoming webhook URL (whoever has it can post); pagerduty: the routing (integration)
    key; email: the SMTP password. Sealed, never answered."""
    smtp_host: Mapped[str] = text(255)
    smtp_port: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 65535)})
    """email: the server's port (default 25, or 587 with STARTTLS)."""
    smtp_starttls: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    smtp_username: Mapped[str] = text(255)
    email_from: Mapped[str] = text(254)
    recipients: Mapped[list[str]] = mapped_column(ARRAY(sa.String(254)), default=list, server_default="{}")
    """email: the addresses written to."""
    url: Mapped[str] = text(500)
    """webhook: the URL posted to (http:// or https://); pagerduty: the Events v2 endpoint,
    empty for PagerDuty's own; slack, teams, discord: empty (their URL is the secret)."""
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    """A disabled channel is sent nothing."""


class AlertRule(NamedModel):
    """Which check states alert: a check in one of ``states`` for at least ``for_seconds``,
    inside the rule's scope (empty: the whole tenant), raises one alert of ``severity``,
    notified on ``channels``; unacknowledged for ``escalate_after_seconds`` it is sent to
    ``escalation_channel`` too."""

    __tagged__ = False
    __many__: ClassVar[dict[str, ManyToMany]] = {"channels": ManyToMany("NotificationChannel", related_name="alert_rules"), **_scope()}

    states: Mapped[list[str]] = mapped_column(ARRAY(sa.String(32)), default=lambda: ["down"], server_default="{down}")
    """Check states that alert (``down``, ``degraded``, ``unknown``; not ``up``)."""
    for_seconds: Mapped[int] = mapped_column(default=0, server_default="0", info={"bounds": (0, 604_800)})
    """How long a check must have been in such a state."""
    severity: Mapped[AlertSeverity] = choice(AlertSeverity, default=AlertSeverity.warning, server_default="warning")
    escalation_channel_id: Mapped[uuid.UUID | None] = reference("NotificationChannel", related_name=NO_REVERSE)
    escalate_after_seconds: Mapped[int | None] = mapped_column(nullable=True, info={"bounds": (1, 604_800)})
    """Seconds an alert may stay unacknowledged before it goes to the escalation channel."""
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class Silence(TenantModel):
    """A maintenance window: alerts in its scope (empty: the whole tenant; ``rules``: only
    those rules' alerts) between ``starts_at`` and ``ends_at`` are recorded, marked
    silenced, and not notified."""

    __tagged__ = False
    __ordering__ = ("starts_at",)
    __display__ = "to_char({s}.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' – ' || to_char({s}.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
    __many__: ClassVar[dict[str, ManyToMany]] = {"rules": ManyToMany("AlertRule", related_name=NO_REVERSE), **_scope()}

    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    author: Mapped[str] = text(150, info={"derived": True})
    """Who made it (the writer's username, set by the write path)."""
    comment: Mapped[str] = long_text()
    """Why (required)."""

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (sa.CheckConstraint("ends_at > starts_at", name="window"),)


class Alert(TenantModel):
    """One rule firing on one check, from when its condition held long enough until it
    cleared. Written by the evaluator; acknowledged with ``alert_acknowledge``."""

    __read_only__ = True
    __tagged__ = False
    __ordering__ = ("started_at",)
    __display__ = "'Alert #' || {s}.numid || ' (' || {s}.severity || ', ' || {s}.status || ')'"

    rule_id: Mapped[uuid.UUID | None] = reference("AlertRule", related_name="alerts")
    check_state_id: Mapped[uuid.UUID | None] = reference("CheckState", related_name="alerts")
    device_id: Mapped[uuid.UUID | None] = reference("Device", related_name=NO_REVERSE)
    site_id: Mapped[uuid.UUID | None] = reference("Site", related_name=NO_REVERSE)
    ip_address_id: Mapped[uuid.UUID | None] = reference("IPAddress", related_name=NO_REVERSE)
    severity: Mapped[AlertSeverity] = choice(AlertSeverity)
    status: Mapped[AlertStatus] = choice(AlertStatus, default=AlertStatus.firing, server_default="firing")
    state: Mapped[str] = text(32)
    """The check's state when the alert was raised."""
    summary: Mapped[str] = text(500)
    """What fired, in words (the rule, the check, the state)."""
    started_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_by: Mapped[str] = text(150)
    acknowledged_comment: Mapped[str] = long_text()
    escalated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    silenced: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """An active silence matched it: recorded, not notified."""
    silence_id: Mapped[uuid.UUID | None] = reference("Silence", related_name=NO_REVERSE)

    @classmethod
    def __extra_args__(cls) -> tuple[Any, ...]:
        return (
            # One open alert per rule and check: the evaluator's dedup, held by the database
            # against two evaluators at once.
            sa.Index("uq_alert_open", "rule_id", "check_state_id", unique=True, postgresql_where=sa.text("status <> 'resolved'")),
            sa.Index("ix_alert_tenant_status", "tenant_id", "status"),
        )


class NotificationDelivery(TenantScoped):
    """One attempt to send one alert event to one channel: written by the worker, read
    through the API. Never holds a secret (a signature, a key, a password)."""

    __read_only__ = True
    __tagged__ = False
    __ordering__ = ("created",)

    channel_id: Mapped[uuid.UUID | None] = reference("NotificationChannel", related_name="deliveries")
    alert_id: Mapped[uuid.UUID | None] = reference("Alert", related_name="deliveries")
    event: Mapped[str] = text(20)
    """``trigger``, ``acknowledge``, ``escalate`` or ``resolve``."""
    attempt: Mapped[int] = mapped_column(sa.SmallInteger())
    status: Mapped[DeliveryStatus] = choice(DeliveryStatus)
    status_code: Mapped[int | None] = mapped_column(sa.SmallInteger(), nullable=True)
    """The HTTP status or SMTP reply code; null when none came."""
    response: Mapped[str] = long_text()
    """The start of the answer."""
    error: Mapped[str] = long_text()
