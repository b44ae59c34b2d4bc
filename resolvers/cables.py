"""Cables: NetBox's rules for what may be connected, the endpoints' ``cable`` kept right,
and paths traced through patch panels (registered in resolvers/rules.py).

An endpoint is a row of any kind a cable termination's one-of reference names; nothing
here names a kind except through the choice sets of NetBox's compatibility table.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa

from models.choices_dcim import NONCONNECTABLE_INTERFACE_TYPES
from models.registry import ModelSpec, content_type, spec_for, specs
from resolvers import loaders
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, Conflict
from resolvers.prefetch import TYPE_MARK, Record, to_record, typed_record
from resolvers.rules import RuleBook
from resolvers.writes import Write

TERMINATION = "CableTermination"
ITEM = "termination"

# NetBox's COMPATIBLE_TERMINATION_TYPES: what each kind may be cabled to. Pass-through
# ports (front and rear) take anything a signal can cross.
_PASS_THROUGH = ("dcim.frontport", "dcim.rearport")
_CIRCUIT = "circuits.circuittermination"
COMPATIBLE: dict[str, tuple[str, ...]] = {
    "dcim.consoleport": ("dcim.consoleserverport", *_PASS_THROUGH),
    "dcim.consoleserverport": ("dcim.consoleport", *_PASS_THROUGH),
    "dcim.interface": ("dcim.interface", _CIRCUIT, *_PASS_THROUGH),
    "dcim.powerport": ("dcim.poweroutlet", "dcim.powerfeed"),
    "dcim.poweroutlet": ("dcim.powerport",),
    "dcim.powerfeed": ("dcim.powerport",),
    "dcim.frontport": ("dcim.consoleport", "dcim.consoleserverport", "dcim.interface", _CIRCUIT, *_PASS_THROUGH),
    "dcim.rearport": ("dcim.consoleport", "dcim.consoleserverport", "dcim.interface", _CIRCUIT, *_PASS_THROUGH),
    _CIRCUIT: ("dcim.interface", _CIRCUIT, *_PASS_THROUGH),
}
# What an endpoint belongs to: every termination of one cable end shares it.
PARENT_COLUMNS = ("device_id", "power_panel_id", "circuit_id")
# Ports that pass a signal on: front → rear → (cable) → rear → front.
FRONT, REAR = "FrontPort", "RearPort"
MAPPING = "PortMapping"
# A path longer than this is a loop in the data; tracing stops there.
MAX_HOPS = 64


def register_rules(book: RuleBook) -> None:
    book.check(TERMINATION)(_endpoint_may_take_this_cable)
    book.maintain_after(TERMINATION)(_endpoint_gets_cable)
    # A cable's terminations are deleted with it through the write path, each freeing its endpoint.
    book.maintain_before_delete(TERMINATION)(_endpoint_loses_cable)


@cache
def _members() -> tuple[tuple[str, str], ...]:
    """(endpoint model, termination column) of every kind a cable can attach to."""
    termination = spec_for(TERMINATION)
    return next(o for o in termination.one_of if o.name == ITEM).members


def endpoint_of(row: Any) -> tuple[ModelSpec, Any]:
    """The endpoint a termination row points at: its model's spec and id."""
    for model, column in _members():
        value = getattr(row, column)
        if value is not None:
            return spec_for(model), value
    raise ValueError("a cable termination without an endpoint")


async def _endpoint_may_take_this_cable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """NetBox's rules: an endpoint is on one cable at most; virtual and wireless interfaces
    take none; one end's endpoints are of one kind on one parent; the two ends are
    compatible (console ↔ console server, power port ↔ outlet or feed, interfaces ↔
    interfaces and pass-through ports)."""
    row = {**(old._mapping if old is not None else {}), **values}
    kind, endpoint_id = endpoint_of(_Row(row))
    endpoint = (await write.conn.execute(sa.select(kind.table).where(kind.table.c.id == endpoint_id))).one_or_none()
    if endpoint is None:
        return  # the reference check names it
    if getattr(endpoint, "type", None) in NONCONNECTABLE_INTERFACE_TYPES:
        raise BadUserInput(f"termination: a {endpoint.type} interface takes no cable", field=ITEM)
    if endpoint.cable_id is not None and endpoint.cable_id != row["cable_id"]:
        raise Conflict(f"termination: {kind.name} {_label(endpoint)} already has a cable", field=ITEM)
    if endpoint.mark_connected:
        raise BadUserInput(f"termination: {kind.name} {_label(endpoint)} is marked connected without a cable", field=ITEM)
    mine = content_type(kind.model)
    table = spec.table
    others = (await write.conn.execute(sa.select(table).where(table.c.cable_id == row["cable_id"], table.c.id != row.get("id")))).all()
    parent = _parent(endpoint)
    for other in others:
        their_kind, their_id = endpoint_of(other)
        theirs = content_type(their_kind.model)
        if other.cable_end == row["cable_end"]:
            if theirs != mine:
                raise BadUserInput(f"termination: one cable end connects one kind of endpoint, not {mine} and {theirs}", field=ITEM)
            peer = (await write.conn.execute(sa.select(their_kind.table).where(their_kind.table.c.id == their_id))).one()
            if _parent(peer) != parent:
                raise BadUserInput("termination: the endpoints of one cable end belong to one device", field=ITEM)
        elif theirs not in COMPATIBLE.get(mine, ()):
            raise BadUserInput(f"termination: a {mine} cannot be cabled to a {theirs}", field=ITEM)


