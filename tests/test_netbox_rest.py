"""Reading a live NetBox's REST API (netbox_import/rest.py) as the records of a dumpdata export.

There is no NetBox here: a real HTTP server on 127.0.0.1 answers as NetBox 4.2 does, its
pages made by a converter (below, test-only) from the demo export (NetBox 4.2, natural
keys) into NetBox 4.2.9's REST representation: each serializer's own fields (listed here
from NetBox's serializers), nested objects, choices as {value, label}, tags nested, cables
with their a/b terminations, decimals as numbers, counts and every other field REST adds
that is not the model's. What ``read_api`` yields from those pages must be the export's
own records again, field by field, for every field REST carries.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from conftest import SHARED_DATA

from netbox_import import rest
from netbox_import.dumpdata import ExportError, Record, read_export
from netbox_import.model_map import MODELS, Disposition
from netbox_import.rest import ENDPOINTS, SKIPPED, WITHOUT_ENDPOINT, authorization, model_fields, read_api

EXPORT = SHARED_DATA / "netbox" / "netbox-v4.2-demo.dumpdata.json"
NETBOX_MODELS = json.loads((Path(__file__).parent / "netbox_models.json").read_text())
TOKEN = "0123456789abcdef0123456789abcdef01234567"
V2_TOKEN = "nbt_4F9DAouzURLb.zjebxBPzICiPbWz0Wtx0fTL7bCKXKGTYhNzkgC2S"
ELSEWHERE = "http://netbox.invalid"  # where the pages say the next one is: never asked

# NetBox 4.2.9's serializers: the fields each answers with (after id, url, display_url,
# display), from Meta.fields of netbox/<app>/api/serializers_/*.py.
REST_42 = {
    "circuits.circuit": "cid provider provider_account type status tenant install_date termination_date commit_rate description distance distance_unit termination_a termination_z comments tags custom_fields created last_updated assignments",
    "circuits.circuittermination": "circuit term_side termination_type termination_id termination port_speed upstream_speed xconnect_id pp_info description mark_connected cable cable_end link_peers link_peers_type tags custom_fields created last_updated _occupied",
    "circuits.circuittype": "name slug color description tags custom_fields created last_updated circuit_count",
    "circuits.provider": "name slug accounts description comments asns tags custom_fields created last_updated circuit_count",
    "circuits.providernetwork": "provider name service_id description comments tags custom_fields created last_updated",
    "core.objectchange": "time user user_name request_id action changed_object_type changed_object_id changed_object prechange_data postchange_data",
    "dcim.cable": "type a_terminations b_terminations status tenant label color length length_unit description comments tags custom_fields created last_updated",
    "dcim.cabletermination": "cable cable_end termination_type termination_id termination created last_updated",
    "dcim.consoleport": "device module name label type speed description mark_connected cable cable_end link_peers link_peers_type connected_endpoints connected_endpoints_type connected_endpoints_reachable tags custom_fields created last_updated _occupied",
    "dcim.consoleporttemplate": "device_type module_type name label type description created last_updated",
    "dcim.device": "name device_type role tenant platform serial asset_tag site location rack position face latitude longitude parent_device status airflow primary_ip primary_ip4 primary_ip6 oob_ip cluster virtual_chassis vc_position vc_priority description comments config_template local_context_data tags custom_fields created last_updated console_port_count console_server_port_count power_port_count power_outlet_count interface_count front_port_count rear_port_count device_bay_count module_bay_count inventory_item_count",
    "dcim.devicebay": "device name label description installed_device tags custom_fields created last_updated",
    "dcim.devicebaytemplate": "device_type name label description created last_updated",
    "dcim.devicerole": "name slug color vm_role config_template description tags custom_fields created last_updated device_count virtualmachine_count",
    "dcim.devicetype": "manufacturer default_platform model slug part_number u_height exclude_from_utilization is_full_depth subdevice_role airflow weight weight_unit front_image rear_image description comments tags custom_fields created last_updated device_count console_port_template_count console_server_port_template_count power_port_template_count power_outlet_template_count interface_template_count front_port_template_count rear_port_template_count device_bay_template_count module_bay_template_count inventory_item_template_count",
    "dcim.frontport": "device module name label type color rear_port rear_port_position description mark_connected cable cable_end link_peers link_peers_type tags custom_fields created last_updated _occupied",
    "dcim.frontporttemplate": "device_type module_type name label type color rear_port rear_port_position description created last_updated",
    "dcim.interface": "device vdcs module name label type enabled parent bridge lag mtu mac_address primary_mac_address mac_addresses speed duplex wwn mgmt_only description mode rf_role rf_channel poe_mode poe_type rf_channel_frequency rf_channel_width tx_power untagged_vlan tagged_vlans qinq_svlan vlan_translation_policy mark_connected cable cable_end wireless_link link_peers link_peers_type wireless_lans vrf l2vpn_termination connected_endpoints connected_endpoints_type connected_endpoints_reachable tags custom_fields created last_updated count_ipaddresses count_fhrp_groups _occupied",
    "dcim.interfacetemplate": "device_type module_type name label type enabled mgmt_only description bridge poe_mode poe_type rf_role created last_updated",
    "dcim.location": "name slug site parent status tenant facility description tags custom_fields created last_updated rack_count device_count prefix_count _depth",
    "dcim.manufacturer": "name slug description tags custom_fields created last_updated devicetype_count inventoryitem_count platform_count",
    "dcim.module": "device module_bay module_type status serial asset_tag description comments tags custom_fields created last_updated",
    "dcim.modulebay": "device module name installed_module label position description tags custom_fields created last_updated",
    "dcim.modulebaytemplate": "device_type module_type name label position description created last_updated",
    "dcim.moduletype": "manufacturer model part_number airflow weight weight_unit description comments tags custom_fields created last_updated",
    "dcim.platform": "name slug manufacturer config_template description tags custom_fields created last_updated device_count virtualmachine_count",
    "dcim.powerfeed": "power_panel rack name status type supply phase voltage amperage max_utilization mark_connected cable cable_end link_peers link_peers_type connected_endpoints connected_endpoints_type connected_endpoints_reachable description tenant comments tags custom_fields created last_updated _occupied",
    "dcim.poweroutlet": "device module name label type color power_port feed_leg description mark_connected cable cable_end link_peers link_peers_type connected_endpoints connected_endpoints_type connected_endpoints_reachable tags custom_fields created last_updated _occupied",
    "dcim.poweroutlettemplate": "device_type module_type name label type power_port feed_leg description created last_updated",
    "dcim.powerpanel": "site location name description comments tags custom_fields powerfeed_count created last_updated",
    "dcim.powerport": "device module name label type maximum_draw allocated_draw description mark_connected cable cable_end link_peers link_peers_type connected_endpoints connected_endpoints_type connected_endpoints_reachable tags custom_fields created last_updated _occupied",
    "dcim.powerporttemplate": "device_type module_type name label type maximum_draw allocated_draw description created last_updated",
    "dcim.rack": "name facility_id site location tenant status role serial asset_tag rack_type form_factor width u_height starting_unit weight max_weight weight_unit desc_units outer_width outer_depth outer_unit mounting_depth airflow description comments tags custom_fields created last_updated device_count powerfeed_count",
    "dcim.rackreservation": "rack units created last_updated user tenant description comments tags custom_fields",
    "dcim.rackrole": "name slug color description tags custom_fields created last_updated rack_count",
    "dcim.rearport": "device module name label type color positions description mark_connected cable cable_end link_peers link_peers_type tags custom_fields created last_updated _occupied",
    "dcim.rearporttemplate": "device_type module_type name label type color positions description created last_updated",
    "dcim.region": "name slug parent description tags custom_fields created last_updated site_count prefix_count _depth",
    "dcim.site": "name slug status region group tenant facility time_zone description physical_address shipping_address latitude longitude comments asns tags custom_fields created last_updated circuit_count device_count prefix_count rack_count virtualmachine_count vlan_count",
    "dcim.sitegroup": "name slug parent description tags custom_fields created last_updated site_count prefix_count _depth",
    "dcim.virtualchassis": "name domain master description comments tags custom_fields created last_updated member_count members",
    "extras.configcontext": "name weight description is_active regions site_groups sites locations device_types roles platforms cluster_types cluster_groups clusters tenant_groups tenants tags data_source data_path data_file data_synced data created last_updated",
    "extras.customfield": "object_types type related_object_type data_type name label group_name description required unique search_weight filter_logic ui_visible ui_editable is_cloneable default related_object_filter weight validation_minimum validation_maximum validation_regex choice_set comments created last_updated",
    "extras.journalentry": "assigned_object_type assigned_object_id assigned_object created created_by kind comments tags custom_fields last_updated",
    "extras.tag": "name slug color description object_types tagged_items created last_updated",
    "ipam.aggregate": "family prefix rir tenant date_added description comments tags custom_fields created last_updated",
    "ipam.asn": "asn rir tenant description comments tags custom_fields created last_updated site_count provider_count",
    "ipam.ipaddress": "family address vrf tenant status role assigned_object_type assigned_object_id assigned_object nat_inside nat_outside dns_name description comments tags custom_fields created last_updated",
    "ipam.iprange": "family start_address end_address size vrf tenant status role description comments tags custom_fields created last_updated mark_utilized",
    "ipam.prefix": "family prefix vrf scope_type scope_id scope tenant vlan status role is_pool mark_utilized description comments tags custom_fields created last_updated children _depth",
    "ipam.rir": "name slug is_private description tags custom_fields created last_updated aggregate_count",
    "ipam.role": "name slug weight description tags custom_fields created last_updated prefix_count vlan_count",
    "ipam.routetarget": "name tenant description comments tags custom_fields created last_updated",
    "ipam.service": "device virtual_machine name protocol ports ipaddresses description comments tags custom_fields created last_updated",
    "ipam.vlan": "site group vid name tenant status role description qinq_role qinq_svlan comments l2vpn_termination tags custom_fields created last_updated prefix_count",
    "ipam.vlangroup": "name slug scope_type scope_id scope vid_ranges description tags custom_fields created last_updated vlan_count utilization",
    "ipam.vrf": "name rd tenant enforce_unique description comments import_targets export_targets tags custom_fields created last_updated ipaddress_count prefix_count",
    "tenancy.contact": "group name title phone email address link description comments tags custom_fields created last_updated",
    "tenancy.contactassignment": "object_type object_id object contact role priority tags custom_fields created last_updated",
    "tenancy.contactgroup": "name slug parent description tags custom_fields created last_updated contact_count _depth",
    "tenancy.contactrole": "name slug description tags custom_fields created last_updated",
    "tenancy.tenant": "name slug group description comments tags custom_fields created last_updated circuit_count device_count ipaddress_count prefix_count rack_count site_count virtualmachine_count vlan_count vrf_count cluster_count",
    "tenancy.tenantgroup": "name slug parent description tags custom_fields created last_updated tenant_count _depth",
    "virtualization.cluster": "name type group status tenant scope_type scope_id scope description comments tags custom_fields created last_updated device_count virtualmachine_count allocated_vcpus allocated_memory allocated_disk",
    "virtualization.clustergroup": "name slug description tags custom_fields created last_updated cluster_count",
    "virtualization.clustertype": "name slug description tags custom_fields created last_updated cluster_count",
    "virtualization.virtualmachine": "name status site cluster device serial role tenant platform primary_ip primary_ip4 primary_ip6 vcpus memory disk description comments config_template local_context_data tags custom_fields created last_updated interface_count virtual_disk_count",
    "virtualization.vminterface": "virtual_machine name enabled parent bridge mtu mac_address primary_mac_address mac_addresses description mode untagged_vlan tagged_vlans qinq_svlan vlan_translation_policy vrf l2vpn_termination tags custom_fields created last_updated count_ipaddresses count_fhrp_groups",
}
# The fields NetBox 4.2.9 writes as {value, label} (ChoiceField); other choices are plain.
CHOICES_42 = {
    "circuits.circuit": "status distance_unit",
    "core.objectchange": "action",
    "dcim.cable": "status length_unit",
    "dcim.consoleport": "type speed",
    "dcim.consoleporttemplate": "type",
    "dcim.device": "face status airflow",
    "dcim.devicetype": "subdevice_role airflow weight_unit",
    "dcim.frontport": "type",
    "dcim.frontporttemplate": "type",
    "dcim.interface": "type mode duplex rf_role rf_channel poe_mode poe_type",
    "dcim.interfacetemplate": "type poe_mode poe_type rf_role",
    "dcim.location": "status",
    "dcim.module": "status",
    "dcim.moduletype": "weight_unit airflow",
    "dcim.powerfeed": "type status supply phase",
    "dcim.poweroutlet": "type feed_leg",
    "dcim.poweroutlettemplate": "type feed_leg",
    "dcim.powerport": "type",
    "dcim.powerporttemplate": "type",
    "dcim.rack": "status airflow form_factor width outer_unit weight_unit",
    "dcim.rearport": "type",
    "dcim.rearporttemplate": "type",
    "dcim.site": "status",
    "extras.customfield": "type filter_logic ui_visible ui_editable",
    "extras.journalentry": "kind",
    "ipam.ipaddress": "status role",
    "ipam.iprange": "status",
    "ipam.prefix": "status",
    "ipam.service": "protocol",
    "ipam.vlan": "status qinq_role",
    "tenancy.contactassignment": "priority",
    "virtualization.cluster": "status",
    "virtualization.virtualmachine": "status",
    "virtualization.vminterface": "mode",
}
# References REST writes as a bare id (a PrimaryKeyRelatedField), not a nested object.
BARE_IDS = {("dcim.cabletermination", "cable"), ("extras.journalentry", "created_by")}
VERSION_42 = (4, 2, 9)


# --- the slice of the demo export served ----------------------------------------------------

EXTRA_RECORDS: list[dict[str, Any]] = [
    # Custom fields of object types: REST nests the objects, NetBox stores their ids. A JSON
    # custom field holding what looks like a nested object is data, kept as it is.
    {
        "model": "extras.customfield",
        "pk": 2,
        "fields": {
            "created": "2024-01-02T03:04:05.678Z",
            "last_updated": "2024-01-02T03:04:05.678Z",
            "type": "object",
            "related_object_type": ["dcim", "site"],
            "name": "home_site",
            "label": "",
            "group_name": "Where",
            "description": "",
            "required": False,
            "unique": False,
            "search_weight": 1000,
            "filter_logic": "loose",
            "default": None,
            "related_object_filter": {"status": "active"},
            "weight": 100,
            "validation_minimum": None,
            "validation_maximum": Decimal("1.5"),
            "validation_regex": "",
            "choice_set": None,
            "ui_visible": "always",
            "ui_editable": "yes",
            "is_cloneable": False,
            "comments": "",
            "object_types": [["tenancy", "tenant"]],
        },
    },
    {
        "model": "extras.customfield",
        "pk": 3,
        "fields": {"type": "multiobject", "related_object_type": ["dcim", "site"], "name": "sites_served", "object_types": [["tenancy", "tenant"]]},
    },
    {"model": "extras.customfield", "pk": 4, "fields": {"type": "json", "related_object_type": None, "name": "raw", "object_types": [["tenancy", "tenant"]]}},
    {
        "model": "extras.customfield",
        "pk": 5,
        "fields": {"type": "decimal", "related_object_type": None, "name": "ratio", "object_types": [["tenancy", "tenant"]]},
    },
    {
        "model": "extras.journalentry",
        "pk": 4,
        "fields": {
            "created": "2024-05-06T07:08:09.123Z",
            "last_updated": "2024-05-06T07:08:09.123Z",
            "custom_field_data": {},
            "assigned_object_type": ["dcim", "site"],
            "assigned_object_id": 2,
            "created_by": ["alice"],
            "kind": "warning",
            "comments": "Power work on Saturday",
        },
    },
    {
        "model": "core.objectchange",
        "pk": 77,
        "fields": {
            "time": "2024-05-06T07:08:09.123Z",
            "user": ["bob"],
            "user_name": "bob",
            "request_id": "3d1f8a5e-6f0c-4b7e-9a35-1a2b3c4d5e6f",
            "action": "update",
            "changed_object_type": ["dcim", "site"],
            "changed_object_id": 2,
            "related_object_type": None,
            "related_object_id": None,
            "object_repr": "DM-Akron",
            "prechange_data": {"name": "DM-Akron", "latitude": Decimal("41.0814"), "tags": []},
            "postchange_data": {"name": "DM Akron", "latitude": Decimal("41.0814"), "tags": ["Alpha"]},
        },
    },
    {
        "model": "extras.configcontext",
        "pk": 3,
        "fields": {
            "created": "2024-05-06T07:08:09.123Z",
            "last_updated": "2024-05-06T07:08:09.123Z",
            "name": "NTP",
            "weight": 1000,
            "description": "",
            "is_active": True,
            "data_source": None,
            "data_path": "",
            "data_file": None,
            "data_synced": None,
            "auto_sync_enabled": False,
            "data": {"ntp": ["10.0.0.1"], "id": 5, "url": "not a reference"},
            "regions": [43],
            "site_groups": [],
            "sites": [2, 10],
            "locations": [],
            "device_types": [],
            "roles": [1],
            "platforms": [],
            "cluster_types": [],
            "cluster_groups": [],
            "clusters": [],
            "tenant_groups": [],
            "tenants": [],
            "tags": [["Alpha"], ["X-ray"]],
        },
    },
    {
        "model": "ipam.service",
        "pk": 9,
        "fields": {
            "created": "2024-05-06T07:08:09.123Z",
            "last_updated": "2024-05-06T07:08:09.123Z",
            "custom_field_data": {},
            "description": "",
            "comments": "",
            "device": 1,
            "virtual_machine": None,
            "name": "ssh",
            "protocol": "tcp",
            "ports": [22, 2222],
            "ipaddresses": [1, 2],
        },
    },
    {"model": "extras.taggeditem", "fields": {"content_type": ["ipam", "service"], "object_id": 9, "tag": ["Bravo"]}},
]


def _slice() -> list[Record]:
    """The demo export with a few records more, and custom field values of every kind."""
    records = list(read_export(EXPORT))
    for extra in EXTRA_RECORDS:
        records.append(Record(extra["model"], extra.get("pk"), copy.deepcopy(extra["fields"]), len(records) + 1))
    sites = {r.pk: r.fields for r in records if r.model == "dcim.site"}
    locations = {r.pk: r.fields for r in records if r.model == "dcim.location"}
    for record in records:
        if record.model == "ipam.prefix" and record.pk == 1:  # the demo scopes none to a location
            site = locations[1]["site"]
            record.fields.update(scope_type=["dcim", "location"], scope_id=1, _location=1, _site=site)
            record.fields.update(_region=sites[site]["region"], _site_group=sites[site]["group"])
        if record.model == "tenancy.tenant":
            data = record.fields["custom_field_data"]
            data.update(home_site=None, sites_served=None, raw=None, ratio=None)
            if record.pk == 1:
                data.update(home_site=2, sites_served=[2, 10], raw={"id": 3, "url": "http://x/", "display": "data"}, ratio=Decimal("0.25"))
            if record.pk == 2:
                data.update(sites_served=[])
        if record.model == "ipam.ipaddress" and record.pk == 3:  # the demo assigns none
            record.fields.update(assigned_object_type=["dcim", "interface"], assigned_object_id=1)
        if record.model == "dcim.devicetype" and record.pk == 1:
            record.fields["front_image"] = "devicetype-images/mx480 front.png"
    return records


# --- the test-only converter: export records → NetBox 4.2.9 REST objects --------------------


def _drf_time(value: str | None) -> str | None:
    """A time as Django REST framework writes it (microseconds, Z)."""
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat().replace("+00:00", "Z")


def _numbers(value: Any) -> Any:
    """Decimals as the JSON numbers NetBox writes (COERCE_DECIMAL_TO_STRING is off)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: _numbers(each) for key, each in value.items()}
    if isinstance(value, list):
        return [_numbers(each) for each in value]
    return value


