"""Configuration drift: intended configurations rendered and stored, running ones posted
as snapshots (history), the config state per device with its transitions and diff, and
``config_drift_changed`` on a live server."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from dcim_lab import Lab
from fanout_server import post
from live import danbyte_serve, next_event
from websockets.typing import Subprotocol

from danbyte.settings import get_settings
from permissions.tokens import principal_for_key
from resolvers import drift
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, Forbidden, NotFound

TEMPLATE = "hostname {{ device.name }}\nntp server {{ ntp }}\n"

POST = """mutation($d: ID!, $c: String!, $s: String, $t: DateTime) {
  config_snapshot_post(device: $d, configuration: $c, source: $s, collected: $t) { id digest source collected last_seen device { id } }
}"""
RENDER = "mutation($d: ID!) { config_render(device: $d) { id configuration digest error rendered template { name } device { id } } }"
STATE = """query($d: ID!) { device(id: $d) {
  intended_config { configuration digest }
  config_snapshots { id digest source collected last_seen }
  config_state { state intended_digest snapshot { id } diff changes { from_state to_state reason } }
} }"""

# What a Cisco box answers to "show running-config" for the intended text: CRLF line
# ends, the lines it rewrites on every show, trailing blanks.
RUNNING = (
    "Building configuration...\r\n"
    "\r\n"
    "Current configuration : 1234 bytes\r\n"
    "! Last configuration change at 10:22:01 UTC Mon Nov 30 2026 by admin\r\n"
    "! NVRAM config last updated at 10:22:05 UTC Mon Nov 30 2026 by admin\r\n"
    "hostname leaf-01   \r\n"
    "ntp server 10.0.0.1\r\n"
    "\r\n\r\n"
)


async def _lab(api: Any, org: Any, name: str = "leaf-01", **device: Any) -> tuple[Lab, dict[str, str], str]:
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    template = await lab.make("config_template", name="leaf", template_code=TEMPLATE)
    await lab.update("device_role", c["role"], config_template=template)
    c["template"] = template
    made = await lab.device(c, await lab.device_type(c, "Box"), name, local_context_data={"ntp": "10.0.0.1"}, **device)
    return lab, c, made


async def _state(api: Any, device: str) -> dict[str, Any]:
    return (await api.data(STATE, d=device))["device"]


async def test_unknown_in_sync_drifted_in_sync(api, org):
    lab, c, device = await _lab(api, org)
    assert (await _state(api, device))["config_state"] is None  # nothing known yet

    rendered = (await api.data(RENDER, d=device))["config_render"]
    assert rendered["configuration"] == "hostname leaf-01\nntp server 10.0.0.1"
    assert rendered["template"] == {"name": "leaf"} and rendered["error"] is None and rendered["device"] == {"id": device}
    assert rendered["digest"] == drift.digest("hostname leaf-01\nntp server 10.0.0.1")
    state = (await _state(api, device))["config_state"]
    assert (state["state"], state["snapshot"], state["diff"], state["changes"]) == ("unknown", None, None, [])
    assert state["intended_digest"] == rendered["digest"]

    # The running text differs in line ends, volatile lines and trailing blanks only.
    first = (await api.data(POST, d=device, c=RUNNING, s="oxidized"))["config_snapshot_post"]
    assert first["digest"] == rendered["digest"] and first["source"] == "oxidized" and first["device"] == {"id": device}
    state = (await _state(api, device))["config_state"]
    assert (state["state"], state["snapshot"], state["diff"]) == ("in_sync", {"id": first["id"]}, "")

    drifted_text = RUNNING.replace("ntp server 10.0.0.1", "ntp server 10.9.9.9")
    second = (await api.data(POST, d=device, c=drifted_text, s="oxidized"))["config_snapshot_post"]
    got = await _state(api, device)
    state = got["config_state"]
    assert state["state"] == "drifted" and state["snapshot"] == {"id": second["id"]}
    lines = state["diff"].split("\n")
    assert lines[0].startswith("--- intended (rendered ") and lines[1].startswith("+++ running (collected ") and lines[1].endswith(", oxidized)")
    assert lines[2:] == ["@@ -1,2 +1,2 @@", " hostname leaf-01", "-ntp server 10.0.0.1", "+ntp server 10.9.9.9"]

    third = (await api.data(POST, d=device, c=RUNNING, s="oxidized"))["config_snapshot_post"]
    assert third["id"] not in (first["id"], second["id"])  # the same text as an older snapshot is a new one
    got = await _state(api, device)
    assert got["config_state"]["state"] == "in_sync"
    assert [(x["from_state"], x["to_state"]) for x in got["config_state"]["changes"]] == [
        ("unknown", "in_sync"),
        ("in_sync", "drifted"),
        ("drifted", "in_sync"),
    ]
    assert {x["reason"] for x in got["config_state"]["changes"]} == {"snapshot posted by oxidized"}
    assert [s["id"] for s in got["config_snapshots"]] == [first["id"], second["id"], third["id"]]  # history, oldest first

    # The intended side moves too: a new template text drifts the device.
    await lab.update("config_template", c["template"], template_code=TEMPLATE + "logging host 10.0.0.9\n")
    await api.data(RENDER, d=device)
    state = (await _state(api, device))["config_state"]
    assert state["state"] == "drifted"
    assert state["changes"][-1] == {"from_state": "in_sync", "to_state": "drifted", "reason": "intended configuration rendered"}
    assert state["diff"].split("\n")[-1] == "-logging host 10.0.0.9"


async def test_same_text_again_moves_last_seen_only(api, org):
    _, _, device = await _lab(api, org)
    first = (await api.data(POST, d=device, c="hostname a\n", t="2026-11-30T10:00:00+00:00"))["config_snapshot_post"]
    changes_before = (await api.data("{ changelog_list { id } }"))["changelog_list"]
    # Another collection of the same text (CRLF and a volatile line do not make it new).
    again = (await api.data(POST, d=device, c="Building configuration...\r\nhostname a\r\n", t="2026-11-30T11:00:00+00:00"))["config_snapshot_post"]
    assert again["id"] == first["id"]
    assert again["collected"] == first["collected"] == "2026-11-30T10:00:00+00:00"
    assert again["last_seen"] == "2026-11-30T11:00:00+00:00"
    # An older collection of it does not move last_seen back.
    older = (await api.data(POST, d=device, c="hostname a", t="2026-11-30T09:00:00+00:00"))["config_snapshot_post"]
    assert older["last_seen"] == "2026-11-30T11:00:00+00:00"
    assert len((await _state(api, device))["config_snapshots"]) == 1
    # An observation, not a change: nothing in the change log.
    assert len((await api.data("{ changelog_list { id } }"))["changelog_list"]) == len(changes_before)


async def test_a_post_is_one_change_log_request(api, org):
    _, _, device = await _lab(api, org)
    await api.data(RENDER, d=device)
    snapshot = (await api.data(POST, d=device, c="hostname leaf-01\nntp server 10.0.0.1"))["config_snapshot_post"]
    entries = (await api.data('{ changelog_list(filters: {object_type: {starts_with: "config_"}}) { object_type object_id action request_id } }'))[
        "changelog_list"
    ]
    posted = [e for e in entries if e["object_id"] == snapshot["id"]]
    assert len(posted) == 1 and posted[0]["action"] == "create"
    request = posted[0]["request_id"]
    # The snapshot, the state it moved and the transition it logged: one request.
    assert sorted(e["object_type"] for e in entries if e["request_id"] == request) == ["config_snapshot", "config_state", "config_state_change"]


async def test_snapshot_input_is_checked(api, org):
    _, _, device = await _lab(api, org)

    async def refused(field: str, **variables: Any) -> str:
        error = await api.error(POST, **{"d": device, "c": "x", **variables})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
        return error["message"]

    assert "bytes" in await refused("configuration", c="x" * (drift.MAX_CONFIGURATION_BYTES + 1))
    # Under the cap in characters, over it in bytes.
    await refused("configuration", c="é" * (drift.MAX_CONFIGURATION_BYTES // 2 + 1))
    await refused("c", c="a\x00b")  # refused by the transport's check on every variable, naming it
    await refused("s", s="\x00")
    await refused("source", s="s" * 101)
    await refused("collected", t="2999-01-01T00:00:00+00:00")
    error = await api.error(POST, d="not-an-id", c="x")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "device")
    error = await api.error(POST, d=str(uuid.uuid4()), c="x")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "device")
    # Exactly at the cap is taken.
    big = (await api.data(POST, d=device, c="y" * drift.MAX_CONFIGURATION_BYTES))["config_snapshot_post"]
    assert big["digest"] == drift.digest("y" * drift.MAX_CONFIGURATION_BYTES)
    assert len((await _state(api, device))["config_snapshots"]) == 1  # nothing of the refused ones was written


def test_the_checks_refuse_what_the_transport_would_let_through():
    with pytest.raises(BadUserInput) as nul:
        drift.check_configuration("a\x00b")
    assert nul.value.extensions["field"] == "configuration"
    with pytest.raises(BadUserInput):
        drift.check_configuration("\ud800")  # a lone surrogate: not text
    with pytest.raises(BadUserInput):
        drift.check_configuration(b"bytes")


def test_normalisation():
    assert drift.normalise("a  \r\nb\t\r\n\r\n\n") == "a\nb"
    assert drift.normalise("Building configuration...\n\nCurrent configuration : 99 bytes\n!\nhostname x\n") == "!\nhostname x"
    assert drift.normalise("! Last configuration change at 1\nx") == "x"
    # Only whole volatile lines go: the same words inside another line stay.
    assert drift.normalise("description Building configuration...\n") == "description Building configuration..."
    assert drift.digest("x\r\n") == drift.digest("x") != drift.digest("y")


async def test_another_tenants_device_and_grants(api, org):
    _, _, device = await _lab(api, org)
    other_tenant = await org.user_key(is_admin=True, tenant_ids=[org.tenant_ids[1]])
    error = await api.as_key(other_tenant).error(POST, d=device, c="x")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "device")
    error = await api.as_key(other_tenant).error(RENDER, d=device)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "device")

    # Posting needs add on config snapshots; viewing the device is not enough.
    viewer = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view"]})
    assert (await api.as_key(viewer).error(POST, d=device, c="x"))["extensions"]["code"] == "FORBIDDEN"
    assert (await api.as_key(viewer).error(RENDER, d=device))["extensions"]["code"] == "FORBIDDEN"
    read_only = await org.user_key(is_admin=True, write_enabled=False)
    assert (await api.as_key(read_only).error(POST, d=device, c="x"))["extensions"]["code"] == "FORBIDDEN"

    # A runner: add on snapshots, view on devices. It keeps the derived state without a
    # grant on it, and cannot read it back.
    runner = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view"], "config_snapshot": ["add"]})
    posted = (await api.as_key(runner).data(POST, d=device, c="hostname leaf-01", s="runner"))["config_snapshot_post"]
    assert posted["source"] == "runner"
    assert (await api.as_key(runner).data(STATE, d=device))["device"]["config_state"] is None
    assert (await _state(api, device))["config_state"]["state"] == "unknown"
    # A reader of states without the texts gets no diff.
    await api.data(RENDER, d=device)
    await api.data(POST, d=device, c="hostname other")
    states_only = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view"], "config_state": ["view"]})
    seen = (await api.as_key(states_only).data(STATE, d=device))["device"]
    state = seen["config_state"]
    assert state["state"] == "drifted" and state["diff"] is None
    # Nor the texts, nor the log, through any relation.
    assert (state["snapshot"], state["changes"], seen["config_snapshots"], seen["intended_config"]) == (None, [], [], None)
    assert len((await _state(api, device))["config_state"]["changes"]) == 1  # they exist
    # The other tenant sees nothing of it.
    other = await api.as_key(other_tenant).data(
        "{ config_state_list { id } config_snapshot_list { id } intended_config_list { id } config_state_change_list { id } }"
    )
    assert other == {"config_state_list": [], "config_snapshot_list": [], "intended_config_list": [], "config_state_change_list": []}
    # Read-only types: no generated mutations.
    error = await api.error('mutation { config_state_delete(id: "%s") { id } }' % uuid.uuid4())
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "config_state_delete" in error["message"]


async def test_render_errors_are_recorded(api, org):
    lab, c, device = await _lab(api, org)
    await api.data(POST, d=device, c="hostname leaf-01\nntp server 10.0.0.1")
    await api.data(RENDER, d=device)
    assert (await _state(api, device))["config_state"]["state"] == "in_sync"
    broken = await lab.make("config_template", name="broken", template_code="{{ 1 / 0 }}")
    await lab.update("device", device, config_template=broken)
    stored = (await api.data(RENDER, d=device))["config_render"]
    assert stored["configuration"] == "" and stored["digest"] is None and stored["template"] == {"name": "broken"}
    assert stored["error"].startswith("template_code: rendering failed")
    state = (await _state(api, device))["config_state"]
    assert state["state"] == "unknown" and state["diff"] is None
    assert state["changes"][-1]["to_state"] == "unknown"
    # No template at all: recorded as such.
    bare_role = await lab.make("device_role", name="Bare", slug="bare")
    bare = await lab.make("device", name="bare", device_type=await lab.device_type(c, "Bare"), role=bare_role, site=c["site"])
    stored = (await api.data(RENDER, d=bare))["config_render"]
    assert (stored["configuration"], stored["template"], stored["error"]) == ("", None, "no config template applies to this device")


class Recorder:
    """An event sink that keeps what is published."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def publish(self, events: list[dict[str, Any]]) -> None:
        self.events.extend(events)

    async def invalidate_principals(self) -> None:
        return None


