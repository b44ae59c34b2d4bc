"""Reading a live NetBox's REST API as the records a dumpdata export of it would hold.

``read_api(url, token)`` yields ``Record``\\ s shaped like those of a natural-key export
(``manage.py dumpdata --natural-foreign --natural-primary``), so the importer reads a live
NetBox and a file with one code path:

- ``model`` is NetBox's label, ``pk`` the REST ``id`` (None for tags, which a natural-key
  export names by their name);
- ``fields`` are keyed by the model's database fields: a reference is the target's id
  (REST nests the object: its ``id`` is taken), a many-to-many field a list of ids, a
  choice ``{value, label}`` its value, a content type the natural key ``["dcim",
  "interface"]`` (REST writes ``"dcim.interface"``), a user ``["username"]``, a decimal
  the string dumpdata writes, ``custom_fields`` become ``custom_field_data`` with object
  values as ids, as NetBox stores them;
- tags nested on each object become ``extras.tag`` and ``extras.taggeditem`` records,
  NetBox 4.5+'s front-to-rear port mappings nested on front ports ``dcim.portmapping``
  (and ``dcim.porttemplatemapping``) records; cable terminations come from their own
  endpoint, ids and all.

Which fields are a model's is not guessed from the answers: ``rest_fields.json`` (the
models read here, out of ``tests/netbox_models.json``, which is replayed from NetBox's own
migrations) says, for every NetBox release 3.6 to 4.6, the fields dumpdata writes and what
each is. What REST adds (``url``, ``display``, counts, ``family``, ``scope``,
``connected_endpoints``, an interface's ``mac_address`` since 4.2…) is left out; what it
omits (cached fields, MPTT columns) is absent, as the importer allows, except the location
caches of scoped objects (a 4.2+ prefix's ``_site``…), derived here as NetBox derives them
from the scope (sites and locations are read first).

Pages are read one at a time (``?limit=&offset=``, following ``next``, by id as dumpdata
orders them), so memory holds one page. Errors raise ``ExportError`` with one line naming
the request; the token is never part of a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from netbox_import.dumpdata import ExportError, Record

Progress = Callable[[str, int], None]
Version = tuple[int, int, int]

OLDEST: Version = (3, 6, 0)
SKIPPED = -1  # the count ``progress`` is given with a sentence to show as it is


@dataclass(frozen=True)
class Endpoint:
    """Where a model's objects are listed, and the NetBox minor releases that list them."""

    path: str  # under /api/
    since: tuple[int, int] = (3, 6)
    until: tuple[int, int] | None = None  # the last minor release that has it

    def serves(self, version: Version) -> bool:
        minor = version[:2]
        return self.since <= minor and (self.until is None or minor <= self.until)


def _e(path: str, since: tuple[int, int] = (3, 6), until: tuple[int, int] | None = None) -> Endpoint:
    return Endpoint(path, since, until)


