"""Export templates: a list of objects rendered as a file (real rendered output), what the
caller may see only, with the API's errors."""

from __future__ import annotations

from dcim_lab import Lab

CSV = "name,status\n{% for d in queryset %}{{ d.name }},{{ d.status }}\n{% endfor %}"


async def test_an_export_template_renders_the_devices_one_may_see(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    for name in ("leaf-02", "leaf-10", "leaf-01"):
        await lab.device(c, kind, name)
    template = await lab.make(
        "export_template",
        name="devices",
        object_types=["dcim.device"],
        template_code=CSV,
        mime_type="text/csv",
        file_extension="csv",
        environment_params={"keep_trailing_newline": True},
    )
    response = await api.client.get(f"/export/{template}", headers={"Authorization": f"Bearer {api.key}"})
    assert response.status_code == 200, response.text
    assert response.text == "name,status\nleaf-01,active\nleaf-02,active\nleaf-10,active\n"
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="devices.csv"'
    # A reader of another tenant sees neither the template nor the devices.
    other = await org.user_key(tenant_ids=[org.tenant_ids[1]], grants={"device": ["view"], "export_template": ["view"]})
    refused = await api.client.get(f"/export/{template}", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 404 and refused.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    anonymous = await api.client.get(f"/export/{template}")
    assert anonymous.status_code == 401 and anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await api.client.get(f"/export/{template}?type=dcim.site", headers={"Authorization": f"Bearer {api.key}"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["extensions"]["field"] == "type"


async def test_bad_export_templates_are_refused(api, org):
    lab = Lab(api, org.tenant_ids[0])
    for fields, field in (
        ({"object_types": ["dcim.nothing"], "template_code": "x"}, "object_types.0"),
        ({"object_types": ["dcim.device"], "template_code": "{% include 'x' %}"}, "template_code"),
    ):
        error = await lab.refuse("export_template", name="bad", **fields)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
