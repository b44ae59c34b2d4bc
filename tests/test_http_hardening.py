"""Malformed or hostile requests to POST /graphql get a coded client error, never a 500,
and write nothing: the transport checks in danbyte/app.py and the schema checks in
schema/extensions.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

TAG_CREATE = 'mutation { tag_create(input: {name: "t", slug: "t"}) { id } }'
TAG_WITH_INPUT = "mutation($input: TagCreateInput!) { tag_create(input: $input) { id } }"
SITE_WITH_INPUT = "mutation($input: SiteCreateInput!) { site_create(input: $input) { id } }"


async def post_raw(api, body: bytes | Any, headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json", **(headers or {})}
    return await api.client.post("/graphql", content=body, headers=sent)


async def post_json(api, payload: Any) -> httpx.Response:
    return await post_raw(api, json.dumps(payload).encode())


def refused(response: httpx.Response, status: int = 400, field: str | None = None) -> dict[str, Any]:
    """The single coded client error of a refused request."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"].get("field") == field, error
    return error


# 1. The body is not a JSON object.


@pytest.mark.parametrize("body", [b"null", b"[]", b"3", b'"x"', b"true", b"{not json", b"", b"\xef\xbb\xbf{}"])
async def test_body_that_is_not_a_json_object_is_refused(api, body):
    refused(await post_raw(api, body))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "query"),
        ({"query": None}, "query"),
        ({"query": ["{ tag_list { id } }"]}, "query"),
        ({"query": "{ tag_list { id } }", "variables": []}, "variables"),
        ({"query": "{ tag_list { id } }", "variables": "x"}, "variables"),
        ({"query": "{ tag_list { id } }", "variables": 3}, "variables"),
        ({"query": "{ tag_list { id } }", "operationName": 1}, "operationName"),
        ({"query": "{ tag_list { id } }", "extensions": []}, "extensions"),
    ],
)
async def test_request_with_wrong_shape_is_refused(api, payload, field):
    refused(await post_json(api, payload), field=field)


async def test_strawberrys_own_refusals_are_coded_too(api):
    refused(await post_raw(api, b"{ tag_list { id } }", headers={"Content-Type": "application/graphql"}))
    refused(await post_json(api, {"query": ""}), field="query")


# 2. Encodings.


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",  # never valid in UTF-8
        b"\xc3",  # a truncated sequence
        b"\xed\xa0\x80",  # a UTF-16 surrogate encoded as UTF-8 (json.loads would pass it through)
    ],
)
async def test_invalid_utf8_is_refused(api, raw):
    body = b'{"query": "mutation($n: String) { tag_create(input: {name: $n, slug: \\"s\\"}) { id } }", "variables": {"n": "a' + raw + b'"}}'
    error = refused(await post_raw(api, body))
    assert "UTF-8" in error["message"]
    assert await api.count("tag") == 0


async def test_utf16_body_is_refused(api):
    refused(await post_raw(api, json.dumps({"query": "{ tag_list { id } }"}).encode("utf-16")))


# 3. Nesting.


async def test_deeply_nested_variables_are_refused(api):
    depth = 100_000
    body = '{"query": "{ tag_list { id } }", "variables": {"a": ' + "[" * depth + "]" * depth + "}}"
    error = refused(await post_raw(api, body.encode()))
    assert "nested" in error["message"]


async def test_variables_nested_deeper_than_graphql_core_allows_are_refused(api, org):
    # json parses this and graphql-core does not count levels inside a JSON scalar, but
    # storing custom_fields or encoding the response would run out of stack.
    custom_fields = json.loads('{"a": ' + "[" * 300 + "]" * 300 + "}")
    variables = {"input": {"name": "s", "slug": "s", "tenant": str(org.tenant_ids[0]), "custom_fields": custom_fields}}
    error = refused(await post_json(api, {"query": SITE_WITH_INPUT, "variables": variables}), status=200, field="input")
    assert "deeper than 200" in error["message"]
    assert await api.count("site") == 0


# 4. Size.


def body_of_size(size: int) -> bytes:
    """A valid request padded with JSON whitespace to exactly ``size`` bytes."""
    body = json.dumps({"query": "{ tag_list { id } }"}).encode()
    return body + b" " * (size - len(body))


async def test_body_at_the_limit_is_accepted(api, app):
    limit = app.state.danbyte.settings.max_body_bytes
    response = await post_raw(api, body_of_size(limit))
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"tag_list": []}}


async def test_body_over_the_limit_by_content_length_is_refused(api, app):
    limit = app.state.danbyte.settings.max_body_bytes
    error = refused(await post_raw(api, body_of_size(limit + 1)), status=413)
    assert str(limit) in error["message"]


