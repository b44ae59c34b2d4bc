"""Discovery differences in GraphQL (resolvers/discovery_diff.py): ``Device.differences``,
the root ``discovery_difference_list`` and the ``discovery_adopt`` mutation.

Differences are not a model: the type is written here. Its object fields (the device, the
interface, the cable, …) are records of the generated types, loaded one statement per
field for every difference of a level and prefetched below like any relation, so the
statements do not grow with the devices."""

import asyncio
from typing import Any, Optional

import strawberry

from models.registry import spec_for
from resolvers import loaders
from resolvers.context import RequestContext
from resolvers.discovery_adopt import adopt
from resolvers.discovery_diff import ALL_KINDS, OBJECT_FIELDS, Difference, DiscoveryDifferenceKind, Scope, compute
from resolvers.errors import BadUserInput
from resolvers.prefetch import Record, prefetch, selected_fields, to_record
from resolvers.reads import require_view
from resolvers.validation import parse_id
from schema.build import graphql_enum
from schema.lookups import OffsetPaginationInput

_TYPES: dict[int, tuple[Any, Any]] = {}
KindEnum = graphql_enum(DiscoveryDifferenceKind)


def difference_type(types: dict[str, type]) -> Any:
    """``DiscoveryDifferenceType``, built once per set of generated types (a schema)."""
    built = _TYPES.get(id(types["Device"]))
    if built is None:
        annotations: dict[str, Any] = {
            "id": strawberry.ID,
            "kind": str,
            "field": str,
            "observed": str,
            "intended": str,
            "adoptable": bool,
            "device": types["Device"],
        }
        described = {
            "id": strawberry.field(description="Stable while intent and the observation stay as they are: pass it to discovery_adopt."),
            "kind": strawberry.field(description="What differs (the values of DiscoveryDifferenceKindEnum: serial_mismatch, cable_missing, …)."),
            "field": strawberry.field(description="The field or subject that differs (serial, mtu, cable, address)."),
            "observed": strawberry.field(description="What discovery read, as text."),
            "intended": strawberry.field(description="What intent says, as text (empty when intent has nothing)."),
            "adoptable": strawberry.field(description="Whether discovery_adopt can apply it to intent."),
            "device": strawberry.field(description="The observed device."),
        }
        for name, model in OBJECT_FIELDS.items():
            if name != "device":
                annotations[name] = Optional[types[model]]
                described[name] = strawberry.field(default=None)
        namespace = {"__annotations__": annotations, "__module__": __name__, **described}
        difference = strawberry.type(
            type("DiscoveryDifference", (), namespace),
            name="DiscoveryDifferenceType",
            description="A difference between what discovery observed on a device and intent; computed on read, never stored.",
        )

        @strawberry.type(name="DiscoveryAdoptResultType", description="What discovery_adopt applied.")
        class AdoptResult:
            adopted: list[strawberry.ID] = strawberry.field(description="The differences applied to intent.")
            request_id: strawberry.ID = strawberry.field(description="The change-log request of every change made.")

        built = _TYPES[id(types["Device"])] = (difference, AdoptResult)
    return built


def _kinds(kinds: Any) -> frozenset[DiscoveryDifferenceKind]:
    if kinds is None:
        return ALL_KINDS
    return frozenset(DiscoveryDifferenceKind(getattr(kind, "value", kind)) for kind in kinds)


async def _answer(cls: Any, ctx: RequestContext, differences: list[Difference], selections: list[Any], path: list[Any]) -> list[Any]:
    """The differences as GraphQL objects: each selected object field loaded (one statement
    per field) and what is selected below it prefetched."""
    wanted: dict[str, list[Any]] = {}
    for selection in selected_fields(selections):
        if selection.name in OBJECT_FIELDS:
            wanted.setdefault(selection.name, []).extend(selection.selections)
    keys = {name: list(dict.fromkeys(key for d in differences if (key := getattr(d, f"{name}_id")) is not None)) for name in wanted}
    # Together, so fields of one model (device, neighbour_device) are one batch, one statement.
    loaded = await asyncio.gather(*(loaders.by_id(ctx, spec_for(OBJECT_FIELDS[name])).load_many(keys[name]) for name in wanted))
    records: dict[str, dict[Any, Record]] = {}
    for (name, below), rows in zip(wanted.items(), loaded, strict=True):
        found = {key: to_record(row) for key, row in zip(keys[name], rows, strict=True) if row is not None}  # null when hidden
        await prefetch(ctx, OBJECT_FIELDS[name], list(found.values()), below, [*path, name])
        records[name] = found
    answers = []
    for d in differences:
        objects = {name: records.get(name, {}).get(getattr(d, f"{name}_id")) for name in OBJECT_FIELDS}
        answers.append(cls(id=d.id, kind=d.kind.value, field=d.field, observed=d.observed, intended=d.intended, adoptable=d.adoptable, **objects))
    return answers


