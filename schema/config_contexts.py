"""``config_context`` on devices and virtual machines: the active config contexts that
apply (every dimension a context is assigned must match, nested groups at any level), merged
lightest weight first as NetBox merges them, the object's own ``local_context_data`` on top.

Computed on the resolver path: per request the contexts and their assignments are read
once, and the trees (regions, site groups, locations, roles, platforms) once each."""

from typing import Any, Optional

import sqlalchemy as sa
import strawberry
from strawberry.scalars import JSON

from models.base import Base
from models.extras import CONTEXT_DIMENSIONS
from models.registry import spec_for
from resolvers import loaders
from resolvers.context import RequestContext
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


@strawberry.type(name="RenderedConfigType", description="A configuration rendered from a config template.")
class RenderedConfig:
    configuration: str
    template: str = strawberry.field(description="The config template's name.")
    context: JSON = strawberry.field(description="The config context it was rendered with.")


async def _template_for(ctx: RequestContext, root: Any) -> Any:
    """The object's config template: its own, else its role's, else its platform's."""
    get = root.__dict__.get
    chosen = get("config_template_id")
    for owner, column in (("DeviceRole", "role_id"), ("Platform", "platform_id")):
        if chosen is None and get(column) is not None:
            row = await loaders.by_id(ctx, spec=spec_for(owner)).load(get(column))
            chosen = row.config_template_id if row is not None else None
    return await loaders.by_id(ctx, spec=spec_for("ConfigTemplate")).load(chosen) if chosen is not None else None


def config_fields(owner: str, types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config_context`` and ``render_config`` of a device or virtual machine (``owner``)."""
    assert set(CONTEXT_DIMENSIONS) == {m.name for m in spec_for(CONTEXT).many}
    as_named = owner.lower()  # NetBox's context names the object ``device`` / ``virtualmachine``
    type_key = spec_for(owner).type_key

    async def config_context(root: Any, info: strawberry.Info) -> Optional[JSON]:
        """The config contexts that apply, merged, with this object's local context data on top."""
        return JSON(await merged_context(info.context, root, type_key))

    async def render_config(root: Any, info: strawberry.Info) -> Optional[RenderedConfig]:
        """The configuration rendered from this object's config template (null without one):
        its config context, and the object itself as ``device`` / ``virtualmachine``."""
        ctx = info.context
        template = await _template_for(ctx, root)
        if template is None:
            return None
        context = await merged_context(ctx, root, type_key)
        data = {key: value for key, value in root.__dict__.items() if not key.startswith("_")}
        text = render(template.template_code, template.environment_params, {**context, as_named: data})
        return RenderedConfig(configuration=text, template=template.name, context=JSON(context))

    return {}, {
        "config_context": strawberry.field(resolver=config_context, description=config_context.__doc__),
        "render_config": strawberry.field(resolver=render_config, description=render_config.__doc__),
    }
