"""Alert rules, alerts, silences and channels: what the API accepts, and what evaluation
(jobs.alerts.evaluate) makes of check states written here by SQL (the scheduler is not
involved): scope, for_seconds, one alert per rule and check, flapping, resolution,
acknowledgement, escalation and silences. Delivery is tests/test_alerts_delivery.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from dcim_lab import Lab
from worker_rows import insert_worker_row

from jobs.alerts import Evaluation, evaluate
from models.monitoring import CheckState

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ALERT_FIELDS = "id numid status severity state summary silenced acknowledged_by acknowledged_comment acknowledged_at escalated_at resolved_at"


async def run(db: Any, now: datetime) -> Evaluation:
    async with db.system_transaction() as conn:
        outcome = await conn.run_sync(lambda sync: evaluate(sync, now))
    assert outcome is not None
    return outcome


async def world(api: Any, tenant: Any) -> dict[str, str]:
    """Two devices (core1 at AMS1 as Leaf, edge1 at FRA1 as Edge, tagged prod) and two
    check templates."""
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    w = dict(c)
    w["core"] = await lab.device(c, kind, "core1")
    w["edge_role"] = await lab.make("device_role", name="Edge", slug="edge")
    w["edge_site"] = await lab.make("site", name="FRA1", slug="fra1")
    w["prod"] = (await api.data('mutation { tag_create(input: {name: "prod-%s", slug: "prod-%s"}) { id } }' % ((uuid.uuid4().hex[:6],) * 2)))["tag_create"][
        "id"
    ]
    w["edge"] = await lab.device({**c, "role": w["edge_role"], "site": w["edge_site"]}, kind, "edge1", tags=[w["prod"]])
    w["ping"] = await lab.make("check_template", name="ping", kind="KIND_ICMP")
    w["web"] = await lab.make("check_template", name="web", kind="KIND_TCP", parameters={"port": 443})
    w["channel"] = await lab.make("notification_channel", name="ops", kind="KIND_WEBHOOK", url="http://127.0.0.1:9/ops", secret="hook-secret-1")
    w["pager"] = await lab.make("notification_channel", name="pager", kind="KIND_PAGERDUTY", url="http://127.0.0.1:9/pd", secret="routing-key-1")
    return w


async def check(db: Any, tenant: Any, template: str, device: str | None, address: str, state: str, *, since: datetime = T0, flapping: bool = False) -> str:
    async with db.system_transaction() as conn:
        row = await insert_worker_row(
            conn, CheckState, tenant_id=tenant, template_id=template, device_id=device, address=address, state=state, since=since, flapping=flapping
        )
        return str(row.id)


async def set_check(db: Any, check_id: str, **values: Any) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    async with db.system_transaction() as conn:
        await conn.execute(sa.text(f"UPDATE check_state SET {sets} WHERE id = :id"), {"id": check_id, **values})


async def alerts(db: Any, tenant: Any) -> list[Any]:
    async with db.system_transaction() as conn:
        return (await conn.execute(sa.text("SELECT * FROM alert WHERE tenant_id = :t ORDER BY numid"), {"t": str(tenant)})).all()


def pairs(rows: list[Any], open_only: bool = True) -> set[tuple[str, str]]:
    return {(str(r.rule_id), str(r.check_state_id)) for r in rows if not open_only or r.status != "resolved"}


def mine(outcome: Evaluation, rows: list[Any]) -> list[tuple[str, str]]:
    """The notifications of this tenant's alerts (other tests' committed rows may be evaluated too)."""
    ids = {r.id for r in rows}
    return [(str(alert_id), event) for alert_id, event in outcome.notifications if alert_id in ids]


async def rule(lab: Lab, name: str, **fields: Any) -> str:
    fields.setdefault("states", ["down"])
    return await lab.make("alert_rule", name=name, **fields)


async def test_scope_matching_any_combination(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    everywhere = await rule(lab, "everything", channels=[w["channel"]])
    ams = await rule(lab, "ams", sites=[w["site"]])
    edge = await rule(lab, "edge role", roles=[w["edge_role"]])
    tagged = await rule(lab, "prod", tags=[w["prod"]])
    web = await rule(lab, "web", templates=[w["web"]])
    ams_ping = await rule(lab, "ams ping", sites=[w["site"]], templates=[w["ping"]])
    one = await rule(lab, "edge1 only", devices=[w["edge"]])
    degraded = await rule(lab, "degraded too", states=["down", "degraded"], sites=[w["edge_site"]])
    await rule(lab, "disabled", enabled=False)
    core_ping = await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    core_web = await check(db, tenant, w["web"], w["core"], "192.0.2.1", "down")
    edge_ping = await check(db, tenant, w["ping"], w["edge"], "192.0.2.2", "degraded")
    edge_web = await check(db, tenant, w["web"], w["edge"], "192.0.2.2", "down")
    await check(db, tenant, w["ping"], None, "192.0.2.9", "up")  # up never alerts
    # Another tenant's catch-all rule never sees this tenant's checks.
    other = Lab(api, org.tenant_ids[1])
    await rule(other, "theirs")
    await run(db, T0)
    expected = {
        (everywhere, core_ping),
        (everywhere, core_web),
        (everywhere, edge_web),
        (ams, core_ping),
        (ams, core_web),
        (edge, edge_web),
        (tagged, edge_web),
        (web, core_web),
        (web, edge_web),
        (ams_ping, core_ping),
        (one, edge_web),
        (degraded, edge_ping),
        (degraded, edge_web),
    }
    assert pairs(await alerts(db, tenant)) == expected
    assert await alerts(db, org.tenant_ids[1]) == []
    rows = {(str(r.rule_id), str(r.check_state_id)): r for r in await alerts(db, tenant)}
    raised = rows[(ams_ping, core_ping)]
    assert (raised.severity, raised.status, raised.state, str(raised.device_id), str(raised.site_id)) == ("warning", "firing", "down", w["core"], w["site"])
    assert raised.summary == "ams ping: ping @ core1 192.0.2.1 is down"
    # numbered per tenant, from 1
    assert sorted(r.numid for r in rows.values()) == list(range(1, len(expected) + 1))


async def test_for_seconds_and_one_alert_per_rule_and_check(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    slow = await rule(lab, "five minutes", for_seconds=300, severity="SEVERITY_CRITICAL", channels=[w["channel"], w["pager"]])
    down = await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down", since=T0)
    await run(db, T0 + timedelta(seconds=299))
    assert await alerts(db, tenant) == []
    first = await run(db, T0 + timedelta(seconds=300))
    (alert,) = await alerts(db, tenant)
    assert (str(alert.rule_id), str(alert.check_state_id), alert.severity) == (slow, down, "critical")
    assert alert.started_at == T0 + timedelta(seconds=300)
    assert mine(first, [alert]) == [(str(alert.id), "trigger")]
    (event,) = [e for e in first.events if e["id"] == str(alert.id)]
    assert event == {
        "kind": "change",
        "type": "alert",
        "object_type": "alert",
        "id": str(alert.id),
        "numid": alert.numid,
        "action": "create",
        "changed_fields": event["changed_fields"],
        "tenant_id": str(tenant),
        "audience": "tenant",
        "org_id": str(org.org_id),
        "affects_principals": False,
        "change_id": None,
        "site_id": w["site"],
        "device_id": w["core"],
        "severity": "critical",
        "status": "firing",
    }
    assert "status" in event["changed_fields"]
    # Evaluating again (or by a second worker) changes nothing, raises nothing, says nothing.
    for minutes in (6, 7):
        again = await run(db, T0 + timedelta(minutes=minutes))
        assert mine(again, [alert]) == [] and not [e for e in again.events if e["tenant_id"] == str(tenant)]
    assert len(await alerts(db, tenant)) == 1


async def test_the_database_refuses_a_second_open_alert(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "any")
    await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await run(db, T0)
    (alert,) = await alerts(db, tenant)
    async with db.system_transaction() as conn:
        try:
            async with conn.begin_nested():
                await conn.execute(
                    sa.text("INSERT INTO alert (tenant_id, rule_id, check_state_id, severity, started_at) VALUES (:t, :r, :c, 'info', now())"),
                    {"t": str(tenant), "r": alert.rule_id, "c": alert.check_state_id},
                )
        except sa.exc.IntegrityError as error:
            assert "uq_alert_open" in str(error)
        else:
            raise AssertionError("a second open alert for one rule and check was accepted")


async def test_resolve_on_clear_then_a_new_alert(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "any", channels=[w["channel"]])
    down = await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await run(db, T0)
    await set_check(db, down, state="up", since=T0 + timedelta(minutes=1))
    cleared = await run(db, T0 + timedelta(minutes=2))
    (alert,) = await alerts(db, tenant)
    assert (alert.status, alert.resolved_at) == ("resolved", T0 + timedelta(minutes=2))
    assert mine(cleared, [alert]) == [(str(alert.id), "resolve")]
    (event,) = [e for e in cleared.events if e["id"] == str(alert.id)]
    assert (event["action"], event["status"], event["changed_fields"]) == ("update", "resolved", ["resolved_at", "status"])
    await set_check(db, down, state="down", since=T0 + timedelta(minutes=3))
    await run(db, T0 + timedelta(minutes=4))
    first, second = await alerts(db, tenant)
    assert (first.status, second.status, second.numid) == ("resolved", "firing", first.numid + 1)


async def test_leaving_the_rule_resolves(api, org, db):
    """Disabled rule, narrowed scope, deleted rule, deleted check: the condition is gone."""
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    disabled = await rule(lab, "to disable")
    narrowed = await rule(lab, "to narrow")
    deleted = await rule(lab, "to delete")
    await rule(lab, "keeps", devices=[w["edge"]])
    await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    gone = await check(db, tenant, w["ping"], w["edge"], "192.0.2.2", "down")
    await run(db, T0)
    assert len([a for a in await alerts(db, tenant) if a.status == "firing"]) == 7
    await lab.update("alert_rule", disabled, enabled=False)
    await lab.update("alert_rule", narrowed, sites=[w["edge_site"]])
    await api.data("mutation($id: ID!) { alert_rule_delete(id: $id) { id } }", id=deleted)
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("DELETE FROM check_state WHERE id = :id"), {"id": gone})
    await run(db, T0 + timedelta(minutes=1))
    still = [a for a in await alerts(db, tenant) if a.status == "firing"]
    # "to narrow" now covers edge1 only, whose check is gone.
    assert [str(a.rule_id) for a in still] == []
    assert all(a.resolved_at == T0 + timedelta(minutes=1) for a in await alerts(db, tenant))


async def test_a_flapping_check_neither_resolves_nor_raises(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "any", channels=[w["channel"]])
    flappy = await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await run(db, T0)
    # Up again, but flapping: the alert stays open and nothing is sent.
    await set_check(db, flappy, state="up", flapping=True, since=T0 + timedelta(seconds=10))
    held = await run(db, T0 + timedelta(seconds=20))
    (alert,) = await alerts(db, tenant)
    assert alert.status == "firing" and mine(held, [alert]) == []
    # Down, up, down while flapping: still the one alert.
    for second, value in ((30, "down"), (40, "up"), (50, "down")):
        await set_check(db, flappy, state=value, since=T0 + timedelta(seconds=second))
        await run(db, T0 + timedelta(seconds=second + 1))
    assert [a.status for a in await alerts(db, tenant)] == ["firing"]
    # It settles up: resolved. It goes down while flapping: no new alert.
    await set_check(db, flappy, state="up", flapping=False)
    await run(db, T0 + timedelta(minutes=2))
    await set_check(db, flappy, state="down", flapping=True, since=T0 + timedelta(minutes=3))
    held = await run(db, T0 + timedelta(minutes=10))
    (alert,) = await alerts(db, tenant)
    assert alert.status == "resolved" and mine(held, [alert]) == []
    # Settled down: alerting again.
    await set_check(db, flappy, flapping=False)
    await run(db, T0 + timedelta(minutes=11))
    assert [a.status for a in await alerts(db, tenant)] == ["resolved", "firing"]


async def test_escalation_after_time_unless_acknowledged(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "escalating", channels=[w["channel"]], escalation_channel=w["pager"], escalate_after_seconds=600)
    await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await check(db, tenant, w["ping"], w["edge"], "192.0.2.2", "down")
    await run(db, T0)
    first, second = await alerts(db, tenant)
    await ack(api, str(second.id), "on it")
    early = await run(db, T0 + timedelta(seconds=599))
    assert mine(early, [first, second]) == [] and all(a.escalated_at is None for a in await alerts(db, tenant))
    late = await run(db, T0 + timedelta(seconds=600))
    assert mine(late, [first, second]) == [(str(first.id), "escalate")]
    first, second = await alerts(db, tenant)
    assert (first.escalated_at, second.escalated_at) == (T0 + timedelta(seconds=600), None)
    assert mine(await run(db, T0 + timedelta(hours=1)), [first, second]) == []  # once


ACK = "mutation($id: ID!, $c: String!) { alert_acknowledge(id: $id, comment: $c) { %s rule { name } } }" % ALERT_FIELDS


async def ack(api: Any, alert_id: str, comment: str) -> dict[str, Any]:
    return (await api.data(ACK, id=alert_id, c=comment))["alert_acknowledge"]


async def test_acknowledge_with_a_comment(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "any", channels=[w["channel"]])
    await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await run(db, T0)
    (alert,) = await alerts(db, tenant)
    got = await ack(api, str(alert.id), "  replacing the optic  ")
    assert (got["status"], got["acknowledged_comment"], got["rule"]) == ("acknowledged", "replacing the optic", {"name": "any"})
    assert got["acknowledged_by"].startswith("admin-") and got["acknowledged_at"]
    # In the change log, by whom.
    change = await api.data('{ changelog_list(filters: {object_type: {exact: "alert"}}) { action user_name postchange_data } }')
    (entry,) = change["changelog_list"]
    assert entry["action"] == "update" and entry["postchange_data"]["acknowledged_comment"] == "replacing the optic"
    # Filtered by status and device, as a console lists them.
    listed = await api.data(
        "query($d: ID!) { alert_list(filters: {status: {exact: STATUS_ACKNOWLEDGED}, device_id: {exact: $d}}) { numid device { name } rule { alerts { numid } } } }",
        d=w["core"],
    )
    assert listed["alert_list"] == [{"numid": alert.numid, "device": {"name": "core1"}, "rule": {"alerts": [{"numid": alert.numid}]}}]
    firing = await api.data("{ alert_list(filters: {status: {exact: STATUS_FIRING}}) { id } }")
    assert firing["alert_list"] == []
    again = await api.error(ACK, id=str(alert.id), c="again")
    assert again["extensions"]["code"] == "CONFLICT" and again["extensions"]["field"] == "id"
    # Acknowledged alerts still resolve when the check recovers.
    async with db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE check_state SET state = 'up' WHERE tenant_id = :t"), {"t": str(tenant)})
    await run(db, T0 + timedelta(minutes=1))
    assert [a.status for a in await alerts(db, tenant)] == ["resolved"]
    resolved = await api.error(ACK, id=str(alert.id), c="late")
    assert resolved["extensions"]["code"] == "CONFLICT"


async def test_acknowledge_refusals(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "any")
    await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await run(db, T0)
    (alert,) = await alerts(db, tenant)
    blank = await api.error(ACK, id=str(alert.id), c="   ")
    assert (blank["extensions"]["code"], blank["extensions"]["field"]) == ("BAD_USER_INPUT", "comment")
    huge = await api.error(ACK, id=str(alert.id), c="x" * 5000)
    assert huge["extensions"]["field"] == "comment"
    malformed = await api.error(ACK, id="not-a-uuid", c="x")
    assert malformed["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = await api.error(ACK, id=str(uuid.uuid4()), c="x")
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    # A reader may see alerts but not acknowledge them.
    viewer = api.as_key(await org.user_key(tenant_ids=[tenant], grants={"alert": ["view"]}))
    assert (await viewer.data("{ alert_list { id } }"))["alert_list"] == [{"id": str(alert.id)}]
    refused = await viewer.error(ACK, id=str(alert.id), c="x")
    assert refused["extensions"]["code"] == "FORBIDDEN"
    # Another tenant's responder does not find it.
    stranger = api.as_key(await org.user_key(tenant_ids=[org.tenant_ids[1]], grants={"alert": ["view", "change"]}))
    hidden = await stranger.error(ACK, id=str(alert.id), c="x")
    assert hidden["extensions"]["code"] == "NOT_FOUND"
    # A read-only token cannot either.
    readonly = api.as_key(await org.user_key(tenant_ids=[tenant], grants={"alert": ["view", "change"]}, write_enabled=False))
    assert (await readonly.error(ACK, id=str(alert.id), c="x"))["extensions"]["code"] == "FORBIDDEN"
    assert [a.status for a in await alerts(db, tenant)] == ["firing"]
    # Alerts have no generic create, update or delete.
    names = {f["name"] for f in (await api.data("{ __schema { mutationType { fields { name } } } }"))["__schema"]["mutationType"]["fields"]}
    assert "alert_acknowledge" in names and not {n for n in names if n.startswith(("alert_create", "alert_update", "alert_delete", "notification_delivery_"))}


async def test_silences_record_but_do_not_notify(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    any_rule = await rule(lab, "any", channels=[w["channel"]])
    other_rule = await rule(lab, "other", channels=[w["channel"]], devices=[w["core"]])
    window = await lab.make(
        "silence", starts_at=T0.isoformat(), ends_at=(T0 + timedelta(hours=1)).isoformat(), comment="core1 maintenance", devices=[w["core"]], rules=[any_rule]
    )
    await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await check(db, tenant, w["ping"], w["edge"], "192.0.2.2", "down")
    outcome = await run(db, T0 + timedelta(minutes=5))
    rows = {(str(a.rule_id), str(a.device_id)): a for a in await alerts(db, tenant)}
    silenced = rows[(any_rule, w["core"])]
    assert silenced.silenced and str(silenced.silence_id) == window and silenced.status == "firing"
    assert not rows[(any_rule, w["edge"])].silenced  # another device
    assert not rows[(other_rule, w["core"])].silenced  # another rule
    notified = {alert_id for alert_id, _ in mine(outcome, list(rows.values()))}
    assert notified == {str(rows[(any_rule, w["edge"])].id), str(rows[(other_rule, w["core"])].id)}
    # The window ends with the alert still open: unmarked, and notified now.
    after = await run(db, T0 + timedelta(hours=1))
    assert mine(after, list(rows.values())) == [(str(silenced.id), "trigger")]
    assert not [a for a in await alerts(db, tenant) if a.silenced]
    got = await api.data("{ silence_list { author comment } }")
    assert got["silence_list"][0]["comment"] == "core1 maintenance" and got["silence_list"][0]["author"].startswith("admin-")


async def test_a_silenced_alert_that_resolves_is_not_notified(api, org, db):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    await rule(lab, "any", channels=[w["channel"]], escalation_channel=w["pager"], escalate_after_seconds=60)
    await lab.make("silence", starts_at=T0.isoformat(), ends_at=(T0 + timedelta(days=1)).isoformat(), comment="all of it")
    down = await check(db, tenant, w["ping"], w["core"], "192.0.2.1", "down")
    await run(db, T0)
    late = await run(db, T0 + timedelta(hours=1))  # silenced: not escalated either
    await set_check(db, down, state="up")
    cleared = await run(db, T0 + timedelta(hours=2))
    (alert,) = await alerts(db, tenant)
    assert alert.status == "resolved" and alert.silenced and alert.escalated_at is None
    assert mine(late, [alert]) == [] and mine(cleared, [alert]) == []


async def test_bad_input_names_the_field(api, org):
    tenant = org.tenant_ids[0]
    lab, w = Lab(api, tenant), await world(api, tenant)
    cases = [
        ("notification_channel", {"name": "a", "kind": "KIND_WEBHOOK", "url": "ftp://x/y"}, "url"),
        ("notification_channel", {"name": "b", "kind": "KIND_SLACK"}, "secret"),
        ("notification_channel", {"name": "b", "kind": "KIND_SLACK", "url": "https://hooks.slack.com/services/T/B/X"}, "url"),
        ("notification_channel", {"name": "b", "kind": "KIND_TEAMS", "secret": "javascript:alert(1)"}, "secret"),
        ("notification_channel", {"name": "c", "kind": "KIND_WEBHOOK", "url": "javascript:alert(1)"}, "url"),
        ("notification_channel", {"name": "d", "kind": "KIND_PAGERDUTY"}, "secret"),
        ("notification_channel", {"name": "e", "kind": "KIND_EMAIL", "email_from": "a@example.com", "recipients": ["x@example.com"]}, "smtp_host"),
        ("notification_channel", {"name": "f", "kind": "KIND_EMAIL", "smtp_host": "mail", "email_from": "a@example.com"}, "recipients"),
        (
            "notification_channel",
            {
                "name": "g",
                "kind": "KIND_EMAIL",
                "smtp_host": "mail",
                "email_from": "a@example.com",
                "recipients": ["ok@example.com", "x@y\r\nBcc: z@evil.test"],
            },
            "recipients.1",
        ),
        (
            "notification_channel",
            {"name": "h", "kind": "KIND_EMAIL", "smtp_host": "mail; rm", "email_from": "a@example.com", "recipients": ["x@example.com"]},
            "smtp_host",
        ),
        ("notification_channel", {"name": "i", "kind": "KIND_WEBHOOK", "url": "http://x/", "recipients": ["x@example.com"]}, "recipients"),
        ("notification_channel", {"name": "j", "kind": "KIND_WEBHOOK", "url": "http://x/" + "a" * 600}, "url"),
        ("notification_channel", {"name": "k", "kind": "KIND_WEBHOOK", "url": "http://x/", "secret": "s" * 1001}, "secret"),
        ("alert_rule", {"name": "a", "states": []}, "states"),
        ("alert_rule", {"name": "b", "states": ["down", "up"]}, "states.1"),
        ("alert_rule", {"name": "c", "escalation_channel": w["pager"]}, "escalate_after_seconds"),
        ("alert_rule", {"name": "d", "escalate_after_seconds": 60}, "escalation_channel"),
        ("alert_rule", {"name": "e", "for_seconds": -1}, "for_seconds"),
        ("alert_rule", {"name": "f", "channels": [str(uuid.uuid4())]}, "channels"),
        ("silence", {"starts_at": T0.isoformat(), "ends_at": T0.isoformat(), "comment": "x"}, "ends_at"),
        ("silence", {"starts_at": T0.isoformat(), "ends_at": (T0 - timedelta(hours=1)).isoformat(), "comment": "x"}, "ends_at"),
        ("silence", {"starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(hours=1)).isoformat()}, "comment"),
        ("silence", {"starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(hours=1)).isoformat(), "comment": "  "}, "comment"),
    ]
    for name, fields, field in cases:
        error = await lab.refuse(name, **fields)
        assert error["extensions"].get("field") == field, (name, fields, error)
        assert error["extensions"]["code"] in ("BAD_USER_INPUT", "NOT_FOUND"), error
    # An update is judged on the result: a silence cannot be made to end before it starts.
    window = await lab.make("silence", starts_at=T0.isoformat(), ends_at=(T0 + timedelta(hours=1)).isoformat(), comment="ok")
    error = await lab.update_error("silence", window, ends_at=(T0 - timedelta(hours=1)).isoformat())
    assert error["extensions"]["field"] == "ends_at"
    # The author is the writer's: not an input.
    error = await lab.refuse("silence", starts_at=T0.isoformat(), ends_at=(T0 + timedelta(hours=1)).isoformat(), comment="x", author="mallory")
    assert "author" in error["message"]


async def test_another_tenant_s_channels_scopes_and_silences_are_refused(api, org):
    mine_, theirs = org.tenant_ids
    lab, w = Lab(api, mine_), await world(api, mine_)
    other = Lab(api, theirs)
    their_channel = await other.make("notification_channel", name="theirs", kind="KIND_WEBHOOK", url="http://127.0.0.1:9/x")
    their_site = await other.make("site", name="OTHER", slug="other")
    their_rule = await rule(other, "theirs")
    for name, fields, field in [
        ("alert_rule", {"name": "x", "channels": [their_channel]}, "channels"),
        ("alert_rule", {"name": "y", "escalation_channel": their_channel, "escalate_after_seconds": 60}, "escalation_channel"),
        ("alert_rule", {"name": "z", "sites": [their_site]}, "sites"),
        ("silence", {"starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(hours=1)).isoformat(), "comment": "x", "rules": [their_rule]}, "rules"),
    ]:
        error = await lab.refuse(name, **{**fields, **({"states": ["down"]} if name == "alert_rule" else {})})
        assert error["extensions"]["field"] == field and error["extensions"]["code"] in ("BAD_USER_INPUT", "NOT_FOUND"), error
    # A principal of one tenant does not see the other's channels at all.
    narrow = api.as_key(await org.user_key(tenant_ids=[mine_], grants={"notification_channel": ["view", "add"], "alert_rule": ["view", "add"]}))
    assert {c["name"] for c in (await narrow.data("{ notification_channel_list { name } }"))["notification_channel_list"]} == {"ops", "pager"}
    error = await Lab(narrow, mine_).refuse("alert_rule", name="sneaky", states=["down"], channels=[their_channel])
    assert error["extensions"]["code"] == "NOT_FOUND" and error["extensions"]["field"] == "channels"
    assert w["channel"]


async def test_secrets_are_write_only(api, org, db):
    tenant = org.tenant_ids[0]
    lab = Lab(api, tenant)
    channel = await lab.make("notification_channel", name="signed", kind="KIND_WEBHOOK", url="http://127.0.0.1:9/x", secret="top-secret-value")
    smtp = await lab.make(
        "notification_channel",
        name="mail",
        kind="KIND_EMAIL",
        smtp_host="127.0.0.1",
        smtp_port=2525,
        smtp_username="bot",
        secret="smtp-password-value",
        email_from="alerts@example.com",
        recipients=["noc@example.com", "noc@example.com"],
    )
    # A chat channel's incoming webhook URL is its secret: anyone holding it can post.
    await lab.make("notification_channel", name="chat", kind="KIND_SLACK", secret="https://hooks.slack.com/services/T0/B0/chat-url-value")
    await lab.update("notification_channel", channel, description="touched", secret="rotated-secret-value")
    error = await api.error('{ notification_channel(id: "%s") { secret } }' % channel)
    assert "secret" in error["message"]
    everything = await api.query(
        "{ notification_channel_list { id name url smtp_host smtp_username recipients } changelog_list { prechange_data postchange_data } }"
    )
    text = str(everything)
    for value in ("top-secret-value", "rotated-secret-value", "smtp-password-value", "chat-url-value"):
        assert value not in text
    assert {"recipients": ["noc@example.com"]}.items() <= next(c for c in everything["data"]["notification_channel_list"] if c["id"] == smtp).items()
    async with db.system_transaction() as conn:
        stored = (await conn.execute(sa.text("SELECT secret FROM notification_channel WHERE id = :id"), {"id": channel})).scalar_one()
        logged = (
            await conn.execute(
                sa.text("SELECT count(*) FROM object_change WHERE tenant_id = :t AND CAST(postchange_data AS text) LIKE '%secret%'"), {"t": str(tenant)}
            )
        ).scalar_one()
    assert stored and "rotated" not in stored and logged == 0
    # Filtering by the secret is not offered either.
    assert (await api.error('{ notification_channel_list(filters: {secret: {exact: "x"}}) { id } }'))["message"]
