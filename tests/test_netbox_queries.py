"""NetBox 4.6 GraphQL queries over NetBox's own demo export, each answer checked against
the export's content.

Every case is a query as a NetBox user writes it: NetBox's root fields, filter shapes
(``filters: {site: {slug: {exact: "x"}}}``, ``tags: {slug: …}``, ``AND``/``OR``/``NOT``),
lookups, pagination, fragments on union members and field names. Its expected answer is
computed here from the export's records (``demo_records()``) in NetBox's order, never
typed in. Where Danbyte answers otherwise by design the case says so and
docs/netbox-queries.md says why; where the difference is a gap, the case keeps asserting
NetBox's answer and is marked ``xfail(strict=True)`` with the reason.

Three differences run through the corpus (docs/netbox-queries.md):

- ids: Danbyte's ``id`` is a UUID; NetBox's numeric id is the object's ``numid``, so the
  cases select names, slugs and other natural keys rather than ids.
- tenants: an object NetBox left without a tenant belongs to one here (the import's
  placement), and catalog objects (roles, platforms, device types, regions…) exist once
  per tenant that uses them: root lists of those are compared by their distinct rows.
- ties: NetBox breaks ties in its ordering (two devices named "PP:MDF", unnamed devices)
  by its numeric primary key, Danbyte by the numid, which an import makes NetBox's id:
  the same order (models/ordering.py orders through references as Django does).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from netbox_demo import demo_records

# --- the export -----------------------------------------------------------------------


@cache
def rows(label: str) -> tuple[dict[str, Any], ...]:
    """The export's records of ``label`` as flat dicts (``pk`` and the fields)."""
    return tuple({"pk": record.get("pk"), **record["fields"]} for record in demo_records().get(label, []))


@cache
def by_pk(label: str) -> dict[int, dict[str, Any]]:
    return {row["pk"]: row for row in rows(label)}


def one(label: str, pk: int | None) -> dict[str, Any] | None:
    return None if pk is None else by_pk(label)[pk]


@cache
def content_types() -> dict[int, str]:
    """NetBox's content type ids: the export lists ``contenttypes.contenttype`` by natural
    key in primary-key order, so an id is a position (checked by test_content_type_ids)."""
    return {index: f"{row['app_label']}.{row['model']}" for index, row in enumerate(rows("contenttypes.contenttype"), start=1)}


def natural(name: str | None) -> tuple[Any, ...]:
    """NetBox 4.6 orders names under ICU's numeric collation (``und-u-kn-true``): spaces and
    punctuation before digits, runs of digits compared as numbers, then letters regardless
    of case; NULL names last."""
    if name is None:
        return (1,)
    tokens = []
    for token in re.findall(r"\d+|.", name.casefold(), re.S):
        if token.isdigit():
            tokens.append((1, int(token)))
        else:
            tokens.append((2 if token.isalpha() else 0, token))
    return (0, tuple(tokens))


def slug_of(label: str, pk: int | None) -> dict[str, str] | None:
    found = one(label, pk)
    return None if found is None else {"slug": found["slug"]}


def name_of(label: str, pk: int | None) -> dict[str, str] | None:
    found = one(label, pk)
    return None if found is None else {"name": found["name"]}


def tags_of(model: str, pk: int) -> list[dict[str, str]]:
    """An object's tags as NetBox lists them: by weight, then name (the 4.2 export has no
    weight: every tag has the default)."""
    app_label, model_name = model.split(".")
    names = sorted(row["tag"][0] for row in rows("extras.taggeditem") if row["content_type"] == [app_label, model_name] and row["object_id"] == pk)
    slugs = {row["name"]: row["slug"] for row in rows("extras.tag")}
    return [{"slug": slugs[name]} for name in names]


# NetBox's orderings (Meta.ordering), as sort keys of export rows.
def device_order(device: dict[str, Any]) -> tuple[Any, ...]:
    return (natural(device["name"]), device["pk"])


def devices(where: Callable[[dict[str, Any]], bool] = lambda d: True) -> list[dict[str, Any]]:
    return sorted((d for d in rows("dcim.device") if where(d)), key=device_order)


def site_slug(device: dict[str, Any]) -> str:
    return by_pk("dcim.site")[device["site"]]["slug"]


def role_slug(device: dict[str, Any]) -> str:
    return by_pk("dcim.devicerole")[device["role"]]["slug"]


def most_common(values: Iterable[Any]) -> Any:
    return Counter(values).most_common(1)[0][0]


