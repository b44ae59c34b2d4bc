"""``discovery_candidate_adopt`` in GraphQL (resolvers/sweep.py does the work): devices
made of what a sweep found, answered as the generated device type."""

from typing import Any, Optional

import strawberry

from resolvers.prefetch import prefetch, to_record
from resolvers.sweep import adopt_candidates


def mutation_fields(generated: dict[str, Any]) -> dict[str, Any]:
    device_type = generated["Device"].type

    async def discovery_candidate_adopt(
        info: strawberry.Info,
        candidates: list[strawberry.ID],
        site: strawberry.ID,
        role: strawberry.ID,
        device_type: Optional[strawberry.ID] = None,
    ) -> list[device_type]:  # type: ignore[valid-type]
        """Create a device of each new discovery candidate at ``site`` with ``role``, of the
        device type its sysObjectID matched (else ``device_type``), managed at its address
        with the SNMP profile it answered, as one change-log request. Needs ``add`` on
        devices; known or adopted candidates, and ones without a device type, are refused."""
        rows = await adopt_candidates(info.context, [str(c) for c in candidates], site, role, device_type)
        records = [to_record(row) for row in rows]
        await prefetch(info.context, "Device", records, info.selected_fields[0].selections, info.path.as_list())
        return records

    return {"discovery_candidate_adopt": strawberry.mutation(resolver=discovery_candidate_adopt, description=discovery_candidate_adopt.__doc__)}
