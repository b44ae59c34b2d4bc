"""Who is asking: the user behind a token, their organisation, tenants and permissions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

ACTIONS = ("view", "add", "change", "delete")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID | None
    username: str
    org_id: uuid.UUID
    tenant_ids: frozenset[uuid.UUID]
    is_admin: bool = False
    write_enabled: bool = True
    # object type → allowed actions; admins skip this table.
    grants: dict[str, frozenset[str]] = field(default_factory=dict)
    # True when no tenant list restricts the principal: tenants created later are theirs too.
    all_tenants: bool = False

    def can(self, action: str, object_type: str) -> bool:
        if action != "view" and not self.write_enabled:
            return False
        if self.is_admin:
            return True
        return action in self.grants.get(object_type, frozenset())
