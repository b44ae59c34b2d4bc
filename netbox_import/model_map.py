"""What becomes of every model and field a NetBox 3.6 to 4.6 export can hold.

``MODELS`` is the one table, keyed by NetBox's model label (``dcim.site``): each model
lands in a Danbyte model (named by class, as ``models.registry.specs()`` knows it), is
kept as history (the change log), folds into a field of another object (tagged items are
tags), is kept as tags and custom fields (the models the design leaves out), is read only
to resolve references (content types, usernames), or is skipped with the reason (NetBox's
own machinery: sessions, caches, jobs, UI state). A label not in the table is a plugin's
or a newer NetBox's: ``plan`` answers it as ``unknown``, for the summary to report.

Fields are derived from the registry wherever the names agree (a NetBox field named like
a Danbyte scalar, reference or many-to-many field maps to it) and declared here only
where they differ: renamed fields, NetBox's generic pairs (``scope_type`` + ``scope_id``
→ a one-of ``scope``), fields older releases had (``rack.type`` → ``form_factor``),
caches NetBox keeps of what Danbyte derives (``_path``, ``_name``, ``*_count``, MPTT
columns) and fields without a Danbyte home yet, kept in the object's custom fields under
``netbox_<field>`` so nothing is silently lost. ``plan(label).field(name)`` says what
happens to one field of one record.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from models.registry import Kind, ModelSpec, specs

CUSTOM_FIELD_PREFIX = "netbox_"


class Disposition(enum.Enum):
    """What becomes of a NetBox model's records."""

    model = "model"  # lands in a Danbyte model
    history = "history"  # change log entries, kept as history with their times and users
    folded = "folded"  # each record is a field of another object (a tagged item: a tag)
    custom_data = "kept as tags and custom fields"  # a model the design leaves out
    lookup = "lookup"  # read to resolve references (content types, users), not imported
    skipped = "skipped"  # NetBox's own machinery, not data
    unknown = "unknown"  # not in the table: a plugin's model or a newer NetBox's


class Status(enum.Enum):
    """What becomes of one field of a record that lands in a model."""

    mapped = "mapped"
    ignored = "ignored"  # derived or cached: nothing is lost
    custom_field = "kept in custom fields"  # no Danbyte home yet: kept under netbox_<field>
    dropped = "dropped"  # lost, with the reason (the summary lists these)
    unknown = "unknown"  # not in the map


class How(enum.Enum):
    """How a mapped field's value is carried over."""

    value = "value"  # as it is (decimals exact, choices as NetBox spells them)
    reference = "reference"  # a NetBox id (or natural key) of the target model's object
    references = "references"  # a list of them (many-to-many)
    content_type = "content_type"  # a content type, id or natural key → "app.model"
    content_types = "content_types"  # a list of them
    generic = "generic"  # one half of a NetBox generic pair (<x>_type, <x>_id) → one field
    any_object = "any_object"  # the id half of a pair Danbyte keeps as a pair (object_id)
    member = "member"  # a plain NetBox reference that became one member of a one-of
    custom_fields = "custom_fields"  # NetBox's custom_field_data: values by field name
    user = "user"  # a user, id or natural key [username] → the username
    special = "special"  # converted as the note says


@dataclass(frozen=True)
class FieldPlan:
    """What becomes of one NetBox field."""

    name: str
    status: Status
    target: str | None = None  # the Danbyte field; "Model.field" where it lands elsewhere
    how: How | None = None
    note: str = ""  # the reason (ignored, dropped) or how it converts
    member: str | None = None  # How.member: the one-of member (a class name)


@dataclass(frozen=True)
class Entry:
    """A row of the table."""

    disposition: Disposition
    target: str | None = None  # the Danbyte model (class name) for model and history
    reason: str = ""
    fields: Mapping[str, FieldPlan] = field(default_factory=lambda: MappingProxyType({}))
    natural_key: str | None = None  # the field naming a record an export writes without its pk


@dataclass(frozen=True)
class ModelPlan:
    """What becomes of one NetBox model, and of each of its fields."""

    label: str
    disposition: Disposition
    target: str | None  # the Danbyte model (model, history)
    reason: str
    declared: Mapping[str, FieldPlan]
    into: str | None = None  # folded: the field the records become ("tags", "Contact.groups")
    natural_key: str | None = None  # the field naming a record written without its pk (a tag's name)

    @property
    def spec(self) -> ModelSpec | None:
        return specs()[self.target] if self.target is not None else None

    @property
    def numid_from_pk(self) -> bool:
        """NetBox's id becomes the object's numid (cable #27 stays #27)."""
        spec = self.spec
        return spec is not None and spec.numbered

    def field(self, name: str) -> FieldPlan:
        """What becomes of field ``name`` of this model's records."""
        return _field_plan(self.label, name)

    def fields(self, names: list[str] | set[str] | tuple[str, ...]) -> dict[str, FieldPlan]:
        return {name: self.field(name) for name in sorted(names)}