class AnyTenant:
    """Where NetBox has no tenant, Danbyte has one (the import's placement): any tenant."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and set(other) == {"slug"} and isinstance(other["slug"], str)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<a placement tenant>"


def tenant_of(pk: int | None) -> dict[str, str] | AnyTenant:
    return slug_of("tenancy.tenant", pk) if pk is not None else AnyTenant()  # type: ignore[return-value]


# --- comparing answers ---------------------------------------------------------------


def _wildcards(value: Any) -> bool:
    if isinstance(value, AnyTenant):
        return True
    if isinstance(value, dict):
        return any(_wildcards(v) for v in value.values())
    if isinstance(value, list):
        return any(_wildcards(v) for v in value)
    return False


def assert_same_rows(got: list[Any], expected: list[Any], where: str) -> None:
    """The same rows, in any order (rows with a wildcard matched last)."""
    remaining = list(got)
    for row in sorted(expected, key=_wildcards):
        for index, candidate in enumerate(remaining):
            if candidate == row:
                del remaining[index]
                break
        else:
            pytest.fail(f"{where}: NetBox's row {row!r} is missing; answered {len(got)} rows, NetBox {len(expected)}")
    assert not remaining, f"{where}: rows NetBox does not have: {remaining!r}"


def distinct(rows_: list[Any]) -> list[Any]:
    """Rows without repeats, first seen first (a catalog object copied into several tenants)."""
    seen: list[Any] = []
    for row in rows_:
        if row not in seen:
            seen.append(row)
    return seen


@dataclass(frozen=True)
class Case:
    """A NetBox query and its answer computed from the export."""

    name: str
    query: str
    expected: Callable[[], dict[str, Any]]
    # Root lists compared without their order (the expected answer is not computed in
    # NetBox's order).
    unordered: frozenset[str] = frozenset()
    # Root lists of catalog objects (one copy per tenant using it): compared by their
    # distinct rows, first seen first.
    catalog: frozenset[str] = frozenset()
    xfail: str | None = None


def check(case: Case, answer: dict[str, Any]) -> None:
    """The answer is NetBox's, in NetBox's order unless the case says otherwise."""
    expected = case.expected()
    assert set(answer) == set(expected)
    for root, wanted in expected.items():
        got = answer[root]
        if root in case.catalog:
            got = distinct(got)
        if root in case.unordered:
            assert_same_rows(got, wanted, root)
        else:
            assert got == wanted, root


# --- the corpus ----------------------------------------------------------------------

CASES: list[Case] = []


def case(name: str, query: str, **options: Any) -> Callable[[Callable[[], dict[str, Any]]], Callable[[], dict[str, Any]]]:
    """Register a case whose expected answer the decorated function computes."""

    def register(expected: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        CASES.append(Case(name, query, expected, **options))
        return expected

    return register


# Parameters picked from the export, not typed in.
BUSIEST_SITE = by_pk("dcim.site")[most_common(d["site"] for d in rows("dcim.device"))]["slug"]
SMALL_SITE = "dm-akron"
TWO_SITES = ("dm-akron", "dm-albany")
COMMON_TAG = most_common(row["tag"][0] for row in rows("extras.taggeditem"))
COMMON_TAG_SLUG = next(row["slug"] for row in rows("extras.tag") if row["name"] == COMMON_TAG)
ROUTER = "dmi01-akron-rtr01"
SWITCH = "dmi01-akron-sw01"


def device_summary(device: dict[str, Any]) -> dict[str, Any]:
    kind = by_pk("dcim.devicetype")[device["device_type"]]
    return {
        "name": device["name"],
        "status": device["status"],
        "site": slug_of("dcim.site", device["site"]),
        "role": slug_of("dcim.devicerole", device["role"]),
        "device_type": {"model": kind["model"], "manufacturer": name_of("dcim.manufacturer", kind["manufacturer"])},
        "platform": slug_of("dcim.platform", device["platform"]),
        "rack": name_of("dcim.rack", device["rack"]),
        "position": device["position"],
        "face": device["face"],
    }


DEVICE_FIELDS = "name status site { slug } role { slug } device_type { model manufacturer { name } } platform { slug } rack { name } position face"


@case(
    "device_list by site slug",
    f'{{ device_list(filters: {{site: {{slug: {{exact: "{BUSIEST_SITE}"}}}}}}) {{ {DEVICE_FIELDS} }} }}',
)
def _devices_by_site() -> dict[str, Any]:
    return {"device_list": [device_summary(d) for d in devices(lambda d: site_slug(d) == BUSIEST_SITE)]}


@case("device_list by role slug", '{ device_list(filters: {role: {slug: {exact: "access-switch"}}}) { name role { slug } site { slug } } }')
def _devices_by_role() -> dict[str, Any]:
    chosen = devices(lambda d: role_slug(d) == "access-switch")
    return {"device_list": [{"name": d["name"], "role": {"slug": "access-switch"}, "site": {"slug": site_slug(d)}} for d in chosen]}


@case("device_list by tag (NetBox's tags filter)", '{ device_list(filters: {tags: {slug: {exact: "alpha"}}}) { name } }')
def _devices_by_tag() -> dict[str, Any]:
    # The demo tags sites only: NetBox answers no device.
    tagged = {row["object_id"] for row in rows("extras.taggeditem") if row["content_type"] == ["dcim", "device"] and row["tag"] == ["Alpha"]}
    return {"device_list": [{"name": d["name"]} for d in devices(lambda d: d["pk"] in tagged)]}


@case(
    "device_list by their site's tag",
    f'{{ device_list(filters: {{site: {{tags: {{slug: {{exact: "{COMMON_TAG_SLUG}"}}}}}}}}) {{ name site {{ slug }} }} }}',
)
def _devices_by_site_tag() -> dict[str, Any]:
    tagged_sites = {row["object_id"] for row in rows("extras.taggeditem") if row["content_type"] == ["dcim", "site"] and row["tag"] == [COMMON_TAG]}
    return {"device_list": [{"name": d["name"], "site": {"slug": site_slug(d)}} for d in devices(lambda d: d["site"] in tagged_sites)]}


@case(
    "site_list by tag, with each site's tags",
    f'{{ site_list(filters: {{tags: {{slug: {{exact: "{COMMON_TAG_SLUG}"}}}}}}) {{ name slug tags {{ slug }} }} }}',
)
def _sites_by_tag() -> dict[str, Any]:
    tagged = {row["object_id"] for row in rows("extras.taggeditem") if row["content_type"] == ["dcim", "site"] and row["tag"] == [COMMON_TAG]}
    chosen = sorted((s for s in rows("dcim.site") if s["pk"] in tagged), key=lambda s: natural(s["name"]))
    return {"site_list": [{"name": s["name"], "slug": s["slug"], "tags": tags_of("dcim.site", s["pk"])} for s in chosen]}


@case(
    "site_list: a tag AND NOT another",
    '{ site_list(filters: {tags: {slug: {exact: "x-ray"}}, NOT: {tags: {name: {exact: "Golf"}}}}) { slug } }',
)
def _sites_tag_not_tag() -> dict[str, Any]:
    def tagged(tag: str) -> set[int]:
        return {row["object_id"] for row in rows("extras.taggeditem") if row["content_type"] == ["dcim", "site"] and row["tag"] == [tag]}

    chosen = sorted((s for s in rows("dcim.site") if s["pk"] in tagged("X-ray") - tagged("Golf")), key=lambda s: natural(s["name"]))
    return {"site_list": [{"slug": s["slug"]} for s in chosen]}


@case(
    "device_list: one site OR another",
    f'{{ device_list(filters: {{site: {{slug: {{exact: "{TWO_SITES[0]}"}}}}, OR: {{site: {{slug: {{exact: "{TWO_SITES[1]}"}}}}}}}}) {{ name site {{ slug }} }} }}',
)
def _devices_or() -> dict[str, Any]:
    return {"device_list": [{"name": d["name"], "site": {"slug": site_slug(d)}} for d in devices(lambda d: site_slug(d) in TWO_SITES)]}


@case(
    "device_list: a role AND NOT a site prefix",
    '{ device_list(filters: {role: {slug: {exact: "access-switch"}}, NOT: {site: {slug: {starts_with: "ncsu"}}}}) { name } }',
)
def _devices_not() -> dict[str, Any]:
    chosen = devices(lambda d: role_slug(d) == "access-switch" and not site_slug(d).startswith("ncsu"))
    return {"device_list": [{"name": d["name"]} for d in chosen]}


@case(
    "device_list: i_contains AND a role",
    '{ device_list(filters: {name: {i_contains: "AKRON"}, AND: {role: {slug: {exact: "router"}}}}) { name } }',
)
def _devices_and() -> dict[str, Any]:
    return {"device_list": [{"name": d["name"]} for d in devices(lambda d: "akron" in (d["name"] or "").lower() and role_slug(d) == "router")]}


@case("device_list: i_contains on name", '{ device_list(filters: {name: {i_contains: "DISTSWITCH"}}) { name } }')
def _devices_i_contains() -> dict[str, Any]:
    return {"device_list": [{"name": d["name"]} for d in devices(lambda d: "distswitch" in (d["name"] or "").lower())]}


@case(
    "device_list: in_list on name",
    f'{{ device_list(filters: {{name: {{in_list: ["{SWITCH}", "{ROUTER}", "no-such-device"]}}}}) {{ name }} }}',
)
def _devices_in_list() -> dict[str, Any]:
    return {"device_list": [{"name": d["name"]} for d in devices(lambda d: d["name"] in (SWITCH, ROUTER))]}


@case(
    "device_list: status in_list, name starts_with, OR name ends_with",
    '{ device_list(filters: {status: {in_list: [STATUS_ACTIVE, STATUS_PLANNED]}, name: {starts_with: "ncsu-"}, OR: {name: {ends_with: "-pdu01"}}}) { name status } }',
)
def _devices_status_or() -> dict[str, Any]:
    def wanted(d: dict[str, Any]) -> bool:
        name = d["name"] or ""
        return (d["status"] in ("active", "planned") and name.startswith("ncsu-")) or name.endswith("-pdu01")

    return {"device_list": [{"name": d["name"], "status": d["status"]} for d in devices(wanted)]}


@case(
    "site_list: NetBox's documented OR example",
    '{ site_list(filters: {status: {exact: STATUS_PLANNED}, OR: {tenant: {name: {exact: "NC State University"}}}}) { name } }',
)
def _sites_docs_or() -> dict[str, Any]:
    tenant = next(t["pk"] for t in rows("tenancy.tenant") if t["name"] == "NC State University")
    chosen = sorted((s for s in rows("dcim.site") if s["status"] == "planned" or s["tenant"] == tenant), key=lambda s: natural(s["name"]))
    return {"site_list": [{"name": s["name"]} for s in chosen]}


@case(
    "device_list: offset/limit pagination",
    "{ device_list(pagination: {offset: 20, limit: 10}) { name } }",
)
def _devices_page() -> dict[str, Any]:
    return {"device_list": [{"name": d["name"]} for d in devices()[20:30]]}


@case(
    "device_list: the last page, past the ties at the end",
    "{ device_list(pagination: {offset: 60, limit: 100}) { name } }",
)
def _devices_last_page() -> dict[str, Any]:
    return {"device_list": [{"name": d["name"]} for d in devices()[60:]]}


# --- cables, interfaces, peers ---------------------------------------------------------


def endpoint(model: str, pk: int) -> dict[str, Any]:
    """A cable endpoint as the fragments below select it."""
    row = by_pk(model)[pk]
    if model == "circuits.circuittermination":
        return {"class_type": "CircuitTermination", "term_side": row["term_side"], "circuit": {"cid": by_pk("circuits.circuit")[row["circuit"]]["cid"]}}
    if model == "circuits.providernetwork":
        return {"class_type": "ProviderNetwork", "name": row["name"]}
    class_type = {
        "dcim.interface": "Interface",
        "dcim.frontport": "FrontPort",
        "dcim.rearport": "RearPort",
        "dcim.powerport": "PowerPort",
        "dcim.poweroutlet": "PowerOutlet",
        "dcim.consoleport": "ConsolePort",
        "dcim.consoleserverport": "ConsoleServerPort",
    }[model]
    return {"class_type": class_type, "name": row["name"], "device": name_of("dcim.device", row["device"])}


ENDPOINT_FRAGMENTS = (
    " ".join(
        f"... on {kind} {{ class_type name device {{ name }} }}"
        for kind in ("InterfaceType", "FrontPortType", "RearPortType", "PowerPortType", "PowerOutletType", "ConsolePortType", "ConsoleServerPortType")
    )
    + " ... on CircuitTerminationType { class_type term_side circuit { cid } }"
)


def cable_ends() -> dict[int, dict[str, list[tuple[str, int]]]]:
    """Each cable's terminations by end, in NetBox's order (cable end, then primary key)."""
    ends: dict[int, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: {"A": [], "B": []})
    for row in sorted(rows("dcim.cabletermination"), key=lambda r: (r["cable"], r["cable_end"], r["pk"])):
        ends[row["cable"]][row["cable_end"]].append((".".join(row["termination_type"]), row["termination_id"]))
    return ends


def cable_row(cable: dict[str, Any]) -> dict[str, Any]:
    ends = cable_ends()[cable["pk"]]
    return {
        "class_type": "Cable",
        "label": cable["label"],
        "type": cable["type"],
        "status": cable["status"],
        "color": cable["color"],
        "a_terminations": [endpoint(*end) for end in ends["A"]],
        "b_terminations": [endpoint(*end) for end in ends["B"]],
    }


CABLE_QUERY = f"{{ cable_list {{ class_type label type status color a_terminations {{ {ENDPOINT_FRAGMENTS} }} b_terminations {{ {ENDPOINT_FRAGMENTS} }} }} }}"


@case("cable_list: terminations through fragments on each type (NetBox's docs)", CABLE_QUERY, unordered=frozenset({"cable_list"}))
def _cables() -> dict[str, Any]:
    return {"cable_list": [cable_row(c) for c in sorted(rows("dcim.cable"), key=lambda c: c["pk"])]}


@case(
    "order: cable_list by primary key",
    "{ cable_list { a_terminations { ... on InterfaceType { name device { name } } } } }",
)
def _cable_order() -> dict[str, Any]:
    def seen(model: str, pk: int) -> dict[str, Any]:  # the fragment selects nothing on other types
        return {"name": by_pk(model)[pk]["name"], "device": name_of("dcim.device", by_pk(model)[pk]["device"])} if model == "dcim.interface" else {}

    return {"cable_list": [{"a_terminations": [seen(*end) for end in cable_ends()[c["pk"]]["A"]]} for c in sorted(rows("dcim.cable"), key=lambda c: c["pk"])]}


def link_peers(model: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The endpoints on the other end of ``row``'s cable."""
    if row.get("cable") is None:
        return []
    ends = cable_ends()[row["cable"]]
    other = "B" if row["cable_end"] == "A" else "A"
    return [endpoint(*end) for end in ends[other]]


def interfaces_of(device_pk: int) -> list[dict[str, Any]]:
    """A device's interfaces in NetBox's order: its ``_name`` key, compared bytewise."""
    return sorted((i for i in rows("dcim.interface") if i["device"] == device_pk), key=lambda i: i["_name"])


def device_pk(name: str) -> int:
    return next(d["pk"] for d in rows("dcim.device") if d["name"] == name)


def addresses_on(model: str, pk: int) -> list[dict[str, str]]:
    app_label, model_name = model.split(".")
    found = [ip for ip in rows("ipam.ipaddress") if ip["assigned_object_type"] == [app_label, model_name] and ip["assigned_object_id"] == pk]
    return [{"address": ip["address"]} for ip in sorted(found, key=lambda ip: (ipaddress.ip_interface(ip["address"]), ip["pk"]))]


