"""Minimal valid objects of any exposed model, built from its ModelSpec alone.

The generated security suite (tests/test_security_registry.py) needs an object of every
model, related to objects of other models, in a chosen tenant. Nothing here names a
model: values come from the column kinds and bounds the registry reads from the
declarations, and required references are satisfied by creating their targets first
(recursively, in the same tenant). Everything is created through the public API
(``<name>_create``) with an administrator's key, so the objects are exactly what a
client could make.

A model whose columns need more than their kind says (a value that must satisfy a CHECK
the registry cannot see, a string with a format) gets an entry in ``VALUE_OVERRIDES``;
relations that are derived from values rather than declared (``schema/overrides.py``)
get an entry in ``DERIVED_RELATIONS``. Keep both tables tiny and explain every entry.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from models.base import Base
from models.registry import Kind, ModelSpec, RefSpec, ScalarSpec, content_type, spec_by_type_key, spec_for, specs
from schema.build import enum_member_name

# ---------------------------------------------------------------------------------------
# Override tables. Keyed by model class name; nothing else in the generated suite names one.


# (model, column) → value factory taking the object's sequence number. Needed only when a
# column's kind, length and bounds are not enough to make a valid value (each entry says
# why). These need none:
# - IPRange's CHECK ``start_address <= end_address`` (same family) holds because every
#   interface column of one sample object gets the same address (a one-address range);
# - Tag.color must be hex, but it has a default, so a minimal input never sets it.
# Add an entry when a new model's required column needs a format or must satisfy a CHECK.
def _png_base64(n: int) -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (n % 256, 0, 0)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


VALUE_OVERRIDES: dict[tuple[str, str], Callable[[int], Any]] = {
    ("ImageAttachment", "image"): _png_base64,  # an image file in base64, checked by its bytes
    # A choice set needs extra or base choices (resolvers/custom_fields.py); the column is
    # nullable, so the minimal input would leave it out.
    ("CustomFieldChoiceSet", "extra_choices"): lambda n: [[f"choice-{n}", f"Choice {n}"]],
    # A saved query's document validates against the schema and holds queries only
    # (resolvers/saved_queries.py).
    ("SavedQuery", "query"): lambda n: f"query Sample{n} {{ site_list {{ id }} }}",
    # A saved filter applies to at least one type, named as NetBox names it (resolvers/objects.py).
    ("SavedFilter", "object_types"): lambda n: ["dcim.site"],
    # An http(s) URL (resolvers/webhooks.py); the samples' writes are rolled back, so no
    # worker ever sends one (and nothing listens on port 9).
    ("Webhook", "payload_url"): lambda n: f"http://127.0.0.1:9/sample-{n}",
    # An event rule watches at least one type and one event type NetBox names.
    ("EventRule", "object_types"): lambda n: ["dcim.site"],
    ("EventRule", "event_types"): lambda n: ["object_created"],
    # An SNMP profile (v2c by default) needs a community (resolvers/discovery.py).
    ("SnmpProfile", "community"): lambda n: f"sample-{n}",
    # A schedule runs a registered job kind (resolvers/jobs.py), at least every 10 s.
    ("JobSchedule", "kind"): lambda n: "prune_jobs",
    ("JobSchedule", "interval_seconds"): lambda n: 3600,
    # Only an SNMP check template takes an SNMP profile (the samples link one), and an SNMP
    # check needs an OID (resolvers/monitoring.py).
    ("CheckTemplate", "kind"): lambda n: "KIND_SNMP",
    ("CheckTemplate", "parameters"): lambda n: {"oid": "1.3.6.1.2.1.1.3.0"},
    # A webhook channel (the first kind) posts to an http(s) URL (resolvers/alerts.py);
    # nothing listens on port 9 and no sample raises an alert.
    ("NotificationChannel", "url"): lambda n: f"http://127.0.0.1:9/alerts-{n}",
    # A silence ends after it starts and says why (resolvers/alerts.py).
    ("Silence", "starts_at"): lambda n: "2026-01-01T00:00:00+00:00",
    ("Silence", "ends_at"): lambda n: "2026-01-02T00:00:00+00:00",
    ("Silence", "comment"): lambda n: f"sample window {n}",
}

# Relation fields computed from values instead of declared references (the prefix tree,
# schema/overrides.py): (owner model, field) → (target model, owner values, target values)
# that make one owner object and one target object related. Both objects are created in
# the same tenant (and so the same, global, VRF). The generated suite checks that every
# relation registered for prefetching is either declared in the registry or listed here.
DERIVED_RELATIONS: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any]]] = {
    # A prefix's ip_addresses: addresses of its tenant and VRF inside it.
    ("Prefix", "ip_addresses"): ("IPAddress", {"prefix": "198.18.0.0/24"}, {"address": "198.18.0.7/24"}),
    # An address's prefix: the most specific prefix of its tenant and VRF containing it.
    ("IPAddress", "prefix"): ("Prefix", {"address": "198.18.0.7/24"}, {"prefix": "198.18.0.0/24"}),
    # A device's effective SNMP profile: with no binding of its own, its tenant's default.
    ("Device", "effective_snmp_profile"): ("SnmpProfile", {}, {"is_default": True}),
}


# Links a model rule constrains beyond the tenant (resolvers/dcim.py), so that a sample
# target cannot simply be pointed at: (owner model, field). The generated suite still tries
# them across tenants (refused before any rule runs); their valid use is tested by hand
# (tests/test_dcim_components.py, test_dcim_racks.py). Explain every entry.
RULE_BOUND_LINKS: set[tuple[str, str]] = {
    ("Interface", "lag"),  # the target must be a LAG on the same device
    ("Interface", "primary_mac_address"),  # the MAC must be assigned to this interface
    ("Device", "primary_ip4"),  # the address must be on one of this device's interfaces
    ("Device", "primary_ip6"),  # (same)
    ("Device", "oob_ip"),  # (same)
    ("DeviceBay", "installed_device"),  # the device's type must be a child type
    ("VirtualChassis", "master"),  # the device must be a member already
    ("VMInterface", "primary_mac_address"),  # the MAC must be assigned to this interface
    ("WirelessLink", "interface_a"),  # the interface must be a radio, on no other link
    ("WirelessLink", "interface_b"),  # (same)
    ("VirtualMachine", "primary_ip4"),  # the address must be on one of this VM's interfaces
    ("VirtualMachine", "primary_ip6"),  # (same)
    ("VLAN", "qinq_svlan"),  # the target must be a service VLAN, the owner a customer VLAN (tests/test_qinq.py)
}


# Values an owner needs for a link to be valid (a rule reads them): (owner model, field)
# → owner values set in the same write. Explain every entry.
LINK_OWNER_VALUES: dict[tuple[str, str], dict[str, Any]] = {
    ("Interface", "tagged_vlans"): {"mode": "MODE_TAGGED"},  # only tagged-mode interfaces list tagged VLANs
    ("Interface", "untagged_vlan"): {"mode": "MODE_ACCESS"},  # an untagged VLAN needs an 802.1Q mode
    ("VMInterface", "tagged_vlans"): {"mode": "MODE_TAGGED"},  # (as for device interfaces)
    ("VMInterface", "untagged_vlan"): {"mode": "MODE_ACCESS"},  # (same)
    ("Interface", "qinq_svlan"): {"mode": "MODE_Q_IN_Q"},  # a service VLAN only in Q-in-Q mode
    ("VMInterface", "qinq_svlan"): {"mode": "MODE_Q_IN_Q"},  # (same)
    ("CustomField", "choice_set"): {"type": "TYPE_SELECT"},  # only selection fields take a choice set
    ("AlertRule", "escalation_channel"): {"escalate_after_seconds": 60},  # an escalation needs its delay
}


# What a sample's reference to an object of any type (models.base.AnyObject) points at.
ANY_OBJECT_TARGET = "Site"


# Values a required reference's target needs (a rule reads them): (owner model, field) →
# target values. Explain every entry.
LINK_TARGET_VALUES: dict[tuple[str, str], dict[str, Any]] = {
    ("WirelessLink", "interface_a"): {"type": "TYPE_IEEE802_11AC"},  # a wireless link joins radios
    ("WirelessLink", "interface_b"): {"type": "TYPE_IEEE802_11AC"},  # (same)
}


# ---------------------------------------------------------------------------------------
# Facts derived from the registry.


def creatable(spec: ModelSpec) -> bool:
    """The model has generated create/update/delete mutations (schema/root.py's rule)."""
    return not spec.read_only and any(s.writable for s in spec.scalars)


def owner_of(spec: ModelSpec) -> str | None:
    """Which tenant owns an object of this model, as its declaration says:
    ``"tenant"`` (its tenant_id column), ``"self"`` (the object is a tenant) or None
    (organisation-wide, or not tenant-owned)."""
    probe = SimpleNamespace(id="self", tenant_id="tenant")
    try:
        answer = spec.model.owning_tenant(probe)
    except AttributeError:
        return None
    return answer if answer in ("self", "tenant") else None


def tenant_ref(spec: ModelSpec) -> RefSpec | None:
    """The reference holding the object's tenant (column ``tenant_id``), if tenant-scoped."""
    if not spec.tenant_scoped:
        return None
    return next((r for r in spec.refs if r.column == "tenant_id"), None)


def tenant_input(spec: ModelSpec) -> RefSpec | None:
    """The tenant reference a create input takes: none for an owned row (a component takes
    its device's tenant)."""
    home = tenant_ref(spec)
    return home if home is not None and home.writable else None


def tag_spec() -> ModelSpec:
    """The model tags are made of: the table tag assignments point at."""
    table = Base.metadata.tables["tagged_item"]
    (fk,) = table.c.tag_id.foreign_keys
    return spec_by_type_key(fk.column.table.name)


def output_scalars(spec: ModelSpec) -> list[ScalarSpec]:
    """The scalars a query selects as they are: not secrets (write-only), not a column whose
    field an override answers as an object (an image attachment's ``image``)."""
    from schema.build import OVERRIDDEN  # filled when the schema is built (the app fixture)

    replaced = OVERRIDDEN.get(spec.type_name, frozenset())
    return [s for s in spec.scalars if not s.secret and s.name not in replaced]


def required_scalars(spec: ModelSpec) -> list[ScalarSpec]:
    """Writable scalars a create must give: not nullable and no default."""
    return [s for s in spec.scalars if s.writable and not s.nullable and not s.has_default]


def required_refs(spec: ModelSpec) -> list[RefSpec]:
    """References a create must give (the tenant is resolved separately)."""
    return [r for r in spec.refs if not r.nullable and r.writable and r.column != "tenant_id"]


def input_type(spec: ModelSpec, create: bool = True) -> str:
    return f"{spec.type_name}{'CreateInput' if create else 'UpdateInput'}"


# ---------------------------------------------------------------------------------------
# Values by kind.

_NETWORK_BASE = int(ipaddress.ip_address("10.0.0.0"))
_INTERFACE_BASE = int(ipaddress.ip_address("100.64.0.0"))


def sample_network(n: int) -> str:
    """A /24 with no host bits, unique per n (10.0.0.0/8)."""
    return f"{ipaddress.ip_address(_NETWORK_BASE + (n % 65536) * 256)}/24"


def sample_interface(n: int) -> str:
    """A host address, unique per n (100.64.0.0/10, away from the sample networks)."""
    return f"{ipaddress.ip_address(_INTERFACE_BASE + 1 + n % 4_000_000)}/32"


def sample_value(spec: ModelSpec, scalar: ScalarSpec, n: int) -> Any:
    """A valid value of ``scalar`` for the object numbered ``n`` (unique where it matters)."""
    override = VALUE_OVERRIDES.get((spec.type_name, scalar.name))
    if override is not None:
        return override(n)
    kind = scalar.kind
    if scalar.format in FORMAT_SAMPLES:
        return FORMAT_SAMPLES[scalar.format](n)
    if kind is Kind.integer and scalar.choices:
        return scalar.choices[n % len(scalar.choices)]
    if kind is Kind.string:
        text = f"s{n}"
        if scalar.max_length is not None and len(text) > scalar.max_length:
            raise ValueError(f"{spec.type_name}.{scalar.name}: max_length {scalar.max_length} too short for a unique sample")
        return text
    if kind in (Kind.integer, Kind.big_integer):
        if scalar.bounds is not None:
            low, high = scalar.bounds
            return low + n % (high - low + 1)
        return n
    if kind is Kind.boolean:
        return False
    if kind is Kind.uuid:
        return str(uuid.uuid4())
    if kind is Kind.datetime:
        return datetime.now(UTC).isoformat()
    if kind is Kind.date:
        return date.today().isoformat()
    if kind is Kind.network:
        return sample_network(n)
    if kind is Kind.interface:
        return sample_interface(n)
    if kind is Kind.choice:
        assert scalar.enum is not None
        first = next(iter(scalar.enum))  # sent as the NetBox-named GraphQL enum member
        return enum_member_name(getattr(scalar.enum, "graphql_prefix", ""), first.value)
    if kind is Kind.decimal:
        low, high = scalar.bounds or (-1000, 1000)
        return str(low + (n % int(high - low)))
    if kind is Kind.json:
        return {}
    if kind is Kind.strings:
        return []
    if kind is Kind.integers:
        low, _ = scalar.bounds or (1, 1)
        return [low + n % 10]
    raise ValueError(f"no sample value for {spec.type_name}.{scalar.name} of kind {kind}")


# Values of the declared string shapes (ScalarSpec.format), unique per n.
FORMAT_SAMPLES: dict[str, Callable[[int], str]] = {
    "hex_color": lambda n: f"{n % 0xFFFFFF:06x}",
    "hex_color_or_blank": lambda n: f"{n % 0xFFFFFF:06x}",
    "mac": lambda n: ":".join(f"{b:02X}" for b in (0x02, 0, *(n % 2**32).to_bytes(4, "big"))),
    "wwn": lambda n: ":".join(f"{b:02X}" for b in (0x50, 0, 0, 0, *(n % 2**32).to_bytes(4, "big"))),
    "object_type_or_blank": lambda n: "",
    "identifier": lambda n: f"s{n}",
}


# ---------------------------------------------------------------------------------------
# Creating objects through the API.


@dataclass
class Sample:
    spec: ModelSpec
    id: str
    numid: int | None
    tenant: str | None  # the tenant that owns it (itself for a tenant), None if org-wide
    input: dict[str, Any] = field(repr=False, default_factory=dict)


FITTING: dict[str, int] = {}


class SampleError(AssertionError):
    pass


class Samples:
    """Builds objects for one test, through ``api`` (an administrator's client)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.sequence = 0
        self.made: dict[str, Sample] = {}
        # The one-of member that made a valid object of a model (see build_input): a fact
        # about the models, shared by every Samples.
        self.fitting = FITTING

    def next_number(self) -> int:
        self.sequence += 1
        return self.sequence

    async def build_input(
        self,
        spec: ModelSpec,
        tenant: Any = None,
        *,
        refs: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        member: int | None = None,
    ) -> dict[str, Any]:
        """A minimal valid create input; targets of required references are created first.

        ``refs`` sets references by field name (``{"vrf": id}``; ``"tenant"`` overrides
        ``tenant``); ``values`` sets or replaces any other input field."""
        refs = dict(refs or {})
        values = dict(values or {})
        if member is None:
            if _member_choices(spec) > 1 and spec.type_name not in self.fitting:
                await self.create(spec, tenant, refs=refs)  # learns which member fits
            member = self.fitting.get(spec.type_name, 0)
        n = self.next_number()
        data: dict[str, Any] = {}
        for scalar in required_scalars(spec):
            data[scalar.name] = sample_value(spec, scalar, n)
        for scalar in spec.scalars:  # optional columns a rule needs anyway (VALUE_OVERRIDES)
            if (spec.type_name, scalar.name) in VALUE_OVERRIDES:
                data[scalar.name] = sample_value(spec, scalar, n)
        if spec.any_object is not None and spec.any_object.id_column not in values:
            # A reference to an object of any type: a site of the same tenant.
            pointed_at = await self.create(spec_for(ANY_OBJECT_TARGET), refs.get("tenant", tenant))
            values.update({spec.any_object.type_column: spec_for(ANY_OBJECT_TARGET).content_type, spec.any_object.id_column: pointed_at.id})
        home = tenant_ref(spec)
        if home is not None:
            tenant = refs.pop(home.name, tenant)
            if tenant is None:
                raise SampleError(f"{spec.type_name} is tenant-scoped: give a tenant")
            if home.writable:
                data[home.name] = str(tenant)
        # A required one-of, or a required carried list (a cable's ends), gets an object of
        # its member number ``member`` (create() tries them in turn: not every kind fits).
        for one_of in spec.one_of:
            if not one_of.nullable and one_of.name not in values:
                values[one_of.name] = await self._member(one_of.members, member, tenant)
        for carried in spec.inline:
            if carried.required and carried.name not in values:
                item = next(o for o in spec_for(carried.source).one_of if o.name == carried.item)
                values[carried.name] = [await self._member(item.members, member, tenant)]
        # A referenced object brings its scope along: where the new object and the object it
        # points at share a reference (a location's parent and the location are in one site;
        # a device and its location too), the new object takes the same one.
        # A one-of value (an inventory item's component) counts as such a reference too.
        pointed = [target for name, target in refs.items() if spec.ref(name) is not None]
        pointed += [value["id"] for name, value in values.items() if any(o.name == name for o in spec.one_of) and isinstance(value, dict)]
        for target in pointed:
            made = self.made.get(str(target)) if target is not None else None
            if made is None or made.tenant != (str(tenant) if tenant else None):
                continue
            for other in spec.refs:
                shared = made.spec.ref(other.name)
                if other.writable and other.name not in refs and other.name in made.input and shared is not None and shared.target == other.target:
                    refs[other.name] = made.input[other.name]
        for ref in required_refs(spec):
            if ref.name in refs:
                continue
            target = spec_for(ref.target)
            if target is spec:
                raise SampleError(f"{spec.type_name}.{ref.name} requires an object of its own model")
            target_tenant = tenant if target.tenant_scoped else None
            # The target shares what the object has chosen so far (a module's bay is on the
            # module's device; a port mapping's rear port is on its front port's device).
            pool = self._chosen(spec, refs)
            shared = {name: value for name, (kind, value) in pool.items() if _refers(target, name, kind)}
            refs[ref.name] = (await self.create(target, target_tenant, refs=shared, values=LINK_TARGET_VALUES.get((spec.type_name, ref.name)))).id
        if home is not None and not home.writable and not any(name in refs or name in values for name in spec.tenant_from):
            # An owned row needs one owner (a template: its device type or module type):
            # the one its chosen objects have, else a new one.
            owner = spec.ref(spec.tenant_from[0])
            assert owner is not None
            pool = self._chosen(spec, refs)
            known = pool.get(owner.name)
            if known is not None and known[0] == owner.target:
                refs[owner.name] = known[1]
            else:
                refs[owner.name] = (await self.create(spec_for(owner.target), tenant)).id
        for name, target in refs.items():
            data[name] = str(target) if target is not None else None
        data.update(values)
        return data

    async def _member(self, members: tuple[tuple[str, str], ...], index: int, tenant: Any) -> dict[str, Any]:
        target = spec_for(members[index % len(members)][0])
        made = await self.create(target, tenant if target.tenant_scoped else None)
        return {"type": content_type(target.model), "id": made.id}

    def _chosen(self, spec: ModelSpec, refs: dict[str, Any]) -> dict[str, tuple[str, Any]]:
        """References chosen so far (name → (target model, id)), with those of the objects
        already chosen (a front port's device)."""
        pool = {name: (ref.target, value) for name, value in refs.items() if (ref := spec.ref(name)) is not None}
        for target in refs.values():
            made = self.made.get(str(target)) if target is not None else None
            if made is None:
                continue
            for name, value in made.input.items():
                ref = made.spec.ref(name)
                if ref is not None and ref.writable and name not in pool:
                    pool[name] = (ref.target, value)
        return pool

    async def submit(self, spec: ModelSpec, data: dict[str, Any], tenant: Any = None) -> Sample:
        """Create from a full input; the object is recorded for later scope copying."""
        numid = " numid" if spec.numbered else ""
        query = f"mutation($input: {input_type(spec)}!) {{ {spec.name}_create(input: $input) {{ id{numid} }} }}"
        body = await self.api.query(query, {"input": data})
        if body.get("errors"):
            raise SampleError(f"could not create a sample {spec.type_name} from {data}: {body['errors']}")
        created = body["data"][f"{spec.name}_create"]
        owner = owner_of(spec)
        home = tenant_ref(spec)
        if owner == "self":
            tenant_id = created["id"]
        elif owner == "tenant" and home is not None:
            tenant_id = data.get(home.name, str(tenant) if tenant else None)
        else:
            tenant_id = None
        sample = Sample(spec, created["id"], created.get("numid"), tenant_id, data)
        self.made[sample.id] = sample
        return sample

    async def create(
        self,
        spec: ModelSpec,
        tenant: Any = None,
        *,
        refs: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Sample:
        """Create a minimal valid object of ``spec`` (in ``tenant`` if tenant-scoped)."""
        choices = _member_choices(spec)
        for member in range(choices):
            data = await self.build_input(spec, tenant, refs=refs, values=values, member=member)
            try:
                made = await self.submit(spec, data, tenant)
                self.fitting[spec.type_name] = member
                return made
            except SampleError:
                if member == choices - 1:
                    raise
        raise AssertionError("unreachable: at least one choice")

    async def link_target(self, spec: ModelSpec, tenant: Any) -> Sample:
        """An object of ``spec`` that a many-to-many list of a row in ``tenant`` may name: a
        new sample, or for a tenant-owned target that is its own owner (a tenant), the
        tenant itself (a row names no other tenant)."""
        if owner_of(spec) == "self" and tenant is not None:
            return Sample(spec, str(tenant), None, str(tenant))
        return await self.create(spec, tenant)

    async def create_with_ref(self, spec: ModelSpec, tenant: Any, ref_name: str, target_id: Any) -> Sample:
        """Create an object with the one reference ``ref_name`` set to ``target_id``."""
        if spec.ref(ref_name) is None:
            raise SampleError(f"{spec.type_name} has no reference {ref_name}")
        return await self.create(spec, tenant, refs={ref_name: target_id}, values=LINK_OWNER_VALUES.get((spec.type_name, ref_name)))


def all_specs() -> list[ModelSpec]:
    return list(specs().values())


def _refers(spec: ModelSpec, name: str, kind: str) -> bool:
    """``spec`` has a writable reference ``name`` to model ``kind``."""
    ref = spec.ref(name)
    return ref is not None and ref.writable and ref.target == kind


def _member_choices(spec: ModelSpec) -> int:
    """How many kinds a required one-of or carried list may take (1 when there is none)."""
    counts = [len(o.members) for o in spec.one_of if not o.nullable]
    for carried in spec.inline:
        if carried.required:
            counts += [len(o.members) for o in spec_for(carried.source).one_of if o.name == carried.item]
    return max(counts, default=1)
