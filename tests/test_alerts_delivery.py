"""Alert notifications against real components: committed rows, evaluation committed in
its own transaction, the dramatiq worker (tests/conftest.py ``worker``) on Redis, an HTTP
receiver on loopback that checks the HMAC signature independently, and an aiosmtpd SMTP
server. Bodies are asserted as received."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from types import SimpleNamespace
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from dcim_lab import Lab
from worker_rows import insert_worker_row

from jobs.alerts import Evaluation, context, evaluate, evaluate_alerts, send_email, send_notifications
from jobs.monitoring import CheckScheduler
from jobs.runtime import EVENTS_CHANNEL
from models.monitoring import CheckState
from resolvers.secrets import seal

SECRET = "alert-hmac-☃-never-in-clear"
ROUTING_KEY = "pd-routing-key-never-in-clear"
SMTP_PASSWORD = "smtp-password-never-in-clear"
WAIT = 15.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on a free loopback port recording each request, answering with the
    next scripted status (200 once the script is used up)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            _, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                if line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses.pop(0) if self.statuses else 200
            self.requests.append(Received(path, headers, body))
            writer.write(f"HTTP/1.1 {status} Whatever\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int) -> list[Received]:
        await until(lambda: len(self.requests) >= count, f"{count} requests at {self.url}, got {len(self.requests)}")
        return self.requests

    @property
    def distinct(self) -> list[Received]:
        """The requests without repeats: a delivery retried after a timeout (a loaded
        machine) sends the same body again."""
        seen: set[bytes] = set()
        return [r for r in self.requests if not (r.body in seen or seen.add(r.body))]

    async def wait_for_distinct(self, count: int) -> list[Received]:
        await until(lambda: len(self.distinct) >= count, f"{count} distinct requests at {self.url}, got {len(self.distinct)}")
        return self.distinct


class Mailbox:
    """aiosmtpd's handler: keeps what arrives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


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


def free_port() -> int:
    # aiosmtpd's Controller checks its server by connecting to the port it was given.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


@pytest.fixture
async def receivers() -> AsyncIterator[Any]:
    made: list[Receiver] = []

    async def make(statuses: list[int] | None = None) -> Receiver:
        made.append(await Receiver(list(statuses or [])).start())
        return made[-1]

    yield make
    for receiver in made:
        assert receiver.server is not None
        receiver.server.close()
        await receiver.server.wait_closed()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
async def quiet_afterwards(app: Any, committed_org: Any) -> AsyncIterator[None]:
    """This test's rules and channels are switched off at its end: its rows stay committed,
    and later evaluations must not keep notifying them."""
    yield
    async with app.state.danbyte.db.system_transaction() as conn:
        for table in ("alert_rule", "notification_channel"):
            await conn.execute(sa.text(f"UPDATE {table} SET enabled = false WHERE tenant_id = ANY (:t)"), {"t": committed_org.tenant_ids})


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    made = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    yield made
    made.dispose()


async def evaluate_and_send(engine: sa.Engine, broker: Any, now: datetime) -> Evaluation:
    """One committed evaluation, its notifications sent after the commit."""

    def work() -> Evaluation:
        with engine.begin() as conn:
            outcome = evaluate(conn, now)
        assert outcome is not None
        send_notifications(broker, outcome.notifications)
        return outcome

    return await asyncio.to_thread(work)


async def setup(api: Any, app: Any, tenant: Any, channels: list[str], **rule: Any) -> dict[str, str]:
    """A device, a check template, a rule on ``channels`` and the device's check, down."""
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    w = dict(c)
    w["device"] = await lab.device(c, kind, "core1")
    w["template"] = await lab.make("check_template", name="ping", kind="KIND_ICMP")
    w["rule"] = await lab.make("alert_rule", name="core down", states=["down"], channels=channels, **rule)
    async with app.state.danbyte.db.system_transaction() as conn:
        row = await insert_worker_row(
            conn,
            CheckState,
            tenant_id=tenant,
            template_id=w["template"],
            device_id=w["device"],
            address="192.0.2.1",
            state="down",
            since=sa.func.now() - timedelta(hours=1),
            message="no answer",
        )
        w["check"] = str(row.id)
    return w