@case(
    "interface_list of a device: IP addresses, cable, link peers",
    f'{{ interface_list(filters: {{device: {{name: {{exact: "{ROUTER}"}}}}}}) {{ name type enabled mgmt_only cable {{ type status }} link_peers {{ {ENDPOINT_FRAGMENTS} }} ip_addresses {{ address }} }} }}',
)
def _router_interfaces() -> dict[str, Any]:
    answer = []
    for interface in interfaces_of(device_pk(ROUTER)):
        cable = one("dcim.cable", interface["cable"])
        answer.append(
            {
                "name": interface["name"],
                "type": interface["type"],
                "enabled": interface["enabled"],
                "mgmt_only": interface["mgmt_only"],
                "cable": None if cable is None else {"type": cable["type"], "status": cable["status"]},
                "link_peers": link_peers("dcim.interface", interface),
                "ip_addresses": addresses_on("dcim.interface", interface["pk"]),
            }
        )
    return {"interface_list": answer}


@case(
    "device's interfaces in natural order (Gi1/0/2 before Gi1/0/10)",
    f'{{ device_list(filters: {{name: {{exact: "{SWITCH}"}}}}) {{ name interfaces {{ name }} }} }}',
)
def _natural_interfaces() -> dict[str, Any]:
    names = [i["name"] for i in interfaces_of(device_pk(SWITCH))]
    assert names != sorted(names), "the switch's names must sort differently as plain text, or the case proves nothing"
    return {"device_list": [{"name": SWITCH, "interfaces": [{"name": name} for name in names]}]}


@case(
    "order: interface_list across devices (by device, then name)",
    '{ interface_list(filters: {device: {role: {slug: {exact: "router"}}}}) { name device { name } } }',
)
def _interfaces_across_devices() -> dict[str, Any]:
    chosen = devices(lambda d: role_slug(d) == "router")
    return {"interface_list": [{"name": i["name"], "device": {"name": d["name"]}} for d in chosen for i in interfaces_of(d["pk"])]}


def _site_interfaces() -> dict[str, Any]:
    chosen = devices(lambda d: site_slug(d) == SMALL_SITE)
    return {"interface_list": [{"name": i["name"], "device": {"name": d["name"]}} for d in chosen for i in interfaces_of(d["pk"])]}


CASES.append(
    Case(
        "interface_list by site (NetBox's cached site of a component)",
        f'{{ interface_list(filters: {{site: {{slug: {{exact: "{SMALL_SITE}"}}}}}}) {{ name device {{ name }} }} }}',
        _site_interfaces,
    )
)
CASES.append(
    Case(
        "interface_list by their device's site (the spelling that works here)",
        f'{{ interface_list(filters: {{device: {{site: {{slug: {{exact: "{SMALL_SITE}"}}}}}}}}) {{ name device {{ name }} }} }}',
        _site_interfaces,
    )
)


def connected_endpoints(interface: dict[str, Any]) -> list[dict[str, Any]]:
    """NetBox's ``connected_endpoints``: the last node of the interface's cable path, when
    the path is complete (the export carries each path, nodes as "content type:id")."""
    path = one("dcim.cablepath", interface["_path"])
    if path is None or not path["is_complete"]:
        return []
    found = []
    for node in path["path"][-1]:
        type_id, pk = node.split(":")
        found.append(endpoint(content_types()[int(type_id)], int(pk)))
    return found


@case(
    "routers' interfaces and where their paths end (connected_endpoints)",
    '{ device_list(filters: {role: {slug: {exact: "router"}}}) { name interfaces { name connected_endpoints { '
    + ENDPOINT_FRAGMENTS
    + " ... on ProviderNetworkType { class_type name } } } } }",
)
def _connected_endpoints() -> dict[str, Any]:
    chosen = devices(lambda d: role_slug(d) == "router")
    interfaces = [i for d in chosen for i in interfaces_of(d["pk"])]
    kinds = Counter(e["class_type"] for i in interfaces for e in connected_endpoints(i))
    # The case covers each kind of end: another interface, a provider network beyond a
    # circuit, and a cabled interface whose path is incomplete (NetBox answers nothing).
    assert kinds["Interface"] and kinds["ProviderNetwork"], kinds
    assert any(i["cable"] and not connected_endpoints(i) for i in interfaces)
    return {
        "device_list": [
            {"name": d["name"], "interfaces": [{"name": i["name"], "connected_endpoints": connected_endpoints(i)} for i in interfaces_of(d["pk"])]}
            for d in chosen
        ]
    }


@case(
    "circuit terminations of a provider, with their cable's peers",
    '{ circuit_termination_list(filters: {circuit: {provider: {slug: {exact: "centurylink"}}}}) { term_side circuit { cid } cable { type } link_peers { '
    + ENDPOINT_FRAGMENTS
    + " } } }",
    unordered=frozenset({"circuit_termination_list"}),
)
def _circuit_termination_peers() -> dict[str, Any]:
    provider = next(p["pk"] for p in rows("circuits.provider") if p["slug"] == "centurylink")
    circuits = {c["pk"]: c for c in rows("circuits.circuit") if c["provider"] == provider}
    answer = []
    for row in rows("circuits.circuittermination"):
        if row["circuit"] in circuits:
            cable = one("dcim.cable", row["cable"])
            answer.append(
                {
                    "term_side": row["term_side"],
                    "circuit": {"cid": circuits[row["circuit"]]["cid"]},
                    "cable": None if cable is None else {"type": cable["type"]},
                    "link_peers": link_peers("circuits.circuittermination", row),
                }
            )
    return {"circuit_termination_list": answer}


# --- IPAM ------------------------------------------------------------------------------


def prefix_order(prefix: dict[str, Any]) -> tuple[Any, ...]:
    """NetBox: (vrf, NULL first; prefix; pk)."""
    return (prefix["vrf"] is not None, prefix["vrf"] or 0, ipaddress.ip_network(prefix["prefix"]), prefix["pk"])


