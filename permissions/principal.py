"""Who is asking: the user behind a token, their organisation, tenants and permissions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

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
    # When the token stops working (None: never).
    expires: datetime | None = None
    token_id: uuid.UUID | None = None

    def can(self, action: str, object_type: str) -> bool:
        if action != "view" and not self.write_enabled:
            return False
        if self.is_admin:
            return True
        return action in self.grants.get(object_type, frozenset())

    @property
    def unrestricted_admin(self) -> bool:
        """An administrator of the whole organisation (no tenant list narrows them)."""
        return self.is_admin and self.all_tenants

    def may_see_change(self, object_type: str, tenant_id: uuid.UUID | None, audience: str) -> bool:
        """Whether a change to an object may reach this principal (a change event).

        The same rule row-level security applies to the change log (permissions/rls.py);
        a test holds the two equal."""
        if not self.can("view", object_type):
            return False
        if audience == "organization":
            return True
        if audience == "tenant":
            return self.all_tenants or (tenant_id is not None and tenant_id in self.tenant_ids)
        return self.unrestricted_admin

    def readable_types(self, writing: bool = False) -> frozenset[str] | None:
        """Object types whose rows the database lets this principal read; None means all.

        A write transaction may also read the types it may add, because PostgreSQL
        checks an inserted row (INSERT … RETURNING) against the read policy; changing or
        deleting needs the view grant anyway (resolvers.writes.require)."""
        if self.is_admin:
            return None
        wanted = {"view"} | ({"add"} if writing and self.write_enabled else set())
        return frozenset(t for t, actions in self.grants.items() if actions & wanted)

    def covers(self, *, is_admin: bool, tenant_ids: frozenset[uuid.UUID] | None, grants: dict[str, frozenset[str]]) -> str | None:
        """Why an account with this reach would exceed this principal's own, or None.

        ``tenant_ids`` None means every tenant of the organisation."""
        if is_admin and not self.is_admin:
            return "administrator rights"
        if tenant_ids is None:
            if not self.all_tenants:
                return "every tenant of the organisation"
        elif not tenant_ids <= self.tenant_ids and not self.all_tenants:
            return "tenants you do not hold"
        if not self.is_admin:
            for object_type, actions in grants.items():
                extra = actions - self.grants.get(object_type, frozenset())
                if extra:
                    return f"{', '.join(sorted(extra))} on {object_type}"
        return None