# Every model model_map.MODELS lands, keeps as history or as custom data (and the data
# sources kept fields name), with its list endpoint, from NetBox's API routers
# (netbox/<app>/api/urls.py) of every release 3.6 to 4.6. Tags and custom fields come first:
# what follows is read knowing them (config contexts name tags by slug, custom field values
# of object types are nested objects). Change logs come last, after what they describe.
ENDPOINTS: dict[str, Endpoint] = {
    "extras.tag": _e("extras/tags/"),
    "extras.customfield": _e("extras/custom-fields/"),
    "extras.customfieldchoiceset": _e("extras/custom-field-choice-sets/"),
    "circuits.provider": _e("circuits/providers/"),
    "circuits.provideraccount": _e("circuits/provider-accounts/"),
    "circuits.providernetwork": _e("circuits/provider-networks/"),
    "circuits.circuittype": _e("circuits/circuit-types/"),
    "circuits.circuit": _e("circuits/circuits/"),
    "circuits.circuittermination": _e("circuits/circuit-terminations/"),
    "circuits.circuitgroup": _e("circuits/circuit-groups/", (4, 1)),
    "circuits.circuitgroupassignment": _e("circuits/circuit-group-assignments/", (4, 1)),
    "circuits.virtualcircuittype": _e("circuits/virtual-circuit-types/", (4, 2)),
    "circuits.virtualcircuit": _e("circuits/virtual-circuits/", (4, 2)),
    "circuits.virtualcircuittermination": _e("circuits/virtual-circuit-terminations/", (4, 2)),
    "core.datasource": _e("core/data-sources/"),
    "dcim.region": _e("dcim/regions/"),
    "dcim.sitegroup": _e("dcim/site-groups/"),
    "dcim.site": _e("dcim/sites/"),
    "dcim.location": _e("dcim/locations/"),
    "dcim.rackgroup": _e("dcim/rack-groups/", (4, 6)),
    "dcim.racktype": _e("dcim/rack-types/", (4, 1)),
    "dcim.rackrole": _e("dcim/rack-roles/"),
    "dcim.rack": _e("dcim/racks/"),
    "dcim.rackreservation": _e("dcim/rack-reservations/"),
    "dcim.manufacturer": _e("dcim/manufacturers/"),
    "dcim.devicetype": _e("dcim/device-types/"),
    "dcim.moduletypeprofile": _e("dcim/module-type-profiles/", (4, 3)),
    "dcim.moduletype": _e("dcim/module-types/"),
    "dcim.consoleporttemplate": _e("dcim/console-port-templates/"),
    "dcim.consoleserverporttemplate": _e("dcim/console-server-port-templates/"),
    "dcim.powerporttemplate": _e("dcim/power-port-templates/"),
    "dcim.poweroutlettemplate": _e("dcim/power-outlet-templates/"),
    "dcim.interfacetemplate": _e("dcim/interface-templates/"),
    "dcim.rearporttemplate": _e("dcim/rear-port-templates/"),
    "dcim.frontporttemplate": _e("dcim/front-port-templates/"),
    "dcim.modulebaytemplate": _e("dcim/module-bay-templates/"),
    "dcim.devicebaytemplate": _e("dcim/device-bay-templates/"),
    "dcim.inventoryitemtemplate": _e("dcim/inventory-item-templates/"),
    "dcim.devicerole": _e("dcim/device-roles/"),
    "dcim.platform": _e("dcim/platforms/"),
    "dcim.device": _e("dcim/devices/"),
    "dcim.virtualdevicecontext": _e("dcim/virtual-device-contexts/"),
    "dcim.module": _e("dcim/modules/"),
    "dcim.consoleport": _e("dcim/console-ports/"),
    "dcim.consoleserverport": _e("dcim/console-server-ports/"),
    "dcim.powerport": _e("dcim/power-ports/"),
    "dcim.poweroutlet": _e("dcim/power-outlets/"),
    "dcim.interface": _e("dcim/interfaces/"),
    "dcim.rearport": _e("dcim/rear-ports/"),
    "dcim.frontport": _e("dcim/front-ports/"),
    "dcim.modulebay": _e("dcim/module-bays/"),
    "dcim.devicebay": _e("dcim/device-bays/"),
    "dcim.inventoryitemrole": _e("dcim/inventory-item-roles/"),
    "dcim.inventoryitem": _e("dcim/inventory-items/"),
    "dcim.macaddress": _e("dcim/mac-addresses/", (4, 2)),
    "dcim.cablebundle": _e("dcim/cable-bundles/", (4, 6)),
    "dcim.cable": _e("dcim/cables/"),
    "dcim.cabletermination": _e("dcim/cable-terminations/"),
    "dcim.virtualchassis": _e("dcim/virtual-chassis/"),
    "dcim.powerpanel": _e("dcim/power-panels/"),
    "dcim.powerfeed": _e("dcim/power-feeds/"),
    "extras.configcontextprofile": _e("extras/config-context-profiles/", (4, 4)),
    "extras.configcontext": _e("extras/config-contexts/"),
    "extras.configtemplate": _e("extras/config-templates/"),
    "extras.customlink": _e("extras/custom-links/"),
    "extras.exporttemplate": _e("extras/export-templates/"),
    "extras.savedfilter": _e("extras/saved-filters/"),
    "extras.webhook": _e("extras/webhooks/"),
    "extras.eventrule": _e("extras/event-rules/", (3, 7)),
    "extras.imageattachment": _e("extras/image-attachments/"),
    "extras.journalentry": _e("extras/journal-entries/"),
    "ipam.rir": _e("ipam/rirs/"),
    "ipam.aggregate": _e("ipam/aggregates/"),
    "ipam.asnrange": _e("ipam/asn-ranges/"),
    "ipam.asn": _e("ipam/asns/"),
    "ipam.role": _e("ipam/roles/"),
    "ipam.routetarget": _e("ipam/route-targets/"),
    "ipam.vrf": _e("ipam/vrfs/"),
    "ipam.vlangroup": _e("ipam/vlan-groups/"),
    "ipam.vlan": _e("ipam/vlans/"),
    "ipam.vlantranslationpolicy": _e("ipam/vlan-translation-policies/", (4, 2)),
    "ipam.vlantranslationrule": _e("ipam/vlan-translation-rules/", (4, 2)),
    "ipam.prefix": _e("ipam/prefixes/"),
    "ipam.iprange": _e("ipam/ip-ranges/"),
    "ipam.ipaddress": _e("ipam/ip-addresses/"),
    "ipam.fhrpgroup": _e("ipam/fhrp-groups/"),
    "ipam.fhrpgroupassignment": _e("ipam/fhrp-group-assignments/"),
    "ipam.servicetemplate": _e("ipam/service-templates/"),
    "ipam.service": _e("ipam/services/"),
    "ipam.l2vpn": _e("ipam/l2vpns/", until=(3, 6)),
    "ipam.l2vpntermination": _e("ipam/l2vpn-terminations/", until=(3, 6)),
    "tenancy.tenantgroup": _e("tenancy/tenant-groups/"),
    "tenancy.tenant": _e("tenancy/tenants/"),
    "tenancy.contactgroup": _e("tenancy/contact-groups/"),
    "tenancy.contactrole": _e("tenancy/contact-roles/"),
    "tenancy.contact": _e("tenancy/contacts/"),
    "tenancy.contactassignment": _e("tenancy/contact-assignments/"),
    "users.ownergroup": _e("users/owner-groups/", (4, 5)),
    "users.owner": _e("users/owners/", (4, 5)),
    "virtualization.clustertype": _e("virtualization/cluster-types/"),
    "virtualization.clustergroup": _e("virtualization/cluster-groups/"),
    "virtualization.cluster": _e("virtualization/clusters/"),
    "virtualization.virtualmachinetype": _e("virtualization/virtual-machine-types/", (4, 6)),
    "virtualization.virtualmachine": _e("virtualization/virtual-machines/"),
    "virtualization.vminterface": _e("virtualization/interfaces/"),
    "virtualization.virtualdisk": _e("virtualization/virtual-disks/", (3, 7)),
    "vpn.ikeproposal": _e("vpn/ike-proposals/", (3, 7)),
    "vpn.ikepolicy": _e("vpn/ike-policies/", (3, 7)),
    "vpn.ipsecproposal": _e("vpn/ipsec-proposals/", (3, 7)),
    "vpn.ipsecpolicy": _e("vpn/ipsec-policies/", (3, 7)),
    "vpn.ipsecprofile": _e("vpn/ipsec-profiles/", (3, 7)),
    "vpn.tunnelgroup": _e("vpn/tunnel-groups/", (3, 7)),
    "vpn.tunnel": _e("vpn/tunnels/", (3, 7)),
    "vpn.tunneltermination": _e("vpn/tunnel-terminations/", (3, 7)),
    "vpn.l2vpn": _e("vpn/l2vpns/", (3, 7)),
    "vpn.l2vpntermination": _e("vpn/l2vpn-terminations/", (3, 7)),
    "wireless.wirelesslangroup": _e("wireless/wireless-lan-groups/"),
    "wireless.wirelesslan": _e("wireless/wireless-lans/"),
    "wireless.wirelesslink": _e("wireless/wireless-links/"),
    "extras.objectchange": _e("extras/object-changes/", until=(4, 0)),
    "core.objectchange": _e("core/object-changes/", (4, 1)),
}