def prefixes(where: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    return sorted((p for p in rows("ipam.prefix") if where(p)), key=prefix_order)


def vrf_of(pk: int | None) -> dict[str, Any] | None:
    vrf = one("ipam.vrf", pk)
    return None if vrf is None else {"name": vrf["name"], "rd": vrf["rd"]}


CONTAINED = "10.112.1.1"


def containing(address: str) -> Callable[[dict[str, Any]], bool]:
    host = ipaddress.ip_network(address)
    return lambda p: host.subnet_of(ipaddress.ip_network(p["prefix"])) and ipaddress.ip_network(p["prefix"]) != host  # type: ignore[arg-type]


@case(
    "prefix_list: prefixes containing an address (NetBox's contains filter)",
    f'{{ prefix_list(filters: {{contains: ["{CONTAINED}"]}}) {{ prefix status vrf {{ name rd }} }} }}',
)
def _prefixes_contains() -> dict[str, Any]:
    return {"prefix_list": [{"prefix": p["prefix"], "status": p["status"], "vrf": vrf_of(p["vrf"])} for p in prefixes(containing(CONTAINED))]}


@case(
    "prefix_list: net_contains (Danbyte's spelling of NetBox's contains)",
    f'{{ prefix_list(filters: {{prefix: {{net_contains: "{CONTAINED}"}}}}) {{ prefix status vrf {{ name rd }} }} }}',
)
def _prefixes_net_contains() -> dict[str, Any]:
    return _prefixes_contains()


@case(
    "prefix_list: exact prefix, with VRF, role and the tree",
    '{ prefix_list(filters: {prefix: {exact: "10.112.0.0/15"}}) { prefix status is_pool mark_utilized vrf { name } role { slug } } }',
)
def _prefix_exact() -> dict[str, Any]:
    chosen = prefixes(lambda p: p["prefix"] == "10.112.0.0/15")
    return {
        "prefix_list": [
            {
                "prefix": p["prefix"],
                "status": p["status"],
                "is_pool": p["is_pool"],
                "mark_utilized": p["mark_utilized"],
                "vrf": name_of("ipam.vrf", p["vrf"]),
                "role": slug_of("ipam.role", p["role"]),
            }
            for p in chosen
        ]
    }


@case(
    "prefix_list: text lookups on the prefix (starts_with, i_contains)",
    '{ prefix_list(filters: {prefix: {starts_with: "10.112.1"}, OR: {prefix: {i_contains: ".0/28"}}}) { prefix } }',
)
def _prefix_text() -> dict[str, Any]:
    return {"prefix_list": [{"prefix": p["prefix"]} for p in prefixes(lambda p: p["prefix"].startswith("10.112.1") or ".0/28" in p["prefix"])]}


@case(
    "prefix_list: in a VRF by name, family",
    '{ prefix_list(filters: {vrf: {name: {exact: "Alpha"}}, family: FAMILY_4}) { prefix vrf { name rd } family { value label } } }',
)
def _prefixes_in_vrf() -> dict[str, Any]:
    alpha = next(v["pk"] for v in rows("ipam.vrf") if v["name"] == "Alpha")
    chosen = prefixes(lambda p: p["vrf"] == alpha and ipaddress.ip_network(p["prefix"]).version == 4)
    return {"prefix_list": [{"prefix": p["prefix"], "vrf": vrf_of(p["vrf"]), "family": {"value": 4, "label": "IPv4"}} for p in chosen]}


@case(
    "prefix_list: by site (the scope's cached site) with the scope fragment",
    f'{{ prefix_list(filters: {{site: {{slug: {{exact: "{SMALL_SITE}"}}}}}}) {{ prefix scope {{ ... on SiteType {{ class_type slug }} }} }} }}',
)
def _prefixes_by_site() -> dict[str, Any]:
    site = next(s["pk"] for s in rows("dcim.site") if s["slug"] == SMALL_SITE)
    chosen = prefixes(lambda p: p["_site"] == site)
    return {"prefix_list": [{"prefix": p["prefix"], "scope": {"class_type": "Site", "slug": SMALL_SITE}} for p in chosen]}


@case(
    "order: prefix_list (VRF with the global table first, then prefix)",
    "{ prefix_list { prefix vrf { name } } }",
)
def _prefix_order() -> dict[str, Any]:
    return {"prefix_list": [{"prefix": p["prefix"], "vrf": name_of("ipam.vrf", p["vrf"])} for p in prefixes(lambda p: True)]}


def addresses(where: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    return sorted((ip for ip in rows("ipam.ipaddress") if where(ip)), key=lambda ip: (ipaddress.ip_interface(ip["address"]), ip["pk"]))


@case(
    "ip_address_list: in a VRF by route distinguisher",
    '{ ip_address_list(filters: {vrf: {rd: {exact: "65000:100"}}}) { address status role dns_name vrf { name } assigned_object { __typename } } }',
)
def _addresses_in_vrf() -> dict[str, Any]:
    vrf = next(v["pk"] for v in rows("ipam.vrf") if v["rd"] == "65000:100")
    chosen = addresses(lambda ip: ip["vrf"] == vrf)
    assert all(ip["assigned_object_type"] is None for ip in chosen)  # the demo assigns none
    return {
        "ip_address_list": [
            {
                "address": ip["address"],
                "status": ip["status"],
                "role": ip["role"],
                "dns_name": ip["dns_name"],
                "vrf": name_of("ipam.vrf", vrf),
                "assigned_object": None,
            }
            for ip in chosen
        ]
    }


@case(
    "order: ip_address_list by address",
    '{ ip_address_list(filters: {vrf: {rd: {exact: "65000:100"}}}) { address } }',
)
def _address_order() -> dict[str, Any]:
    vrf = next(v["pk"] for v in rows("ipam.vrf") if v["rd"] == "65000:100")
    return {"ip_address_list": [{"address": ip["address"]} for ip in addresses(lambda ip: ip["vrf"] == vrf)]}


@case(
    "ip_address_list: NetBox's assigned filter",
    '{ assigned: ip_address_list(filters: {assigned: true}) { address } free: ip_address_list(filters: {assigned: false, vrf: {name: {exact: "Alpha"}}}) { address } }',
)
def _addresses_assigned() -> dict[str, Any]:
    alpha = next(v["pk"] for v in rows("ipam.vrf") if v["name"] == "Alpha")
    return {
        "assigned": [{"address": ip["address"]} for ip in addresses(lambda ip: ip["assigned_object_id"] is not None)],
        "free": [{"address": ip["address"]} for ip in addresses(lambda ip: ip["assigned_object_id"] is None and ip["vrf"] == alpha)],
    }


@case(
    "ip_address_list: NetBox's parent filter (addresses within a prefix)",
    '{ ip_address_list(filters: {parent: ["192.168.0.0/16"]}) { address } }',
)
def _addresses_parent() -> dict[str, Any]:
    network = ipaddress.ip_network("192.168.0.0/16")
    return {"ip_address_list": [{"address": ip["address"]} for ip in addresses(lambda ip: ipaddress.ip_interface(ip["address"]).ip in network)]}


@case(
    "ip_range_list and aggregate_list: NetBox's parent and contains filters",
    '{ ip_range_list(filters: {parent: ["192.168.1.0/25", "10.0.0.0/8"]}) { start_address end_address } '
    'aggregate_list(filters: {contains: ["10.112.1.0/24", "2001:db8::1"]}) { prefix } }',
    unordered=frozenset({"ip_range_list", "aggregate_list"}),
)
def _ranges_and_aggregates() -> dict[str, Any]:
    def within(address: str) -> bool:
        host = ipaddress.ip_interface(address).ip
        return any(host in ipaddress.ip_network(n) for n in ("192.168.1.0/25", "10.0.0.0/8"))

    wanted = [ipaddress.ip_network(n) for n in ("10.112.1.0/24", "2001:db8::1")]
    return {
        "ip_range_list": [
            {"start_address": r["start_address"], "end_address": r["end_address"]}
            for r in rows("ipam.iprange")
            if within(r["start_address"]) and within(r["end_address"])
        ],
        "aggregate_list": [
            {"prefix": a["prefix"]}
            for a in rows("ipam.aggregate")
            if any(
                n.version == ipaddress.ip_network(a["prefix"]).version
                and n.subnet_of(ipaddress.ip_network(a["prefix"]))
                and n != ipaddress.ip_network(a["prefix"])
                for n in wanted
            )  # type: ignore[arg-type]
        ],
    }


@case(
    "ip_address_list: net_contained_or_equal (Danbyte's spelling of NetBox's parent)",
    '{ ip_address_list(filters: {address: {net_contained_or_equal: "192.168.0.0/16"}}) { address } }',
)
def _addresses_net_contained() -> dict[str, Any]:
    return _addresses_parent()


def vlan_order(vlan: dict[str, Any]) -> tuple[Any, ...]:
    """NetBox: (site, group, vid, pk); a relation orders by its model's order, NULLs last."""
    site = one("dcim.site", vlan["site"])
    group = one("ipam.vlangroup", vlan["group"])
    return (site is None, natural(site["name"]) if site else (), group is None, (natural(group["name"]), group["pk"]) if group else (), vlan["vid"], vlan["pk"])


def vlans(where: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    return sorted((v for v in rows("ipam.vlan") if where(v)), key=vlan_order)


def vlan_row(vlan: dict[str, Any]) -> dict[str, Any]:
    return {
        "vid": vlan["vid"],
        "name": vlan["name"],
        "status": vlan["status"],
        "site": slug_of("dcim.site", vlan["site"]),
        "group": slug_of("ipam.vlangroup", vlan["group"]),
        "role": slug_of("ipam.role", vlan["role"]),
    }


VLAN_FIELDS = "vid name status site { slug } group { slug } role { slug }"


@case(
    "vlan_list: VLAN 100 at every site (NetBox's IntegerLookup)",
    f"{{ vlan_list(filters: {{vid: {{filter_lookup: {{exact: 100}}}}}}) {{ {VLAN_FIELDS} }} }}",
)
def _vlan_100() -> dict[str, Any]:
    chosen = vlans(lambda v: v["vid"] == 100)
    assert len(chosen) == 13
    return {"vlan_list": [vlan_row(v) for v in chosen]}


@case(
    "vlan_list: a site's VLANs",
    f'{{ vlan_list(filters: {{site: {{slug: {{exact: "{SMALL_SITE}"}}}}}}) {{ {VLAN_FIELDS} }} }}',
)
def _site_vlans() -> dict[str, Any]:
    return {"vlan_list": [vlan_row(v) for v in vlans(lambda v: v["site"] is not None and by_pk("dcim.site")[v["site"]]["slug"] == SMALL_SITE)]}


@case(
    "vlan_list: a VLAN group's VLANs, vid in a range",
    '{ vlan_list(filters: {group: {slug: {exact: "jbb104"}}, vid: {range_lookup: {start: 100, end: 299}}}) { vid name group { slug } } }',
)
def _group_vlans() -> dict[str, Any]:
    group = next(g["pk"] for g in rows("ipam.vlangroup") if g["slug"] == "jbb104")
    chosen = vlans(lambda v: v["group"] == group and 100 <= v["vid"] < 300)
    return {"vlan_list": [{"vid": v["vid"], "name": v["name"], "group": {"slug": "jbb104"}} for v in chosen]}


@case(
    "vlan_list: comparison lookups, and Danbyte's flat shorthand",
    "{ low: vlan_list(filters: {vid: {comparison_lookup: {lt: 200}}}) { vid } flat: vlan_list(filters: {vid: {lt: 200}}) { vid } }",
)
def _vlans_compared() -> dict[str, Any]:
    low = [{"vid": v["vid"]} for v in vlans(lambda v: v["vid"] < 200)]
    return {"low": low, "flat": low}


@case(
    "order: vlan_list (site, group, vid)",
    f"{{ vlan_list {{ {VLAN_FIELDS} }} }}",
)
def _vlan_order() -> dict[str, Any]:
    return {"vlan_list": [vlan_row(v) for v in vlans(lambda v: True)]}


# --- circuits --------------------------------------------------------------------------


def circuit_order(circuit: dict[str, Any]) -> tuple[Any, ...]:
    """NetBox: (provider, provider account, cid); the provider by its name."""
    provider = by_pk("circuits.provider")[circuit["provider"]]
    return (natural(provider["name"]), circuit["provider_account"] is None, circuit["provider_account"] or 0, circuit["cid"])


def termination_row(pk: int | None) -> dict[str, Any] | None:
    row = one("circuits.circuittermination", pk)
    if row is None:
        return None
    kind = ".".join(row["termination_type"])
    target = by_pk(kind)[row["termination_id"]]
    place = {"__typename": "SiteType", "slug": target["slug"]} if kind == "dcim.site" else {"__typename": "ProviderNetworkType", "name": target["name"]}
    return {"term_side": row["term_side"], "port_speed": row["port_speed"], "xconnect_id": row["xconnect_id"], "termination": place}


def circuit_row(circuit: dict[str, Any]) -> dict[str, Any]:
    provider = by_pk("circuits.provider")[circuit["provider"]]
    kind = by_pk("circuits.circuittype")[circuit["type"]]
    return {
        "cid": circuit["cid"],
        "status": circuit["status"],
        "commit_rate": circuit["commit_rate"],
        "provider": {"name": provider["name"], "slug": provider["slug"]},
        "type": {"name": kind["name"], "slug": kind["slug"]},
        "termination_a": termination_row(circuit["termination_a"]),
        "termination_z": termination_row(circuit["termination_z"]),
    }


TERMINATION_FIELDS = "term_side port_speed xconnect_id termination { __typename ... on SiteType { slug } ... on ProviderNetworkType { name } }"
CIRCUIT_FIELDS = (
    f"cid status commit_rate provider {{ name slug }} type {{ name slug }} termination_a {{ {TERMINATION_FIELDS} }} termination_z {{ {TERMINATION_FIELDS} }}"
)


@case("circuit_list: providers and both terminations", f"{{ circuit_list {{ {CIRCUIT_FIELDS} }} }}")
def _circuits() -> dict[str, Any]:
    return {"circuit_list": [circuit_row(c) for c in sorted(rows("circuits.circuit"), key=circuit_order)]}


@case(
    "circuit_list: NetBox's documented status example",
    "{ circuit_list(filters: {status: {exact: STATUS_ACTIVE}}) { cid provider { name } } }",
)
def _circuits_docs() -> dict[str, Any]:
    chosen = sorted((c for c in rows("circuits.circuit") if c["status"] == "active"), key=circuit_order)
    return {"circuit_list": [{"cid": c["cid"], "provider": name_of("circuits.provider", c["provider"])} for c in chosen]}


@case("circuit_list: one provider's circuits, by cid", '{ circuit_list(filters: {provider: {slug: {exact: "level-3"}}}) { cid type { slug } } }')
def _provider_circuits() -> dict[str, Any]:
    provider = next(p["pk"] for p in rows("circuits.provider") if p["slug"] == "level-3")
    chosen = sorted((c for c in rows("circuits.circuit") if c["provider"] == provider), key=circuit_order)
    return {"circuit_list": [{"cid": c["cid"], "type": slug_of("circuits.circuittype", c["type"])} for c in chosen]}


@case(
    "order: circuit_list (provider, account, cid)",
    "{ circuit_list { cid provider { name } } }",
)
def _circuit_order() -> dict[str, Any]:
    return {
        "circuit_list": [
            {"cid": c["cid"], "provider": name_of("circuits.provider", c["provider"])} for c in sorted(rows("circuits.circuit"), key=circuit_order)
        ]
    }


# --- virtualization --------------------------------------------------------------------

BUSIEST_CLUSTER = by_pk("virtualization.cluster")[most_common(vm["cluster"] for vm in rows("virtualization.virtualmachine"))]["name"]


def vm_order(vm: dict[str, Any]) -> tuple[Any, ...]:
    return (natural(vm["name"]), vm["pk"])


def vm_row(vm: dict[str, Any]) -> dict[str, Any]:
    cluster = by_pk("virtualization.cluster")[vm["cluster"]]
    interfaces = sorted((i for i in rows("virtualization.vminterface") if i["virtual_machine"] == vm["pk"]), key=lambda i: i["_name"])
    return {
        "name": vm["name"],
        "status": vm["status"],
        "vcpus": vm["vcpus"],
        "memory": vm["memory"],
        "disk": vm["disk"],
        "cluster": {
            "name": cluster["name"],
            "type": slug_of("virtualization.clustertype", cluster["type"]),
            "group": slug_of("virtualization.clustergroup", cluster["group"]),
        },
        "role": slug_of("dcim.devicerole", vm["role"]),
        "platform": slug_of("dcim.platform", vm["platform"]),
        "interfaces": [
            {"name": i["name"], "enabled": i["enabled"], "mtu": i["mtu"], "ip_addresses": addresses_on("virtualization.vminterface", i["pk"])}
            for i in interfaces
        ],
    }


@case(
    "virtual_machine_list: a cluster's VMs with cluster, interfaces and their IPs",
    f'{{ virtual_machine_list(filters: {{cluster: {{name: {{exact: "{BUSIEST_CLUSTER}"}}}}}}) {{ name status vcpus memory disk cluster {{ name type {{ slug }} group {{ slug }} }} role {{ slug }} platform {{ slug }} interfaces {{ name enabled mtu ip_addresses {{ address }} }} }} }}',
)
def _cluster_vms() -> dict[str, Any]:
    chosen = sorted(
        (vm for vm in rows("virtualization.virtualmachine") if by_pk("virtualization.cluster")[vm["cluster"]]["name"] == BUSIEST_CLUSTER), key=vm_order
    )
    names = [vm["name"] for vm in chosen]
    assert names != sorted(names), "natural order (vm2 before vm10) must differ from text order, or the case proves less"
    return {"virtual_machine_list": [vm_row(vm) for vm in chosen]}


@case("cluster_list: type and group", "{ cluster_list { name status type { slug } group { name } } }")
def _clusters() -> dict[str, Any]:
    chosen = sorted(rows("virtualization.cluster"), key=lambda c: (natural(c["name"]), c["pk"]))
    return {
        "cluster_list": [
            {
                "name": c["name"],
                "status": c["status"],
                "type": slug_of("virtualization.clustertype", c["type"]),
                "group": name_of("virtualization.clustergroup", c["group"]),
            }
            for c in chosen
        ]
    }


@case(
    "vm_interface_list: a VM's interfaces by name",
    '{ vm_interface_list(filters: {virtual_machine: {name: {exact: "vm10"}}}) { name virtual_machine { name } } }',
)
def _vm_interfaces() -> dict[str, Any]:
    vm = next(v["pk"] for v in rows("virtualization.virtualmachine") if v["name"] == "vm10")
    chosen = sorted((i for i in rows("virtualization.vminterface") if i["virtual_machine"] == vm), key=lambda i: i["_name"])
    return {"vm_interface_list": [{"name": i["name"], "virtual_machine": {"name": "vm10"}} for i in chosen]}


# --- tenancy and custom fields ----------------------------------------------------------


def tenants(where: Callable[[dict[str, Any]], bool] = lambda t: True) -> list[dict[str, Any]]:
    return sorted((t for t in rows("tenancy.tenant") if where(t)), key=lambda t: natural(t["name"]))


def tenant_row(tenant: dict[str, Any]) -> dict[str, Any]:
    # NetBox 4.6 answers a key for every custom field of the type, null when unset.
    fields = [cf["name"] for cf in rows("extras.customfield") if ["tenancy", "tenant"] in cf["object_types"]]
    return {
        "name": tenant["name"],
        "slug": tenant["slug"],
        "group": slug_of("tenancy.tenantgroup", tenant["group"]),
        "custom_fields": {name: tenant["custom_field_data"].get(name) for name in fields},
    }


TENANT_FIELDS = "name slug group { slug } custom_fields"


@case(
    "tenant_list: custom field cust_id, exact",
    f'{{ tenant_list(filters: {{custom_field_data: {{path: "cust_id", lookup: {{string_lookup: {{exact: "INI04"}}}}}}}}) {{ {TENANT_FIELDS} }} }}',
)
def _tenant_cust_id() -> dict[str, Any]:
    return {"tenant_list": [tenant_row(t) for t in tenants(lambda t: t["custom_field_data"].get("cust_id") == "INI04")]}


@case(
    "tenant_list: custom field cust_id, i_starts_with",
    f'{{ tenant_list(filters: {{custom_field_data: {{path: "cust_id", lookup: {{string_lookup: {{i_starts_with: "st"}}}}}}}}) {{ {TENANT_FIELDS} }} }}',
    unordered=frozenset({"tenant_list"}),
)
def _tenant_cust_id_prefix() -> dict[str, Any]:
    return {"tenant_list": [tenant_row(t) for t in tenants(lambda t: (t["custom_field_data"].get("cust_id") or "").lower().startswith("st"))]}


@case(
    "site_list: sites of the tenant whose cust_id is DMI01",
    '{ site_list(filters: {tenant: {custom_field_data: {path: "cust_id", lookup: {string_lookup: {exact: "DMI01"}}}}}) { name tenant { name } } }',
)
def _sites_by_tenant_cf() -> dict[str, Any]:
    tenant = next(t for t in rows("tenancy.tenant") if t["custom_field_data"].get("cust_id") == "DMI01")
    chosen = sorted((s for s in rows("dcim.site") if s["tenant"] == tenant["pk"]), key=lambda s: natural(s["name"]))
    return {"site_list": [{"name": s["name"], "tenant": {"name": tenant["name"]}} for s in chosen]}


@case(
    "order: tenant_list by name",
    '{ tenant_list(filters: {NOT: {slug: {exact: "default"}}}) { name } }',
)
def _tenant_order() -> dict[str, Any]:
    return {"tenant_list": [{"name": t["name"]} for t in tenants()]}


# --- catalog objects (one copy per tenant using them) ------------------------------------


@case(
    "device_role_list", "{ device_role_list { name slug color vm_role } }", catalog=frozenset({"device_role_list"}), unordered=frozenset({"device_role_list"})
)
def _roles() -> dict[str, Any]:
    chosen = sorted(rows("dcim.devicerole"), key=lambda r: (r["name"], r["pk"]))
    return {"device_role_list": [{"name": r["name"], "slug": r["slug"], "color": r["color"], "vm_role": r["vm_role"]} for r in chosen]}


@case("manufacturer_list", "{ manufacturer_list { name slug } }", catalog=frozenset({"manufacturer_list"}), unordered=frozenset({"manufacturer_list"}))
def _manufacturers() -> dict[str, Any]:
    return {"manufacturer_list": [{"name": m["name"], "slug": m["slug"]} for m in sorted(rows("dcim.manufacturer"), key=lambda m: m["name"])]}


@case(
    "device_type_list",
    "{ device_type_list { model slug u_height manufacturer { slug } } }",
    catalog=frozenset({"device_type_list"}),
    unordered=frozenset({"device_type_list"}),
)
def _device_types() -> dict[str, Any]:
    return {
        "device_type_list": [
            {"model": t["model"], "slug": t["slug"], "u_height": t["u_height"], "manufacturer": slug_of("dcim.manufacturer", t["manufacturer"])}
            for t in rows("dcim.devicetype")
        ]
    }


# --- trees (NetBox's TreeManager lists its nested models by (tree_id, lft)) ---------------


def tree(label: str) -> list[dict[str, Any]]:
    """A nested model's rows in NetBox's list order, read from the export's own MPTT
    fields: depth first, each parent before its children, roots and siblings by name. A
    model the export holds flat (roles and platforms before 4.3) is all roots, by name."""
    found = rows(label)
    if found and "tree_id" not in found[0]:
        return sorted(found, key=lambda r: (natural(r["name"]), r["pk"]))
    return sorted(found, key=lambda r: (r["tree_id"], r["lft"]))


def test_the_export_holds_trees_worth_ordering() -> None:
    """The tree cases prove something: the tree order differs from the flat name order,
    and the export's regions nest more than one level."""
    regions = tree("dcim.region")
    assert regions != sorted(regions, key=lambda r: natural(r["name"]))
    assert max(r["level"] for r in regions) >= 2
    assert len(tree("dcim.sitegroup")) > 1 and len(tree("dcim.location")) > 1


@case("order: region_list as NetBox's tree", "{ region_list { name slug parent { slug } } }", catalog=frozenset({"region_list"}))
def _regions() -> dict[str, Any]:
    return {"region_list": [{"name": r["name"], "slug": r["slug"], "parent": slug_of("dcim.region", r["parent"])} for r in tree("dcim.region")]}


@case("order: site_group_list as NetBox's tree", "{ site_group_list { name slug parent { slug } } }", catalog=frozenset({"site_group_list"}))
def _site_groups() -> dict[str, Any]:
    return {"site_group_list": [{"name": g["name"], "slug": g["slug"], "parent": slug_of("dcim.sitegroup", g["parent"])} for g in tree("dcim.sitegroup")]}


@case("order: location_list as NetBox's tree, not by site", "{ location_list { name site { slug } parent { slug } } }")
def _locations() -> dict[str, Any]:
    return {
        "location_list": [
            {"name": loc["name"], "site": slug_of("dcim.site", loc["site"]), "parent": slug_of("dcim.location", loc["parent"])} for loc in tree("dcim.location")
        ]
    }


@case(
    "order: tenant_group_list, contact_group_list, device_role_list and platform_list as trees",
    "{ tenant_group_list { slug } contact_group_list { slug } device_role_list { slug } platform_list { slug } }",
    catalog=frozenset({"contact_group_list", "device_role_list", "platform_list"}),
)
def _other_trees() -> dict[str, Any]:
    return {
        f"{name}_list": [{"slug": r["slug"]} for r in tree(label)]
        for name, label in (
            ("tenant_group", "tenancy.tenantgroup"),
            ("contact_group", "tenancy.contactgroup"),
            ("device_role", "dcim.devicerole"),
            ("platform", "dcim.platform"),
        )
    }


async def test_a_regions_children_keep_the_tree_order(netbox_api) -> None:
    """Nested lists (``children``) in NetBox's sibling order. A region is copied into each
    tenant using it, with the part of its subtree that tenant uses: each copy's children
    are NetBox's in NetBox's order with some left out, and together the copies hold all."""
    order = {r["slug"]: index for index, r in enumerate(tree("dcim.region"))}
    answer = (await netbox_api.data("{ region_list { slug children { slug } } }"))["region_list"]
    held: dict[str, set[str]] = defaultdict(set)
    for region in answer:
        slugs = [child["slug"] for child in region["children"]]
        assert slugs == sorted(slugs, key=order.__getitem__), region["slug"]
        held[region["slug"]].update(slugs)
    for region in rows("dcim.region"):
        assert held[region["slug"]] == {r["slug"] for r in rows("dcim.region") if r["parent"] == region["pk"]}, region["slug"]


# --- Ansible ---------------------------------------------------------------------------


def region_chain(pk: int | None, depth: int) -> dict[str, Any] | None:
    region = one("dcim.region", pk)
    if region is None:
        return None
    found: dict[str, Any] = {"slug": region["slug"]}
    if depth > 1:
        found["parent"] = region_chain(region["parent"], depth - 1)
    return found


NB_INVENTORY = """
query {
  device_list {
    name status serial asset_tag
    primary_ip4 { address } primary_ip6 { address } oob_ip { address }
    platform { slug } device_type { slug manufacturer { slug } }
    rack { name role { slug } } location { slug }
    site { slug facility time_zone group { slug } region { slug parent { slug parent { slug } } } }
    role { slug } tags { slug } custom_fields config_context local_context_data
  }
  virtual_machine_list {
    name status vcpus memory disk serial
    primary_ip4 { address } primary_ip6 { address }
    platform { slug } role { slug } site { slug }
    cluster { name group { slug } type { slug } }
    tags { slug } custom_fields config_context local_context_data
  }
}
"""


@case(
    "Ansible nb_inventory's host variables in one query",
    NB_INVENTORY,
)
def _nb_inventory() -> dict[str, Any]:
    def address(pk: int | None) -> dict[str, str] | None:
        ip = one("ipam.ipaddress", pk)
        return None if ip is None else {"address": ip["address"]}

    def device(d: dict[str, Any]) -> dict[str, Any]:
        site = by_pk("dcim.site")[d["site"]]
        kind = by_pk("dcim.devicetype")[d["device_type"]]
        rack = one("dcim.rack", d["rack"])
        return {
            "name": d["name"],
            "status": d["status"],
            "serial": d["serial"],
            "asset_tag": d["asset_tag"],
            "primary_ip4": address(d["primary_ip4"]),
            "primary_ip6": address(d["primary_ip6"]),
            "oob_ip": address(d["oob_ip"]),
            "platform": slug_of("dcim.platform", d["platform"]),
            "device_type": {"slug": kind["slug"], "manufacturer": slug_of("dcim.manufacturer", kind["manufacturer"])},
            "rack": None if rack is None else {"name": rack["name"], "role": slug_of("dcim.rackrole", rack["role"])},
            "location": slug_of("dcim.location", d["location"]),
            "site": {
                "slug": site["slug"],
                "facility": site["facility"],
                "time_zone": site["time_zone"],
                "group": slug_of("dcim.sitegroup", site["group"]),
                "region": region_chain(site["region"], 3),
            },
            "role": slug_of("dcim.devicerole", d["role"]),
            "tags": tags_of("dcim.device", d["pk"]),
            "custom_fields": {},  # no custom field applies to devices in the demo
            "config_context": dict(d["local_context_data"] or {}),  # no config contexts in the demo
            "local_context_data": d["local_context_data"],
        }

    def machine(vm: dict[str, Any]) -> dict[str, Any]:
        cluster = by_pk("virtualization.cluster")[vm["cluster"]]
        return {
            "name": vm["name"],
            "status": vm["status"],
            "vcpus": vm["vcpus"],
            "memory": vm["memory"],
            "disk": vm["disk"],
            "serial": vm["serial"],
            "primary_ip4": address(vm["primary_ip4"]),
            "primary_ip6": address(vm["primary_ip6"]),
            "platform": slug_of("dcim.platform", vm["platform"]),
            "role": slug_of("dcim.devicerole", vm["role"]),
            "site": slug_of("dcim.site", vm["site"]),
            "cluster": {
                "name": cluster["name"],
                "group": slug_of("virtualization.clustergroup", cluster["group"]),
                "type": slug_of("virtualization.clustertype", cluster["type"]),
            },
            "tags": tags_of("virtualization.virtualmachine", vm["pk"]),
            "custom_fields": {},
            "config_context": dict(vm["local_context_data"] or {}),
            "local_context_data": vm["local_context_data"],
        }

    return {
        "device_list": [device(d) for d in devices()],
        "virtual_machine_list": [machine(vm) for vm in sorted(rows("virtualization.virtualmachine"), key=vm_order)],
    }


# The default query of the GraphQL inventory plugin (gql_inventory, in the
# networktocode.nautobot collection; netbox.netbox has only the REST nb_inventory), in
# NetBox's names: devices → device_list, primary_ip4.host → address, platform.napalm_driver
# → slug (NetBox 4 platforms have no NAPALM driver).
GQL_INVENTORY = """
query {
  device_list { name primary_ip4 { address } primary_ip6 { address } platform { slug } }
  virtual_machine_list { name primary_ip4 { address } primary_ip6 { address } platform { name } }
}
"""


@case("Ansible gql_inventory's default query", GQL_INVENTORY)
def _gql_inventory() -> dict[str, Any]:
    return {
        "device_list": [{"name": d["name"], "primary_ip4": None, "primary_ip6": None, "platform": slug_of("dcim.platform", d["platform"])} for d in devices()],
        "virtual_machine_list": [
            {"name": vm["name"], "primary_ip4": None, "primary_ip6": None, "platform": name_of("dcim.platform", vm["platform"])}
            for vm in sorted(rows("virtualization.virtualmachine"), key=vm_order)
        ],
    }


@case(
    "Ansible gql_inventory with filters and its group_by fields",
    f'query {{ device_list(filters: {{site: {{slug: {{exact: "{SMALL_SITE}"}}}}, status: {{exact: STATUS_ACTIVE}}}}) '
    "{ name status primary_ip4 { address } platform { slug } site { slug } role { slug } tags { slug } custom_fields } }",
)
def _gql_inventory_filtered() -> dict[str, Any]:
    chosen = devices(lambda d: site_slug(d) == SMALL_SITE and d["status"] == "active")
    return {
        "device_list": [
            {
                "name": d["name"],
                "status": d["status"],
                "primary_ip4": None,
                "platform": slug_of("dcim.platform", d["platform"]),
                "site": {"slug": SMALL_SITE},
                "role": slug_of("dcim.devicerole", d["role"]),
                "tags": tags_of("dcim.device", d["pk"]),
                "custom_fields": {},
            }
            for d in chosen
        ]
    }


# --- running the corpus ------------------------------------------------------------------


def _param(case_: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case_.xfail)] if case_.xfail else []
    return pytest.param(case_, id=case_.name, marks=marks)


@pytest.mark.parametrize("case_", [_param(c) for c in CASES])
async def test_netbox_query(netbox_api, case_: Case) -> None:
    check(case_, await netbox_api.data(case_.query))


# --- what the corpus stands on, and what it cannot say as one query -----------------------


def test_content_type_ids() -> None:
    """The cable paths name nodes by content type id: each interface's path starts at
    itself, so the position-based ids must name dcim.interface there."""
    types = content_types()
    for interface in rows("dcim.interface"):
        path = one("dcim.cablepath", interface["_path"])
        if path is not None:
            type_id, pk = path["path"][0][0].split(":")
            assert (types[int(type_id)], int(pk)) == ("dcim.interface", interface["pk"])


async def test_the_demo_lands_whole(netbox_api) -> None:
    """Counts per type against the export: catalog types by distinct numid (NetBox's id),
    the rest row for row."""
    counted = {
        "device": "dcim.device",
        "site": "dcim.site",
        "interface": "dcim.interface",
        "cable": "dcim.cable",
        "prefix": "ipam.prefix",
        "ip_address": "ipam.ipaddress",
        "vlan": "ipam.vlan",
        "circuit": "circuits.circuit",
        "virtual_machine": "virtualization.virtualmachine",
        "vm_interface": "virtualization.vminterface",
        "device_role": "dcim.devicerole",
        "platform": "dcim.platform",
        "device_type": "dcim.devicetype",
        "region": "dcim.region",
    }
    for name, label in counted.items():
        numbered = name not in ("interface", "vm_interface")
        answer: list[dict[str, Any]] = []
        for offset in (0, 1000):  # the page ceiling is 1,000 rows
            query = f"{{ {name}_list(pagination: {{offset: {offset}, limit: 1000}}) {{ {'numid' if numbered else 'id'} }} }}"
            answer += (await netbox_api.data(query))[f"{name}_list"]
        if numbered:
            assert {row["numid"] for row in answer} == {row["pk"] for row in rows(label)}, name
        else:
            assert len(answer) == len(rows(label)), name


async def test_untenanted_objects_have_a_tenant_and_tenanted_ones_keep_theirs(netbox_api) -> None:
    """NetBox's tenant where it has one; a tenant (the import's placement) where it has none."""
    answer = (await netbox_api.data("{ device_list { numid tenant { slug } } }"))["device_list"]
    for row in answer:
        assert row["tenant"] == tenant_of(by_pk("dcim.device")[row["numid"]]["tenant"]), row
    # A tenant filter therefore also finds what was placed in that tenant.
    placed = (await netbox_api.data('{ device_list(filters: {tenant: {slug: {exact: "dunder-mifflin"}}}) { numid } }'))["device_list"]
    tenant = next(t["pk"] for t in rows("tenancy.tenant") if t["slug"] == "dunder-mifflin")
    labelled = {d["pk"] for d in rows("dcim.device") if d["tenant"] == tenant}
    assert labelled <= {row["numid"] for row in placed}
    assert all(by_pk("dcim.device")[row["numid"]]["tenant"] in (tenant, None) for row in placed)


async def test_one_device_by_id_and_by_numid(netbox_api) -> None:
    """NetBox's ``device(id: 27)`` takes its numeric id; here ``id`` is the UUID and the
    NetBox id is ``numid``."""
    netbox = by_pk("dcim.device")[27]
    listed = (await netbox_api.data('{ device_list(filters: {name: {exact: "%s"}}) { id numid } }' % netbox["name"]))["device_list"]
    assert [row["numid"] for row in listed] == [27]
    fields = "name numid site { slug } role { slug } rack { name } position face"
    expected = {
        "name": netbox["name"],
        "numid": 27,
        "site": slug_of("dcim.site", netbox["site"]),
        "role": slug_of("dcim.devicerole", netbox["role"]),
        "rack": name_of("dcim.rack", netbox["rack"]),
        "position": netbox["position"],
        "face": netbox["face"],
    }
    by_id = await netbox_api.data("query($id: ID!) { device(id: $id) { %s } }" % fields, id=listed[0]["id"])
    assert by_id["device"] == expected
    assert (await netbox_api.data("{ device(numid: 27) { %s } }" % fields))["device"] == expected
    # NetBox's own spelling is refused with a coded error naming the argument.
    error = await netbox_api.error('{ device(id: "27") { name } }')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    # A catalog object's numid is in several tenants: the tenant picks one.
    roles = (await netbox_api.data("{ device_role_list { numid tenant { id slug } } }"))["device_role_list"]
    repeated = next(numid for numid, count in Counter(r["numid"] for r in roles).items() if count > 1)
    error = await netbox_api.error("{ device_role(numid: %d) { name } }" % repeated)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tenant"}
    tenant = next(r["tenant"] for r in roles if r["numid"] == repeated)
    picked = await netbox_api.data('{ device_role(numid: %d, tenant: "%s") { name } }' % (repeated, tenant["id"]))
    assert picked["device_role"] == name_of("dcim.devicerole", repeated)


async def test_a_field_that_does_not_exist(netbox_api) -> None:
    """graphql-core's validation message, as NetBox answers it (plus Danbyte's code)."""
    error = await netbox_api.error("{ device_list { name nonexistent_field } }")
    assert error["message"] == "Cannot query field 'nonexistent_field' on type 'DeviceType'."
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = await netbox_api.error("{ cable_list { a_terminations { ... on InterfaceType { nonexistent_field } } } }")
    assert error["message"] == "Cannot query field 'nonexistent_field' on type 'InterfaceType'."
    error = await netbox_api.error("{ xyzzy { id } }")
    assert error["message"] == "Cannot query field 'xyzzy' on type 'Query'."


async def test_keyset_pagination_walks_every_device(netbox_api) -> None:
    """NetBox's cursor is a numeric primary key (``start: 0`` for the first page, the last
    id + 1 for the next, rows with pk >= start). Here ``start: 0`` gives the first page
    too, and then the cursor is the last UUID seen (rows after it, in id order)."""
    seen: list[str] = []
    cursor: Any = 0
    while True:
        query = "query($start: ID) { device_list(pagination: {start: $start, limit: 20}) { id name } }"
        page = (await netbox_api.data(query, start=cursor))["device_list"]
        if not page:
            break
        ids = [row["id"] for row in page]
        assert ids == sorted(ids)
        seen += ids
        cursor = ids[-1]
    assert len(seen) == len(set(seen)) == len(rows("dcim.device"))
    assert seen == sorted(seen)
    # As in NetBox, a cursor and an offset do not go together.
    error = await netbox_api.error("{ device_list(pagination: {start: 0, offset: 20}) { id } }")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "pagination.offset"}
    # NetBox's next cursor, a number, is not an id here.
    error = await netbox_api.error("{ device_list(pagination: {start: 124, limit: 20}) { id } }")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "pagination.start"}