class ToRest:
    """The demo's records as NetBox 4.2.9 answers for them."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.models = NETBOX_MODELS["models"]
        self.tags = {r.fields["name"]: r.fields for r in records if r.model == "extras.tag"}
        self.tag_ids = {name: number for number, name in enumerate(self.tags, 1)}
        self.user_ids = {r.fields["username"]: number for number, r in enumerate((r for r in records if r.model == "users.user"), 1)}
        self.tagged: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.ends: dict[int, dict[str, list[Record]]] = defaultdict(lambda: {"A": [], "B": []})
        self.custom_fields: list[dict[str, Any]] = []
        for r in records:
            if r.model == "extras.taggeditem":
                self.tagged[(".".join(r.fields["content_type"]), r.fields["object_id"])].append(r.fields["tag"][0])
            elif r.model == "dcim.cabletermination":
                self.ends[r.fields["cable"]][r.fields["cable_end"]].append(r)
            elif r.model == "extras.customfield":
                self.custom_fields.append(r.fields)

    def lists(self) -> dict[str, list[dict[str, Any]]]:
        """Endpoint path (under /api/) → its objects, by id."""
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in self.records:
            if record.model in REST_42:
                found[ENDPOINTS[record.model].path].append(self.object(record))
        for objects in found.values():
            objects.sort(key=lambda each: each["id"])
        found["users/users/"] = [self.user(name) for name in self.user_ids]
        return found

    def nested(self, label: str, pk: int) -> dict[str, Any]:
        path = ENDPOINTS[label].path if label in ENDPOINTS else "x/y/"
        return {"id": pk, "url": f"{ELSEWHERE}/api/{path}{pk}/", "display": f"{label} #{pk}", "name": f"{label} #{pk}", "description": ""}

    def user(self, name: str) -> dict[str, Any]:
        number = self.user_ids[name]
        return {"id": number, "url": f"{ELSEWHERE}/api/users/users/{number}/", "display": name, "username": name}

    def tag(self, name: str) -> dict[str, Any]:
        tag = self.tags[name]
        return {"id": self.tag_ids[name], "url": "", "display_url": "", "display": name, "name": name, "slug": tag["slug"], "color": tag["color"]}

    def object(self, record: Record) -> dict[str, Any]:
        label = record.model
        pk = record.pk if record.pk is not None else self.tag_ids[record.fields["name"]]
        found = {"id": pk, "url": f"{ELSEWHERE}/api/{ENDPOINTS[label].path}{pk}/", "display_url": "", "display": f"{label} #{pk}"}
        for name in REST_42[label].split():
            found[name] = self.value(record, pk, name)
        return found

    def value(self, record: Record, pk: int, name: str) -> Any:
        label, fields = record.model, record.fields
        declared = self.models[label]["fields"]
        if name == "tags" and name not in declared:
            return [self.tag(tag) for tag in self.tagged[(label, pk)]]
        if name == "custom_fields":
            data = fields.get("custom_field_data", {})
            return {cf["name"]: self.custom_value(cf, data.get(cf["name"])) for cf in self.custom_fields if label.split(".") in cf["object_types"]}
        if label == "dcim.cable" and name in ("a_terminations", "b_terminations"):
            ends = self.ends[pk][name[0].upper()]
            return [{"object_type": ".".join(end.fields["termination_type"]), "object_id": end.fields["termination_id"], "object": {"id": 1}} for end in ends]
        if name not in declared:  # what REST adds: it must be left out, however it looks
            if name.endswith("_count") or name.startswith("count_"):
                return 3
            return {"id": 987654, "url": f"{ELSEWHERE}/api/x/", "display": "not a model field", "name": name}
        value = fields.get(name)
        kind, _, target = declared[name]["kind"].partition(" ")
        if name in CHOICES_42.get(label, "").split():
            return None if value is None else {"value": value, "label": str(value).title()}
        if value is None:
            return None
        if kind in ("ForeignKey", "OneToOneField", "TreeForeignKey"):
            if target in ("contenttypes.contenttype", "core.objecttype"):
                return ".".join(value)
            if target == "users.user":
                return self.user_ids[value[0]] if (label, name) in BARE_IDS else self.user(value[0])
            return value if (label, name) in BARE_IDS else self.nested(target, value)
        if kind == "ManyToManyField":
            if target in ("contenttypes.contenttype", "core.objecttype"):
                return [".".join(each) for each in value]
            if target == "extras.tag":
                return [self.tags[each[0]]["slug"] for each in value]  # a SlugRelatedField
            return [self.nested(target, each) for each in value]
        if kind == "DecimalField":
            return float(Decimal(value))
        if kind == "DateTimeField":
            return _drf_time(value)
        if kind == "ImageField":
            return f"{ELSEWHERE}/media/{value.replace(' ', '%20')}" if value else None
        if name == "vid_ranges":
            ranges = [json.loads(each) for each in json.loads(value)]
            return [[int(each["lower"]), int(each["upper"]) - 1] for each in ranges]
        return _numbers(value)

    def custom_value(self, cf: dict[str, Any], value: Any) -> Any:
        target = ".".join(cf["related_object_type"]) if cf.get("related_object_type") else ""
        if value is not None and cf["type"] == "object":
            return self.nested(target, value)
        if value is not None and cf["type"] == "multiobject":
            return [self.nested(target, each) for each in value]
        return _numbers(value)


# --- the server -----------------------------------------------------------------------------


@dataclass
class FakeNetbox:
    """What the server answers, and what it was asked."""

    version: str = "4.2.9"
    token: str = TOKEN
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    answers: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)  # fixed answers by path
    requests: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)
    delay: float = 0.0
    next_offset: int | None = None  # what the next page's offset is said to be (a broken server)
    empty: bool = True  # endpoints without objects answer an empty page (not 404)

    def answer(self, path: str, query: dict[str, str], authorization: str | None) -> tuple[int, bytes, str]:
        self.requests.append((path, query, authorization))
        if self.delay:
            time.sleep(self.delay)
        if path in self.answers:
            return self.answers[path]
        if authorization != rest.authorization(self.token):
            # NetBox's word, echoing what it was given: the client must not repeat it.
            return _json(403, {"detail": f"Invalid token: {authorization}"})
        if path == "/api/status/":
            return _json(200, {"django-version": "5.1", "netbox-version": self.version, "plugins": {}})
        endpoint = path.removeprefix("/api/")
        if endpoint not in self.lists and not (self.empty and path.startswith("/api/") and path.endswith("/")):
            return _json(404, {"detail": "Not found."})
        objects = self.lists.get(endpoint, [])
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        following = None
        if offset + limit < len(objects):
            after = self.next_offset if self.next_offset is not None else offset + limit
            following = f"{ELSEWHERE}{path}?limit={limit}&offset={after}&ordering=id"
        previous = f"{ELSEWHERE}{path}?limit={limit}" if offset else None
        page = {"count": len(objects), "next": following, "previous": previous, "results": objects[offset : offset + limit]}
        return _json(200, page)


def _json(status: int, body: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(body).encode(), "application/json"


@pytest.fixture
def netbox() -> Iterator[tuple[str, FakeNetbox]]:
    """A real HTTP server on a free local port, answering as ``FakeNetbox`` says."""
    state = FakeNetbox()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body, kind = state.answer(parts.path, dict(parse_qsl(parts.query)), self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if status in (301, 302):
                self.send_header("Location", "https://netbox.example.com/api/status/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def failure(url: str, token: str = TOKEN, **options: Any) -> ExportError:
    with pytest.raises(ExportError) as raised:
        for _ in read_api(url, token, **options):
            pass
    error = raised.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    message = str(error)
    assert "\n" not in message and TOKEN not in message and "zjebxBPz" not in message and "Traceback" not in message, message
    return error


# --- the demo, read back ------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> list[Record]:
    return _slice()


def _fields_at(label: str, version: tuple[int, int, int]) -> dict[str, str]:
    """The model's fields in ``version`` by tests/netbox_models.json (not by the reader's copy)."""
    model = NETBOX_MODELS["models"][label]
    present = {}
    tag = "v%d.%d.%d" % version
    order = NETBOX_MODELS["releases"]
    for name, each in model["fields"].items():
        first, _, last = each.get("releases", model["releases"]).partition("..")
        if order.index(first) <= order.index(tag) <= order.index(last):
            present[name] = each["kind"].split()[0]
    return present


def _same(kind: str, read: Any, exported: Any) -> bool:
    if kind == "DateTimeField" and read is not None and exported is not None:
        return datetime.fromisoformat(read.replace("Z", "+00:00")) == datetime.fromisoformat(exported.replace("Z", "+00:00"))
    if kind == "DecimalField" and read is not None and exported is not None:
        return Decimal(read) == Decimal(exported) and isinstance(read, str)
    return bool(read == exported)


def test_the_demo_read_over_rest_is_the_export_again(netbox, demo):
    url, state = netbox
    state.lists = ToRest(demo).lists()
    seen: list[tuple[str, int]] = []
    records = list(read_api(url + "/", TOKEN, page_size=100, progress=lambda what, count: seen.append((what, count))))
    assert [r.index for r in records] == list(range(1, len(records) + 1))

    covered = [r for r in demo if r.model in REST_42]
    read = {(r.model, r.pk if r.model != "extras.tag" else r.fields["name"]): r for r in records if r.model in REST_42}
    assert len(read) == len(covered) == sum(1 for r in records if r.model in REST_42)
    tagged_items = sum(1 for r in demo if r.model == "extras.taggeditem")
    assert Counter(r.model for r in records) == Counter(r.model for r in covered) + Counter({"extras.taggeditem": tagged_items})
    problems = []
    for exported in covered:
        label = exported.model
        got = read[(label, exported.pk if label != "extras.tag" else exported.fields["name"])]
        assert got.pk == exported.pk  # tags: None, as the natural-key export has them
        kinds = _fields_at(label, VERSION_42)
        carried = [name for name in REST_42[label].split() if name in kinds]
        if "custom_fields" in REST_42[label].split():
            carried.append("custom_field_data")
        if "scope_type" in carried and "_site" in kinds:  # the location caches REST leaves out
            carried += ["_region", "_site_group", "_site", "_location"]
        assert set(got.fields) == set(carried), (label, set(got.fields) ^ set(carried))
        for name in carried:
            if not _same(kinds.get(name, ""), got.fields[name], exported.fields.get(name)):
                problems.append(f"{label} {exported.pk} {name}: read {got.fields[name]!r}, exported {exported.fields.get(name)!r}")
    assert not problems, "\n".join(problems[:20])

    # Tags nested on the objects are the export's tagged items, one per object and tag.
    def tagged(items):
        return Counter((tuple(r.fields["content_type"]), r.fields["object_id"], tuple(r.fields["tag"])) for r in items if r.model == "extras.taggeditem")

    assert tagged(records) == tagged(demo) and len(tagged(records)) == 73
    assert all(r.pk is None and set(r.fields) == {"content_type", "object_id", "tag"} for r in records if r.model == "extras.taggeditem")

    # Progress: after each page, by model; 100 to a page.
    interfaces = [count for what, count in seen if what == "dcim.interface"]
    assert interfaces == [*range(100, 1586, 100), 1586]
    assert ("ipam.asnrange", 0) in seen and not [what for what, count in seen if count == SKIPPED]


def test_what_the_importer_relies_on(netbox, demo):
    """The conversions one by one, on records of the demo."""
    url, state = netbox
    state.lists = ToRest(demo).lists()
    records = {(r.model, r.pk): r for r in read_api(url, TOKEN) if r.pk is not None}
    # Generic pairs: a content type as its natural key, the id beside it.
    address = records[("ipam.ipaddress", 3)].fields
    assert (address["assigned_object_type"], address["assigned_object_id"]) == (["dcim", "interface"], 1) and "assigned_object" not in address
    assert records[("ipam.ipaddress", 4)].fields["assigned_object_type"] is None
    scoped = next(r for r in demo if r.model == "ipam.prefix" and r.fields["scope_type"] == ["dcim", "site"])
    assert {k: records[("ipam.prefix", scoped.pk)].fields[k] for k in ("scope_type", "scope_id")} == {k: scoped.fields[k] for k in ("scope_type", "scope_id")}
    assert "scope" not in records[("ipam.prefix", scoped.pk)].fields and "family" not in records[("ipam.prefix", scoped.pk)].fields
    # What NetBox caches of where a scoped prefix is, which REST leaves out, as NetBox derives it.
    assert records[("ipam.prefix", scoped.pk)].fields["_site"] == scoped.fields["_site"] == scoped.fields["scope_id"]
    in_location = records[("ipam.prefix", 1)].fields
    assert (in_location["scope_type"], in_location["_location"], in_location["_site"]) == (["dcim", "location"], 1, 21)
    assert (in_location["_region"], in_location["_site_group"]) == (next(r for r in demo if r.model == "dcim.site" and r.pk == 21).fields["region"], None)
    # Cable terminations from their own endpoint, with their ids.
    terminations = [r for r in demo if r.model == "dcim.cabletermination"]
    for exported in terminations:
        got = records[("dcim.cabletermination", exported.pk)].fields
        assert {k: got[k] for k in ("cable", "cable_end", "termination_type", "termination_id")} == {
            k: exported.fields[k] for k in ("cable", "cable_end", "termination_type", "termination_id")
        }
    assert "a_terminations" not in records[("dcim.cable", 1)].fields
    # Many-to-many: lists of ids.
    vrf = records[("ipam.vrf", 1)].fields
    assert vrf["import_targets"] == [12, 1] and vrf["export_targets"] == [11, 2]
    assert records[("ipam.service", 9)].fields["ipaddresses"] == [1, 2] and records[("ipam.service", 9)].fields["ports"] == [22, 2222]
    # Choices as their values, integers too (a rack's width).
    assert records[("dcim.device", 1)].fields["status"] == "active" and records[("dcim.rack", 1)].fields["width"] == 19
    # Custom fields as NetBox stores them: objects by id; a JSON value that looks like an
    # object stays as it is; decimals exact.
    tenant = records[("tenancy.tenant", 1)].fields["custom_field_data"]
    assert tenant == {
        "cust_id": "INI04",
        "home_site": 2,
        "sites_served": [2, 10],
        "raw": {"id": 3, "url": "http://x/", "display": "data"},
        "ratio": Decimal("0.25"),
    }
    assert type(tenant["ratio"]) is Decimal and records[("tenancy.tenant", 2)].fields["custom_field_data"]["sites_served"] == []
    # Users: nested ones by their username; a journal entry's bare id through users/users/.
    assert records[("dcim.rackreservation", 1)].fields["user"] == ["alice"]
    assert records[("extras.journalentry", 4)].fields["created_by"] == ["alice"]
    assert records[("core.objectchange", 77)].fields["user"] == ["bob"]
    # Config contexts name their tags by slug: by name here, as the natural-key export does.
    context = records[("extras.configcontext", 3)].fields
    assert context["tags"] == [["Alpha"], ["X-ray"]] and context["data"] == {"ntp": ["10.0.0.1"], "id": 5, "url": "not a reference"}
    assert context["sites"] == [2, 10] and context["regions"] == [43]
    # Decimals as dumpdata's strings; images as their path under the media root.
    assert records[("dcim.device", 1)].fields["position"] == "4.0"
    assert records[("dcim.devicetype", 1)].fields["u_height"] == "8.0"
    assert records[("dcim.devicetype", 1)].fields["front_image"] == "devicetype-images/mx480 front.png"
    assert records[("dcim.devicetype", 1)].fields["rear_image"] == ""
    # NetBox 4.2's interfaces show their primary MAC as mac_address: not the ≤ 4.1 field.
    assert "mac_address" not in records[("dcim.interface", 1)].fields and "primary_mac_address" in records[("dcim.interface", 1)].fields
    # Integer ranges as dumpdata writes them.
    group = next(r for r in demo if r.model == "ipam.vlangroup")
    assert records[("ipam.vlangroup", group.pk)].fields["vid_ranges"] == group.fields["vid_ranges"]


def test_requests_page_by_page_with_the_token_and_nowhere_else(netbox, demo):
    url, state = netbox
    state.lists = ToRest(demo).lists()
    stream = read_api(url, TOKEN, page_size=7)
    first = next(stream)
    # One page at a time: the status, then the first page of the first endpoint only.
    assert first.model == "extras.tag" and [path for path, _, _ in state.requests] == ["/api/status/", "/api/extras/tags/"]
    rest_of_it = list(stream)
    assert sum(1 for r in rest_of_it if r.model == "extras.tag") == 25
    tag_pages = [query for path, query, _ in state.requests if path == "/api/extras/tags/"]
    assert tag_pages == [{"limit": "7", "offset": str(offset), "ordering": "id"} for offset in (0, 7, 14, 21)]
    # Every request carried the token, and all went to the server given (the pages name
    # another host as the next page's: only their offset is taken).
    assert {auth for _, _, auth in state.requests} == {f"Token {TOKEN}"}
    assert not any("brief" in query for _, query, _ in state.requests)
    asked = {path for path, _, _ in state.requests}
    # Endpoints NetBox 4.2 lacks are not asked for; those it has, are.
    assert "/api/core/object-changes/" in asked and "/api/extras/object-changes/" not in asked
    assert "/api/ipam/l2vpns/" not in asked and "/api/vpn/l2vpns/" in asked and "/api/dcim/rack-types/" in asked
    assert "/api/dcim/rack-groups/" not in asked and "/api/users/owners/" not in asked


def test_version_decides_the_endpoints_and_fields(netbox):
    url, state = netbox
    interface = {"id": 5, "url": "", "display": "", "device": {"id": 1, "url": "", "display": ""}, "name": "eth0", "mac_address": "00:11:22:33:44:55"}
    state.lists = {"dcim/interfaces/": [interface]}
    state.version = "3.6.4"
    records = list(read_api(url, TOKEN))
    assert [(r.model, r.fields) for r in records] == [("dcim.interface", {"device": 1, "name": "eth0", "mac_address": "00:11:22:33:44:55"})]
    asked = {path for path, _, _ in state.requests}
    assert "/api/ipam/l2vpns/" in asked and "/api/extras/object-changes/" in asked and "/api/extras/webhooks/" in asked
    assert not {"/api/vpn/l2vpns/", "/api/core/object-changes/", "/api/extras/event-rules/", "/api/dcim/mac-addresses/"} & asked
    state.version = "4.2.0-Docker-3.2.0"
    assert [r.fields for r in read_api(url, TOKEN)] == [{"device": 1, "name": "eth0"}]
    state.version = "v4.1.11"
    assert [r.fields["mac_address"] for r in read_api(url, TOKEN)] == ["00:11:22:33:44:55"]


def test_port_mappings_of_netbox_4_5(netbox):
    url, state = netbox
    state.version = "4.5.2"
    device = {"id": 3, "url": "", "display": "sw1", "name": "sw1"}
    state.lists = {
        "dcim/front-ports/": [
            {
                "id": 10,
                "device": device,
                "module": None,
                "name": "F1",
                "type": {"value": "8p8c", "label": "8P8C"},
                "positions": 2,
                "rear_ports": [{"position": 1, "rear_port": 20, "rear_port_position": 1}, {"position": 2, "rear_port": 20, "rear_port_position": 2}],
                "owner": {"id": 4, "url": "", "display": "Ops", "name": "Ops"},
                "tags": [],
            }
        ],
        "dcim/rear-ports/": [
            {"id": 20, "device": device, "name": "R1", "positions": 2, "front_ports": [{"position": 1, "front_port": 10, "front_port_position": 1}]}
        ],
        "dcim/front-port-templates/": [
            {
                "id": 30,
                "device_type": {"id": 8, "url": "", "display": ""},
                "module_type": None,
                "name": "F1",
                "rear_ports": [{"position": 1, "rear_port": 40, "rear_port_position": 3}],
            }
        ],
        # Owners (left out) keep their users and groups by name, as natural keys.
        "users/owners/": [
            {
                "id": 4,
                "name": "Ops",
                "group": None,
                "users": [{"id": 1, "url": "", "display": "alice", "username": "alice"}],
                "user_groups": [{"id": 2, "url": "", "display": "NOC", "name": "NOC"}],
            }
        ],
    }
    records = [(r.model, r.pk, r.fields) for r in read_api(url, TOKEN)]
    assert records == [
        ("dcim.frontporttemplate", 30, {"device_type": 8, "module_type": None, "name": "F1"}),
        (
            "dcim.porttemplatemapping",
            None,
            {"device_type": 8, "module_type": None, "front_port": 30, "front_port_position": 1, "rear_port": 40, "rear_port_position": 3},
        ),
        ("dcim.rearport", 20, {"device": 3, "name": "R1", "positions": 2}),
        ("dcim.frontport", 10, {"device": 3, "module": None, "name": "F1", "type": "8p8c", "positions": 2, "owner": 4}),
        ("dcim.portmapping", None, {"device": 3, "front_port": 10, "front_port_position": 1, "rear_port": 20, "rear_port_position": 1}),
        ("dcim.portmapping", None, {"device": 3, "front_port": 10, "front_port_position": 2, "rear_port": 20, "rear_port_position": 2}),
        ("users.owner", 4, {"name": "Ops", "group": None, "users": [["alice"]], "user_groups": [["NOC"]]}),
    ]


def test_generic_pair_id_taken_from_the_nested_object(netbox):
    # NetBox 4.2.0 gave a MAC address's assigned object but not its id beside it.
    url, state = netbox
    state.version = "4.2.0"
    state.lists = {
        "dcim/mac-addresses/": [
            {"id": 1, "mac_address": "AA:BB:CC:00:11:22", "assigned_object_type": "dcim.interface", "assigned_object": {"id": 7, "url": "", "display": "eth0"}}
        ]
    }
    (record,) = read_api(url, TOKEN)
    assert record.fields == {"mac_address": "AA:BB:CC:00:11:22", "assigned_object_type": ["dcim", "interface"], "assigned_object_id": 7}


# --- tokens and errors ------------------------------------------------------------------


def test_authorization_header_forms():
    assert authorization(TOKEN) == f"Token {TOKEN}"
    assert authorization(V2_TOKEN) == f"Bearer {V2_TOKEN}"  # NetBox 4.5+'s v2 tokens
    assert authorization(f"  Token {TOKEN}\n") == f"Token {TOKEN}"  # a whole header value pasted in
    assert authorization(f"Bearer {V2_TOKEN}") == f"Bearer {V2_TOKEN}"
    for bad in ("", "   ", "abc def", "abc\r\nX-Evil: 1", "tökén"):
        with pytest.raises(ExportError, match="token is empty or holds characters"):
            authorization(bad)


def test_a_v2_token_is_sent_as_bearer(netbox):
    url, state = netbox
    state.token = V2_TOKEN
    assert list(read_api(url, V2_TOKEN)) == []
    assert {auth for _, _, auth in state.requests} == {f"Bearer {V2_TOKEN}"}


@pytest.mark.parametrize("token", [TOKEN, V2_TOKEN])
def test_a_refused_token_is_named_not_repeated(netbox, token):
    url, state = netbox
    state.token = "another-token-entirely"
    error = failure(url, token)
    prefix = "Bearer" if token.startswith("nbt_") else "Token"
    assert str(error) == f"GET /api/status/: 403 Forbidden: the token was refused (Invalid token: {prefix} <token>)"
    state.answers["/api/status/"] = _json(401, {"detail": f"Authentication credentials were not provided: {token}"})
    assert str(failure(url, token)) == "GET /api/status/: 401 Unauthorized: the token was refused (Authentication credentials were not provided: <token>)"


def test_a_forbidden_endpoint_is_an_error(netbox):
    url, state = netbox
    state.answers["/api/dcim/sites/"] = _json(403, {"detail": "You do not have permission to perform this action."})
    message = str(failure(url))
    assert message == (
        "GET /api/dcim/sites/?limit=1000&offset=0&ordering=id: 403 Forbidden: the token's user may not read dcim.site "
        "(You do not have permission to perform this action.)"
    )


def test_an_endpoint_not_found_is_skipped_and_reported(netbox):
    url, state = netbox
    state.answers["/api/dcim/racks/"] = _json(404, {"detail": "Not found."})
    state.lists = {"dcim/sites/": [{"id": 1, "name": "A"}], "ipam/vrfs/": [{"id": 2, "name": "B"}]}
    told: list[tuple[str, int]] = []
    records = list(read_api(url, TOKEN, progress=lambda what, count: told.append((what, count))))
    assert [(r.model, r.pk) for r in records] == [("dcim.site", 1), ("ipam.vrf", 2)]
    skipped = [what for what, count in told if count == SKIPPED]
    assert skipped == ["dcim.rack: skipped, GET /api/dcim/racks/ answered 404 Not Found"]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ((200, b"<html><body>Log in</body></html>", "text/html"), "the answer is not JSON (text/html): is http://127.0.0.1:"),
        ((200, b'{"results": [', "application/json"), "the answer is not JSON (application/json)"),
        ((200, b'{"count": 0}', "application/json"), "not a page of results"),
        ((200, b'{"results": [{"name": "no id"}]}', "application/json"), "an object without its integer id"),
        ((200, b'{"results": [{"id": 1, "region": "Europe"}]}', "application/json"), "(dcim.site 1 region): expected a nested object with its id, or an id"),
        ((200, b'{"results": [{"id": 1, "latitude": [1]}]}', "application/json"), "(dcim.site 1 latitude): expected a number"),
        ((200, b'{"results": [{"id": 1, "custom_fields": [1]}]}', "application/json"), "expected an object of values by custom field name"),
        ((200, b'{"results": [{"id": 1, "tags": [{"slug": "x"}]}]}', "application/json"), "(dcim.site 1 tags): a tag without its name"),
        ((200, b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json"), "the answer is nested too deep"),
        ((500, b"<h1>Server Error</h1>", "text/html"), "NetBox answered 500 Internal Server Error"),
        ((302, b"", "text/html"), "302 Found, redirected to 'https://netbox.example.com/api/status/'"),
    ],
    ids=["html", "truncated", "no-results", "no-id", "reference-not-nested", "not-a-number", "custom-fields", "tag-without-name", "deep", "500", "redirect"],
)
def test_bad_answers_are_named(netbox, answer, problem):
    url, state = netbox
    path = "/api/status/" if answer[0] == 302 else "/api/dcim/sites/"
    state.answers[path] = answer
    message = str(failure(url))
    assert message.startswith(f"GET {path}"), message
    assert problem in message, message


def test_bad_status_answers(netbox):
    url, state = netbox
    state.answers["/api/status/"] = _json(200, {"hello": "world"})
    assert "no netbox-version in the answer" in str(failure(url))
    state.answers["/api/status/"] = _json(200, {"netbox-version": "3.5.9"})
    assert str(failure(url)) == "NetBox 3.5.9 is older than 3.6, the oldest release read: upgrade it, or export it with dumpdata"


def test_pagination_that_does_not_advance_is_an_error(netbox):
    url, state = netbox
    state.lists = {"extras/tags/": [{"id": n, "name": f"t{n}", "slug": f"t{n}"} for n in range(1, 5)]}
    state.next_offset = 0
    assert "the next page ('0') does not come after offset 0" in str(failure(url, page_size=2))


def test_connection_refused_and_timeouts(netbox):
    url, state = netbox
    with socket_closed() as port:
        message = str(failure(f"http://127.0.0.1:{port}"))
    assert message.startswith(f"GET /api/status/: cannot connect to http://127.0.0.1:{port} (")
    state.delay = 0.5
    assert str(failure(url, timeout=0.1)) == f"GET /api/status/: {url} did not answer within 0.1 s"


class socket_closed:
    """A local port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        return int(self.socket.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("netbox.example.com", "is not the http(s) address of a NetBox"),
        ("ftp://netbox.example.com", "is not the http(s) address of a NetBox"),
        ("https://admin:secret@netbox.example.com", "without a user name or password"),
    ],
)
def test_bad_addresses(url, problem):
    message = str(failure(url))
    assert problem in message and "secret" not in message