# Models the map lands that no endpoint lists, and where their rows come from instead.
WITHOUT_ENDPOINT = {
    "extras.taggeditem": "the tags nested on every object",
    "dcim.portmapping": "the rear_ports nested on front ports (NetBox 4.5+)",
    "dcim.porttemplatemapping": "the rear_ports nested on front port templates (NetBox 4.5+)",
    "tenancy.contactgroupmembership": "NetBox 4.3.0's contacts list their groups (contact.groups)",
}
# Records a natural-key export writes without their pk: the natural key names them.
NATURAL_KEYED = frozenset({"extras.tag"})
CONTENT_TYPES = frozenset({"contenttypes.contenttype", "core.objecttype"})
USERS = frozenset({"users.user", "auth.user"})
GROUPS = frozenset({"users.group", "auth.group"})
TAG = "extras.tag"
# REST lists a port mapping on both of its ports: the front port's list is the one read.
MAPPINGS = {"dcim.frontport": "dcim.portmapping", "dcim.frontporttemplate": "dcim.porttemplatemapping"}
CHOICE_KEYS = frozenset({"value", "label"})
SCOPE_CACHES = frozenset({"_region", "_site_group", "_site", "_location"})


# --- the fields of each model -------------------------------------------------------------


class Kind:
    """How a field's REST value becomes what dumpdata writes."""

    value = "value"  # as it is; a choice {value, label} → its value
    json = "json"  # as it is, dicts and all (JSON fields)
    ref = "ref"  # a nested object (or an id) → the id
    refs = "refs"  # a list of them → ids
    content_type = "content_type"  # "app.model" → ["app", "model"]
    content_types = "content_types"
    user = "user"  # a nested user (or an id) → ["username"]
    users = "users"  # a list of them (an owner's users)
    groups = "groups"  # nested user groups → [["name"], …] (an owner's groups)
    tags = "tags"  # a plain many-to-many to tags (config contexts: slugs) → [["name"], …]
    decimal = "decimal"  # a number → the string dumpdata writes
    file = "file"  # a media URL → the path under the media root, "" for none
    ranges = "ranges"  # inclusive [lower, upper] pairs → dumpdata's JSON of range JSON


