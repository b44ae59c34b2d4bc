"""IPAM behaviour: the derived prefix tree, gateways, and allocation for automation."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from models import prefix_tree
from models.choices import IPAddressRole, IPAddressStatus, PrefixStatus, VLANQinQRole
from models.registry import spec_for
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, Conflict, NotFound
from resolvers.loaders import fetch
from resolvers.rules import RuleBook
from resolvers.writes import Write, insert_object, parse_id, prepare_create, require, run_write

PREFIX = "Prefix"
IP_ADDRESS = "IPAddress"
IP_RANGE = "IPRange"
POPULATED_RANGES = "populated-ranges"  # what a write remembers them under (Write.remember)
VLAN = "VLAN"


def _grouped_loader(ctx: RequestContext, key: str, statement_factory: Any, single: bool) -> Any:
    async def load(keys: list[Any]) -> list[Any]:
        # Row-level security hides prefixes and addresses the principal may not view.
        rows = await fetch(ctx, statement_factory(), {"ids": list(keys)})
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row.owner_key].append(row)
        if single:
            return [grouped[k][0] if grouped.get(k) else None for k in keys]
        return [grouped.get(k, []) for k in keys]

    return ctx.loader(("ipam", key), load)


def parent_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "parent", prefix_tree.parents, single=True)


def children_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "children", prefix_tree.children, single=False)


def depth_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "depth", prefix_tree.depths, single=True)


def ip_addresses_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "ip_addresses", prefix_tree.contained_ips, single=False)


def usage_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "usage", prefix_tree.usage, single=True)


def range_usage_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "range_usage", prefix_tree.range_usage, single=True)


def containing_prefix_loader(ctx: RequestContext) -> Any:
    return _grouped_loader(ctx, "ip_prefix", prefix_tree.containing_prefix_of_ips, single=True)


def utilisation_of(row: Any, usage: Any) -> float | None:
    """Utilisation from a row's usage answer (computed in SQL: models/prefix_tree.py)."""
    value = usage.utilisation if usage is not None else None
    return float(value) if value is not None else None


def range_utilization_of(row: Any, usage: Any) -> float | None:
    """An IP range's utilization from its usage answer (computed in SQL: models/prefix_tree.py)."""
    value = usage.utilization if usage is not None else None
    return float(value) if value is not None else None


# --- gateways -------------------------------------------------------------------------


def register_rules(book: RuleBook) -> None:
    book.check(PREFIX)(_gateway_inside_prefix)
    book.generate_before(PREFIX)(_choose_gateway)
    book.generate_after(PREFIX)(_spawn_gateway_ip)
    book.generate_after(IP_ADDRESS)(_fill_prefix_gateway)
    book.check_created_after(IP_ADDRESS)(_outside_populated_ranges)
    book.maintain_after(IP_RANGE)(_forget_populated_ranges)
    # Judged after the write (the transaction undoes a refusal), so batches of VLANs stay
    # set-based; it always runs, importers included.
    book.maintain_after(VLAN)(_qinq_roles)


async def _outside_populated_ranges(write: Write, spec: Any, row: Any, old: Any) -> Any:
    """As NetBox, no IP address is created inside an IP range marked populated. The
    populated ranges of a (tenant, VRF) are read once per transaction, so a batch of
    creates stays a fixed number of statements."""
    if old is not None:
        return row
    host = ipaddress.ip_interface(row.address).ip
    for start, end in await _populated_ranges(write, row.tenant_id, row.vrf_id):
        if start.version == host.version and start <= host <= end:
            raise BadUserInput(f"cannot create IP address {row.address} inside the range {start}-{end}, which is marked populated", field="address")
    return row


async def _forget_populated_ranges(write: Write, spec: Any, row: Any, old: Any) -> Any:
    """A range written in this transaction: addresses created after it read the ranges again."""
    write.forget(POPULATED_RANGES)
    return row


