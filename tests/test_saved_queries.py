"""Saved queries: GraphQL documents kept per tenant (checked when written: valid, queries
only) and run by name over GET or POST with the caller's permissions, for GET-only tools
(Grafana's JSON data sources, spreadsheets)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from dcim_lab import Lab

SAVED = "query($id: ID!) { saved_query(id: $id) { name description query variables operation_name numid tenant { id } } }"
DEVICES = 'query Devices($prefix: String = "", $limit: Int) { device_list(filters: {name: {starts_with: $prefix}}, pagination: {limit: $limit}) { name } }'


async def _devices(lab: Lab, *names: str) -> None:
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    for name in names:
        await lab.device(c, kind, name)


def _auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def _get(api, key: str | None, **params: str):
    return await api.client.get(f"/graphql?{urlencode(params)}", headers={**_auth(key), "Accept": "application/json"})


async def _post(api, key: str | None, body: dict):
    return await api.client.post("/graphql", json=body, headers=_auth(key))


def _error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]


async def test_a_saved_query_is_written_read_and_numbered_in_its_tenant(api, org):
    lab = Lab(api, org.tenant_ids[0])
    first = await lab.make("saved_query", name="leaf-devices", description="for Grafana", query=DEVICES, variables={"prefix": "leaf"})
    second = await lab.make("saved_query", name="sites.v2", query="{ site_list { name } }")
    got = (await api.data(SAVED, id=first))["saved_query"]
    assert got == {
        "name": "leaf-devices",
        "description": "for Grafana",
        "query": DEVICES,
        "variables": {"prefix": "leaf"},
        "operation_name": "",
        "numid": 1,
        "tenant": {"id": str(org.tenant_ids[0])},
    }
    assert (await api.data(SAVED, id=second))["saved_query"]["numid"] == 2
    listed = await api.data('{ saved_query_list(filters: {name: {i_contains: "LEAF"}}) { name } }')
    assert listed == {"saved_query_list": [{"name": "leaf-devices"}]}
    await lab.update("saved_query", first, variables={"prefix": "spine", "limit": 5})
    assert (await api.data(SAVED, id=first))["saved_query"]["variables"] == {"prefix": "spine", "limit": 5}
    # Another tenant may reuse the name.
    await Lab(api, org.tenant_ids[1]).make("saved_query", name="leaf-devices", query=DEVICES)
    assert await api.count("saved_query") == 3


async def test_bad_saved_queries_are_refused_naming_the_field(api, org):
    lab = Lab(api, org.tenant_ids[0])
    base = {"name": "q", "query": DEVICES}
    kept = await lab.make("saved_query", **base)
    two = "query A { site_list { id } } query B { device_list { id } }"
    cases = [
        ({"query": "{ device_list { id "}, "query", "Syntax Error"),
        ({"query": "{ device_list { no_such_field } }"}, "query", "no_such_field"),
        ({"query": "query($x: Int!) { site_list { id } }"}, "query", "$x"),  # declared, never used
        ({"query": 'mutation { site_create(input: {name: "x", slug: "x"}) { id } }'}, "query", "mutation"),
        ({"query": "subscription { object_changed { __typename } }"}, "query", "subscription"),
        # A mutation beside a query is refused too, whichever operation is named.
        ({"query": 'query A { site_list { id } } mutation B { site_delete(id: "x") { id } }', "operation_name": "A"}, "query", "mutation"),
        ({"query": two}, "operation_name", "several"),
        ({"query": two, "operation_name": "C"}, "operation_name", "C"),
        ({"variables": ["leaf"]}, "variables", "object"),
        ({"variables": {"nope": 1}}, "variables.nope", "$nope"),
        ({"variables": {"prefix": "x" * 20_000}}, "variables", "characters"),
        ({"query": "{ site_list { id } }" + " " * 70_000}, "query", "characters"),
        ({"name": "leaf devices"}, "name", "URL"),
        ({"name": "../etc"}, "name", "URL"),
        ({"name": "x" * 101}, "name", "100"),
        ({"name": "q2", "query": ""}, "query", "blank"),
        # The server's depth and alias limits, judged when saved rather than at each run.
        ({"query": "{ region_list { " + "parent { " * 11 + "id" + " }" * 12 + " }"}, "query", "exceeds maximum operation depth"),
        ({"query": "{ " + " ".join(f"a{i}: site_list {{ id }}" for i in range(31)) + " }"}, "query", "aliases"),
    ]
    for change, field, said in cases:
        error = await lab.refuse("saved_query", **{**base, "name": "other", **change})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), (change, error)
        assert said in error["message"], (change, error)
    error = await lab.refuse("saved_query", **base)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "name"), error
    # An update is checked against the row as it would be after the write: defaults for a
    # variable the new document no longer declares.
    await lab.update("saved_query", kept, variables={"prefix": "a"})
    error = await lab.update_error("saved_query", kept, query="{ site_list { id } }")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "variables.prefix"), error
    error = await lab.update_error("saved_query", kept, query='mutation { site_delete(id: "x") { id } }')
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "query"), error
    assert (await api.data(SAVED, id=kept))["saved_query"]["query"] == DEVICES  # nothing half-written
    assert await api.count("saved_query") == 1


async def test_run_by_name_over_get_and_post_with_defaults_and_overrides(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await _devices(lab, "leaf-1", "leaf-2", "spine-1")
    await lab.make("saved_query", name="devices", query=DEVICES, variables={"prefix": "leaf"})
    response = await _get(api, api.key, query_name="devices")
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"device_list": [{"name": "leaf-1"}, {"name": "leaf-2"}]}}
    # Given variables override the defaults, one by one; the others stay.
    response = await _get(api, api.key, query_name="devices", variables=json.dumps({"limit": 1}))
    assert response.json() == {"data": {"device_list": [{"name": "leaf-1"}]}}
    response = await _get(api, api.key, query_name="devices", variables=json.dumps({"prefix": "spine"}))
    assert response.json() == {"data": {"device_list": [{"name": "spine-1"}]}}
    response = await _post(api, api.key, {"query_name": "devices", "variables": {"prefix": ""}})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"device_list": [{"name": "leaf-1"}, {"name": "leaf-2"}, {"name": "spine-1"}]}}
    # A browser opening the link (Accept: text/html) gets the answer too, not GraphiQL.
    page = await api.client.get("/graphql?query_name=devices", headers={**_auth(api.key), "Accept": "text/html"})
    assert page.json() == {"data": {"device_list": [{"name": "leaf-1"}, {"name": "leaf-2"}]}}
    # Without query_name, GET still serves GraphiQL.
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<title>Danbyte GraphiQL</title>" in page.text
    # A variable of the wrong type is the query's own coded error.
    response = await _get(api, api.key, query_name="devices", variables=json.dumps({"limit": "many"}))
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", response.text
    # The document names its operation when it holds several.
    await lab.make("saved_query", name="two", query="query A { site_list { name } } query B { device_list { name } }", operation_name="A")
    response = await _get(api, api.key, query_name="two")
    assert response.json() == {"data": {"site_list": [{"name": "AMS1"}]}}


async def test_finding_the_saved_query_costs_one_statement(api, org):
    lab = Lab(api, org.tenant_ids[0])
    await _devices(lab, "leaf-1", "leaf-2")
    await lab.make("saved_query", name="devices", query=DEVICES)
    debug = {**_auth(api.key), "X-Danbyte-Debug": "1"}
    direct = (await api.client.post("/graphql", json={"query": DEVICES}, headers=debug)).json()
    named = (await api.client.get("/graphql?query_name=devices", headers=debug)).json()
    assert named["data"] == direct["data"] == {"device_list": [{"name": "leaf-1"}, {"name": "leaf-2"}]}
    assert named["extensions"]["sql_statements"] == direct["extensions"]["sql_statements"] + 1, (named, direct)


async def test_a_saved_query_answers_with_the_callers_permissions(api, org):
    ours, theirs = Lab(api, org.tenant_ids[0]), Lab(api, org.tenant_ids[1])
    await _devices(ours, "leaf-1")
    await _devices(theirs, "leaf-9")
    await ours.make("saved_query", name="devices", query=DEVICES)
    # The administrator sees every tenant's devices through it.
    response = await _get(api, api.key, query_name="devices", tenant=str(org.tenant_ids[0]))
    assert response.json() == {"data": {"device_list": [{"name": "leaf-1"}, {"name": "leaf-9"}]}}
    # A reader limited to the first tenant sees only its devices through the same query.
    both = {"saved_query": ["view"], "device": ["view"]}
    reader = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants=both)
    assert (await _get(api, reader, query_name="devices")).json() == {"data": {"device_list": [{"name": "leaf-1"}]}}
    # Without the view grant on devices: FORBIDDEN, as the same query sent directly answers.
    blind = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"saved_query": ["view"]})
    named = (await _get(api, blind, query_name="devices")).json()
    direct = (await _post(api, blind, {"query": DEVICES})).json()
    assert named["errors"][0]["extensions"]["code"] == direct["errors"][0]["extensions"]["code"] == "FORBIDDEN", named
    assert named["data"] == direct["data"]
    # Without the view grant on saved queries, none is run.
    error = _error(await _get(api, await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view"]}), query_name="devices"), 403)
    assert error["extensions"]["code"] == "FORBIDDEN", error
    # Another tenant's saved query is not there at all, whatever the caller may see of devices.
    other = await org.user_key(tenant_ids=[org.tenant_ids[1]], grants=both)
    for response in (
        await _get(api, other, query_name="devices"),
        await _get(api, other, query_name="devices", tenant=str(org.tenant_ids[0])),
        await _post(api, other, {"query_name": "devices"}),
    ):
        error = _error(response, 404)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "query_name"), error
    # Anonymous: asked to authenticate; a token in the URL is refused, never used.
    assert _error(await _get(api, None, query_name="devices"), 401)["extensions"]["code"] == "UNAUTHENTICATED"
    error = _error(await _get(api, None, query_name="devices", token=reader), 400)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "token"), error


async def test_a_name_in_several_of_the_callers_tenants_needs_the_tenant(api, org):
    for index, tenant in enumerate(org.tenant_ids):
        await Lab(api, tenant).make(
            "saved_query", name="sites", query=f'{{ site_list {{ id }} tenant(id: "{tenant}") {{ name }} }}' if index else "{ site_list { id } }"
        )
    error = _error(await _get(api, api.key, query_name="sites"), 400)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "tenant"), error
    response = await _get(api, api.key, query_name="sites", tenant=str(org.tenant_ids[1]))
    assert response.status_code == 200 and "tenant" in response.json()["data"], response.text
    response = await _get(api, api.key, query_name="sites", tenant=str(org.tenant_ids[0]))
    assert response.json() == {"data": {"site_list": []}}
    error = _error(await _get(api, api.key, query_name="sites", tenant="not-an-id"), 400)
    assert error["extensions"]["field"] == "tenant", error
    # A token limited to one tenant sees one saved query of that name.
    single = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"saved_query": ["view"], "site": ["view"]})
    assert (await _get(api, single, query_name="sites")).json() == {"data": {"site_list": []}}


async def test_bad_requests_by_name_are_coded_never_500(api, org):
    await Lab(api, org.tenant_ids[0]).make("saved_query", name="sites", query="{ site_list { id } }")
    cases = [
        ({"query_name": "nothing"}, 404, "NOT_FOUND", "query_name"),
        ({"query_name": ""}, 400, "BAD_USER_INPUT", "query_name"),
        ({"query_name": "has space"}, 400, "BAD_USER_INPUT", "query_name"),
        ({"query_name": "x" * 5000}, 400, "BAD_USER_INPUT", "query_name"),
        ({"query_name": "sites", "variables": "{not json"}, 400, "BAD_USER_INPUT", "variables"),
        ({"query_name": "sites", "variables": "[1, 2]"}, 400, "BAD_USER_INPUT", "variables"),
        ({"query_name": "sites", "variables": "[" * 10_000}, 400, "BAD_USER_INPUT", "variables"),
        ({"query_name": "sites", "variables": "[" * 20_000}, 400, "BAD_USER_INPUT", "variables"),
        ({"query_name": "sites", "variables": json.dumps({"a": "x" * 20_000})}, 400, "BAD_USER_INPUT", "variables"),
        ({"query_name": "sites", "query": "{ site_list { id } }"}, 400, "BAD_USER_INPUT", "query_name"),
        ({"query_name": "sites", "operationName": "Other"}, 400, "BAD_USER_INPUT", "query_name"),
        ({"query_name": "sites", "extensions": "nonsense"}, 400, "BAD_USER_INPUT", "query_name"),
    ]
    for params, status, code, field in cases:
        error = _error(await _get(api, api.key, **params), status)
        assert (error["extensions"]["code"], error["extensions"].get("field")) == (code, field), (params, error)
    posts = [
        ({"query_name": 12}, 400, "query_name"),
        ({"query_name": "sites", "variables": "{}"}, 400, "variables"),
        ({"query_name": "sites", "variables": [1]}, 400, "variables"),
        ({"query_name": "sites", "tenant": {"id": 1}}, 400, "tenant"),
        ({"query_name": "sites", "query": "{ site_list { id } }"}, 400, "query_name"),
        ({"query_name": "sites", "extensions": [1]}, 400, "query_name"),
        ({"query_name": "sites", "extensions": {"persistedQuery": {"version": 1}}}, 400, "query_name"),
        ({"query_name": "nothing"}, 404, "query_name"),
    ]
    for body, status, field in posts:
        error = _error(await _post(api, api.key, body), status)
        assert error["extensions"].get("field") == field, (body, error)
    # A huge URL or body is refused before anything runs.
    huge = await api.client.post(
        "/graphql",
        content=json.dumps({"query_name": "sites", "variables": {"a": "x" * 3_000_000}}),
        headers={**_auth(api.key), "Content-Type": "application/json"},
    )
    assert huge.status_code in (400, 413) and huge.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", huge.text
    # The same saved query still answers after all of that.
    assert (await _get(api, api.key, query_name="sites")).json() == {"data": {"site_list": []}}


async def test_a_get_never_writes(api, org):
    """A document that slipped past the write check (written straight into the table) is
    still refused over GET and POST: saved queries run as queries only."""
    import sqlalchemy as sa

    from models.registry import spec_for

    lab = Lab(api, org.tenant_ids[0])
    saved = await lab.make("saved_query", name="sneaky", query="{ site_list { id } }")
    async with api.client._transport.app.state.danbyte.db.system_transaction() as conn:  # type: ignore[attr-defined]
        table = spec_for("SavedQuery").table
        await conn.execute(sa.update(table).where(table.c.id == saved).values(query='mutation { site_create(input: {name: "x", slug: "x"}) { id } }'))
    for response in (await _get(api, api.key, query_name="sneaky"), await _post(api, api.key, {"query_name": "sneaky"})):
        error = _error(response, 400)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "query_name"), error
    assert await api.count("site") == 0


async def test_a_polled_saved_query_is_parsed_and_validated_once(api, org, monkeypatch):
    import uuid

    import strawberry.schema.schema as strawberry_schema

    calls: list[str] = []
    real_validate, real_parse = strawberry_schema.validate_document, strawberry_schema.parse

    def validating(schema, document, rules):  # the real validation, counted
        calls.append("validate")
        return real_validate(schema, document, rules)

    def parsing(text, **options):  # the real parser, counted
        calls.append("parse")
        return real_parse(text, **options)

    # A text no other test ran, so the process's document cache has not seen it.
    text = f"# {uuid.uuid4()}\nquery($n: String) {{ site_list(filters: {{name: {{exact: $n}}}}) {{ name }} }}"
    await Lab(api, org.tenant_ids[0]).make("saved_query", name="polled", query=text)
    monkeypatch.setattr(strawberry_schema, "validate_document", validating)
    monkeypatch.setattr(strawberry_schema, "parse", parsing)
    for name in ("a", "b", "c"):
        response = await _get(api, api.key, query_name="polled", variables=json.dumps({"n": name}))
        assert response.json() == {"data": {"site_list": []}}, response.text
    assert calls == ["parse", "validate"]
