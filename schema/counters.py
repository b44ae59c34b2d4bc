"""An interface's counters (models/counters.py, written by the counter_poll job):
``utilisation``, its latest rates with the percent of its speed, and ``counter_samples``.
Registered in schema/overrides.py.

Each field reads one batch answer per level: every interface of a list at once, one
statement (``counter_samples`` one per distinct argument pair). The samples table is under
row-level security with the interface's view grant, so a reader sees the samples of the
interfaces it may view and no other tenant's. Neither field has an SQL form: a selection
using them is answered by the resolvers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import strawberry
from strawberry.dataloader import DataLoader

from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.loaders import fetch
from resolvers.prefetch import Relation

OWNER = "Interface"
# The most samples one interface answers in one read (a week of 5-minute polls is 2016).
MOST_SAMPLES = 5000

# The latest sample of each interface, with the speed its percent is of: the modelled one
# (kbit/s), else what the latest discovery read from the agent for the same name.
LATEST = sa.text(
    """
    SELECT i.id, s.taken_at, s.in_bps, s.out_bps,
           COALESCE(NULLIF(i.speed, 0) * 1000,
                    (SELECT NULLIF(oi.speed_bps, 0) FROM device_observation o
                     JOIN observed_interface oi ON oi.observation_id = o.id AND oi.name = i.name
                     WHERE o.device_id = i.device_id ORDER BY oi.if_index LIMIT 1)) AS speed_bps
    FROM interface i
    CROSS JOIN LATERAL (
        SELECT c.taken_at, c.in_bps, c.out_bps FROM interface_counter_sample c
        WHERE c.interface_id = i.id ORDER BY c.taken_at DESC LIMIT 1
    ) s
    WHERE i.id = ANY(:ids)
    """
)

SAMPLES = sa.text(
    """
    SELECT k.id AS interface_id, s.* FROM unnest(CAST(:ids AS uuid[])) AS k(id)
    CROSS JOIN LATERAL (
        SELECT c.taken_at, c.in_bps, c.out_bps, c.in_errors_per_second, c.out_errors_per_second,
               c.in_discards_per_second, c.out_discards_per_second
        FROM interface_counter_sample c
        WHERE c.interface_id = k.id AND (CAST(:since AS timestamptz) IS NULL OR c.taken_at >= CAST(:since AS timestamptz))
        ORDER BY c.taken_at DESC LIMIT :limit
    ) s
    ORDER BY k.id, s.taken_at DESC
    """
)


@strawberry.type(name="InterfaceUtilisation", description="An interface's rates at its latest counter poll.")
class Utilisation:
    in_bps: Optional[float] = strawberry.field(description="Received bits per second (null: unknown, e.g. after an agent restart).")
    out_bps: Optional[float] = strawberry.field(description="Sent bits per second.")
    in_percent: Optional[float] = strawberry.field(description="in_bps as a percent of the interface's speed (null when the speed is unknown).")
    out_percent: Optional[float] = strawberry.field(description="out_bps as a percent of the interface's speed.")
    at: datetime = strawberry.field(description="When the counters were read.")


@strawberry.type(name="InterfaceCounterSample", description="An interface's rates between two counter polls, at the later one.")
class Sample:
    taken_at: datetime
    in_bps: Optional[float] = strawberry.field(description="Null where the rate cannot be known (counter reset, agent restart, implausible wrap).")
    out_bps: Optional[float]
    in_errors_per_second: Optional[float]
    out_errors_per_second: Optional[float]
    in_discards_per_second: Optional[float]
    out_discards_per_second: Optional[float]


def _percent(bps: float | None, speed: int | None) -> float | None:
    if bps is None or not speed:
        return None
    return round(bps * 100.0 / speed, 4)


def _latest(ctx: RequestContext) -> DataLoader:
    async def load(keys: list[Any]) -> list[Any]:
        found = {}
        for row in await fetch(ctx, LATEST, {"ids": list(keys)}):
            found[row.id] = Utilisation(
                in_bps=row.in_bps,
                out_bps=row.out_bps,
                in_percent=_percent(row.in_bps, row.speed_bps),
                out_percent=_percent(row.out_bps, row.speed_bps),
                at=row.taken_at,
            )
        return [found.get(key) for key in keys]

    return ctx.loader(("interface-utilisation",), load)


def _samples(ctx: RequestContext, since: datetime | None, limit: int) -> DataLoader:
    async def load(keys: list[Any]) -> list[Any]:
        found: dict[Any, list[Sample]] = {key: [] for key in keys}
        for row in await fetch(ctx, SAMPLES, {"ids": list(keys), "since": since, "limit": limit}):
            found[row.interface_id].append(
                Sample(
                    taken_at=row.taken_at,
                    in_bps=row.in_bps,
                    out_bps=row.out_bps,
                    in_errors_per_second=row.in_errors_per_second,
                    out_errors_per_second=row.out_errors_per_second,
                    in_discards_per_second=row.in_discards_per_second,
                    out_discards_per_second=row.out_discards_per_second,
                )
            )
        return [found.get(key, []) for key in keys]

    return ctx.loader(("interface-counter-samples", since, limit), load)


def _answer(root: Any, answer: Any) -> Any:
    return answer


def counter_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    from schema.overrides import _computed_field  # that module lists this override

    @strawberry.field(description=f"The interface's counter samples, newest first: since a time (inclusive), at most limit (1–{MOST_SAMPLES}).")
    async def counter_samples(root: Any, info: strawberry.Info, since: Optional[datetime] = None, limit: int = 100) -> list[Sample]:
        if not 1 <= limit <= MOST_SAMPLES:
            raise BadUserInput(f"limit: from 1 to {MOST_SAMPLES}", field="limit")
        if since is not None and since.tzinfo is None:
            raise BadUserInput("since: a time with its offset (e.g. 2026-11-30T12:00:00Z)", field="since")
        return await _samples(info.context, since, limit).load(root.id)

    attributes = {
        "utilisation": _computed_field(
            OWNER,
            "utilisation",
            Relation(_latest, "id", None, many=False, computed=True, raw=True),
            _answer,
            Optional[Utilisation],
            "The rates of the latest counter poll (null before two polls); counter_poll jobs keep them.",
        ),
        "counter_samples": counter_samples,
    }
    return {}, attributes
