"""What Danbyte's inventory clients share: the GraphQL documents, NetBox-style filters
translated into Danbyte's filter inputs, paged fetching, and one host record per device
or virtual machine. Standard library only, so the Ansible collection imports it too
(``danbyte.sot.inventory``) and neither client repeats the other's logic."""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("device", "virtual_machine")

# What every host carries, whatever the user's ``query`` adds (GraphQL merges repeated fields).
BASE_SELECTION = {
    "device": (
        "id name status custom_fields site { name slug } role { name slug } platform { name slug } "
        "tenant { name slug } location { name slug } rack { name } tags { name slug } "
        "primary_ip4 { address } primary_ip6 { address }"
    ),
    "virtual_machine": (
        "id name status custom_fields site { name slug } cluster { name } role { name slug } platform { name slug } "
        "tenant { name slug } tags { name slug } primary_ip4 { address } primary_ip6 { address }"
    ),
}

# NetBox filter names (REST query parameters, as nb_inventory's query_filters use them) ->
# the path into Danbyte's GraphQL filter input and the field the value is compared with.
# None: the kind has no such relation, so no object of that kind can match.
_RELATIONS: dict[str, dict[str, tuple[str, str] | None]] = {
    "site": {"device": ("site", "slug"), "virtual_machine": ("site", "slug")},
    "role": {"device": ("role", "slug"), "virtual_machine": ("role", "slug")},
    "platform": {"device": ("platform", "slug"), "virtual_machine": ("platform", "slug")},
    "tenant": {"device": ("tenant", "slug"), "virtual_machine": ("tenant", "slug")},
    "location": {"device": ("location", "slug"), "virtual_machine": None},
    "rack": {"device": ("rack", "name"), "virtual_machine": None},
    "cluster": {"device": ("cluster", "name"), "virtual_machine": ("cluster", "name")},
    "device_type": {"device": ("device_type", "slug"), "virtual_machine": None},
}
_ALIASES = {"device_role": "role", "device_roles": "role", "roles": "role", "sites": "site", "platforms": "platform", "tenants": "tenant"}
_IDS = {"id", "site_id", "role_id", "platform_id", "tenant_id", "location_id", "rack_id", "cluster_id", "device_type_id"}
_STRINGS = {"name", "serial", "description"}
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class DanbyteError(Exception):
    """The server refused the request or answered with errors; the message says why."""


class Excluded(Exception):
    """A filter no object of this kind can match (a virtual machine has no rack)."""


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in items]


def _lookup(values: list[str]) -> dict[str, Any]:
    return {"exact": values[0]} if len(values) == 1 else {"in_list": values}