def test_the_address_may_name_the_api_and_a_base_path(netbox):
    url, state = netbox
    state.answers["/netbox/api/status/"] = _json(200, {"netbox-version": "4.2.1"})
    state.answers["/netbox/api/tenancy/tenants/"] = _json(200, {"count": 1, "next": None, "results": [{"id": 3, "name": "T", "comments": ""}]})
    for address in (f"{url}/netbox", f"{url}/netbox/api/", f"{url}/netbox/api"):
        state.requests.clear()
        assert [(r.model, r.pk, r.fields) for r in read_api(address, TOKEN)] == [("tenancy.tenant", 3, {"name": "T", "comments": ""})]
        assert all(path.startswith("/netbox/api/") for path, _, _ in state.requests)


def test_usernames_that_cannot_be_read_are_left_out_and_reported(netbox):
    url, state = netbox
    state.lists = {"extras/journal-entries/": [{"id": 1, "created_by": 5, "kind": {"value": "info", "label": "Info"}, "comments": "x"}]}
    state.answers["/api/users/users/"] = _json(403, {"detail": "You do not have permission to perform this action."})
    told: list[tuple[str, int]] = []
    (record,) = read_api(url, TOKEN, progress=lambda what, count: told.append((what, count)))
    assert record.fields == {"created_by": None, "kind": "info", "comments": "x"}
    (note,) = [what for what, count in told if count == SKIPPED]
    assert note.startswith("users.user: usernames not read (GET /api/users/users/?limit=1000&offset=0&ordering=id: 403 Forbidden")


