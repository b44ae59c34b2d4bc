"""Manufacturers, rack roles, device roles and platforms, with NetBox's fields and rules."""

from __future__ import annotations


async def test_nested_roles_are_unique_among_siblings_top_level_included(api, org):
    tenant = org.tenant_ids[0]
    t = f'tenant: "{tenant}"'
    core = await api.data(f'mutation {{ device_role_create(input: {{name: "Core", slug: "core", {t}}}) {{ id color vm_role }} }}')
    assert core["device_role_create"]["color"] == "9e9e9e" and core["device_role_create"]["vm_role"] is True
    parent = core["device_role_create"]["id"]
    # The same name under a parent is another role; twice at the top level is a conflict.
    await api.data(f'mutation {{ device_role_create(input: {{name: "Core", slug: "core-sub", parent: "{parent}", {t}}}) {{ id }} }}')
    error = await api.error(f'mutation {{ device_role_create(input: {{name: "Core", slug: "other", {t}}}) {{ id }} }}')
    assert error["extensions"] == {"code": "CONFLICT", "field": "name"}
    error = await api.error(f'mutation {{ device_role_create(input: {{name: "Edge", slug: "core-sub", parent: "{parent}", {t}}}) {{ id }} }}')
    assert error["extensions"] == {"code": "CONFLICT", "field": "slug"}
    assert len((await api.data("{ device_role_list { id } }"))["device_role_list"]) == 2


async def test_platforms_belong_to_a_manufacturer_that_cannot_vanish_under_them(api, org):
    tenant = org.tenant_ids[0]
    t = f'tenant: "{tenant}"'
    maker = (await api.data(f'mutation {{ manufacturer_create(input: {{name: "Juniper", slug: "juniper", {t}}}) {{ id }} }}'))["manufacturer_create"]["id"]
    await api.data(f'mutation {{ platform_create(input: {{name: "Junos", slug: "junos", manufacturer: "{maker}", {t}}}) {{ id }} }}')
    listed = await api.data('{ manufacturer_list { platforms { slug } } platform_list(filters: {manufacturer: {slug: {exact: "juniper"}}}) { name } }')
    assert listed == {"manufacturer_list": [{"platforms": [{"slug": "junos"}]}], "platform_list": [{"name": "Junos"}]}
    error = await api.error(f'mutation {{ manufacturer_delete(id: "{maker}") {{ id }} }}')
    assert error["extensions"] == {"code": "CONFLICT", "field": "id"}
    assert "still referenced by platform" in error["message"]
    assert len((await api.data("{ manufacturer_list { id } }"))["manufacturer_list"]) == 1
    error = await api.error(f'mutation {{ rack_role_create(input: {{name: "R", slug: "r", color: "purple", {t}}}) {{ id }} }}')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "color"}