# --- declaring ----------------------------------------------------------------------------


def to(target: str, how: How = How.value, note: str = "", member: str | None = None) -> FieldPlan:
    return FieldPlan("", Status.mapped, target, how, note, member)


def ignore(reason: str) -> FieldPlan:
    return FieldPlan("", Status.ignored, note=reason)


def keep(note: str = "") -> FieldPlan:
    """No Danbyte home yet: the value goes into the object's custom fields."""
    return FieldPlan("", Status.custom_field, note=note)


def drop(reason: str) -> FieldPlan:
    return FieldPlan("", Status.dropped, note=reason)


def land(target: str, note: str = "", natural_key: str | None = None, **fields: FieldPlan) -> Entry:
    return Entry(Disposition.model, target, note, _named(fields), natural_key)


def history(target: str, note: str, **fields: FieldPlan) -> Entry:
    return Entry(Disposition.history, target, note, _named(fields))


def folded(into: str, reason: str) -> Entry:
    return Entry(Disposition.folded, into, reason)


def custom_data(reason: str) -> Entry:
    return Entry(Disposition.custom_data, None, reason)


def lookup(reason: str) -> Entry:
    return Entry(Disposition.lookup, None, reason)


def skipped(reason: str) -> Entry:
    return Entry(Disposition.skipped, None, reason)


def _named(fields: dict[str, FieldPlan]) -> Mapping[str, FieldPlan]:
    named = {}
    for name, plan in fields.items():
        target = plan.target
        if plan.status is Status.custom_field:
            target = f"custom_fields.{CUSTOM_FIELD_PREFIX}{name}"
        named[name] = FieldPlan(name, plan.status, target, plan.how, plan.note, plan.member)
    return MappingProxyType(named)


# Reasons and notes said once.
NO_DATA_SOURCES = "Danbyte has no data sources: the content is imported as it is"
SYNCED_COPY = "a copy NetBox keeps of the data source's file: the content is imported"
VERSION_SCOPE = "NetBox 4.2+ scope: a generic pair"
OLD_OBJECT_TYPES = "NetBox ≤ 3.7's name for object_types"
EVENT_FLAGS = (
    "NetBox ≤ 4.0's flags, as NetBox 4.1 converts them: create, update, delete → object_created, object_updated, object_deleted; "
    "job start → job_started; job end → job_completed, job_errored, job_failed (job events have no jobs here to fire them)"
)
FRONT_TO_REAR = "NetBox ≤ 4.4: a front port names its rear port; here (as in 4.5+) that is a mapping row"
MAC_ON_INTERFACE = "NetBox ≤ 4.1: the MAC address of the interface; here (as in 4.2+) a MAC address object assigned to it, and its primary one"
FORGOTTEN_USERS = "the Danbyte account of that username, if any: NetBox accounts are not imported"


# --- the table ----------------------------------------------------------------------------

