"""The ``config_render`` job (jobs/render.py): a bulk render over a site as one job with
progress, run by a real worker; each device's stored intended configuration is what
``render_config`` answers, a failing template is recorded on its device, and a device
whose render changed moves its drift state."""

from __future__ import annotations

from dcim_lab import Lab
from test_jobs_runtime import START, wait_for

TEMPLATE = "hostname {{ device.name }}\nntp server {{ ntp }}\n"
STORED = "query($d: ID!) { device(id: $d) { render_config { configuration } intended_config { configuration error } config_state { state } } }"


async def test_a_bulk_render_over_a_site(app, committed_org, committed_api, worker):
    tenant = committed_org.tenant_ids[0]
    lab = Lab(committed_api, tenant)
    c = await lab.catalogue()
    template = await lab.make("config_template", name="leaf", template_code=TEMPLATE)
    await lab.update("device_role", c["role"], config_template=template)
    kind = await lab.device_type(c, "Box")
    devices = [await lab.device(c, kind, f"leaf-{n:02}", local_context_data={"ntp": f"10.0.0.{n}"}) for n in range(1, 6)]
    broken = await lab.make("config_template", name="broken", template_code="{{ 1 / 0 }}")
    await lab.update("device", devices[-1], config_template=broken)
    elsewhere = await lab.make("site", name="Elsewhere", slug="elsewhere")
    outside = await lab.device({**c, "site": elsewhere}, kind, "other-site", local_context_data={"ntp": "10.9.9.9"})

    started = (await committed_api.data(START, kind="config_render", p={"site": c["site"]}, t=str(tenant)))["job_start"]
    row = await wait_for(app.state.danbyte.db, started["id"], "completed", "failed", "errored", timeout=60)
    assert row.status == "completed", row.log
    assert row.result == {"devices": 5, "rendered": 4, "failed": 1, "already_done": 0}
    assert row.progress["done"] == row.progress["total"] == 5
    for device in devices[:-1]:
        answer = (await committed_api.data(STORED, d=device))["device"]
        assert answer["intended_config"] == {"configuration": answer["render_config"]["configuration"], "error": None}
        assert answer["config_state"]["state"] == "unknown"  # no running config posted yet
    failed = (await committed_api.data("query($d: ID!) { device(id: $d) { intended_config { configuration error } } }", d=devices[-1]))["device"][
        "intended_config"
    ]
    assert failed["configuration"] == "" and failed["error"]
    assert (await committed_api.data(STORED, d=outside))["device"]["intended_config"] is None, "only the site's devices"


async def test_render_parameters_are_checked(api, org):
    for parameters, field in (({"concurrency": 2}, "concurrency"), ({"site": "x"}, "site"), ({"devices": [1]}, "devices.0")):
        error = await api.error(START, kind="config_render", p=parameters, t=str(org.tenant_ids[0]))
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and field in error["extensions"]["field"], (parameters, error)