async def _populated_ranges(write: Write, tenant_id: Any, vrf_id: Any) -> list[tuple[Any, Any]]:
    async def load() -> list[tuple[Any, Any]]:
        table = spec_for(IP_RANGE).table
        statement = sa.select(sa.func.host(table.c.start_address), sa.func.host(table.c.end_address)).where(
            table.c.tenant_id == tenant_id, table.c.vrf_id.is_not_distinct_from(vrf_id), table.c.mark_populated
        )
        return [(ipaddress.ip_address(start), ipaddress.ip_address(end)) for start, end in await write.conn.execute(statement)]

    return await write.remember((POPULATED_RANGES, tenant_id, vrf_id), load)


# --- Q-in-Q (802.1ad) -----------------------------------------------------------------


async def _qinq_roles(write: Write, spec: Any, row: Any, old: Any) -> Any:
    """NetBox's VLAN rules for Q-in-Q: a customer VLAN rides in a service VLAN and only a
    customer VLAN does; what it rides in is a service VLAN (NetBox's forms offer no other);
    a service VLAN keeps its role while customer VLANs ride in it."""
    role, svlan_id = row.qinq_role, row.qinq_svlan_id
    if svlan_id is not None and role != VLANQinQRole.cvlan:
        raise BadUserInput("qinq_svlan: only a Q-in-Q customer VLAN (qinq_role cvlan) rides in a service VLAN", field="qinq_svlan")
    if role == VLANQinQRole.cvlan and svlan_id is None:
        raise BadUserInput("qinq_role: a Q-in-Q customer VLAN needs its service VLAN (qinq_svlan)", field="qinq_role")
    table = spec_for(VLAN).table
    if svlan_id is not None:
        if svlan_id == row.id:
            raise BadUserInput("qinq_svlan: a VLAN cannot be its own service VLAN", field="qinq_svlan")
        # FOR SHARE holds the service VLAN's role until commit: a concurrent role change waits.
        # Row-level security hides other tenants' VLANs; the composite key refuses them anyway.
        query = sa.select(table.c.qinq_role).where(table.c.id == svlan_id).with_for_update(read=True)
        target = (await write.conn.execute(query)).one_or_none()
        if target is not None and target.qinq_role != VLANQinQRole.svlan:
            raise BadUserInput("qinq_svlan: that VLAN is not a Q-in-Q service VLAN (qinq_role svlan)", field="qinq_svlan")
    if old is not None and old.qinq_role == VLANQinQRole.svlan and role != VLANQinQRole.svlan:
        # Lock the row first so a customer VLAN being added concurrently is seen or waits.
        await write.conn.execute(sa.select(table.c.id).where(table.c.id == old.id).with_for_update())
        riding = (await write.conn.execute(sa.select(sa.func.count()).where(table.c.qinq_svlan_id == old.id))).scalar_one()
        if riding:
            raise BadUserInput(f"qinq_role: {riding} customer VLAN(s) ride in this service VLAN; move them first", field="qinq_role")
    return row


