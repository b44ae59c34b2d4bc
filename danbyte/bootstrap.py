"""First-start set-up: an organisation, a default tenant, an admin user and their token."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from models.auth import User
from models.base import table_of
from models.tenancy import Organization, Tenant
from permissions.tokens import create_token, hash_password


async def create_organization(conn: AsyncConnection, name: str, slug: str) -> sa.Row:
    org = table_of(Organization)
    return (await conn.execute(sa.insert(org).values(name=name, slug=slug).returning(org))).one()


async def create_admin(conn: AsyncConnection, org_id: object, username: str, password: str | None = None, email: str = "") -> sa.Row:
    user = table_of(User)
    return (
        await conn.execute(
            sa.insert(user)
            .values(
                org_id=org_id,
                username=username,
                email=email,
                is_admin=True,
                password_hash=hash_password(password) if password else "",
            )
            .returning(user)
        )
    ).one()


# Held by first_start's transaction ("dbtefrst").
FIRST_START_LOCK = 0x6462_7465_6672_7374


async def first_start(conn: AsyncConnection) -> str | None:
    """On an empty database create org, tenant, admin; return the admin's new token key.

    Returns None when any user exists already (nothing to do). Under a transaction-level
    advisory lock: API processes starting together against one database create one admin."""
    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_START_LOCK})
    if (await conn.execute(sa.select(sa.func.count()).select_from(User.__table__))).scalar_one():
        return None
    org = await create_organization(conn, "Default", "default")
    await conn.execute(sa.insert(table_of(Tenant)).values(org_id=org.id, name="Default", slug="default"))
    admin = await create_admin(conn, org.id, "admin")
    _, key = await create_token(conn, admin.id, description="created on first start")
    return key