async def deliveries(app: Any, **where: Any) -> list[Any]:
    clauses = " AND ".join(f"{column} = :{column}" for column in where)
    async with app.state.danbyte.db.system_transaction() as conn:
        return (await conn.execute(sa.text(f"SELECT * FROM notification_delivery WHERE {clauses} ORDER BY created, attempt"), where)).all()


async def alert_of(app: Any, rule: str) -> Any:
    async with app.state.danbyte.db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT * FROM alert WHERE rule_id = :r ORDER BY numid DESC LIMIT 1"), {"r": rule})).one()


async def test_signed_webhook_retried_after_a_500_and_logged(committed_api, committed_org, app, fast_retries, worker, receivers, engine, quiet_afterwards):
    receiver = await receivers(statuses=[500])
    tenant = committed_org.tenant_ids[0]
    lab = Lab(committed_api, tenant)
    channel = await lab.make("notification_channel", name="hook", kind="KIND_WEBHOOK", url=receiver.url + "/alerts", secret=SECRET)
    w = await setup(committed_api, app, tenant, [channel])
    await evaluate_and_send(engine, worker, datetime.now(UTC))
    first, second = await receiver.wait_for(2)
    assert first.body == second.body and first.path == "/alerts"
    for request in (first, second):
        assert request.headers["x-hook-signature"] == signed(request.body)
        assert request.headers["content-type"] == "application/json"
    body = second.json()
    alert = await alert_of(app, w["rule"])
    assert body["event"] == "trigger" and body["alert"]["id"] == str(alert.id) and body["alert"]["numid"] == alert.numid
    assert (body["alert"]["status"], body["alert"]["severity"], body["rule"]["name"]) == ("firing", "warning", "core down")
    assert (body["check"]["template"], body["check"]["address"], body["check"]["message"]) == ("ping", "192.0.2.1", "no answer")
    assert body["device"] == {"id": w["device"], "name": "core1"} and body["site"]["name"] == "AMS1"
    await until(lambda: _count(app, channel, 2), "two delivery-log rows")
    rows = await deliveries(app, channel_id=channel)
    assert [(r.attempt, r.status, r.status_code, r.error, r.event, str(r.alert_id)) for r in rows] == [
        (1, "retrying", 500, "the server answered 500", "trigger", str(alert.id)),
        (2, "sent", 200, "", "trigger", str(alert.id)),
    ]
    assert SECRET not in str([tuple(r) for r in rows]) and SECRET.encode() not in first.body
    # The log reads through GraphQL, with the channel and the alert; never the secret.
    got = await committed_api.data(
        "{ notification_delivery_list { attempt status status_code event channel { name } alert { numid status } } notification_channel_list { name url } }"
    )
    assert [d["attempt"] for d in got["notification_delivery_list"]] == [1, 2]
    assert got["notification_delivery_list"][1]["channel"] == {"name": "hook"} and got["notification_delivery_list"][1]["alert"]["numid"] == alert.numid
    assert SECRET not in json.dumps(got)


async def _count(app: Any, channel: str, count: int) -> bool:
    return len(await deliveries(app, channel_id=channel)) >= count


async def test_e_mail_through_a_real_smtp_server(committed_api, committed_org, app, fast_retries, worker, mailbox, engine, quiet_afterwards):
    box, port = mailbox
    tenant = committed_org.tenant_ids[0]
    lab = Lab(committed_api, tenant)
    channel = await lab.make(
        "notification_channel",
        name="noc mail",
        kind="KIND_EMAIL",
        smtp_host="127.0.0.1",
        smtp_port=port,
        email_from="alerts@example.com",
        recipients=["noc@example.com", "oncall@example.com"],
    )
    w = await setup(committed_api, app, tenant, [channel], severity="SEVERITY_CRITICAL")
    await evaluate_and_send(engine, worker, datetime.now(UTC))
    await until(lambda: len(box.envelopes) >= 1, "an e-mail")
    (envelope,) = box.envelopes
    assert envelope.mail_from == "alerts@example.com" and sorted(envelope.rcpt_tos) == ["noc@example.com", "oncall@example.com"]
    message = message_from_bytes(envelope.content)
    alert = await alert_of(app, w["rule"])
    assert message["Subject"] == f"[Alert] #{alert.numid} CRITICAL: core down: ping @ core1 192.0.2.1 is down"
    text = message.get_payload(decode=True).decode()
    assert "Device: core1" in text and "Site: AMS1" in text and f"Alert id: {alert.id}" in text
    await until(lambda: _count(app, channel, 1), "the delivery-log row")
    (row,) = await deliveries(app, channel_id=channel)
    assert (row.status, row.status_code, row.error) == ("sent", 250, "") and "2 of 2" in row.response