class _Row:
    """Attribute access to a dict (a row being written)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        return None


def _label(endpoint: Any) -> str:
    """How an endpoint is named in a message: its name, or its side of a circuit."""
    return getattr(endpoint, "name", None) or getattr(endpoint, "term_side", None) or str(endpoint.id)


def _parent(endpoint: Any) -> Any:
    return next((getattr(endpoint, c) for c in PARENT_COLUMNS if c in endpoint._mapping), None)


async def _set_cable(write: Write, termination: Any, cable_id: Any, end: Any) -> None:
    kind, endpoint_id = endpoint_of(termination)
    await write.conn.execute(sa.update(kind.table).where(kind.table.c.id == endpoint_id).values(cable_id=cable_id, cable_end=end))


async def _endpoint_gets_cable(write: Write, spec: ModelSpec, row: Any, old: Any) -> Any:
    if old is not None and endpoint_of(old) != endpoint_of(row):
        await _set_cable(write, old, None, None)
    await _set_cable(write, row, row.cable_id, row.cable_end)
    return row


async def _endpoint_loses_cable(write: Write, spec: ModelSpec, old: Any) -> None:
    await _set_cable(write, old, None, None)


# --- reading: link peers, traces, connected endpoints ----------------------------------------


@dataclass
class Hop:
    """One cable of a path: the endpoints on its near end, the cable, those on its far end."""

    near_end: list[Record]
    cable: Record | None
    far_end: list[Record]


async def _load(ctx: RequestContext, model: str, ids: list[Any]) -> list[Record]:
    rows = await asyncio.gather(*(loaders.by_id(ctx, spec=spec_for(model)).load(i) for i in ids))
    return [typed_record(row, model) for row in rows if row is not None]


async def far_end(ctx: RequestContext, endpoint: Any) -> tuple[Record | None, list[Record]]:
    """The cable on ``endpoint`` and the endpoints on that cable's other end; for an
    interface on a wireless link instead, no cable and the link's other interface."""
    if endpoint.cable_id is None:
        return None, await _joined_peer(ctx, endpoint)
    cable = await loaders.by_id(ctx, spec=spec_for("Cable")).load(endpoint.cable_id)
    terminations = await loaders.by_column(ctx, spec=spec_for(TERMINATION), column="cable_id").load(endpoint.cable_id)
    by_kind: dict[str, list[Any]] = {}
    for termination in terminations:
        if termination.cable_end != endpoint.cable_end:
            kind, endpoint_id = endpoint_of(termination)
            by_kind.setdefault(kind.type_name, []).append(endpoint_id)
    found = [record for kind, ids in by_kind.items() for record in await _load(ctx, kind, ids)]
    return (to_record(cable) if cable is not None else None), found


@cache
def _joins(model: str) -> tuple[tuple[str, ModelSpec, tuple[str, str]], ...]:
    """(column, link model, its two end columns) of each reference from an endpoint of
    ``model`` to a model that joins two endpoints as a cable does (``__joins__``: a
    wireless link's two interfaces)."""
    found = []
    for ref in spec_for(model).refs:
        link = spec_for(ref.target)
        ends = getattr(link.model, "__joins__", None)
        if ends:
            columns = tuple(link.ref(end).column for end in ends)  # type: ignore[union-attr]
            found.append((ref.column, link, (columns[0], columns[1])))
    return tuple(found)


def _joined_by(endpoint: Any) -> Any:
    """The id of the link joining ``endpoint`` other than a cable, if any."""
    kind = endpoint.__dict__.get(TYPE_MARK)
    return next((getattr(endpoint, column) for column, _, _ in _joins(kind) if getattr(endpoint, column, None)), None) if kind else None


async def _joined_peer(ctx: RequestContext, endpoint: Any) -> list[Record]:
    """The other end of a link that joins ``endpoint`` as a cable would (a wireless link)."""
    kind = endpoint.__dict__.get(TYPE_MARK)
    for column, link, (a, b) in _joins(kind) if kind else ():
        if getattr(endpoint, column, None) is None:
            continue
        row = await loaders.by_id(ctx, spec=link).load(getattr(endpoint, column))
        if row is None:  # hidden from this reader
            return []
        other = getattr(row, b) if getattr(row, a) == endpoint.id else getattr(row, a)
        return await _load(ctx, kind, [other])
    return []