async def test_offset_pages_cover_the_list_once(netbox_api) -> None:
    whole = (await netbox_api.data("{ device_list { id } }"))["device_list"]
    paged: list[dict[str, Any]] = []
    for offset in range(0, len(whole) + 10, 10):
        paged += (await netbox_api.data("{ device_list(pagination: {offset: %d, limit: 10}) { id } }" % offset))["device_list"]
    assert paged == whole and len(whole) == len(rows("dcim.device"))


# NetBox 4.6's root fields (netbox/*/graphql/schema.py) for every type the demo holds.
NETBOX_ROOT_FIELDS = (
    "cable circuit circuit_termination circuit_type cluster cluster_group cluster_type console_port "
    "console_port_template contact contact_assignment contact_group contact_role custom_field device "
    "device_bay device_bay_template device_role device_type front_port front_port_template interface "
    "interface_template inventory_item ip_address ip_range location manufacturer module module_bay "
    "module_bay_template module_type platform power_feed power_outlet power_outlet_template power_panel "
    "power_port power_port_template prefix provider provider_network rack rack_reservation rack_role "
    "rear_port rear_port_template region rir role route_target site site_group tag tenant tenant_group "
    "virtual_chassis virtual_machine vlan vlan_group vm_interface vrf aggregate asn"
).split()


