"""Store what one discovery read from one device (models/observations.py).

One call per device, in the caller's transaction (a discovery job commits it with the
device's job item, so a retried job never stores a device twice). Rows are upserted on
their natural keys, so a rediscovery updates ``last_seen`` and adds nothing twice; rows
the device no longer reports are removed, except in a section whose walk failed, where
what was seen before is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from models.observations import DeviceObservation, ObservedAddress, ObservedArpEntry, ObservedInterface, ObservedNeighbour
from snmp import DeviceFacts


# Each part: its model, the section of discovery it comes from, its natural key.
def _table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


_PARTS: tuple[tuple[type, str, tuple[str, ...]], ...] = (
    (ObservedInterface, "interfaces", ("observation_id", "if_index")),
    (ObservedAddress, "ip_addresses", ("observation_id", "address")),
    (ObservedNeighbour, "lldp", ("observation_id", "local_port_num", "chassis_id", "port_id")),
    (ObservedArpEntry, "arp", ("observation_id", "if_index", "ip")),
)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _interfaces(facts: DeviceFacts) -> list[dict[str, Any]]:
    return [
        {
            "if_index": i.if_index,
            "name": _text(i.name)[:255],
            "description": _text(i.description)[:255],
            "alias": _text(i.alias)[:255],
            "if_type": i.type,
            "mtu": i.mtu,
            "speed_bps": i.speed_bps,
            "mac_address": _text(i.mac).upper()[:17],
            "admin_status": _text(i.admin_status)[:20],
            "oper_status": _text(i.oper_status)[:20],
        }
        for i in facts.interfaces
    ]


def _addresses(facts: DeviceFacts) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for a in facts.ip_addresses:
        length = a.prefix_length if a.prefix_length is not None else (128 if a.version == 6 else 32)
        rows.setdefault(f"{a.address}/{length}", {"address": f"{a.address}/{length}", "if_index": a.if_index})
    return list(rows.values())


def _neighbours(facts: DeviceFacts) -> list[dict[str, Any]]:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for n in facts.lldp_neighbours:
        row = {
            "local_port_num": n.local_port_num,
            "local_port": _text(n.local_port)[:255],
            "local_if_index": n.local_if_index,
            "local_interface": _text(n.local_interface)[:255],
            "chassis_id": _text(n.chassis_id)[:255],
            "chassis_id_subtype": n.chassis_id_subtype,
            "port_id": _text(n.port_id)[:255],
            "port_id_subtype": n.port_id_subtype,
            "port_description": _text(n.port_description)[:255],
            "system_name": _text(n.system_name)[:255],
            "system_description": _text(n.system_description),
            "management_addresses": list(n.management_addresses),
        }
        rows.setdefault((row["local_port_num"], row["chassis_id"], row["port_id"]), row)
    return list(rows.values())


def _arp(facts: DeviceFacts) -> list[dict[str, Any]]:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for e in facts.arp_entries:
        rows.setdefault((e.if_index, e.ip), {"if_index": e.if_index, "ip": e.ip, "mac_address": _text(e.mac).upper()[:17], "state": _text(e.state)[:20]})
    return list(rows.values())


_ROWS = {"interfaces": _interfaces, "ip_addresses": _addresses, "lldp": _neighbours, "arp": _arp}


def store_observation(
    conn: sa.Connection,
    *,
    tenant_id: uuid.UUID,
    device_id: uuid.UUID,
    address: str,
    facts: DeviceFacts,
    sections: Iterable[str],
    seen: datetime | None = None,
) -> uuid.UUID:
    """Upsert ``device_id``'s observation from ``facts`` (of the discovery ``sections``
    asked); answers the observation's id."""
    seen = seen or datetime.now(UTC)
    system = facts.system
    values: dict[str, Any] = {
        "address": address,
        "reachable": facts.reachable,
        "errors": [{"kind": e.kind, "section": e.section, "detail": e.detail, "oid": e.oid} for e in facts.errors],
        "duration_ms": round(facts.duration_seconds * 1000),
        "varbinds": facts.varbinds_received,
        "last_seen": seen,
        "last_updated": seen,
    }
    if system is not None:  # an unreachable device keeps what it said last time
        values |= {
            "sys_description": _text(system.description),
            "sys_object_id": _text(system.object_id)[:255],
            "sys_name": _text(system.name)[:255],
            "sys_location": _text(system.location)[:255],
            "sys_contact": _text(system.contact)[:255],
            "uptime_seconds": None if system.uptime_seconds is None else int(system.uptime_seconds),
            "vendor": _text(system.vendor)[:100],
            "platform": _text(system.platform)[:100],
            "version": _text(system.version)[:100],
            "model": _text(system.model)[:100],
            "serial": _text(system.serial)[:100],
        }
    table = _table(DeviceObservation)
    inserted = insert(table).values(id=uuid.uuid4(), tenant_id=tenant_id, device_id=device_id, first_seen=seen, **values)
    upserted = inserted.on_conflict_do_update(index_elements=[table.c.device_id], set_=values).returning(table.c.id)
    observation_id: uuid.UUID = conn.execute(upserted).scalar_one()
    if not facts.reachable:
        return observation_id
    failed = {e.section for e in facts.errors}
    for model, section, key in _PARTS:
        if section not in sections:
            continue
        rows = _ROWS[section](facts)
        _upsert_part(conn, _table(model), key, tenant_id, observation_id, rows, seen)
        if section not in failed:  # a walk that ended early does not say what is gone
            part = _table(model)
            conn.execute(sa.delete(part).where(part.c.observation_id == observation_id, part.c.last_seen < seen))
    return observation_id


def _upsert_part(
    conn: sa.Connection, table: sa.Table, key: Sequence[str], tenant_id: uuid.UUID, observation_id: uuid.UUID, rows: list[dict[str, Any]], seen: datetime
) -> None:
    if not rows:
        return
    shared = {"tenant_id": tenant_id, "observation_id": observation_id, "first_seen": seen, "last_seen": seen, "last_updated": seen}
    statement = insert(table).values([{"id": uuid.uuid4(), **shared, **row} for row in rows])
    updated = {name: statement.excluded[name] for name in rows[0] if name not in key} | {"last_seen": seen, "last_updated": seen}
    conn.execute(statement.on_conflict_do_update(index_elements=[table.c[name] for name in key], set_=updated))