async def test_an_unreachable_smtp_server_is_retried_then_fails(committed_api, committed_org, app, fast_retries, worker, engine, quiet_afterwards):
    port = free_port()  # nothing listens there
    tenant = committed_org.tenant_ids[0]
    channel = await Lab(committed_api, tenant).make(
        "notification_channel",
        name="dead mail",
        kind="KIND_EMAIL",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_username="bot",
        secret=SMTP_PASSWORD,
        email_from="alerts@example.com",
        recipients=["noc@example.com"],
    )
    await setup(committed_api, app, tenant, [channel])
    await evaluate_and_send(engine, worker, datetime.now(UTC))
    await until(lambda: _count(app, channel, 3), "three attempts")
    rows = await deliveries(app, channel_id=channel)
    assert [(r.attempt, r.status) for r in rows] == [(1, "retrying"), (2, "retrying"), (3, "failed")]
    assert all("ConnectionRefusedError" in r.error and r.status_code is None for r in rows)
    assert SMTP_PASSWORD not in str([tuple(r) for r in rows])


async def test_chat_and_pagerduty_bodies_through_acknowledge_and_resolve(
    committed_api, committed_org, app, fast_retries, worker, receivers, engine, quiet_afterwards
):
    slack, teams, discord, pager = [await receivers() for _ in range(4)]
    tenant = committed_org.tenant_ids[0]
    lab = Lab(committed_api, tenant)
    channels = [
        await lab.make("notification_channel", name="slack", kind="KIND_SLACK", secret=slack.url + "/services/T/B/X"),
        await lab.make("notification_channel", name="teams", kind="KIND_TEAMS", secret=teams.url + "/webhookb2/x"),
        await lab.make("notification_channel", name="discord", kind="KIND_DISCORD", secret=discord.url + "/api/webhooks/1/x"),
        await lab.make("notification_channel", name="pagerduty", kind="KIND_PAGERDUTY", url=pager.url + "/v2/enqueue", secret=ROUTING_KEY),
    ]
    w = await setup(committed_api, app, tenant, channels, severity="SEVERITY_CRITICAL")
    await evaluate_and_send(engine, worker, datetime.now(UTC))
    for receiver in (slack, teams, discord, pager):
        await receiver.wait_for_distinct(1)
    alert = await alert_of(app, w["rule"])
    heading = f"[Alert] #{alert.numid} CRITICAL: core down: ping @ core1 192.0.2.1 is down"

    message = slack.distinct[0].json()
    assert message["text"] == heading and message["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": heading}}
    assert message["blocks"][1]["type"] == "section" and "*Device:* core1" in message["blocks"][1]["text"]["text"]

    card = teams.distinct[0].json()
    assert (card["@type"], card["@context"], card["title"], card["themeColor"]) == ("MessageCard", "https://schema.org/extensions", heading, "D32F2F")
    assert {"name": "Site", "value": "AMS1"} in card["sections"][0]["facts"]

    posted = discord.distinct[0].json()
    assert posted["content"] == heading and posted["embeds"][0]["color"] == 0xD32F2F
    assert {"name": "Severity", "value": "critical", "inline": True} in posted["embeds"][0]["fields"]

    trigger = pager.distinct[0].json()
    dedup = f"danbyte-alert-{alert.id}"
    assert (trigger["routing_key"], trigger["event_action"], trigger["dedup_key"]) == (ROUTING_KEY, "trigger", dedup)
    assert {k: trigger["payload"][k] for k in ("summary", "source", "severity", "component", "group", "class")} == {
        "summary": "core down: ping @ core1 192.0.2.1 is down",
        "source": "core1",
        "severity": "critical",
        "component": "ping",
        "group": "AMS1",
        "class": "icmp",
    }
    assert "x-hook-signature" not in pager.distinct[0].headers  # only the generic webhook is signed

    # Acknowledged through the API: every channel hears it, PagerDuty by the same key.
    acked = await committed_api.data(
        'mutation($id: ID!) { alert_acknowledge(id: $id, comment: "rebooting core1 <!channel> @everyone") { status acknowledged_comment } }', id=str(alert.id)
    )
    assert acked["alert_acknowledge"] == {"status": "acknowledged", "acknowledged_comment": "rebooting core1 <!channel> @everyone"}
    await pager.wait_for_distinct(2)
    assert pager.distinct[1].json() == {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": dedup}
    await slack.wait_for_distinct(2)
    assert slack.distinct[1].json()["text"].startswith(f"[Acknowledged] #{alert.numid}")
    # A comment is shown, never obeyed: Slack's control sequences escaped, Discord told to ping no one.
    assert "rebooting core1 &lt;!channel&gt; @everyone" in slack.distinct[1].json()["blocks"][1]["text"]["text"]
    await discord.wait_for_distinct(2)
    assert discord.distinct[1].json()["allowed_mentions"] == {"parse": []}

    # The check recovers: resolved, and PagerDuty resolves the incident.
    async with app.state.danbyte.db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE check_state SET state = 'up' WHERE id = :id"), {"id": w["check"]})
    await evaluate_and_send(engine, worker, datetime.now(UTC))
    await pager.wait_for_distinct(3)
    assert pager.distinct[2].json() == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": dedup}
    for receiver in (slack, teams, discord):
        await receiver.wait_for_distinct(3)
    assert discord.distinct[2].json()["embeds"][0]["color"] == 0x388E3C
    everything = [r.body for x in (slack, teams, discord) for r in x.requests]
    assert not any(ROUTING_KEY.encode() in b for b in everything)

    async def all_sent() -> bool:
        return len([r for r in await deliveries(app, alert_id=str(alert.id)) if r.status == "sent"]) >= 12

    await until(all_sent, "twelve deliveries logged as sent")
    rows = await deliveries(app, alert_id=str(alert.id))
    assert sorted(r.event for r in rows if r.status == "sent") == sorted(["trigger", "acknowledge", "resolve"] * 4)
    assert {r.status for r in rows} <= {"sent", "retrying"} and ROUTING_KEY not in str([tuple(r) for r in rows])


async def test_escalation_and_silences_at_the_receivers(committed_api, committed_org, app, fast_retries, worker, receivers, engine, quiet_afterwards):
    routine, escalation, silenced_site = await receivers(), await receivers(), await receivers()
    tenant = committed_org.tenant_ids[0]
    lab = Lab(committed_api, tenant)
    ops = await lab.make("notification_channel", name="ops", kind="KIND_WEBHOOK", url=routine.url)
    boss = await lab.make("notification_channel", name="boss", kind="KIND_WEBHOOK", url=escalation.url, secret=SECRET)
    w = await setup(committed_api, app, tenant, [ops], escalation_channel=boss, escalate_after_seconds=300)
    # A second rule, on its own channel, is silenced for the device: recorded, not sent.
    muted_channel = await lab.make("notification_channel", name="muted", kind="KIND_WEBHOOK", url=silenced_site.url)
    muted_rule = await lab.make("alert_rule", name="muted", states=["down"], channels=[muted_channel])
    now = datetime.now(UTC)
    await lab.make(
        "silence", starts_at=(now - timedelta(minutes=1)).isoformat(), ends_at=(now + timedelta(days=1)).isoformat(), comment="swap", rules=[muted_rule]
    )
    first = await evaluate_and_send(engine, worker, now)
    await routine.wait_for(1)
    muted = await alert_of(app, muted_rule)
    assert muted.silenced and muted.status == "firing"
    assert all(alert_id != muted.id for alert_id, _ in first.notifications)
    assert escalation.requests == []
    later = now + timedelta(seconds=301)
    await evaluate_and_send(engine, worker, later)
    (escalated,) = await escalation.wait_for(1)
    assert escalated.json()["event"] == "escalate" and escalated.headers["x-hook-signature"] == signed(escalated.body)
    alert = await alert_of(app, w["rule"])
    assert escalated.json()["alert"]["escalated_at"] == alert.escalated_at.isoformat()
    # Acknowledging tells both the rule's channel and the escalation channel it reached.
    await committed_api.data('mutation($id: ID!) { alert_acknowledge(id: $id, comment: "seen") { id } }', id=str(alert.id))
    await escalation.wait_for(2)
    await routine.wait_for(2)
    assert escalation.requests[1].json()["event"] == "acknowledge"
    assert silenced_site.requests == []
    # The silenced alert was never sent; an acknowledgement of it is not sent either.
    await committed_api.data('mutation($id: ID!) { alert_acknowledge(id: $id, comment: "known") { id } }', id=str(muted.id))
    await evaluate_and_send(engine, worker, later)
    await asyncio.sleep(0.5)
    assert silenced_site.requests == [] and await deliveries(app, channel_id=muted_channel) == []
    assert uuid.UUID(w["rule"])


async def test_the_check_schedulers_hooks_evaluate_and_publish_row_events(
    committed_api, committed_org, app, fast_retries, worker, receivers, database_url, redis_url, quiet_afterwards
):
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    channel = await Lab(committed_api, tenant).make("notification_channel", name="tick", kind="KIND_WEBHOOK", url=receiver.url)
    w = await setup(committed_api, app, tenant, [channel])
    listener = aioredis.Redis.from_url(redis_url)
    pubsub = listener.pubsub()
    await pubsub.subscribe(EVENTS_CHANNEL)
    try:
        # The check scheduler runs its cycle hooks (alert evaluation among them) on its own.
        checks = CheckScheduler(database_url, redis_url)
        try:
            await checks.run_hooks()
        finally:
            await checks.close()
        (request,) = await receiver.wait_for(1)
        alert = await alert_of(app, w["rule"])
        assert request.json()["alert"]["id"] == str(alert.id)
        events = []
        while not any(e.get("id") == str(alert.id) for e in events):
            message = await asyncio.wait_for(pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0), WAIT)
            if message is not None:
                events.append(json.loads(message["data"]))
        (event,) = [e for e in events if e.get("id") == str(alert.id)]
        assert (event["kind"], event["type"], event["action"], event["status"], event["device_id"], event["tenant_id"]) == (
            "change",
            "alert",
            "create",
            "firing",
            w["device"],
            str(tenant),
        )
        assert event["org_id"] == str(committed_org.org_id) and event["change_id"] is None
    finally:
        await pubsub.aclose()
        await listener.aclose()


