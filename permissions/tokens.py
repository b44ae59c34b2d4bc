"""API tokens and passwords: generation, hashing, and turning a key into a Principal."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from models.auth import ObjectPermission, Token, User
from models.base import table_of
from models.tenancy import Tenant
from permissions.principal import Principal

TOKEN_PREFIX = "dbt_"


def new_token_key() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # Keys are long random strings, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def key_from_header(header: str | None) -> str | None:
    """``Bearer <key>`` or NetBox's ``Token <key>``."""
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not key.strip():
        return None
    return key.strip()


class AuthError(Exception):
    """Why a key was refused (unknown, expired, inactive user)."""


class PrincipalCache:
    """Principals by key digest for a few seconds, so a busy client costs no SQL per request.

    An entry is only good for the *generation* it was built in: every write that changes
    tenants, users, tokens or grants bumps a counter shared by all server processes
    (Redis, see danbyte/events.py), so a revoked token or a new tenant takes effect on
    the next request everywhere. An expired token is refused at its expiry, cached or not.
    """

    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, int, Principal]] = {}

    def get(self, digest: str, generation: int | None) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or generation is None:
            return None
        until, built_in, principal = entry
        if built_in != generation or until <= time.monotonic():
            return None
        if principal.expires is not None and principal.expires <= datetime.now(UTC):
            self._entries.pop(digest, None)
            raise AuthError("token expired")
        return principal

    def put(self, digest: str, generation: int | None, principal: Principal) -> None:
        if generation is None:  # no shared generation to check against: do not cache
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.seconds, generation, principal)

    def clear(self) -> None:
        self._entries.clear()


async def principal_for_key(conn: AsyncConnection, key: str) -> Principal:
    """Look a key up (as the table owner: no principal exists yet) and build its Principal."""
    digest = hash_key(key)
    token, user = Token.__table__, User.__table__
    row = (
        await conn.execute(
            sa.select(token.c.id.label("token_id"), token.c.expires, token.c.write_enabled, token.c.tenant_ids.label("token_tenants"), user)
            .join(user, user.c.id == token.c.user_id)
            .where(token.c.key_hash == digest)
        )
    ).one_or_none()
    if row is None:
        raise AuthError("invalid token")
    if row.expires is not None and row.expires <= datetime.now(UTC):
        raise AuthError("token expired")
    if not row.is_active:
        raise AuthError("user is inactive")
    tenant = Tenant.__table__
    org_tenants = {t for (t,) in await conn.execute(sa.select(tenant.c.id).where(tenant.c.org_id == row.org_id))}
    allowed = set(org_tenants)
    if row.tenant_ids:
        allowed &= set(row.tenant_ids)
    if row.token_tenants:
        allowed &= set(row.token_tenants)
    grants = await grants_of(conn, row.id) if not row.is_admin else {}
    return Principal(
        user_id=row.id,
        username=row.username,
        org_id=row.org_id,
        tenant_ids=frozenset(allowed),
        is_admin=row.is_admin,
        write_enabled=row.write_enabled,
        grants=grants,
        all_tenants=not row.tenant_ids and not row.token_tenants,
        expires=row.expires,
        token_id=row.token_id,
    )


async def grants_of(conn: AsyncConnection, user_id: uuid.UUID) -> dict[str, frozenset[str]]:
    """A user's object permissions: object type → actions."""
    permission = ObjectPermission.__table__
    grants: dict[str, frozenset[str]] = {}
    for object_types, actions in await conn.execute(sa.select(permission.c.object_types, permission.c.actions).where(permission.c.user_id == user_id)):
        for object_type in object_types:
            grants[object_type] = grants.get(object_type, frozenset()) | frozenset(actions)
    return grants


async def create_token(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    *,
    tenant_ids: list[uuid.UUID] | None = None,
    write_enabled: bool = True,
    expires: datetime | None = None,
    description: str = "",
) -> tuple[uuid.UUID, str]:
    """Store a new token and return (id, key). The key is not stored and cannot be shown again."""
    key = new_token_key()
    token_id = (
        await conn.execute(
            sa.insert(table_of(Token))
            .values(
                user_id=user_id,
                key_hash=hash_key(key),
                tenant_ids=tenant_ids or [],
                write_enabled=write_enabled,
                expires=expires,
                description=description,
            )
            .returning(Token.__table__.c.id)
        )
    ).scalar_one()
    return token_id, key


def principal_for_user(conn: sa.Connection, user_id: uuid.UUID, tenant_id: uuid.UUID) -> Principal:
    """The principal a job runs as: its user's grants, narrowed to the job's one tenant.

    Read as the table owner (a worker has no principal yet) on a blocking connection. The
    user must still be active and still reach the tenant (their own tenant list, their
    organisation); otherwise AuthError says why."""
    user, tenant = User.__table__, Tenant.__table__
    row = conn.execute(sa.select(user).where(user.c.id == user_id)).one_or_none()
    if row is None:
        raise AuthError("the user who started the job no longer exists")
    if not row.is_active:
        raise AuthError(f"user {row.username} is inactive")
    in_org = conn.execute(sa.select(tenant.c.id).where(tenant.c.id == tenant_id, tenant.c.org_id == row.org_id)).one_or_none()
    if in_org is None or (row.tenant_ids and tenant_id not in set(row.tenant_ids)):
        raise AuthError(f"user {row.username} may not reach the job's tenant")
    permission = ObjectPermission.__table__
    grants: dict[str, frozenset[str]] = {}
    if not row.is_admin:
        for object_types, actions in conn.execute(sa.select(permission.c.object_types, permission.c.actions).where(permission.c.user_id == user_id)):
            for object_type in object_types:
                grants[object_type] = grants.get(object_type, frozenset()) | frozenset(actions)
    return Principal(
        user_id=row.id,
        username=row.username,
        org_id=row.org_id,
        tenant_ids=frozenset({tenant_id}),
        is_admin=row.is_admin,
        write_enabled=True,
        grants=grants,
        all_tenants=False,
    )
