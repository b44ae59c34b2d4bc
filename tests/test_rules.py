"""Model rules are registered by their domains and run for every writer; a writer that
brings derived data with it turns the generating rules off, never the checks."""

from __future__ import annotations

import pytest

from danbyte.settings import get_settings
from models.registry import spec_for
from permissions.tokens import principal_for_key
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.rules import rule_book
from resolvers.writes import insert_object, prepare_create, run_write


async def site_with_gateway_policy(api, tenant) -> str:
    created = await api.data(f'mutation {{ site_create(input: {{name: "s", slug: "s", gateway_policy: POLICY_FIRST, tenant: "{tenant}"}}) {{ id }} }}')
    return created["site_create"]["id"]


async def write_prefix(db, org, data: dict, *, generate: bool):
    async with db.system_transaction() as conn:
        principal = await principal_for_key(conn, org.admin_key)
    ctx = RequestContext(db=db, principal=principal, events=None, settings=get_settings())
    spec = spec_for("Prefix")
    values, many, tags = prepare_create(principal, spec, data)
    return await run_write(ctx, lambda write: insert_object(write, spec, values, many, tags), generate=generate)


async def test_an_importing_writer_turns_generators_off_but_not_checks(api, org, db):
    tenant = org.tenant_ids[0]
    site = await site_with_gateway_policy(api, tenant)
    generated = await write_prefix(db, org, {"prefix": "10.1.0.0/24", "site": site, "tenant": str(tenant)}, generate=True)
    assert generated.gateway == "10.1.0.1"
    imported = await write_prefix(db, org, {"prefix": "10.2.0.0/24", "site": site, "tenant": str(tenant)}, generate=False)
    assert imported.gateway is None
    addresses = await api.data("{ ip_address_list { address role } }")
    assert addresses["ip_address_list"] == [{"address": "10.1.0.1/24", "role": "gateway"}]
    # The check on a given gateway runs either way.
    with pytest.raises(BadUserInput, match="outside the prefix"):
        await write_prefix(db, org, {"prefix": "10.3.0.0/24", "gateway": "10.9.9.9", "tenant": str(tenant)}, generate=False)


def test_every_domain_registers_its_rules_explicitly():
    book = rule_book()
    assert book.before("Location", generate=False), "the location check is a check: it runs for importers too"
    assert book.before("Prefix", generate=True) != book.before("Prefix", generate=False)
    assert book.after("Prefix", generate=False) == []
