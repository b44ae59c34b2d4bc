"""Config templates: Jinja2 in a sandbox, bound to a device, its role or its platform,
rendered with the object and its config context (real rendered output)."""

from __future__ import annotations

from dcim_lab import Lab

RENDER = "query($id: ID!) { device(id: $id) { render_config { configuration template context } } }"

TEMPLATE = """hostname {{ device.name }}
{% for server in ntp.servers %}ntp server {{ server }}
{% endfor %}router bgp {{ bgp.asn }}
"""


async def test_a_device_renders_its_roles_template(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    template = await lab.make("config_template", name="leaf", template_code=TEMPLATE, environment_params={"trim_blocks": True})
    await lab.update("device_role", c["role"], config_template=template)
    device = await lab.device(c, await lab.device_type(c, "Box"), "leaf-01", local_context_data={"bgp": {"asn": 65001}})
    await lab.make("config_context", name="ntp", data={"ntp": {"servers": ["10.0.0.1", "10.0.0.2"]}})
    got = (await api.data(RENDER, id=device))["device"]["render_config"]
    assert got == {
        "configuration": "hostname leaf-01\nntp server 10.0.0.1\nntp server 10.0.0.2\nrouter bgp 65001",  # Jinja drops the last newline
        "template": "leaf",
        "context": {"ntp": {"servers": ["10.0.0.1", "10.0.0.2"]}, "bgp": {"asn": 65001}},
    }
    # The device's own template wins over its role's.
    own = await lab.make("config_template", name="own", template_code="{{ device.name | upper }}")
    await lab.update("device", device, config_template=own)
    assert (await api.data(RENDER, id=device))["device"]["render_config"]["configuration"] == "LEAF-01"
    # A template that fails at render time is the client's error, named.
    broken = await lab.make("config_template", name="broken", template_code="{{ 1 / 0 }}")
    await lab.update("device", device, config_template=broken)
    error = await api.error(RENDER, id=device)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "template_code")


async def test_templates_that_cannot_be_sandboxed_are_refused(api, org):
    lab = Lab(api, org.tenant_ids[0])
    cases = [
        ({"template_code": "{% if %}"}, "template_code"),  # does not parse
        ({"template_code": "{% include '/etc/passwd' %}"}, "template_code"),  # reads a file
        ({"template_code": "{% import 'macros' as m %}"}, "template_code"),
        ({"template_code": "{% extends 'base' %}"}, "template_code"),
        ({"template_code": "x", "environment_params": {"loader": "FileSystemLoader"}}, "environment_params"),
    ]
    for fields, field in cases:
        error = await lab.refuse("config_template", name="bad", **fields)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    # The sandbox keeps a template from reaching Python's internals.
    made = await lab.make("config_template", name="escape", template_code="{{ device.__class__.__mro__ }}")
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "d1", config_template=made)
    error = await api.error(RENDER, id=device)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.count("config_template") == 1
