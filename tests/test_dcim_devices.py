"""Devices: NetBox's fields and rules so far (components, racks and primary IPs follow)."""

from __future__ import annotations

import pytest


async def catalogue(api, tenant) -> dict[str, str]:
    t = f'tenant: "{tenant}"'

    async def make(mutation: str) -> str:
        return next(iter((await api.data(f"mutation {{ {mutation} }}")).values()))["id"]

    maker = await make(f'manufacturer_create(input: {{name: "Cisco", slug: "cisco", {t}}}) {{ id }}')
    site = await make(f'site_create(input: {{name: "AMS1", slug: "ams1", {t}}}) {{ id }}')
    other_site = await make(f'site_create(input: {{name: "FRA1", slug: "fra1", {t}}}) {{ id }}')
    return {
        "type": await make(f'device_type_create(input: {{manufacturer: "{maker}", model: "C9300-48P", slug: "c9300-48p", {t}}}) {{ id }}'),
        "role": await make(f'device_role_create(input: {{name: "Access", slug: "access", {t}}}) {{ id }}'),
        "site": site,
        "other_site": other_site,
        "location": await make(f'location_create(input: {{name: "Hall 2", slug: "hall-2", site: "{other_site}", {t}}}) {{ id }}'),
    }


def device(c: dict[str, str], tenant, **extra: str) -> str:
    fields = ", ".join(f"{k}: {v}" for k, v in extra.items())
    return (
        f'device_create(input: {{device_type: "{c["type"]}", role: "{c["role"]}", site: "{c["site"]}", tenant: "{tenant}"'
        f"{', ' + fields if fields else ''}}}) {{ id name status device_type {{ model }} role {{ slug }} site {{ slug }} }}"
    )


async def test_device_with_netbox_names(api, org):
    tenant = org.tenant_ids[0]
    c = await catalogue(api, tenant)
    created = await api.data(f"mutation {{ {device(c, tenant, name=chr(34) + 'sw1' + chr(34), status='STATUS_PLANNED')} }}")
    assert created["device_create"] | {"id": None} == {
        "id": None,
        "name": "sw1",
        "status": "planned",
        "device_type": {"model": "C9300-48P"},
        "role": {"slug": "access"},
        "site": {"slug": "ams1"},
    }
    found = await api.data(
        '{ device_type_list { instances { name } } device_list(filters: {site: {slug: {exact: "ams1"}}, status: {exact: STATUS_PLANNED}}) { name } }'
    )
    assert found == {"device_type_list": [{"instances": [{"name": "sw1"}]}], "device_list": [{"name": "sw1"}]}


async def test_names_are_optional_and_unique_per_site_ignoring_case(api, org):
    tenant = org.tenant_ids[0]
    c = await catalogue(api, tenant)
    await api.data(f"mutation {{ a: {device(c, tenant)} b: {device(c, tenant)} }}")  # unnamed devices are many
    await api.data(f"mutation {{ {device(c, tenant, name=chr(34) + 'sw1' + chr(34))} }}")
    error = await api.error(f"mutation {{ {device(c, tenant, name=chr(34) + 'SW1' + chr(34))} }}")
    assert error["extensions"] == {"code": "CONFLICT", "field": "name"}
    moved = device(c, tenant, name='"sw1"').replace(c["site"], c["other_site"])
    await api.data(f"mutation {{ {moved} }}")  # the same name at another site is another device
    assert len((await api.data("{ device_list { id } }"))["device_list"]) == 4


@pytest.mark.parametrize(("extra", "field"), [({"location": "LOCATION"}, "location"), ({"latitude": '"-91"'}, "latitude")])
async def test_device_rules(api, org, extra, field):
    tenant = org.tenant_ids[0]
    c = await catalogue(api, tenant)
    extra = {k: (f'"{c["location"]}"' if v == "LOCATION" else v) for k, v in extra.items()}
    error = await api.error(f"mutation {{ {device(c, tenant, **extra)} }}")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert (await api.data("{ device_list { id } }"))["device_list"] == []
