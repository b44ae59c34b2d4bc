"""The ``sweep`` job: ask every address of a prefix over SNMP, with one profile's
credentials, what it is, and keep each one that answers as a discovery candidate
(models/discovery.py ``DiscoveryCandidate``) for ``discovery_candidate_adopt``.

Parameters: ``prefix`` (a CIDR of at most 4096 hosts; host bits are dropped), ``profile``
(an SNMP profile id of the job's tenant), optional ``timeout`` (seconds, 0.01–60) and
``retries`` (0–10) overriding the profile's, ``concurrency`` (addresses asked at once,
1–128, default 64). An IPv4 prefix shorter than /31 leaves out its network and broadcast
addresses. Each address gets one request (the system group: ``snmp.probe``).

Each answering address is upserted on (tenant, address) with its job item in one
transaction under the job tenant's row-level security, so a later sweep updates the row
and a retried job stores nothing twice. Its device type is the tenant's one type whose
``sys_object_ids`` holds the sysObjectID (several: none, ``device_type_matches`` says how
many); its existing device is the tenant's device at the address (management address,
then primary IP, then an IP address on one of its interfaces).
"""

from __future__ import annotations

import ipaddress
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from jobs.runtime import JobFailed, JobRun, ParameterError, register_kind
from models.base import table_of
from models.discovery import DiscoveryCandidate, SnmpProfile
from resolvers.discovery import UnusableProfile, credentials_of, target_of

if TYPE_CHECKING:
    import snmp

