"""``discovery_adopt``: apply chosen differences (resolvers/discovery_diff.py) to intent.

One write transaction, so one change-log request. The differences are recomputed inside it
and each id must still name an adoptable difference (``BAD_USER_INPUT`` naming
``differences.<index>`` otherwise), so nothing is applied from a stale read. Everything is
written through ``insert_object`` / ``update_object``: the model rules, natural keys and
cable checks run as for any mutation, and the grants of every type written are checked
before anything is.

What each kind does:

- ``interface_unmodelled``: creates the interface (type from the IANA ifType and speed,
  MTU, speed, enabled from the admin state, description from the alias), and its MAC
  address as its primary one;
- ``serial_mismatch``: sets the device's serial;
- ``interface_mtu`` / ``interface_speed`` / ``interface_admin``: set ``mtu`` / ``speed`` /
  ``enabled``;
- ``interface_mac``: creates the MAC address on the interface (or reuses the interface's
  own with that value) and makes it primary;
- ``address_unknown``: creates the IP address, as observed, assigned to the interface;
- ``arp_unknown``: creates an unassigned IP address, with the length (and VRF) of the most
  specific prefix of the tenant containing it, else ``/32`` or ``/128``;
- ``cable_missing``: creates the cable between the two interfaces.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from models.choices_dcim import InterfaceType
from models.registry import content_type, spec_for
from resolvers.context import RequestContext
from resolvers.discovery_diff import ADOPTABLE, Difference, DiscoveryDifferenceKind, Scope, compute, parse_difference_id
from resolvers.errors import ApiError, BadUserInput
from resolvers.validation import check_values
from resolvers.writes import Write, insert_object, require, run_write, update_object

K = DiscoveryDifferenceKind

# The grants an adoption of each kind needs: (action, model).
WRITES: dict[K, tuple[tuple[str, str], ...]] = {
    K.interface_unmodelled: (("add", "Interface"), ("add", "MACAddress"), ("change", "Interface")),
    K.serial_mismatch: (("change", "Device"),),
    K.interface_mtu: (("change", "Interface"),),
    K.interface_speed: (("change", "Interface"),),
    K.interface_admin: (("change", "Interface"),),
    K.interface_mac: (("add", "MACAddress"), ("change", "Interface")),
    K.address_unknown: (("add", "IPAddress"),),
    K.arp_unknown: (("add", "IPAddress"),),
    K.cable_missing: (("add", "Cable"),),
}
assert set(WRITES) == ADOPTABLE

# IANAifType → NetBox interface type; ethernetCsmacd (6) by speed.
_BY_IF_TYPE = {24: "virtual", 53: "virtual", 131: "virtual", 135: "virtual", 136: "virtual", 161: "lag", 209: "bridge"}
_ETHERNET_BY_SPEED = (
    (100_000_000, "100base-tx"),
    (1_000_000_000, "1000base-t"),
    (2_500_000_000, "2.5gbase-t"),
    (5_000_000_000, "5gbase-t"),
    (10_000_000_000, "10gbase-x-sfpp"),
    (25_000_000_000, "25gbase-x-sfp28"),
    (40_000_000_000, "40gbase-x-qsfpp"),
    (50_000_000_000, "50gbase-x-sfp56"),
    (100_000_000_000, "100gbase-x-qsfp28"),
    (200_000_000_000, "200gbase-x-qsfp56"),
    (400_000_000_000, "400gbase-x-qsfpdd"),
    (800_000_000_000, "800gbase-x-qsfpdd"),
)


def interface_type(if_type: int | None, speed_bps: int | None) -> InterfaceType:
    """The NetBox type of an observed interface: ethernet by its speed (the exact speed, else
    the next one up), loopbacks, VLAN and tunnel interfaces virtual, 802.3ad aggregates LAG;
    anything else (or an ethernet of unknown speed) ``other``."""
    if if_type == 6:
        for speed, name in _ETHERNET_BY_SPEED:
            if speed_bps and speed_bps <= speed:
                return InterfaceType(name)
        return InterfaceType.other
    return InterfaceType(_BY_IF_TYPE.get(if_type or 0, "other"))


@dataclass(frozen=True)
class _Ref:
    """A one-of reference as a cable termination item takes it (``{type, id}``)."""

    type: str
    id: str


async def adopt(ctx: RequestContext, ids: list[str]) -> list[str]:
    """Apply the differences ``ids`` in one write; answers the ids adopted."""
    principal = ctx.require_principal()
    if not ids:
        raise BadUserInput("differences: give at least one", field="differences")
    limit = ctx.settings.max_list_values
    if len(ids) > limit:
        raise BadUserInput(f"differences: {len(ids)} ids; at most {limit} are allowed in one list", field="differences")
    parsed: list[tuple[K, uuid.UUID]] = []
    for index, text in enumerate(ids):
        named = parse_difference_id(text)
        if named is None:
            raise BadUserInput(f"differences.{index}: '{str(text)[:80]}' is not a discovery difference id", field=f"differences.{index}")
        if named[0] not in ADOPTABLE:
            raise BadUserInput(f"differences.{index}: a {named[0].value} difference cannot be adopted", field=f"differences.{index}")
        parsed.append(named)
    # Every grant first: a reader who may not write one of the types gets FORBIDDEN and nothing is written.
    for kind in sorted({kind for kind, _ in parsed}):
        for action, model in WRITES[kind]:
            require(principal, action, spec_for(model))

    async def work(write: Write) -> list[str]:
        scope = Scope(devices=tuple(sorted({device for _, device in parsed})))
        current = {d.id: d for d in await compute(write.conn, principal, scope, {kind for kind, _ in parsed})}
        chosen: dict[str, tuple[int, Difference]] = {}
        for index, text in enumerate(ids):
            difference = current.get(text)
            if difference is None:
                raise BadUserInput(
                    f"differences.{index}: no such difference now: intent or the observation changed since it was read (read the differences again)",
                    field=f"differences.{index}",
                )
            if not difference.adoptable:
                raise BadUserInput(f"differences.{index}: this {difference.kind.value} difference cannot be adopted", field=f"differences.{index}")
            chosen.setdefault(text, (index, difference))
        await _apply(write, list(chosen.values()))
        return list(chosen)

    return await run_write(ctx, work)


async def _apply(write: Write, chosen: list[tuple[int, Difference]]) -> None:
    of = {kind: [(i, d) for i, d in chosen if d.kind is kind] for kind in K}
    try:
        for index, d in of[K.serial_mismatch]:
            await _update(write, "Device", d.device_id, {"serial": d.observed}, index)
        for index, d in of[K.interface_unmodelled]:
            await _create_interface(write, d, index)
        changes: dict[uuid.UUID, tuple[int, dict[str, Any]]] = {}
        for kind in (K.interface_mtu, K.interface_speed, K.interface_admin):
            for index, d in of[kind]:
                assert d.interface_id is not None
                changes.setdefault(d.interface_id, (index, {}))[1].update(d.facts)
        for index, d in of[K.interface_mac]:
            assert d.interface_id is not None
            mac = await _mac_on(write, d.tenant_id, d.interface_id, d.facts["mac"], index)
            changes.setdefault(d.interface_id, (index, {}))[1]["primary_mac_address_id"] = mac
        for interface_id, (index, values) in changes.items():
            await _update(write, "Interface", interface_id, values, index)
        for index, d in of[K.address_unknown]:
            await _insert(write, "IPAddress", {"tenant_id": d.tenant_id, "address": d.observed, _assigned("IPAddress"): d.interface_id}, index)
        await _unassigned_addresses(write, of[K.arp_unknown])
        linked: set[frozenset[uuid.UUID]] = set()
        interface_type_key = content_type(spec_for("Interface").model)
        for _, d in of[K.cable_missing]:
            assert d.interface_id is not None and d.neighbour_interface_id is not None
            ends = frozenset({d.interface_id, d.neighbour_interface_id})
            if ends in linked:
                continue  # the same link seen from both of its ends
            linked.add(ends)
            terminations = {
                "a_terminations": [_Ref(interface_type_key, str(d.interface_id))],
                "b_terminations": [_Ref(interface_type_key, str(d.neighbour_interface_id))],
            }
            await insert_object(write, spec_for("Cable"), {"tenant_id": d.tenant_id}, many=terminations)
    except _Failed as failed:
        raise failed.error from None


class _Failed(Exception):
    def __init__(self, error: ApiError) -> None:
        self.error = error


def _named(error: ApiError, index: int) -> _Failed:
    """An error of one adoption, naming the difference it came from."""
    return _Failed(type(error)(f"differences.{index}: {error.message}", field=f"differences.{index}"))


def _assigned(model: str) -> str:
    spec = spec_for(model)
    return next(column for target, column in next(o for o in spec.one_of if o.name == "assigned_object").members if target == "Interface")


async def _insert(write: Write, model: str, values: dict[str, Any], index: int) -> sa.Row:
    spec = spec_for(model)
    try:
        return await insert_object(write, spec, check_values(spec, values))
    except ApiError as error:
        raise _named(error, index) from None


async def _update(write: Write, model: str, object_id: uuid.UUID, values: dict[str, Any], index: int) -> sa.Row:
    spec = spec_for(model)
    old = (await write.conn.execute(sa.select(spec.table).where(spec.table.c.id == object_id).with_for_update())).one()
    try:
        return await update_object(write, spec, check_values(spec, values), old)
    except ApiError as error:
        raise _named(error, index) from None


async def _create_interface(write: Write, d: Difference, index: int) -> None:
    facts = d.facts
    values: dict[str, Any] = {
        "device_id": d.device_id,
        "name": facts["name"],
        "type": interface_type(facts["if_type"], facts["speed_bps"]),
        "enabled": (facts["admin_status"] or "up").lower() != "down",
        "mtu": facts["mtu"] if facts["mtu"] and 1 <= facts["mtu"] <= 65536 else None,
        "speed": facts["speed_bps"] // 1000 if facts["speed_bps"] else None,
        "description": (facts["alias"] or "")[:200],
    }
    interface = await _insert(write, "Interface", values, index)
    if facts["mac"]:
        mac = await _insert(write, "MACAddress", {"tenant_id": d.tenant_id, "mac_address": facts["mac"], _assigned("MACAddress"): interface.id}, index)
        await _update(write, "Interface", interface.id, {"primary_mac_address_id": mac.id}, index)


async def _mac_on(write: Write, tenant_id: uuid.UUID, interface_id: uuid.UUID, mac: str, index: int) -> uuid.UUID:
    """The interface's own MAC address row with this value, else a new one."""
    table, column = spec_for("MACAddress").table, _assigned("MACAddress")
    existing = (
        await write.conn.execute(sa.select(table.c.id).where(table.c[column] == interface_id, sa.func.upper(table.c.mac_address) == mac).limit(1))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    return (await _insert(write, "MACAddress", {"tenant_id": tenant_id, "mac_address": mac, column: interface_id}, index)).id


async def _unassigned_addresses(write: Write, chosen: list[tuple[int, Difference]]) -> None:
    """ARP entries as IP addresses, each within its most specific containing prefix (one
    statement for all); one address however many routers saw it."""
    if not chosen:
        return
    prefix = spec_for("Prefix").table
    hosts = sorted({d.observed for _, d in chosen})
    statement = sa.select(prefix.c.tenant_id, prefix.c.prefix, prefix.c.vrf_id).where(
        prefix.c.tenant_id.in_({d.tenant_id for _, d in chosen}),
        prefix.c.prefix.op(">>=")(sa.any_(sa.cast(sa.literal(hosts, sa.ARRAY(sa.Text())), sa.ARRAY(sa.dialects.postgresql.INET())))),
    )
    prefixes = [(row.tenant_id, ipaddress.ip_network(str(row.prefix)), row.vrf_id) for row in (await write.conn.execute(statement)).all()]
    made: set[tuple[uuid.UUID, str]] = set()
    for index, d in chosen:
        if (d.tenant_id, d.observed) in made:
            continue
        made.add((d.tenant_id, d.observed))
        host = ipaddress.ip_address(d.observed)
        containing = [(network, vrf) for tenant, network, vrf in prefixes if tenant == d.tenant_id and network.version == host.version and host in network]
        if containing:
            network, vrf = max(containing, key=lambda found: found[0].prefixlen)
            values = {"address": f"{host}/{network.prefixlen}", "vrf_id": vrf}
        else:
            values = {"address": f"{host}/{host.max_prefixlen}", "vrf_id": None}
        await _insert(write, "IPAddress", {"tenant_id": d.tenant_id, "description": f"ARP {d.facts.get('mac', '')}".strip(), **values}, index)
