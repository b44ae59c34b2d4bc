"""Admin-only mutations for users and tokens, and ``me``. Secrets are never readable fields."""

from datetime import UTC, datetime
from typing import Any, Optional

import sqlalchemy as sa
import strawberry

from models.auth import ObjectPermission, Token, User
from models.base import table_of
from models.choices import ChangeAction
from models.registry import ModelSpec, type_keys
from models.tenancy import Tenant
from permissions.principal import ACTIONS
from permissions.tokens import create_token, grants_of, hash_password
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.sql import any_of
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


async def _tenant_ids(write: Write, tenants: Optional[list[Any]]) -> list[Any]:
    """The tenants a new user or token is limited to, within the caller's own.

    Absent or empty means "every tenant": only a caller no tenant list narrows may hand
    that out; anyone else gets their own tenants, written out."""
    principal = write.principal
    ids = list(dict.fromkeys(parse_id(t, "tenants") for t in tenants or []))
    if not ids:
        return [] if principal.all_tenants else sorted(principal.tenant_ids, key=str)
    # Read as the caller: row-level security shows exactly the tenants it may reach.
    table = Tenant.__table__
    wanted = any_of(table.c.id, ids)
    visible = {r.id for r in await write.conn.execute(sa.select(table.c.id).where(wanted))}
    for tenant_id in ids:
        if tenant_id not in visible:
            raise NotFound(f"tenants: no tenant with id {tenant_id} among yours", field="tenants")
    return ids


def _check_permissions(principal: Any, permissions: Optional[list[PermissionInput]]) -> dict[str, frozenset[str]]:
    grants: dict[str, frozenset[str]] = {}
    known = type_keys()
    for index, permission in enumerate(permissions or []):
        unknown = set(permission.actions) - set(ACTIONS)
        if unknown:
            raise BadUserInput(f"permissions.actions: unknown {sorted(unknown)}", field=f"permissions.{index}.actions")
        unknown_types = set(permission.object_types) - known
        if unknown_types:
            raise BadUserInput(f"permissions.object_types: no object type {sorted(unknown_types)}", field=f"permissions.{index}.object_types")
        if not permission.object_types or not permission.actions:
            raise BadUserInput("permissions: name at least one object type and one action", field=f"permissions.{index}")
        for object_type in permission.object_types:
            grants[object_type] = grants.get(object_type, frozenset()) | frozenset(permission.actions)
    return grants


def _refuse_beyond(principal: Any, what: str, is_admin: bool, tenant_ids: list[Any], grants: dict[str, frozenset[str]]) -> None:
    excess = principal.covers(is_admin=is_admin, tenant_ids=frozenset(tenant_ids) if tenant_ids else None, grants=grants)
    if excess is not None:
        raise Forbidden(f"{what} would reach beyond your own rights ({excess})")


async def _user_within_reach(write: Write, user_id: Any) -> Any:
    """The user (of the caller's organisation), when everything it may do the caller may too.

    Minting or revoking a token for someone is acting as them: an administrator limited
    to one tenant must not mint a key for the organisation's unrestricted administrator."""
    table = User.__table__
    row = (await write.conn.execute(sa.select(table).where(table.c.id == user_id))).one_or_none()
    if row is None:
        raise NotFound(f"user: no user with id {user_id}", field="user")
    if row.id != write.principal.user_id:
        grants = await grants_of(write.conn, row.id)
        _refuse_beyond(write.principal, "that user", row.is_admin, list(row.tenant_ids), grants)
    return row


def query_fields() -> dict[str, Any]:
    async def me(info: strawberry.Info) -> UserType:
        principal = info.context.require_principal()

        async def load(conn: Any) -> Any:
            return (await conn.execute(sa.select(User.__table__).where(User.__table__.c.id == principal.user_id))).one()

        row = await info.context.run(load)
        return UserType(id=row.id, username=row.username, email=row.email, is_admin=row.is_admin, is_active=row.is_active)

    return {"me": strawberry.field(resolver=me)}


def mutation_fields(generated: dict[str, Any]) -> dict[str, Any]:
    async def user_create(info: strawberry.Info, input: UserCreateInput) -> UserType:
        principal = _require_admin(info)
        if not input.username.strip() or len(input.username) > 150:
            raise BadUserInput("username must be 1 to 150 characters", field="username")
        grants = _check_permissions(principal, input.permissions)

        async def work(write: Write) -> Any:
            tenant_ids = await _tenant_ids(write, input.tenants)
            _refuse_beyond(principal, "the new user", input.is_admin, tenant_ids, grants)
            user = table_of(User)
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
            for object_type, actions in grants.items():
                await write.conn.execute(sa.insert(table_of(ObjectPermission)).values(user_id=row.id, object_types=[object_type], actions=sorted(actions)))
            await write.log(USER_SPEC, ChangeAction.create, None, row)
            return row

        row = await run_write(info.context, work)
        return UserType(id=row.id, username=row.username, email=row.email, is_admin=row.is_admin, is_active=row.is_active)

    async def token_create(info: strawberry.Info, input: TokenCreateInput) -> TokenCreated:
        principal = _require_admin(info)
        user_id = parse_id(input.user, "user")
        expires = input.expires
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if principal.expires is not None:
            # A token never outlives the token that minted it.
            expires = expires or principal.expires
            if expires > principal.expires:
                raise Forbidden("expires: a new token cannot outlive your own token", field="expires")

        async def work(write: Write) -> Any:
            target = await _user_within_reach(write, user_id)
            tenant_ids = await _tenant_ids(write, input.tenants)
            token_id, key = await create_token(
                write.conn,
                target.id,
                tenant_ids=tenant_ids,
                write_enabled=input.write_enabled,
                expires=expires,
                description=input.description,
            )
            token_row = (await write.conn.execute(sa.select(Token.__table__).where(Token.__table__.c.id == token_id))).one()
            await write.log(TOKEN_SPEC, ChangeAction.create, None, token_row)
            return TokenCreated(
                id=strawberry.ID(str(token_id)),
                key=key,
                user=strawberry.ID(str(user_id)),
                write_enabled=input.write_enabled,
                expires=expires,
                tenants=tenant_ids,
            )

        return await run_write(info.context, work)

    async def token_delete(info: strawberry.Info, id: strawberry.ID) -> strawberry.ID:
        """Revoke a token at once, on every server process. Anyone may revoke their own."""
        principal = info.context.require_principal()
        if not principal.write_enabled:
            raise Forbidden("this token is read-only")
        token_id = parse_id(id, "id")

        async def work(write: Write) -> Any:
            table = table_of(Token)
            row = (await write.conn.execute(sa.select(table).where(table.c.id == token_id).with_for_update())).one_or_none()
            if row is None or (row.user_id != principal.user_id and not principal.is_admin):
                raise NotFound(f"no token with id {token_id}", field="id")
            if row.user_id != principal.user_id:
                await _user_within_reach(write, row.user_id)
            await write.conn.execute(sa.delete(table).where(table.c.id == token_id))
            await write.log(TOKEN_SPEC, ChangeAction.delete, row, None)
            return row.id

        return await run_write(info.context, work)

    return {
        "user_create": strawberry.mutation(resolver=user_create),
        "token_create": strawberry.mutation(resolver=token_create),
        "token_delete": strawberry.mutation(resolver=token_delete),
    }
