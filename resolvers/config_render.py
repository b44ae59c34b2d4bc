"""A device's or virtual machine's configuration: its config template (its own, else its
role's, else its platform's) rendered in the sandbox (resolvers/templates.py) with its
config context (the active contexts that apply, merged lightest weight first as NetBox
merges them, the object's own ``local_context_data`` on top) and the object itself.

Works on any RequestContext, inside a GraphQL request or outside one (a job's, built for
its principal): every read goes through the context's loaders, under the principal's
row-level security; per context the config contexts and their assignments are read once,
and the trees (regions, site groups, locations, roles, platforms) once each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from models.base import Base
from models.registry import spec_by_type_key, spec_for
from resolvers import loaders
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.prefetch import to_record
from resolvers.templates import render

CONTEXT = "ConfigContext"


def deepmerge(original: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` merged into ``original``: dictionaries key by key, anything else replaced."""
    merged = dict(original)
    for key, value in new.items():
        if key in original and isinstance(original[key], dict) and value and isinstance(value, dict):
            merged[key] = deepmerge(original[key], value)
        else:
            merged[key] = value
    return merged


async def _contexts(ctx: RequestContext) -> list[tuple[Any, dict[str, Any], dict[str, set[Any]]]]:
    """Every active context the principal may see, lightest first: its tenant, its data
    and its assignments."""

    async def load(keys: list[Any]) -> list[Any]:
        spec = spec_for(CONTEXT)
        rows = await loaders.fetch(ctx, sa.select(spec.table).where(spec.table.c.is_active).order_by(*spec.ordering))
        assigned: dict[Any, dict[str, set[Any]]] = {row.id: {} for row in rows}
        for relation in spec.many:
            association = Base.metadata.tables[relation.table]
            local, remote = association.c[relation.local], association.c[relation.remote]
            for owner, target in await loaders.fetch(ctx, sa.select(local, remote)):
                if owner in assigned:
                    assigned[owner].setdefault(relation.name, set()).add(target)
        return [[(row.tenant_id, row.data or {}, assigned[row.id]) for row in rows] for _ in keys]

    return await ctx.loader(("config-contexts",), load).load("all")


async def _parents(ctx: RequestContext, model: str) -> dict[Any, Any]:
    """id → parent id of every row of a nested model the principal may see."""

    async def load(keys: list[Any]) -> list[Any]:
        table = spec_for(model).table
        found = {row.id: row.parent_id for row in await loaders.fetch(ctx, sa.select(table.c.id, table.c.parent_id))}
        return [found for _ in keys]

    return await ctx.loader(("parents", model), load).load("all")


async def _chain(ctx: RequestContext, model: str, start: Any) -> set[Any]:
    """``start`` and every group above it."""
    parents, found = await _parents(ctx, model), set()
    while start is not None and start not in found:
        found.add(start)
        start = parents.get(start)
    return found


async def _attributes(ctx: RequestContext, root: Any, type_key: str) -> dict[str, set[Any]]:
    """What a device or VM is, per dimension a context may be assigned to."""
    get = root.__dict__.get
    site = await loaders.by_id(ctx, spec=spec_for("Site")).load(get("site_id")) if get("site_id") else None
    cluster = await loaders.by_id(ctx, spec=spec_for("Cluster")).load(get("cluster_id")) if get("cluster_id") else None
    tenant = await loaders.by_id(ctx, spec=spec_for("Tenant")).load(get("tenant_id")) if get("tenant_id") else None
    return {
        "tenants": {get("tenant_id")} - {None},
        "tenant_groups": await _chain(ctx, "TenantGroup", tenant.group_id if tenant else None),
        "tags": {tag.id for tag in await loaders.tags(ctx, type_key).load(get("id"))},
        "regions": await _chain(ctx, "Region", site.region_id if site else None),
        "site_groups": await _chain(ctx, "SiteGroup", site.group_id if site else None),
        "sites": {get("site_id")} - {None},
        "locations": await _chain(ctx, "Location", get("location_id")),
        "device_types": {get("device_type_id")} - {None},
        "roles": await _chain(ctx, "DeviceRole", get("role_id")),
        "platforms": await _chain(ctx, "Platform", get("platform_id")),
        "clusters": {get("cluster_id")} - {None},
        "cluster_types": {cluster.type_id} if cluster else set(),
        "cluster_groups": {cluster.group_id} - {None} if cluster else set(),
    }


async def merged_context(ctx: RequestContext, root: Any, type_key: str) -> dict[str, Any]:
    """The object's config context: the contexts of its own tenant that apply (a context
    never reaches into another tenant, whoever reads), then its local context data."""
    mine = await _attributes(ctx, root, type_key)
    merged: dict[str, Any] = {}
    for tenant_id, data, assigned in await _contexts(ctx):
        if tenant_id != root.__dict__.get("tenant_id"):
            continue
        if all(mine.get(dimension, set()) & targets for dimension, targets in assigned.items() if targets):
            merged = deepmerge(merged, data)
    local = root.__dict__.get("local_context_data")
    return deepmerge(merged, local) if local else merged


async def template_for(ctx: RequestContext, root: Any) -> Any:
    """The object's config template: its own, else its role's, else its platform's."""
    get = root.__dict__.get
    chosen = get("config_template_id")
    for owner, column in (("DeviceRole", "role_id"), ("Platform", "platform_id")):
        if chosen is None and get(column) is not None:
            row = await loaders.by_id(ctx, spec=spec_for(owner)).load(get(column))
            chosen = row.config_template_id if row is not None else None
    return await loaders.by_id(ctx, spec=spec_for("ConfigTemplate")).load(chosen) if chosen is not None else None


@dataclass(frozen=True)
class Rendered:
    """A configuration rendered from a template, with what it was rendered from."""

    configuration: str
    template: Any  # the config template's row
    context: dict[str, Any]


def object_data(root: Any, type_key: str) -> dict[str, Any]:
    """What a template sees of the object itself (``device`` / ``virtualmachine``): its
    columns, never a sort key nor whatever else a request loaded onto the record, so the
    same object renders the same text whatever the query selected."""
    columns = spec_for(_owner(type_key)).table.columns
    values = root.__dict__
    return {column.name: values.get(column.name) for column in columns if not column.name.startswith("_")}


def _owner(type_key: str) -> str:
    return spec_by_type_key(type_key).type_name


async def render_object(ctx: RequestContext, root: Any, type_key: str) -> Rendered | None:
    """The object's configuration (None without a template); a render error is the
    template's: BadUserInput naming ``template_code``."""
    template = await template_for(ctx, root)
    if template is None:
        return None
    context = await merged_context(ctx, root, type_key)
    as_named = _owner(type_key).lower()  # NetBox's context names the object ``device`` / ``virtualmachine``
    text = render(template.template_code, template.environment_params, {**context, as_named: object_data(root, type_key)})
    return Rendered(configuration=text, template=template, context=context)


async def render_device(ctx: RequestContext, device: Any) -> tuple[str | None, Any, str | None]:
    """(configuration, config template id, error) of one device (a row or a record):
    (None, None, None) when no template applies; (None, template id, why) when it fails
    to render. Never raises for what a template does."""
    record = to_record(device) if hasattr(device, "_mapping") else device
    try:
        rendered = await render_object(ctx, record, spec_for("Device").type_key)
    except BadUserInput as error:
        template = await template_for(ctx, record)
        return None, template.id if template is not None else None, error.message
    if rendered is None:
        return None, None, None
    return rendered.configuration, rendered.template.id, None