MODELS: dict[str, Entry] = {
    # Django's own apps, installed in every NetBox.
    "admin.logentry": skipped("Django admin's log: NetBox's change log is core.objectchange"),
    "auth.group": skipped("user groups and their permissions: Danbyte's grants are made anew (NetBox's constraints are Django query filters)"),
    "auth.permission": skipped("Django's catalogue of model permissions, rebuilt by every install"),
    "auth.user": lookup(f"NetBox ≤ 3.7's users: usernames named by history, journal entries and reservations; {FORGOTTEN_USERS}"),
    "contenttypes.contenttype": lookup("the table generic references name types by (integer ids in exports without natural keys)"),
    "sessions.session": skipped("web sessions"),
    "social_django.association": skipped("single sign-on state"),
    "social_django.code": skipped("single sign-on state"),
    "social_django.nonce": skipped("single sign-on state"),
    "social_django.partial": skipped("single sign-on state"),
    "social_django.usersocialauth": skipped("single sign-on links of accounts"),
    "taggit.tag": skipped("django-taggit's own tables, unused: NetBox's tags are extras.tag"),
    "taggit.taggeditem": skipped("django-taggit's own tables, unused: NetBox's tags are extras.taggeditem"),
    "django_rq.queue": skipped("a stand-in for the job queues, never stored"),
    # NetBox: accounts and its own machinery.
    "account.usertoken": skipped("a proxy of users.token, never dumped"),
    "core.autosyncrecord": skipped("data source sync bookkeeping"),
    "core.configrevision": skipped("NetBox's own settings (banners, pagination, defaults)"),
    "core.contenttype": skipped("a proxy of contenttypes.contenttype (NetBox 3.7), never dumped"),
    "core.datafile": skipped(SYNCED_COPY),
    "core.datasource": skipped(NO_DATA_SOURCES),
    "core.job": skipped("background job runs of NetBox's workers (housekeeping, scripts, reports)"),
    "core.managedfile": skipped("uploaded script and report files: Python NetBox runs, Danbyte runs none"),
    "core.objecttype": lookup("NetBox 4.0+'s content types with their features (the same ids as contenttypes.contenttype)"),
    "extras.bookmark": skipped("a user's bookmarks in NetBox's UI"),
    "extras.branch": skipped("NetBox ≤ 4.2's staging branches, an internal API"),
    "extras.cachedvalue": skipped("the global search index, rebuilt from the objects"),
    "extras.configrevision": skipped("NetBox 3.6's settings (banners, pagination, defaults)"),
    "extras.dashboard": skipped("a user's dashboard layout: dashboards are left out"),
    "extras.notification": skipped("notifications are left out: a user's unread events"),
    "extras.notificationgroup": skipped("notifications are left out"),
    "extras.report": skipped("NetBox ≤ 3.7's reports, never stored as rows"),
    "extras.reportmodule": skipped("a proxy of core.managedfile, never dumped"),
    "extras.script": skipped("scripts are left out: Python NetBox runs, Danbyte runs none"),
    "extras.scriptmodule": skipped("a proxy of core.managedfile, never dumped"),
    "extras.stagedchange": skipped("NetBox ≤ 4.2's staged changes, an internal API"),
    "extras.subscription": skipped("notifications are left out: a user's subscriptions"),
    "extras.tableconfig": skipped("saved table layouts of NetBox's UI"),
    "users.group": skipped("user groups and their permissions: Danbyte's grants are made anew (NetBox's constraints are Django query filters)"),
    "users.netboxgroup": skipped("a proxy of auth.group (NetBox ≤ 3.7), never dumped"),
    "users.netboxuser": skipped("a proxy of auth.user (NetBox ≤ 3.7), never dumped"),
    "users.objectpermission": skipped("NetBox's permissions (constraints are Django query filters): Danbyte's grants are made anew"),
    "users.token": skipped("API tokens: secrets of NetBox's accounts; Danbyte issues its own"),
    "users.user": lookup(f"usernames named by history, journal entries and reservations; {FORGOTTEN_USERS}"),
    "users.userconfig": skipped("a user's UI preferences"),
    # Models the design leaves out: what objects say of them stays on those objects.
    "dcim.cablebundle": custom_data("cable bundles are left out: a cable keeps its bundle's name in netbox_bundle"),
    "dcim.moduletypeprofile": custom_data(
        "module type profiles are left out: a module type keeps its profile in netbox_profile, attributes in netbox_attribute_data"
    ),
    "dcim.rackgroup": custom_data("rack groups (NetBox 4.6) have no Danbyte model yet: a rack keeps its group's name in netbox_group"),
    "dcim.racktype": custom_data("rack types are left out: a rack keeps its own dimensions, and its type's name in netbox_rack_type"),
    "dcim.virtualdevicecontext": custom_data("virtual device contexts are left out: an interface keeps its contexts' names in netbox_vdcs"),
    "extras.configcontextprofile": custom_data("config context profiles (NetBox 4.4+) are left out: a context keeps its profile in netbox_profile"),
    "ipam.asnrange": custom_data("ASN ranges are left out: the ASNs themselves are imported; a range's own name and bounds have no home"),
    "ipam.vlantranslationpolicy": custom_data("VLAN translation is left out: an interface keeps its policy's name in netbox_vlan_translation_policy"),
    "ipam.vlantranslationrule": custom_data("VLAN translation is left out: interfaces keep their policy's name; its rules have no home"),
    "users.owner": custom_data("owners (NetBox 4.5+) are left out: an object keeps its owner's name in netbox_owner"),
    "users.ownergroup": custom_data("owners (NetBox 4.5+) are left out: objects keep their owner's name; owner groups have no home"),
    # Rows that are a field of another object here.
    "extras.taggeditem": folded("tags", "a tag on an object: the object's tags"),
    "tenancy.contactgroupmembership": folded("Contact.groups", "NetBox 4.3.0's contact group membership rows: the contact's groups"),
    # History.
    "core.objectchange": history(
        "ObjectChange",
        "change log entries, with NetBox's times, users and snapshots",
        changed_object_type=to("object_type", How.content_type),
        changed_object_id=to("object_id", How.any_object, "the object of that type; NetBox's id is also the object's numid (object_numid)"),
        related_object_type=ignore("the parent of the changed object (a device for an interface), named in the snapshots"),
        related_object_id=ignore("the parent of the changed object (a device for an interface), named in the snapshots"),
        user=to("user_id", How.user, FORGOTTEN_USERS + "; user_name keeps the name"),
        message=drop("NetBox 4.4+'s change message: Danbyte's change log has no message"),
    ),
    # Circuits.
    "circuits.circuit": land("Circuit"),
    "circuits.circuitgroup": land("CircuitGroup"),
    "circuits.circuitgroupassignment": land(
        "CircuitGroupAssignment",
        member_type=to("member", How.generic),
        member_id=to("member", How.generic),
        circuit=to("member", How.member, "NetBox 4.1: assignments held circuits only", member="Circuit"),
    ),
    "circuits.circuittermination": land(
        "CircuitTermination",
        termination_type=to("termination", How.generic),
        termination_id=to("termination", How.generic),
        site=to("termination", How.member, "NetBox ≤ 4.1: a termination at a site", member="Site"),
        provider_network=to("termination", How.member, "NetBox ≤ 4.1: a termination on a provider network", member="ProviderNetwork"),
        _provider_network=ignore("cached from the termination"),
    ),
    "circuits.circuittype": land("CircuitType"),
    "circuits.provider": land("Provider"),
    "circuits.provideraccount": land("ProviderAccount"),
    "circuits.providernetwork": land("ProviderNetwork"),
    "circuits.virtualcircuit": land("VirtualCircuit"),
    "circuits.virtualcircuittermination": land("VirtualCircuitTermination"),
    "circuits.virtualcircuittype": land("VirtualCircuitType"),
    # DCIM.
    "dcim.cable": land(
        "Cable",
        bundle=keep("the cable bundle's name (cable bundles are left out)"),
        profile=keep("NetBox 4.5+'s cable profile"),
    ),
    "dcim.cablepath": skipped("cable paths are traced from the cables here"),
    "dcim.cabletermination": land(
        "CableTermination",
        termination_type=to("termination", How.generic),
        termination_id=to("termination", How.generic),
        cable_end=to("cable_end", How.value, "which of the cable's lists (a_terminations, b_terminations) holds the termination"),
        connector=keep("NetBox 4.5+'s connector of a multi-connector cable"),
        positions=keep("NetBox 4.5+'s positions of a multi-position cable"),
    ),
    "dcim.consoleport": land("ConsolePort"),
    "dcim.consoleporttemplate": land("ConsolePortTemplate"),
    "dcim.consoleserverport": land("ConsoleServerPort"),
    "dcim.consoleserverporttemplate": land("ConsoleServerPortTemplate"),
    "dcim.device": land("Device"),
    "dcim.devicebay": land("DeviceBay"),
    "dcim.devicebaytemplate": land("DeviceBayTemplate"),
    "dcim.devicerole": land("DeviceRole"),
    "dcim.devicetype": land(
        "DeviceType",
        front_image=keep("the image's path in NetBox's media directory (the file is not in the export)"),
        rear_image=keep("the image's path in NetBox's media directory (the file is not in the export)"),
    ),
    "dcim.frontport": land(
        "FrontPort",
        rear_port=to("PortMapping.rear_port", How.special, FRONT_TO_REAR),
        rear_port_position=to("PortMapping.rear_port_position", How.special, FRONT_TO_REAR),
    ),
    "dcim.frontporttemplate": land(
        "FrontPortTemplate",
        rear_port=to("PortTemplateMapping.rear_port", How.special, FRONT_TO_REAR),
        rear_port_position=to("PortTemplateMapping.rear_port_position", How.special, FRONT_TO_REAR),
    ),
    "dcim.interface": land(
        "Interface",
        mac_address=to("MACAddress.mac_address", How.special, MAC_ON_INTERFACE),
        vdcs=keep("the virtual device contexts' names (left out)"),
        vlan_translation_policy=keep("the VLAN translation policy's name (left out)"),
    ),
    "dcim.interfacetemplate": land("InterfaceTemplate"),
    "dcim.inventoryitem": land("InventoryItem", component_type=to("component", How.generic), component_id=to("component", How.generic)),
    "dcim.inventoryitemrole": land("InventoryItemRole"),
    "dcim.inventoryitemtemplate": land("InventoryItemTemplate", component_type=to("component", How.generic), component_id=to("component", How.generic)),
    "dcim.location": land("Location"),
    "dcim.macaddress": land("MACAddress", assigned_object_type=to("assigned_object", How.generic), assigned_object_id=to("assigned_object", How.generic)),
    "dcim.manufacturer": land("Manufacturer"),
    "dcim.module": land("Module", local_context_data=keep("a module's local config context (NetBox ≤ 4.6.0)")),
    "dcim.modulebay": land("ModuleBay", parent=ignore("NetBox sets it from the module the bay is on")),
    "dcim.modulebaytemplate": land("ModuleBayTemplate"),
    "dcim.moduletype": land(
        "ModuleType",
        profile=keep("the module type profile's name (left out)"),
        attribute_data=keep("the attributes its profile's schema describes (left out)"),
    ),
    "dcim.platform": land("Platform"),
    "dcim.portmapping": land("PortMapping", device=ignore("the front port's device")),
    "dcim.porttemplatemapping": land("PortTemplateMapping"),
    "dcim.powerfeed": land("PowerFeed", available_power=ignore("NetBox computes it from voltage, amperage, phase and utilisation")),
    "dcim.poweroutlet": land("PowerOutlet"),
    "dcim.poweroutlettemplate": land("PowerOutletTemplate"),
    "dcim.powerpanel": land("PowerPanel"),
    "dcim.powerport": land("PowerPort"),
    "dcim.powerporttemplate": land("PowerPortTemplate"),
    "dcim.rack": land(
        "Rack",
        type=to("form_factor", How.value, "NetBox ≤ 4.0's name for form_factor"),
        rack_type=keep("the rack type's name (rack types are left out; the rack keeps its own dimensions)"),
        group=keep("the rack group's name (NetBox 4.6)"),
    ),
    "dcim.rackreservation": land("RackReservation", user=to("user_id", How.user, FORGOTTEN_USERS)),
    "dcim.rackrole": land("RackRole"),
    "dcim.rearport": land("RearPort"),
    "dcim.rearporttemplate": land("RearPortTemplate"),
    "dcim.region": land("Region"),
    "dcim.site": land("Site"),
    "dcim.sitegroup": land("SiteGroup"),
    "dcim.virtualchassis": land("VirtualChassis", member_count=ignore("a count of its members")),
    # Extras.
    "extras.configcontext": land(
        "ConfigContext",
        profile=keep("the config context profile's name (left out)"),
        data_source=keep("the data source's name it was synced from: " + NO_DATA_SOURCES),
        data_path=keep("the path in the data source it was synced from"),
        auto_sync_enabled=keep("whether NetBox kept it synced from its data source"),
        data_file=ignore(SYNCED_COPY),
        data_synced=ignore("when NetBox last synced it"),
    ),
    "extras.configtemplate": land(
        "ConfigTemplate",
        debug=keep("NetBox 4.6's template debugging switch"),
        data_source=keep("the data source's name it was synced from: " + NO_DATA_SOURCES),
        data_path=keep("the path in the data source it was synced from"),
        auto_sync_enabled=keep("whether NetBox kept it synced from its data source"),
        data_file=ignore(SYNCED_COPY),
        data_synced=ignore("when NetBox last synced it"),
    ),
    "extras.customfield": land(
        "CustomField",
        content_types=to("object_types", How.content_types, OLD_OBJECT_TYPES),
        object_type=to("related_object_type", How.content_type, "NetBox ≤ 3.7's name for related_object_type"),
        group_name=to("group", How.special, "a custom field group of that name (made in the tenant; blank: none)"),
        ui_visibility=to(
            "ui_visible",
            How.special,
            "NetBox 3.6: read-write → always/yes, read-only → always/no, hidden → hidden/hidden, hidden-ifunset → if-set/yes (ui_visible/ui_editable)",
        ),
        related_object_type=to("related_object_type", How.content_type),
    ),
    "extras.customfieldchoiceset": land("CustomFieldChoiceSet"),
    "extras.customlink": land("CustomLink", content_types=to("object_types", How.content_types, OLD_OBJECT_TYPES)),
    "extras.eventrule": land(
        "EventRule",
        content_types=to("object_types", How.content_types, OLD_OBJECT_TYPES),
        action_object_type=to("action_object", How.generic, "a webhook; a script action has no Danbyte home and is reported"),
        action_object_id=to("action_object", How.generic, "a webhook; a script action has no Danbyte home and is reported"),
        action_parameters=to("action_data", How.value, "NetBox 3.7's name for action_data"),
        type_create=to("event_types", How.special, EVENT_FLAGS),
        type_update=to("event_types", How.special, EVENT_FLAGS),
        type_delete=to("event_types", How.special, EVENT_FLAGS),
        type_job_start=to("event_types", How.special, EVENT_FLAGS),
        type_job_end=to("event_types", How.special, EVENT_FLAGS),
    ),
    "extras.exporttemplate": land(
        "ExportTemplate",
        content_types=to("object_types", How.content_types, OLD_OBJECT_TYPES),
        data_source=keep("the data source's name it was synced from: " + NO_DATA_SOURCES),
        data_path=keep("the path in the data source it was synced from"),
        auto_sync_enabled=keep("whether NetBox kept it synced from its data source"),
        data_file=ignore(SYNCED_COPY),
        data_synced=ignore("when NetBox last synced it"),
    ),
    "extras.imageattachment": land(
        "ImageAttachment",
        content_type=to("object_type", How.content_type, "NetBox ≤ 3.7's name for object_type"),
        image=to("image", How.value, "the file's name; its bytes are in NetBox's media directory, not in the export"),
    ),
    "extras.journalentry": land("JournalEntry", created_by=to("created_by", How.user, "the author's username")),
    "extras.objectchange": history(
        "ObjectChange",
        "NetBox ≤ 4.0's change log entries (core.objectchange since 4.1)",
        changed_object_type=to("object_type", How.content_type),
        changed_object_id=to("object_id", How.any_object, "the object of that type; NetBox's id is also the object's numid (object_numid)"),
        related_object_type=ignore("the parent of the changed object (a device for an interface), named in the snapshots"),
        related_object_id=ignore("the parent of the changed object (a device for an interface), named in the snapshots"),
        user=to("user_id", How.user, FORGOTTEN_USERS + "; user_name keeps the name"),
    ),
    "extras.savedfilter": land(
        "SavedFilter",
        content_types=to("object_types", How.content_types, OLD_OBJECT_TYPES),
        user=keep("the username of the filter's owner"),
    ),
    # A natural-key export (--natural-primary) names tags by name, without their pk.
    "extras.tag": land("Tag", natural_key="name"),
    "extras.webhook": land(
        "Webhook",
        content_types=to("EventRule.object_types", How.special, "NetBox 3.6: a webhook carried its own trigger; it becomes the webhook's event rule"),
        type_create=to("EventRule.event_types", How.special, "NetBox 3.6: " + EVENT_FLAGS),
        type_update=to("EventRule.event_types", How.special, "NetBox 3.6: " + EVENT_FLAGS),
        type_delete=to("EventRule.event_types", How.special, "NetBox 3.6: " + EVENT_FLAGS),
        type_job_start=to("EventRule.event_types", How.special, "NetBox 3.6: " + EVENT_FLAGS),
        type_job_end=to("EventRule.event_types", How.special, "NetBox 3.6: " + EVENT_FLAGS),
        enabled=to("EventRule.enabled", How.special, "NetBox 3.6: the webhook's event rule"),
        conditions=to("EventRule.conditions", How.special, "NetBox 3.6: the webhook's event rule"),
        secret=to("secret", How.value, "the signing secret as the export holds it (sealed here); one missing is listed as needing entry again"),
    ),
    # IPAM.
    "ipam.aggregate": land("Aggregate"),
    "ipam.asn": land("ASN"),
    "ipam.fhrpgroup": land("FHRPGroup"),
    "ipam.fhrpgroupassignment": land("FHRPGroupAssignment", interface_type=to("interface", How.generic), interface_id=to("interface", How.generic)),
    "ipam.ipaddress": land(
        "IPAddress",
        assigned_object_type=to("assigned_object", How.generic),
        assigned_object_id=to("assigned_object", How.generic),
    ),
    "ipam.iprange": land(
        "IPRange",
        size=ignore("computed from the start and end addresses"),
    ),
    "ipam.l2vpn": land("L2VPN", "NetBox 3.6's L2VPNs (vpn.l2vpn since 3.7)"),
    "ipam.l2vpntermination": land(
        "L2VPNTermination",
        "NetBox 3.6's L2VPN terminations (vpn.l2vpntermination since 3.7)",
        assigned_object_type=to("assigned_object", How.generic),
        assigned_object_id=to("assigned_object", How.generic),
    ),
    "ipam.prefix": land(
        "Prefix",
        scope_type=to("scope", How.generic, VERSION_SCOPE),
        scope_id=to("scope", How.generic, VERSION_SCOPE),
        site=to("site", How.reference, "NetBox ≤ 4.1: the prefix's site, which is also its scope"),
        _site=to("site", How.reference, "NetBox 4.2+: the site of the scope, which Danbyte keeps for gateway policies"),
        _children=ignore("a count of the prefixes inside: the prefix tree is derived here"),
        _depth=ignore("the depth in the prefix tree, derived here"),
    ),
    "ipam.rir": land("RIR"),
    "ipam.role": land("Role"),
    "ipam.routetarget": land("RouteTarget"),
    "ipam.service": land(
        "Service",
        parent_object_type=to("parent", How.generic),
        parent_object_id=to("parent", How.generic),
        device=to("parent", How.member, "NetBox ≤ 4.2: a service on a device", member="Device"),
        virtual_machine=to("parent", How.member, "NetBox ≤ 4.2: a service on a virtual machine", member="VirtualMachine"),
        _ports_lowest=ignore("a sort key: the lowest of the ports"),
    ),
    "ipam.servicetemplate": land("ServiceTemplate", _ports_lowest=ignore("a sort key: the lowest of the ports")),
    "ipam.vlan": land("VLAN"),
    "ipam.vlangroup": land(
        "VLANGroup",
        vid_ranges=keep("the VLAN id ranges of the group (NetBox 4.1+)"),
        min_vid=keep("the lowest VLAN id of the group (NetBox ≤ 4.0)"),
        max_vid=keep("the highest VLAN id of the group (NetBox ≤ 4.0)"),
        _total_vlan_ids=ignore("a count of the ids its ranges hold"),
        total_vlan_ids=ignore("a count of the ids its ranges hold"),
    ),
    "ipam.vrf": land("VRF"),
    # Tenancy.
    "tenancy.contact": land("Contact", group=to("groups", How.references, "NetBox ≤ 4.2: one group, here a list of one")),
    "tenancy.contactassignment": land(
        "ContactAssignment",
        content_type=to("object_type", How.content_type, "NetBox ≤ 3.7's name for object_type"),
    ),
    "tenancy.contactgroup": land("ContactGroup"),
    "tenancy.contactrole": land("ContactRole"),
    "tenancy.tenant": land("Tenant"),
    "tenancy.tenantgroup": land("TenantGroup"),
    # Virtualization.
    "virtualization.cluster": land(
        "Cluster",
        scope_type=to("scope", How.generic, VERSION_SCOPE),
        scope_id=to("scope", How.generic, VERSION_SCOPE),
        site=to("scope", How.member, "NetBox ≤ 4.1: the cluster's site", member="Site"),
    ),
    "virtualization.clustergroup": land("ClusterGroup"),
    "virtualization.clustertype": land("ClusterType"),
    "virtualization.virtualdisk": land("VirtualDisk"),
    "virtualization.virtualmachine": land("VirtualMachine"),
    "virtualization.virtualmachinetype": land("VirtualMachineType"),
    "virtualization.vminterface": land(
        "VMInterface",
        mac_address=to("MACAddress.mac_address", How.special, MAC_ON_INTERFACE),
        vlan_translation_policy=keep("the VLAN translation policy's name (left out)"),
    ),
    # VPN.
    "vpn.ikepolicy": land("IKEPolicy"),
    "vpn.ikeproposal": land("IKEProposal"),
    "vpn.ipsecpolicy": land("IPSecPolicy"),
    "vpn.ipsecprofile": land("IPSecProfile"),
    "vpn.ipsecproposal": land("IPSecProposal"),
    "vpn.l2vpn": land("L2VPN"),
    "vpn.l2vpntermination": land(
        "L2VPNTermination", assigned_object_type=to("assigned_object", How.generic), assigned_object_id=to("assigned_object", How.generic)
    ),
    "vpn.tunnel": land("Tunnel"),
    "vpn.tunnelgroup": land("TunnelGroup"),
    "vpn.tunneltermination": land("TunnelTermination", termination_type=to("termination", How.generic), termination_id=to("termination", How.generic)),
    # Wireless.
    "wireless.wirelesslan": land(
        "WirelessLAN",
        scope_type=to("scope", How.generic, VERSION_SCOPE),
        scope_id=to("scope", How.generic, VERSION_SCOPE),
    ),
    "wireless.wirelesslangroup": land("WirelessLANGroup"),
    "wireless.wirelesslink": land(
        "WirelessLink",
        _interface_a_device=ignore("cached from interface A"),
        _interface_b_device=ignore("cached from interface B"),
    ),
}

