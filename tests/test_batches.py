"""Batches: ``<type>_create_many`` / ``_update_many`` / ``_delete_many`` write many objects
in one transaction, all or nothing; an error names the input's index and field."""

from __future__ import annotations

CREATE = "mutation($inputs: [IPAddressCreateInput!]!) { ip_address_create_many(inputs: $inputs) { id address vrf { name } } }"
UPDATE = "mutation($inputs: [IPAddressUpdateManyInput!]!) { ip_address_update_many(inputs: $inputs) { address description } }"
DELETE = "mutation($ids: [ID!]!) { ip_address_delete_many(ids: $ids) { address } }"
STATE = "{ ip_address_list { address description } changelog_list { request_id object_type } }"


async def test_a_batch_is_one_transaction_with_one_change_log_request(api, org):
    tenant = str(org.tenant_ids[0])
    vrf = (await api.data('mutation($t: ID) { vrf_create(input: {name: "blue", tenant: $t}) { id } }', t=tenant))["vrf_create"]["id"]
    inputs = [{"address": f"192.0.2.{i}/24", "vrf": vrf, "tenant": tenant} for i in range(1, 51)]
    created = (await api.data(CREATE, inputs=inputs))["ip_address_create_many"]
    assert [c["address"] for c in created] == [i["address"] for i in inputs] and created[0]["vrf"] == {"name": "blue"}
    log = (await api.data(STATE))["changelog_list"]
    requests = {e["request_id"] for e in log if e["object_type"] == "ip_address"}
    assert len([e for e in log if e["object_type"] == "ip_address"]) == 50 and len(requests) == 1
    updated = (await api.data(UPDATE, inputs=[{"id": c["id"], "input": {"description": "edge"}} for c in created[:2]]))["ip_address_update_many"]
    assert updated == [{"address": "192.0.2.1/24", "description": "edge"}, {"address": "192.0.2.2/24", "description": "edge"}]
    deleted = (await api.data(DELETE, ids=[c["id"] for c in created[2:]]))["ip_address_delete_many"]
    assert len(deleted) == 48
    assert sorted(a["address"] for a in (await api.data(STATE))["ip_address_list"]) == ["192.0.2.1/24", "192.0.2.2/24"]


async def test_a_bad_object_fails_the_whole_batch_naming_its_index(api, org):
    tenant = str(org.tenant_ids[0])
    before = await api.data(STATE)
    cases = [
        ([{"address": "192.0.2.1/24", "tenant": tenant}, {"address": "not-an-address", "tenant": tenant}], "BAD_USER_INPUT", "inputs.1.address"),
        ([{"address": "192.0.2.1/24", "tenant": tenant}, {"address": "192.0.2.1/32", "tenant": tenant}], "CONFLICT", "inputs.1.address"),
        ([{"address": "192.0.2.1/24", "tenant": tenant, "vrf": "not-an-id"}], "BAD_USER_INPUT", "inputs.0.vrf"),
    ]
    for inputs, code, field in cases:
        error = await api.error(CREATE, inputs=inputs)
        assert error["extensions"] == {"code": code, "field": field}, error
    assert await api.data(STATE) == before  # the good objects before the bad one are gone too
    made = (await api.data(CREATE, inputs=[{"address": "192.0.2.9/24", "tenant": tenant}]))["ip_address_create_many"]
    error = await api.error(DELETE, ids=[made[0]["id"], "not-an-id"])
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "ids.1"}
    error = await api.error(UPDATE, inputs=[{"id": made[0]["id"], "input": {"description": "x" * 201}}])
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "inputs.0.input.description"}


async def test_a_batch_needs_the_rights_of_each_write(api, org):
    tenant = str(org.tenant_ids[0])
    reader = api.as_key(await org.user_key(grants={"ip_address": ["view"]}))
    error = await reader.error(CREATE, inputs=[{"address": "192.0.2.1/24", "tenant": tenant}])
    assert error["extensions"]["code"] == "FORBIDDEN"
    other_tenant = api.as_key(await org.user_key(is_admin=True, token_tenant_ids=[org.tenant_ids[1]]))
    made = (await api.data(CREATE, inputs=[{"address": "192.0.2.1/24", "tenant": tenant}]))["ip_address_create_many"]
    error = await other_tenant.error(DELETE, ids=[made[0]["id"]])
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "ids.0"}
    assert len((await api.data(STATE))["ip_address_list"]) == 1


async def test_a_batch_of_plain_creates_is_written_set_based(api, org):
    """Models whose rules judge no create (IP addresses) are written with a fixed number of
    statements whatever the batch size: references found per type, numids, rows and
    change-log entries each in one. Rows giving different columns keep their defaults."""
    a, b = (str(t) for t in org.tenant_ids)
    vrf = (await api.data('mutation($t: ID) { vrf_create(input: {name: "blue", tenant: $t}) { id } }', t=a))["vrf_create"]["id"]

    def batch(start: int, count: int) -> list[dict]:
        return [
            {"address": f"10.{start // 250}.{start % 250}.{n}/24", "tenant": a if n % 3 else b, **({"vrf": vrf} if n % 3 else {"status": "STATUS_RESERVED"})}
            for n in range(1, count + 1)
        ]

    small = await api.sql_statements(CREATE.replace("{ id address vrf { name } }", "{ id }"), inputs=batch(1, 10))
    large = await api.sql_statements(CREATE.replace("{ id address vrf { name } }", "{ id }"), inputs=batch(2, 200))
    assert small == large
    listed = (await api.data('{ ip_address_list(filters: {address: {net_contained_or_equal: "10.0.2.0/24"}}) { numid status vrf { name } tenant { id } } }'))[
        "ip_address_list"
    ]
    assert len(listed) == 200
    by_tenant: dict[str, list[int]] = {}
    for ip in listed:
        by_tenant.setdefault(ip["tenant"]["id"], []).append(ip["numid"])
        assert (ip["status"], ip["vrf"]) in (("active", {"name": "blue"}), ("reserved", None))
    for numbers in by_tenant.values():  # numbered per tenant, none twice
        assert len(numbers) == len(set(numbers))
