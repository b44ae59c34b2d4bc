"""GraphiQL on the real server: the page loads from local assets, runs a query, shows the result."""

from __future__ import annotations

import json

import httpx
import pytest
from browser import run_graphiql_query
from live import danbyte_serve


@pytest.fixture(scope="module")
def server(database_url, redis_url, tmp_path_factory):
    env = {"DANBYTE_DATABASE_URL": database_url, "DANBYTE_REDIS_URL": redis_url}
    with danbyte_serve(tmp_path_factory.mktemp("graphiql"), env, "--no-worker") as (base, _):
        yield base


def test_graphiql_runs_a_query_against_danbyte(server, committed_org, tmp_path):
    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "unpkg" not in page.text and "jsdelivr" not in page.text
    shot = tmp_path / "graphiql.png"
    text = run_graphiql_query(f"{server}/graphql?token={committed_org.admin_key}", "{ tenant_list { name } }", screenshot_path=str(shot))
    result = json.loads(text)
    names = sorted(t["name"] for t in result["data"]["tenant_list"])
    assert len(names) == 2 and all(n.startswith("Tenant ") for n in names)
    assert shot.stat().st_size > 10_000
