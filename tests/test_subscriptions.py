"""object_changed over graphql-transport-ws: committed changes reach subscribers on any process."""

from __future__ import annotations

import asyncio
import json

import httpx
import live
import pytest
import websockets
from live import danbyte_serve, next_event

SUBSCRIBE = 'subscription { object_changed(types: ["vrf", "prefix"]) { type id numid action changed_fields tenant } }'


@pytest.fixture(scope="module")
def two_servers(database_url, redis_url, tmp_path_factory):
    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    home = tmp_path_factory.mktemp("live")
    with danbyte_serve(home, env, "--no-worker") as (first, _), danbyte_serve(home, env, "--no-worker") as (second, _):
        yield first, second


async def subscribe(base: str, key: str):
    ws = await live.subscribe(base, {"Authorization": f"Bearer {key}"}, SUBSCRIBE)
    await asyncio.sleep(0.5)  # let the server subscribe to Redis before anything is published
    return ws


async def post(base: str, key: str, query: str) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{base}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"})
        return response.json()


async def test_change_on_one_process_reaches_subscriber_on_another(two_servers, committed_org):
    first, second = two_servers
    tenant = committed_org.tenant_ids[0]
    restricted_key = await committed_org.user_key(is_admin=True, token_tenant_ids=[committed_org.tenant_ids[1]])
    ws = await subscribe(first, committed_org.admin_key)
    other = await subscribe(first, restricted_key)
    try:
        # A rejected write is rolled back and publishes nothing.
        bad = await post(second, committed_org.admin_key, f'mutation {{ prefix_create(input: {{prefix: "10.0.0.1/8", tenant: "{tenant}"}}) {{ id }} }}')
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        created = await post(second, committed_org.admin_key, f'mutation {{ vrf_create(input: {{name: "live", tenant: "{tenant}"}}) {{ id numid }} }}')
        vrf = created["data"]["vrf_create"]
        event = await next_event(ws)
        assert event == {
            "type": "vrf",
            "id": vrf["id"],
            "numid": vrf["numid"],
            "action": "create",
            "changed_fields": event["changed_fields"],
            "tenant": str(tenant),
        }
        assert "name" in event["changed_fields"]
        await post(second, committed_org.admin_key, f'mutation {{ vrf_update(id: "{vrf["id"]}", input: {{rd: "65000:7"}}) {{ id }} }}')
        update = await next_event(ws)
        assert (update["action"], update["changed_fields"]) == ("update", ["rd"])
        await post(second, committed_org.admin_key, f'mutation {{ vrf_delete(id: "{vrf["id"]}") {{ id }} }}')
        assert (await next_event(ws))["action"] == "delete"
        # The subscriber restricted to the other tenant heard none of it.
        with pytest.raises(asyncio.TimeoutError):
            await next_event(other, timeout=1.5)
    finally:
        await ws.close()
        await other.close()


async def test_subscription_needs_a_token(two_servers):
    first, _ = two_servers
    ws = await websockets.connect(first.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer dbt_wrong"}}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 4403
