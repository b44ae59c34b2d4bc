"""Event rules and webhooks against real components: committed writes, a dramatiq worker
on Redis, and HTTP(S) receivers on loopback that record what arrives. The signature is
computed here, independently; the rendered bodies and headers are compared as received."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
import trustme
from dcim_lab import Lab

from danbyte.events import CHANNEL
from jobs.broker import configure, producer, start_worker
from jobs.webhooks import QUEUE
from models.conditions import ConditionError, evaluate, parse
from resolvers.secrets import unseal

SECRET = "s3cret-☃-never-in-clear"
BODY = '{"site": "{{ data.name }}", "status": "{{ data.status }}", "event": "{{ event }}", "by": "{{ username }}", "type": "{{ object_type }}"}'
WAIT = 15.0  # seconds a delivery may take before a test gives up (they take milliseconds)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP(S) server on a free loopback port that records each request and answers
    with the next scripted status (200 once the script is used up)."""

    statuses: list[int] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    requests: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    async def start(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                if line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses.pop(0) if self.statuses else 200
            self.requests.append(Received(method, path, headers, body))
            writer.write(f"HTTP/1.1 {status} Whatever\r\nContent-Length: 11\r\nConnection: close\r\n\r\nanswer-text".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # a client that gave up (a refused certificate)
        finally:
            writer.close()

    async def wait_for(self, count: int) -> list[Received]:
        await until(lambda: len(self.requests) >= count, f"{count} requests at {self.url}, got {len(self.requests)}")
        return self.requests

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def until(condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def receivers() -> AsyncIterator[Any]:
    made: list[Receiver] = []

    async def make(statuses: list[int] | None = None, tls: ssl.SSLContext | None = None) -> Receiver:
        made.append(await Receiver(list(statuses or []), tls).start())
        return made[-1]

    yield make
    for receiver in made:
        await receiver.close()


@pytest.fixture
async def worker(database_url: str, redis_url: str, fast_retries: None) -> AsyncIterator[Any]:
    """A real dramatiq worker with one thread: messages are handled in the order they were
    queued, so a delivery that arrives proves every earlier write was matched."""
    broker = configure(database_url, redis_url)
    broker.flush_all()  # what earlier tests' writes queued (rolled back, nothing to match)
    running = start_worker(broker, threads=1)
    try:
        yield broker
    finally:
        running.stop()
        broker.flush_all()
        broker.close()


async def create(api: Any, kind: str, /, **fields: Any) -> str:
    type_name = {"webhook": "Webhook", "event_rule": "EventRule", "site": "Site"}[kind]
    query = f"mutation($i: {type_name}CreateInput!) {{ {kind}_create(input: $i) {{ id }} }}"
    return (await api.data(query, i=fields))[f"{kind}_create"]["id"]


async def deliveries(db: Any, **where: Any) -> list[Any]:
    clauses = " AND ".join(f"{column} = :{column}" for column in where) or "true"
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text(f"SELECT * FROM webhook_delivery WHERE {clauses} ORDER BY created, attempt"), where)).all()


def signed(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


async def hook(
    api: Any, tenant: Any, url: str, *, types: tuple[str, ...] = ("dcim.site",), events: tuple[str, ...] = ("object_created",), **fields: Any
) -> str:
    """A webhook to ``url`` and a rule sending it; returns the webhook's id."""
    rule = {key: fields.pop(key) for key in ("conditions", "enabled", "action_data") if key in fields}
    webhook = await create(api, "webhook", tenant=str(tenant), name=f"hook-{uuid.uuid4().hex[:8]}", payload_url=url, **fields)
    await create(
        api,
        "event_rule",
        tenant=str(tenant),
        name=f"rule-{uuid.uuid4().hex[:8]}",
        object_types=list(types),
        event_types=list(events),
        action_object=webhook,
        **rule,
    )
    return webhook


async def test_created_updated_deleted_send_the_rendered_signed_request(committed_api, committed_org, worker, receivers, app):
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    webhook = await hook(
        committed_api,
        tenant,
        receiver.url + "/hooks/{{ event }}",
        events=("object_created", "object_updated", "object_deleted"),
        body_template=BODY,
        additional_headers="X-Event: {{ event | upper }}\nX-Static:  fixed value \nnot a header line",
        http_content_type="application/vnd.example+json",
        secret=SECRET,
    )
    site = await create(committed_api, "site", tenant=str(tenant), name="AMS1", slug="ams1")
    (first,) = await receiver.wait_for(1)
    assert (first.method, first.path) == ("POST", "/hooks/created")
    me = await whoami(committed_api)
    assert first.body.decode() == '{"site": "AMS1", "status": "active", "event": "created", "by": "%s", "type": "dcim.site"}' % me
    assert first.headers["x-event"] == "CREATED" and first.headers["x-static"] == "fixed value"
    assert first.headers["content-type"] == "application/vnd.example+json"
    assert first.headers["x-hook-signature"] == signed(first.body)

    await committed_api.data('mutation($id: ID!) { site_update(id: $id, input: {name: "AMS2", status: STATUS_PLANNED}) { id } }', id=site)
    await committed_api.data("mutation($id: ID!) { site_delete(id: $id) { id } }", id=site)
    _, updated, deleted = await receiver.wait_for(3)
    assert updated.path == "/hooks/updated" and updated.json()["site"] == "AMS2" and updated.json()["status"] == "planned"
    # A delete carries the object as it was before it went.
    assert deleted.path == "/hooks/deleted" and deleted.json() == {**updated.json(), "event": "deleted"}
    assert all(r.headers["x-hook-signature"] == signed(r.body) for r in (updated, deleted))

    # The delivery log, through the API: one attempt each, answered 200.
    await until(lambda: count_rows(app, webhook, 3), "three delivery-log rows")
    got = await committed_api.data(
        """query($id: ID!) { webhook(id: $id) { deliveries { event_type object_type attempt http_method request_url status_code response error
           event_rule { name } webhook { id } } } }""",
        id=webhook,
    )
    rows = got["webhook"]["deliveries"]
    assert [r["event_type"] for r in rows] == ["object_created", "object_updated", "object_deleted"]
    assert {(r["object_type"], r["attempt"], r["http_method"], r["status_code"], r["response"], r["error"]) for r in rows} == {
        ("dcim.site", 1, "POST", 200, "answer-text", "")
    }
    assert rows[0]["request_url"] == receiver.url + "/hooks/created" and rows[0]["webhook"] == {"id": webhook}
    # Read-only: the API has no mutation for the log.
    error = await committed_api.error('mutation { webhook_delivery_delete(id: "%s") { id } }' % uuid.uuid4())
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "webhook_delivery_delete" in error["message"]
    # Deleting the webhook deletes its rules (NetBox's generic relation) and keeps its log.
    await committed_api.data("mutation($id: ID!) { webhook_delete(id: $id) { id } }", id=webhook)
    assert await committed_api.data("{ event_rule_list { id } }") == {"event_rule_list": []}
    kept = await committed_api.data("{ webhook_delivery_list { event_type webhook { id } event_rule { id } } }")
    assert kept["webhook_delivery_list"] == [
        {"event_type": e, "webhook": None, "event_rule": None} for e in ("object_created", "object_updated", "object_deleted")
    ]


async def whoami(api: Any) -> str:
    return (await api.data("{ me { username } }"))["me"]["username"]


async def count_rows(app: Any, webhook: str, count: int) -> bool:
    return len(await deliveries(app.state.danbyte.db, webhook_id=webhook)) >= count


async def test_the_default_body_is_netbox_s_event_json(committed_api, committed_org, worker, receivers):
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    await hook(committed_api, tenant, receiver.url + "/plain", action_data={"source": "danbyte", "name": "shadowed by the object's"})
    site = await create(committed_api, "site", tenant=str(tenant), name="Plain Site", slug="plain-site")
    (request,) = await receiver.wait_for(1)
    body = request.json()
    assert list(body) == ["event", "timestamp", "object_type", "username", "request_id", "data", "snapshots"]
    assert (body["event"], body["object_type"], body["username"]) == ("created", "dcim.site", await whoami(committed_api))
    assert body["data"]["id"] == site and body["data"]["name"] == "Plain Site" and body["data"]["source"] == "danbyte"
    assert body["snapshots"]["prechange"] is None and body["snapshots"]["postchange"]["slug"] == "plain-site"
    assert "source" not in body["snapshots"]["postchange"]  # action data goes into data only
    uuid.UUID(body["request_id"])
    assert request.headers["content-type"] == "application/json" and "x-hook-signature" not in request.headers


async def test_conditions_disabled_rules_and_other_tenants(committed_api, committed_org, worker, receivers):
    matching, disabled, other_tenant, sentinel = [await receivers() for _ in range(4)]
    first, second = committed_org.tenant_ids
    conditions = {"and": [{"attr": "status", "value": "active"}, {"attr": "name", "op": "regex", "value": "^edge-", "negate": True}]}
    await hook(committed_api, first, matching.url, conditions=conditions, body_template="{{ data.name }}")
    await hook(committed_api, first, disabled.url, enabled=False)
    await hook(committed_api, second, other_tenant.url, body_template="{{ data.name }}")
    await hook(committed_api, first, sentinel.url, types=("dcim.manufacturer",))
    for name, status in (("core-1", "STATUS_ACTIVE"), ("core-2", "STATUS_PLANNED"), ("edge-1", "STATUS_ACTIVE")):
        await create(committed_api, "site", tenant=str(first), name=name, slug=name, status=status)
    await create(committed_api, "site", tenant=str(second), name="theirs", slug="theirs")
    # The worker handles messages in order: once the last write's delivery is in, every
    # earlier write has been matched.
    await create(committed_api, "site", tenant=str(second), name="theirs-2", slug="theirs-2")
    await committed_api.data('mutation($t: ID!) { manufacturer_create(input: {tenant: $t, name: "M", slug: "m"}) { id } }', t=str(first))
    await sentinel.wait_for(1)
    await other_tenant.wait_for(2)
    assert [r.body for r in matching.requests] == [b"core-1"]
    assert disabled.requests == []
    assert sorted(r.body for r in other_tenant.requests) == [b"theirs", b"theirs-2"]


async def test_one_event_per_object_per_write(committed_api, committed_org, worker, receivers):
    """Two changes to one object in one write are one event, as NetBox coalesces them: its
    snapshots span the write, its data is the last state."""
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    site = await create(committed_api, "site", tenant=str(tenant), name="Before", slug="before")
    await hook(committed_api, tenant, receiver.url, events=("object_updated",))
    await committed_api.data(
        "mutation($i: [SiteUpdateManyInput!]!) { site_update_many(inputs: $i) { id } }",
        i=[{"id": site, "input": {"name": "Renamed"}}, {"id": site, "input": {"description": "twice"}}],
    )
    # A later write's event arrives after the batch's (one worker thread): the batch sent one.
    await committed_api.data('mutation($id: ID!) { site_update(id: $id, input: {comments: "last"}) { id } }', id=site)
    first, last = await receiver.wait_for(2)
    body = first.json()
    assert body["event"] == "updated" and (body["data"]["name"], body["data"]["description"]) == ("Renamed", "twice")
    assert body["snapshots"]["prechange"]["name"] == "Before" and body["snapshots"]["postchange"]["description"] == "twice"
    assert last.json()["data"]["comments"] == "last" and len(receiver.requests) == 2


async def test_a_failed_delivery_is_retried_and_each_attempt_logged(committed_api, committed_org, worker, receivers, app):
    flaky = await receivers(statuses=[500])
    tenant = committed_org.tenant_ids[0]
    webhook = await hook(committed_api, tenant, flaky.url + "/flaky", secret=SECRET)
    await create(committed_api, "site", tenant=str(tenant), name="Retried", slug="retried")
    first, second = await flaky.wait_for(2)
    assert first.body == second.body and second.headers["x-hook-signature"] == signed(second.body)
    await until(lambda: count_rows(app, webhook, 2), "two delivery-log rows")
    rows = await deliveries(app.state.danbyte.db, webhook_id=webhook)
    assert [(r.attempt, r.status_code, r.error) for r in rows] == [(1, 500, "the server answered 500"), (2, 200, "")]
    assert len({r.request_id for r in rows}) == 1


async def test_retries_are_bounded_and_other_failures_final(committed_api, committed_org, worker, receivers, app):
    closed = await receivers()
    url = closed.url
    await closed.close()  # nothing listens there any more: connection refused
    refusing = await receivers(statuses=[404])
    tenant = committed_org.tenant_ids[0]
    unreachable = await hook(committed_api, tenant, url + "/gone")
    not_found = await hook(committed_api, tenant, refusing.url + "/missing")
    await create(committed_api, "site", tenant=str(tenant), name="Nowhere", slug="nowhere")
    # Two retries (fast_retries): three attempts, then it stops.
    await until(lambda: count_rows(app, unreachable, 3), "three attempts")
    await until(lambda: count_rows(app, not_found, 1), "the 404")
    await asyncio.sleep(0.5)  # a fourth attempt would come after 200 ms
    rows = await deliveries(app.state.danbyte.db, webhook_id=unreachable)
    assert [r.attempt for r in rows] == [1, 2, 3] and all(r.status_code is None and "ConnectError" in r.error for r in rows)
    (row,) = await deliveries(app.state.danbyte.db, webhook_id=not_found)
    assert (row.attempt, row.status_code, row.error) == (1, 404, "the server answered 404")


async def test_what_cannot_be_sent_is_logged_once(committed_api, committed_org, worker, receivers, app):
    """A header that is no header, a body that fails to render, a URL that renders to
    another scheme: final at the first attempt, the reason in the log, nothing sent."""
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    bad_header = await hook(committed_api, tenant, receiver.url, additional_headers="Bad Name: {{ event }}")
    not_ascii = await hook(committed_api, tenant, receiver.url, additional_headers="X-Name: {{ data.name }}")
    bad_body = await hook(committed_api, tenant, receiver.url, body_template="{{ data.name }} {{ 1 / 0 }}")
    bad_scheme = await hook(committed_api, tenant, "{{ 'ftp' }}://127.0.0.1/x")
    await create(committed_api, "site", tenant=str(tenant), name="Zürich", slug="zurich")
    for webhook in (bad_header, not_ascii, bad_body, bad_scheme):
        await until(lambda webhook=webhook: count_rows(app, webhook, 1), "the failed attempt")
    await asyncio.sleep(0.3)  # a retry would come 50 ms after the attempt
    errors = {}
    for webhook in (bad_header, not_ascii, bad_body, bad_scheme):
        (row,) = await deliveries(app.state.danbyte.db, webhook_id=webhook)
        assert row.status_code is None and row.attempt == 1
        errors[webhook] = row.error
    assert errors[bad_header] == "additional_headers: 'Bad Name' is not a valid header line"
    assert errors[not_ascii] == "additional_headers: 'X-Name' is not a valid header line"
    assert errors[bad_body].startswith("body_template: rendering failed") and "ZeroDivisionError" in errors[bad_body]
    assert errors[bad_scheme] == "payload_url: the rendered URL is not an http:// or https:// URL"
    assert receiver.requests == []


async def test_tls_verification_is_honoured(committed_api, committed_org, worker, receivers, app, tmp_path):
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    receiver = await receivers(tls=server_tls)
    tenant = committed_org.tenant_ids[0]
    verified = await hook(committed_api, tenant, receiver.url + "/system-ca")
    await hook(committed_api, tenant, receiver.url + "/unverified", ssl_verification=False)
    await hook(committed_api, tenant, receiver.url + "/own-ca", ca_file_path=str(ca_file))
    missing_ca = await hook(committed_api, tenant, receiver.url + "/missing-ca", ca_file_path=str(tmp_path / "nothing.pem"))
    await create(committed_api, "site", tenant=str(tenant), name="TLS", slug="tls")
    await receiver.wait_for(2)
    await until(lambda: count_rows(app, verified, 1), "the refused certificate's attempt")
    await until(lambda: count_rows(app, missing_ca, 1), "the missing CA file's attempt")
    assert sorted(r.path for r in receiver.requests) == ["/own-ca", "/unverified"]
    first = (await deliveries(app.state.danbyte.db, webhook_id=verified))[0]
    assert first.status_code is None and "CERTIFICATE_VERIFY_FAILED" in first.error
    (row,) = await deliveries(app.state.danbyte.db, webhook_id=missing_ca)
    assert row.error == "ca_file_path: the CA certificate file could not be loaded" and "nothing.pem" not in row.error


async def test_the_secret_is_sealed_write_only_and_never_repeated(committed_api, committed_org, worker, receivers, app, redis_url, caplog):
    caplog.set_level(logging.DEBUG)
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    listener = aioredis.Redis.from_url(redis_url)
    pubsub = listener.pubsub()
    await pubsub.subscribe(CHANNEL)
    try:
        webhook = await hook(committed_api, tenant, receiver.url, types=("extras.webhook", "dcim.site"), events=("object_updated",), secret=SECRET)
        await committed_api.data('mutation($id: ID!) { webhook_update(id: $id, input: {description: "watched"}) { id } }', id=webhook)
        (request,) = await receiver.wait_for(1)
        published = []
        while (message := await pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] == "message":
                published.append(message["data"].decode())
    finally:
        await pubsub.aclose()
        await listener.aclose()
    db = app.state.danbyte.db
    async with db.system_transaction() as conn:
        raw = (await conn.execute(sa.text("SELECT * FROM webhook WHERE id = :id"), {"id": webhook})).one()
        logged = (await conn.execute(sa.text("SELECT * FROM object_change WHERE object_id = :id"), {"id": webhook})).all()
    # Sealed at rest: no column holds it in clear, and the key opens it.
    assert all(SECRET not in str(value) for value in raw) and unseal(raw.secret) == SECRET
    # The change log, the events, the webhook about the webhook, the delivery log and the
    # logs hold neither the secret nor its column.
    assert len(logged) == 2 and all(SECRET not in str(entry) and "'secret'" not in str(entry) for entry in logged)
    assert len(published) == 3 and all(SECRET not in text for text in published)  # webhook, rule, update
    assert request.json()["data"]["description"] == "watched" and "secret" not in request.json()["data"]
    assert SECRET.encode() not in request.body and all(SECRET not in value for value in request.headers.values())
    assert request.headers["x-hook-signature"] == signed(request.body)
    await until(lambda: count_rows(app, webhook, 1), "the delivery row")
    assert all(SECRET not in str(value) for row in await deliveries(db, webhook_id=webhook) for value in row)
    assert SECRET not in caplog.text
    # Write-only: no field answers it and no filter finds by it.
    error = await committed_api.error("query($id: ID!) { webhook(id: $id) { secret } }", id=webhook)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "secret" in error["message"]
    error = await committed_api.error('{ webhook_list(filters: {secret: {exact: "x"}}) { name } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_one_message_per_committed_write(committed_api, committed_org, redis_url):
    """The write path enqueues one dispatch per committed write (not per object), and none
    for a write no tenant's rule can hear."""
    queue = producer(redis_url)
    queue.flush(QUEUE)
    client = aioredis.Redis.from_url(redis_url)
    try:
        tenant = str(committed_org.tenant_ids[0])
        await committed_api.data(
            "mutation($i: [SiteCreateInput!]!) { site_create_many(inputs: $i) { id } }",
            i=[{"tenant": tenant, "name": f"batch-{n}", "slug": f"batch-{n}"} for n in range(3)],
        )
        await committed_api.data('mutation { tag_create(input: {name: "shared", slug: "shared"}) { id } }')
        messages = [json.loads(m) for m in (await client.hgetall(f"danbyte:{QUEUE}.msgs")).values()]
    finally:
        queue.flush(QUEUE)
        queue.client.connection_pool.disconnect()
        await client.aclose()
    assert len(messages) == 1 and messages[0]["actor_name"] == "dispatch_changes"
    assert len(messages[0]["args"][0]) == 3 and messages[0]["args"][1] == [tenant]


async def test_bad_webhooks_and_rules_are_refused_naming_the_field(api, org):
    lab = Lab(api, org.tenant_ids[0])
    for fields, name in (
        ({"payload_url": "ftp://example.com/x"}, "payload_url"),
        ({"payload_url": "file:///etc/passwd"}, "payload_url"),
        ({"payload_url": "example.com/no-scheme"}, "payload_url"),
        ({"payload_url": "gopher://{{ data.name }}"}, "payload_url"),
        ({"payload_url": "http://x/{{ data.name"}, "payload_url"),
        ({"payload_url": "http://x", "body_template": "{% if %}"}, "body_template"),
        ({"payload_url": "http://x", "body_template": "{% include 'other' %}"}, "body_template"),
        ({"payload_url": "http://x", "additional_headers": "X-A: {{ event"}, "additional_headers"),
        ({"payload_url": "http://x", "ssl_verification": False, "ca_file_path": "/etc/ssl/ca.pem"}, "ca_file_path"),
        ({"payload_url": "http://x", "http_content_type": "text/plain\r\nX-Injected: 1"}, "http_content_type"),
        ({"payload_url": "http://x", "http_content_type": "text/plaîn"}, "http_content_type"),
        ({"payload_url": "http://x", "secret": "k" * 256}, "secret"),
    ):
        error = await lab.refuse("webhook", name="bad", **fields)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", name), (fields, error)
    assert await api.count("webhook") == 0
    # A URL whose host is a template is checked once rendered (NetBox allows it).
    webhook = await lab.make("webhook", name="ok", payload_url="https://{{ data.name }}.example.com/hook")
    theirs = await Lab(api, org.tenant_ids[1]).make("webhook", name="theirs", payload_url="http://x")
    base = {"name": "bad", "object_types": ["dcim.site"], "event_types": ["object_created"], "action_object": webhook}
    for fields, name in (
        ({"conditions": {"xor": []}}, "conditions"),
        ({"conditions": {"and": "status"}}, "conditions"),
        ({"conditions": {"and": [{"attr": "status", "value": {"nested": 1}}]}}, "conditions"),
        ({"conditions": {"and": [{"attr": "status", "value": "x", "op": "gt"}]}}, "conditions"),
        ({"conditions": {"and": [{"attr": "status", "value": "x", "op": "nope"}]}}, "conditions"),
        ({"conditions": {"and": [{"attr": "status", "value": "x", "colour": "red"}]}}, "conditions"),
        ({"conditions": {"and": [{"attr": "name", "value": "(", "op": "regex"}]}}, "conditions"),
        ({"conditions": {"attr": "name"}}, "conditions"),
        ({"object_types": ["dcim.nothing"]}, "object_types.0"),
        ({"object_types": []}, "object_types"),
        ({"object_types": ["dcim.site", "tenancy.tag"]}, "object_types.1"),
        ({"event_types": ["job_started"]}, "event_types.0"),
        ({"event_types": []}, "event_types"),
        ({"action_type": "SCRIPT"}, "action_type"),
        ({"action_object": theirs}, "action_object"),
        ({"action_data": []}, "action_data"),
    ):
        error = await lab.refuse("event_rule", **{**base, **fields})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", name), (fields, error)
    assert await api.count("event_rule") == 0
    rule = await lab.make("event_rule", **{**base, "name": "good", "conditions": {"or": [{"attr": "status", "value": "active"}]}})
    error = await lab.update_error("event_rule", rule, conditions={"and": [{"attr": "tags", "op": "in", "value": "x"}]})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "conditions")
    error = await lab.update_error("webhook", webhook, ssl_verification=False, ca_file_path="/ca.pem")
    assert error["extensions"]["field"] == "ca_file_path"


async def test_a_rule_watches_only_types_its_writer_may_view(api, org):
    lab = Lab(api, org.tenant_ids[0])
    webhook = await lab.make("webhook", name="w", payload_url="http://x")
    writer = api.as_key(await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"event_rule": ["add", "view"], "webhook": ["view"], "site": ["view"]}))
    base = {"name": "r", "event_types": ["object_created"], "action_object": webhook}
    made = await Lab(writer, org.tenant_ids[0]).make("event_rule", **base, object_types=["dcim.site"])
    assert made
    error = await Lab(writer, org.tenant_ids[0]).refuse("event_rule", **{**base, "name": "r2"}, object_types=["dcim.site", "dcim.device"])
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("FORBIDDEN", "object_types.1")


