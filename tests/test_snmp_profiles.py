"""SNMP profiles: credentials sealed at rest and write-only, checked against their version;
bound to devices, roles and device types with a tenant default, the most specific binding
winning; a device's management address; what a worker builds from a profile."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from dcim_lab import Lab
from factories import change_settings

import snmp
from models.discovery import SnmpAuthProtocol, SnmpPrivProtocol
from resolvers.discovery import BindingSource, credentials_of, management_address_for, profile_for, target_of
from resolvers.secrets import unseal

COMMUNITY = "s3cret-community-☃"
AUTH_KEY = "auth-passphrase-1"
PRIV_KEY = "priv-passphrase-2"

EFFECTIVE = """query($id: ID!) { device(id: $id) {
  effective_snmp_profile { name } effective_snmp_profile_source effective_management_address } }"""
LISTED = "{ device_list { name effective_snmp_profile { name version port } effective_snmp_profile_source effective_management_address } }"


async def effective(api: Any, device: str) -> tuple[str | None, str | None, str | None]:
    got = (await api.data(EFFECTIVE, id=device))["device"]
    profile = got["effective_snmp_profile"]
    return (profile["name"] if profile else None), got["effective_snmp_profile_source"], got["effective_management_address"]


async def profile(lab: Lab, name: str, **fields: Any) -> str:
    fields.setdefault("community", f"community-{name}")
    return await lab.make("snmp_profile", name=name, **fields)


async def test_the_most_specific_binding_wins(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    device = await lab.device(c, kind, "leaf1")
    assert await effective(api, device) == (None, None, None)

    # Each level in turn, from the least specific: each wins over those before it.
    await profile(lab, "fallback", is_default=True)
    assert (await effective(api, device))[:2] == ("fallback", "TENANT")
    await lab.update("device_type", kind, snmp_profile=await profile(lab, "by-type"))
    assert (await effective(api, device))[:2] == ("by-type", "DEVICE_TYPE")
    await lab.update("device_role", c["role"], snmp_profile=await profile(lab, "by-role"))
    assert (await effective(api, device))[:2] == ("by-role", "ROLE")
    own = await profile(lab, "own", version="V1")
    await lab.update("device", device, snmp_profile=own)
    assert (await effective(api, device))[:2] == ("own", "DEVICE")
    # Unbinding falls back a level; the generated field is the device's own binding.
    await lab.update("device", device, snmp_profile=None)
    got = await api.data("query($id: ID!) { device(id: $id) { snmp_profile { name } effective_snmp_profile { name } } }", id=device)
    assert got["device"] == {"snmp_profile": None, "effective_snmp_profile": {"name": "by-role"}}
    await lab.update("device", device, snmp_profile=own)

    # A profile lists what it is bound to.
    bound = await api.data("query($id: ID!) { snmp_profile(id: $id) { devices { name } device_roles { name } device_types { model } } }", id=own)
    assert bound["snmp_profile"] == {"devices": [{"name": "leaf1"}], "device_roles": [], "device_types": []}

    # The worker's resolution (one statement for any number of devices) agrees.
    other = await lab.device(c, kind, "leaf2")
    async with db.system_transaction() as conn:
        found = await profile_for(conn, [uuid.UUID(device), uuid.UUID(other), uuid.uuid4()])
    assert {str(k): (b.profile.name, b.source) for k, b in found.items()} == {
        device: ("own", BindingSource.DEVICE),
        other: ("by-role", BindingSource.ROLE),
    }
    # A list with the fields is still answered by compiled SQL (the shadow mode of the test
    # suite checks it against the resolvers).
    assert (await api.paths(LISTED))["device_list"] == "sql"
    listed = (await api.data(LISTED))["device_list"]
    assert [(d["name"], d["effective_snmp_profile"]["name"], d["effective_snmp_profile_source"]) for d in listed] == [
        ("leaf1", "own", "DEVICE"),
        ("leaf2", "by-role", "ROLE"),
    ]


async def test_bindings_stay_inside_the_tenant(api, org):
    a, b = (Lab(api, tenant) for tenant in org.tenant_ids)
    c = await a.catalogue()
    kind = await a.device_type(c, "Box")
    device = await a.device(c, kind, "leaf1")
    # Another tenant's default is not this tenant's.
    foreign = await profile(b, "theirs", is_default=True)
    assert await effective(api, device) == (None, None, None)
    # Its profile cannot be bound here, at any level, by create or update.
    for name, object_id in (("device", device), ("device_role", c["role"]), ("device_type", kind)):
        error = await a.update_error(name, object_id, snmp_profile=foreign)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "snmp_profile"), error
    error = await a.refuse("device_role", name="Spine", slug="spine", snmp_profile=foreign)
    assert error["extensions"]["field"] == "snmp_profile"
    # A user of this tenant only does not even see it.
    key = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view", "change"], "snmp_profile": ["view"]})
    error = await Lab(api.as_key(key), org.tenant_ids[0]).update_error("device", device, snmp_profile=foreign)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "snmp_profile"), error
    assert await effective(api, device) == (None, None, None)


async def test_a_reader_who_may_not_view_profiles_sees_none(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "leaf1", management_address="192.0.2.9")
    await lab.update("device", device, snmp_profile=await profile(lab, "own"))
    await profile(lab, "fallback", is_default=True)
    key = await org.user_key(tenant_ids=[org.tenant_ids[0]], grants={"device": ["view"]})
    # The binding and where it comes from are hidden alike; the address is the device's own.
    assert await effective(api.as_key(key), device) == (None, None, "192.0.2.9")
    assert await effective(api, device) == ("own", "DEVICE", "192.0.2.9")


async def test_the_management_address(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    await lab.make("interface_template", device_type=kind, name="eth0", type="TYPE_1000BASE_T")
    device = await lab.device(c, kind, "leaf1")
    (interface,) = (await api.data("query($id: ID!) { device(id: $id) { interfaces { id } } }", id=device))["device"]["interfaces"]
    on_it = {"type": "dcim.interface", "id": interface["id"]}
    v6 = await lab.make("ip_address", address="2001:db8::7/64", assigned_object=on_it)
    v4 = await lab.make("ip_address", address="10.0.0.7/24", assigned_object=on_it)
    assert (await effective(api, device))[2] is None
    await lab.update("device", device, primary_ip6=v6)
    assert (await effective(api, device))[2] == "2001:db8::7"
    await lab.update("device", device, primary_ip4=v4)
    assert (await effective(api, device))[2] == "10.0.0.7"
    # The override wins; given with a mask (as IP addresses are written) it keeps the host.
    await lab.update("device", device, management_address="198.51.100.1/24")
    got = await api.data("query($id: ID!) { device(id: $id) { management_address effective_management_address } }", id=device)
    assert got["device"] == {"management_address": "198.51.100.1", "effective_management_address": "198.51.100.1"}
    async with db.system_transaction() as conn:
        assert await management_address_for(conn, [uuid.UUID(device)]) == {uuid.UUID(device): "198.51.100.1"}
    # Filters take it as an address.
    found = await api.data('{ device_list(filters: {management_address: {net_contained_or_equal: "198.51.100.0/24"}}) { name } }')
    assert found["device_list"] == [{"name": "leaf1"}]
    for bad in ("0.0.0.0", "224.0.0.5", "not-an-address"):
        error = await lab.update_error("device", device, management_address=bad)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "management_address"), (bad, error)


async def test_secrets_are_sealed_write_only_and_never_logged(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    v2c = await profile(lab, "v2c", community=COMMUNITY)
    v3 = await lab.make(
        "snmp_profile", name="v3", version="V3", username="monitor", auth_protocol="SHA_256", auth_key=AUTH_KEY, priv_protocol="AES_256", priv_key=PRIV_KEY
    )
    clear = (COMMUNITY, AUTH_KEY, PRIV_KEY)
    # No field answers a secret, and no filter finds by one.
    for name in ("community", "auth_key", "priv_key"):
        error = await api.error(f"query($id: ID!) {{ snmp_profile(id: $id) {{ {name} }} }}", id=v3)
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and name in error["message"]
        error = await api.error(f'{{ snmp_profile_list(filters: {{{name}: {{exact: "x"}}}}) {{ name }} }}')
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    # Every other field, all at once, and through the devices' effective profile.
    fields = " ".join(await scalar_fields(api, "SnmpProfileType"))
    assert {"version", "username", "port", "is_default"} <= set(fields.split())
    answered = json.dumps(await api.data(f"{{ snmp_profile_list {{ {fields} }} }}"))
    assert not any(secret in answered for secret in clear)
    assert {"version": "v3", "auth_protocol": "SHA-256", "priv_protocol": "AES-256"}.items() <= json.loads(answered)["snmp_profile_list"][1].items()

    # An update that leaves a secret out keeps it; one that gives it replaces it.
    await lab.update("snmp_profile", v3, description="read-only poller")
    await lab.update("snmp_profile", v2c, community="rotated-community")
    async with db.system_transaction() as conn:
        rows = {r.name: r for r in await conn.execute(sa.text("SELECT * FROM snmp_profile WHERE tenant_id = :t"), {"t": org.tenant_ids[0]})}
        logged = (await conn.execute(sa.text("SELECT * FROM object_change WHERE object_id = ANY(:ids)"), {"ids": [uuid.UUID(v2c), uuid.UUID(v3)]})).all()
    stored = json.dumps([[str(value) for value in row] for row in rows.values()], ensure_ascii=False)
    assert not any(secret in stored for secret in (*clear, "rotated-community"))
    assert (unseal(rows["v3"].auth_key), unseal(rows["v3"].priv_key), unseal(rows["v2c"].community)) == (AUTH_KEY, PRIV_KEY, "rotated-community")
    # The change log (4 entries) holds neither the secrets nor their columns.
    text = json.dumps([[str(value) for value in entry] for entry in logged], ensure_ascii=False)
    assert len(logged) == 4 and "rotated-community" not in text and not any(secret in text for secret in clear)
    assert not any(column in text for column in ('"community"', '"auth_key"', '"priv_key"'))

    # Nor does an export template, even one that asks for them.
    template = await lab.make(
        "export_template",
        name="profiles",
        object_types=["discovery.snmpprofile"],
        template_code="{% for p in queryset %}{{ p.name }}:{{ p.community }}{{ p.auth_key }}{{ p.priv_key }}|{{ p }}\n{% endfor %}",
    )
    response = await api.client.get(f"/export/{template}", headers={"Authorization": f"Bearer {api.key}"})
    assert response.status_code == 200, response.text
    assert response.text.startswith("v2c:|") and "v3:|" in response.text
    assert not any(secret in response.text for secret in (*clear, "rotated-community")) and "gAAAA" not in response.text


async def scalar_fields(api: Any, name: str) -> list[str]:
    """The fields of GraphQL type ``name`` that answer a scalar or an enum."""
    got = await api.data("query($n: String!) { __type(name: $n) { fields { name type { kind ofType { kind ofType { kind } } } } } }", n=name)

    def named(kind: dict[str, Any]) -> str:
        return named(kind["ofType"]) if kind.get("ofType") else kind["kind"]

    return [f["name"] for f in got["__type"]["fields"] if named(f["type"]) in ("SCALAR", "ENUM")]


V3 = {"version": "V3", "username": "monitor"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "community"),  # v2c by default
        ({"version": "V1", "community": ""}, "community"),
        ({"community": "c" * 256}, "community"),
        ({"version": "V3"}, "username"),
        ({"version": "V3", "username": "  "}, "username"),
        ({**V3, "priv_protocol": "AES", "priv_key": PRIV_KEY}, "priv_protocol"),
        ({**V3, "auth_protocol": "SHA"}, "auth_key"),
        ({**V3, "auth_key": AUTH_KEY}, "auth_protocol"),
        ({**V3, "auth_protocol": "SHA", "auth_key": AUTH_KEY, "priv_protocol": "AES"}, "priv_key"),
        ({**V3, "auth_protocol": "SHA", "auth_key": AUTH_KEY, "priv_key": PRIV_KEY}, "priv_protocol"),
        ({**V3, "auth_protocol": "SHA", "auth_key": "short"}, "auth_key"),
        ({**V3, "auth_protocol": "SHA", "auth_key": AUTH_KEY, "priv_protocol": "AES", "priv_key": "1234567"}, "priv_key"),
        ({"community": "c", "port": 0}, "port"),
        ({"community": "c", "port": 65536}, "port"),
        ({"community": "c", "timeout": "0"}, "timeout"),
        ({"community": "c", "timeout": "0.001"}, "timeout"),
        ({"community": "c", "timeout": "60.5"}, "timeout"),
        ({"community": "c", "timeout": "NaN"}, "timeout"),
        ({"community": "c", "retries": 11}, "retries"),
        ({"community": "c", "max_repetitions": 0}, "max_repetitions"),
        ({"community": "c", "username": "u" * 33}, "username"),
    ],
)
async def test_each_bad_profile_is_refused_naming_its_field(api, org, fields, field):
    lab = Lab(api, org.tenant_ids[0])
    error = await lab.refuse("snmp_profile", name="bad", **fields)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
    assert field in error["message"]
    assert await api.count("snmp_profile") == 0 and await api.count("changelog") == 0


async def test_updates_are_checked_against_what_is_stored(api, org):
    lab = Lab(api, org.tenant_ids[0])
    v2c = await profile(lab, "v2c")
    v3 = await lab.make("snmp_profile", name="v3", **V3, auth_protocol="MD5", auth_key=AUTH_KEY)
    # Changing the version needs what the new version needs.
    error = await lab.update_error("snmp_profile", v2c, version="V3")
    assert error["extensions"]["field"] == "username"
    error = await lab.update_error("snmp_profile", v3, version="V2C")
    assert error["extensions"]["field"] == "community"
    # The stored key counts (it is not sent again); clearing it needs its protocol cleared.
    await lab.update("snmp_profile", v3, priv_protocol="DES", priv_key=PRIV_KEY)
    error = await lab.update_error("snmp_profile", v3, auth_key=None)
    assert error["extensions"]["field"] == "auth_key"
    error = await lab.update_error("snmp_profile", v3, auth_protocol=None, auth_key=None)
    assert error["extensions"]["field"] == "priv_protocol"
    await lab.update("snmp_profile", v3, auth_protocol=None, auth_key=None, priv_protocol=None, priv_key=None)  # noAuthNoPriv
    await lab.update("snmp_profile", v2c, version="V3", username="poller")
    # One default per tenant; another tenant has its own.
    await lab.update("snmp_profile", v2c, is_default=True)
    error = await lab.update_error("snmp_profile", v3, is_default=True)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CONFLICT", "is_default"), error
    await profile(Lab(api, org.tenant_ids[1]), "theirs", is_default=True)


async def test_a_profile_in_use_is_not_deleted(api, org):
    """RESTRICT: deleting a bound profile would silently move its devices to another one
    (their role's, their type's, the default): unbind them first."""
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    used = await profile(lab, "used")
    await lab.update("device_role", c["role"], snmp_profile=used)
    error = await api.error("mutation($id: ID!) { snmp_profile_delete(id: $id) { id } }", id=used)
    assert error["extensions"]["code"] == "CONFLICT", error
    await lab.update("device_role", c["role"], snmp_profile=None)
    await api.data("mutation($id: ID!) { snmp_profile_delete(id: $id) { id } }", id=used)
    assert await api.count("snmp_profile") == 0


async def test_sys_object_ids_are_dotted_oids(api, org):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    arista = "1.3.6.1.4.1.30065.1.3011.7050.1958.128"
    kind = await lab.device_type(c, "DCS-7050", sys_object_ids=[f".{arista}", arista, " 1.3.6.1.4.1.9.1.1 "])
    got = await api.data("query($id: ID!) { device_type(id: $id) { sys_object_ids } }", id=kind)
    assert got["device_type"]["sys_object_ids"] == [arista, "1.3.6.1.4.1.9.1.1"]
    for bad in ("1.3.six", "1", "3.6.1", "1..3", "1.3.4294967296", "1.3.01", "x" * 10_000):
        error = await lab.update_error("device_type", kind, sys_object_ids=[arista, bad])
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "sys_object_ids.1"), (bad, error)
        assert len(error["message"]) < 200
    error = await lab.update_error("device_type", kind, sys_object_ids=["1.3.6.1"] * 10_001)
    assert error["extensions"]["field"] == "sys_object_ids"
    await lab.update("device_type", kind, sys_object_ids=[])
    assert (await api.data("query($id: ID!) { device_type(id: $id) { sys_object_ids } }", id=kind))["device_type"]["sys_object_ids"] == []


async def test_credentials_of_builds_what_snmp_takes(api, org, db):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    made = {
        "v1": await profile(lab, "v1", version="V1", community=COMMUNITY, port=1161, timeout="0.5", retries=0, max_repetitions=50),
        "v2c": await profile(lab, "v2c", community=COMMUNITY),
        "v3": await lab.make(
            "snmp_profile", name="v3", **V3, auth_protocol="SHA_512", auth_key=AUTH_KEY, priv_protocol="AES_192", priv_key=PRIV_KEY, context="vrf-mgmt"
        ),
        "v3-plain": await lab.make("snmp_profile", name="v3-plain", **V3),
    }
    devices = {name: await lab.device(c, kind, name, snmp_profile=made[name], management_address="127.0.0.1") for name in made}
    async with db.system_transaction() as conn:
        bindings = await profile_for(conn, [uuid.UUID(d) for d in devices.values()])
        addresses = await management_address_for(conn, [uuid.UUID(d) for d in devices.values()])
    rows = {name: bindings[uuid.UUID(device)].profile for name, device in devices.items()}
    assert credentials_of(rows["v1"]) == snmp.SnmpV1(COMMUNITY)
    assert credentials_of(rows["v2c"]) == snmp.SnmpV2c(COMMUNITY)
    assert credentials_of(rows["v3"]) == snmp.SnmpV3("monitor", snmp.AuthProtocol.SHA512, AUTH_KEY, snmp.PrivProtocol.AES192, PRIV_KEY, context="vrf-mgmt")
    assert credentials_of(rows["v3"]).security_level == "authPriv"
    assert credentials_of(rows["v3-plain"]) == snmp.SnmpV3("monitor") and credentials_of(rows["v3-plain"]).security_level == "noAuthNoPriv"
    # The secrets stay out of what gets printed.
    assert not any(secret in repr(credentials_of(row)) for row in rows.values() for secret in (COMMUNITY, AUTH_KEY, PRIV_KEY))
    target = target_of(rows["v1"], addresses[uuid.UUID(devices["v1"])])
    assert target == snmp.Target("127.0.0.1", port=1161, timeout=0.5, retries=0, max_repetitions=50)
    assert target_of(rows["v2c"], "192.0.2.1") == snmp.Target("192.0.2.1")  # the defaults are snmp's


def test_the_protocol_choices_are_snmps():
    assert [p.value for p in SnmpAuthProtocol] == [p.value for p in snmp.AuthProtocol]
    assert [p.value for p in SnmpPrivProtocol] == [p.value for p in snmp.PrivProtocol]


@pytest.mark.parametrize("compiled", [True, False], ids=["sql", "resolvers"])
async def test_statements_do_not_grow_with_the_devices(api, org, app, monkeypatch, compiled):
    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    kind = await lab.device_type(c, "Box")
    await profile(lab, "fallback", is_default=True)
    by_role = await profile(lab, "by-role")
    mine = await profile(lab, "mine")
    await lab.device(c, kind, "d00", snmp_profile=mine, management_address="192.0.2.1")
    await api.data("{ tenant_list { id } }")  # warm the token cache
    change_settings(app, monkeypatch, compile_reads=compiled)
    query = "{ device_list { name effective_snmp_profile { name tags { name } } effective_snmp_profile_source effective_management_address } }"
    one = await api.sql_statements(query)
    await lab.update("device_role", c["role"], snmp_profile=by_role)
    for n in range(1, 20):
        await lab.device(c, kind, f"d{n:02d}", management_address=f"192.0.2.{n + 1}")
    twenty = await api.sql_statements(query)
    listed = (await api.data(query))["device_list"]
    assert len(listed) == 20 and listed[0]["effective_snmp_profile_source"] == "DEVICE"
    assert {d["effective_snmp_profile"]["name"] for d in listed[1:]} == {"by-role"}
    assert one == twenty
    # Compiled: the transaction set-up and one statement. Resolvers: the set-up and the
    # list, then one for the profiles with their source, one for the addresses, one for tags.
    assert twenty == (2 if compiled else 2 + 3)