async def test_chunked_or_lying_body_over_the_limit_is_refused(api, app):
    limit = app.state.danbyte.settings.max_body_bytes
    body = json.dumps({"query": TAG_CREATE}).encode() + b" " * limit

    async def chunks():
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    refused(await post_raw(api, chunks()), status=413)  # no Content-Length at all
    refused(await post_raw(api, body, headers={"Content-Length": "100"}), status=413)
    assert await api.count("tag") == 0


async def test_body_limit_follows_the_setting(api, app, monkeypatch):
    import dataclasses

    state = app.state.danbyte
    monkeypatch.setattr(state, "settings", dataclasses.replace(state.settings, max_body_bytes=1000))
    assert (await post_raw(api, body_of_size(1000))).status_code == 200
    refused(await post_raw(api, body_of_size(1001)), status=413)


# 5. Operation selection.


async def test_several_operations_without_operation_name_are_refused(api):
    document = TAG_CREATE.replace("mutation", "mutation Create") + " query List { tag_list { id } }"
    error = refused(await post_json(api, {"query": document}), status=200, field="operationName")
    assert "Must provide operation name" in error["message"]
    assert await api.count("tag") == 0


async def test_operation_name_naming_no_operation_is_refused(api):
    document = TAG_CREATE.replace("mutation", "mutation Create") + " query List { tag_list { id } }"
    error = refused(await post_json(api, {"query": document, "operationName": "Delete"}), field="operationName")
    assert "Delete" in error["message"]
    assert await api.count("tag") == 0


async def test_operation_name_picks_one_of_two(api):
    document = TAG_CREATE.replace("mutation", "mutation Create") + " query List { tag_list { name } }"
    listed = await post_json(api, {"query": document, "operationName": "List"})
    assert listed.json() == {"data": {"tag_list": []}}
    created = await post_json(api, {"query": document, "operationName": "Create"})
    assert "id" in created.json()["data"]["tag_create"], created.text
    assert (await post_json(api, {"query": document, "operationName": "List"})).json() == {"data": {"tag_list": [{"name": "t"}]}}


# 6. Subscriptions belong to the WebSocket.


@pytest.mark.parametrize("accept", [None, "application/json", "multipart/mixed;subscriptionSpec=1.0, application/json"])
async def test_subscription_over_post_is_refused(api, accept):
    headers = {"Accept": accept} if accept else {}
    body = json.dumps({"query": "subscription { object_changed { id } }"}).encode()
    error = refused(await post_raw(api, body, headers=headers))
    assert "WebSocket" in error["message"] and "/graphql" in error["message"]


# 7. NUL and lone surrogates, which PostgreSQL cannot store.


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ('tag_create(input: {name: "a\\u0000b", slug: "s"}) { id }', "input.name"),
        ('tag_create(input: {name: "n", slug: """raw\x00"""}) { id }', "input.slug"),
        ('site_create(input: {name: "s", slug: "s", tenant: T, custom_fields: {note: ["ok", "\\u0000"]}}) { id }', "input.custom_fields.note.1"),
        ('site_create(input: {name: "s", slug: "s", tenant: T, custom_fields: {a: [{b: "x\\u0000"}]}}) { id }', "input.custom_fields.a.0.b"),
    ],
)
async def test_nul_in_a_literal_is_refused(api, org, mutation, field):
    mutation = mutation.replace("T", f'"{org.tenant_ids[0]}"')
    refused(await post_json(api, {"query": f"mutation {{ {mutation} }}"}), status=200, field=field)
    assert await api.count("tag") + await api.count("site") == 0


async def test_nul_in_a_variable_default_is_refused(api):
    query = 'mutation($name: String = "a\\u0000") { tag_create(input: {name: $name, slug: "s"}) { id } }'
    refused(await post_json(api, {"query": query}), status=200, field="name")
    assert await api.count("tag") == 0


async def test_lone_surrogate_in_a_literal_is_refused(api):
    # graphql-core's lexer already refuses these; this pins that it stays a coded client error.
    for literal in ['"a\\uD800"', '"a\ud800"']:
        query = f'mutation {{ tag_create(input: {{name: {literal}, slug: "s"}}) {{ id }} }}'
        refused(await post_json(api, {"query": query}), status=200)
    assert await api.count("tag") == 0


