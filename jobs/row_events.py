"""Change events for rows a worker writes: the same shape as a
write's change event (resolvers/writes.py ``_change``), so ``object_changed`` and the live
subscriptions see them, plus the row's filter keys. Published on ``danbyte:events`` with
``jobs.runtime.publish`` after the transaction that wrote the rows commits."""

from __future__ import annotations

import uuid
from typing import Any

from models.registry import specs


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def row_event(
    spec_name: str,
    row: Any,
    org_id: uuid.UUID | str,
    action: str,
    changed_fields: list[str],
    **filter_keys: Any,
) -> dict[str, Any]:
    """One event for ``row`` (any object with ``id``, ``tenant_id`` and maybe ``numid``)
    of the model ``spec_name`` (``"CheckState"``). ``filter_keys`` are copied as text:
    ``site_id``, ``device_id`` (None stays None), ``state``, ``severity``, ``status``."""
    spec = specs()[spec_name]
    event: dict[str, Any] = {
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
    }
    for key, value in filter_keys.items():
        event[key] = _text(value.value if hasattr(value, "value") else value)
    return event