async def _through(ctx: RequestContext, ports: list[Record], positions: list[int]) -> tuple[list[Record], list[int]] | None:
    """The ports on the other side of pass-through ports, and the position stack after; None
    where the path ends (an endpoint, or a rear port with no position to follow)."""
    kinds = {port.__dict__[TYPE_MARK] for port in ports}
    if len(ports) == 1 and len(kinds) == 1:
        peer = await _path_peer(ctx, ports[0])
        if peer is not None:
            return peer, positions
    mappings = spec_for(MAPPING)
    if kinds == {FRONT}:
        found = [m for port in ports for m in await loaders.by_column(ctx, spec=mappings, column="front_port_id").load(port.id)]
        if len(found) != 1:
            return None
        (mapping,) = found
        return await _load(ctx, REAR, [mapping.rear_port_id]), [*positions, mapping.rear_port_position]
    if kinds == {REAR} and len(ports) == 1:
        found = await loaders.by_column(ctx, spec=mappings, column="rear_port_id").load(ports[0].id)
        if positions:
            wanted, rest = positions[-1], positions[:-1]
            found = [m for m in found if m.rear_port_position == wanted]
        else:
            rest = []
        if len(found) != 1:
            return None  # a multi-position rear port entered from its cable: the path splits
        return await _load(ctx, FRONT, [found[0].front_port_id]), rest
    return None


async def _path_peer(ctx: RequestContext, endpoint: Record) -> list[Record] | None:
    """Where a path carries on from an endpoint whose model declares ``__path_peer__`` (a
    circuit's other end): the other row sharing that column, when it has a cable."""
    kind = endpoint.__dict__[TYPE_MARK]
    column = getattr(spec_for(kind).model, "__path_peer__", None)
    if column is None or getattr(endpoint, column) is None:
        return None
    rows = await loaders.by_column(ctx, spec=spec_for(kind), column=column).load(getattr(endpoint, column))
    others = [row for row in rows if row.id != endpoint.id and row.cable_id is not None]
    if len(others) != 1:
        return []  # the circuit's other end has no cable: the path stops here
    return [typed_record(others[0], kind)]


async def trace(ctx: RequestContext, origin: Record) -> list[Hop]:
    """The path from ``origin``: each cable with its ends, through front and rear ports."""
    hops: list[Hop] = []
    near: list[Record] = [origin]
    positions: list[int] = []
    while len(hops) < MAX_HOPS:
        links = {port.cable_id or _joined_by(port) for port in near}
        if len(links) != 1 or None in links:
            break
        cable, far = await far_end(ctx, near[0])
        hops.append(Hop(near, cable, far))
        onward = await _through(ctx, far, positions) if far else None
        if onward is None:
            break
        near, positions = onward
    return hops


def path_destinations() -> list[str]:
    """Models a path may end at beyond its last cable (``__path_destination__``: a
    provider network a circuit lands on), as NetBox's CablePath."""
    return [name for name, spec in specs().items() if getattr(spec.model, "__path_destination__", False)]


async def connected(ctx: RequestContext, hops: list[Hop]) -> list[Record]:
    """NetBox's ``connected_endpoints``: where a complete path ends. Empty for an
    incomplete one: it ends on a pass-through port, or at one end of a circuit whose other
    end has no cable and no provider network (or no other end)."""
    if not hops:
        return []
    last = hops[-1].far_end
    models = [spec_for(port.__dict__[TYPE_MARK]).model for port in last]
    if any(getattr(model, "__pass_through__", False) for model in models):
        return []
    peer_column = getattr(models[0], "__path_peer__", None) if len(last) == 1 else None
    if peer_column is not None:
        return await _beyond_peer(ctx, last[0], peer_column)
    return last


async def _beyond_peer(ctx: RequestContext, endpoint: Record, column: str) -> list[Record]:
    """What a path stopped at ``endpoint`` (a circuit's end, its other end uncabled)
    reaches: the destination its peer (the other row sharing ``column``) lands on, if any
    (trace followed a cabled peer)."""
    spec = spec_for(endpoint.__dict__[TYPE_MARK])
    rows = await loaders.by_column(ctx, spec=spec, column=column).load(getattr(endpoint, column))
    others = [row for row in rows if row.id != endpoint.id]
    if len(others) != 1:
        return []
    for one_of in spec.one_of:
        for target, member in one_of.members:
            if target in path_destinations() and getattr(others[0], member) is not None:
                return await _load(ctx, target, [getattr(others[0], member)])
    return []