# Danbyte models no NetBox model lands in, and why.
DANBYTE_ONLY = {
    "WebhookDelivery": "Danbyte's log of webhook deliveries: NetBox keeps none",
    "CustomFieldGroup": "made from the custom fields' group_name (NetBox has no group object)",
    "SnmpProfile": "Danbyte's SNMP credentials for discovery: NetBox has none",
    "DiscoveryCandidate": "Danbyte's sweeps: addresses that answered SNMP; NetBox has none",
    "Job": "Danbyte's own job runs: NetBox's (core.job) are its workers' housekeeping, skipped",
    "JobSchedule": "Danbyte's job schedules: NetBox's scheduled jobs are runs of its scripts, skipped",
    "IntendedConfig": "Danbyte's stored render of a device's config template: NetBox renders on request only",
    "ConfigSnapshot": "Danbyte's configuration drift: NetBox keeps no running configurations",
    "ConfigState": "Danbyte's configuration drift: NetBox keeps no running configurations",
    "ConfigStateChange": "Danbyte's configuration drift: NetBox keeps no running configurations",
    "DeviceObservation": "Danbyte's discovery: what a device reported over SNMP; NetBox keeps none",
    "ObservedInterface": "Danbyte's discovery: what a device reported over SNMP; NetBox keeps none",
    "ObservedAddress": "Danbyte's discovery: what a device reported over SNMP; NetBox keeps none",
    "ObservedNeighbour": "Danbyte's discovery: what a device reported over SNMP; NetBox keeps none",
    "ObservedArpEntry": "Danbyte's discovery: what a device reported over SNMP; NetBox keeps none",
    "CheckTemplate": "Danbyte's monitoring: NetBox monitors nothing",
    "CheckAssignment": "Danbyte's monitoring: NetBox monitors nothing",
    "CheckState": "Danbyte's monitoring: NetBox monitors nothing",
    "StateTransition": "Danbyte's monitoring: NetBox monitors nothing",
    "NotificationChannel": "Danbyte's alerting: NetBox monitors nothing",
    "AlertRule": "Danbyte's alerting: NetBox monitors nothing",
    "Silence": "Danbyte's alerting: NetBox monitors nothing",
    "Alert": "Danbyte's alerting: NetBox monitors nothing",
    "NotificationDelivery": "Danbyte's alerting: NetBox monitors nothing",
    "SavedQuery": "Danbyte's saved GraphQL queries, run by name: NetBox 4.6 has none",
}


