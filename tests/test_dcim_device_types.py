"""Device types with NetBox's fields, choices and rules (templates arrive with devices)."""

from __future__ import annotations

import pytest


async def manufacturer(api, tenant) -> str:
    created = await api.data(f'mutation {{ manufacturer_create(input: {{name: "Arista", slug: "arista", tenant: "{tenant}"}}) {{ id }} }}')
    return created["manufacturer_create"]["id"]


async def test_device_type_answers_netbox_fields(api, org):
    tenant = org.tenant_ids[0]
    maker = await manufacturer(api, tenant)
    created = await api.data(
        f"""mutation {{ device_type_create(input: {{manufacturer: "{maker}", model: "DCS-7050TX-64", slug: "dcs-7050tx-64",
            part_number: "DCS-7050TX-64-R", u_height: "1", airflow: AIRFLOW_FRONT_TO_REAR, weight: "9.5", weight_unit: KG,
            tenant: "{tenant}"}}) {{ model u_height is_full_depth exclude_from_utilization subdevice_role airflow weight weight_unit
            manufacturer {{ slug }} }} }}"""
    )
    assert created["device_type_create"] == {
        "model": "DCS-7050TX-64",
        "u_height": "1.0",
        "is_full_depth": True,
        "exclude_from_utilization": False,
        "subdevice_role": None,
        "airflow": "front-to-rear",
        "weight": "9.50",
        "weight_unit": "kg",
        "manufacturer": {"slug": "arista"},
    }
    listed = await api.data("{ manufacturer_list { device_types { slug } } device_type_list(filters: {airflow: {exact: AIRFLOW_FRONT_TO_REAR}}) { slug } }")
    assert listed == {"manufacturer_list": [{"device_types": [{"slug": "dcs-7050tx-64"}]}], "device_type_list": [{"slug": "dcs-7050tx-64"}]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ('u_height: "1.25"', "u_height"),
        ('u_height: "-1"', "u_height"),
        ('weight: "3"', "weight_unit"),
    ],
)
async def test_device_type_rules(api, org, fields, field):
    tenant = org.tenant_ids[0]
    maker = await manufacturer(api, tenant)
    error = await api.error(
        f'mutation {{ device_type_create(input: {{manufacturer: "{maker}", model: "M", slug: "m", {fields}, tenant: "{tenant}"}}) {{ id }} }}'
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert (await api.data("{ device_type_list { id } }"))["device_type_list"] == []


async def test_model_is_unique_per_manufacturer(api, org):
    tenant = org.tenant_ids[0]
    maker = await manufacturer(api, tenant)
    create = f'mutation {{ device_type_create(input: {{manufacturer: "{maker}", model: "M", slug: "SLUG", tenant: "{tenant}"}}) {{ id }} }}'
    await api.data(create.replace("SLUG", "m"))
    assert (await api.error(create.replace("SLUG", "m2")))["extensions"] == {"code": "CONFLICT", "field": "model"}
