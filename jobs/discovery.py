"""The ``discovery`` job: ask each chosen device over SNMP what it is and has, and store
the answer beside intent (models/observations.py) — never over it.

Parameters (all optional; none: every device of the job's tenant):
``devices`` (a list of device ids), ``site``, ``role`` (ids), ``concurrency`` (devices
asked at once, 1–64, default 16). Each device is reached at its management address with
its SNMP profile (resolvers/discovery.py); a device with neither is listed in the result
as skipped, not an error. Counters are left out: they are polled on their own schedule.

Each device's observation commits with its job item in one transaction, under the job
tenant's row-level security, so a retried job (its worker killed) stores no device twice
and a job can never write another tenant's rows.
"""

from __future__ import annotations

import resource
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from jobs.observations import store_observation
from jobs.runtime import JobRun, ParameterError, register_kind
from models.base import table_of
from models.dcim.devices import Device
from resolvers.discovery import UnusableProfile, address_statement, credentials_of, profile_statement, target_of

# What a discovery reads: everything but the counters (a third of the requests).
SECTIONS = frozenset({"interfaces", "ip_addresses", "lldp", "arp"})
MOST_DEVICES = 10_000


class Cancelled(Exception):
    """Raised from a result callback to stop the pool when the job was cancelled."""


def _id(value: Any, field: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ParameterError(field, "an id") from None


def selection_check(kind: str, *, concurrency: bool = True) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The parameter check of a kind that works on chosen devices (discovery, counter
    polls, renders): ``devices``, ``site``, ``role``, and ``concurrency`` where the kind asks
    devices in parallel."""
    allowed = ("devices", "site", "role", *(("concurrency",) if concurrency else ()))

    def check(parameters: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(parameters) - set(allowed))
        if unknown:
            raise ParameterError(unknown[0], f"not a parameter of {kind} ({', '.join(allowed)})")
        checked: dict[str, Any] = {}
        if "devices" in parameters:
            devices = parameters["devices"]
            if not isinstance(devices, list) or not devices or len(devices) > MOST_DEVICES:
                raise ParameterError("devices", f"a list of 1 to {MOST_DEVICES} device ids")
            checked["devices"] = sorted({_id(value, f"devices.{index}") for index, value in enumerate(devices)})
        for name in ("site", "role"):
            if parameters.get(name) is not None:
                checked[name] = _id(parameters[name], name)
        if concurrency:
            count = parameters.get("concurrency", 16)
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 64:
                raise ParameterError("concurrency", "a whole number from 1 to 64")
            checked["concurrency"] = count
        return checked

    return check


check = selection_check("discovery")
# The objects a device selection names, checked in the job's tenant when it is started.
SELECTION_REFERENCES = (("devices", "Device"), ("site", "Site"), ("role", "DeviceRole"))


def chosen_devices(conn: sa.Connection, params: dict[str, Any]) -> list[uuid.UUID]:
    """The devices the parameters name, as the job's user may see them."""
    device = table_of(Device)
    statement = sa.select(device.c.id).order_by(device.c.id)
    if "devices" in params:
        statement = statement.where(device.c.id.in_([uuid.UUID(value) for value in params["devices"]]))
    if "site" in params:
        statement = statement.where(device.c.site_id == uuid.UUID(params["site"]))
    if "role" in params:
        statement = statement.where(device.c.role_id == uuid.UUID(params["role"]))
    return list(conn.execute(statement).scalars())


def reachable_devices(
    run: JobRun, conn: sa.Connection, device_ids: list[uuid.UUID], unusable: Callable[[uuid.UUID], str | None] = lambda device_id: None
) -> tuple[list[tuple[uuid.UUID, str, Any, Any]], dict[str, list[str]]]:
    """What a job asks each device with: (device, address, snmp target, credentials) of
    each device an earlier attempt did not do, and the ids skipped under their reason (no
    profile, no address, ``unusable``'s reason for the job's own needs, an unusable
    profile). Two statements however many devices."""
    profiles = {row._device: row for row in conn.execute(profile_statement(device_ids))} if device_ids else {}
    addresses = {row.id: row.address for row in conn.execute(address_statement(device_ids))} if device_ids else {}
    done_before = run.done_items()
    asked: list[tuple[uuid.UUID, str, Any, Any]] = []
    skipped: dict[str, list[str]] = {}
    for device_id in device_ids:
        if str(device_id) in done_before:
            continue
        profile, address = profiles.get(device_id), addresses.get(device_id)
        reason = "no SNMP profile" if profile is None else "no management address" if address is None else unusable(device_id)
        if reason is None and address is not None:
            try:
                asked.append((device_id, address, target_of(profile, address), credentials_of(profile)))
                continue
            except UnusableProfile as error:
                run.log(f"device {device_id}: {error}", level="warning")
                reason = "unusable profile"
        skipped.setdefault(reason or "", []).append(str(device_id))
    return asked, skipped


def discover_devices(run: JobRun) -> dict[str, Any]:
    import snmp  # the worker's, not the API's

    params = check(run.parameters)
    with run.transaction() as conn:
        device_ids = chosen_devices(conn, params)
        asked, skipped = reachable_devices(run, conn, device_ids)
    requests = [(target, credentials, (device_id, address)) for device_id, address, target, credentials in asked]
    total = len(requests)
    run.progress(done=0, total=total, message=f"discovering {total} devices", force=True)
    counts = {"discovered": 0, "reachable": 0, "varbinds": 0, "already_done": len(device_ids) - len(requests) - sum(map(len, skipped.values()))}
    lock = threading.Lock()
    started = time.monotonic()

    def store(key: tuple[uuid.UUID, str], facts: snmp.DeviceFacts) -> None:
        if run.cancelled():
            raise Cancelled
        device_id, address = key
        first, _ = run.do_item(
            str(device_id), lambda conn: store_observation(conn, tenant_id=run.tenant_id, device_id=device_id, address=address, facts=facts, sections=SECTIONS)
        )
        if not first:
            return  # another attempt stored it
        with lock:
            counts["discovered"] += 1
            counts["reachable"] += facts.reachable
            counts["varbinds"] += facts.varbinds_received
            done = counts["discovered"]
        run.progress(done=done)

    try:
        snmp.discover_each(requests, store, concurrency=params["concurrency"], sections=SECTIONS)
    except Cancelled:
        run.log("cancelled: the devices discovered so far are stored")
    seconds = time.monotonic() - started
    run.progress(done=counts["discovered"], force=True, message=f"{counts['discovered']} of {total} devices discovered")
    return {
        **counts,
        "devices": len(device_ids),
        "skipped": {reason: ids for reason, ids in skipped.items() if ids},
        "seconds": round(seconds, 3),
        "devices_per_second": round(counts["discovered"] / seconds, 2) if seconds > 0 else None,
        # The worker's peak resident memory (kB on Linux): the figure the benchmark prints.
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


register_kind(
    "discovery",
    discover_devices,
    check=check,
    description="Ask devices over SNMP what they are and have; store it as their observations.",
    time_limit=3600,
    requires=(("view", "device"), ("view", "snmp_profile")),
    references=SELECTION_REFERENCES,
)
