"""``alert_acknowledge`` in GraphQL (resolvers/alerts.py does the work), answered as the
generated alert type; the alert's channels are told after the commit (jobs/alerts.py)."""

from typing import Any

import strawberry

from jobs.alerts import notify_message
from resolvers import reads
from resolvers.alerts import acknowledge
from resolvers.prefetch import prefetch, to_record
from schema import live


def mutation_fields(generated: dict[str, Any]) -> dict[str, Any]:
    alert_type = generated["Alert"].type
    spec = generated["Alert"].spec

    async def alert_acknowledge(info: strawberry.Info, id: strawberry.ID, comment: str) -> alert_type:  # type: ignore[valid-type]
        """Acknowledge a firing alert, saying what is being done: it stops escalating, its
        channels are told (PagerDuty: acknowledge), and it still resolves when its check
        recovers. Needs ``change`` on alerts."""
        ctx = info.context
        row = await acknowledge(ctx, id, comment)
        if ctx.events is not None and not row.silenced:
            await ctx.events.enqueue(notify_message(row.id, "acknowledge"))
        records = [to_record(await reads.get_one(ctx, spec, id=row.id))]
        await prefetch(ctx, "Alert", records, info.selected_fields[0].selections, info.path.as_list())
        return records[0]

    return {"alert_acknowledge": strawberry.mutation(resolver=alert_acknowledge, description=alert_acknowledge.__doc__)}


# The current set of alerts, then each change the evaluator or an acknowledgement makes
# (schema/live.py): what a dashboard or the status page (/status) follows.
ALERT_CHANGED = live.register(
    "alert_changed",
    "Alert",
    live.ids("tenant"),
    live.ids("site"),
    live.ids("device"),
    live.choice("severity"),
    live.choice("status"),
    description="The alerts you may see that match the filters (action current, then ready), then each change to one "
    "(create, update, delete, or leave when it moved out of your filter). Filters: tenants, sites, devices, severities "
    "(info, warning, critical), statuses (firing, acknowledged, resolved).",
)
