"""Factories for test data and a small GraphQL client over the ASGI app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa

from danbyte.bootstrap import create_admin, create_organization
from models.auth import ObjectPermission, User
from models.tenancy import Tenant
from permissions.tokens import create_token


@dataclass
class OrgFixture:
    org_id: uuid.UUID
    tenant_ids: list[uuid.UUID]
    admin_id: uuid.UUID
    admin_key: str
    db: Any = field(repr=False, default=None)

    async def user_key(
        self,
        *,
        is_admin: bool = False,
        tenant_ids: list[uuid.UUID] | None = None,
        token_tenant_ids: list[uuid.UUID] | None = None,
        grants: dict[str, list[str]] | None = None,
        write_enabled: bool = True,
        expires: datetime | None = None,
    ) -> str:
        """A new user with the given rights, and a token for them."""
        async with self.db.system_transaction() as conn:
            user = (
                await conn.execute(
                    sa.insert(User.__table__)
                    .values(
                        org_id=self.org_id,
                        username=f"user-{uuid.uuid4().hex[:10]}",
                        is_admin=is_admin,
                        tenant_ids=tenant_ids or [],
                    )
                    .returning(User.__table__.c.id)
                )
            ).scalar_one()
            for object_type, actions in (grants or {}).items():
                await conn.execute(sa.insert(ObjectPermission.__table__).values(user_id=user, object_types=[object_type], actions=actions))
            _, key = await create_token(conn, user, tenant_ids=token_tenant_ids, write_enabled=write_enabled, expires=expires)
        return key


async def make_org(db: Any, tenants: int = 2) -> OrgFixture:
    suffix = uuid.uuid4().hex[:8]
    async with db.system_transaction() as conn:
        org = await create_organization(conn, f"Org {suffix}", f"org-{suffix}")
        tenant_ids = [
            (
                await conn.execute(
                    sa.insert(Tenant.__table__).values(org_id=org.id, name=f"Tenant {i} {suffix}", slug=f"tenant-{i}-{suffix}").returning(Tenant.__table__.c.id)
                )
            ).scalar_one()
            for i in range(tenants)
        ]
        admin = await create_admin(conn, org.id, f"admin-{suffix}")
        _, key = await create_token(conn, admin.id)
    return OrgFixture(org.id, tenant_ids, admin.id, key, db)


class GraphQLFailure(AssertionError):
    pass


class Api:
    """POSTs GraphQL to the app in-process (httpx ASGI transport)."""

    def __init__(self, client: httpx.AsyncClient, key: str | None) -> None:
        self.client = client
        self.key = key

    @classmethod
    @asynccontextmanager
    async def connect(cls, app: Any, key: str | None) -> AsyncIterator[Api]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://danbyte.test") as client:
            yield cls(client, key)

    def as_key(self, key: str | None) -> Api:
        return Api(self.client, key)

    async def post(self, query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = dict(headers or {})
        if self.key is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.key}"
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)

    async def query(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        response = await self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.query(query, variables)
        if body.get("errors"):
            raise GraphQLFailure(body["errors"])
        return body["data"]

    async def error(self, query: str, **variables: Any) -> dict[str, Any]:
        """The single error a query must produce."""
        body = await self.query(query, variables)
        errors = body.get("errors") or []
        assert len(errors) == 1, body
        return errors[0]

    async def count(self, type_name: str) -> int:
        """How many ``type_name`` objects this client sees."""
        return len((await self.data(f"{{ {type_name}_list {{ id }} }}"))[f"{type_name}_list"])

    async def sql_statements(self, query: str, **variables: Any) -> int:
        body = await self.query(query, variables, headers={"X-Danbyte-Debug": "1"})
        assert not body.get("errors"), body
        return body["extensions"]["sql_statements"]

    async def paths(self, query: str, **variables: Any) -> dict[str, str]:
        """Which path answered each root field: "sql", or "resolvers: <why>"."""
        body = await self.query(query, variables, headers={"X-Danbyte-Debug": "1"})
        assert not body.get("errors"), body
        return body["extensions"]["paths"]


def change_settings(app: Any, monkeypatch: Any, **changes: Any) -> None:
    """The app's settings with ``changes``, for this test only (``compile_reads=False``:
    every field through the resolvers)."""
    import dataclasses

    state = app.state.danbyte
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, **changes))
