"""The status page (/status) in headless Chromium against a real server: the reader's open
alerts arrive over alert_changed (current set first, then each change), another tenant's
never, alert text stays text, and a page without a usable token asks for one."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from browser import open_page
from dcim_lab import Lab
from live import danbyte_serve
from playwright.async_api import expect
from worker_rows import insert_worker_row

from jobs.alerts import evaluate
from jobs.runtime import publish
from models.monitoring import CheckState

ROWS = "#alerts tbody tr"


@pytest.fixture(scope="module")
def server(database_url, redis_url, tmp_path_factory):
    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    with danbyte_serve(tmp_path_factory.mktemp("status"), env, "--no-worker") as (base, _):
        yield base


async def down_check(api: Any, app: Any, tenant: Any, device_name: str) -> dict[str, str]:
    """A device with a down check and a rule alerting on it (no channels: nothing is sent)."""
    lab = Lab(api, tenant)
    c = await lab.catalogue()
    w = {"device": await lab.device(c, await lab.device_type(c, "Box"), device_name)}
    w["template"] = await lab.make("check_template", name="ping", kind="KIND_ICMP")
    w["rule"] = await lab.make("alert_rule", name="down", states=["down"], severity="SEVERITY_CRITICAL")
    async with app.state.danbyte.db.system_transaction() as conn:
        row = await insert_worker_row(
            conn,
            CheckState,
            tenant_id=tenant,
            template_id=w["template"],
            device_id=w["device"],
            address="192.0.2.7",
            state="down",
            since=sa.func.now() - timedelta(hours=1),
            message="no answer",
        )
        w["check"] = str(row.id)
    return w


async def evaluate_and_publish(database_url: str, redis_url: str) -> None:
    """One committed alert evaluation, its row events published (as the check scheduler does)."""

    def work() -> None:
        engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                outcome = evaluate(conn, datetime.now(UTC))
            assert outcome is not None
            publish(redis_url, outcome.events)
        finally:
            engine.dispose()

    await asyncio.to_thread(work)


async def stop_alerting(app: Any, tenants: list[Any]) -> None:
    async with app.state.danbyte.db.system_transaction() as conn:
        await conn.execute(sa.text("UPDATE alert_rule SET enabled = false WHERE tenant_id = ANY (:t)"), {"t": tenants})


async def test_the_status_page_shows_your_alerts_live(server, app, committed_org, committed_api, database_url, redis_url):
    mine, theirs = committed_org.tenant_ids
    try:
        ours = await down_check(committed_api, app, mine, "core1")
        await down_check(committed_api, app, theirs, "elsewhere1")
        await evaluate_and_publish(database_url, redis_url)
        reader = await committed_org.user_key(is_admin=True, tenant_ids=[mine])

        async with open_page(f"{server}/status#token={reader}") as (page, watch):
            # The current set: this tenant's alert, not the other's.
            await page.wait_for_selector(ROWS)
            assert await page.locator(ROWS).count() == 1
            text = await page.locator(ROWS).first.inner_text()
            assert "core1" in text and "critical" in text and "firing" in text and "elsewhere1" not in text
            assert await page.inner_text("#summary") == "critical: 1warning: 0info: 0"
            # The token left the address bar (kept in the tab's session storage only).
            assert "token" not in page.url

            # An acknowledgement arrives live; its comment is shown as text, never run.
            alert_id = await page.locator(ROWS).first.get_attribute("data-alert")
            comment = '<img src=x onerror="window.pwned=1">rebooting'
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"{server}/graphql",
                    json={
                        "query": "mutation($id: ID!, $c: String!) { alert_acknowledge(id: $id, comment: $c) { status } }",
                        "variables": {"id": alert_id, "c": comment},
                    },
                    headers={"Authorization": f"Bearer {committed_org.admin_key}"},
                )
            assert answer.json() == {"data": {"alert_acknowledge": {"status": "acknowledged"}}}
            await page.wait_for_selector(f"{ROWS}.acknowledged")
            assert comment in await page.locator(ROWS).first.inner_text()
            assert await page.evaluate("window.pwned === undefined") and await page.locator(f"{ROWS} img").count() == 0

            # The check recovers: the alert resolves and leaves the page.
            async with app.state.danbyte.db.system_transaction() as conn:
                await conn.execute(sa.text("UPDATE check_state SET state = 'up' WHERE id = :id"), {"id": ours["check"]})
            await evaluate_and_publish(database_url, redis_url)
            await page.wait_for_selector("#empty", state="visible")
            assert await page.locator(ROWS).count() == 0
            assert await page.inner_text("#connection") == "live"
            watch.check()
    finally:
        await stop_alerting(app, committed_org.tenant_ids)


async def test_the_status_page_asks_for_a_token_it_can_use(server, committed_org):
    page_answer = httpx.get(f"{server}/status")
    assert page_answer.status_code == 200
    policy = page_answer.headers["content-security-policy"]
    assert "script-src 'nonce-" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy

    async with open_page(f"{server}/status") as (page, watch):
        await page.wait_for_selector("#login", state="visible")
        assert await page.inner_text("#connection") == "sign in with an API token"
        watch.check()
    # A token that is not one: the server refuses the connection and the page asks again.
    async with open_page(f"{server}/status#token=not-a-token") as (page, watch):
        await page.wait_for_selector("#login", state="visible")
        assert "not signed in" in await page.inner_text("#connection")
        watch.check()
    # A reader without view on alerts sees the refusal, not an empty "all clear".
    blind = await committed_org.user_key(tenant_ids=[committed_org.tenant_ids[0]], grants={"device": ["view"]})
    async with open_page(f"{server}/status#token={blind}") as (page, watch):
        # (a locator wait: the page's policy forbids the eval a string predicate needs)
        await expect(page.locator("#connection")).to_have_text(re.compile("^error: .*"))
        assert await page.locator("#empty").is_hidden()
        watch.check()
