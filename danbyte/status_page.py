"""The status page: the open alerts of the reader's tenants, live.

A read-only page served by the app at ``/status``. It holds no data of its own and asks
for nothing but one subscription: it opens the GraphQL WebSocket (graphql-transport-ws),
authenticates with the reader's token in ``connection_init`` like any other client, and
subscribes to ``alert_changed``, which first sends the current alerts and then each
change. So the page sees exactly what its token may see — its tenants, and nothing when it
may not view alerts — through the same permission checks as every other read.

The token comes from the address's fragment (``/status#token=…``, never sent to the
server in a request line or logged) or a form on the page, and is kept in the tab's
``sessionStorage`` only. Everything shown is inserted as text, never as markup, and a
Content-Security-Policy allows only this page's own script (by nonce), so alert text
cannot run script in a reader's browser.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse

from danbyte.graphiql import json_for_script

# What the page asks of each open alert: the current set (action current, then ready),
# then each change (create, update; delete or leave take it off the page).
SUBSCRIPTION = """subscription Status {
  alert_changed(status: ["firing", "acknowledged"]) {
    action
    id
    alert {
      id numid severity status summary started_at acknowledged_comment silenced
      rule { name }
      device { name }
      site { name }
      check_state { address port state message template { name } }
    }
  }
}"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Danbyte status</title>
<style nonce="{nonce}">
  body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; }}
  h1 {{ font-size: 1.3rem; margin: 0 0 .5rem; }}
  #connection {{ font-size: .85rem; color: #596173; margin-bottom: 1rem; }}
  #summary span {{ display: inline-block; margin-right: 1rem; font-weight: 600; }}
  table {{ border-collapse: collapse; width: 100%; margin-top: 1rem; }}
  th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e2e5ec; }}
  tr.critical td:first-child {{ border-left: 4px solid #c62828; }}
  tr.warning td:first-child {{ border-left: 4px solid #ef8f00; }}
  tr.info td:first-child {{ border-left: 4px solid #1e6fd9; }}
  tr.acknowledged {{ color: #596173; }}
  #empty {{ margin-top: 1rem; color: #2e7d32; }}
  form {{ margin: 1rem 0; }}
</style>
</head>
<body>
<h1>Status</h1>
<div id="connection">connecting…</div>
<form id="login" hidden>
  <label>API token <input id="token" type="password" autocomplete="off" size="48"></label>
  <button type="submit">Show</button>
</form>
<div id="summary"></div>
<table id="alerts" hidden>
  <thead><tr><th>Severity</th><th>Status</th><th>Alert</th><th>Target</th><th>Check</th><th>Since</th><th>Note</th></tr></thead>
  <tbody></tbody>
</table>
<div id="empty" hidden>No open alerts.</div>
<script nonce="{nonce}">
"use strict";
const SUBSCRIPTION = {subscription};
const SEVERITY_ORDER = {{critical: 0, warning: 1, info: 2}};
const alerts = new Map();
let socket = null;
let retry = 1000;
let loaded = false;

function byId(id) {{ return document.getElementById(id); }}
function setConnection(text) {{ byId("connection").textContent = text; }}

function takeToken() {{
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  if (fragment.get("token")) {{
    sessionStorage.setItem("danbyte-token", fragment.get("token"));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }}
  return sessionStorage.getItem("danbyte-token");
}}

function cell(row, text) {{
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  row.appendChild(td);
}}

function targetOf(alert) {{
  const check = alert.check_state || {{}};
  const where = [alert.device && alert.device.name, alert.site && alert.site.name].filter(Boolean).join(" @ ");
  const address = check.address ? check.address + (check.port ? ":" + check.port : "") : "";
  return [where, address].filter(Boolean).join(" ");
}}

function render() {{
  const rows = [...alerts.values()].sort((a, b) =>
    (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) || String(a.started_at).localeCompare(String(b.started_at)));
  const body = byId("alerts").querySelector("tbody");
  body.replaceChildren();
  const counts = {{critical: 0, warning: 0, info: 0}};
  for (const alert of rows) {{
    counts[alert.severity] = (counts[alert.severity] || 0) + 1;
    const row = document.createElement("tr");
    row.className = alert.severity + " " + alert.status;
    row.dataset.alert = alert.id;
    cell(row, alert.severity);
    cell(row, alert.status + (alert.silenced ? " (silenced)" : ""));
    cell(row, alert.summary || (alert.rule && alert.rule.name));
    cell(row, targetOf(alert));
    const check = alert.check_state || {{}};
    cell(row, [check.template && check.template.name, check.state, check.message].filter(Boolean).join(" — "));
    cell(row, alert.started_at);
    cell(row, alert.acknowledged_comment);
    body.appendChild(row);
  }}
  const summary = byId("summary");
  summary.replaceChildren();
  for (const [severity, count] of Object.entries(counts)) {{
    const span = document.createElement("span");
    span.className = "count-" + severity;
    span.textContent = severity + ": " + count;
    summary.appendChild(span);
  }}
  byId("alerts").hidden = rows.length === 0;
  byId("empty").hidden = rows.length !== 0;
}}

function apply(event) {{
  if (event.action === "ready") {{ loaded = true; render(); return; }}
  if (event.alert && event.alert.status !== "resolved") alerts.set(event.id, event.alert);
  else alerts.delete(event.id);
  if (loaded) render();
}}

function connect(token) {{
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(scheme + "//" + window.location.host + "/graphql", "graphql-transport-ws");
  socket.onopen = () => socket.send(JSON.stringify({{type: "connection_init", payload: {{Authorization: "Bearer " + token}}}}));
  socket.onmessage = (message) => {{
    const frame = JSON.parse(message.data);
    if (frame.type === "connection_ack") {{
      retry = 1000;
      alerts.clear();
      loaded = false;
      setConnection("live");
      socket.send(JSON.stringify({{id: "status", type: "subscribe", payload: {{query: SUBSCRIPTION}}}}));
    }} else if (frame.type === "next") {{
      if (frame.payload.errors) setConnection("error: " + frame.payload.errors.map((e) => e.message).join("; "));
      if (frame.payload.data && frame.payload.data.alert_changed) apply(frame.payload.data.alert_changed);
    }} else if (frame.type === "error") {{
      setConnection("error: " + frame.payload.map((e) => e.message).join("; "));
    }} else if (frame.type === "ping") {{
      socket.send(JSON.stringify({{type: "pong"}}));
    }}
  }};
  socket.onclose = (close) => {{
    if (close.code === 4401 || close.code === 4403) {{
      sessionStorage.removeItem("danbyte-token");
      setConnection("not signed in: " + (close.reason || close.code));
      byId("login").hidden = false;
      return;
    }}
    setConnection("disconnected; retrying");
    setTimeout(() => connect(token), retry);
    retry = Math.min(retry * 2, 30000);
  }};
}}

byId("login").addEventListener("submit", (submit) => {{
  submit.preventDefault();
  const token = byId("token").value.trim();
  if (!token) return;
  sessionStorage.setItem("danbyte-token", token);
  byId("login").hidden = true;
  connect(token);
}});

const token = takeToken();
if (token) connect(token);
else {{ setConnection("sign in with an API token"); byId("login").hidden = false; }}
</script>
</body>
</html>
"""


async def status_page(request: Request) -> HTMLResponse:
    nonce = secrets.token_urlsafe(18)
    html = _PAGE.format(nonce=nonce, subscription=json_for_script(SUBSCRIPTION))
    policy = f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