# --- fields every model may have ----------------------------------------------------------

# Caches NetBox keeps of where an object is (from its own references).
LOCATION_CACHES = frozenset({"_site", "_location", "_rack", "_region", "_site_group", "_device", "_provider_network"})
MPTT = frozenset({"lft", "rght", "tree_id", "level"})
COMMON: dict[str, FieldPlan] = {
    "custom_field_data": FieldPlan("custom_field_data", Status.mapped, "custom_fields", How.custom_fields, "values by custom field name"),
    # Free text on a model whose Danbyte counterpart has none (every model NetBox gives
    # comments to has them here today: this catches a plugin's or a newer NetBox's).
    "comments": FieldPlan("comments", Status.custom_field, f"custom_fields.{CUSTOM_FIELD_PREFIX}comments", note="the Danbyte model has no comments"),
    "owner": FieldPlan("owner", Status.custom_field, f"custom_fields.{CUSTOM_FIELD_PREFIX}owner", note="the owner's name (owners, NetBox 4.5+, are left out)"),
    "_name": FieldPlan("_name", Status.ignored, note="NetBox's natural-ordering key: derived from the name here"),
    "_path": FieldPlan("_path", Status.ignored, note="the endpoint's cached cable path: traced here"),
    "cable_connector": FieldPlan("cable_connector", Status.ignored, note="a copy of its cable termination's connector"),
    "cable_positions": FieldPlan("cable_positions", Status.ignored, note="a copy of its cable termination's positions"),
    **{name: FieldPlan(name, Status.ignored, note="NetBox's tree bookkeeping (MPTT): the parent is kept") for name in MPTT},
    **{name: FieldPlan(name, Status.ignored, note="cached from the object's own references") for name in LOCATION_CACHES},
}
ABSOLUTE = re.compile(r"_abs_\w+")  # a length, weight or distance in a common unit, for sorting
COUNTER = re.compile(r"\w+_count")  # NetBox's counter caches (interface_count)


