"""Fields of every cable endpoint (a model that declares ``__cabled__``): ``link_peers``,
``connected_endpoints`` (NetBox's names and unions) and ``trace``, the path hop by hop.

The two lists are prefetched per level like any relation; ``trace`` is for one endpoint
at a time (its hops' records are prefetched when it resolves)."""

import asyncio
from functools import partial
from typing import Any, Optional

import strawberry
from strawberry.dataloader import DataLoader

from models.registry import spec_for
from resolvers import cables, loaders
from resolvers.context import RequestContext
from resolvers.prefetch import Record, Relation, of_type, prefetch, prefetch_marked, register, sub_selections, typed_record
from schema.build import union_of

_HOP: dict[str, type] = {}


def _endpoints() -> list[str]:
    return [model for model, _ in cables._members()]


def _hop_type(types: dict[str, type]) -> type:
    if "hop" not in _HOP:
        peers = union_of("LinkPeerType", _endpoints(), types)

        @strawberry.type(name="CablePathHopType", description="One cable of a path: its near end, the cable, its far end.")
        class CablePathHop:
            near_end: list[peers]  # type: ignore[valid-type]
            cable: Optional[types["Cable"]]  # type: ignore[valid-type,name-defined]  # noqa: F821 (a dict key)
            far_end: list[peers]  # type: ignore[valid-type]

        _HOP["hop"] = CablePathHop
    return _HOP["hop"]


def _loader(ctx: RequestContext, owner: str, answer: Any) -> DataLoader:
    """Per endpoint id of type ``owner``: ``answer(ctx, endpoint record)`` (a list of records)."""

    async def load(keys: list[Any]) -> list[list[Record]]:
        rows = await loaders.by_id(ctx, spec=spec_for(owner)).load_many(keys)
        return list(await asyncio.gather(*(answer(ctx, typed_record(row, owner)) for row in rows if row is not None)))

    return ctx.loader(("cabling", owner, answer.__name__), load)


async def _link_peers(ctx: RequestContext, endpoint: Record) -> list[Record]:
    return (await cables.far_end(ctx, endpoint))[1]


async def _connected_endpoints(ctx: RequestContext, endpoint: Record) -> list[Record]:
    return await cables.connected(ctx, await cables.trace(ctx, endpoint))


def cabled_fields(owner: str, types: dict[str, type]) -> tuple[dict[str, Any], dict[str, Any]]:
    hop = _hop_type(types)
    annotations: dict[str, Any] = {}
    lists = [("link_peers", "LinkPeerType", _link_peers, _endpoints())]
    if not getattr(spec_for(owner).model, "__pass_through__", False):  # front and rear ports end no path
        # A path may also end beyond its last cable (a provider network), as in NetBox's union.
        lists.append(("connected_endpoints", "ConnectedEndpointType", _connected_endpoints, sorted({*_endpoints(), *cables.path_destinations()})))
    for name, union, answer, members in lists:
        register(owner, name, Relation(partial(_loader, owner=owner, answer=answer), "id", None, many=True, union=True))
        annotations[name] = list[union_of(union, members, types)]  # type: ignore[misc]

    async def trace(root: Any, info: strawberry.Info) -> list[hop]:  # type: ignore[valid-type]
        hops = await cables.trace(info.context, of_type(root, owner))
        ends = [record for h in hops for record in (*h.near_end, *h.far_end)]
        await prefetch_marked(info.context, ends, sub_selections(info, "near_end", "far_end"))
        await prefetch(info.context, "Cable", [h.cable for h in hops if h.cable is not None], sub_selections(info, "cable"))
        return [hop(near_end=h.near_end, cable=h.cable, far_end=h.far_end) for h in hops]

    described = {
        "link_peers": "The endpoints on the other end of this endpoint's cable.",
        "connected_endpoints": "Where the path from this endpoint ends, through patch panels and circuits (empty while it is incomplete).",
    }
    attributes = {name: strawberry.field(description=described[name]) for name, _, _, _ in lists}
    attributes["trace"] = strawberry.field(resolver=trace, description="The path from this endpoint, cable by cable.")
    return annotations, attributes