def drifts(sink: Recorder) -> list[dict[str, Any]]:
    return [event for event in sink.events if event.get("kind") == "config_drift"]


async def test_render_and_store_outside_a_request(api, org, db):
    lab, c, first = await _lab(api, org)
    second = await lab.device(c, await lab.device_type(c, "Box2"), "leaf-02", local_context_data={"ntp": "10.0.0.2"})
    await api.data(POST, d=second, c="hostname leaf-02\nntp server 10.0.0.2\n")
    async with db.system_transaction() as conn:
        principal = await principal_for_key(conn, org.admin_key)
    sink = Recorder()
    ctx = RequestContext(db=db, principal=principal, events=sink, settings=get_settings())
    try:
        rows = await drift.render_and_store(ctx, [first, second, first])
    finally:
        await ctx.close()
    assert [str(row.device_id) for row in rows] == [first, second]
    assert [row.configuration for row in rows] == ["hostname leaf-01\nntp server 10.0.0.1", "hostname leaf-02\nntp server 10.0.0.2"]
    # The stored text is what render_config answers.
    for device, row in zip((first, second), rows, strict=True):
        answer = await api.data("query($d: ID!) { device(id: $d) { render_config { configuration } } }", d=device)
        assert answer["device"]["render_config"]["configuration"] == row.configuration
    # One transition (the device with a snapshot), published after commit, with its site.
    assert [(e["kind"], e["device_id"], e["from_state"], e["to_state"], e["site_id"]) for e in drifts(sink)] == [
        ("config_drift", second, "unknown", "in_sync", c["site"])
    ]
    assert (await _state(api, first))["config_state"]["state"] == "unknown"
    # Rendered again unchanged: only the time moves, nothing is published.
    ctx = RequestContext(db=db, principal=principal, events=sink, settings=get_settings())
    try:
        again = await drift.render_and_store(ctx, [second])
        assert again[0].id == rows[1].id and again[0].rendered >= rows[1].rendered and len(drifts(sink)) == 1
        with pytest.raises(NotFound):
            await drift.render_and_store(ctx, [uuid.uuid4()])
    finally:
        await ctx.close()
    # Another tenant's principal finds no such device; one without the template grant may not render.
    async with db.system_transaction() as conn:
        outsider = await principal_for_key(conn, await org.user_key(is_admin=True, tenant_ids=[org.tenant_ids[1]]))
        blind = await principal_for_key(conn, await org.user_key(grants={"intended_config": ["add"], "device": ["view"]}))
    for who, error in ((outsider, NotFound), (blind, Forbidden)):
        ctx = RequestContext(db=db, principal=who, events=sink, settings=get_settings())
        try:
            with pytest.raises(error):
                await drift.render_and_store(ctx, [first])
        finally:
            await ctx.close()


