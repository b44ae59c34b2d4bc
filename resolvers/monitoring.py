"""Monitoring: what a check template's parameters must be (a write rule, registered in
resolvers/rules.py) and which checks the assignments make (``checks_for``).

A check is a (template, address, port) of a tenant. Each assignment yields candidates:

- a device: its management address (``management_address``, else its primary IPv4, else
  IPv6 address: resolvers.discovery.ADDRESS_OF), and so every device of a device role or
  a site;
- an IP address: its host;
- a service: each of its IP addresses (none given: its device's address) and each port;
- a prefix: every IP address inside it (same tenant and VRF, models/prefix_tree.py).

The port is the template's ``parameters.port``, else the service's, else the kind's usual
one (http 80 / https 443, ssh 22, dns 53); icmp and snmp have none (SNMP's is the
profile's). A TCP or UDP template with no port of its own yields checks only from
services. For one (template, address, port) the most specific candidate wins: an IP
address, then a service, a device, a device role, a site, then prefixes from the longest
down; the winner's ``enabled`` decides, so a disabled assignment switches the check off
under a broader enabled one. One statement answers for a tenant, or for some objects."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from models import prefix_tree
from models.monitoring import CheckComparison, CheckKind
from models.registry import ModelSpec
from resolvers.discovery import ADDRESS_OF
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook, value_after
from resolvers.writes import Write

# CheckComparison's names → checks.Comparison's operators.
COMPARISON_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "contains": "contains", "matches": "matches"}

# Kinds whose probe takes a port, and the port each uses when nothing gives one.
PORT_KINDS = {"tcp": None, "udp": None, "ssh": 22, "dns": 53, "http": 80}
HTTPS_PORT = 443

# Assignment kinds from the most specific (the order ``checks_for`` ranks them in).
PRECEDENCE = ("ip_address", "service", "device", "device_role", "site", "prefix")

_MOST_TEXT = 1000
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "OPTIONS")
_RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA")
_OID = re.compile(r"^\.?[0-2](\.(0|[1-9][0-9]{0,9})){1,127}$")
# Stand-ins for the target when a template's probe is built to validate it.
_SAMPLE_HOST, _SAMPLE_PORT = "192.0.2.1", 7


# --- parameters: what each kind takes ---------------------------------------------------


def _fail(name: str, message: str) -> BadUserInput:
    return BadUserInput(f"parameters.{name}: {message}", field=f"parameters.{name}")


def _integer(low: int, high: int) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(name, f"a whole number from {low} to {high}")
        return value

    return check


def _number(low: float, high: float) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise _fail(name, f"a number from {low} to {high}")
        return value

    return check


def _text(most: int = _MOST_TEXT, *, pattern: bool = False) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if not isinstance(value, str) or not value or len(value) > most:
            raise _fail(name, f"text of 1 to {most} characters")
        if pattern:
            try:
                re.compile(value)
            except re.error as error:
                raise _fail(name, f"not a regular expression ({error})") from None
        return value

    return check


def _one_of(*allowed: Any) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value not in allowed:
            raise _fail(name, f"one of {', '.join(map(str, allowed))}")
        return value

    return check


def _boolean(name: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise _fail(name, "true or false")
    return value


def _path(name: str, value: Any) -> Any:
    _text(2000)(name, value)
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise _fail(name, "a path starting with / and without spaces")
    return value


def _oid(name: str, value: Any) -> Any:
    if not isinstance(value, str) or not _OID.match(value):
        raise _fail(name, "a dotted OID (1.3.6.1.2.1.1.3.0)")
    return value


def _comparison(name: str, value: Any) -> Any:
    if not isinstance(value, dict) or set(value) != {"op", "operand"}:
        raise _fail(name, 'an object {"op": …, "operand": …}')
    if value["op"] not in COMPARISON_OPS:
        raise _fail(f"{name}.op", f"one of {', '.join(COMPARISON_OPS)}")
    operand = value["operand"]
    if isinstance(operand, bool) or not isinstance(operand, (int, float, str)) or (isinstance(operand, str) and len(operand) > _MOST_TEXT):
        raise _fail(f"{name}.operand", f"a number or text of at most {_MOST_TEXT} characters")
    return value


def _statuses(name: str, value: Any) -> Any:
    if not isinstance(value, list) or not 1 <= len(value) <= 20:
        raise _fail(name, "a list of 1 to 20 HTTP status codes")
    for status in value:
        _integer(100, 599)(name, status)
    return value


def _headers(name: str, value: Any) -> Any:
    if not isinstance(value, dict) or len(value) > 20:
        raise _fail(name, "an object of at most 20 header names and values")
    for key, text in value.items():
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}", key) or not isinstance(text, str) or len(text) > _MOST_TEXT or "\n" in text or "\r" in text:
            raise _fail(f"{name}.{key}", "a header name and a one-line text value")
    return value


def _answers(name: str, value: Any) -> Any:
    if not isinstance(value, list) or len(value) > 20:
        raise _fail(name, "a list of at most 20 answers")
    for answer in value:
        _text(255)(name, answer)
    return value


_PORT = _integer(1, 65535)

# kind → parameter → (required, check). Nothing else is accepted: a community or a key has
# no place here (the SNMP profile holds them, sealed).
PARAMETERS: dict[str, dict[str, tuple[bool, Callable[[str, Any], Any]]]] = {
    "icmp": {"count": (False, _integer(1, 10)), "interval": (False, _number(0.01, 1)), "payload_size": (False, _integer(0, 1472))},
    "tcp": {"port": (False, _PORT), "send": (False, _text()), "expect": (False, _text())},
    "udp": {"port": (False, _PORT), "payload": (True, _text()), "expect": (False, _text())},
    "http": {
        "scheme": (False, _one_of("http", "https")),
        "port": (False, _PORT),
        "path": (False, _path),
        "method": (False, _one_of(*_HTTP_METHODS)),
        "expect_status": (False, _statuses),
        "body_pattern": (False, _text(pattern=True)),
        "headers": (False, _headers),
        "verify_tls": (False, _boolean),
        "server_name": (False, _text(253)),
        "cert_warning_days": (False, _number(0, 3650)),
        "max_body_bytes": (False, _integer(1, 10 * 1024 * 1024)),
    },
    "snmp": {"oid": (True, _oid), "expect": (False, _comparison)},
    "ssh": {"port": (False, _PORT), "expect": (False, _text(pattern=True))},
    "dns": {"name": (True, _text(253)), "record_type": (False, _one_of(*_RECORD_TYPES)), "port": (False, _PORT), "expect": (False, _answers)},
}


def probe_dict(kind: str, parameters: dict[str, Any], host: str, port: int | None) -> dict[str, Any]:
    """The plain form of the checks/ probe a template's parameters make for one target
    (``checks.probe_from_dict`` builds it); SNMP's credentials are the worker's to add."""
    values = dict(parameters)
    values.pop("port", None)
    if kind == "http":
        scheme, path = values.pop("scheme", "http"), values.pop("path", "/")
        literal = f"[{host}]" if ":" in host else host
        values["url"] = f"{scheme}://{literal}:{port}{path}" if port else f"{scheme}://{literal}{path}"
        if "expect_status" in values:
            values["expect_status"] = tuple(values["expect_status"])
        return {"kind": kind, **values}
    if kind == "dns":
        return {"kind": kind, **values, "nameserver": host, "port": port or 53, "expect": tuple(values.get("expect", ()))}
    if kind == "snmp" and "expect" in values:
        values["expect"] = {"op": COMPARISON_OPS[values["expect"]["op"]], "operand": values["expect"]["operand"]}
    # icmp takes no port; snmp's is the profile's (the worker adds it with the credentials).
    return {"kind": kind, "host": host, **({"port": port} if port and kind in PORT_KINDS else {}), **values}


def validate_parameters(kind: str, parameters: Any) -> None:
    """Refuse parameters the kind's probe cannot take, naming ``parameters.<name>``."""
    if not isinstance(parameters, dict):
        raise BadUserInput("parameters: a JSON object", field="parameters")
    known = PARAMETERS[kind]
    for name in parameters:
        if name not in known:
            raise _fail(name, f"not a parameter of a {kind} check; it takes {', '.join(known) or 'none'}")
    for name, (required, check) in known.items():
        if name in parameters:
            check(name, parameters[name])
        elif required:
            raise _fail(name, f"a {kind} check needs it")
    # What the probe itself refuses (checks/ validates its dataclasses too).
    from checks import probe_from_dict

    try:
        probe_from_dict(probe_dict(kind, parameters, _SAMPLE_HOST, parameters.get("port") or PORT_KINDS.get(kind) or _SAMPLE_PORT))
    except (TypeError, ValueError) as error:
        raise BadUserInput(f"parameters: {error}", field="parameters") from None


