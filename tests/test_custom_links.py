"""Custom links: text and URL Jinja2 templates checked when written and rendered for one
object (``render_custom_links``) against real output, under the caller's permissions;
dangerous URL schemes never reach a client."""

from __future__ import annotations

import pytest
from dcim_lab import Lab

RENDER = """query($type: String!, $id: ID!) { render_custom_links(object: {type: $type, id: $id}) {
  name text url group_name button_class new_window weight error } }"""


async def rendered(api, kind: str, object_id: str) -> list[dict]:
    return (await api.data(RENDER, type=kind, id=object_id))["render_custom_links"]


async def a_device(lab: Lab, name: str = "edge-1") -> tuple[str, dict[str, str]]:
    c = await lab.catalogue()
    return await lab.device(c, await lab.device_type(c, "Box"), name, serial="SN 42/7"), c


async def test_links_render_with_the_object_in_netbox_order(api, org):
    lab = Lab(api, org.tenant_ids[0])
    device, _ = await a_device(lab)
    site = (await api.data("query($id: ID!) { device(id: $id) { site { id } } }", id=device))["device"]["site"]["id"]
    on_devices = {"object_types": ["dcim.device"]}
    await lab.make(
        "custom_link",
        name="NMS",
        link_text="{{ object.name | upper }} in NMS",
        link_url="https://nms.example.net/{{ object.site.slug }}/{{ object.name }}?serial={{ object.serial }}",
        weight=200,
        **on_devices,
    )
    await lab.make("custom_link", name="Wiki", link_text="Wiki", link_url="https://wiki.example.net/{{ object.id }}", weight=50, new_window=True, **on_devices)
    await lab.make(
        "custom_link",
        name="Graphs",
        link_text="{{ object.role.name }} graphs by {{ user.username }}",
        link_url="/graphs/{{ object.numid }}",
        group_name="Monitoring",
        button_class="GHOST_DARK",
        weight=10,
        **on_devices,
    )
    await lab.make("custom_link", name="Alerts", link_text="Alerts", link_url="https://alerts.example.net/", group_name="Monitoring", weight=5, **on_devices)
    # Hidden: its text renders empty (NetBox hides it), it is disabled, or it is for sites.
    await lab.make("custom_link", name="Only x", link_text="{% if object.name == 'x' %}X{% endif %}", link_url="https://x.example.net/", **on_devices)
    await lab.make("custom_link", name="Off", link_text="Off", link_url="https://off.example.net/", enabled=False, **on_devices)
    await lab.make(
        "custom_link", name="Site map", link_text="Map of {{ object.name }}", link_url="https://maps.example.net/{{ object.slug }}", object_types=["dcim.site"]
    )
    got = await rendered(api, "dcim.device", device)
    numid = (await api.data("query($id: ID!) { device(id: $id) { numid } }", id=device))["device"]["numid"]
    user = (await api.data("{ me { username } }"))["me"]["username"]
    common = {"group_name": "", "button_class": "default", "new_window": False, "error": None}
    assert got == [
        {**common, "name": "Wiki", "text": "Wiki", "url": f"https://wiki.example.net/{device}", "weight": 50, "new_window": True},
        {**common, "name": "NMS", "text": "EDGE-1 in NMS", "url": "https://nms.example.net/ams1/edge-1?serial=SN%2042/7", "weight": 200},
        {**common, "name": "Alerts", "text": "Alerts", "url": "https://alerts.example.net/", "group_name": "Monitoring", "weight": 5},
        {
            **common,
            "name": "Graphs",
            "text": f"Leaf graphs by {user}",
            "url": f"/graphs/{numid}",
            "group_name": "Monitoring",
            "button_class": "ghost-dark",
            "weight": 10,
        },
    ]
    assert await rendered(api, "dcim.site", site) == [
        {**common, "name": "Site map", "text": "Map of AMS1", "url": "https://maps.example.net/ams1", "weight": 100},
    ]


