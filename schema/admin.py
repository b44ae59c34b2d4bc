"""Admin-only mutations for users and tokens, and ``me``. Secrets are never readable fields."""

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import strawberry

from models.auth import ObjectPermission, Token, User
from models.registry import ModelSpec
from models.choices import ChangeAction
from permissions.principal import ACTIONS
from permissions.tokens import create_token, hash_password
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.validation import parse_id
from resolvers.writes import Write, run_write

# Users and tokens are not generated types, but their changes are logged like any other.
USER_SPEC = ModelSpec(model=User, name="user", type_name="User")
TOKEN_SPEC = ModelSpec(model=Token, name="token", type_name="Token")


@strawberry.type(description="A person or automation account.")
class UserType:
    id: strawberry.ID
    username: str
    email: str
    is_admin: bool
    is_active: bool


@strawberry.type(description="A new API token. `key` is shown this once and never again.")
class TokenCreated:
    id: strawberry.ID
    key: str
    user: strawberry.ID
    write_enabled: bool
    expires: Optional[datetime]
    tenants: list[strawberry.ID]


@strawberry.input
class PermissionInput:
    object_types: list[str]
    actions: list[str]


@strawberry.input
class UserCreateInput:
    username: str
    password: Optional[str] = None
    email: str = ""
    is_admin: bool = False
    tenants: Optional[list[strawberry.ID]] = None
    permissions: Optional[list[PermissionInput]] = None


@strawberry.input
class TokenCreateInput:
    user: strawberry.ID
    tenants: Optional[list[strawberry.ID]] = None
    write_enabled: bool = True
    expires: Optional[datetime] = None
    description: str = ""


def _require_admin(info: strawberry.Info) -> Any:
    principal = info.context.require_principal()
    if not principal.is_admin:
        raise Forbidden("only administrators may manage users and tokens")
    if not principal.write_enabled:
        raise Forbidden("this token is read-only")
    return principal


def _tenant_ids(principal: Any, tenants: Optional[list[Any]]) -> list[Any]:
    ids = [parse_id(t, "tenants") for t in tenants or []]
    for tenant_id in ids:
        if tenant_id not in principal.tenant_ids:
            raise NotFound(f"tenants: no tenant with id {tenant_id}", field="tenants")
    return ids


def query_fields() -> dict[str, Any]:
    async def me(info: strawberry.Info) -> UserType:
        principal = info.context.require_principal()
        async with info.context.read() as conn:
            row = (await conn.execute(sa.select(User.__table__).where(User.__table__.c.id == principal.user_id))).one()
        return UserType(id=row.id, username=row.username, email=row.email, is_admin=row.is_admin, is_active=row.is_active)

    return {"me": strawberry.field(resolver=me)}


def mutation_fields(generated: dict[str, Any]) -> dict[str, Any]:
    async def user_create(info: strawberry.Info, input: UserCreateInput) -> UserType:
        principal = _require_admin(info)
        if not input.username.strip() or len(input.username) > 150:
            raise BadUserInput("username must be 1 to 150 characters", field="username")
        tenant_ids = _tenant_ids(principal, input.tenants)
        for permission in input.permissions or []:
            unknown = set(permission.actions) - set(ACTIONS)
            if unknown:
                raise BadUserInput(f"permissions.actions: unknown {sorted(unknown)}", field="permissions.actions")

        async def work(write: Write) -> Any:
            user = User.__table__
            row = (
                await write.conn.execute(
                    sa.insert(user)
                    .values(
                        org_id=principal.org_id,
                        username=input.username,
                        email=input.email,
                        password_hash=hash_password(input.password) if input.password else "",
                        is_admin=input.is_admin,
                        tenant_ids=tenant_ids,
                    )
                    .returning(user)
                )
            ).one()
            for permission in input.permissions or []:
                await write.conn.execute(
                    sa.insert(ObjectPermission.__table__).values(
                        user_id=row.id, object_types=permission.object_types, actions=permission.actions
                    )
                )
            await write.log(USER_SPEC, ChangeAction.create, None, row)
            return row

        row = await run_write(info.context, work)
        return UserType(id=row.id, username=row.username, email=row.email, is_admin=row.is_admin, is_active=row.is_active)

    async def token_create(info: strawberry.Info, input: TokenCreateInput) -> TokenCreated:
        principal = _require_admin(info)
        user_id = parse_id(input.user, "user")
        tenant_ids = _tenant_ids(principal, input.tenants)

        async def work(write: Write) -> Any:
            user = User.__table__
            exists = (await write.conn.execute(sa.select(user.c.id).where(user.c.id == user_id))).one_or_none()
            if exists is None:
                raise NotFound(f"user: no user with id {user_id}", field="user")
            token_id, key = await create_token(
                write.conn,
                user_id,
                tenant_ids=tenant_ids,
                write_enabled=input.write_enabled,
                expires=input.expires,
                description=input.description,
            )
            token_row = (await write.conn.execute(sa.select(Token.__table__).where(Token.__table__.c.id == token_id))).one()
            await write.log(TOKEN_SPEC, ChangeAction.create, None, token_row)
            return TokenCreated(
                id=token_id, key=key, user=user_id, write_enabled=input.write_enabled, expires=input.expires, tenants=tenant_ids
            )

        return await run_write(info.context, work)

    return {
        "user_create": strawberry.mutation(resolver=user_create),
        "token_create": strawberry.mutation(resolver=token_create),
    }