def _kind(declared: str) -> str:
    name, _, target = declared.partition(" ")
    if name in ("ForeignKey", "OneToOneField", "TreeForeignKey"):
        if target in CONTENT_TYPES:
            return Kind.content_type
        if target in USERS:
            return Kind.user
        return Kind.ref
    if name == "ManyToManyField":
        if target in CONTENT_TYPES:
            return Kind.content_types
        if target in USERS:
            return Kind.users
        if target in GROUPS:
            return Kind.groups
        return Kind.tags if target == TAG else Kind.refs
    if name == "DecimalField":
        return Kind.decimal
    if name in ("ImageField", "FileField"):
        return Kind.file
    if name == "JSONField":
        return Kind.json
    return Kind.value


@cache
def _table() -> dict[str, Any]:
    return json.loads(resources.files("netbox_import").joinpath("rest_fields.json").read_text())


def _release(tag: str) -> Version:
    major, minor, patch = (int(part) for part in tag.removeprefix("v").split("."))
    return major, minor, patch


@cache
def model_fields(label: str, version: Version) -> dict[str, str]:
    """The fields dumpdata writes for ``label`` in NetBox ``version``, each with its Kind.

    A field is taken from the first minor release it appeared in (a patch release may have
    added it: the REST answer says whether it is there) until the release the table first
    lacks it. A NetBox newer than the table has what its newest release has."""
    table = _table()
    releases = [_release(tag) for tag in table["releases"]]
    model = table["models"].get(label)
    if model is None:
        return {}
    found = {}
    for name, field in model["fields"].items():
        first, _, last = field.get("releases", model.get("releases", "")).partition("..")
        if first and _release(first)[:2] > version[:2]:
            continue
        if last:
            later = [release for release in releases if release > _release(last)]
            if later and version >= later[0]:
                continue
        found[name] = _kind(field["kind"])
    if label == "ipam.vlangroup" and "vid_ranges" in found:
        found["vid_ranges"] = Kind.ranges
    return found


@cache
def _pairs(label: str, version: Version) -> tuple[tuple[str, str], ...]:
    """The generic pairs of a model: (the nested object's REST name, its id field)."""
    kinds = model_fields(label, version)
    found = []
    for name, kind in kinds.items():
        base = name.removesuffix("_type")
        if kind == Kind.content_type and base != name and f"{base}_id" in kinds:
            found.append((base, f"{base}_id"))
    return tuple(found)


# --- talking to NetBox --------------------------------------------------------------------


def _plain(token: str) -> str:
    """The token itself, also out of a whole header value pasted in ("Token 0123…")."""
    token = token.strip()
    keyword, _, rest = token.partition(" ")
    if rest and keyword.lower() in ("token", "bearer"):
        token = rest.strip()
    if not token or not re.fullmatch(r"[\x21-\x7e]+", token):
        raise ExportError("the NetBox API token is empty or holds characters an HTTP header cannot carry")
    return token