def translate_filters(filters: Mapping[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """Danbyte's ``DeviceFilter`` / ``VirtualMachineFilter`` for NetBox-style ``filters``
    (``site: ams1``, ``role: [leaf, spine]``, ``status: active``, ``tag: [a, b]``,
    ``cf_<name>: value``); a list of values is any of them, different keys must all hold.
    Raises Excluded when no object of ``kind`` can match, ValueError for an unknown key."""
    if not filters:
        return None
    result: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []  # custom field lookups, one JSONFilter each
    for raw_key, value in filters.items():
        key = _ALIASES.get(raw_key, raw_key)
        values = _values(value)
        if not values:
            continue
        if key in _RELATIONS:
            target = _RELATIONS[key][kind]
            if target is None:
                raise Excluded(key)
            relation, attribute = target
            result[relation] = {attribute: _lookup(values)}
        elif key in ("tag", "tags"):
            result["tag"] = values  # NetBox's ?tag=a&tag=b: every tag must be on the object
        elif key == "status":
            result["status"] = {"in_list": ["STATUS_" + v.upper() for v in values]}
        elif key in _IDS:
            if key in ("location_id", "rack_id", "device_type_id") and kind == "virtual_machine":
                raise Excluded(key)
            result[key] = _lookup(values)
        elif key in _STRINGS:
            result[key] = _lookup(values)
        elif key.startswith("cf_") and _NAME.match(key[3:]):
            lookup = {"exact": values[0]} if len(values) == 1 else {"in_": values}
            custom.append({"path": key[3:], "lookup": {"string_lookup": lookup}})
        else:
            raise ValueError(f"unknown filter {raw_key!r}")
    # One JSON filter per level: AND nests the others (and no level mixes AND with OR,
    # whose reading would depend on the order the server combines them in).
    for json_filter in reversed(custom):
        result = {"custom_field_data": json_filter, "AND": result} if result else {"custom_field_data": json_filter}
    return result


def _selection(value: Any) -> str:
    """A GraphQL selection from a ``query`` entry: a string as written, or a mapping
    ``{field: None | "subfield" | {…}}`` (the form Nautobot's gql_inventory takes)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " ".join(_selection(v) for v in value)
    if isinstance(value, Mapping):
        parts = []
        for name, sub in value.items():
            if not _NAME.match(str(name)):
                raise ValueError(f"query: {name!r} is not a GraphQL field name")
            inner = _selection(sub)
            parts.append(f"{name} {{ {inner} }}" if inner else str(name))
        return " ".join(parts)
    raise ValueError(f"query: cannot read {value!r} as GraphQL fields")


def build_document(kind: str, extra: Any = None) -> str:
    """The GraphQL document that reads one page of ``kind``: base fields plus ``extra``."""
    filter_type = "DeviceFilter" if kind == "device" else "VirtualMachineFilter"
    fields = f"{BASE_SELECTION[kind]} {_selection(extra)}".strip()
    return f"query DanbyteInventory($filters: {filter_type}, $pagination: OffsetPaginationInput) {{ items: {kind}_list(filters: $filters, pagination: $pagination) {{ {fields} }} }}"


@dataclass
class Client:
    """POSTs GraphQL documents to ``url``/graphql with a bearer token."""

    url: str
    token: str
    validate_certs: bool = True
    timeout: float = 30
    headers: dict[str, str] = field(default_factory=dict)
    statements: list[int] = field(default_factory=list)  # SQL statements per request, when the server reports them

    def post(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": document, "variables": variables}).encode()
        request = urllib.request.Request(
            self.url.rstrip("/") + "/graphql",
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {self.token}", **self.headers},
            method="POST",
        )
        context = None
        if self.url.startswith("https") and not self.validate_certs:
            # The user asked for it (validate_certs: false): encrypted, but anyone may answer.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise DanbyteError(f"{self.url}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise DanbyteError(f"{self.url}: {getattr(error, 'reason', error)}") from None
        except ValueError as error:
            raise DanbyteError(f"{self.url}: the answer is not JSON ({error})") from None
        if answer.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in answer["errors"])
            raise DanbyteError(f"{self.url}: {messages}")
        extensions = answer.get("extensions") or {}
        if "sql_statements" in extensions:
            self.statements.append(extensions["sql_statements"])
        return answer["data"]


def fetch(client: Client, kind: str, filters: Mapping[str, Any] | None = None, extra: Any = None, page_size: int = 1000) -> list[dict[str, Any]]:
    """Every ``kind`` object the token may read that ``filters`` match: one request per
    page of ``page_size`` (keyset pages in id order, so a long list costs a few requests)."""
    try:
        translated = translate_filters(filters, kind)
    except Excluded:
        return []
    document = build_document(kind, extra)
    found: list[dict[str, Any]] = []
    start = "0"
    while True:
        page = client.post(document, {"filters": translated, "pagination": {"limit": page_size, "start": start}})["items"]
        found.extend(page)
        if len(page) < page_size:
            return found
        start = page[-1]["id"]


def _address(ip: Any) -> str | None:
    return ip["address"].split("/")[0] if ip and ip.get("address") else None


def _slug(obj: Any, attribute: str = "slug") -> str | None:
    return obj.get(attribute) if isinstance(obj, Mapping) else None


@dataclass
class HostRecord:
    """One host, as both clients present it."""

    name: str
    kind: str
    hostname: str | None  # primary IPv4, else IPv6, without its mask
    platform: str | None  # the platform's slug
    groups: list[str]
    data: dict[str, Any]


GROUP_BY = {
    "site": ("site", "slug"),
    "role": ("role", "slug"),
    "platform": ("platform", "slug"),
    "tenant": ("tenant", "slug"),
    "location": ("location", "slug"),
    "rack": ("rack", "name"),
    "cluster": ("cluster", "name"),
}
GROUP_ALIASES = {
    "sites": "site",
    "device_roles": "role",
    "roles": "role",
    "platforms": "platform",
    "tenants": "tenant",
    "locations": "location",
    "racks": "rack",
    "clusters": "cluster",
    "tag": "tags",
}


def group_names(item: Mapping[str, Any], group_by: Iterable[str], raw: bool = False) -> list[str]:
    """The groups ``item`` belongs to: ``site_<slug>``, ``role_<slug>``, ``tag_<slug>``,
    ``cf_<name>_<value>`` … (without the prefix when ``raw``)."""
    names: list[str] = []
    for wanted in group_by:
        key = GROUP_ALIASES.get(wanted, wanted)
        if key in GROUP_BY:
            relation, attribute = GROUP_BY[key]
            value = _slug(item.get(relation), attribute)
            if value:
                names.append(value if raw else f"{key}_{value}")
        elif key == "tags":
            names.extend(t["slug"] if raw else f"tag_{t['slug']}" for t in item.get("tags") or [])
        elif key == "status":
            names.append(item["status"] if raw else f"status_{item['status']}")
        elif key.startswith("cf_"):
            value = (item.get("custom_fields") or {}).get(key[3:])
            for v in value if isinstance(value, list) else [value]:
                if v not in (None, "", {}):
                    names.append(str(v) if raw else f"{key}_{v}")
        else:
            raise ValueError(f"group_by: unknown grouping {wanted!r}")
    return names


def host_records(
    items_by_kind: Mapping[str, list[dict[str, Any]]],
    group_by: Iterable[str] = (),
    group_names_raw: bool = False,
    platform_map: Mapping[str, str] | None = None,
) -> Iterator[HostRecord]:
    """HostRecords for fetched objects. A name already taken (a device and a virtual
    machine of the same name, or a nameless device) gets its id."""
    group_by = list(group_by)
    taken: set[str] = set()
    for kind, items in items_by_kind.items():
        for item in items:
            name = item.get("name") or item["id"]
            if name in taken:
                name = f"{name}_{item['id']}"
            taken.add(name)
            platform = _slug(item.get("platform"))
            data = dict(item)
            data["kind"] = kind
            data["tags"] = [t["slug"] for t in item.get("tags") or []]
            data["primary_ip4"] = _address(item.get("primary_ip4"))
            data["primary_ip6"] = _address(item.get("primary_ip6"))
            network_os = (platform_map or {}).get(platform or "", platform)
            if network_os:
                data["network_os"] = network_os
            yield HostRecord(
                name=name,
                kind=kind,
                hostname=data["primary_ip4"] or data["primary_ip6"],
                platform=network_os,
                groups=group_names(item, group_by, group_names_raw),
                data=data,
            )


def load_all(
    client: Client,
    devices: bool = True,
    virtual_machines: bool = True,
    filters: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    page_size: int = 1000,
) -> dict[str, list[dict[str, Any]]]:
    """The raw objects of each kind asked for (what an inventory cache keeps)."""
    query = query or {}
    unknown = set(query) - {"devices", "virtual_machines"}
    if unknown:
        raise ValueError(f"query: give fields under 'devices' and 'virtual_machines', not {sorted(unknown)}")
    found: dict[str, list[dict[str, Any]]] = {}
    if devices:
        found["device"] = fetch(client, "device", filters, query.get("devices"), page_size)
    if virtual_machines:
        found["virtual_machine"] = fetch(client, "virtual_machine", filters, query.get("virtual_machines"), page_size)
    return found


def settings_from_env(url: str | None, token: str | None) -> tuple[str, str]:
    """``url`` and ``token``, else DANBYTE_URL / DANBYTE_TOKEN."""
    url = url or os.environ.get("DANBYTE_URL")
    token = token or os.environ.get("DANBYTE_TOKEN")
    if not url:
        raise DanbyteError("no Danbyte URL: set the url option or DANBYTE_URL")
    if not token:
        raise DanbyteError("no Danbyte token: set the token option or DANBYTE_TOKEN")
    return url, token


def fingerprint(*parts: Any) -> str:
    """A digest of what an answer depends on (URL, token, filters, query): a cache entry
    made with one tenant's token is never read with another's."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]