@pytest.mark.parametrize(
    ("url", "answered"),
    [
        ("javascript:alert({{ object.id | tojson }})", ""),
        ("JavaScript:alert(1)", ""),
        ("  javascript:alert(1)", ""),
        ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", ""),
        ("vbscript:msgbox(1)", ""),
        ("{{ 'java' }}script:alert(1)", ""),  # assembled by the template
        ("java\tscript:alert(1)", "java%09script:alert%281%29"),  # encoded: a relative path, no scheme
        ("java\nscript:alert(1)", "java%0Ascript:alert%281%29"),
        ("mailto:noc@example.net?subject={{ object.name }}", "mailto:noc@example.net?subject=edge-1"),
        ("ssh://{{ object.name }}.example.net", "ssh://edge-1.example.net"),
        ('https://x.example.net/"><script>', "https://x.example.net/%22%3E%3Cscript%3E"),
    ],
    ids=["javascript", "mixed-case", "leading-space", "data", "vbscript", "templated", "tab", "newline", "mailto", "ssh", "quotes"],
)
async def test_a_url_with_a_scheme_netbox_does_not_allow_is_answered_empty(api, org, url, answered):
    lab = Lab(api, org.tenant_ids[0])
    device, _ = await a_device(lab)
    await lab.make("custom_link", name="L", link_text="Open", link_url=url, object_types=["dcim.device"])
    [link] = await rendered(api, "dcim.device", device)
    assert (link["text"], link["url"], link["error"]) == ("Open", answered, None)


async def test_the_objects_own_values_cannot_smuggle_a_scheme_in(api, org):
    """A URL that is all one field of the object (a device's name can be anything)."""
    lab = Lab(api, org.tenant_ids[0])
    device, _ = await a_device(lab, name="javascript:alert(document.domain)")
    await lab.make("custom_link", name="L", link_text="{{ object.name }}", link_url="{{ object.name }}", object_types=["dcim.device"])
    [link] = await rendered(api, "dcim.device", device)
    assert (link["text"], link["url"]) == ("javascript:alert(document.domain)", "")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"link_text": "{{ object.name ", "link_url": "https://x/"}, "link_text"),
        ({"link_text": "ok", "link_url": "https://x/{% for %}"}, "link_url"),
        ({"link_text": "{% include 'other' %}", "link_url": "https://x/"}, "link_text"),
        ({"link_text": "ok", "link_url": "{% import 'macros' as m %}"}, "link_url"),
        ({"link_text": "ok", "link_url": "https://x/", "object_types": ["dcim.nothing"]}, "object_types.0"),
        ({"link_text": "ok", "link_url": "https://x/", "object_types": ["dcim.device", "tenancy.tag"]}, "object_types.1"),
        ({"link_text": "   ", "link_url": "https://x/"}, "link_text"),
    ],
    ids=["text-does-not-compile", "url-does-not-compile", "include", "import", "unknown-type", "not-a-tenant-type", "blank-text"],
)
async def test_a_link_that_does_not_compile_is_refused_and_nothing_written(api, org, fields, field):
    lab = Lab(api, org.tenant_ids[0])
    error = await lab.refuse("custom_link", name="bad", **{"object_types": ["dcim.device"], **fields})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    assert await api.count("custom_link") == 0
    assert await api.count("changelog") == 0


async def test_an_update_is_checked_like_a_create(api, org):
    lab = Lab(api, org.tenant_ids[0])
    link = await lab.make("custom_link", name="L", link_text="ok", link_url="https://x/", object_types=["dcim.device"])
    error = await lab.update_error("custom_link", link, link_url="{{ broken")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "link_url"), error
    got = await api.data("query($id: ID!) { custom_link(id: $id) { link_url } }", id=link)
    assert got["custom_link"]["link_url"] == "https://x/"


async def test_a_link_that_fails_to_render_says_why_and_the_others_still_render(api, org):
    lab = Lab(api, org.tenant_ids[0])
    device, _ = await a_device(lab)
    on_devices = {"object_types": ["dcim.device"]}
    await lab.make("custom_link", name="Escape", link_text="{{ object.name.__class__.__mro__ }}", link_url="https://x/", weight=1, **on_devices)
    await lab.make("custom_link", name="Divide", link_text="ok", link_url="https://x/{{ 1 // 0 }}", weight=2, **on_devices)
    await lab.make("custom_link", name="Fine", link_text="Fine", link_url="https://fine.example.net/", weight=3, **on_devices)
    escape, divide, fine = await rendered(api, "dcim.device", device)
    assert (escape["name"], escape["text"], escape["url"]) == ("Escape", "Escape", "")
    assert escape["error"].startswith("link_text: rendering failed") and "unsafe" in escape["error"], escape
    assert (divide["text"], divide["url"], divide["error"].startswith("link_url: rendering failed")) == ("Divide", "", True), divide
    assert (fine["text"], fine["url"], fine["error"]) == ("Fine", "https://fine.example.net/", None)


