"""The ``counter_poll`` job: read each chosen device's interface counters over SNMP, turn
them into rates against the device's previous sample, and keep them as a compact time
series (models/counters.py) for ``DANBYTE_COUNTER_RETENTION_DAYS``.

Parameters as discovery's (``devices``, ``site``, ``role``, ``concurrency``). A device is
polled when it has an SNMP profile, a management address and a discovery: the latest
discovery's interfaces give ifIndex → name, and the name finds the modelled interface.
Indexes that match no modelled interface (or whose name the agent repeats) are not kept.
The first poll of a device only stores its sample; rates start with the second.

Each device's rows, its new state and its job item commit in one transaction, under the
job tenant's row-level security, with the device's state row locked: two overlapping polls
of one device compute each rate against the sample the other left, never against the same
one twice. Rates are NULL where ``snmp.rates`` cannot know them (agent restart, counter
reset, a 32-bit wrap faster than the link): no false spike ever reaches the series.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from danbyte.settings import get_settings
from jobs.discovery import SELECTION_REFERENCES, chosen_devices, reachable_devices, selection_check
from jobs.runtime import JobRun, register_kind
from models.base import table_of
from models.counters import DeviceCounterState, InterfaceCounterSample
from models.dcim.components import Interface
from models.dcim.devices import Device
from models.observations import DeviceObservation, ObservedInterface

# Rows deleted per statement when purging old samples: short transactions, no long locks.
PURGE_BATCH = 10_000
RATE_FIELDS = ("in_bps", "out_bps", "in_errors_per_second", "out_errors_per_second", "in_discards_per_second", "out_discards_per_second")


check = selection_check("counter_poll")


@dataclasses.dataclass(frozen=True)
class Mapped:
    """ifIndex → (interface id, speed in bits/s or None) for one device."""

    interfaces: dict[int, tuple[uuid.UUID, int | None]]

    def speeds(self) -> dict[int, int | None]:
        return {index: speed for index, (_, speed) in self.interfaces.items()}


def mappings(conn: sa.Connection, device_ids: list[uuid.UUID]) -> dict[uuid.UUID, Mapped]:
    """Each device's ifIndexes that name one modelled interface, with the interface's
    speed: the modelled one (kbit/s) if set, else the one the agent reported."""
    observation, observed, interface = table_of(DeviceObservation), table_of(ObservedInterface), table_of(Interface)
    rows = conn.execute(
        sa.select(observation.c.device_id, observed.c.if_index, observed.c.name, interface.c.id, interface.c.speed, observed.c.speed_bps)
        .select_from(observation.join(observed, observed.c.observation_id == observation.c.id))
        .join(interface, sa.and_(interface.c.device_id == observation.c.device_id, interface.c.name == observed.c.name))
        .where(observation.c.device_id.in_(device_ids))
    ).all()
    # A name the agent gives two indexes is ambiguous: neither is kept.
    names = Counter((row.device_id, row.name) for row in rows)
    result: dict[uuid.UUID, Mapped] = {}
    for row in rows:
        if names[row.device_id, row.name] > 1:
            continue
        speed = row.speed * 1000 if row.speed else (row.speed_bps or None)
        result.setdefault(row.device_id, Mapped({})).interfaces[row.if_index] = (row.id, speed)
    return result


def sample_to_json(sample: Any, keep: set[int]) -> dict[str, Any]:
    """A CounterSample as JSON, with the kept interfaces only."""
    return {
        "taken_at": sample.taken_at,
        "uptime_ticks": sample.uptime_ticks,
        "interfaces": [dataclasses.asdict(counters) for counters in sample.interfaces if counters.if_index in keep],
    }


def sample_from_json(data: dict[str, Any]) -> Any:
    import snmp

    return snmp.CounterSample(
        taken_at=float(data["taken_at"]),
        uptime_ticks=data.get("uptime_ticks"),
        interfaces=tuple(snmp.InterfaceCounters(**counters) for counters in data.get("interfaces", ())),
    )


def store_poll(conn: sa.Connection, tenant_id: uuid.UUID, device_id: uuid.UUID, mapped: Mapped, sample: Any) -> int:
    """Rates of ``sample`` against the device's stored one, as rows; the state replaced.
    Answers how many rows were written."""
    import snmp

    state, rows_table = table_of(DeviceCounterState), table_of(InterfaceCounterSample)
    device, interface = table_of(Device), table_of(Interface)
    # Deleted since the job started (or while it asked the agent): nothing to keep. The
    # key-share locks hold the device and interfaces until this transaction commits.
    if conn.execute(sa.select(device.c.id).where(device.c.id == device_id).with_for_update(key_share=True)).one_or_none() is None:
        return 0
    present = {
        str(found)
        for found in conn.execute(
            sa.select(interface.c.id)
            .where(interface.c.id.in_([interface_id for interface_id, _ in mapped.interfaces.values()]))
            .with_for_update(key_share=True)
        ).scalars()
    }
    previous = conn.execute(sa.select(state.c.sample, state.c.interfaces).where(state.c.device_id == device_id).with_for_update()).one_or_none()
    current = {str(index): str(interface_id) for index, (interface_id, _) in mapped.interfaces.items() if str(interface_id) in present}
    written = 0
    if previous is not None:
        earlier = sample_from_json(previous.sample)
        # A poll older than the stored one (a slow overlapping poll) adds nothing and
        # leaves the newer state in place.
        if sample.taken_at <= earlier.taken_at:
            return 0
        taken_at = datetime.fromtimestamp(sample.taken_at, UTC)
        values = []
        for index, rates in snmp.rates(earlier, sample).items():
            interface_id = current.get(str(index))
            # An index now naming another interface than before measured different ports.
            if interface_id is None or previous.interfaces.get(str(index)) != interface_id:
                continue
            values.append({"tenant_id": tenant_id, "interface_id": interface_id, "taken_at": taken_at, **{name: getattr(rates, name) for name in RATE_FIELDS}})
        if values:
            written = len(conn.execute(insert(rows_table).values(values).on_conflict_do_nothing().returning(rows_table.c.interface_id)).all())
    record = {
        "device_id": device_id,
        "tenant_id": tenant_id,
        "sample": sample_to_json(sample, {int(index) for index in current}),
        "interfaces": current,
        "polled_at": datetime.fromtimestamp(sample.taken_at, UTC),
    }
    statement = insert(state).values(record)
    conn.execute(
        statement.on_conflict_do_update(index_elements=[state.c.device_id], set_={k: statement.excluded[k] for k in ("sample", "interfaces", "polled_at")})
    )
    return written


def purge(run: JobRun, days: int) -> int:
    """Delete the tenant's samples older than ``days``, a batch per transaction."""
    rows_table = table_of(InterfaceCounterSample)
    cutoff = datetime.now(UTC) - timedelta(days=days)
    oldest = sa.select(rows_table.c.interface_id, rows_table.c.taken_at).where(rows_table.c.taken_at < cutoff).limit(PURGE_BATCH)
    deleted = 0
    while True:
        with run.transaction() as conn:
            count = conn.execute(sa.delete(rows_table).where(sa.tuple_(rows_table.c.interface_id, rows_table.c.taken_at).in_(oldest))).rowcount
        deleted += count
        if count < PURGE_BATCH or run.cancelled():
            return deleted