def authorization(token: str) -> str:
    """The Authorization header for a token: NetBox 4.5+'s v2 tokens (``nbt_<key>.<secret>``)
    go as ``Bearer``, v1 tokens as ``Token``."""
    token = _plain(token)
    return f"Bearer {token}" if token.startswith("nbt_") else f"Token {token}"


def _base(url: str) -> tuple[str, str]:
    """(scheme://host[:port], base path) of NetBox at ``url``, with or without its /api/."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ExportError(f"{_shown(url)!r} is not the http(s) address of a NetBox")
    if parts.username or parts.password:
        raise ExportError("give the NetBox address without a user name or password in it: the token authenticates")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/api")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}", path


def _shown(url: str) -> str:
    """A URL fit for a message: without any user information it carries."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl() if "@" in parts.netloc else url


def _detail(response: httpx.Response) -> str:
    """NetBox's own word on a refused request ({"detail": …}), if it gave one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return " ".join(str(detail).split())[:200] if detail else ""


class NotFound(Exception):
    """An endpoint this NetBox does not have (404)."""


class Refused(ExportError):
    """401 or 403: the token, or its user's permissions."""


class _Api:
    def __init__(self, url: str, token: str, timeout: float, client: httpx.Client | None) -> None:
        self.origin, self.base_path = _base(url)
        plain = _plain(token)
        # Longest first: a part must not break up the whole before it is replaced.
        self.secrets = sorted({plain, *(part for part in plain.split(".") if len(part) >= 8)}, key=len, reverse=True)
        self.headers = {"Authorization": authorization(token), "Accept": "application/json"}
        self.timeout = timeout
        self.owned = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        if self.owned:
            self.client.close()

    def error(self, message: str) -> ExportError:
        for secret in self.secrets:  # whatever a server echoes, the token is not repeated
            message = message.replace(secret, "<token>")
        return ExportError(message)

    def path(self, endpoint: str) -> str:
        return f"{self.base_path}/api/{endpoint}"

    def get(self, endpoint: str, params: dict[str, str] | None = None, *, what: str = "") -> Any:
        """The JSON NetBox answers GET /api/<endpoint> with (numbers not integers as Decimal)."""
        path = self.path(endpoint)
        shown = path + ("?" + "&".join(f"{key}={value}" for key, value in params.items()) if params else "")
        where = f"GET {shown}"
        try:
            response = self.client.get(self.origin + path, params=params, headers=self.headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise self.error(f"{where}: {self.origin} did not answer within {self.timeout:g} s") from None
        except httpx.ConnectError as error:
            raise self.error(f"{where}: cannot connect to {self.origin} ({_reason(error)})") from None
        except httpx.HTTPError as error:
            raise self.error(f"{where}: the request failed ({_reason(error)})") from None
        status = response.status_code
        if status == 404:
            raise NotFound(where)
        if status in (401, 403):
            detail = _detail(response)
            if status == 401 or "token" in detail.lower() or "authenticat" in detail.lower():
                problem = "the token was refused"
            else:
                problem = f"the token's user may not read {what or 'this'}"
            message = self.error(f"{where}: {status} {response.reason_phrase}: {problem}" + (f" ({detail})" if detail else ""))
            raise Refused(str(message))
        if 300 <= status < 400:
            location = response.headers.get("location", "")
            raise self.error(f"{where}: {status} {response.reason_phrase}, redirected to {_shown(location)!r}: give NetBox's address as it is served")
        if status >= 400:
            detail = _detail(response)
            raise self.error(f"{where}: NetBox answered {status} {response.reason_phrase}" + (f" ({detail})" if detail else ""))
        try:
            return json.loads(response.content, parse_float=Decimal)
        except RecursionError:
            raise self.error(f"{where}: the answer is nested too deep to be NetBox's") from None
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise self.error(f"{where}: the answer is not JSON ({kind}): is {self.origin}{self.base_path} a NetBox?") from None

    def version(self) -> Version:
        answer = self.get("status/", what="NetBox's status")
        raw = answer.get("netbox-version") if isinstance(answer, dict) else None
        found = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", str(raw or ""))
        if found is None:
            raise self.error(f"GET {self.path('status/')}: no netbox-version in the answer: is {self.origin}{self.base_path} a NetBox?")
        version = (int(found[1]), int(found[2]), int(found[3] or 0))
        if version < OLDEST:
            raise self.error(f"NetBox {raw} is older than 3.6, the oldest release read: upgrade it, or export it with dumpdata")
        return version

    def pages(self, endpoint: str, page_size: int, what: str) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list endpoint, one at a time, by id as dumpdata orders them.

        ``next`` is followed for its limit and offset only: the requests stay on the address
        given (a NetBox behind a proxy may name itself otherwise, and the token goes nowhere
        else)."""
        params = {"limit": str(page_size), "offset": "0", "ordering": "id"}
        while True:
            answer = self.get(endpoint, params, what=what)
            shown = f"GET {self.path(endpoint)}"
            if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
                raise self.error(f"{shown}: not a page of results (no results list): is this NetBox's API?")
            yield answer["results"]
            following = answer.get("next")
            if not following or not answer["results"]:
                return
            query = dict(parse_qsl(urlsplit(str(following)).query))
            after = {**params, **{key: value for key, value in query.items() if key in ("limit", "offset")}}
            if not after["offset"].isdigit() or int(after["offset"]) <= int(params["offset"]):
                raise self.error(f"{shown}: the next page ({after['offset']!r}) does not come after offset {params['offset']}")
            params = after


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


# --- converting ---------------------------------------------------------------------------


class _Reader:
    def __init__(self, api: _Api, version: Version, page_size: int, progress: Progress | None) -> None:
        self.api, self.version, self.page_size = api, version, page_size
        self.progress = progress or (lambda what, count: None)
        self.tag_names: dict[str, str] = {}  # slug → name, learnt from the tags (read first)
        self.custom_field_types: dict[str, str] = {}  # name → type, learnt from the custom fields
        self.usernames: dict[int, str] | None = None  # read when a user is named by id only
        # Where sites and locations are (read before what is scoped to them), for the
        # location caches of scoped objects: site → (region, site group), location → site.
        self.sites: dict[int, tuple[int | None, int | None]] = {}
        self.locations: dict[int, int | None] = {}
        self.index = 0

    def records(self) -> Iterator[Record]:
        for label, endpoint in ENDPOINTS.items():
            if not endpoint.serves(self.version):
                continue
            count = 0
            try:
                for page in self.api.pages(endpoint.path, self.page_size, label):
                    for item in page:
                        yield from self.convert(label, item, endpoint.path)
                    count += len(page)
                    self.progress(label, count)
            except NotFound:
                if count:
                    raise self.api.error(f"GET {self.api.path(endpoint.path)}: 404 Not Found after {count} objects had been read") from None
                self.progress(f"{label}: skipped, GET {self.api.path(endpoint.path)} answered 404 Not Found", SKIPPED)

    def record(self, model: str, pk: Any, fields: dict[str, Any]) -> Record:
        self.index += 1
        return Record(model, pk, fields, self.index)

    def convert(self, label: str, item: Any, endpoint: str) -> Iterator[Record]:
        where = f"GET {self.api.path(endpoint)}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or isinstance(item.get("id"), bool):
            raise self.api.error(f"{where}: an object without its integer id")
        pk = item["id"]
        kinds = model_fields(label, self.version)
        fields: dict[str, Any] = {}
        for name, value in item.items():
            if name == "custom_fields":
                if "custom_field_data" in kinds:
                    fields["custom_field_data"] = self.custom_fields(value, f"{where} ({label} {pk} custom_fields)")
            elif name in kinds:
                fields[name] = self.value(kinds[name], value, f"{where} ({label} {pk} {name})")
        # A generic pair whose id REST gives only inside the nested object (MAC addresses, 4.2.0).
        for base, id_field in _pairs(label, self.version):
            nested = item.get(base)
            if id_field not in item and isinstance(nested, dict) and isinstance(nested.get("id"), int):
                fields[id_field] = nested["id"]
        if label == "dcim.site":
            self.sites[pk] = (fields.get("region"), fields.get("group"))
        elif label == "dcim.location":
            self.locations[pk] = fields.get("site")
        if SCOPE_CACHES <= kinds.keys() and "scope_type" in fields:
            fields.update(self.scope_caches(fields.get("scope_type"), fields.get("scope_id")))
        if label == TAG:
            name, slug = item.get("name"), item.get("slug")
            if isinstance(name, str) and isinstance(slug, str):
                self.tag_names[slug] = name
        if label == "extras.customfield":
            name, kind = item.get("name"), self.value(Kind.value, item.get("type"), where)
            if isinstance(name, str) and isinstance(kind, str):
                self.custom_field_types[name] = kind
        yield self.record(label, None if label in NATURAL_KEYED else pk, fields)
        if isinstance(item.get("tags"), list) and "tags" not in kinds:
            content_type = label.split(".")
            for tag in item["tags"]:
                name = tag.get("name") if isinstance(tag, dict) else None
                if not isinstance(name, str):
                    raise self.api.error(f"{where} ({label} {pk} tags): a tag without its name")
                yield self.record("extras.taggeditem", None, {"content_type": content_type, "object_id": pk, "tag": [name]})
        if label in MAPPINGS and isinstance(item.get("rear_ports"), list):
            yield from self.mappings(label, item, fields, where)

    def scope_caches(self, scope_type: list[str] | None, scope_id: Any) -> dict[str, int | None]:
        """What NetBox caches of where a scoped object is (prefixes, clusters, wireless LANs
        of 4.2+; REST leaves the caches out): its scope's region, site group, site, location."""
        region = site_group = site = location = None
        scope = ".".join(scope_type) if scope_type else None
        if scope == "dcim.region":
            region = scope_id
        elif scope == "dcim.sitegroup":
            site_group = scope_id
        elif scope == "dcim.location":
            location, site = scope_id, self.locations.get(scope_id)
        elif scope == "dcim.site":
            site = scope_id
        if site is not None:
            region, site_group = self.sites.get(site, (None, None))
        return {"_region": region, "_site_group": site_group, "_site": site, "_location": location}

    def mappings(self, label: str, item: dict[str, Any], port: dict[str, Any], where: str) -> Iterator[Record]:
        """NetBox 4.5+'s mapping rows of a front port (template), as REST nests them."""
        model = MAPPINGS[label]
        owners = ("device",) if model == "dcim.portmapping" else ("device_type", "module_type")
        for mapping in item["rear_ports"]:
            if not isinstance(mapping, dict):
                raise self.api.error(f"{where} ({label} {item['id']} rear_ports): a mapping must be an object")
            fields = {owner: port.get(owner) for owner in owners}
            fields["front_port"] = item["id"]
            fields["front_port_position"] = mapping.get("position")
            fields["rear_port"] = self.value(Kind.ref, mapping.get("rear_port"), f"{where} ({label} {item['id']} rear_ports)")
            fields["rear_port_position"] = mapping.get("rear_port_position")
            yield self.record(model, None, fields)

    def value(self, kind: str, value: Any, where: str) -> Any:
        if kind == Kind.json:
            return value
        if value is None:
            return "" if kind == Kind.file else None
        if kind == Kind.value:
            if isinstance(value, dict) and CHOICE_KEYS <= value.keys() and value.keys() <= CHOICE_KEYS | {"description"}:
                return value["value"]
            return value
        if kind == Kind.ref:
            return self.ref(value, where)
        if kind == Kind.refs:
            return [self.ref(each, where) for each in self.listed(value, where)]
        if kind == Kind.content_type:
            return self.content_type(value, where)
        if kind == Kind.content_types:
            return [self.content_type(each, where) for each in self.listed(value, where)]
        if kind == Kind.user:
            return self.user(value, where)
        if kind == Kind.users:
            return [name for each in self.listed(value, where) if (name := self.user(each, where)) is not None]
        if kind == Kind.groups:
            return [[self.group_name(each, where)] for each in self.listed(value, where)]
        if kind == Kind.tags:
            return [[self.tag_name(each, where)] for each in self.listed(value, where)]
        if kind == Kind.decimal:
            if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
                raise self.api.error(f"{where}: expected a number, not {type(value).__name__}")
            return str(value)
        if kind == Kind.file:
            return self.media_path(value, where)
        if kind == Kind.ranges:
            return self.ranges(value, where)
        raise AssertionError(kind)

    def listed(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.api.error(f"{where}: expected a list, not {type(value).__name__}")
        return value

    def ref(self, value: Any, where: str) -> int:
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self.api.error(f"{where}: expected a nested object with its id, or an id")

    def content_type(self, value: Any, where: str) -> list[str]:
        if isinstance(value, dict):  # an object type nested whole
            value = f"{value.get('app_label')}.{value.get('model')}"
        if isinstance(value, str) and re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", value):
            return value.split(".")
        raise self.api.error(f'{where}: expected a content type "app_label.model", not {value!r:.60}')

    def user(self, value: Any, where: str) -> list[str] | None:
        if isinstance(value, dict):
            if isinstance(value.get("username"), str) and value["username"]:
                return [value["username"]]
            value = value.get("id")
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.api.error(f"{where}: expected a user, not {value!r:.60}")
        name = self.users().get(value)
        return [name] if name is not None else None

    def users(self) -> dict[int, str]:
        """Usernames by id, for the few fields REST gives as a bare id (a journal entry's author)."""
        if self.usernames is None:
            self.usernames = {}
            try:
                for page in self.api.pages("users/users/", self.page_size, "users.user"):
                    for user in page:
                        if isinstance(user, dict) and isinstance(user.get("id"), int) and isinstance(user.get("username"), str):
                            self.usernames[user["id"]] = user["username"]
            except (NotFound, Refused) as error:
                # Only names are lost (authors, owners of saved filters), not objects.
                problem = "answered 404" if isinstance(error, NotFound) else str(error)
                self.progress(f"users.user: usernames not read ({problem}): users named by id only are left out", SKIPPED)
        return self.usernames

    def group_name(self, value: Any, where: str) -> str:
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            return str(value["name"])
        raise self.api.error(f"{where}: expected a nested user group with its name")

    def tag_name(self, value: Any, where: str) -> str:
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            return str(value["name"])
        if isinstance(value, str) and value in self.tag_names:
            return self.tag_names[value]
        raise self.api.error(f"{where}: {value!r:.60} is not a tag read from extras/tags/")

    def custom_fields(self, value: Any, where: str) -> dict[str, Any]:
        """REST's custom_fields as NetBox stores them: object values by id."""
        if not isinstance(value, dict):
            raise self.api.error(f"{where}: expected an object of values by custom field name")
        stored: dict[str, Any] = {}
        for name, each in value.items():
            kind = self.custom_field_types.get(name)
            if kind == "object" or (kind is None and _nested(each)):
                stored[name] = None if each is None else self.ref(each, f"{where} {name}")
            elif kind == "multiobject" or (kind is None and isinstance(each, list) and each and all(_nested(one) for one in each)):
                stored[name] = None if each is None else [self.ref(one, f"{where} {name}") for one in self.listed(each, where)]
            else:
                stored[name] = each
        return stored

    def media_path(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.api.error(f"{where}: expected a file's URL, not {type(value).__name__}")
        path = unquote(urlsplit(value).path)
        media = f"{self.api.base_path}/media/"
        if path.startswith(media):
            return path[len(media) :]
        return value  # stored elsewhere (a remote storage backend): kept as given

    def ranges(self, value: Any, where: str) -> str:
        """REST's inclusive [lower, upper] pairs as dumpdata writes a list of integer ranges:
        the JSON of a list of each range's JSON, bounds as strings, upper exclusive."""
        ranges = []
        for pair in self.listed(value, where):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(bound, int) and not isinstance(bound, bool) for bound in pair)):
                raise self.api.error(f"{where}: expected [lower, upper] pairs of integers")
            ranges.append(json.dumps({"bounds": "[)", "lower": str(pair[0]), "upper": str(pair[1] + 1)}))
        return json.dumps(ranges)


def _nested(value: Any) -> bool:
    """A nested object as REST writes one: its id, its URL and how it is shown."""
    return isinstance(value, dict) and isinstance(value.get("id"), int) and "url" in value and "display" in value


def read_api(
    url: str,
    token: str,
    *,
    page_size: int = 1000,
    timeout: float = 30,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> Iterator[Record]:
    """Every object of the NetBox at ``url`` (its address, with or without /api/) that the
    import reads, as the records of a natural-key dumpdata export of it.

    ``progress(what, count)`` is told after every page: ``what`` is the model's label and
    ``count`` how many of its objects have been read. With ``count == SKIPPED`` (-1),
    ``what`` is a sentence to show as it is: an endpoint the NetBox did not have (404), or
    usernames that could not be read. Endpoints the NetBox version lacks are not asked for.
    ``client`` (closed by its owner) replaces the one made here; ``timeout`` is per request."""
    if page_size < 1:
        raise ExportError("the page size must be at least 1")
    api = _Api(url, token, timeout, client)
    try:
        version = api.version()
        yield from _Reader(api, version, page_size, progress).records()
    finally:
        api.close()