def test_condition_sets_follow_netbox():
    device = {"status": "active", "name": "edge-7", "vcpus": 4, "tags": [{"name": "a"}, {"name": "b"}], "site": None, "primary": True, "rack_id": "r-1"}
    assert evaluate(None, device) and evaluate({}, device)
    cases = [
        ({"attr": "status", "value": "active"}, True),
        ({"attr": "status", "value": "active", "negate": True}, False),
        ({"and": [{"attr": "status", "value": "active"}, {"attr": "vcpus", "op": "gte", "value": 4}]}, True),
        ({"or": [{"attr": "status", "value": "planned"}, {"attr": "vcpus", "op": "lt", "value": 4}]}, False),
        ({"AND": [{"attr": "name", "op": "regex", "value": "^edge-\\d$"}]}, True),
        ({"and": [{"attr": "name", "op": "contains", "value": "dge"}]}, True),
        ({"and": [{"attr": "status", "op": "in", "value": ["planned", "active"]}]}, True),
        ({"and": [{"attr": "tags.name", "op": "contains", "value": "b"}]}, True),
        ({"and": [{"attr": "tags.name", "value": ["a", "b"]}]}, True),
        ({"and": [{"attr": "site", "value": None}]}, True),
        ({"and": [{"attr": "primary", "value": True}]}, True),
        ({"or": [{"attr": "status", "value": "planned"}, {"and": [{"attr": "vcpus", "op": "gt", "value": 2}, {"attr": "primary", "value": True}]}]}, True),
        ({"and": []}, True),
        ({"or": []}, False),
        # What the data lacks, or cannot compare, makes the set false (negated or not).
        ({"and": [{"attr": "rack.name", "value": "r1"}]}, False),
        ({"and": [{"attr": "rack.name", "value": "r1", "negate": True}]}, False),
        ({"and": [{"attr": "vcpus", "op": "regex", "value": "4"}]}, False),
        ({"and": [{"attr": "name", "op": "gt", "value": 3}]}, False),
        # NetBox's paths to a choice's value and a reference's id read the change log's
        # value and ``<name>_id`` column; other fields of a referenced object are not there.
        ({"and": [{"attr": "status.value", "value": "active"}]}, True),
        ({"and": [{"attr": "rack.id", "value": "r-1"}]}, True),
        ({"and": [{"attr": "rack.name", "value": "r-1"}]}, False),
    ]
    for conditions, expected in cases:
        assert evaluate(conditions, device) is expected, conditions
    too_deep: dict[str, Any] = {"attr": "a", "value": 1}
    for _ in range(40):
        too_deep = {"and": [too_deep]}
    for bad in ([], {"and": [1]}, {"and": [{"and": "x"}]}, {"attr": "a", "value": 1, "negate": "yes"}, {"attr": "", "value": 1}, too_deep):
        with pytest.raises(ConditionError):
            parse(bad)