# --- config_drift_changed on a real server ----------------------------------------------

SUBSCRIBE_DRIFT = (
    "subscription($d: ID, $s: ID) { config_drift_changed(device: $d, site: $s) { device site tenant config_state from_state to_state reason time } }"
)
SUBSCRIBE_CHANGES = "subscription { object_changed { type action } }"


@pytest.fixture(scope="module")
def server(database_url, redis_url, tmp_path_factory):
    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    with danbyte_serve(tmp_path_factory.mktemp("drift"), env, "--no-worker") as (base, _):
        yield base


async def _subscribe(base: str, key: str, query: str, **variables: Any) -> Any:
    """live.subscribe, with variables."""
    ws = await websockets.connect(base.replace("http", "ws") + "/graphql", subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
    await asyncio.sleep(0.5)  # let the server subscribe to Redis before anything is published
    return ws


async def test_drift_reaches_subscribers_live(server, committed_api, committed_org):
    name = f"live-{uuid.uuid4().hex[:6]}"
    _, c, device = await _lab(committed_api, committed_org, name=name)
    lab = Lab(committed_api, committed_org.tenant_ids[0])
    london = await lab.make("site", name="LON1", slug="lon1")
    elsewhere = await lab.make("device", name="elsewhere", device_type=await lab.device_type(c, "Other"), role=c["role"], site=london)
    key = committed_org.admin_key
    other_tenant = await committed_org.user_key(is_admin=True, tenant_ids=[committed_org.tenant_ids[1]])
    no_states = await committed_org.user_key(tenant_ids=[committed_org.tenant_ids[0]], grants={"device": ["view"]})
    by_device = await _subscribe(server, key, SUBSCRIBE_DRIFT, d=device)
    by_site = await _subscribe(server, key, SUBSCRIBE_DRIFT, s=c["site"])
    changes = await _subscribe(server, key, SUBSCRIBE_CHANGES)
    outsiders = [await _subscribe(server, other_tenant, SUBSCRIBE_DRIFT), await _subscribe(server, no_states, SUBSCRIBE_DRIFT)]
    try:
        await post(server, key, RENDER, d=device)
        # Another device at another site moves first: neither filtered subscriber hears it.
        await post(server, key, RENDER, d=elsewhere)
        await post(server, key, POST, d=elsewhere, c="hostname elsewhere\nntp server")
        await post(server, key, POST, d=device, c=RUNNING.replace("leaf-01", name), s="oxidized")
        event = await next_event(by_device, "config_drift_changed")
        assert {k: event[k] for k in ("device", "site", "tenant", "from_state", "to_state", "reason")} == {
            "device": device,
            "site": c["site"],
            "tenant": str(committed_org.tenant_ids[0]),
            "from_state": "unknown",
            "to_state": "in_sync",
            "reason": "snapshot posted by oxidized",
        }
        assert (await next_event(by_site, "config_drift_changed")) == event
        await post(server, key, POST, d=device, c="hostname drifted")
        assert (await next_event(by_device, "config_drift_changed"))["to_state"] == "drifted"
        # object_changed hears every change and skips the drift events between them: a
        # change made after them still arrives.
        await post(server, key, 'mutation($t: ID!) { vrf_create(input: {name: "marker", tenant: $t}) { id } }', t=str(committed_org.tenant_ids[0]))
        heard = []
        while not heard or heard[-1]["type"] != "vrf":
            heard.append(await next_event(changes))
        assert ("intended_config", "create") in {(e["type"], e["action"]) for e in heard}
        assert ("config_state", "update") in {(e["type"], e["action"]) for e in heard}
        for ws in outsiders:
            with pytest.raises(asyncio.TimeoutError):
                await next_event(ws, "config_drift_changed", timeout=1.5)
    finally:
        for ws in (by_device, by_site, changes, *outsiders):
            await ws.close()


def test_the_diff_is_labelled_and_cut():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    when = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    intended = SimpleNamespace(configuration="\n".join(f"line {i}" for i in range(6000)), rendered=when)
    running = SimpleNamespace(configuration="\n".join(f"other {i}" for i in range(6000)), collected=when, source="")
    lines = drift.unified_diff(intended, running).split("\n")
    assert lines[:2] == ["--- intended (rendered 2026-11-30T10:00:00+00:00)", "+++ running (collected 2026-11-30T10:00:00+00:00)"]
    assert len(lines) == drift.MAX_DIFF_LINES + 1
    # 2 labels, 1 hunk header, 12,000 changed lines in all: 7,003 left out.
    assert lines[-1] == f"... diff cut at {drift.MAX_DIFF_LINES} lines (7003 more)"
    same = SimpleNamespace(configuration="line 1\r\n", collected=when, source="x")
    assert drift.unified_diff(SimpleNamespace(configuration="line 1", rendered=when), same) == ""


async def test_the_log_filters_by_device_and_goes_with_it(api, org):
    lab, c, device = await _lab(api, org)
    other = await lab.device(c, await lab.device_type(c, "Box2"), "leaf-02", local_context_data={"ntp": "10.0.0.1"})
    for made in (device, other):
        await api.data(RENDER, d=made)
        await api.data(POST, d=made, c="hostname nope")
    query = "query($d: ID!) { config_state_change_list(filters: {device: {id: {exact: $d}}}) { to_state config_state { device { id } } } }"
    assert (await api.data(query, d=device))["config_state_change_list"] == [{"to_state": "drifted", "config_state": {"device": {"id": device}}}]
    # Deleting the device deletes its drift rows with it, through the write path.
    await api.data("mutation($d: ID!) { device_delete(id: $d) { id } }", d=device)
    left = await api.data(
        "{ config_state_list { device { id } } config_snapshot_list { device { id } } intended_config_list { device { id } } config_state_change_list { id } }"
    )
    assert left == {
        "config_state_list": [{"device": {"id": other}}],
        "config_snapshot_list": [{"device": {"id": other}}],
        "intended_config_list": [{"device": {"id": other}}],
        "config_state_change_list": [left["config_state_change_list"][0]],
    }
    assert len(left["config_state_change_list"]) == 1
