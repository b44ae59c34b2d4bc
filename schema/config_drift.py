"""Configuration drift in GraphQL (resolvers/drift.py does the work): a config state's
``diff``, the mutations ``config_snapshot_post`` and ``config_render``, and the
subscription ``config_drift_changed``. The drift types themselves are generated."""

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, Optional

import strawberry

from models.registry import spec_for
from resolvers import drift, loaders
from resolvers.prefetch import prefetch, to_record
from resolvers.validation import parse_id


def config_state_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``diff`` on a config state."""
    intended_spec, snapshot_spec = spec_for("IntendedConfig"), spec_for("ConfigSnapshot")

    async def diff(root: Any, info: strawberry.Info) -> Optional[str]:
        """The intended configuration against the running one (both normalised: volatile
        lines, line ends and trailing whitespace left out), as a unified diff; empty when
        in sync, null when either is missing or you may not view it. At most 5,000 lines."""
        if root.intended_digest is None or root.snapshot_id is None:
            return None
        ctx = info.context
        # Batched: the states of one level load their texts with one statement per side.
        intended = await loaders.by_unique_column(ctx, intended_spec, "device_id").load(root.device_id)
        snapshot = await loaders.by_id(ctx, spec=snapshot_spec).load(root.snapshot_id)
        if intended is None or snapshot is None or intended.digest is None:
            return None
        return drift.unified_diff(intended, snapshot)

    return {}, {"diff": strawberry.field(resolver=diff, description=diff.__doc__)}


async def _answer(info: strawberry.Info, type_name: str, row: Any) -> Any:
    record = to_record(row)
    await prefetch(info.context, type_name, [record], info.selected_fields[0].selections, info.path.as_list())
    return record


def mutation_fields(generated: dict[str, Any]) -> dict[str, Any]:
    snapshot_type, intended_type = generated["ConfigSnapshot"].type, generated["IntendedConfig"].type

    async def config_snapshot_post(
        info: strawberry.Info,
        device: strawberry.ID,
        configuration: str,
        source: Optional[str] = None,
        collected: Optional[datetime] = None,
    ) -> snapshot_type:  # type: ignore[valid-type]
        """Store a device's running configuration (at most 2 MiB), as a runner or collector
        saw it at ``collected`` (default: now), and recompute its config state. The same
        text as its latest snapshot only moves that one's ``last_seen``. Needs ``add`` on
        config snapshots (and ``view`` on devices)."""
        row = await drift.post_snapshot(info.context, device, configuration, source, collected)
        return await _answer(info, "ConfigSnapshot", row)

    async def config_render(info: strawberry.Info, device: strawberry.ID) -> intended_type:  # type: ignore[valid-type]
        """Render the device's config template with its config context and store it as its
        intended configuration (a template that fails is recorded in ``error``), then
        recompute its config state. Needs ``add`` on intended configs and ``view`` on
        config templates."""
        (row,) = await drift.render_and_store(info.context, [device])
        return await _answer(info, "IntendedConfig", row)

    return {
        "config_snapshot_post": strawberry.mutation(resolver=config_snapshot_post, description=config_snapshot_post.__doc__),
        "config_render": strawberry.mutation(resolver=config_render, description=config_render.__doc__),
    }


@strawberry.type(name="ConfigDriftEvent", description="A device's config state changed (committed).")
class ConfigDriftEvent:
    device: strawberry.ID
    site: Optional[strawberry.ID]
    tenant: strawberry.ID
    config_state: strawberry.ID
    from_state: str = strawberry.field(description="in_sync, drifted or unknown.")
    to_state: str = strawberry.field(description="in_sync, drifted or unknown.")
    reason: str
    time: datetime


def visible(principal: Any, event: dict[str, Any]) -> bool:
    """Whether a drift event may reach ``principal``: its organisation, the device's
    tenant among its own, and the view grant on devices and on config states."""
    if event.get("org_id") != str(principal.org_id) or not principal.can("view", "device"):
        return False
    tenant = event.get("tenant_id")
    return principal.may_see_change("config_state", uuid.UUID(tenant) if tenant else None, event.get("audience", ""))


async def config_drift_changed(
    info: strawberry.Info, device: Optional[strawberry.ID] = None, site: Optional[strawberry.ID] = None
) -> AsyncGenerator[ConfigDriftEvent, None]:
    """Transitions of devices' config states (unknown, in_sync, drifted) you may see,
    optionally of one device or of one site's devices."""
    ctx = info.context
    principal = ctx.require_principal()
    wanted_device = str(parse_id(device, "device")) if device is not None else None
    wanted_site = str(parse_id(site, "site")) if site is not None else None
    async for event in ctx.events.subscribe():
        if event.get("kind") != drift.EVENT_KIND or not visible(principal, event):
            continue
        if wanted_device is not None and event.get("device_id") != wanted_device:
            continue
        if wanted_site is not None and event.get("site_id") != wanted_site:
            continue
        yield ConfigDriftEvent(
            device=strawberry.ID(event["device_id"]),
            site=strawberry.ID(event["site_id"]) if event.get("site_id") else None,
            tenant=strawberry.ID(event["tenant_id"]),
            config_state=strawberry.ID(event["id"]),
            from_state=event["from_state"],
            to_state=event["to_state"],
            reason=event["reason"],
            time=datetime.fromisoformat(event["time"]),
        )