async def test_the_delivery_log_is_read_by_its_tenant_with_the_view_grant(api, org, db):
    first, second = org.tenant_ids
    webhook = await Lab(api, first).make("webhook", name="logged", payload_url="http://x")
    async with db.system_transaction() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO webhook_delivery (tenant_id, webhook_id, event_type, object_type, object_id, request_id, attempt, status_code)"
                " VALUES (:t, :w, 'object_created', 'dcim.site', gen_random_uuid(), gen_random_uuid(), 1, 200)"
            ),
            {"t": first, "w": webhook},
        )
    query = "{ webhook_delivery_list { attempt status_code webhook { name } } }"
    assert (await api.data(query))["webhook_delivery_list"] == [{"attempt": 1, "status_code": 200, "webhook": {"name": "logged"}}]
    grants = {"webhook_delivery": ["view"], "webhook": ["view"]}
    own = api.as_key(await org.user_key(tenant_ids=[first], grants=grants))
    other = api.as_key(await org.user_key(tenant_ids=[second], grants=grants))
    blind = api.as_key(await org.user_key(tenant_ids=[first], grants={"webhook": ["view"]}))
    assert len((await own.data(query))["webhook_delivery_list"]) == 1
    assert (await other.data(query))["webhook_delivery_list"] == []
    assert (await blind.error(query))["extensions"]["code"] == "FORBIDDEN"
    # Through the webhook, a reader without the grant on the log finds it empty.
    assert (await blind.data("{ webhook_list { deliveries { attempt } } }"))["webhook_list"] == [{"deliveries": []}]