async def test_netbox_root_fields(netbox_api) -> None:
    names = {f["name"] for f in (await netbox_api.data("{ __schema { queryType { fields { name } } } }"))["__schema"]["queryType"]["fields"]}
    missing = sorted({*NETBOX_ROOT_FIELDS, *(f"{n}_list" for n in NETBOX_ROOT_FIELDS)} - names)
    assert not missing


async def test_network_list_filters_refuse_what_is_no_network(netbox_api) -> None:
    """NetBox skips a value that is no network; here it is refused, naming the filter."""
    error = await netbox_api.error('{ prefix_list(filters: {contains: ["10.0.0.1", "not-a-cidr"]}) { prefix } }')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.contains"}
    error = await netbox_api.error('{ ip_address_list(filters: {OR: {parent: ["fe80::1%eth0"]}}) { address } }')
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "filters.OR.parent")
    # An empty list filters nothing, as in NetBox.
    everything = await netbox_api.data("{ prefix_list(filters: {contains: []}) { prefix } }")
    assert len(everything["prefix_list"]) == len(rows("ipam.prefix"))


async def test_integer_lookups_in_netbox_shape_are_checked(netbox_api) -> None:
    """A value the column cannot hold is refused, naming the nested lookup."""
    error = await netbox_api.error("{ vlan_list(filters: {vid: {range_lookup: {start: 1, end: 70000}}}) { vid } }")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filters.vid.range_lookup.end"}


