"""Custom links rendered for one object (``render_custom_links``), as NetBox renders them
on an object's page: every enabled link of the object's tenant whose types include the
object's, in NetBox's order (group, weight, name), its text and URL rendered in the
sandbox with the object (``object``) and the caller (``user``).

- A link whose text renders empty is left out (NetBox hides it).
- The URL is percent-encoded as NetBox encodes it, and answered empty when its scheme is
  not one NetBox allows by default (``ALLOWED_URL_SCHEMES``): ``javascript:``, ``data:``
  and the like never reach a client, whoever wrote the template or the object's fields.
- A template that fails to render answers the link by name with its ``error`` (NetBox
  shows a disabled button with the error), so one bad link does not hide the others.
- ``text`` is plain text: a client writing it into HTML escapes it.

Everything is read under the caller's row-level security: the object (missing or hidden
is NOT_FOUND), its references and the links (the view grant on custom links is needed).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from models.registry import ModelSpec, column_value_for_json, spec_by_content_type, spec_for
from resolvers import loaders
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, NotFound
from resolvers.reads import require_view
from resolvers.rules import RuleBook
from resolvers.templates import render
from resolvers.validation import ALLOWED_URL_SCHEMES, parse_id

# What NetBox leaves unencoded in a rendered URL.
CUSTOM_LINK = "CustomLink"
_URL_SAFE = "/:?&=%+[]@#,;!"


@dataclass(frozen=True)
class RenderedLink:
    name: str
    text: str
    url: str
    group_name: str
    button_class: str
    new_window: bool
    weight: int
    error: str | None = None


def safe_url(rendered: str) -> str:
    """The URL percent-encoded (spaces, quotes, tabs and line breaks too, so no scheme can
    hide behind them: ``java\\tscript:`` becomes a relative path), or '' when its scheme is
    not allowed."""
    quoted = urllib.parse.quote(rendered.strip(), safe=_URL_SAFE)
    try:
        scheme = urllib.parse.urlsplit(quoted).scheme
    except ValueError:  # such as an unclosed IPv6 bracket
        return ""
    return quoted if not scheme or scheme.lower() in ALLOWED_URL_SCHEMES else ""


def _visible_columns(spec: ModelSpec, row: Any) -> dict[str, Any]:
    """A row's values a template may read, as JSON values (an id is its text, so ``tojson``
    works too): no sealed secret, no hidden sort key."""
    return {key: column_value_for_json(value) for key, value in row._mapping.items() if key not in spec.secret_names and not key.startswith("_")}


async def object_context(ctx: RequestContext, spec: ModelSpec, row: Any) -> dict[str, Any]:
    """The object as templates see it: its columns, and each object it refers to (its
    site, its tenant, its scope) with that one's columns, one level deep; a reference the
    caller may not see reads as None."""
    data = _visible_columns(spec, row)
    tenant = spec.ref("tenant")
    links = [*spec.links(), *([("tenant", tenant.column, tenant.target)] if tenant is not None else [])]
    pointed = [(name, spec_for(target), row._mapping.get(column)) for name, column, target in links]
    # One statement per type referred to (the loaders batch what is awaited together).
    found = await asyncio.gather(*(loaders.by_id(ctx, spec=target).load(key) for _, target, key in pointed if key is not None))
    answers = iter(found)
    for name, target, key in pointed:
        value = next(answers) if key is not None else None
        if value is not None or name not in data:  # a one-of's members share a name: the one set wins
            data[name] = _visible_columns(target, value) if value is not None else None
    return data


async def render_links(ctx: RequestContext, object_type: str, object_id: Any) -> list[RenderedLink]:
    principal = ctx.require_principal()
    spec = spec_by_content_type(object_type)
    if spec is None or not spec.tenant_scoped:
        raise BadUserInput(f"object.type: '{object_type}' names no type of a tenant's objects (such as dcim.device)", field="object.type")
    require_view(ctx, spec)
    links = spec_for(CUSTOM_LINK)
    require_view(ctx, links)
    key = parse_id(object_id, "object.id")
    rows = await loaders.fetch(ctx, sa.select(spec.table).where(spec.table.c.id == key))
    if not rows:
        raise NotFound(f"object.id: no {object_type} with id {key}", field="object.id")
    row = rows[0]
    table = links.table
    found = await loaders.fetch(
        ctx,
        sa.select(table).where(table.c.enabled, table.c.tenant_id == row.tenant_id, table.c.object_types.contains([object_type])).order_by(*links.ordering),
    )
    if not found:
        return []
    context = {"object": await object_context(ctx, spec, row), "user": {"username": principal.username}, "debug": False}
    answered = []
    for link in found:
        common = {
            "name": link.name,
            "group_name": link.group_name,
            "button_class": str(link.button_class),
            "new_window": link.new_window,
            "weight": link.weight,
        }
        try:
            text = render(link.link_text, None, context, field="link_text").strip()
            if not text:
                continue  # hidden, as NetBox hides it
            url = safe_url(render(link.link_url, None, context, field="link_url"))
        except BadUserInput as error:
            answered.append(RenderedLink(text=link.name, url="", error=error.message, **common))
            continue
        answered.append(RenderedLink(text=text, url=url, **common))
    return answered


def register_rules(book: RuleBook) -> None:
    book.check(CUSTOM_LINK)(_links_on_tenant_objects)


async def _links_on_tenant_objects(write: Any, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A custom link renders on objects of its tenant: its types must be tenant objects'
    (the names themselves are checked with every template model's, resolvers/templates.py)."""
    for index, name in enumerate(values.get("object_types") or ()):
        target = spec_by_content_type(name)
        if target is not None and not target.tenant_scoped:
            raise BadUserInput(f"object_types: {name} objects belong to no tenant; custom links apply to a tenant's objects", field=f"object_types.{index}")
