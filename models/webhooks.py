"""Event rules and webhooks (NetBox 4.6 ``extras.EventRule`` and ``extras.Webhook``), and
the log of every delivery attempt.

An event rule watches creates, updates and deletes of some object types in its tenant;
when a committed change matches (its type, its event, its conditions on the object's
data), the rule's webhook is sent by a job worker (jobs/webhooks.py). The webhook's
secret signs the body (``X-Hook-Signature``) and is sealed at rest, write-only."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NO_REVERSE, NamedModel, TenantScoped, choice, long_text, reference, secret, text
from models.choices import ChangeAction, EventRuleAction, WebhookHttpMethod

# NetBox's app label for these models (content types such as "extras.webhook").
APP_LABEL = "extras"

# NetBox's event types that object changes raise here (job events need jobs with rows of
# their own), and the name a webhook body gives each (NetBox's WEBHOOK_EVENT_TYPES).
EVENT_TYPES: dict[ChangeAction, str] = {
    ChangeAction.create: "object_created",
    ChangeAction.update: "object_updated",
    ChangeAction.delete: "object_deleted",
}
WEBHOOK_EVENTS = {"object_created": "created", "object_updated": "updated", "object_deleted": "deleted"}


class Webhook(NamedModel):
    """An HTTP request sent to another system when an event rule fires: a URL, a method,
    headers and a body, each a Jinja2 template over the event (resolvers/templates.py)."""

    # Jinja2 templates checked on every write (resolvers/templates.py).
    __template_fields__: ClassVar[tuple[str, ...]] = ("payload_url", "additional_headers", "body_template")

    name: Mapped[str] = text(150, required=True)
    payload_url: Mapped[str] = text(500, required=True)
    """http:// or https://; may be a template over the event."""
    http_method: Mapped[WebhookHttpMethod] = choice(WebhookHttpMethod, default=WebhookHttpMethod.post, server_default="POST")
    http_content_type: Mapped[str] = text(100, default="application/json", server_default="application/json")
    additional_headers: Mapped[str] = long_text()
    """``Name: value`` per line, a template over the event."""
    body_template: Mapped[str] = long_text()
    """A template over the event; empty: the event as JSON (NetBox's default body)."""
    secret: Mapped[str | None] = secret(255)
    """Signs the body (HMAC-SHA512, ``X-Hook-Signature``); never sent, never answered."""
    ssl_verification: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    ca_file_path: Mapped[str | None] = text(4096, nullable=True)
    """The CA bundle to verify the server with instead of the system's."""


class EventRule(NamedModel):
    """Sends its webhook when an object of one of its types is created, updated or deleted
    in its tenant and its conditions hold on the object's data."""

    name: Mapped[str] = text(150, required=True)
    object_types: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()))
    """The types it watches, as NetBox names them (``dcim.device``)."""
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    event_types: Mapped[list[str]] = mapped_column(ARRAY(sa.String(50)))
    """NetBox's event type names: ``object_created``, ``object_updated``, ``object_deleted``."""
    conditions: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    """NetBox's condition set (``{"and": [{"attr": "status", "value": "active"}]}``) over
    the object's data; null: always."""
    action_type: Mapped[EventRuleAction] = choice(EventRuleAction, default=EventRuleAction.webhook, server_default="webhook")
    action_object_id: Mapped[uuid.UUID] = reference("Webhook", nullable=False, ondelete="CASCADE", related_name="events")
    """The webhook it sends (deleting the webhook deletes its rules, as in NetBox)."""
    action_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    """Merged under the object's data in the webhook's ``data``."""


class WebhookDelivery(TenantScoped):
    """One attempt to deliver a webhook: written by the job worker, read through the API."""

    __read_only__ = True
    __tagged__ = False
    __ordering__ = ("created",)

    webhook_id: Mapped[uuid.UUID | None] = reference("Webhook", related_name="deliveries")
    event_rule_id: Mapped[uuid.UUID | None] = reference("EventRule", related_name=NO_REVERSE)
    event_type: Mapped[str] = text(50)
    object_type: Mapped[str] = text(100)
    """The changed object's type (``dcim.device``)."""
    object_id: Mapped[uuid.UUID] = mapped_column()
    request_id: Mapped[uuid.UUID] = mapped_column()
    """The request that made the change (as in the change log)."""
    attempt: Mapped[int] = mapped_column(sa.SmallInteger())
    """1 for the first try, then one more per retry."""
    http_method: Mapped[str] = text(30)
    request_url: Mapped[str] = long_text()
    status_code: Mapped[int | None] = mapped_column(sa.SmallInteger(), nullable=True)
    """The answer's HTTP status; null when none came."""
    response: Mapped[str] = long_text()
    """The start of the answer's body."""
    error: Mapped[str] = long_text()
    """Why the attempt failed (empty when it succeeded)."""
