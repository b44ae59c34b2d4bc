"""Derived DCIM fields: a rack's units and utilisation, a power feed's power figures.

Registered in schema/overrides.py. Each reads through the per-request dataloaders, so a
list asks the database once per field, not once per rack or feed."""

import math
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import strawberry
from strawberry.dataloader import DataLoader

from models.choices_dcim import PowerFeedPhase
from models.registry import spec_for
from resolvers import cables, loaders
from resolvers.context import RequestContext
from resolvers.prefetch import TYPE_MARK, Record, of_type, prefetch, sub_selections, to_record
from resolvers.sql import any_of

HALF = Decimal("0.5")


def _devices_by_rack(ctx: RequestContext) -> DataLoader:
    """Per rack id: its placed devices with their type's height and depth."""
    device, kind = spec_for("Device").table, spec_for("DeviceType").table

    async def load(keys: list[Any]) -> list[list[Any]]:
        statement = (
            sa.select(device, kind.c.u_height.label("_height"), kind.c.is_full_depth.label("_full"), kind.c.exclude_from_utilization.label("_excluded"))
            .join(kind, kind.c.id == device.c.device_type_id)
            .where(any_of(device.c.rack_id, keys), device.c.position.is_not(None))
        )
        grouped: dict[Any, list[Any]] = {}
        for row in await loaders.fetch(ctx, statement):
            grouped.setdefault(row.rack_id, []).append(row)
        return [grouped.get(key, []) for key in keys]

    return ctx.loader(("rack-devices",), load)


def _half_units(row: Any) -> range:
    start = int(Decimal(row.position) / HALF)
    return range(start, start + int(Decimal(row._height) / HALF))


def rack_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    device_type = types["Device"]

    @strawberry.type(name="RackUnitType", description="One rack unit and the devices in it, per face.")
    class Unit:
        unit: Decimal
        front: Optional[device_type]  # type: ignore[valid-type]
        rear: Optional[device_type]  # type: ignore[valid-type]

    async def utilization(root: Any, info: strawberry.Info) -> float:
        """Percent of the rack's units occupied (by devices whose type counts), as NetBox computes it."""
        rows = await _devices_by_rack(info.context).load(root.id)
        taken = {half for row in rows if not row._excluded for half in _half_units(row)}
        return round(len(taken) / 2 / root.u_height * 100, 1) if root.u_height else 0.0

    async def units(root: Any, info: strawberry.Info) -> list[Unit]:
        """Every unit, top first (bottom first when units are numbered top down), with what occupies each face."""
        rows = await _devices_by_rack(info.context).load(root.id)
        records = {row.id: to_record(row) for row in rows}
        await prefetch(info.context, "Device", list(records.values()), sub_selections(info, "front", "rear"))
        faces: dict[tuple[int, str], Record] = {}
        for row in rows:
            for face in ("front", "rear") if row._full else (str(row.face),):
                for half in _half_units(row):
                    faces[half // 2 * 2, face] = records[row.id]
        numbers = range(root.starting_unit, root.starting_unit + root.u_height)
        ordered = numbers if root.desc_units else reversed(numbers)
        return [Unit(unit=Decimal(n), front=faces.get((2 * n, "front")), rear=faces.get((2 * n, "rear"))) for n in ordered]

    attributes = {
        "utilization": strawberry.field(resolver=utilization, description="Percent of the rack's units occupied."),
        "units": strawberry.field(resolver=units, description="Every unit with the devices occupying it."),
    }
    return {}, attributes


def available_power(feed: Any) -> int:
    """NetBox's figure: volts × amps × the allowed share, ×√3 for three-phase, in watts."""
    watts = abs(feed.voltage) * feed.amperage * feed.max_utilization / 100
    if feed.phase == PowerFeedPhase.three_phase:
        watts *= math.sqrt(3)
    return int(watts)


def power_feed_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    async def draws(root: Any, info: strawberry.Info) -> tuple[int, int]:
        _, far = await cables.far_end(info.context, of_type(root, "PowerFeed"))
        ports = [p for p in far if p.__dict__.get(TYPE_MARK) == "PowerPort"]
        return sum(p.allocated_draw or 0 for p in ports), sum(p.maximum_draw or 0 for p in ports)

    async def allocated_draw(root: Any, info: strawberry.Info) -> int:
        """Watts allocated by the power ports this feed supplies."""
        return (await draws(root, info))[0]

    async def maximum_draw(root: Any, info: strawberry.Info) -> int:
        """Watts the power ports this feed supplies may draw at most."""
        return (await draws(root, info))[1]

    def available(root: Any) -> int:
        return available_power(root)

    attributes = {
        "available_power": strawberry.field(resolver=available, description="Watts the feed may deliver (NetBox's available_power)."),
        "allocated_draw": strawberry.field(resolver=allocated_draw),
        "maximum_draw": strawberry.field(resolver=maximum_draw),
    }
    return {}, attributes