def _common(name: str) -> FieldPlan | None:
    if name in COMMON:
        return COMMON[name]
    if ABSOLUTE.fullmatch(name):
        return FieldPlan(name, Status.ignored, note="the value converted to a common unit for sorting")
    if COUNTER.fullmatch(name):
        return FieldPlan(name, Status.ignored, note="a count NetBox caches: counted here")
    return None


def _derived(spec: ModelSpec, name: str) -> FieldPlan | None:
    """A NetBox field named like a Danbyte field of the target maps to it."""
    any_object = spec.any_object
    if any_object is not None and name == any_object.type_column:
        return FieldPlan(name, Status.mapped, name, How.content_type)
    if any_object is not None and name == any_object.id_column:
        return FieldPlan(name, Status.mapped, name, How.any_object, f"the object of type {any_object.type_column}")
    scalar = spec.scalar(name)
    if scalar is not None:
        if name == "object_types" and scalar.kind is Kind.strings:
            return FieldPlan(name, Status.mapped, name, How.content_types)
        return FieldPlan(name, Status.mapped, name, How.value)
    if spec.ref(name) is not None:
        return FieldPlan(name, Status.mapped, name, How.reference)
    if any(many.name == name for many in spec.many):
        return FieldPlan(name, Status.mapped, name, How.references)
    for one_of in spec.one_of:
        if name in (f"{one_of.name}_type", f"{one_of.name}_id"):
            return FieldPlan(name, Status.mapped, one_of.name, How.generic)
    return None


