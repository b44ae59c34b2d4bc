"""Webhooks and event rules: what a write must get right (registered in resolvers/rules.py).
Their templates are checked by resolvers/templates.py (``__template_fields__``), their object
types named by it; delivery is jobs/webhooks.py."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from models.base import Audience
from models.choices import EventRuleAction
from models.conditions import ConditionError, parse
from models.registry import ModelSpec, spec_by_content_type
from models.webhooks import EVENT_TYPES
from resolvers.errors import BadUserInput, Forbidden
from resolvers.rules import RuleBook, value_after
from resolvers.templates import is_header_text
from resolvers.writes import Write

# A template's opening ({{, {%, {#): a URL holding one is rendered per event (NetBox's
# JINJA2_TEMPLATE_RE), and a literal scheme before it (RFC 3986) must still be http(s).
_TEMPLATED = re.compile(r"\{[{%#]")
_LITERAL_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def register_rules(book: RuleBook) -> None:
    book.check("Webhook")(_webhook_is_sendable)
    book.check("EventRule")(_event_rule_is_runnable)


def url_is_http(url: str) -> bool:
    """An absolute http:// or https:// URL with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # a malformed host (an unbalanced IPv6 bracket)
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def _webhook_is_sendable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    url = values.get("payload_url")
    if url is not None:
        if _TEMPLATED.search(url):
            # Rendered per event and checked again then; a literal scheme cannot change.
            scheme = _LITERAL_SCHEME.match(url)
            if scheme and scheme.group(1).lower() not in ("http", "https"):
                raise BadUserInput("payload_url: enter a URL beginning with http:// or https://", field="payload_url")
        elif not url_is_http(url):
            raise BadUserInput("payload_url: enter a URL beginning with http:// or https://", field="payload_url")
    content_type = values.get("http_content_type")
    if content_type is not None and (not content_type.strip() or not is_header_text(content_type)):
        raise BadUserInput("http_content_type: a media type such as application/json, on one line", field="http_content_type")
    if not value_after(values, old, "ssl_verification", True) and value_after(values, old, "ca_file_path"):
        raise BadUserInput("ca_file_path: do not give a CA certificate file when SSL verification is off", field="ca_file_path")


async def _event_rule_is_runnable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    if "event_types" in values:
        known = tuple(EVENT_TYPES.values())
        if not values["event_types"]:
            raise BadUserInput(f"event_types: give at least one of {', '.join(known)}", field="event_types")
        for index, name in enumerate(values["event_types"]):
            if name not in known:
                raise BadUserInput(f"event_types: '{name}' is not an event type raised here; use {', '.join(known)}", field=f"event_types.{index}")
        values["event_types"] = list(dict.fromkeys(values["event_types"]))
    if "object_types" in values:
        if not values["object_types"]:
            raise BadUserInput("object_types: give at least one type (such as dcim.device)", field="object_types")
        for index, name in enumerate(values["object_types"]):
            watched = spec_by_content_type(name)
            if watched is None:
                continue  # named by the template domain's check (resolvers/templates.py)
            if watched.model.__audience__ is not Audience.tenant:
                # Its changes belong to no tenant (tags, accounts): no tenant's rule hears them.
                raise BadUserInput(f"object_types: changes to {name} belong to no tenant; a rule cannot watch them", field=f"object_types.{index}")
            if not write.principal.can("view", watched.type_key):
                # A rule sends the objects' data away: only to someone who may read them.
                raise Forbidden(f"object_types: you may not view {name} objects", field=f"object_types.{index}")
        values["object_types"] = list(dict.fromkeys(values["object_types"]))
    if "conditions" in values and values["conditions"]:
        try:
            parse(values["conditions"])
        except ConditionError as error:
            raise BadUserInput(str(error), field="conditions") from None
    if value_after(values, old, "action_type", EventRuleAction.webhook) is not EventRuleAction.webhook:
        raise BadUserInput("action_type: only webhook actions run here (scripts and notifications do not exist yet)", field="action_type")
