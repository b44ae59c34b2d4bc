"""``discovery_candidate_adopt``: make devices of what a sweep found (jobs/sweep.py).

One write transaction, so one change-log request. Each candidate must be ``new`` and have a
device type (the one its sysObjectID matched, else the mutation's ``device_type``);
otherwise ``BAD_USER_INPUT`` names ``candidates.<index>`` and nothing is written. A
candidate the caller may not see (another tenant's) is ``NOT_FOUND``. Each device is
created through ``insert_object`` (grants, references, model rules and the change log as
for ``device_create``): named by the candidate's sysName when that is a usable device
name, else by its address; managed at the candidate's address with the profile it
answered. The candidate becomes ``adopted``, its ``existing_device`` the device made.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa

from models.registry import spec_for
from resolvers.context import RequestContext
from resolvers.errors import ApiError, BadUserInput, NotFound
from resolvers.validation import check_values, parse_id
from resolvers.writes import Write, insert_object, require, run_write

_NAME_LENGTH = 64  # Device.name


# A host name (letters, digits, dots, dashes, underscores): an agent's "<private>" or
# free text is not one.
_HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def device_name(sys_name: str, address: str, taken: set[str]) -> str:
    """The candidate's sysName when it is a host name of at most 64 characters not given to
    another device of this adoption, else its address."""
    name = sys_name.strip()
    if len(name) <= _NAME_LENGTH and _HOST_NAME.fullmatch(name) and name.lower() not in taken:
        return name
    return address


async def adopt_candidates(ctx: RequestContext, ids: list[str], site: Any, role: Any, device_type: Any) -> list[sa.Row]:
    """Create a device of each candidate; answers the devices in the order asked."""
    principal = ctx.require_principal()
    device_spec, candidate_spec = spec_for("Device"), spec_for("DiscoveryCandidate")
    require(principal, "add", device_spec)
    if not principal.can("view", candidate_spec.type_key):
        raise NotFound("candidates: no such discovery candidates", field="candidates")
    if not ids:
        raise BadUserInput("candidates: give at least one", field="candidates")
    limit = ctx.settings.max_list_values
    if len(ids) > limit:
        raise BadUserInput(f"candidates: {len(ids)} ids; at most {limit} are allowed in one list", field="candidates")
    parsed = [parse_id(value, f"candidates.{index}") for index, value in enumerate(ids)]
    seen: dict[uuid.UUID, int] = {}
    for index, candidate_id in enumerate(parsed):
        if candidate_id in seen:
            raise BadUserInput(f"candidates.{index}: the same candidate as candidates.{seen[candidate_id]}", field=f"candidates.{index}")
        seen[candidate_id] = index
    site_id, role_id = parse_id(site, "site"), parse_id(role, "role")
    type_id = parse_id(device_type, "device_type") if device_type is not None else None
    table = candidate_spec.table

    async def work(write: Write) -> list[sa.Row]:
        # Locked: two adoptions of one candidate queue here; the second finds it adopted.
        found = {row.id: row for row in await write.conn.execute(sa.select(table).where(table.c.id.in_(parsed)).with_for_update())}
        devices = []
        taken: set[str] = set()
        for index, candidate_id in enumerate(parsed):
            field = f"candidates.{index}"
            candidate = found.get(candidate_id)
            if candidate is None:
                raise NotFound(f"{field}: no discovery candidate with id {candidate_id}", field=field)
            if candidate.status != "new":
                raise BadUserInput(f"{field}: the candidate at {candidate.address} is {candidate.status}, not new", field=field)
            chosen_type = candidate.device_type_id or type_id
            if chosen_type is None:
                why = "several device types declare" if candidate.device_type_matches > 1 else "no device type declares"
                raise BadUserInput(f"{field}: {why} sysObjectID '{candidate.sys_object_id}' of {candidate.address}: give device_type", field=field)
            address = str(candidate.address)
            name = device_name(candidate.sys_name, address, taken)
            taken.add(name.lower())
            values = {
                "tenant_id": candidate.tenant_id,
                "name": name,
                "site_id": site_id,
                "role_id": role_id,
                "device_type_id": chosen_type,
                "management_address": address,
                "snmp_profile_id": candidate.snmp_profile_id,
            }
            try:
                device = await insert_object(write, device_spec, check_values(device_spec, values))
            except ApiError as error:
                if (error.extensions or {}).get("field") in ("site", "role", "device_type", "site_id", "role_id", "device_type_id"):
                    raise
                raise type(error)(f"{field}: {error.message}", field=field) from None
            await write.conn.execute(
                sa.update(table).where(table.c.id == candidate_id).values(status="adopted", existing_device_id=device.id, last_updated=sa.func.now())
            )
            devices.append(device)
        return devices

    return await run_write(ctx, work)