async def test_evaluators_racing_raise_one_alert(committed_api, committed_org, app, engine, quiet_afterwards):
    """Several workers evaluating at once: they take turns on the advisory lock, and the
    second finds the first's alert (the partial unique index would refuse a second)."""
    tenant = committed_org.tenant_ids[0]
    w = await setup(committed_api, app, tenant, [])
    now = datetime.now(UTC)
    start = threading.Barrier(4)

    def one() -> Evaluation:
        start.wait()
        with engine.begin() as conn:
            outcome = evaluate(conn, now)
        assert outcome is not None
        return outcome

    outcomes = await asyncio.gather(*(asyncio.to_thread(one) for _ in range(4)))
    async with app.state.danbyte.db.system_transaction() as conn:
        rows = (await conn.execute(sa.text("SELECT numid FROM alert WHERE rule_id = :r"), {"r": w["rule"]})).all()
    assert len(rows) == 1
    alert = await alert_of(app, w["rule"])
    raised = [e for outcome in outcomes for e in outcome.events if e["id"] == str(alert.id)]
    assert [e["action"] for e in raised] == ["create"]


async def test_the_cycle_hook_s_notifications_wait_for_its_commit(committed_api, committed_org, app, fast_retries, worker, receivers, engine, quiet_afterwards):
    """evaluate_alerts sends before its caller commits: a notification waits for the alert
    to be committed, and one whose transaction rolled back is never sent."""
    receiver = await receivers()
    tenant = committed_org.tenant_ids[0]
    channel = await Lab(committed_api, tenant).make("notification_channel", name="hook", kind="KIND_WEBHOOK", url=receiver.url)
    w = await setup(committed_api, app, tenant, [channel])
    now = datetime.now(UTC)

    def hook_then(commit: bool) -> list[dict[str, Any]]:
        with engine.connect() as conn:
            transaction = conn.begin()
            events = evaluate_alerts(conn, now)
            time.sleep(0.5)  # the worker has the message by now; the alert is not visible yet
            transaction.commit() if commit else transaction.rollback()
        return events

    rolled_back = await asyncio.to_thread(hook_then, False)
    committed = await asyncio.to_thread(hook_then, True)
    lost = {e["id"] for e in rolled_back if e["tenant_id"] == str(tenant)}
    kept = {e["id"] for e in committed if e["tenant_id"] == str(tenant)}
    assert len(lost) == len(kept) == 1 and lost != kept
    (request,) = await receiver.wait_for(1)
    assert {request.json()["alert"]["id"]} == kept == {str((await alert_of(app, w["rule"])).id)}
    await asyncio.sleep(4)  # the rolled-back alert's waits (0.1 + 0.2 + … + 0.8 s) are over
    assert len(receiver.requests) == 1