async def test_assigned_filter(api, org) -> None:
    """NetBox's ``assigned: Boolean`` on IP and MAC addresses (the demo assigns none)."""
    from dcim_lab import Lab

    lab = Lab(api, org.tenant_ids[0])
    c = await lab.catalogue()
    device = await lab.device(c, await lab.device_type(c, "Box"), "a")
    interface = await lab.make("interface", device=device, name="eth0", type="TYPE_1000BASE_T")
    await lab.make("ip_address", address="192.0.2.1/24", assigned_object={"type": "dcim.interface", "id": interface})
    await lab.make("ip_address", address="192.0.2.2/24")
    await lab.make("mac_address", mac_address="00:00:5e:00:53:01", assigned_object={"type": "dcim.interface", "id": interface})
    query = "{ yes: ip_address_list(filters: {assigned: true}) { address } no: ip_address_list(filters: {assigned: false}) { address } mac: mac_address_list(filters: {assigned: true}) { mac_address } }"
    answer = await api.data(query)
    assert answer["yes"] == [{"address": "192.0.2.1/24"}] and answer["no"] == [{"address": "192.0.2.2/24"}]
    assert [m["mac_address"].lower() for m in answer["mac"]] == ["00:00:5e:00:53:01"]


async def test_new_filters_tell_nothing_a_reader_may_not_view(api, org) -> None:
    """``tags`` and ``assigned`` say something about other objects: a reader who may not
    view those is refused, naming the filter, as for any related-object filter."""
    from dcim_lab import Lab

    lab = Lab(api, org.tenant_ids[0])
    tag = (await api.data('mutation { tag_create(input: {name: "Core", slug: "core"}) { id } }'))["tag_create"]["id"]
    await lab.make("site", name="AMS1", slug="ams1", tags=[tag])
    await lab.make("ip_address", address="192.0.2.1/24")
    reader = api.as_key(await org.user_key(grants={"site": ["view"], "ip_address": ["view"]}))
    error = await reader.error('{ site_list(filters: {tags: {slug: {exact: "core"}}}) { name } }')
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filters.tags"}
    error = await reader.error("{ ip_address_list(filters: {assigned: false}) { address } }")
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filters.assigned"}
    # Its own columns are the reader's to filter by; class_type is a constant.
    found = await reader.data('{ ip_address_list(filters: {parent: ["192.0.2.0/24"]}) { address class_type } }')
    assert found["ip_address_list"] == [{"address": "192.0.2.1/24", "class_type": "IPAddress"}]
    tagged = await api.data('{ site_list(filters: {tags: {slug: {exact: "core"}}}) { name } }')
    assert tagged["site_list"] == [{"name": "AMS1"}]


