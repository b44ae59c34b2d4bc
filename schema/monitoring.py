"""Monitoring in the graph: a device's, an IP address's and a service's effective
``checks`` (what resolvers.monitoring.checks_for resolves, with each one's state), and a
site's and a tenant's ``check_summary``. Registered in schema/overrides.py.

Each field reads one batch answer per level (one statement for every object of a list).
The statements run on the request's connection, under its row-level security: a reader
resolves only the assignments, templates and states it may view, of its own tenants. No
SQL form: a selection using them is answered by the resolvers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import strawberry
from strawberry.dataloader import DataLoader

from resolvers.context import RequestContext
from resolvers.loaders import fetch
from resolvers.monitoring import CHECKS
from resolvers.prefetch import Relation
from schema import live

# The effective checks with their state (none yet: unknown) and template, by template name,
# address and port.
_STATED = f"""
SELECT k.*, t.name AS template_name, t.interval_seconds, s.id AS state_id, coalesce(s.state, 'unknown') AS state,
       s.since, s.flapping, s.last_checked, s.last_latency_ms, s.last_value, s.message
FROM ({CHECKS}) k
JOIN check_template t ON t.id = k.template_id
LEFT JOIN check_state s ON s.tenant_id = k.tenant_id AND s.template_id = k.template_id
     AND s.address = CAST(k.address AS inet) AND s.port IS NOT DISTINCT FROM k.port
ORDER BY t.name, CAST(k.address AS inet), k.port NULLS FIRST
"""
_NO_FILTER = {"tenant_id": None, "template_ids": None, "device_ids": None, "ip_address_ids": None, "service_ids": None}

# The counts by state of the checks of each site's devices, and of each tenant.
_BY_SITE = sa.text(
    f"SELECT d.site_id AS key, c.state, count(*) AS n FROM ({_STATED}) c JOIN device d ON d.id = c.device_id"
    " WHERE d.site_id = ANY(CAST(:keys AS uuid[])) GROUP BY 1, 2"
)
_BY_TENANT = sa.text(f"SELECT c.tenant_id AS key, c.state, count(*) AS n FROM ({_STATED}) c WHERE c.tenant_id = ANY(CAST(:keys AS uuid[])) GROUP BY 1, 2")


@strawberry.type(name="EffectiveCheck", description="A check that applies to an object: a template probing an address (and port), and its state.")
class EffectiveCheck:
    template_id: strawberry.ID = strawberry.field(description="The check template.")
    template_name: str
    kind: str = strawberry.field(description="The probe kind (icmp, tcp, udp, http, snmp, ssh, dns).")
    address: str = strawberry.field(description="The host probed.")
    port: Optional[int]
    interval_seconds: int
    assignment_id: strawberry.ID = strawberry.field(description="The assignment that applies (the most specific one).")
    state: str = strawberry.field(description="up, degraded, down, or unknown (not yet checked).")
    state_id: Optional[strawberry.ID] = strawberry.field(description="The check_state record, once the check has run.")
    since: Optional[datetime] = strawberry.field(description="When the state last changed.")
    flapping: bool
    last_checked: Optional[datetime]
    last_latency_ms: Optional[Decimal]
    last_value: str
    message: str


@strawberry.type(name="CheckSummary", description="How many checks are in each state.")
class CheckSummary:
    up: int = 0
    degraded: int = 0
    down: int = 0
    unknown: int = 0


def _check(row: Any) -> EffectiveCheck:
    return EffectiveCheck(
        template_id=strawberry.ID(str(row.template_id)),
        template_name=row.template_name,
        kind=row.kind,
        address=row.address,
        port=row.port,
        interval_seconds=row.interval_seconds,
        assignment_id=strawberry.ID(str(row.assignment_id)),
        state=row.state,
        state_id=strawberry.ID(str(row.state_id)) if row.state_id else None,
        since=row.since,
        flapping=bool(row.flapping),
        last_checked=row.last_checked,
        last_latency_ms=row.last_latency_ms,
        last_value=row.last_value or "",
        message=row.message or "",
    )


def _checks_loader(column: str) -> Any:
    """The effective checks resolved for each object (``column``: device_ids, …)."""

    def factory(ctx: RequestContext) -> DataLoader:
        async def load(keys: list[Any]) -> list[Any]:
            found: dict[Any, list[EffectiveCheck]] = {key: [] for key in keys}
            owner = column.removesuffix("s")
            for row in await fetch(ctx, sa.text(_STATED), {**_NO_FILTER, column: list(keys)}):
                found[getattr(row, owner)].append(_check(row))
            return [found.get(key, []) for key in keys]

        return ctx.loader(("effective-checks", column), load)

    return factory


def _summary_loader(statement: sa.TextClause, name: str) -> Any:
    def factory(ctx: RequestContext) -> DataLoader:
        async def load(keys: list[Any]) -> list[Any]:
            found = {key: CheckSummary() for key in keys}
            for row in await fetch(ctx, statement, {**_NO_FILTER, "keys": list(keys)}):
                setattr(found[row.key], row.state, row.n)
            return [found[key] for key in keys]

        return ctx.loader(("check-summary", name), load)

    return factory


def _answer(root: Any, answer: Any) -> Any:
    return answer


def checks_fields(owner: str, column: str) -> Any:
    """``checks`` on a device, an IP address or a service."""

    def fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
        from schema.overrides import _computed_field  # that module lists this override

        field = _computed_field(
            owner,
            "checks",
            Relation(_checks_loader(column), "id", None, many=False, computed=True, raw=True),
            _answer,
            list[EffectiveCheck],
            "The checks that apply to it (from check assignments, the most specific winning), with their state.",
        )
        return {}, {"checks": field}

    return fields


def summary_fields(owner: str) -> Any:
    """``check_summary`` on a site (its devices' checks) or a tenant (all its checks)."""
    statement, name = (_BY_SITE, "site") if owner == "Site" else (_BY_TENANT, "tenant")

    def fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
        from schema.overrides import _computed_field

        field = _computed_field(
            owner,
            "check_summary",
            Relation(_summary_loader(statement, name), "id", None, many=False, computed=True, raw=True),
            _answer,
            CheckSummary,
            f"How many checks of the {name}{'’s devices' if owner == 'Site' else ''} are up, degraded, down and unknown.",
        )
        return {}, {"check_summary": field}

    return fields


# The current set of check states, then each change the scheduler publishes (schema/live.py).
CHECK_STATE_CHANGED = live.register(
    "check_state_changed",
    "CheckState",
    live.ids("tenant"),
    live.ids("site", via=("device_id", "Device")),
    live.ids("device"),
    live.choice("state"),
    description="The check states you may see that match the filters (action current, then ready), then each change to "
    "one (create, update, delete, or leave when its state moved out of your filter). Filters: tenants, sites (of the "
    "checked device), devices, states (up, degraded, down, unknown).",
)