def poll_counters(run: JobRun) -> dict[str, Any]:
    import snmp  # the worker's, not the API's

    params = check(run.parameters)
    with run.transaction() as conn:
        device_ids = chosen_devices(conn, params)
        mapped = mappings(conn, device_ids) if device_ids else {}
        asked, skipped = reachable_devices(run, conn, device_ids, lambda device_id: None if device_id in mapped else "no interface to poll")
    requests = [(device_id, target, credentials) for device_id, _, target, credentials in asked]
    total = len(requests)
    run.progress(done=0, total=total, message=f"polling {total} devices", force=True)
    counts = {"polled": 0, "unreachable": 0, "samples": 0, "already_done": len(device_ids) - len(requests) - sum(map(len, skipped.values()))}
    lock = threading.Lock()
    started = time.monotonic()

    def poll(request: tuple[uuid.UUID, Any, Any]) -> None:
        device_id, target, credentials = request
        if run.cancelled():
            return
        device_map = mapped[device_id]
        answer = snmp.sample_counters(target, credentials, speeds=device_map.speeds())
        sample = answer.sample
        first, stored = run.do_item(str(device_id), lambda conn: store_poll(conn, run.tenant_id, device_id, device_map, sample) if sample is not None else 0)
        if not first:
            return  # another attempt stored it
        written = stored or 0
        if answer.sample is None:
            run.log(f"device {device_id}: no counters ({'; '.join(str(e) for e in answer.errors[:3]) or 'no answer'})", level="warning")
        with lock:
            counts["polled"] += 1
            counts["unreachable"] += answer.sample is None
            counts["samples"] += written
            done = counts["polled"]
        run.progress(done=done)

    with ThreadPoolExecutor(max_workers=params["concurrency"], thread_name_prefix="counter-poll") as pool:
        # list(): the first exception is raised here, after the others finished.
        list(pool.map(poll, requests))
    if run.cancelled():
        run.log("cancelled: the devices polled so far are stored")
    days = max(1, get_settings().counter_retention_days)
    purged = purge(run, days)
    seconds = time.monotonic() - started
    run.progress(done=counts["polled"], force=True, message=f"{counts['polled']} of {total} devices polled")
    return {
        **counts,
        "devices": len(device_ids),
        "skipped": {reason: ids for reason, ids in skipped.items() if ids},
        "purged": purged,
        "retention_days": days,
        "seconds": round(seconds, 3),
    }


register_kind(
    "counter_poll",
    poll_counters,
    check=check,
    description="Read interface counters over SNMP; keep their rates as each interface's utilisation and samples.",
    time_limit=3600,
    requires=(("view", "device"), ("view", "snmp_profile"), ("view", "interface")),
    references=SELECTION_REFERENCES,
)