def test_a_given_client_is_used_and_left_open(netbox):
    url, state = netbox
    with httpx.Client() as client:
        assert list(read_api(url, TOKEN, client=client)) == []
        assert not client.is_closed and len(state.requests) > 100
    with pytest.raises(ExportError, match="page size must be at least 1"):
        list(read_api(url, TOKEN, page_size=0))


# --- the tables -----------------------------------------------------------------------------


def test_every_landed_model_has_an_endpoint_or_a_source():
    read = {
        label for label, entry in MODELS.items() if entry.disposition in (Disposition.model, Disposition.history, Disposition.custom_data, Disposition.folded)
    }
    assert read - set(ENDPOINTS) == set(WITHOUT_ENDPOINT)
    # Besides: the data sources kept fields name (they are skipped, but named by name).
    assert set(ENDPOINTS) - read == {"core.datasource"}
    assert list(ENDPOINTS)[:2] == ["extras.tag", "extras.customfield"]  # what later models are read knowing
    paths = [endpoint.path for endpoint in ENDPOINTS.values()]
    assert len(paths) == len(set(paths)) and all(path.endswith("/") and not path.startswith("/") for path in paths)


def test_the_fields_table_is_netbox_models_json():
    shipped = json.loads((Path(rest.__file__).parent / "rest_fields.json").read_text())
    assert shipped["releases"] == NETBOX_MODELS["releases"]
    mappings = list(rest.MAPPINGS.values())
    assert shipped["models"] == {label: NETBOX_MODELS["models"][label] for label in [*ENDPOINTS, *mappings]}
    # A field's window: from the minor release it appeared in, until the release lacking it.
    assert "mac_address" in model_fields("dcim.interface", (4, 1, 11)) and "mac_address" not in model_fields("dcim.interface", (4, 2, 0))
    assert "groups" in model_fields("tenancy.contact", (4, 3, 0)) and "group" not in model_fields("tenancy.contact", (4, 3, 0))
    assert "owner" in model_fields("dcim.site", (4, 7, 0)) and "owner" not in model_fields("dcim.site", (4, 4, 3))
    assert model_fields("dcim.site", (4, 2, 0))["asns"] == "refs" and model_fields("ipam.prefix", (4, 2, 0))["scope_type"] == "content_type"


