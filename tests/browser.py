"""Drive the GraphiQL page in a real (headless) Chromium.

Helper for tests, not a test module. Uses Debian's /usr/bin/chromium
(scripts/install_chromium.sh) through Playwright's sync API; Playwright's own
browser downloads are not used.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"

# The machine's network is closed: without these Chromium stalls on background
# connections (component updates, sync, QUIC probing, ...).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}

_QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
_RESPONSE_EDITOR = ".graphiql-response .CodeMirror"
_EXECUTE_BUTTON = ".graphiql-execute-button"


def is_local_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    host = (parts.hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def run_graphiql_query(
    url: str,
    query: str,
    timeout_s: float = 30,
    *,
    screenshot_path: str | None = None,
) -> str:
    """Open the GraphiQL page at ``url``, run ``query`` and return the text of
    the result pane.

    Raises AssertionError if the page requested anything that is not on
    localhost (such requests are also aborted, so they cannot hang), if the
    page threw a JavaScript error, or if no result appeared within
    ``timeout_s`` seconds. ``screenshot_path`` saves a PNG of the page with
    the result shown.
    """
    timeout_ms = timeout_s * 1000
    deadline = time.monotonic() + timeout_s
    external: list[str] = []
    page_errors: list[str] = []
    console_errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=timeout_ms,
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})

            def guard(route):
                if is_local_url(route.request.url):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)

            def on_request(request):
                if not is_local_url(request.url):
                    external.append(f"{request.method} {request.url}")

            def on_websocket(ws):
                if not is_local_url(ws.url):
                    external.append(f"WEBSOCKET {ws.url}")

            page.on("request", on_request)
            page.on("websocket", on_websocket)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on(
                "console",
                lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
            )

            page.goto(url, wait_until="load")
            try:
                page.wait_for_selector(_QUERY_EDITOR, state="visible")
                page.wait_for_selector(_EXECUTE_BUTTON, state="visible")
            except Exception as exc:
                raise AssertionError(
                    f"GraphiQL did not render at {url}: {exc}\n"
                    f"page errors: {page_errors}\nconsole errors: {console_errors}\n"
                    f"body: {page.inner_text('body')[:500]!r}"
                ) from exc

            page.evaluate(
                """([selector, q]) => {
                    const cm = document.querySelector(selector).CodeMirror;
                    cm.setValue(q);
                    cm.focus();
                }""",
                [_QUERY_EDITOR, query],
            )
            # GraphiQL parses the editor's content (to find the operation and
            # whether it is a subscription, which decides fetch vs WebSocket)
            # 100 ms after a change; executing before that would run the stale
            # document. Wait until the parsed document is the new text (an
            # unparsable query never gets one: then just go on after a while).
            try:
                page.wait_for_function(
                    """(selector) => {
                        const cm = document.querySelector(selector).CodeMirror;
                        const ast = cm.documentAST;
                        return !!(ast && ast.loc && ast.loc.source.body === cm.getValue());
                    }""",
                    arg=_QUERY_EDITOR,
                    timeout=min(2000, timeout_ms),
                    polling=50,
                )
            except PlaywrightTimeoutError:
                pass
            page.click(_EXECUTE_BUTTON)

            remaining_ms = max(0.0, (deadline - time.monotonic()) * 1000)
            try:
                handle = page.wait_for_function(
                    """(selector) => {
                        const el = document.querySelector(selector);
                        const text = el && el.CodeMirror ? el.CodeMirror.getValue() : "";
                        return text.trim() ? text : null;
                    }""",
                    arg=_RESPONSE_EDITOR,
                    timeout=max(remaining_ms, 1000),
                    polling=100,
                )
            except Exception as exc:
                raise AssertionError(
                    f"no result in GraphiQL's result pane after {timeout_s}s: {exc}\npage errors: {page_errors}\nconsole errors: {console_errors}"
                ) from exc
            result = handle.json_value()

            if screenshot_path:
                page.screenshot(path=screenshot_path)
            context.close()
        finally:
            browser.close()

    if external:
        raise AssertionError("GraphiQL page requested non-localhost URLs:\n  " + "\n  ".join(external))
    if page_errors:
        raise AssertionError("JavaScript errors on the GraphiQL page:\n  " + "\n  ".join(page_errors))
    return result


class PageWatch:
    """What a page did that a test must refuse: requests off this machine, script errors."""

    def __init__(self) -> None:
        self.external: list[str] = []
        self.errors: list[str] = []

    def check(self) -> None:
        assert not self.external, f"requests off this machine: {self.external}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


@asynccontextmanager
async def open_page(url: str, timeout_s: float = 30) -> AsyncIterator[tuple[Any, PageWatch]]:
    """A headless Chromium page at ``url`` (Playwright's async API, so a test can change
    data while the page is open); requests that leave localhost are aborted and recorded."""
    from playwright.async_api import async_playwright

    watch = PageWatch()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=timeout_s * 1000)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})

            async def guard(route: Any) -> None:
                if is_local_url(route.request.url):
                    await route.continue_()
                else:
                    watch.external.append(route.request.url)
                    await route.abort()

            await context.route("**/*", guard)
            page = await context.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
            page.on("websocket", lambda ws: None if is_local_url(ws.url) else watch.external.append(ws.url))
            await page.goto(url, wait_until="load")
            yield page, watch
            await context.close()
        finally:
            await browser.close()