async def test_filters_on_a_related_list(netbox_api) -> None:
    """NetBox's documented example: a related list filtered (enabled interfaces only)."""
    answer = await netbox_api.data(
        f'{{ device_list(filters: {{name: {{exact: "{ROUTER}"}}}}) {{ name interfaces(filters: {{enabled: {{exact: true}}}}) {{ name }} }} }}'
    )
    expected = [{"name": i["name"]} for i in interfaces_of(device_pk(ROUTER)) if i["enabled"]]
    assert answer == {"device_list": [{"name": ROUTER, "interfaces": expected}]}


async def test_filtered_related_lists_with_pages_and_what_lies_below(netbox_api) -> None:
    """Filters and pagination together, on every parent at once, with relations selected
    below; the statements do not grow with the parents."""
    shape = '{ device_list(filters: %s) { name interfaces(filters: {name: {starts_with: "Gi"}, OR: {name: {starts_with: "xe"}}}, pagination: {offset: 1, limit: 2}) { name device { name } cable { numid } } } }'
    routers = devices(lambda d: role_slug(d) == "router")
    answer = await netbox_api.data(shape % '{role: {slug: {exact: "router"}}}')
    cables = {c["pk"] for c in rows("dcim.cable")}
    expected = []
    for device in routers:
        chosen = [i for i in interfaces_of(device["pk"]) if i["name"].startswith(("Gi", "xe"))][1:3]
        listed = [{"name": i["name"], "device": {"name": device["name"]}, "cable": {"numid": i["cable"]} if i["cable"] in cables else None} for i in chosen]
        expected.append({"name": device["name"], "interfaces": listed})
    assert len(routers) > 2 and answer == {"device_list": expected}
    one = await netbox_api.sql_statements(shape % f'{{name: {{exact: "{ROUTER}"}}}}')
    every = await netbox_api.sql_statements(shape % '{role: {slug: {exact: "router"}}}')
    assert every == one


async def test_a_related_lists_filter_is_checked_like_a_root_lists(api, org) -> None:
    """The nested filter is the target's: bad input names its field, and a filter on a
    type the reader may not view is refused."""
    from dcim_lab import Lab

    await Lab(api, org.tenant_ids[0]).catalogue()  # a site to list devices of
    error = await api.error('{ site_list { devices(filters: {name: {regex: "("}}) { name } } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "filters.name" in error["extensions"]["field"]
    reader = api.as_key(await org.user_key(grants={"site": ["view"], "device": ["view"]}))
    error = await reader.error('{ site_list { devices(filters: {platform: {slug: {exact: "ios"}}}) { name } } }')
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filters.platform"}


def netbox_str(label: str, row: dict[str, Any]) -> str:
    """What NetBox's ``str()`` of an export row is (its models' ``__str__``), for the types
    test_display checks."""
    if label == "dcim.device":
        chassis = one("dcim.virtualchassis", row["virtual_chassis"])
        named = row["name"] or (f"{chassis['name']}:{row['vc_position']}" if chassis else None)
        if named:
            return f"{named} ({row['asset_tag']})" if row["asset_tag"] else named
        kind = by_pk("dcim.devicetype")[row["device_type"]]
        return f"{by_pk('dcim.manufacturer')[kind['manufacturer']]['name']} {kind['model']} ({row['asset_tag'] or row['pk']})"
    if label == "dcim.interface":
        return f"{row['name']} ({row['label']})" if row["label"] else row["name"]
    if label == "dcim.cable":
        return row["label"] or f"#{row['pk']}"
    if label == "dcim.module":
        kind = by_pk("dcim.moduletype")[row["module_type"]]
        return f"{by_pk('dcim.modulebay')[row['module_bay']]['name']}: {kind['model']} ({row['pk']})"
    if label == "ipam.vlan":
        return f"{row['name']} ({row['vid']})"
    if label == "ipam.vrf":
        return f"{row['name']} ({row['rd']})" if row["rd"] else row["name"]
    if label == "ipam.asn":
        return f"AS{row['asn']} ({row['asn'] // 65536}.{row['asn'] % 65536})" if row["asn"] >= 65536 else f"AS{row['asn']}"
    if label == "ipam.iprange":  # NetBox's IPRange.name: the shared parts once
        start, end = (ipaddress.ip_interface(row[key]) for key in ("start_address", "end_address"))
        if start.ip == end.ip:
            return f"{start.ip}-{end.ip}/{start.network.prefixlen}"
        separator = ":" if start.version == 6 else "."
        a, b = str(start.ip).split(separator), str(end.ip).split(separator)
        shared = [x for x, y in zip(a, b, strict=False) if x == y]
        return f"{separator.join(shared)}{separator}{separator.join(a[len(shared) :])}-{separator.join(b[len(shared) :])}/{start.network.prefixlen}"
    if label == "circuits.circuittermination":
        return f"{by_pk('circuits.circuit')[row['circuit']]['cid']}: Termination {row['term_side']}"
    if label == "tenancy.contactassignment":
        target = by_pk(".".join(row["object_type"]))[row["object_id"]]
        priority = f" ({row['priority'].capitalize()})" if row["priority"] else ""
        return f"{by_pk('tenancy.contact')[row['contact']]['name']}{priority} -> {target['name']}"
    return str(row.get("prefix") or row.get("address") or row.get("cid") or row["name"])


DISPLAYED = {
    "device_list": "dcim.device",
    "cable_list": "dcim.cable",
    "module_list": "dcim.module",
    "vlan_list": "ipam.vlan",
    "vrf_list": "ipam.vrf",
    "asn_list": "ipam.asn",
    "ip_range_list": "ipam.iprange",
    "prefix_list": "ipam.prefix",
    "ip_address_list": "ipam.ipaddress",
    "circuit_list": "circuits.circuit",
    "contact_assignment_list": "tenancy.contactassignment",
    "site_list": "dcim.site",
}


async def every(api: Any, root: str, fields: str) -> list[dict[str, Any]]:
    """All of a root list, a page of 1,000 at a time."""
    found: list[dict[str, Any]] = []
    while True:
        page = (await api.data(f"{{ {root}(pagination: {{offset: {len(found)}, limit: 1000}}) {{ {fields} }} }}"))[root]
        found.extend(page)
        if len(page) < 1000:
            return found


async def test_display(netbox_api) -> None:
    """Every object's ``display`` is NetBox's str() of it, on the compiled path and the
    resolvers' alike (the shadow compares them), at the root and nested."""
    for root, label in DISPLAYED.items():
        wanted = {row["pk"]: netbox_str(label, row) for row in rows(label)}
        assert wanted, label
        assert {item["numid"]: item["display"] for item in await every(netbox_api, root, "numid display")} == wanted, root
    # Components and circuit terminations have no number: their displays are compared as multisets.
    for root, label in {"interface_list": "dcim.interface", "circuit_termination_list": "circuits.circuittermination"}.items():
        found = await every(netbox_api, root, "display")
        assert Counter(item["display"] for item in found) == Counter(netbox_str(label, row) for row in rows(label)), root
    unnamed = [d for d in rows("dcim.device") if not d["name"] and not d["virtual_chassis"]]
    chassis = [d for d in rows("dcim.device") if not d["name"] and d["virtual_chassis"]]
    assert unnamed and chassis, "the demo must hold unnamed devices of both kinds, or the device case proves little"
    nested = await netbox_api.data(
        f'{{ device_list(filters: {{name: {{exact: "{ROUTER}"}}}}) {{ display interfaces(pagination: {{limit: 1}}) {{ display device {{ display }} }} '
        "primary_ip4 { display } site { display region { display } } } }"
    )
    router = next(d for d in rows("dcim.device") if d["name"] == ROUTER)
    site = by_pk("dcim.site")[router["site"]]
    assert nested["device_list"][0]["display"] == ROUTER
    assert nested["device_list"][0]["interfaces"][0]["device"] == {"display": ROUTER}
    region = one("dcim.region", site["region"])
    assert nested["device_list"][0]["site"] == {"display": site["name"], "region": region and {"display": region["name"]}}
    address = one("ipam.ipaddress", router["primary_ip4"])
    assert nested["device_list"][0]["primary_ip4"] == (address and {"display": address["address"]})


def test_the_corpus_is_broad() -> None:
    """Every kind of thing the corpus is meant to cover has cases (a guard against cases
    being dropped)."""
    text = " ".join(c.query for c in CASES)
    for needed in ("OR:", "NOT:", "AND:", "i_contains", "in_list", "net_contains", "offset:", "... on InterfaceType", "tags: {slug", "custom_field_data"):
        assert needed in text, needed
    assert len(CASES) >= 40


async def test_a_components_site_filter_reaches_through_its_device(api, org) -> None:
    """A component's ``site``, ``location`` and ``rack`` filters are its device's (NetBox
    answers them from the copies it caches); each hop needs the reader's view grant."""
    from dcim_lab import Lab

    lab = Lab(api, org.tenant_ids[0])
    catalogue = await lab.catalogue()
    await lab.make("site", name="FRA1", slug="fra1")
    rack = await lab.make("rack", name="R1", site=catalogue["site"])
    device = await lab.device(catalogue, await lab.device_type(catalogue, "SW-48"), "ams-sw1", rack=rack)
    await lab.make("interface", device=device, name="Gi0/1", type="TYPE_1000BASE_T")
    query = (
        '{ by_site: interface_list(filters: {site: {slug: {exact: "%s"}}}) { name } by_rack: interface_list(filters: {rack: {name: {exact: "R1"}}}) { name } }'
    )
    assert await api.data(query % "ams1") == {"by_site": [{"name": "Gi0/1"}], "by_rack": [{"name": "Gi0/1"}]}
    assert (await api.data(query % "fra1"))["by_site"] == []
    reader = api.as_key(await org.user_key(grants={"interface": ["view"], "site": ["view"]}))
    error = await reader.error('{ interface_list(filters: {site: {slug: {exact: "ams1"}}}) { name } }')
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filters.site"}
