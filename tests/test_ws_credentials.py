"""An open WebSocket connection keeps only the rights its token still has: a revoked token
is closed with 4401, an expired one at its expiry, and one whose principal changed (a
tenant created for an all-tenants token) with 4403, while connections the change does
not touch keep receiving (danbyte/fanout.py: Fanout.recheck), on a real uvicorn."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from fanout_server import app_server, connect, message, post, settle, subscribe

SUBSCRIBE = 'subscription { object_changed(types: ["vrf"]) { type id action } }'


@pytest.fixture(scope="module")
def served(database_url, redis_url):
    with app_server(database_url, redis_url, ws_recheck_seconds=0.1) as server:
        yield server


async def new_token(base: str, admin_key: str, tenants: list[Any] | None = None, expires: datetime | None = None) -> tuple[str, str]:
    """(token id, key) of a new admin user's token, made through the API."""
    user = await post(base, admin_key, "mutation($u: String!) { user_create(input: {username: $u, is_admin: true}) { id } }", u=f"u-{uuid.uuid4().hex[:8]}")
    made = await post(
        base,
        admin_key,
        "mutation($u: ID!, $t: [ID!], $e: DateTime) { token_create(input: {user: $u, tenants: $t, expires: $e}) { id key } }",
        u=user["user_create"]["id"],
        t=[str(t) for t in tenants] if tenants else None,
        e=expires.isoformat() if expires else None,
    )
    return made["token_create"]["id"], made["token_create"]["key"]


async def closed_with(ws: Any, timeout: float = 10) -> tuple[int, str]:
    """The close code and reason once the server closes ``ws`` (messages before it skipped)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None, "closed without a close frame"
        return closed.rcvd.code, closed.rcvd.reason


async def vrf_event(base: str, key: str, tenant: Any) -> str:
    data = await post(base, key, "mutation($n: String!, $t: ID) { vrf_create(input: {name: $n, tenant: $t}) { id } }", n=uuid.uuid4().hex[:8], t=str(tenant))
    return str(data["vrf_create"]["id"])


async def test_a_revoked_token_is_closed_and_others_keep_receiving(served, committed_org):
    tenant = committed_org.tenant_ids[0]
    token_id, key = await new_token(served.base, committed_org.admin_key, tenants=[tenant])
    _, other_key = await new_token(served.base, committed_org.admin_key, tenants=[tenant])
    revoked, kept = await connect(served.base, key), await connect(served.base, other_key)
    try:
        for ws in (revoked, kept):
            await subscribe(ws, SUBSCRIBE)
        await settle(lambda: all(group.listening.is_set() for group in list(served.fanout.groups.values())))
        await post(served.base, committed_org.admin_key, "mutation($id: ID!) { token_delete(id: $id) }", id=token_id)
        code, reason = await closed_with(revoked)
        assert code == 4401 and "token" in reason, (code, reason)
        # The other token's connection was checked again, found unchanged, and still receives.
        vrf = await vrf_event(served.base, committed_org.admin_key, tenant)
        assert (await message(kept))["payload"]["data"]["object_changed"]["id"] == vrf
        # A revoked key cannot connect again.
        with pytest.raises(websockets.ConnectionClosed) as refused:
            await connect(served.base, key)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403
    finally:
        await asyncio.gather(revoked.close(), kept.close(), return_exceptions=True)


async def test_an_expired_token_is_closed_at_its_expiry(served, committed_org):
    _, key = await new_token(served.base, committed_org.admin_key, expires=datetime.now(UTC) + timedelta(seconds=2))
    ws = await connect(served.base, key)
    try:
        await subscribe(ws, SUBSCRIBE)
        started = asyncio.get_running_loop().time()
        code, reason = await closed_with(ws)
        assert (code, reason) == (4401, "token expired")
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        await ws.close()


async def test_changed_rights_close_with_4403_and_untouched_tokens_stay(served, committed_org):
    first = committed_org.tenant_ids[0]
    # No tenant list: every tenant of the organisation, including ones created later.
    _, all_tenants = await new_token(served.base, committed_org.admin_key)
    _, listed = await new_token(served.base, committed_org.admin_key, tenants=[first])
    wide, narrow = await connect(served.base, all_tenants), await connect(served.base, listed)
    try:
        for ws in (wide, narrow):
            await subscribe(ws, SUBSCRIBE)
        await settle(lambda: all(group.listening.is_set() for group in list(served.fanout.groups.values())))
        await post(
            served.base, committed_org.admin_key, "mutation($n: String!) { tenant_create(input: {name: $n, slug: $n}) { id } }", n=f"t-{uuid.uuid4().hex[:8]}"
        )
        code, reason = await closed_with(wide)
        assert (code, reason) == (4403, "permissions changed: connect again")
        vrf = await vrf_event(served.base, committed_org.admin_key, first)
        assert (await message(narrow))["payload"]["data"]["object_changed"]["id"] == vrf
        # Connecting again works, with the new rights.
        again = await connect(served.base, all_tenants)
        await again.close()
    finally:
        await asyncio.gather(wide.close(), narrow.close(), return_exceptions=True)