# --- imported over REST: the same as imported from the export ------------------------------

SNAPSHOT = """
SELECT t.slug AS tenant, x.numid, x.name, x.custom_fields::text AS custom_fields, x.created
FROM {table} x JOIN tenant t ON t.id = x.tenant_id WHERE t.org_id = :o ORDER BY 1, 2, 3
"""


async def _snapshot(db: Any, org_id: Any) -> dict[str, list[tuple[Any, ...]]]:
    import sqlalchemy as sa

    found = {}
    async with db.system_transaction() as conn:
        for table in ("site", "device", "rack", "circuit", "virtual_machine", "vlan", "vrf", "cable"):
            column = "label" if table == "cable" else ("cid" if table == "circuit" else "name")
            query = SNAPSHOT.format(table=f'"{table}"').replace("x.name", f"x.{column}")
            found[table] = [tuple(row) for row in await conn.execute(sa.text(query), {"o": org_id})]
        for table in ("interface", "ip_address", "prefix", "tagged_item", "cable_termination", "port_mapping"):
            found[table] = [
                (
                    await conn.execute(sa.text(f'SELECT count(*) FROM "{table}" x JOIN tenant t ON t.id = x.tenant_id WHERE t.org_id = :o'), {"o": org_id})
                ).scalar_one()
            ]
    return found


async def test_an_import_over_rest_lands_what_the_export_does(netbox, demo, db):
    from factories import make_org

    from netbox_import.importer import Options, import_records

    url, state = netbox
    state.lists = ToRest(demo).lists()
    from_export, over_rest = await make_org(db, tenants=0), await make_org(db, tenants=0)
    async with db.system_transaction() as conn:
        exported = await import_records(conn, iter(demo), Options(from_export.org_id))
    async with db.system_transaction() as conn:
        read = await import_records(conn, read_api(url, TOKEN, page_size=500), Options(over_rest.org_id))
    assert exported.dropped == 0 and read.dropped == 0, read.text()
    landed = {label for label, count in exported.models.items() if count.disposition == "model"}
    assert {label: exported.models[label].created for label in landed} == {label: read.models[label].created for label in landed}
    assert await _snapshot(db, from_export.org_id) == await _snapshot(db, over_rest.org_id)