MOST_HOSTS = 4096
PARAMETERS = ("prefix", "profile", "timeout", "retries", "concurrency")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check(parameters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise ParameterError(unknown[0], f"not a parameter of sweep ({', '.join(PARAMETERS)})")
    prefix = parameters.get("prefix")
    try:
        if not isinstance(prefix, str) or "/" not in prefix:
            raise ValueError
        network = ipaddress.ip_network(prefix.strip(), strict=False)
    except ValueError:
        raise ParameterError("prefix", "a CIDR prefix such as 192.0.2.0/24") from None
    if network.is_multicast or network.is_unspecified:
        raise ParameterError("prefix", f"{network} is not a prefix of device addresses")
    if host_count(network) > MOST_HOSTS:
        raise ParameterError("prefix", f"{network} has {host_count(network)} hosts; a sweep asks at most {MOST_HOSTS}")
    checked: dict[str, Any] = {"prefix": str(network)}
    try:
        checked["profile"] = str(uuid.UUID(str(parameters["profile"])))
    except (KeyError, ValueError):
        raise ParameterError("profile", "an SNMP profile id (required)") from None
    if "timeout" in parameters:
        timeout = parameters["timeout"]
        if not _number(timeout) or not 0.01 <= timeout <= 60:
            raise ParameterError("timeout", "seconds, from 0.01 to 60")
        checked["timeout"] = timeout
    if "retries" in parameters:
        retries = parameters["retries"]
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
            raise ParameterError("retries", "a whole number from 0 to 10")
        checked["retries"] = retries
    concurrency = parameters.get("concurrency", 64)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 128:
        raise ParameterError("concurrency", "a whole number from 1 to 128")
    checked["concurrency"] = concurrency
    return checked


def _bare(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Whether the network and broadcast addresses are left out (IPv4 shorter than /31)."""
    return network.version == 4 and network.prefixlen < 31


def host_count(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    return network.num_addresses - 2 if _bare(network) else network.num_addresses


def hosts(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Iterator[str]:
    """The addresses a sweep asks, in order."""
    first, last = int(network.network_address), int(network.broadcast_address)
    if _bare(network):
        first, last = first + 1, last - 1
    for value in range(first, last + 1):
        yield str(ipaddress.ip_address(value) if network.version == 4 else ipaddress.IPv6Address(value))


# The tenant's devices at addresses of the prefix: management address first, then a
# primary IP, then an IP address on one of its interfaces; the lowest number among equals.
_DEVICES_IN = sa.text(
    """
SELECT DISTINCT ON (address) address, device_id FROM (
    SELECT host(d.management_address) AS address, d.id AS device_id, 0 AS rank, d.numid
    FROM device d WHERE d.tenant_id = :tenant AND d.management_address <<= CAST(:prefix AS inet)
    UNION ALL
    SELECT host(a.address), d.id, 1, d.numid FROM device d JOIN ip_address a ON a.id IN (d.primary_ip4_id, d.primary_ip6_id)
    WHERE d.tenant_id = :tenant AND a.address <<= CAST(:prefix AS inet)
    UNION ALL
    SELECT host(a.address), d.id, 2, d.numid FROM ip_address a JOIN interface i ON i.id = a.assigned_object_interface_id
    JOIN device d ON d.id = i.device_id
    WHERE a.tenant_id = :tenant AND a.address <<= CAST(:prefix AS inet)
) found
ORDER BY address, rank, numid
"""
)

# The types declaring an OID (two at most: one is a match, two say it is ambiguous).
_TYPES_OF = sa.text("SELECT id FROM device_type WHERE tenant_id = :tenant AND sys_object_ids @> ARRAY[CAST(:oid AS text)] ORDER BY id LIMIT 2")
_COUNT_TYPES = sa.text("SELECT count(*) FROM device_type WHERE tenant_id = :tenant AND sys_object_ids @> ARRAY[CAST(:oid AS text)]")

_NUMBER = sa.text(
    """
INSERT INTO numid_counter (tenant_id, object_type, last) VALUES (:tenant, :type, 1)
ON CONFLICT (tenant_id, object_type) DO UPDATE SET last = numid_counter.last + 1 RETURNING last
"""
)


def _text(value: str | None, length: int | None = None) -> str:
    text = (value or "").replace("\x00", "")
    return text[:length] if length else text


def _device_type(conn: sa.Connection, tenant_id: uuid.UUID, oid: str | None) -> tuple[uuid.UUID | None, int]:
    if not oid:
        return None, 0
    found = list(conn.execute(_TYPES_OF, {"tenant": tenant_id, "oid": oid}).scalars())
    if len(found) == 1:
        return found[0], 1
    if not found:
        return None, 0
    return None, conn.execute(_COUNT_TYPES, {"tenant": tenant_id, "oid": oid}).scalar_one()


def store_candidate(conn: sa.Connection, *, run: JobRun, profile_id: uuid.UUID, address: str, system: snmp.SystemInfo, existing: uuid.UUID | None) -> str:
    """Upsert the candidate at ``address``; answers its status."""
    table = table_of(DiscoveryCandidate)
    oid = _text(system.object_id, 255).removeprefix(".") or None
    device_type, matches = _device_type(conn, run.tenant_id, oid)
    now = sa.func.now()
    values: dict[str, Any] = {
        "job_id": run.id,
        "snmp_profile_id": profile_id,
        "sys_name": _text(system.name, 255),
        "sys_description": _text(system.description),
        "sys_object_id": oid or "",
        "vendor": _text(system.vendor, 100),
        "platform": _text(system.platform, 100),
        "device_type_id": device_type,
        "device_type_matches": matches,
        "existing_device_id": existing,
        "last_seen": now,
        "last_updated": now,
    }
    # An adopted candidate stays adopted while its device is at the address.
    status = sa.case(
        (sa.literal(existing is None), "new"),
        (table.c.status == "adopted", "adopted"),
        else_="known",
    )
    updated = conn.execute(
        sa.update(table)
        .where(table.c.tenant_id == run.tenant_id, table.c.address == sa.cast(address, table.c.address.type))
        .values(**values, status=status)
        .returning(table.c.status)
    ).scalar_one_or_none()
    if updated is not None:
        return str(updated)
    numid = conn.execute(_NUMBER, {"tenant": run.tenant_id, "type": "discovery_candidate"}).scalar_one()
    new_status = "new" if existing is None else "known"
    # A concurrent sweep of the same address may insert it first: then this one updates it
    # (its number is left unused).
    inserted = conn.execute(
        insert(table)
        .values(tenant_id=run.tenant_id, numid=numid, address=address, status=new_status, first_seen=now, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "address"], set_={**values, "status": status})
        .returning(table.c.status)
    ).scalar_one()
    return str(inserted)


class Cancelled(Exception):
    """Stops the pool once the job was cancelled."""


def sweep(run: JobRun) -> dict[str, Any]:
    import snmp  # the worker's, not the API's

    params = check(run.parameters)
    network = ipaddress.ip_network(params["prefix"])
    profile_id = uuid.UUID(params["profile"])
    profiles = table_of(SnmpProfile)
    with run.transaction() as conn:
        profile = conn.execute(sa.select(profiles).where(profiles.c.id == profile_id, profiles.c.tenant_id == run.tenant_id)).one_or_none()
        if profile is None:
            raise JobFailed(f"profile: no SNMP profile {profile_id} in the job's tenant")
        devices = {row.address: row.device_id for row in conn.execute(_DEVICES_IN, {"tenant": run.tenant_id, "prefix": str(network)})}
    try:
        credentials = credentials_of(profile)
        template = target_of(profile, str(network.network_address))
    except UnusableProfile as error:
        raise JobFailed(f"profile: {error}") from None
    overrides: dict[str, Any] = {}
    if "timeout" in params:
        overrides["timeout"] = float(Decimal(str(params["timeout"])))
    if "retries" in params:
        overrides["retries"] = params["retries"]

    done_before = run.done_items()
    addresses = [address for address in hosts(network) if address not in done_before]
    total = len(addresses)
    run.progress(done=0, total=total, message=f"sweeping {network}: {total} addresses", force=True)
    counts = {"asked": 0, "answered": 0, "new": 0, "known": 0, "adopted": 0, "already_done": host_count(network) - total}
    lock = threading.Lock()
    started = time.monotonic()

    def ask(address: str) -> None:
        if run.cancelled():
            raise Cancelled
        target = snmp.Target(
            address, port=template.port, timeout=overrides.get("timeout", template.timeout), retries=overrides.get("retries", template.retries)
        )
        system = snmp.probe(target, credentials)
        status = None
        if system is not None:
            _, status = run.do_item(
                address, lambda conn: store_candidate(conn, run=run, profile_id=profile_id, address=address, system=system, existing=devices.get(address))
            )
        with lock:
            counts["asked"] += 1
            if status is not None:
                counts["answered"] += 1
                counts[status] += 1
            done = counts["asked"]
        run.progress(done=done)

    pool = ThreadPoolExecutor(max_workers=min(params["concurrency"], max(total, 1)), thread_name_prefix="snmp-sweep")
    try:
        # Submitted in slices of the pool's size: a cancelled sweep stops within a slice.
        size = params["concurrency"]
        for start in range(0, total, size):
            futures = [pool.submit(ask, address) for address in addresses[start : start + size]]
            for future in futures:
                future.result()
    except Cancelled:
        run.log("cancelled: the candidates found so far are stored")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    seconds = time.monotonic() - started
    run.progress(done=counts["asked"], force=True, message=f"{counts['answered']} of {counts['asked']} addresses answered")
    return {**counts, "prefix": str(network), "seconds": round(seconds, 3)}


register_kind(
    "sweep",
    sweep,
    check=check,
    description="Ask every address of a prefix over SNMP with one profile; keep those answering as discovery candidates.",
    time_limit=3600,
    # What it reads (the profile, devices at the addresses, types declaring an OID) and
    # writes: candidates are upserted by address, which reads them under row-level security.
    requires=(("view", "snmp_profile"), ("view", "device"), ("view", "device_type"), ("view", "discovery_candidate")),
    references=(("profile", "SnmpProfile"),),
)