# --- asking -------------------------------------------------------------------------------


# Bounded: labels and field names come from the export, which may hold anything.
@lru_cache(maxsize=1024)
def plan(label: str) -> ModelPlan:
    """What becomes of NetBox model ``label`` (``dcim.site``) and its fields."""
    entry = MODELS.get(label)
    if entry is None:
        return ModelPlan(label, Disposition.unknown, None, "not a NetBox 3.6–4.6 model: a plugin's, or a newer NetBox's", MappingProxyType({}))
    if entry.disposition is Disposition.folded:
        return ModelPlan(label, entry.disposition, None, entry.reason, entry.fields, into=entry.target)
    target = entry.target if entry.disposition in (Disposition.model, Disposition.history) else None
    return ModelPlan(label, entry.disposition, target, entry.reason, entry.fields, natural_key=entry.natural_key)


@lru_cache(maxsize=16_384)
def _field_plan(label: str, name: str) -> FieldPlan:
    model = plan(label)
    if name in model.declared:
        found = model.declared[name]
    elif model.spec is None:
        return FieldPlan(name, Status.ignored, note=f"the model is {model.disposition.value}")
    else:
        found = _derived(model.spec, name) or _common(name) or FieldPlan(name, Status.unknown, note="not in the map: a newer NetBox's field?")
    if found.status is Status.custom_field and model.spec is not None and model.spec.scalar("custom_fields") is None:
        return FieldPlan(name, Status.dropped, note=f"{found.note}; the Danbyte model has no custom fields to keep it in")
    return found


def targets() -> dict[str, list[str]]:
    """Danbyte model → the NetBox labels landing in it."""
    found: dict[str, list[str]] = {}
    for label, entry in MODELS.items():
        if entry.disposition in (Disposition.model, Disposition.history) and entry.target is not None:
            found.setdefault(entry.target, []).append(label)
    return found