@pytest.mark.parametrize("bad", ["\x00", "\ud800", "ok\udfffok"])
@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (TAG_WITH_INPUT, {"input": {"name": "BAD", "slug": "s"}}, "input.name"),
        (SITE_WITH_INPUT, {"input": {"name": "s", "slug": "s", "tenant": "T", "custom_fields": {"a": [1, {"b": "BAD"}]}}}, "input.custom_fields.a.1.b"),
        (SITE_WITH_INPUT, {"input": {"name": "s", "slug": "s", "tenant": "T", "custom_fields": {"kBADey": 1}}}, "input.custom_fields"),
        ("query($n: String) { tag_list(filters: {name: {exact: $n}}) { id } }", {"n": "BAD"}, "n"),
    ],
)
async def test_nul_or_surrogate_in_variables_is_refused(api, org, query, variables, field, bad):
    # BAD becomes the bad text (as a JSON escape, also inside a key), "T" the tenant's id.
    variables = json.loads(json.dumps(variables).replace("BAD", json.dumps(bad)[1:-1]).replace('"T"', f'"{org.tenant_ids[0]}"'))
    refused(await post_json(api, {"query": query, "variables": variables}), status=200, field=field)
    assert await api.count("tag") + await api.count("site") == 0


async def test_ordinary_text_still_works(api, org):
    """Tabs, newlines, astral characters (a valid surrogate pair in JSON) and escapes are fine."""
    name = "tab\tline\nemoji\U0001f600 é"
    body = json.dumps({"query": TAG_WITH_INPUT, "variables": {"input": {"name": name, "slug": "s"}}}).encode()
    assert b"\\ud83d\\ude00" in body
    response = await post_raw(api, body)
    assert "errors" not in response.json(), response.text
    assert (await api.data("{ tag_list { name } }"))["tag_list"] == [{"name": name}]


# The same refusals from a real server: uvicorn's body handling, and WebSocket subscriptions.


@pytest.fixture(scope="module")
def server(database_url, redis_url, tmp_path_factory):
    from live import danbyte_serve

    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url, "DANBYTE_MAX_BODY_BYTES": "4096"}
    with danbyte_serve(tmp_path_factory.mktemp("live"), env, "--no-worker") as (base, _):
        yield base


async def test_live_server_refuses_oversize_bodies(server, committed_org):
    headers = {"Authorization": f"Bearer {committed_org.admin_key}", "Content-Type": "application/json"}
    body = body_of_size(4097)

    async def chunks():
        yield body[:3000]
        yield body[3000:]

    async with httpx.AsyncClient(base_url=server) as client:
        assert (await client.post("/graphql", content=body_of_size(4096), headers=headers)).status_code == 200
        refused(await client.post("/graphql", content=body, headers=headers), status=413)
        refused(await client.post("/graphql", content=chunks(), headers=headers), status=413)
        refused(await client.post("/graphql", content=b"\xff", headers=headers))
        assert (await client.get("/graphql", headers={"Accept": "text/html"})).status_code == 200  # GraphiQL


async def test_websocket_subscription_variables_are_checked_too(server, committed_org):
    import asyncio

    import websockets

    async def receive(ws) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] not in ("ping", "pong"):
                return message

    query = "subscription($types: [String!]) { object_changed(types: $types) { type action } }"
    async with websockets.connect(server.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {committed_org.admin_key}"}}))
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "bad", "type": "subscribe", "payload": {"query": query, "variables": {"types": ["vrf\u0000"]}}}))
        error = await receive(ws)
        assert (error["id"], error["type"]) == ("bad", "error"), error
        assert error["payload"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "types.0"}
        # A good subscription on the same connection still hears events.
        await ws.send(json.dumps({"id": "good", "type": "subscribe", "payload": {"query": query, "variables": {"types": ["vrf"]}}}))
        await asyncio.sleep(0.5)  # let the server subscribe to Redis first
        tenant = committed_org.tenant_ids[0]
        async with httpx.AsyncClient(base_url=server) as client:
            created = await client.post(
                "/graphql",
                json={"query": f'mutation {{ vrf_create(input: {{name: "ws", tenant: "{tenant}"}}) {{ id }} }}'},
                headers={"Authorization": f"Bearer {committed_org.admin_key}"},
            )
            assert "errors" not in created.json(), created.text
        event = await receive(ws)
        assert event["id"] == "good" and event["payload"]["data"]["object_changed"] == {"type": "vrf", "action": "create"}, event


async def test_websocket_message_nested_too_deep_closes_with_a_protocol_code(server, committed_org):
    import asyncio

    import websockets

    async with websockets.connect(server.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {committed_org.admin_key}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send('{"type": "subscribe", "id": "x", "payload": ' + "[" * 100_000 + "]" * 100_000 + "}")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    # graphql-transport-ws: 4400 for a message that is not valid JSON, not 1011 (server error).
    assert closed.value.rcvd.code == 4400