def device_fields(types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``Device.differences(kinds:)``: every device of a level in one computation."""
    difference, _ = difference_type(types)

    async def differences(root: Any, info: strawberry.Info, kinds: Optional[list[KindEnum]] = None) -> list[difference]:  # type: ignore[valid-type]
        ctx = info.context
        wanted = _kinds(kinds)
        path = [key for key in info.path.as_list() if isinstance(key, str)]
        selections = [s for field in info.selected_fields for s in field.selections]

        async def load(keys: list[Any]) -> list[list[Any]]:
            principal = ctx.require_principal()
            found = await ctx.run(lambda conn: compute(conn, principal, Scope(devices=tuple(keys)), wanted))
            answers = await _answer(difference, ctx, found, selections, path)
            grouped: dict[Any, list[Any]] = {key: [] for key in keys}
            for d, answer in zip(found, answers, strict=True):
                grouped[d.device_id].append(answer)
            return [grouped[key] for key in keys]

        return await ctx.loader(("discovery differences", tuple(path), wanted), load).load(root.id)

    return {}, {
        "differences": strawberry.field(
            resolver=differences,
            description="How what discovery last observed on this device differs from intent (computed on read); only the kinds given, else all.",
        )
    }


@strawberry.input(name="DiscoveryDifferenceFilter", description="Which differences: of any of the devices, sites, tenants or roles given, of the kinds given.")
class DifferenceFilter:
    device: Optional[list[strawberry.ID]] = None
    site: Optional[list[strawberry.ID]] = None
    tenant: Optional[list[strawberry.ID]] = None
    role: Optional[list[strawberry.ID]] = None
    kind: Optional[list[KindEnum]] = None  # type: ignore[valid-type]


def _given(value: Any) -> bool:
    return value is not None and value is not strawberry.UNSET


def _ids(ctx: RequestContext, values: Any, field: str) -> tuple[Any, ...] | None:
    if not _given(values):
        return None
    limit = ctx.settings.max_list_values
    if len(values) > limit:
        raise BadUserInput(f"{field}: {len(values)} ids; at most {limit} are allowed in one list", field=field)
    return tuple(parse_id(value, f"{field}.{index}") for index, value in enumerate(values))


def query_fields(types: dict[str, type]) -> dict[str, Any]:
    difference, _ = difference_type(types)

    async def discovery_difference_list(
        info: strawberry.Info, filters: Optional[DifferenceFilter] = None, pagination: Optional[OffsetPaginationInput] = None
    ) -> list[difference]:  # type: ignore[valid-type]
        """Differences between discovery's observations and intent across devices, sites or
        tenants, device by device (by name), then by kind."""
        ctx = info.context
        principal = ctx.require_principal()
        for model in ("Device", "DeviceObservation"):
            require_view(ctx, spec_for(model))
        scope = Scope()
        wanted = ALL_KINDS
        if filters is not None:
            scope = Scope(
                devices=_ids(ctx, filters.device, "filters.device"),
                sites=_ids(ctx, filters.site, "filters.site"),
                tenants=_ids(ctx, filters.tenant, "filters.tenant"),
                roles=_ids(ctx, filters.role, "filters.role"),
            )
            wanted = _kinds(filters.kind if _given(filters.kind) else None)
        ceiling = ctx.settings.max_page_size
        offset, limit, capped = 0, ceiling, True
        if pagination is not None:
            if _given(pagination.start):
                raise BadUserInput("pagination.start: differences page by offset and limit", field="pagination.start")
            given_limit, given_offset = pagination.limit, pagination.offset
            if given_limit is not None and _given(given_limit):
                if not 0 <= given_limit <= ceiling:
                    raise BadUserInput(f"pagination.limit must be between 0 and the page ceiling of {ceiling}", field="pagination.limit")
                limit, capped = given_limit, False
            if given_offset is not None and _given(given_offset):
                if given_offset < 0:
                    raise BadUserInput("pagination.offset must not be negative", field="pagination.offset")
                offset = given_offset
        found = await ctx.run(lambda conn: compute(conn, principal, scope, wanted))
        page = found[offset : offset + limit]
        if capped and len(found) > offset + limit:
            ctx.report_cut(info.path.as_list(), limit)
        return await _answer(difference, ctx, page, [s for field in info.selected_fields for s in field.selections], info.path.as_list())

    return {"discovery_difference_list": strawberry.field(resolver=discovery_difference_list, description=discovery_difference_list.__doc__)}


def mutation_fields(types: dict[str, type]) -> dict[str, Any]:
    _, result = difference_type(types)

    async def discovery_adopt(info: strawberry.Info, differences: list[strawberry.ID]) -> result:  # type: ignore[valid-type]
        """Apply the chosen differences (their ids) to intent, as one change-log request.
        Each must still differ as read, and be adoptable; nothing is adopted unasked."""
        ctx = info.context
        adopted = await adopt(ctx, [str(d) for d in differences])
        return result(adopted=adopted, request_id=str(ctx.request_id))

    return {"discovery_adopt": strawberry.mutation(resolver=discovery_adopt, description=discovery_adopt.__doc__)}