async def test_links_and_objects_are_read_under_the_callers_permissions(api, org):
    tenant_a, tenant_b = org.tenant_ids
    lab, other = Lab(api, tenant_a), Lab(api, tenant_b)
    device, _ = await a_device(lab)
    theirs, _ = await a_device(other, "their-edge")
    await lab.make("custom_link", name="Ours", link_text="{{ object.name }} at {{ object.site.name }}", link_url="https://a/", object_types=["dcim.device"])
    await other.make("custom_link", name="Theirs", link_text="Theirs", link_url="https://b/", object_types=["dcim.device"])
    # Each tenant's links render on its own objects only, even for an administrator of both.
    assert [link["name"] for link in await rendered(api, "dcim.device", device)] == ["Ours"]
    assert [link["name"] for link in await rendered(api, "dcim.device", theirs)] == ["Theirs"]
    # Another tenant's object is not found, exactly as one that does not exist.
    reader_b = api.as_key(await org.user_key(tenant_ids=[tenant_b], grants={"device": ["view"], "custom_link": ["view"]}))
    hidden = await reader_b.error(RENDER, type="dcim.device", id=device)
    nowhere = await reader_b.error(RENDER, type="dcim.device", id="6a1c3f3e-0000-4000-8000-000000000000")
    assert (hidden["extensions"], nowhere["extensions"]) == ({"code": "NOT_FOUND", "field": "object.id"},) * 2
    assert hidden["message"].replace(device, "ID") == nowhere["message"].replace("6a1c3f3e-0000-4000-8000-000000000000", "ID")
    # Without the view grant on the object's type, or on custom links: refused.
    no_links = api.as_key(await org.user_key(tenant_ids=[tenant_a], grants={"device": ["view"]}))
    assert (await no_links.error(RENDER, type="dcim.device", id=device))["extensions"]["code"] == "FORBIDDEN"
    no_devices = api.as_key(await org.user_key(tenant_ids=[tenant_a], grants={"custom_link": ["view"]}))
    assert (await no_devices.error(RENDER, type="dcim.device", id=device))["extensions"]["code"] == "FORBIDDEN"
    # A related object the caller may not see reads as nothing in the template.
    no_sites = api.as_key(await org.user_key(tenant_ids=[tenant_a], grants={"device": ["view"], "custom_link": ["view"]}))
    [link] = await rendered(no_sites, "dcim.device", device)
    assert link["text"] == "edge-1 at"  # (stripped, as NetBox strips it)


@pytest.mark.parametrize(
    ("kind", "object_id", "field"),
    [("dcim.nothing", "6a1c3f3e-0000-4000-8000-000000000000", "object.type"), ("tenancy.tag", None, "object.type"), ("dcim.device", "nope", "object.id")],
    ids=["unknown-type", "not-a-tenant-type", "bad-id"],
)
async def test_a_bad_object_reference_is_refused_naming_it(api, org, kind, object_id, field):
    tag = (await api.data('mutation { tag_create(input: {name: "t", slug: "t"}) { id } }'))["tag_create"]["id"]
    error = await api.error(RENDER, type=kind, id=object_id or tag)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error


async def test_a_template_never_sees_a_sealed_secret(api, org):
    """A pre-shared key is write-only: neither the object's nor a referenced object's."""
    from test_secrets import PSK, ipsec_chain

    lab = Lab(api, org.tenant_ids[0])
    made = await ipsec_chain(lab)
    own = "[{{ object.preshared_key }}] {{ object.name }}"
    await lab.make("custom_link", name="Own", link_text=own, link_url="https://x/", object_types=["vpn.ikepolicy"])
    referenced = "[{{ object.ike_policy.preshared_key }}] {{ object.name }} {{ object.ike_policy.name }}"
    await lab.make("custom_link", name="Referenced", link_text=referenced, link_url="https://x/", object_types=["vpn.ipsecprofile"])
    [on_policy] = await rendered(api, "vpn.ikepolicy", made["ike_policy"])
    [on_profile] = await rendered(api, "vpn.ipsecprofile", made["profile"])
    assert (on_policy["text"], on_profile["text"]) == ("[] ike-v2", "[] site-to-site ike-v2")
    assert PSK not in str([on_policy, on_profile])
