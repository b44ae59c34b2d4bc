"""GraphiQL served entirely from local assets (no CDN, works offline).

The browser build (GraphiQL 3 UMD bundle + React 18 UMD) is fetched from the
npm registry by ``scripts/fetch_graphiql.sh`` into :data:`GRAPHIQL_ASSETS_DIR`
and served under ``/static/graphiql`` with :func:`static_app`.

Typical wiring (Starlette)::

    routes = [
        Route("/graphql", graphiql_page, methods=["GET"]),   # calls graphiql_response
        Route("/graphql", strawberry_app),                   # POST queries/mutations
        WebSocketRoute("/graphql", strawberry_app),          # graphql-transport-ws
        Mount("/static/graphiql", app=static_app(GRAPHIQL_ASSETS_DIR)),
    ]

The page:

* sends queries and mutations with ``fetch`` (POST, JSON) to the endpoint;
* runs subscriptions over a WebSocket (``graphql-transport-ws``, the graphql-ws
  client is bundled inside GraphiQL's UMD build) at ``ws(s)://<host><endpoint>``;
  the headers from the headers editor are sent as the ``connection_init``
  payload (e.g. ``{"Authorization": "Bearer <token>"}``);
* lets the user supply a token in the headers editor, which starts as
  ``{"Authorization": "Bearer "}``; an ``Authorization`` header without a token
  is dropped rather than sent, so anonymous use keeps working;
* understands the URL parameters ``token`` (prefills the Authorization header,
  then is removed from the address bar), ``query``, ``variables``,
  ``operationName`` and ``headers`` (a JSON object).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

GRAPHIQL_ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"

#: URL path (below the app root) the assets are mounted at.
GRAPHIQL_STATIC_PATH = "/static/graphiql"

#: Files the page loads; all produced by scripts/fetch_graphiql.sh.
GRAPHIQL_ASSET_FILES = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
)

DEFAULT_HEADERS = '{\n  "Authorization": "Bearer "\n}'


def static_app(directory: Path) -> StaticFiles:
    """A StaticFiles app serving the GraphiQL assets in ``directory``.

    ``check_dir=False`` so that an app can be built before the assets were
    fetched; requests then get a 404 instead of the app failing at import.
    """
    return StaticFiles(directory=directory, check_dir=False)


def json_for_script(value: object) -> str:
    """JSON that is safe to embed inside an inline <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _html_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Danbyte GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{static}/graphiql.min.css">
  <style>
    html, body {{ height: 100%; margin: 0; overflow: hidden; }}
    #graphiql {{ height: 100vh; }}
    #graphiql-error {{ font: 14px sans-serif; padding: 1em; color: #b00020; }}
  </style>
</head>
<body>
  <div id="graphiql"><noscript>GraphiQL needs JavaScript.</noscript></div>
  <script src="{static}/react.production.min.js"></script>
  <script src="{static}/react-dom.production.min.js"></script>
  <script src="{static}/graphiql.min.js"></script>
  <script>
  (function () {{
    "use strict";
    var config = {config};
    var root = document.getElementById("graphiql");
    if (typeof React === "undefined" || typeof ReactDOM === "undefined" ||
        typeof GraphiQL === "undefined") {{
      root.id = "graphiql-error";
      root.textContent = "GraphiQL assets are missing: run `make` (scripts/fetch_graphiql.sh " +
        "danbyte/static/graphiql) on the server.";
      return;
    }}

    var endpoint = new URL(config.endpoint, window.location.href);
    var wsEndpoint = new URL(endpoint.href);
    wsEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

    var params = new URLSearchParams(window.location.search);
    var token = params.get("token");
    var headers = params.get("headers");
    if (token) {{
      var prefilled = {{}};
      if (headers) {{
        try {{ prefilled = JSON.parse(headers) || {{}}; }} catch (e) {{ prefilled = {{}}; }}
      }}
      prefilled.Authorization = "Bearer " + token;
      headers = JSON.stringify(prefilled, null, 2);
      // Keep the token out of the address bar and the browser history.
      params.delete("token");
      var rest = params.toString();
      window.history.replaceState(null, "",
        window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
    }}

    var baseFetcher = GraphiQL.createFetcher({{
      url: endpoint.href,
      subscriptionUrl: wsEndpoint.href
    }});

    // Don't send the placeholder "Authorization: Bearer " (no token) header.
    function withoutEmptyAuth(hdrs) {{
      if (!hdrs || typeof hdrs !== "object") return hdrs;
      var out = {{}};
      Object.keys(hdrs).forEach(function (name) {{
        var value = hdrs[name];
        if (name.toLowerCase() === "authorization" &&
            (value === null || value === undefined ||
             /^\\s*(bearer)?\\s*$/i.test(String(value)))) {{
          return;
        }}
        out[name] = value;
      }});
      return out;
    }}
    function fetcher(graphQLParams, opts) {{
      var o = Object.assign({{}}, opts || {{}});
      o.headers = withoutEmptyAuth(o.headers);
      return baseFetcher(graphQLParams, o);
    }}

    var props = {{
      fetcher: fetcher,
      defaultHeaders: config.defaultHeaders,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true
    }};
    if (headers !== null) props.headers = headers;
    if (params.get("query") !== null) props.query = params.get("query");
    if (params.get("variables") !== null) props.variables = params.get("variables");
    if (params.get("operationName") !== null) props.operationName = params.get("operationName");

    ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
  }})();
  </script>
</body>
</html>
"""


def _prefix(request: Request, path: str) -> str:
    """``path`` (absolute, below the app root) made absolute for the browser."""
    if "://" in path:
        return path
    root_path = (request.scope.get("root_path") or "").rstrip("/")
    return root_path + "/" + path.lstrip("/")


def graphiql_response(request: Request, endpoint: str = "/graphql") -> HTMLResponse:
    """The GraphiQL page, pointed at ``endpoint`` (a path below the app root,
    or a full http(s) URL), loading its assets from ``/static/graphiql``."""
    config = {
        "endpoint": _prefix(request, endpoint),
        "defaultHeaders": DEFAULT_HEADERS,
    }
    html = _PAGE.format(
        static=_html_attr(_prefix(request, GRAPHIQL_STATIC_PATH)),
        config=json_for_script(config),
    )
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