class TlsMailbox(Mailbox):
    """A Mailbox that also notes whether each message came over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


def _alert_context() -> dict[str, Any]:
    alert = SimpleNamespace(
        id=uuid.uuid4(), numid=7, status="open", severity="critical", state="down", summary="core down", started_at=datetime.now(UTC),
        resolved_at=None, acknowledged_at=None, acknowledged_by=None, acknowledged_comment=None, escalated_at=None, rule_id=None,
        rule_name="core down", check_state_id=None, template_name=None, check_kind="ping", address="192.0.2.1", port=None,
        check_state="down", check_message="", device_id=None, device_name=None, site_id=None, site_name=None, tenant_id=uuid.uuid4(),
    )  # fmt: skip
    return context(alert, "trigger")


def test_starttls_and_login_against_a_real_smtp_server(tmp_path, monkeypatch):
    """STARTTLS with the server's certificate checked, then LOGIN over the encrypted
    session: delivered when the CA is trusted, refused (and retried) when it is not, and a
    channel without STARTTLS never sends its password to a server that requires it."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password.decode() == SMTP_PASSWORD)

    box, port = TlsMailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        channel = SimpleNamespace(
            smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=True, smtp_username="bot", secret=seal(SMTP_PASSWORD),
            email_from="alerts@example.com", recipients=["noc@example.com"],
        )  # fmt: skip
        # The CA is not trusted: the certificate check fails before any login is sent.
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
        untrusted = send_email(channel, _alert_context(), timeout=10)
        assert untrusted.status_code is None and "CERTIFICATE_VERIFY_FAILED" in untrusted.error and untrusted.retry
        assert logins == [] and box.envelopes == []
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        sent = send_email(channel, _alert_context(), timeout=10)
        assert (sent.status_code, sent.error) == (250, ""), sent
        assert logins == [("bot", SMTP_PASSWORD)] and box.over_tls == [True]
        assert message_from_bytes(box.envelopes[0].content)["Subject"] == "[Alert] #7 CRITICAL: core down"
        # Without STARTTLS this server offers no login: the password is never sent, and the
        # attempt fails for good (retrying cannot help).
        plain = send_email(SimpleNamespace(**{**vars(channel), "smtp_starttls": False}), _alert_context(), timeout=10)
        assert plain.error.startswith("the server does not support it") and not plain.retry, plain
        assert len(logins) == 1 and len(box.envelopes) == 1
    finally:
        controller.stop()
