"""Row events written by workers (contract 1 of issue 12): when a worker changes a row
that live subscribers follow (a check state, an alert), it publishes, after its
transaction commits (jobs.runtime.publish), one event per row of the same shape as a
write's change event (resolvers/writes.py ``Write._change``), plus the keys
subscriptions filter on, copied from the row. No change-log entry backs it."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from models.registry import specs


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row_event(spec_name: str, row: Any, org_id: Any, action: str, changed_fields: list[str], **filter_keys: Any) -> dict[str, Any]:
    """The event of one row a worker created, updated or deleted (``spec_name``: the
    model's class name, such as ``"Alert"``)."""
    spec = specs()[spec_name]
    return {
        "kind": "change",
        "type": spec.name,
        "object_type": spec.type_key,
        "id": str(row.id),
        "numid": getattr(row, "numid", None),
        "action": action,
        "changed_fields": sorted(changed_fields),
        "tenant_id": str(row.tenant_id),
        "audience": "tenant",
        "org_id": str(org_id),
        "affects_principals": False,
        "change_id": None,
        **{key: _plain(value) for key, value in filter_keys.items()},
    }
