"""Documents are parsed and validated once per text, and Apollo's automatic persisted
queries let a client send a hash instead of the text."""

from __future__ import annotations

import hashlib

import strawberry.schema.schema as strawberry_schema

QUERY = "{ site_list { name } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()


async def post(api, body: dict) -> tuple[int, dict]:
    response = await api.client.post("/graphql", json=body, headers={"Authorization": f"Bearer {api.key}"})
    return response.status_code, response.json()


def persisted(digest: str = DIGEST, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def test_a_persisted_query_is_sent_once_then_by_hash(api, org):
    await api.data('mutation($t: ID) { site_create(input: {name: "AMS1", slug: "ams1", tenant: $t}) { id } }', t=str(org.tenant_ids[0]))
    other = "{ site_list { slug } }"
    status, body = await post(api, {"extensions": persisted(hashlib.sha256(other.encode()).hexdigest())})
    # Unknown hash: Apollo's clients read this and send the text along.
    assert status == 200 and body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    status, body = await post(api, {"query": QUERY, "extensions": persisted()})
    assert status == 200 and body["data"] == {"site_list": [{"name": "AMS1"}]}
    status, body = await post(api, {"extensions": persisted()})
    assert status == 200 and body["data"] == {"site_list": [{"name": "AMS1"}]}


async def test_persisted_queries_refuse_a_wrong_hash_or_version(api, org):
    for extensions, field in (
        (persisted("0" * 64), "extensions.persistedQuery.sha256Hash"),  # not this text's hash
        (persisted("not-hex"), "extensions.persistedQuery.sha256Hash"),
        (persisted(version=2), "extensions.persistedQuery"),
    ):
        status, body = await post(api, {"query": QUERY, "extensions": extensions})
        assert status == 400 and body["errors"][0]["extensions"]["field"] == field, body


async def test_a_text_is_parsed_and_validated_once_and_an_invalid_one_every_time(api, org, monkeypatch):
    calls: list[str] = []
    real_validate, real_parse = strawberry_schema.validate_document, strawberry_schema.parse

    def validating(schema, document, rules):  # the real validation, counted
        calls.append("validate")
        return real_validate(schema, document, rules)

    def parsing(text, **options):  # the real parser, counted
        calls.append("parse")
        return real_parse(text, **options)

    monkeypatch.setattr(strawberry_schema, "validate_document", validating)
    monkeypatch.setattr(strawberry_schema, "parse", parsing)
    text = "{ site_list { id slug } }"
    for _ in range(3):
        await api.data(text)
    assert calls == ["parse", "validate"]
    calls.clear()
    for _ in range(2):
        error = await api.error("{ site_list { no_such_field } }")
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert calls == ["parse", "validate", "validate"]  # parsed once (it parses), refused each time
    calls.clear()
    for _ in range(2):
        error = await api.error("{ site_list { id ")
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert calls == ["parse", "parse"]