async def _gateway_inside_prefix(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    if values.get("gateway") is not None:
        _check_gateway_inside(values["gateway"], values.get("prefix") or old.prefix)


async def _choose_gateway(write: Write, spec: Any, values: dict[str, Any], old: Any) -> None:
    """A new prefix at a site with a gateway policy gets its first or last usable address."""
    if old is not None or values.get("gateway") is not None or values.get("site_id") is None:
        return
    site = spec_for("Site").table
    policy = (await write.conn.execute(sa.select(site.c.gateway_policy).where(site.c.id == values["site_id"]))).scalar_one()
    address = prefix_tree.gateway_address(ipaddress.ip_network(values["prefix"]), policy.value)
    if address is not None:
        values["gateway"] = address.split("/")[0]
        write.notes["spawn_gateway"] = True


def _check_gateway_inside(gateway: str, prefix: str) -> None:
    if ipaddress.ip_interface(gateway).ip not in ipaddress.ip_network(prefix):
        raise BadUserInput(f"gateway {gateway} is outside the prefix {prefix}", field="gateway")


async def _spawn_gateway_ip(write: Write, spec: Any, row: Any, old: Any) -> Any:
    if old is not None or not write.notes.pop("spawn_gateway", False):
        return row
    ip_spec = spec_for(IP_ADDRESS)
    table = ip_spec.table
    host = ipaddress.ip_interface(row.gateway).ip
    exists = (
        await write.conn.execute(
            sa.select(table.c.id).where(
                table.c.tenant_id == row.tenant_id,
                table.c.vrf_id.is_not_distinct_from(row.vrf_id),
                sa.func.host(table.c.address) == str(host),
            )
        )
    ).first()
    if exists is None:
        network = ipaddress.ip_network(row.prefix)
        await write.insert(
            ip_spec,
            {
                "tenant_id": row.tenant_id,
                "vrf_id": row.vrf_id,
                "address": f"{host}/{network.prefixlen}",
                "status": IPAddressStatus.active,
                "role": IPAddressRole.gateway,
                "description": "gateway",
            },
        )
    return row


async def _fill_prefix_gateway(write: Write, spec: Any, row: Any, old: Any) -> Any:
    """Giving an IP the gateway role makes it its prefix's gateway."""
    if row.role != IPAddressRole.gateway:
        return row
    if old is not None and old.role == IPAddressRole.gateway and old.address == row.address:
        return row
    prefix_spec = spec_for(PREFIX)
    table = prefix_spec.table
    host = str(ipaddress.ip_interface(row.address).ip)
    prefix = (
        await write.conn.execute(
            sa.select(table)
            .where(
                table.c.tenant_id == row.tenant_id,
                table.c.vrf_id.is_not_distinct_from(row.vrf_id),
                table.c.prefix.op(">>=")(sa.cast(host, table.c.gateway.type)),
            )
            .order_by(sa.func.masklen(table.c.prefix).desc())
            .limit(1)
            .with_for_update()
        )
    ).one_or_none()
    if prefix is not None and prefix.gateway != host:
        await write.update(prefix_spec, prefix, {"gateway": host})
    return row


# --- allocation -----------------------------------------------------------------------


async def _used_hosts(conn: Any, prefix: Any) -> set[str]:
    table = spec_for(IP_ADDRESS).table
    rows = await conn.execute(
        sa.select(sa.func.host(table.c.address)).where(
            table.c.tenant_id == prefix.tenant_id,
            table.c.vrf_id.is_not_distinct_from(prefix.vrf_id),
            table.c.address.op("&&")(sa.cast(prefix.prefix, table.c.address.type)),
            sa.cast(sa.func.host(table.c.address), table.c.address.type).op("<<=")(sa.cast(prefix.prefix, table.c.address.type)),
        )
    )
    return {r[0] for r in rows}


async def _child_networks(conn: Any, prefix: Any) -> list[Any]:
    table = spec_for(PREFIX).table
    rows = await conn.execute(
        sa.select(table.c.prefix).where(
            table.c.tenant_id == prefix.tenant_id,
            table.c.vrf_id.is_not_distinct_from(prefix.vrf_id),
            table.c.prefix.op("<<")(sa.cast(prefix.prefix, table.c.prefix.type)),
        )
    )
    return [ipaddress.ip_network(r[0]) for r in rows]


async def _populated(conn: Any, prefix: Any) -> tuple[tuple[int, int], ...]:
    """The (first, last) hosts of the prefix's IP ranges marked populated: none of their
    addresses is available (NetBox's get_child_ranges(mark_populated=True))."""
    table = spec_for(IP_RANGE).table
    network = ipaddress.ip_network(prefix.prefix)
    inside = [sa.cast(sa.func.host(c), c.type).op("<<=")(sa.cast(str(network), c.type)) for c in (table.c.start_address, table.c.end_address)]
    rows = await conn.execute(
        sa.select(table.c.start_address, table.c.end_address).where(
            table.c.tenant_id == prefix.tenant_id, table.c.vrf_id.is_not_distinct_from(prefix.vrf_id), table.c.mark_populated, *inside
        )
    )
    return tuple((int(ipaddress.ip_interface(r[0]).ip), int(ipaddress.ip_interface(r[1]).ip)) for r in rows)


async def _taken(conn: Any, prefix: Any) -> tuple[set[str], tuple[tuple[int, int], ...]]:
    return await _used_hosts(conn, prefix), await _populated(conn, prefix)


async def available_ips(ctx: RequestContext, prefix: Any, limit: int) -> list[str]:
    if limit < 0 or limit > ctx.settings.max_page_size:
        raise BadUserInput(f"limit must be between 0 and {ctx.settings.max_page_size}", field="limit")
    used, populated = await ctx.run(lambda conn: _taken(conn, prefix))
    return prefix_tree.first_free_hosts(ipaddress.ip_network(prefix.prefix), used, limit, populated)


async def available_prefixes(ctx: RequestContext, prefix: Any) -> list[str]:
    taken = await ctx.run(lambda conn: _child_networks(conn, prefix))
    blocks = prefix_tree.free_blocks(ipaddress.ip_network(prefix.prefix), taken)
    return [str(b) for b in blocks[: ctx.settings.max_page_size]]


async def _lock_prefix(write: Write, prefix_id: Any) -> Any:
    # The row lock serialises allocations from one parent: concurrent callers queue here
    # and each sees the previous one's committed result.
    table = spec_for(PREFIX).table
    row = (await write.conn.execute(sa.select(table).where(table.c.id == parse_id(prefix_id, "prefix")).with_for_update())).one_or_none()
    if row is None:
        raise NotFound(f"no prefix with id {prefix_id}", field="prefix")
    return row


async def allocate_ip(ctx: RequestContext, prefix_id: Any, extra: dict[str, Any]) -> Any:
    ip_spec = spec_for(IP_ADDRESS)
    require(ctx.require_principal(), "add", ip_spec)

    async def work(write: Write) -> Any:
        prefix = await _lock_prefix(write, prefix_id)
        used, populated = await _taken(write.conn, prefix)
        free = prefix_tree.first_free_hosts(ipaddress.ip_network(prefix.prefix), used, 1, populated)
        if not free:
            raise Conflict(f"prefix {prefix.prefix} has no free address", field="prefix")
        data = {"status": IPAddressStatus.active, **extra, "address": free[0]}
        values, many, tags = prepare_create(write.principal, ip_spec, data, tenant_id=prefix.tenant_id)
        values["vrf_id"] = prefix.vrf_id
        return await insert_object(write, ip_spec, values, many, tags)

    return await run_write(ctx, work)


async def allocate_prefix(ctx: RequestContext, prefix_id: Any, prefix_length: int, extra: dict[str, Any]) -> Any:
    prefix_spec = spec_for(PREFIX)
    require(ctx.require_principal(), "add", prefix_spec)

    async def work(write: Write) -> Any:
        parent = await _lock_prefix(write, prefix_id)
        network = ipaddress.ip_network(parent.prefix)
        if not network.prefixlen < prefix_length <= network.max_prefixlen:
            raise BadUserInput(f"prefix_length must be between {network.prefixlen + 1} and {network.max_prefixlen}", field="prefix_length")
        blocks = prefix_tree.free_blocks(network, await _child_networks(write.conn, parent))
        block = next((b for b in blocks if b.prefixlen <= prefix_length), None)
        if block is None:
            raise Conflict(f"prefix {parent.prefix} has no free /{prefix_length}", field="prefix_length")
        child = next(block.subnets(new_prefix=prefix_length))
        data = {"status": PrefixStatus.active, **extra, "prefix": str(child)}
        values, many, tags = prepare_create(write.principal, prefix_spec, data, tenant_id=parent.tenant_id)
        values.update(vrf_id=parent.vrf_id, site_id=values.get("site_id") or parent.site_id)
        return await insert_object(write, prefix_spec, values, many, tags)

    return await run_write(ctx, work)