# --- the write path's checks ----------------------------------------------------------------


def register_rules(book: RuleBook) -> None:
    book.check("CheckTemplate")(_template_is_usable)
    book.check("CheckAssignment")(_assignment_can_run)


async def _template_is_usable(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    kind = CheckKind(value_after(values, old, "kind"))
    validate_parameters(kind.value, value_after(values, old, "parameters", {}))
    if value_after(values, old, "timeout_seconds", 5) >= value_after(values, old, "interval_seconds", 60):
        raise BadUserInput("timeout_seconds: less than interval_seconds", field="timeout_seconds")
    # A value without an operator is kept but compares nothing (clearing the operator
    # switches the threshold off); an operator needs a value.
    op, operand = value_after(values, old, "degraded_value_op"), value_after(values, old, "degraded_value", "")
    if op is not None and operand == "":
        raise BadUserInput("degraded_value: degraded_value_op compares the value with it: give one", field="degraded_value")
    if op is not None:
        from checks import Comparison

        try:
            Comparison(COMPARISON_OPS[CheckComparison(op).value], operand)
        except ValueError as error:
            raise BadUserInput(f"degraded_value: {error}", field="degraded_value") from None
    if old is not None and kind in (CheckKind.tcp, CheckKind.udp) and "port" not in value_after(values, old, "parameters", {}):
        # As _assignment_can_run, for a template already assigned.
        elsewhere = "SELECT 1 FROM check_assignment WHERE template_id = :id AND assigned_object_service_id IS NULL LIMIT 1"
        if (await write.conn.execute(sa.text(elsewhere), {"id": old.id})).first() is not None:
            raise _fail("port", f"a {kind.value} template assigned to objects other than services needs a port")
    if value_after(values, old, "snmp_profile_id") is not None and kind is not CheckKind.snmp:
        raise BadUserInput("snmp_profile: only SNMP checks use an SNMP profile", field="snmp_profile")


async def _assignment_can_run(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """A TCP or UDP template without a port takes its port from a service: assigned
    elsewhere it would check nothing."""
    template_id = value_after(values, old, "template_id")
    service = value_after(values, old, "assigned_object_service_id")
    if template_id is None or service is not None:
        return
    row = (await write.conn.execute(sa.text("SELECT kind, parameters FROM check_template WHERE id = :id"), {"id": template_id})).first()
    if row is not None and row.kind in ("tcp", "udp") and "port" not in row.parameters:
        raise BadUserInput("template: a TCP or UDP template without parameters.port can only be assigned to a service", field="template")


# --- which checks the assignments make -----------------------------------------------------------


@dataclass(frozen=True)
class EffectiveCheck:
    """One check the scheduler runs: a template probing ``address`` (a host, no mask) and
    ``port``, the assignment that won, and the objects it was resolved for."""

    tenant_id: uuid.UUID
    template_id: uuid.UUID
    assignment_id: uuid.UUID
    kind: str
    address: str
    port: int | None
    device_id: uuid.UUID | None
    ip_address_id: uuid.UUID | None
    service_id: uuid.UUID | None

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID, str, int | None]:
        """The check's identity: check_state's unique key."""
        return (self.tenant_id, self.template_id, self.address, self.port)


_DEVICE_ADDRESS = ADDRESS_OF.replace("{s}", "d")
# The IP address a device's address is, when it is not its management address.
_DEVICE_IP = "CASE WHEN d.management_address IS NULL THEN coalesce(d.primary_ip4_id, d.primary_ip6_id) END"
_IP_DEVICE = "(SELECT i.device_id FROM interface i WHERE i.id = ip.assigned_object_interface_id)"
_IN_PREFIX = prefix_tree.ADDRESS_IN.replace("{t}", "ip").replace("{s}", "p")

_DEVICES_OF = (
    "SELECT a.id AS assignment_id, a.template_id, a.tenant_id, a.enabled, {rank} AS rank, 0 AS depth,"
    f" d.id AS device_id, {_DEVICE_IP} AS ip_address_id, NULL::uuid AS service_id, {_DEVICE_ADDRESS} AS address, NULL::int AS service_port"
    " FROM a JOIN device d ON {join}"
)

# Every candidate (assignment, address, port) of the assignments in ``a``.
_CANDIDATES = " UNION ALL ".join(
    (
        "SELECT a.id, a.template_id, a.tenant_id, a.enabled, 0, 0, " + _IP_DEVICE + ", ip.id, NULL::uuid, host(ip.address), NULL::int"
        " FROM a JOIN ip_address ip ON ip.id = a.assigned_object_ip_address_id",
        # A service's addresses, else its device's; each port.
        "SELECT a.id, a.template_id, a.tenant_id, a.enabled, 1, 0, s.parent_device_id, t.ip_id, s.id, t.address, port"
        " FROM a JOIN service s ON s.id = a.assigned_object_service_id"
        " CROSS JOIN LATERAL (SELECT ip.id AS ip_id, host(ip.address) AS address FROM service_ipaddresses si"
        " JOIN ip_address ip ON ip.id = si.ip_address_id WHERE si.service_id = s.id"
        " UNION ALL SELECT " + _DEVICE_IP + ", " + _DEVICE_ADDRESS + " FROM device d WHERE d.id = s.parent_device_id"
        " AND NOT EXISTS (SELECT 1 FROM service_ipaddresses si WHERE si.service_id = s.id)) t"
        " CROSS JOIN LATERAL unnest(s.ports) port",
        _DEVICES_OF.format(rank=2, join="d.id = a.assigned_object_device_id"),
        _DEVICES_OF.format(rank=3, join="d.tenant_id = a.tenant_id AND d.role_id = a.assigned_object_device_role_id"),
        _DEVICES_OF.format(rank=4, join="d.tenant_id = a.tenant_id AND d.site_id = a.assigned_object_site_id"),
        "SELECT a.id, a.template_id, a.tenant_id, a.enabled, 5, masklen(p.prefix), " + _IP_DEVICE + ", ip.id, NULL::uuid, host(ip.address), NULL::int"
        " FROM a JOIN prefix p ON p.id = a.assigned_object_prefix_id JOIN ip_address ip ON " + _IN_PREFIX,
    )
)

# The port a candidate checks (see the module's docstring); null: the kind takes none, or
# it cannot be run (TCP / UDP with no port).
_PORT_OF = (
    "CASE WHEN c.kind IN ('tcp', 'udp', 'ssh', 'dns', 'http') THEN coalesce((c.parameters->>'port')::int, c.service_port,"
    " CASE c.kind WHEN 'ssh' THEN 22 WHEN 'dns' THEN 53"
    f" WHEN 'http' THEN CASE WHEN c.parameters->>'scheme' = 'https' THEN {HTTPS_PORT} ELSE 80 END END) END"
)

CHECKS = f"""
WITH a AS (
    SELECT ca.* FROM check_assignment ca
    WHERE (CAST(:tenant_id AS uuid) IS NULL OR ca.tenant_id = CAST(:tenant_id AS uuid))
      AND (CAST(:template_ids AS uuid[]) IS NULL OR ca.template_id = ANY(CAST(:template_ids AS uuid[])))
),
c AS (
    SELECT x.*, t.kind, t.parameters FROM (
        {_CANDIDATES}
    ) x (assignment_id, template_id, tenant_id, enabled, rank, depth, device_id, ip_address_id, service_id, address, service_port)
    JOIN check_template t ON t.id = x.template_id
    WHERE x.address IS NOT NULL
),
ranked AS (
    SELECT DISTINCT ON (c.tenant_id, c.template_id, c.address::inet, p.port)
           c.*, p.port
    FROM c CROSS JOIN LATERAL (SELECT {_PORT_OF} AS port) p
    WHERE NOT (c.kind IN ('tcp', 'udp') AND p.port IS NULL)
    ORDER BY c.tenant_id, c.template_id, c.address::inet, p.port, c.rank, c.depth DESC, c.enabled, c.assignment_id
)
SELECT tenant_id, template_id, assignment_id, kind, address, port, device_id, ip_address_id, service_id
FROM ranked
WHERE enabled
  AND (CAST(:device_ids AS uuid[]) IS NULL OR device_id = ANY(CAST(:device_ids AS uuid[])))
  AND (CAST(:ip_address_ids AS uuid[]) IS NULL OR ip_address_id = ANY(CAST(:ip_address_ids AS uuid[])))
  AND (CAST(:service_ids AS uuid[]) IS NULL OR service_id = ANY(CAST(:service_ids AS uuid[])))
ORDER BY tenant_id, template_id, address::inet, port
"""


def _ids(values: Iterable[uuid.UUID] | None) -> list[uuid.UUID] | None:
    return None if values is None else list(values)


async def checks_for(
    conn: AsyncConnection,
    *,
    tenant_id: uuid.UUID | None = None,
    template_ids: Iterable[uuid.UUID] | None = None,
    device_ids: Iterable[uuid.UUID] | None = None,
    ip_address_ids: Iterable[uuid.UUID] | None = None,
    service_ids: Iterable[uuid.UUID] | None = None,
) -> list[EffectiveCheck]:
    """The checks the scheduler runs, in one statement: every tenant's the connection may
    see (row-level security decides under a request), or one tenant's, or those of some
    templates; ``device_ids`` / ``ip_address_ids`` / ``service_ids`` keep the checks
    resolved for those objects (the winner is still chosen among all assignments)."""
    params = {
        "tenant_id": tenant_id,
        "template_ids": _ids(template_ids),
        "device_ids": _ids(device_ids),
        "ip_address_ids": _ids(ip_address_ids),
        "service_ids": _ids(service_ids),
    }
    rows = await conn.execute(sa.text(CHECKS), params)
    return [
        EffectiveCheck(
            tenant_id=row.tenant_id,
            template_id=row.template_id,
            assignment_id=row.assignment_id,
            kind=row.kind,
            address=str(ipaddress.ip_address(row.address)),
            port=row.port,
            device_id=row.device_id,
            ip_address_id=row.ip_address_id,
            service_id=row.service_id,
        )
        for row in rows
    ]


async def purge_results(conn: AsyncConnection, days: int | None = None) -> int:
    """Delete check results older than ``days`` (default ``DANBYTE_CHECK_RETENTION_DAYS``,
    at least one); how many went. For the scheduler, after writing a round of results."""
    from danbyte.settings import get_settings

    keep = max(1, get_settings().check_retention_days if days is None else days)
    deleted = await conn.execute(sa.text("DELETE FROM check_result WHERE at < now() - make_interval(days => :days)"), {"days": keep})
    return deleted.rowcount or 0


def snmp_fields(credentials: Any, profile: Any = None) -> dict[str, Any]:
    """The SNMP probe's fields for ``snmp.Credentials`` (v1, v2c or a v3 USM user, as
    ``resolvers.discovery.credentials_of`` unseals them from a profile) and the profile's
    port and retries. For the worker's memory only: never stored, never logged."""
    import snmp

    fields: dict[str, Any] = {}
    if profile is not None:
        fields.update(port=int(profile.port), retries=int(profile.retries))
    if isinstance(credentials, snmp.SnmpV3):
        fields.update(
            version="3",
            username=credentials.username,
            auth_protocol=credentials.auth_protocol.value if credentials.auth_protocol else None,
            auth_key=credentials.auth_key,
            priv_protocol=credentials.priv_protocol.value if credentials.priv_protocol else None,
            priv_key=credentials.priv_key,
            context=credentials.context,
        )
    elif isinstance(credentials, snmp.SnmpV1):
        fields.update(version="1", community=credentials.community)
    else:
        fields.update(version="2c", community=credentials.community)
    return fields


def check_id(check: EffectiveCheck) -> str:
    """A check's id in checks/ (its key as text)."""
    return f"{check.template_id}/{check.address}/{check.port or ''}"


def check_of(template: Any, check: EffectiveCheck, *, community: str | None = None, credentials: Any = None, profile: Any = None) -> Any:
    """The ``checks.Check`` that runs one effective check, from its template's row: the
    probe for its address and port, the timing and the state policy (rise, fall, degraded
    thresholds). Its id is the check's key as text. SNMP needs credentials: ``credentials``
    (``snmp.Credentials``, v1 / v2c / v3, with the ``profile`` row's port and retries: the
    scheduler takes them from the template's profile, else the device's binding) or a bare
    v2c ``community``."""
    from checks import Check, Comparison, StatePolicy, probe_from_dict

    plain = probe_dict(template.kind, template.parameters, check.address, check.port)
    if template.kind == "snmp":
        if credentials is not None:
            plain.update(snmp_fields(credentials, profile))
        elif community is not None:
            plain["community"] = community
    degraded_when = None
    if template.degraded_value_op is not None:
        degraded_when = Comparison(COMPARISON_OPS[CheckComparison(template.degraded_value_op).value], template.degraded_value)
    policy = StatePolicy(
        rise=template.rise,
        fall=template.fall,
        max_latency=template.degraded_latency_ms / 1000 if template.degraded_latency_ms else None,
        degraded_when=degraded_when,
    )
    return Check(
        id=check_id(check),
        probe=probe_from_dict(plain),
        timeout=float(template.timeout_seconds),
        interval=float(template.interval_seconds),
        policy=policy,
    )
