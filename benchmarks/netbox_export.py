"""A NetBox 4.2 ``manage.py dumpdata`` export of any size, for the NetBox-import benchmark.

``python -m benchmarks.netbox_export OUT.json[.gz] --objects 100000 [--seed 1] [--no-natural-keys] [--indent 2]``

NetBox's demo data (../shared/data/netbox) is 7,000 objects; an importer must also be
measured on a network a hundred times that size. This writes one, shaped like the demo:
every model's records carry exactly the fields the demo's records of that model carry,
in dumpdata's order, with values NetBox would hold. The network is regular and whole:

- a catalogue: content types, users, tenant groups and 20 tenants (with a ``cust_id``
  custom field, as in the demo, and an integer ``cmdb_id`` on devices and virtual
  machines), tags, a region tree (continents, countries, cities), site groups,
  manufacturers, device types with their interface, console port, power port and
  front/rear port templates, roles, platforms, VRFs with route targets, RIRs, aggregates,
  circuit types, providers and their networks, cluster types and groups;
- sites (each in a city region, a site group and with a tenant), each with a location
  tree, four racks, 34 devices (edge routers, core switches, access switches, servers, and
  patch panels in front/rear pairs, some untenanted), their interfaces (most of the
  volume), console and power ports, 128 cables with their A and B terminations (interface
  to interface, server to patch panel to patch panel to core switch, circuit to router),
  a VLAN group scoped to the site, VLANs 100/200/300 ungrouped at every site (as the
  demo's VLAN 100 at 13 sites), ten prefixes (some in VRFs, some untenanted), IP addresses
  on interfaces (loopbacks, point-to-point /31s, management, servers) with the devices'
  primary_ip4 and oob_ip, an Internet and an MPLS circuit, a vSphere cluster, a rack
  reservation, tags on the site and some of its devices;
- virtual machines filling the rest (in the sites' clusters and in cloud clusters scoped
  to a region), each with two interfaces and a primary address.

Sites take about three quarters of the objects; the total lands within a few objects of
``objects`` (from about 2,500 up: one site and the catalogue are the smallest export).

Every value is a pure function of the seed and the object's place in the network (pks
are arithmetic, choices come from a hash), so records are written one at a time, straight
to the file, in any order dumpdata needs, and memory does not grow with the export. The
same seed gives the same bytes.

With ``natural_keys`` (dumpdata ``--natural-primary --natural-foreign``, as the demo):
content types, users, tags and tagged items carry no pk, and references to them are
natural keys (``["dcim", "interface"]``, ``["alice"]``, ``["critical"]``); models come in
the demo's order (dumpdata sorts them by those dependencies: content types first, rack
reservations after the users). Without: every record has its pk, content types and users
are integer ids, and models come in NetBox's order of installed apps (content types, then
circuits, dcim, ipam, extras, tenancy, users, virtualization), each app's models in the
order NetBox declares them. Either way the importer meets references before what they
name: devices before their tenants and before the addresses their primary_ip4 names,
interfaces before their VLANs, circuits before their providers and sites.
"""

from __future__ import annotations

import argparse
import gzip as gzip_module
import ipaddress
import json
import math
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import IO, Any, Protocol

from models.naturalize import naturalize_interface

Fields = dict[str, Any]
Records = Iterator[tuple[int | None, Fields]]

# --- the catalogue ------------------------------------------------------------------------

# The content types of a NetBox 4.2 installation, in the demo's (creation) order; without
# natural keys the pk of each is its place here, from 1.
CONTENT_TYPES = tuple(
    """
    admin.logentry auth.permission auth.group users.user contenttypes.contenttype sessions.session
    social_django.association social_django.code social_django.nonce social_django.usersocialauth
    social_django.partial taggit.tag taggit.taggeditem core.datasource core.datafile core.autosyncrecord
    core.managedfile core.job account.usertoken circuits.circuit circuits.circuittermination
    circuits.circuittype circuits.provider circuits.providernetwork circuits.provideraccount dcim.cable
    dcim.cablepath dcim.consoleport dcim.consoleporttemplate dcim.consoleserverport
    dcim.consoleserverporttemplate dcim.device dcim.devicebay dcim.devicebaytemplate dcim.devicerole
    dcim.devicetype dcim.frontport dcim.frontporttemplate dcim.interface dcim.interfacetemplate
    dcim.inventoryitem dcim.location dcim.manufacturer dcim.platform dcim.powerfeed dcim.poweroutlet
    dcim.poweroutlettemplate dcim.powerpanel dcim.powerport dcim.powerporttemplate dcim.rack
    dcim.rackreservation dcim.rackrole dcim.rearport dcim.rearporttemplate dcim.region dcim.site
    dcim.sitegroup dcim.virtualchassis dcim.moduletype dcim.modulebay dcim.module dcim.modulebaytemplate
    dcim.inventoryitemrole dcim.inventoryitemtemplate dcim.cabletermination dcim.virtualdevicecontext
    ipam.aggregate ipam.ipaddress ipam.prefix ipam.rir ipam.role ipam.routetarget ipam.vrf ipam.vlangroup
    ipam.vlan ipam.service ipam.iprange ipam.fhrpgroup ipam.fhrpgroupassignment ipam.asn
    ipam.servicetemplate vpn.l2vpn vpn.l2vpntermination ipam.asnrange extras.script extras.configcontext
    extras.tag extras.webhook extras.taggeditem core.objectchange extras.journalentry
    extras.imageattachment extras.exporttemplate extras.customlink extras.customfield
    core.configrevision extras.savedfilter extras.cachedvalue extras.branch extras.stagedchange
    extras.configtemplate extras.dashboard extras.scriptmodule extras.bookmark extras.customfieldchoiceset
    tenancy.tenantgroup tenancy.tenant tenancy.contactrole tenancy.contactgroup tenancy.contact
    tenancy.contactassignment users.userconfig users.token users.objectpermission virtualization.cluster
    virtualization.clustergroup virtualization.clustertype virtualization.virtualmachine
    virtualization.vminterface wireless.wirelesslangroup wireless.wirelesslan wireless.wirelesslink
    django_rq.queue extras.eventrule virtualization.virtualdisk vpn.ikeproposal vpn.ikepolicy
    vpn.ipsecproposal vpn.ipsecpolicy vpn.ipsecprofile vpn.tunnelgroup vpn.tunnel vpn.tunneltermination
    users.group core.objecttype circuits.circuitgroup circuits.circuitgroupassignment dcim.racktype
    extras.notification extras.notificationgroup extras.subscription circuits.virtualcircuittype
    circuits.virtualcircuit circuits.virtualcircuittermination dcim.macaddress
    ipam.vlantranslationpolicy ipam.vlantranslationrule
    """.split()
)
CONTENT_TYPE_ID = {label: pk for pk, label in enumerate(CONTENT_TYPES, 1)}

# Models named by natural key (no pk) in an export with --natural-primary.
NATURAL_PRIMARY = frozenset({"contenttypes.contenttype", "users.user", "extras.tag", "extras.taggeditem"})

# What the demo's dumpdata (--natural-foreign --natural-primary) wrote, in its order.
NATURAL_ORDER = (
    "contenttypes.contenttype",
    "circuits.circuittype",
    "circuits.circuit",
    "circuits.circuittermination",
    "circuits.provider",
    "circuits.providernetwork",
    "dcim.consoleport",
    "dcim.powerport",
    "dcim.interface",
    "dcim.frontport",
    "dcim.rearport",
    "dcim.cable",
    "dcim.cabletermination",
    "dcim.consoleporttemplate",
    "dcim.powerporttemplate",
    "dcim.interfacetemplate",
    "dcim.frontporttemplate",
    "dcim.rearporttemplate",
    "dcim.manufacturer",
    "dcim.devicetype",
    "dcim.devicerole",
    "dcim.platform",
    "dcim.device",
    "dcim.rackrole",
    "dcim.rack",
    "dcim.region",
    "dcim.sitegroup",
    "dcim.site",
    "dcim.location",
    "ipam.vrf",
    "ipam.routetarget",
    "ipam.rir",
    "ipam.aggregate",
    "ipam.role",
    "ipam.prefix",
    "ipam.ipaddress",
    "ipam.vlangroup",
    "ipam.vlan",
    "extras.tag",
    "extras.taggeditem",
    "extras.customfield",
    "tenancy.tenantgroup",
    "tenancy.tenant",
    "virtualization.clustertype",
    "virtualization.clustergroup",
    "virtualization.cluster",
    "virtualization.virtualmachine",
    "virtualization.vminterface",
    "users.user",
    "dcim.rackreservation",
)
# Without natural keys dumpdata does not sort: INSTALLED_APPS order, then each app's
# models as NetBox declares them (extras declares custom fields before tags, dcim racks
# before reservations).
APP_ORDER = ("contenttypes", "circuits", "dcim", "ipam", "extras", "tenancy", "users", "virtualization")
_PLAIN_MOVES = {"dcim.rackreservation": "dcim.rack", "extras.customfield": "ipam.vlan"}  # label → the one it follows


def _plain_order() -> tuple[str, ...]:
    order = [label for label in NATURAL_ORDER if label not in _PLAIN_MOVES]
    for label, after in _PLAIN_MOVES.items():
        order.insert(order.index(after) + 1, label)
    return tuple(sorted(order, key=lambda label: APP_ORDER.index(label.split(".")[0])))  # stable: models keep their order


PLAIN_ORDER = _plain_order()

TENANT_GROUPS = (("Customers", "customers"), ("Internal", "internal"), ("Partners", "partners"))
# (name, slug, group index, customer id)
TENANTS = tuple(
    (name, name.lower().replace(" ", "-").replace(".", ""), group, code)
    for name, group, code in (
        ("Aldermoor Freight", 0, "ALF01"),
        ("Brightwater Health", 0, "BWH02"),
        ("Cobalt Ridge Mining", 0, "CRM03"),
        ("Dunmore Insurance", 0, "DUN04"),
        ("Eastgate Retail", 0, "EGR05"),
        ("Fernhill University", 0, "FHU06"),
        ("Glenbrook Energy", 0, "GBE07"),
        ("Harrowfield Bank", 0, "HFB08"),
        ("Ironbridge Media", 0, "IBM09"),
        ("Juniper Lane Foods", 0, "JLF10"),
        ("Kestrel Aviation", 0, "KAV11"),
        ("Larkspur Pharma", 0, "LKP12"),
        ("Network Operations", 1, ""),
        ("Platform Engineering", 1, ""),
        ("Corporate IT", 1, ""),
        ("Research Lab", 1, ""),
        ("Meridian Telecom", 2, "MTL13"),
        ("Northwind Cloud", 2, "NWC14"),
        ("Oakhaven Systems", 2, "OHS15"),
        ("Pinecrest Security", 2, "PCS16"),
    )
)
USERS = ("admin", "alice", "bob", "carol")
# (name, color, restricted to these content types)
TAGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("critical", "f44336", ()),
    ("monitored", "4caf50", ()),
    ("backup", "2196f3", ()),
    ("pci", "9c27b0", ("dcim.device", "virtualization.virtualmachine")),
    ("customer-facing", "ff9800", ()),
    ("redundant", "00bcd4", ()),
    ("decommissioning", "795548", ()),
    ("lab", "cddc39", ()),
    ("legacy", "9e9e9e", ()),
    ("automation", "3f51b5", ()),
    ("ipv6-ready", "009688", ()),
    ("vip", "e91e63", ()),
)
TAG_INDEX = {name: index for index, (name, _, _) in enumerate(TAGS)}
OPEN_TAGS = tuple(index for index, (_, _, types) in enumerate(TAGS) if not types)  # taggable on anything
# Region tree: continent → country → city (code, city, time zone, latitude, longitude).
GEOGRAPHY: tuple[tuple[str, tuple[tuple[str, str, tuple[tuple[str, str, str, float, float], ...]], ...]], ...] = (
    (
        "Europe",
        (
            ("Netherlands", "nl", (("AMS", "Amsterdam", "Europe/Amsterdam", 52.3676, 4.9041),)),
            ("Germany", "de", (("FRA", "Frankfurt", "Europe/Berlin", 50.1109, 8.6821), ("MUC", "München", "Europe/Berlin", 48.1351, 11.582))),
            ("United Kingdom", "gb", (("LON", "London", "Europe/London", 51.5072, -0.1276), ("MAN", "Manchester", "Europe/London", 53.4808, -2.2426))),
            ("France", "fr", (("PAR", "Paris", "Europe/Paris", 48.8566, 2.3522), ("MRS", "Marseille", "Europe/Paris", 43.2965, 5.3698))),
            ("Switzerland", "ch", (("ZRH", "Zürich", "Europe/Zurich", 47.3769, 8.5417),)),
            ("Sweden", "se", (("STO", "Stockholm", "Europe/Stockholm", 59.3293, 18.0686),)),
            ("Spain", "es", (("MAD", "Madrid", "Europe/Madrid", 40.4168, -3.7038),)),
        ),
    ),
    (
        "North America",
        (
            (
                "United States",
                "us",
                (
                    ("NYC", "New York", "America/New_York", 40.7128, -74.006),
                    ("IAD", "Ashburn", "America/New_York", 39.0438, -77.4874),
                    ("ORD", "Chicago", "America/Chicago", 41.8781, -87.6298),
                    ("DFW", "Dallas", "America/Chicago", 32.7767, -96.797),
                    ("DEN", "Denver", "America/Denver", 39.7392, -104.9903),
                    ("SJC", "San Jose", "America/Los_Angeles", 37.3382, -121.8863),
                    ("SEA", "Seattle", "America/Los_Angeles", 47.6062, -122.3321),
                    ("ATL", "Atlanta", "America/New_York", 33.749, -84.388),
                ),
            ),
            ("Canada", "ca", (("YYZ", "Toronto", "America/Toronto", 43.6532, -79.3832), ("YUL", "Montréal", "America/Toronto", 45.5019, -73.5674))),
            ("Mexico", "mx", (("MEX", "Mexico City", "America/Mexico_City", 19.4326, -99.1332),)),
        ),
    ),
    (
        "South America",
        (
            ("Brazil", "br", (("GRU", "São Paulo", "America/Sao_Paulo", -23.5558, -46.6396),)),
            ("Chile", "cl", (("SCL", "Santiago", "America/Santiago", -33.4489, -70.6693),)),
        ),
    ),
    (
        "Asia Pacific",
        (
            ("Japan", "jp", (("NRT", "Tokyo", "Asia/Tokyo", 35.6762, 139.6503), ("KIX", "Osaka", "Asia/Tokyo", 34.6937, 135.5023))),
            ("Singapore", "sg", (("SIN", "Singapore", "Asia/Singapore", 1.3521, 103.8198),)),
            ("Australia", "au", (("SYD", "Sydney", "Australia/Sydney", -33.8688, 151.2093), ("MEL", "Melbourne", "Australia/Melbourne", -37.8136, 144.9631))),
            ("India", "in", (("BOM", "Mumbai", "Asia/Kolkata", 19.076, 72.8777),)),
            ("Hong Kong", "hk", (("HKG", "Hong Kong", "Asia/Hong_Kong", 22.3193, 114.1694),)),
        ),
    ),
    ("Africa", (("South Africa", "za", (("JNB", "Johannesburg", "Africa/Johannesburg", -26.2041, 28.0473),)),)),
)
STREETS = ("Harbour Road", "Station Street", "Mill Lane", "Park Avenue", "Industrial Way", "Canal Street", "Market Square", "Ridge Road")
# (name, slug, parent index or None)
SITE_GROUPS = (
    ("Production", "production", None),
    ("Primary Data Centers", "primary-data-centers", 0),
    ("Secondary Data Centers", "secondary-data-centers", 0),
    ("Edge", "edge", None),
    ("Regional PoPs", "regional-pops", 3),
)
SITE_GROUP_LEAVES = (1, 2, 4)
RACK_ROLES = (("Network", "network", "3f51b5"), ("Compute", "compute", "4caf50"), ("Storage", "storage", "ff9800"))
MANUFACTURERS = (("Juniper", "juniper"), ("Arista", "arista"), ("Cisco", "cisco"), ("Dell", "dell"), ("HPE", "hpe"), ("Panduit", "panduit"), ("APC", "apc"))
MANUFACTURER_INDEX = {slug: index for index, (_, slug) in enumerate(MANUFACTURERS)}
# (name, slug, color, vm_role)
DEVICE_ROLES = (
    ("Router", "router", "4caf50", False),
    ("Core Switch", "core-switch", "3f51b5", False),
    ("Access Switch", "access-switch", "03a9f4", False),
    ("Server", "server", "9e9e9e", False),
    ("Patch Panel", "patch-panel", "607d8b", False),
    ("Firewall", "firewall", "f44336", False),
    ("Application Server", "application-server", "2f6a31", True),
    ("Database Server", "database-server", "cddc39", True),
    ("Web Server", "web-server", "ff9800", True),
)
ROLE_INDEX = {slug: index for index, (_, slug, _, _) in enumerate(DEVICE_ROLES)}
VM_ROLES = (("application-server", "app"), ("database-server", "db"), ("web-server", "web"))
# (name, slug, manufacturer slug or None)
PLATFORMS = (
    ("Juniper Junos", "junos", "juniper"),
    ("Arista EOS", "eos", "arista"),
    ("Cisco IOS-XE", "ios-xe", "cisco"),
    ("VMware ESXi 8", "esxi-8", None),
    ("Ubuntu 22.04", "ubuntu-22-04", None),
    ("Red Hat Enterprise Linux 9", "rhel-9", None),
    ("Windows Server 2022", "windows-server-2022", None),
)
PLATFORM_INDEX = {slug: index for index, (_, slug, _) in enumerate(PLATFORMS)}
VM_PLATFORMS = ("ubuntu-22-04", "rhel-9", "windows-server-2022")
# (name, rd, tenant index or None, enforce_unique)
VRFS = (
    ("MGMT", "65000:1", None, True),
    ("PROD", "65000:10", None, True),
    ("STORAGE", "65000:20", None, False),
    ("CLOUD", "65000:30", None, False),
    ("DMZ", "65000:40", None, False),
    ("GUEST", None, None, False),
    ("CUST-ALDERMOOR", "65000:101", 0, False),
    ("CUST-BRIGHTWATER", "65000:102", 1, False),
)
VRF_INDEX = {name: index for index, (name, _, _, _) in enumerate(VRFS)}
SHARED_SERVICES_RT = "65000:999"  # imported by PROD and CLOUD: route target pk len(VRFS with rd) + 1
# (name, slug, is_private, description)
RIRS = (
    ("RFC 1918", "rfc-1918", True, "Private IPv4 address space"),
    ("RFC 6598", "rfc-6598", True, "Shared address space"),
    ("RFC 2544", "rfc-2544", True, "Benchmarking address space"),
    ("ARIN", "arin", False, "American Registry for Internet Numbers"),
    ("RIPE NCC", "ripe-ncc", False, "Réseaux IP Européens Network Coordination Centre"),
    ("APNIC", "apnic", False, "Asia-Pacific Network Information Centre"),
    ("LACNIC", "lacnic", False, "Latin America and Caribbean Network Information Centre"),
    ("AFRINIC", "afrinic", False, "African Network Information Centre"),
)
AGGREGATES = (("10.0.0.0/8", 0), ("172.16.0.0/12", 0), ("192.168.0.0/16", 0), ("100.64.0.0/10", 1), ("198.18.0.0/15", 2))
# (name, slug, weight)
IPAM_ROLES = (
    ("Management", "management", 100),
    ("Server", "server", 200),
    ("Storage", "storage", 300),
    ("Data", "data", 400),
    ("Voice", "voice", 500),
    ("Wireless", "wireless", 600),
    ("Infrastructure", "infrastructure", 700),
    ("Loopback", "loopback", 800),
    ("Transit", "transit", 900),
    ("Virtual Machines", "virtual-machines", 1000),
)
IPAM_ROLE_INDEX = {slug: index for index, (_, slug, _) in enumerate(IPAM_ROLES)}
GLOBAL_VLANS = ((3000, "Backup-Global"), (3001, "Replication"), (3002, "OOB-Transit"), (3003, "Monitoring"))
# A site's VLANs: (vid, name, in the site's group, ipam role slug or None).
SITE_VLANS = (
    (10, "Management", True, "management"),
    (20, "Servers", True, "server"),
    (30, "Storage", True, "storage"),
    (40, "vMotion", True, None),
    (50, "Backup", True, None),
    (60, "DMZ", True, None),
    (100, "Data", False, "data"),  # the same VID and name at every site, in no group
    (200, "Voice", False, "voice"),
    (300, "Wireless", False, "wireless"),
)
VLAN_MGMT, VLAN_SERVERS, VLAN_STORAGE, VLAN_VMOTION, VLAN_BACKUP, VLAN_DMZ, VLAN_DATA, VLAN_VOICE, VLAN_WIRELESS = range(9)
CIRCUIT_TYPES = (("Internet", "internet"), ("MPLS", "mpls"), ("Dark Fiber", "dark-fiber"), ("Transit", "transit"))
PROVIDERS = (
    ("Lumen", "lumen", "LUM"),
    ("Zayo", "zayo", "ZYO"),
    ("Cogent", "cogent", "COG"),
    ("NTT", "ntt", "NTT"),
    ("Telia", "telia", "TEL"),
    ("GTT", "gtt", "GTT"),
)
CLUSTER_TYPES = (("VMware vSphere", "vmware-vsphere"), ("Amazon Web Services", "amazon-web-services"), ("Microsoft Azure", "microsoft-azure"))
CLUSTER_GROUPS = (("On-Premises", "on-premises"), ("Public Cloud", "public-cloud"))
# Cloud clusters: (name, cluster type index, continent index of the region they are scoped to).
CLOUDS = (
    ("AWS eu-west-1", 1, 0),
    ("AWS us-east-1", 1, 1),
    ("Azure westeurope", 2, 0),
    ("AWS ap-southeast-1", 1, 3),
    ("Azure eastus", 2, 1),
    ("AWS sa-east-1", 1, 2),
)

# --- device types: ports, by the role they play --------------------------------------------


@dataclass(frozen=True)
class _Port:
    name: str
    type: str
    mgmt_only: bool = False
    poe: bool = False


def _ports(pattern: str, numbers: range, type_: str, *, poe: bool = False) -> tuple[_Port, ...]:
    return tuple(_Port(pattern.format(n), type_, poe=poe) for n in numbers)


@dataclass(frozen=True)
class _DeviceType:
    kind: str  # the role it plays in a site: edge, core, access, server, panel
    manufacturer: str
    model: str
    slug: str
    part_number: str
    u_height: int
    full_depth: bool
    airflow: str | None
    platform: str | None  # the platform of devices of this type
    interfaces: tuple[_Port, ...] = ()
    extras: tuple[_Port, ...] = ()  # virtual and LAG interfaces made on each device, not in the type
    console: tuple[str, ...] = ()
    power: tuple[str, ...] = ()
    max_draw: int | None = None
    panel_ports: int = 0


MGMT = "1000base-t"
DEVICE_TYPES = (
    _DeviceType(
        "edge",
        "juniper",
        "MX204",
        "mx204",
        "MX204-HW-BASE",
        1,
        True,
        "front-to-rear",
        "junos",
        _ports("et-0/0/{}", range(4), "100gbase-x-qsfp28") + _ports("xe-0/1/{}", range(8), "10gbase-x-sfpp") + (_Port("fxp0", MGMT, True),),
        (_Port("lo0", "virtual"),),
        ("con",),
        ("PEM0", "PEM1"),
        650,
    ),
    _DeviceType(
        "core",
        "arista",
        "DCS-7050SX3-48YC8",
        "dcs-7050sx3-48yc8",
        "DCS-7050SX3-48YC8-F",
        1,
        True,
        "front-to-rear",
        "eos",
        _ports("Ethernet{}", range(1, 49), "25gbase-x-sfp28")
        + _ports("Ethernet{}/1", range(49, 57), "100gbase-x-qsfp28")
        + (_Port("Management1", MGMT, True),),
        (_Port("Loopback0", "virtual"), _Port("Port-Channel1", "lag")),
        ("Console",),
        ("PS1", "PS2"),
        400,
    ),
    _DeviceType(
        "core",
        "juniper",
        "QFX5120-48Y",
        "qfx5120-48y",
        "QFX5120-48Y-AFO",
        1,
        True,
        "front-to-rear",
        "junos",
        _ports("et-0/0/{}", range(48), "25gbase-x-sfp28") + _ports("et-0/0/{}", range(48, 56), "100gbase-x-qsfp28") + (_Port("em0", MGMT, True),),
        (_Port("lo0", "virtual"), _Port("ae0", "lag")),
        ("con",),
        ("PSU 0", "PSU 1"),
        450,
    ),
    _DeviceType(
        "access",
        "cisco",
        "C9300-48P",
        "c9300-48p",
        "C9300-48P-E",
        1,
        True,
        "front-to-rear",
        "ios-xe",
        _ports("GigabitEthernet1/0/{}", range(1, 49), "1000base-t", poe=True)
        + _ports("TenGigabitEthernet1/1/{}", range(1, 5), "10gbase-x-sfpp")
        + (_Port("GigabitEthernet0/0", MGMT, True),),
        (),
        ("con 0",),
        ("PS-1", "PS-2"),
        1100,
    ),
    _DeviceType(
        "access",
        "arista",
        "DCS-7010TX-48",
        "dcs-7010tx-48",
        "DCS-7010TX-48-F",
        1,
        True,
        "front-to-rear",
        "eos",
        _ports("Ethernet{}", range(1, 49), "1000base-t") + _ports("Ethernet{}", range(49, 53), "10gbase-x-sfpp") + (_Port("Management1", MGMT, True),),
        (),
        ("Console",),
        ("PS1", "PS2"),
        150,
    ),
    _DeviceType(
        "server",
        "dell",
        "PowerEdge R650",
        "poweredge-r650",
        "R650-8SFF",
        1,
        True,
        "front-to-rear",
        None,
        (_Port("iDRAC", MGMT, True),) + _ports("eno{}", range(1, 3), "1000base-t") + _ports("ens1f{}", range(2), "25gbase-x-sfp28"),
        (_Port("bond0", "lag"),),
        (),
        ("PSU1", "PSU2"),
        800,
    ),
    _DeviceType(
        "server",
        "hpe",
        "ProLiant DL360 Gen10",
        "proliant-dl360-gen10",
        "P19766-B21",
        1,
        True,
        "front-to-rear",
        None,
        (_Port("iLO", MGMT, True),) + _ports("eno{}", range(1, 3), "1000base-t") + _ports("ens1f{}", range(2), "25gbase-x-sfp28"),
        (_Port("bond0", "lag"),),
        (),
        ("PS1", "PS2"),
        800,
    ),
    _DeviceType("panel", "panduit", "24-Port Cat6 Patch Panel", "24-port-cat6-patch-panel", "CP24BLY", 1, False, None, None, panel_ports=24),
)
TYPES_OF_KIND = {kind: tuple(i for i, t in enumerate(DEVICE_TYPES) if t.kind == kind) for kind in ("edge", "core", "access", "server", "panel")}


def _shape(t: _DeviceType) -> tuple[int, ...]:
    return (len(t.interfaces), len(t.extras), len(t.console), len(t.power), t.panel_ports)


# The types of a kind are interchangeable in a site: the same numbers of each port, the
# same roles at the same places (port 48 of a core switch faces the first edge router).
assert all(len({_shape(DEVICE_TYPES[i]) for i in types}) == 1 for types in TYPES_OF_KIND.values())

# Ports by what they face, by index in the kind's interfaces (extras follow the type's own).
EDGE_UPLINKS, EDGE_WAN, EDGE_MGMT, EDGE_LOOPBACK = (0, 1), 4, 12, 13
CORE_EDGE, CORE_PEER, CORE_MGMT, CORE_LOOPBACK, CORE_LAG = 48, (54, 55), 56, 57, 58
ACCESS_UPLINKS, ACCESS_MGMT, ACCESS_OOB_BASE = (48, 49), 52, 24  # ports 0..5: servers; 24..29: their out-of-band
SERVER_MGMT, SERVER_ENO1, SERVER_ENO2, SERVER_DATA, SERVER_BOND = 0, 1, 2, 3, 5
RACKS_PER_SITE, COMPUTE_RACKS, SERVERS_PER_RACK, HYPERVISORS_PER_RACK = 4, 3, 6, 4


@dataclass(frozen=True)
class _Slot:
    """A device's place in every site."""

    kind: str
    rack: int  # rack index in the site
    position: int
    short: str  # its name after the site's slug
    group: int  # the compute rack it serves (0..2), or the edge/core ordinal


@dataclass(frozen=True)
class _Ip:
    slot: int
    port: int  # interface index on the device
    prefix: int  # the site prefix it sits in
    host: int  # its offset in the prefix
    mask: int
    role: str | None


# A site's prefixes: (name, offset in the site's /20 (None: the transit /30), length, VRF, role, VLAN, tenanted, pool).
SITE_PREFIXES: tuple[tuple[str, int | None, int, str | None, str | None, int | None, bool, bool], ...] = (
    ("container", 0, 20, None, None, None, True, False),
    ("management", 0, 24, "MGMT", "management", VLAN_MGMT, True, False),
    ("servers", 256, 24, "PROD", "server", VLAN_SERVERS, True, False),
    ("storage", 512, 24, "STORAGE", "storage", VLAN_STORAGE, True, False),
    ("data", 768, 24, None, "data", VLAN_DATA, True, False),
    ("voice", 1024, 24, None, "voice", VLAN_VOICE, True, False),
    ("wireless", 1280, 24, None, "wireless", VLAN_WIRELESS, True, False),
    ("links", 15 * 256, 27, None, "infrastructure", None, False, False),
    ("loopbacks", 15 * 256 + 32, 27, None, "loopback", None, False, True),
    ("transit", None, 30, None, "transit", None, False, False),
)
P_CONTAINER, P_MGMT, P_SERVERS, P_STORAGE, P_DATA, P_VOICE, P_WIRELESS, P_LINKS, P_LOOPBACKS, P_TRANSIT = range(10)
SITE_BLOCK = 4096  # each site's /20 in 10.0.0.0/8
CLUSTER_BLOCK = 1024  # each cluster's /22 in 100.64.0.0/10
MAX_SITES, MAX_CLUSTERS = 4096, 4096
SITE_SHARE = 0.75  # of the objects beyond the catalogue, sites take this, virtual machines the rest


class _Layout:
    """Every site's devices, components, cables and addresses, by index within the site:
    the same for every site (the device types of a kind are interchangeable), so a
    component's pk is arithmetic: site × per-site count + its index + 1."""

    def __init__(self) -> None:
        slots: list[_Slot] = [
            _Slot("edge", 0, 40, "edge01", 0),
            _Slot("edge", 0, 38, "edge02", 1),
            _Slot("core", 0, 36, "core01", 0),
            _Slot("core", 0, 35, "core02", 1),
        ]
        slots += [_Slot("panel", 0, position, f"a01-pp{r + 1:02d}", r) for r, position in enumerate((42, 41, 39))]
        for r in range(COMPUTE_RACKS):
            rack = _rack_name(r + 1).lower()
            slots += [
                _Slot("access", r + 1, 42, f"{rack}-sw01", r),
                _Slot("access", r + 1, 41, f"{rack}-sw02", r),
                _Slot("panel", r + 1, 40, f"{rack}-pp01", r),
            ]
            slots += [_Slot("server", r + 1, 1 + 2 * s, f"{rack}-srv{s + 1:02d}", r) for s in range(SERVERS_PER_RACK)]
        self.slots = tuple(slots)
        self.edges = tuple(d for d, s in enumerate(slots) if s.kind == "edge")
        self.cores = tuple(d for d, s in enumerate(slots) if s.kind == "core")
        self.core_panels = tuple(d for d, s in enumerate(slots) if s.kind == "panel" and s.rack == 0)
        self.rack_panels = tuple(d for d, s in enumerate(slots) if s.kind == "panel" and s.rack > 0)
        self.access = tuple(tuple(d for d, s in enumerate(slots) if s.kind == "access" and s.group == r) for r in range(COMPUTE_RACKS))
        self.servers = tuple(tuple(d for d, s in enumerate(slots) if s.kind == "server" and s.group == r) for r in range(COMPUTE_RACKS))

        # Each component kind: the first index of each device's, and the site's total.
        shape = {kind: DEVICE_TYPES[types[0]] for kind, types in TYPES_OF_KIND.items()}
        self.shape = shape

        def offsets(count: Callable[[_DeviceType], int]) -> tuple[tuple[int, ...], int]:
            starts, total = [], 0
            for slot in slots:
                starts.append(total)
                total += count(shape[slot.kind])
            return tuple(starts), total

        self.iface_at, self.interfaces = offsets(lambda t: len(t.interfaces) + len(t.extras))
        self.console_at, self.consoles = offsets(lambda t: len(t.console))
        self.power_at, self.powers = offsets(lambda t: len(t.power))
        self.port_at, self.panel_ports = offsets(lambda t: t.panel_ports)  # front and rear ports alike
        self.lags = {kind: self._lags(kind) for kind in shape}

        # Cables: (A end, B end, cable type); an end is (component, slot, index) or
        # ("circuittermination", None, index in the site).
        End = tuple[str, int | None, int]
        links: list[tuple[End, End, str]] = []
        edge, core = self.edges, self.cores
        for e, router in enumerate(edge):
            for c, switch in enumerate(core):
                links.append((("interface", router, EDGE_UPLINKS[c]), ("interface", switch, CORE_EDGE + e), "dac-passive"))
        for port in CORE_PEER:
            links.append((("interface", core[0], port), ("interface", core[1], port), "dac-passive"))
        for circuit, router in enumerate(edge):
            links.append((("circuittermination", None, circuit), ("interface", router, EDGE_WAN), "smf"))
        for r in range(COMPUTE_RACKS):
            for a, switch in enumerate(self.access[r]):
                for c, uplink in enumerate(ACCESS_UPLINKS):
                    links.append((("interface", switch, uplink), ("interface", core[c], 2 * r + a), "mmf-om4"))
            switch_a, switch_b = self.access[r]
            near, far = self.rack_panels[r], self.core_panels[r]
            for s, server in enumerate(self.servers[r]):
                links.append((("interface", server, SERVER_ENO1), ("interface", switch_a, s), "cat6"))
                links.append((("interface", server, SERVER_ENO2), ("interface", switch_b, s), "cat6"))
                links.append((("interface", server, SERVER_MGMT), ("interface", switch_a, ACCESS_OOB_BASE + s), "cat6"))
                links.append((("interface", server, SERVER_DATA), ("frontport", near, s), "cat6"))
                links.append((("rearport", near, s), ("rearport", far, s), "cat6"))
                links.append((("frontport", far, s), ("interface", core[0], 12 + 6 * r + s), "cat6"))
        self.links = tuple(links)
        self.cable_of: dict[End, tuple[int, int]] = {}  # end → (cable index, 0 for A / 1 for B)
        for c, (a_end, b_end, _) in enumerate(links):
            for side, end in enumerate((a_end, b_end)):
                assert end not in self.cable_of, end
                self.cable_of[end] = (c, side)

        # Addresses, and each device's primary and out-of-band one (index in the site's list).
        ips: list[_Ip] = []
        self.primary: dict[int, int] = {}
        self.oob: dict[int, int] = {}
        mgmt_port = {"edge": EDGE_MGMT, "core": CORE_MGMT, "access": ACCESS_MGMT, "server": SERVER_MGMT}
        for d, slot in enumerate(slots):
            if slot.kind in mgmt_port:
                (self.primary if slot.kind == "access" else self.oob)[d] = len(ips)
                ips.append(_Ip(d, mgmt_port[slot.kind], P_MGMT, 11 + len(ips), 24, None))
        for n, d in enumerate(edge + core):
            self.primary[d] = len(ips)
            ips.append(_Ip(d, EDGE_LOOPBACK if slots[d].kind == "edge" else CORE_LOOPBACK, P_LOOPBACKS, n + 1, 32, "loopback"))
        for n, (e, router) in enumerate((e, router) for e, router in enumerate(edge) for _ in core):
            c = n % len(core)
            ips.append(_Ip(router, EDGE_UPLINKS[c], P_LINKS, 2 * n, 31, None))
            ips.append(_Ip(core[c], CORE_EDGE + e, P_LINKS, 2 * n + 1, 31, None))
        for n, d in enumerate(d for rack in self.servers for d in rack):
            self.primary[d] = len(ips)
            ips.append(_Ip(d, SERVER_BOND, P_SERVERS, 11 + n, 24, None))
        ips.append(_Ip(edge[0], EDGE_WAN, P_TRANSIT, 2, 30, None))
        self.ips = tuple(ips)
        self.ips_on: dict[tuple[int, int], int] = {(ip.slot, ip.port): j for j, ip in enumerate(ips)}

        # Tags: the site's two, "critical" on its edge and core devices, one on each server,
        # "monitored" on its container prefix.
        self.tagged_devices = edge + core + tuple(d for rack in self.servers for d in rack)
        self.tagged_per_site = 2 + len(self.tagged_devices) + 1

    def _lags(self, kind: str) -> dict[int, int]:
        """member interface index → its LAG's index."""
        if kind == "core":
            return {port: CORE_LAG for port in CORE_PEER}
        if kind == "server":
            return {SERVER_ENO1: SERVER_BOND, SERVER_ENO2: SERVER_BOND}
        return {}


def _panel_names(t: _DeviceType) -> tuple[str, ...]:
    return tuple(f"Port {n}" for n in range(1, t.panel_ports + 1))


def _rack_name(r: int) -> str:
    return f"{'AB'[r // 2]}{r % 2 + 1:02d}"


LAYOUT = _Layout()
CABLES_PER_SITE = len(LAYOUT.links)
CIRCUITS_PER_SITE, CIRCUIT_TERMINATIONS_PER_SITE = 2, 3
LOCATIONS_PER_SITE = 3  # a data hall and its two rows


# --- sizes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How many sites, cloud clusters and virtual machines an export of ``objects`` has."""

    sites: int
    clouds: int
    vms: int

    @property
    def clusters(self) -> int:
        return self.sites + self.clouds

    def counts(self) -> dict[str, int]:
        """Records per model label."""
        s, v = self.sites, self.vms
        t = DEVICE_TYPES
        counts = {
            "contenttypes.contenttype": len(CONTENT_TYPES),
            "circuits.circuittype": len(CIRCUIT_TYPES),
            "circuits.circuit": CIRCUITS_PER_SITE * s,
            "circuits.circuittermination": CIRCUIT_TERMINATIONS_PER_SITE * s,
            "circuits.provider": len(PROVIDERS),
            "circuits.providernetwork": len(PROVIDERS),
            "dcim.consoleport": LAYOUT.consoles * s,
            "dcim.powerport": LAYOUT.powers * s,
            "dcim.interface": LAYOUT.interfaces * s,
            "dcim.frontport": LAYOUT.panel_ports * s,
            "dcim.rearport": LAYOUT.panel_ports * s,
            "dcim.cable": CABLES_PER_SITE * s,
            "dcim.cabletermination": 2 * CABLES_PER_SITE * s,
            "dcim.consoleporttemplate": sum(len(x.console) for x in t),
            "dcim.powerporttemplate": sum(len(x.power) for x in t),
            "dcim.interfacetemplate": sum(len(x.interfaces) for x in t),
            "dcim.frontporttemplate": sum(x.panel_ports for x in t),
            "dcim.rearporttemplate": sum(x.panel_ports for x in t),
            "dcim.manufacturer": len(MANUFACTURERS),
            "dcim.devicetype": len(t),
            "dcim.devicerole": len(DEVICE_ROLES),
            "dcim.platform": len(PLATFORMS),
            "dcim.device": len(LAYOUT.slots) * s,
            "dcim.rackrole": len(RACK_ROLES),
            "dcim.rack": RACKS_PER_SITE * s,
            "dcim.region": len(REGIONS),
            "dcim.sitegroup": len(SITE_GROUPS),
            "dcim.site": s,
            "dcim.location": LOCATIONS_PER_SITE * s,
            "ipam.vrf": len(VRFS),
            "ipam.routetarget": len(ROUTE_TARGETS),
            "ipam.rir": len(RIRS),
            "ipam.aggregate": len(AGGREGATES),
            "ipam.role": len(IPAM_ROLES),
            "ipam.prefix": len(SITE_PREFIXES) * s + self.clusters,
            "ipam.ipaddress": len(LAYOUT.ips) * s + v,
            "ipam.vlangroup": 1 + s,
            "ipam.vlan": len(GLOBAL_VLANS) + len(SITE_VLANS) * s,
            "extras.tag": len(TAGS),
            "extras.taggeditem": LAYOUT.tagged_per_site * s + _tagged_vms(v),
            "extras.customfield": len(CUSTOM_FIELDS),
            "tenancy.tenantgroup": len(TENANT_GROUPS),
            "tenancy.tenant": len(TENANTS),
            "virtualization.clustertype": len(CLUSTER_TYPES),
            "virtualization.clustergroup": len(CLUSTER_GROUPS),
            "virtualization.cluster": self.clusters,
            "virtualization.virtualmachine": v,
            "virtualization.vminterface": 2 * v,
            "users.user": len(USERS),
            "dcim.rackreservation": s,
        }
        assert set(counts) == set(NATURAL_ORDER)
        return counts

    @property
    def total(self) -> int:
        return sum(self.counts().values())

    @classmethod
    def of(cls, objects: int) -> Sizes:
        """The sizes whose total is nearest ``objects``."""
        if objects < 1:
            raise ValueError("objects must be positive")
        bare = cls(0, 0, 0).total  # the catalogue
        site = cls(1, 0, 0).total - bare
        sites = max(1, round(SITE_SHARE * (objects - bare) / site))
        clouds = 3
        while True:
            if sites > MAX_SITES:
                raise ValueError(f"{objects} objects need more than {MAX_SITES} sites (10.0.0.0/8 in /20s)")
            fixed = cls(sites, clouds, 0).total
            per_vm = 4 + 1 / 3  # the machine, two interfaces, an address; a tag on every third
            vms = max(0, math.floor((objects - fixed) / per_vm))
            best = min((cls(sites, clouds, n) for n in range(max(0, vms - 2), vms + 3)), key=lambda x: abs(x.total - objects))
            needed = math.ceil(best.vms / (CLUSTER_BLOCK - 2))  # each cluster's /22 holds 1022 machines
            if needed <= best.clusters:
                if best.clusters > MAX_CLUSTERS:
                    raise ValueError(f"{objects} objects need more than {MAX_CLUSTERS} clusters (100.64.0.0/10 in /22s)")
                return best
            clouds = needed - sites


def _tagged_vms(vms: int) -> int:
    return (vms + 2) // 3  # every third machine, from the first


_Region = tuple[str, str, int | None, int, int, int, int]
_City = tuple[str, str, str, float, float, int, int]


def _regions() -> tuple[tuple[_Region, ...], tuple[_City, ...], tuple[int, ...]]:
    """The region tree (name, slug, parent pk, lft, rght, tree_id, level) in pk order
    (continents, each followed by its countries, each followed by its cities); the cities
    (code, name, time zone, latitude, longitude, region pk, continent pk); the continents' pks."""
    rows: list[list[Any]] = []
    cities: list[_City] = []
    continents: list[int] = []
    for tree, (continent, countries) in enumerate(GEOGRAPHY, 1):
        root = len(rows)
        continents.append(root + 1)
        rows.append([continent, continent.lower().replace(" ", "-"), None, 1, 0, tree, 0])
        counter = 2
        for country, code, places in countries:
            parent = len(rows)
            rows.append([country, code, root + 1, counter, 0, tree, 1])
            counter += 1
            for city_code, city, tz, lat, lon in places:
                cities.append((city_code, city, tz, lat, lon, len(rows) + 1, root + 1))
                rows.append([city, f"{code}-{city_code.lower()}", parent + 1, counter, counter + 1, tree, 2])
                counter += 2
            rows[parent][4] = counter
            counter += 1
        rows[root][4] = counter
    return tuple((str(r[0]), str(r[1]), r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in rows), tuple(cities), tuple(continents)


REGIONS, CITIES, CONTINENT_PK = _regions()
ROUTE_TARGETS = tuple(rd for _, rd, _, _ in VRFS if rd) + (SHARED_SERVICES_RT,)
# (name, label, type, object types, description, regex, minimum)
CUSTOM_FIELDS = (
    ("cust_id", "Customer ID", "text", ("tenancy.tenant",), "", "^[A-Z]{3}\\d{2}$", None),
    ("cmdb_id", "CMDB ID", "integer", ("dcim.device", "virtualization.virtualmachine"), "The record's id in the CMDB", "", 1),
)

# --- time and chance ----------------------------------------------------------------------

BEGIN_MS = int(datetime(2021, 1, 4, tzinfo=UTC).timestamp() * 1000)
END_MS = int(datetime(2025, 3, 31, tzinfo=UTC).timestamp() * 1000)
DAY_MS = 86_400_000
_M64 = (1 << 64) - 1


def _iso(ms: int) -> str:
    """A time as Django's JSON encoder writes it: milliseconds, and Z for UTC."""
    seconds, fraction = divmod(ms, 1000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:03d}Z" if fraction else f"{text}Z"


@cache
def _salt(name: str) -> int:
    return zlib.crc32(name.encode())  # stable across runs, unlike hash()


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


# --- writing ------------------------------------------------------------------------------


class _Export:
    """The records of one export, model by model."""

    def __init__(self, sizes: Sizes, seed: int, natural_keys: bool) -> None:
        self.sizes, self.seed, self.natural = sizes, seed, natural_keys
        self.counts = sizes.counts()

    # Chance: a pure function of the seed, a name and numbers.
    def h(self, salt: str, *parts: int) -> int:
        x = _mix(self.seed ^ _salt(salt))
        for part in parts:
            x = _mix(x ^ (part & _M64))
        return x

    def pick(self, options: tuple[Any, ...] | range, salt: str, *parts: int) -> Any:
        return options[self.h(salt, *parts) % len(options)]

    def chance(self, percent: int, salt: str, *parts: int) -> bool:
        return self.h(salt, *parts) % 100 < percent

    def stamps(self, label: str, pk: int) -> tuple[str, str]:
        """created and last_updated: the model's objects made over the years in pk order,
        some changed since."""
        total = self.counts[label]
        when = BEGIN_MS + (END_MS - BEGIN_MS - 400 * DAY_MS) * (pk - 1) // max(total, 1) + self.h("created", _salt(label), pk) % DAY_MS
        changed = self.h("updated", _salt(label), pk)
        updated = when if changed % 3 == 0 else min(END_MS, when + changed % (400 * DAY_MS))
        return _iso(when), _iso(updated)

    def ct(self, label: str) -> Any:
        app, model = label.split(".")
        return [app, model] if self.natural else CONTENT_TYPE_ID[label]

    def user(self, index: int) -> Any:
        return [USERS[index]] if self.natural else index + 1

    def tag(self, index: int) -> Any:
        return [TAGS[index][0]] if self.natural else index + 1

    # --- pks -----------------------------------------------------------------------------

    def device_pk(self, i: int, d: int) -> int:
        return i * len(LAYOUT.slots) + d + 1

    def iface_pk(self, i: int, d: int, k: int) -> int:
        return i * LAYOUT.interfaces + LAYOUT.iface_at[d] + k + 1

    def port_pk(self, i: int, d: int, k: int) -> int:  # front and rear ports alike
        return i * LAYOUT.panel_ports + LAYOUT.port_at[d] + k + 1

    def rack_pk(self, i: int, r: int) -> int:
        return i * RACKS_PER_SITE + r + 1

    def location_pk(self, i: int, r: int) -> int:
        """The location of rack r (row A: racks 0 and 1, row B: 2 and 3)."""
        return i * LOCATIONS_PER_SITE + 1 + r // 2 + 1

    def vlan_pk(self, i: int, j: int) -> int:
        return len(GLOBAL_VLANS) + i * len(SITE_VLANS) + j + 1

    def prefix_pk(self, i: int, j: int) -> int:
        return i * len(SITE_PREFIXES) + j + 1

    def ip_pk(self, i: int, j: int) -> int:
        return i * len(LAYOUT.ips) + j + 1

    def vm_ip_pk(self, v: int) -> int:
        return self.sizes.sites * len(LAYOUT.ips) + v + 1

    def cable_pk(self, i: int, c: int) -> int:
        return i * CABLES_PER_SITE + c + 1

    def circuit_termination_pk(self, i: int, j: int) -> int:
        return i * CIRCUIT_TERMINATIONS_PER_SITE + j + 1

    # --- what a site is ------------------------------------------------------------------

    @lru_cache(maxsize=4)  # noqa: B019 -- one export, a few sites at a time
    def site(self, i: int) -> dict[str, Any]:
        city = CITIES[i % len(CITIES)]
        number = i // len(CITIES) + 1
        name = f"{city[0]}{number}"
        return {
            "name": name,
            "slug": name.lower(),
            "city": city,
            "tenant": self.pick(range(len(TENANTS)), "site-tenant", i) + 1,
            "group": SITE_GROUP_LEAVES[self.h("site-group", i) % len(SITE_GROUP_LEAVES)] + 1,
            "types": {kind: self.pick(types, "site-type", _salt(kind), i) for kind, types in TYPES_OF_KIND.items()},
            "base": int(ipaddress.IPv4Address("10.0.0.0")) + i * SITE_BLOCK,
        }

    def device_type(self, i: int, d: int) -> int:
        return self.site(i)["types"][LAYOUT.slots[d].kind]

    def device_name(self, i: int, d: int) -> str:
        return f"{self.site(i)['slug']}-{LAYOUT.slots[d].short}"

    def device_tenant(self, i: int, d: int) -> int | None:
        if LAYOUT.slots[d].kind == "panel" or self.chance(15, "device-untenanted", i, d):
            return None
        return self.site(i)["tenant"]

    def prefix_network(self, i: int, j: int) -> tuple[int, int]:
        _, offset, length, *_ = SITE_PREFIXES[j]
        if offset is None:
            return int(ipaddress.IPv4Address("198.18.0.0")) + 4 * i, length
        return self.site(i)["base"] + offset, length

    def ip_address(self, i: int, j: int) -> str:
        ip = LAYOUT.ips[j]
        network, _ = self.prefix_network(i, ip.prefix)
        return f"{ipaddress.IPv4Address(network + ip.host)}/{ip.mask}"

    def prefix_vrf(self, j: int) -> int | None:
        vrf = SITE_PREFIXES[j][3]
        return VRF_INDEX[vrf] + 1 if vrf else None

    def cluster_of_vm(self, v: int) -> tuple[int, int]:
        """(cluster index, the machine's ordinal in it)."""
        return v % self.sizes.clusters, v // self.sizes.clusters

    def cluster_network(self, c: int) -> int:
        return int(ipaddress.IPv4Address("100.64.0.0")) + c * CLUSTER_BLOCK

    def vm_tenant(self, v: int) -> int | None:
        c, _ = self.cluster_of_vm(v)
        if self.chance(25, "vm-untenanted", v):
            return None
        if c < self.sizes.sites:
            return self.site(c)["tenant"]
        return self.pick(range(len(TENANTS)), "vm-tenant", v) + 1

    def scope(self, kind: str, pk: int | None) -> Fields:
        """A scope pair and NetBox's caches of it (_location, _site, _region, _site_group)."""
        if kind == "site" and pk is not None:
            site = self.site(pk - 1)
            return {
                "scope_type": self.ct("dcim.site"),
                "scope_id": pk,
                "_location": None,
                "_site": pk,
                "_region": site["city"][5],
                "_site_group": site["group"],
            }
        if kind == "region" and pk is not None:
            return {"scope_type": self.ct("dcim.region"), "scope_id": pk, "_location": None, "_site": None, "_region": pk, "_site_group": None}
        return {"scope_type": None, "scope_id": None, "_location": None, "_site": None, "_region": None, "_site_group": None}

    def common(self, label: str, pk: int, **custom: Any) -> Fields:
        created, updated = self.stamps(label, pk)
        return {"created": created, "last_updated": updated, "custom_field_data": custom}

    def serial(self, *parts: int) -> str:
        value = self.h("serial", *parts)
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        return "".join(alphabet[(value >> (5 * n)) % len(alphabet)] for n in range(11))

    # --- the models ----------------------------------------------------------------------
    # Each yields (pk, fields), the fields in the order and with the names NetBox 4.2's
    # dumpdata writes (the demo's records).

    def contenttypes_contenttype(self) -> Records:
        for pk, label in enumerate(CONTENT_TYPES, 1):
            app, model = label.split(".")
            yield pk, {"app_label": app, "model": model}

    def circuits_circuittype(self) -> Records:
        for pk, (name, slug) in enumerate(CIRCUIT_TYPES, 1):
            yield pk, {**self.common("circuits.circuittype", pk), "name": name, "slug": slug, "description": "", "color": ""}

    def circuits_circuit(self) -> Records:
        for i in range(self.sizes.sites):
            site = self.site(i)
            for j, (kind, rate) in enumerate((("internet", 1_000_000), ("mpls", 100_000))):
                pk = i * CIRCUITS_PER_SITE + j + 1
                provider = self.pick(range(len(PROVIDERS)), "circuit-provider", i, j)
                installed = self.stamps("circuits.circuit", pk)[0][:10]
                yield (
                    pk,
                    {
                        **self.common("circuits.circuit", pk),
                        "description": f"{CIRCUIT_TYPES[j][0]} at {site['name']}",
                        "comments": "",
                        "distance": None,
                        "distance_unit": None,
                        "_abs_distance": None,
                        "cid": f"{PROVIDERS[provider][2]}-{700000 + 7 * pk}",
                        "provider": provider + 1,
                        "provider_account": None,
                        "type": j + 1,
                        "status": "active",
                        "tenant": site["tenant"] if kind == "mpls" else None,
                        "install_date": installed,
                        "termination_date": None,
                        "commit_rate": rate * (1 + self.h("commit", pk) % 10),
                        "termination_a": self.circuit_termination_pk(i, j),
                        "termination_z": self.circuit_termination_pk(i, 2) if kind == "mpls" else None,
                    },
                )

    def circuits_circuittermination(self) -> Records:
        for i in range(self.sizes.sites):
            site = self.site(i)
            for j in range(CIRCUIT_TERMINATIONS_PER_SITE):
                pk = self.circuit_termination_pk(i, j)
                cabled = LAYOUT.cable_of.get(("circuittermination", None, j))
                at_site = j < 2
                provider = self.pick(range(len(PROVIDERS)), "circuit-provider", i, 1) + 1
                yield (
                    pk,
                    {
                        **self.common("circuits.circuittermination", pk),
                        "cable": self.cable_pk(i, cabled[0]) if cabled else None,
                        "cable_end": "AB"[cabled[1]] if cabled else None,
                        "mark_connected": False,
                        "circuit": i * CIRCUITS_PER_SITE + min(j, 1) + 1,
                        "term_side": "A" if at_site else "Z",
                        "termination_type": self.ct("dcim.site" if at_site else "circuits.providernetwork"),
                        "termination_id": i + 1 if at_site else provider,
                        "port_speed": 1_000_000 if j == 0 else 100_000,
                        "upstream_speed": None,
                        "xconnect_id": f"XC-{site['name']}-{j + 1:03d}" if at_site else "",
                        "pp_info": f"MMR panel 1, ports {2 * j + 1}-{2 * j + 2}" if at_site else "",
                        "description": "",
                        "_provider_network": None if at_site else provider,
                        "_location": None,
                        "_site": i + 1 if at_site else None,
                        "_region": site["city"][5] if at_site else None,
                        "_site_group": site["group"] if at_site else None,
                    },
                )

    def circuits_provider(self) -> Records:
        for pk, (name, slug, _) in enumerate(PROVIDERS, 1):
            yield pk, {**self.common("circuits.provider", pk), "description": "", "comments": "", "name": name, "slug": slug, "asns": []}

    def circuits_providernetwork(self) -> Records:
        for pk, (name, _, _) in enumerate(PROVIDERS, 1):
            fields = {**self.common("circuits.providernetwork", pk), "description": "", "comments": ""}
            yield pk, {**fields, "name": f"{name} MPLS VPN", "provider": pk, "service_id": f"VPN-{pk:04d}"}

    def _component(self, label: str, pk: int, i: int, d: int, name: str, end: tuple[str, int | None, int] | None) -> Fields:
        cabled = LAYOUT.cable_of.get(end) if end else None
        return {
            **self.common(label, pk),
            "device": self.device_pk(i, d),
            "name": name,
            "label": "",
            "description": "",
            "module": None,
            "cable": self.cable_pk(i, cabled[0]) if cabled else None,
            "cable_end": "AB"[cabled[1]] if cabled else None,
            "mark_connected": False,
        }

    def dcim_consoleport(self) -> Records:
        for i in range(self.sizes.sites):
            for d in range(len(LAYOUT.slots)):
                t = DEVICE_TYPES[self.device_type(i, d)]
                for k, name in enumerate(t.console):
                    pk = i * LAYOUT.consoles + LAYOUT.console_at[d] + k + 1
                    yield pk, {**self._component("dcim.consoleport", pk, i, d, name, None), "_path": None, "type": "rj-45", "speed": 9600}

    def dcim_powerport(self) -> Records:
        for i in range(self.sizes.sites):
            for d in range(len(LAYOUT.slots)):
                t = DEVICE_TYPES[self.device_type(i, d)]
                for k, name in enumerate(t.power):
                    pk = i * LAYOUT.powers + LAYOUT.power_at[d] + k + 1
                    fields = self._component("dcim.powerport", pk, i, d, name, None)
                    yield (
                        pk,
                        {
                            **fields,
                            "_path": None,
                            "type": "iec-60320-c14",
                            "maximum_draw": t.max_draw,
                            "allocated_draw": t.max_draw // 2 if t.max_draw else None,
                        },
                    )

    def dcim_interface(self) -> Records:
        for i in range(self.sizes.sites):
            for d, slot in enumerate(LAYOUT.slots):
                t = DEVICE_TYPES[self.device_type(i, d)]
                lags = LAYOUT.lags[slot.kind]
                for k, port in enumerate(t.interfaces + t.extras):
                    pk = self.iface_pk(i, d, k)
                    mode, untagged, tagged = self._vlans(i, slot.kind, k)
                    vrf = None
                    if port.mgmt_only:
                        vrf = VRF_INDEX["MGMT"] + 1
                    elif slot.kind == "server" and k == SERVER_BOND:
                        vrf = VRF_INDEX["PROD"] + 1
                    yield (
                        pk,
                        {
                            **self._component("dcim.interface", pk, i, d, port.name, ("interface", d, k)),
                            "_path": None,
                            "enabled": True,
                            "mtu": 9216 if port.type in ("100gbase-x-qsfp28", "lag") else None,
                            "mode": mode,
                            "parent": None,
                            "bridge": None,
                            "untagged_vlan": untagged,
                            "qinq_svlan": None,
                            "vlan_translation_policy": None,
                            "primary_mac_address": None,
                            "_name": naturalize_interface(port.name, 100),
                            "lag": self.iface_pk(i, d, lags[k]) if k in lags else None,
                            "type": port.type,
                            "mgmt_only": port.mgmt_only,
                            "speed": None,
                            "duplex": "full" if port.type == "1000base-t" else None,
                            "wwn": None,
                            "rf_role": None,
                            "rf_channel": None,
                            "rf_channel_frequency": None,
                            "rf_channel_width": None,
                            "tx_power": None,
                            "poe_mode": "pse" if port.poe else None,
                            "poe_type": "type2-ieee802.3at" if port.poe else None,
                            "wireless_link": None,
                            "vrf": vrf,
                            "tagged_vlans": tagged,
                            "vdcs": [],
                            "wireless_lans": [],
                        },
                    )

    def _vlans(self, i: int, kind: str, k: int) -> tuple[str | None, int | None, list[int]]:
        """An interface's 802.1Q mode, untagged VLAN and tagged VLANs."""
        if kind == "access":
            if k < SERVERS_PER_RACK:  # servers' uplinks: their VLAN untagged, storage and vMotion tagged
                return "tagged", self.vlan_pk(i, VLAN_SERVERS), [self.vlan_pk(i, VLAN_STORAGE), self.vlan_pk(i, VLAN_VMOTION)]
            if ACCESS_OOB_BASE <= k < ACCESS_OOB_BASE + SERVERS_PER_RACK:
                return "access", self.vlan_pk(i, VLAN_MGMT), []
            if k < 48:  # desk ports: the site's VLAN 100, in no group
                return "access", self.vlan_pk(i, VLAN_DATA if k % 4 else VLAN_VOICE), []
            if k in ACCESS_UPLINKS:
                return "tagged-all", None, []
        if kind == "core" and k < 12:  # down to the access switches: every site VLAN
            return "tagged", None, [self.vlan_pk(i, j) for j in range(len(SITE_VLANS))]
        return None, None, []

    def _panel_ports(self, label: str, front: bool) -> Records:
        for i in range(self.sizes.sites):
            for d, slot in enumerate(LAYOUT.slots):
                if slot.kind != "panel":
                    continue
                for k in range(DEVICE_TYPES[self.device_type(i, d)].panel_ports):
                    pk = self.port_pk(i, d, k)
                    fields = self._component(label, pk, i, d, f"Port {k + 1}", ("frontport" if front else "rearport", d, k))
                    if front:
                        yield pk, {**fields, "type": "8p8c", "color": "", "rear_port": pk, "rear_port_position": 1}
                    else:
                        yield pk, {**fields, "type": "110-punch", "color": "", "positions": 1}

    def dcim_frontport(self) -> Records:
        return self._panel_ports("dcim.frontport", True)

    def dcim_rearport(self) -> Records:
        return self._panel_ports("dcim.rearport", False)

    def dcim_cable(self) -> Records:
        colors = {"cat6": "2196f3", "smf": "ffeb3b", "mmf-om4": "e91e63", "dac-passive": "111111"}
        for i in range(self.sizes.sites):
            for c, (_, _, type_) in enumerate(LAYOUT.links):
                pk = self.cable_pk(i, c)
                length = None if type_ == "smf" else 1 + self.h("cable-length", pk) % 10
                yield (
                    pk,
                    {
                        **self.common("dcim.cable", pk),
                        "description": "",
                        "comments": "",
                        "type": type_,
                        "status": "planned" if self.chance(2, "cable-planned", pk) else "connected",
                        "tenant": None,
                        "label": f"{self.site(i)['name']}-{c + 1:04d}",
                        "color": colors[type_],
                        "length": f"{length}.00" if length else None,
                        "length_unit": "m" if length else None,
                        "_abs_length": f"{length}.0000" if length else None,
                    },
                )

    def dcim_cabletermination(self) -> Records:
        for i in range(self.sizes.sites):
            for c, link in enumerate(LAYOUT.links):
                cable = self.cable_pk(i, c)
                created, updated = self.stamps("dcim.cable", cable)  # made with its cable
                for side, (component, d, k) in enumerate(link[:2]):
                    if component == "circuittermination":
                        target, device, rack, location = self.circuit_termination_pk(i, k), None, None, None
                    else:
                        assert d is not None
                        slot = LAYOUT.slots[d]
                        target = self.iface_pk(i, d, k) if component == "interface" else self.port_pk(i, d, k)
                        device, rack, location = self.device_pk(i, d), self.rack_pk(i, slot.rack), self.location_pk(i, slot.rack)
                    yield (
                        2 * (cable - 1) + side + 1,
                        {
                            "created": created,
                            "last_updated": updated,
                            "cable": cable,
                            "cable_end": "AB"[side],
                            "termination_type": self.ct(f"{'dcim' if component != 'circuittermination' else 'circuits'}.{component}"),
                            "termination_id": target,
                            "_device": device,
                            "_rack": rack,
                            "_location": location,
                            "_site": i + 1,
                        },
                    )

    def _templates(self, label: str, ports: Callable[[_DeviceType], tuple[Any, ...]]) -> Iterator[tuple[int, Any, Fields]]:
        """(pk, port, the fields every template has) of each device type's templates of a kind."""
        pk = 0
        for t_index, t in enumerate(DEVICE_TYPES):
            for port in ports(t):
                pk += 1
                created, updated = self.stamps(label, pk)
                name = port.name if isinstance(port, _Port) else port
                yield (
                    pk,
                    port,
                    {"created": created, "last_updated": updated, "name": name, "label": "", "description": ""}
                    | {
                        "device_type": t_index + 1,
                        "module_type": None,
                    },
                )

    def dcim_consoleporttemplate(self) -> Records:
        for pk, _, fields in self._templates("dcim.consoleporttemplate", lambda t: t.console):
            yield pk, {**fields, "type": "rj-45"}

    def dcim_powerporttemplate(self) -> Records:
        draws = [t.max_draw for t in DEVICE_TYPES for _ in t.power]
        for pk, _, fields in self._templates("dcim.powerporttemplate", lambda t: t.power):
            yield pk, {**fields, "type": "iec-60320-c14", "maximum_draw": draws[pk - 1], "allocated_draw": None}

    def dcim_interfacetemplate(self) -> Records:
        for pk, port, fields in self._templates("dcim.interfacetemplate", lambda t: t.interfaces):
            yield (
                pk,
                {
                    **fields,
                    "_name": naturalize_interface(port.name, 100),
                    "type": port.type,
                    "enabled": True,
                    "mgmt_only": port.mgmt_only,
                    "bridge": None,
                    "poe_mode": "pse" if port.poe else None,
                    "poe_type": "type2-ieee802.3at" if port.poe else None,
                    "rf_role": None,
                },
            )

    def dcim_frontporttemplate(self) -> Records:
        for pk, _, fields in self._templates("dcim.frontporttemplate", _panel_names):
            yield pk, {**fields, "type": "8p8c", "color": "", "rear_port": pk, "rear_port_position": 1}

    def dcim_rearporttemplate(self) -> Records:
        for pk, _, fields in self._templates("dcim.rearporttemplate", _panel_names):
            yield pk, {**fields, "type": "110-punch", "color": "", "positions": 1}

    def dcim_manufacturer(self) -> Records:
        for pk, (name, slug) in enumerate(MANUFACTURERS, 1):
            yield pk, {**self.common("dcim.manufacturer", pk), "name": name, "slug": slug, "description": ""}

    def dcim_devicetype(self) -> Records:
        for pk, t in enumerate(DEVICE_TYPES, 1):
            yield (
                pk,
                {
                    **self.common("dcim.devicetype", pk),
                    "description": "",
                    "comments": "",
                    "weight": None,
                    "weight_unit": None,
                    "_abs_weight": None,
                    "manufacturer": MANUFACTURER_INDEX[t.manufacturer] + 1,
                    "model": t.model,
                    "slug": t.slug,
                    "default_platform": PLATFORM_INDEX[t.platform] + 1 if t.platform else None,
                    "part_number": t.part_number,
                    "u_height": f"{t.u_height}.0",
                    "exclude_from_utilization": t.kind == "panel",
                    "is_full_depth": t.full_depth,
                    "subdevice_role": None,
                    "airflow": t.airflow,
                    "front_image": "",
                    "rear_image": "",
                    "console_port_template_count": len(t.console),
                    "console_server_port_template_count": 0,
                    "power_port_template_count": len(t.power),
                    "power_outlet_template_count": 0,
                    "interface_template_count": len(t.interfaces),
                    "front_port_template_count": t.panel_ports,
                    "rear_port_template_count": t.panel_ports,
                    "device_bay_template_count": 0,
                    "module_bay_template_count": 0,
                    "inventory_item_template_count": 0,
                },
            )

    def dcim_devicerole(self) -> Records:
        for pk, (name, slug, color, vm_role) in enumerate(DEVICE_ROLES, 1):
            fields = {**self.common("dcim.devicerole", pk), "name": name, "slug": slug, "description": ""}
            yield pk, {**fields, "color": color, "vm_role": vm_role, "config_template": None}

    def dcim_platform(self) -> Records:
        for pk, (name, slug, manufacturer) in enumerate(PLATFORMS, 1):
            fields = {**self.common("dcim.platform", pk), "name": name, "slug": slug, "description": ""}
            yield pk, {**fields, "manufacturer": MANUFACTURER_INDEX[manufacturer] + 1 if manufacturer else None, "config_template": None}

    def dcim_device(self) -> Records:
        roles = {"edge": "router", "core": "core-switch", "access": "access-switch", "server": "server", "panel": "patch-panel"}
        for i in range(self.sizes.sites):
            site = self.site(i)
            for d, slot in enumerate(LAYOUT.slots):
                pk = self.device_pk(i, d)
                t = DEVICE_TYPES[self.device_type(i, d)]
                hypervisor = slot.kind == "server" and d - LAYOUT.servers[slot.group][0] < HYPERVISORS_PER_RACK
                platform = t.platform
                if slot.kind == "server":
                    platform = "esxi-8" if hypervisor else self.pick(("ubuntu-22-04", "rhel-9"), "server-os", pk)
                primary, oob = LAYOUT.primary.get(d), LAYOUT.oob.get(d)
                panel = slot.kind == "panel"
                yield (
                    pk,
                    {
                        **self.common("dcim.device", pk, cmdb_id=None if panel else 100_000 + pk),
                        "description": "",
                        "comments": "",
                        "local_context_data": None,
                        "config_template": None,
                        "device_type": self.device_type(i, d) + 1,
                        "role": ROLE_INDEX[roles[slot.kind]] + 1,
                        "tenant": self.device_tenant(i, d),
                        "platform": PLATFORM_INDEX[platform] + 1 if platform else None,
                        "name": self.device_name(i, d),
                        "serial": "" if panel else self.serial(pk),
                        "asset_tag": None if panel else f"{site['name']}-{d + 1:03d}",
                        "site": i + 1,
                        "location": self.location_pk(i, slot.rack),
                        "rack": self.rack_pk(i, slot.rack),
                        "position": f"{slot.position}.0",
                        "face": "front",
                        "status": "active",
                        "airflow": t.airflow,
                        "primary_ip4": self.ip_pk(i, primary) if primary is not None else None,
                        "primary_ip6": None,
                        "oob_ip": self.ip_pk(i, oob) if oob is not None else None,
                        "cluster": i + 1 if hypervisor else None,
                        "virtual_chassis": None,
                        "vc_position": None,
                        "vc_priority": None,
                        "latitude": None,
                        "longitude": None,
                        "console_port_count": len(t.console),
                        "console_server_port_count": 0,
                        "power_port_count": len(t.power),
                        "power_outlet_count": 0,
                        "interface_count": len(t.interfaces) + len(t.extras),
                        "front_port_count": t.panel_ports,
                        "rear_port_count": t.panel_ports,
                        "device_bay_count": 0,
                        "module_bay_count": 0,
                        "inventory_item_count": 0,
                    },
                )

    def dcim_rackrole(self) -> Records:
        for pk, (name, slug, color) in enumerate(RACK_ROLES, 1):
            yield pk, {**self.common("dcim.rackrole", pk), "name": name, "slug": slug, "description": "", "color": color}

    def dcim_rack(self) -> Records:
        for i in range(self.sizes.sites):
            site = self.site(i)
            for r in range(RACKS_PER_SITE):
                pk = self.rack_pk(i, r)
                yield (
                    pk,
                    {
                        **self.common("dcim.rack", pk),
                        "description": "",
                        "comments": "",
                        "weight": None,
                        "weight_unit": None,
                        "_abs_weight": None,
                        "width": 19,
                        "u_height": 42,
                        "starting_unit": 1,
                        "desc_units": False,
                        "outer_width": None,
                        "outer_depth": None,
                        "outer_unit": None,
                        "mounting_depth": None,
                        "max_weight": None,
                        "_abs_max_weight": None,
                        "form_factor": "4-post-cabinet",
                        "rack_type": None,
                        "name": _rack_name(r),
                        "facility_id": f"{site['name']}.{_rack_name(r)}",
                        "site": i + 1,
                        "location": self.location_pk(i, r),
                        "tenant": site["tenant"],
                        "status": "active",
                        "role": 1 if r == 0 else 2,
                        "serial": "",
                        "asset_tag": None,
                        "airflow": "front-to-rear",
                    },
                )

    def dcim_rackreservation(self) -> Records:
        for i in range(self.sizes.sites):
            pk = i + 1
            fields = {**self.common("dcim.rackreservation", pk), "comments": "", "rack": self.rack_pk(i, 1), "units": [30, 31, 32, 33]}
            tenant = self.site(i)["tenant"] if self.chance(50, "reservation-tenant", i) else None
            yield (
                pk,
                {**fields, "tenant": tenant, "user": self.user(1 + self.h("reservation-user", i) % (len(USERS) - 1)), "description": "Reserved for expansion"},
            )

    def dcim_region(self) -> Records:
        for pk, (name, slug, parent, lft, rght, tree, level) in enumerate(REGIONS, 1):
            fields = {**self.common("dcim.region", pk), "parent": parent, "name": name, "slug": slug, "description": ""}
            yield pk, {**fields, "lft": lft, "rght": rght, "tree_id": tree, "level": level}

    def dcim_sitegroup(self) -> Records:
        trees = [j for j, (_, _, parent) in enumerate(SITE_GROUPS) if parent is None]
        for pk, (name, slug, parent) in enumerate(SITE_GROUPS, 1):
            root = pk - 1 if parent is None else parent
            children = [j for j, g in enumerate(SITE_GROUPS) if g[2] == root]
            if parent is None:
                lft, rght = 1, 2 * len(children) + 2
            else:
                lft = 2 + 2 * children.index(pk - 1)
                rght = lft + 1
            fields = {**self.common("dcim.sitegroup", pk), "parent": parent + 1 if parent is not None else None, "name": name, "slug": slug, "description": ""}
            yield pk, {**fields, "lft": lft, "rght": rght, "tree_id": trees.index(root) + 1, "level": 0 if parent is None else 1}

    def dcim_site(self) -> Records:
        for i in range(self.sizes.sites):
            pk = i + 1
            site = self.site(i)
            code, city, tz, lat, lon, region, _ = site["city"]
            jitter = self.h("site-geo", i)
            yield (
                pk,
                {
                    **self.common("dcim.site", pk),
                    "description": f"{city} data center {i // len(CITIES) + 1}",
                    "comments": "",
                    "name": site["name"],
                    "slug": site["slug"],
                    "status": "planned" if self.chance(3, "site-planned", i) else "active",
                    "region": region,
                    "group": site["group"],
                    "tenant": site["tenant"],
                    "facility": f"DC-{code}-{i // len(CITIES) + 1:02d}",
                    "time_zone": tz,
                    "physical_address": f"{1 + jitter % 400} {STREETS[jitter % len(STREETS)]}, {city}",
                    "shipping_address": "",
                    "latitude": f"{lat + (jitter % 1000 - 500) / 10000:.6f}",
                    "longitude": f"{lon + (jitter // 1000 % 1000 - 500) / 10000:.6f}",
                    "asns": [],
                },
            )

    def dcim_location(self) -> Records:
        rows = (("Data Hall 1", "data-hall-1", None, 1, 6, 0), ("Row A", "row-a", 0, 2, 3, 1), ("Row B", "row-b", 0, 4, 5, 1))
        for i in range(self.sizes.sites):
            for n, (name, slug, parent, lft, rght, level) in enumerate(rows):
                pk = i * LOCATIONS_PER_SITE + n + 1
                yield (
                    pk,
                    {
                        **self.common("dcim.location", pk),
                        "parent": i * LOCATIONS_PER_SITE + parent + 1 if parent is not None else None,
                        "name": name,
                        "slug": slug,
                        "description": "",
                        "site": i + 1,
                        "status": "active",
                        "tenant": None,
                        "facility": "",
                        "lft": lft,
                        "rght": rght,
                        "tree_id": i + 1,  # each root its own tree
                        "level": level,
                    },
                )

    def ipam_vrf(self) -> Records:
        shared = len(ROUTE_TARGETS)  # the shared-services target, last
        for pk, (name, rd, tenant, unique) in enumerate(VRFS, 1):
            own = [ROUTE_TARGETS.index(rd) + 1] if rd else []
            imports = own + ([shared] if name in ("PROD", "CLOUD") else [])
            yield (
                pk,
                {
                    **self.common("ipam.vrf", pk),
                    "description": "",
                    "comments": "",
                    "name": name,
                    "rd": rd,
                    "tenant": tenant + 1 if tenant is not None else None,
                    "enforce_unique": unique,
                    "import_targets": imports,
                    "export_targets": own,
                },
            )

    def ipam_routetarget(self) -> Records:
        for pk, name in enumerate(ROUTE_TARGETS, 1):
            description = "Shared services" if name == SHARED_SERVICES_RT else next(v[0] for v in VRFS if v[1] == name)
            yield pk, {**self.common("ipam.routetarget", pk), "description": description, "comments": "", "name": name, "tenant": None}

    def ipam_rir(self) -> Records:
        for pk, (name, slug, private, description) in enumerate(RIRS, 1):
            yield pk, {**self.common("ipam.rir", pk), "name": name, "slug": slug, "description": description, "is_private": private}

    def ipam_aggregate(self) -> Records:
        for pk, (prefix, rir) in enumerate(AGGREGATES, 1):
            fields = {**self.common("ipam.aggregate", pk), "description": "", "comments": ""}
            yield pk, {**fields, "prefix": prefix, "rir": rir + 1, "tenant": None, "date_added": "2021-01-04"}

    def ipam_role(self) -> Records:
        for pk, (name, slug, weight) in enumerate(IPAM_ROLES, 1):
            yield pk, {**self.common("ipam.role", pk), "name": name, "slug": slug, "description": "", "weight": weight}

    def _prefix(self, pk: int, network: int, length: int, scope: Fields, **fields: Any) -> Fields:
        return {
            **self.common("ipam.prefix", pk),
            "description": "",
            "comments": "",
            **scope,
            "prefix": f"{ipaddress.IPv4Address(network)}/{length}",
            **fields,
        }

    def ipam_prefix(self) -> Records:
        for i in range(self.sizes.sites):
            scope = self.scope("site", i + 1)
            for j, (_, _, _, _, role, vlan, tenanted, pool) in enumerate(SITE_PREFIXES):
                pk = self.prefix_pk(i, j)
                network, length = self.prefix_network(i, j)
                container = j == P_CONTAINER
                yield (
                    pk,
                    self._prefix(
                        pk,
                        network,
                        length,
                        scope,
                        vrf=self.prefix_vrf(j),
                        tenant=self.site(i)["tenant"] if tenanted else None,
                        vlan=self.vlan_pk(i, vlan) if vlan is not None else None,
                        status="container" if container else "active",
                        role=IPAM_ROLE_INDEX[role] + 1 if role else None,
                        is_pool=pool,
                        mark_utilized=False,
                        _depth=0 if container or j == P_TRANSIT else 1,
                        _children=P_LOOPBACKS if container else 0,
                    ),
                )
        for c in range(self.sizes.clusters):
            pk = len(SITE_PREFIXES) * self.sizes.sites + c + 1
            on_site = c < self.sizes.sites
            scope = self.scope("site", c + 1) if on_site else self.scope("region", CONTINENT_PK[CLOUDS[(c - self.sizes.sites) % len(CLOUDS)][2]])
            yield (
                pk,
                self._prefix(
                    pk,
                    self.cluster_network(c),
                    22,
                    scope,
                    vrf=VRF_INDEX["PROD" if on_site else "CLOUD"] + 1,
                    tenant=None,
                    vlan=self.vlan_pk(c, VLAN_SERVERS) if on_site else None,
                    status="active",
                    role=IPAM_ROLE_INDEX["virtual-machines"] + 1,
                    is_pool=False,
                    mark_utilized=False,
                    _depth=0,
                    _children=0,
                ),
            )

    def _address(self, pk: int, address: str, vrf: int | None, tenant: int | None, role: str | None, assigned: tuple[str, int] | None, dns: str) -> Fields:
        return {
            **self.common("ipam.ipaddress", pk),
            "description": "",
            "comments": "",
            "address": address,
            "vrf": vrf,
            "tenant": tenant,
            "status": "active",
            "role": role,
            "assigned_object_type": self.ct(assigned[0]) if assigned else None,
            "assigned_object_id": assigned[1] if assigned else None,
            "nat_inside": None,
            "dns_name": dns,
        }

    def ipam_ipaddress(self) -> Records:
        for i in range(self.sizes.sites):
            site = self.site(i)
            for j, ip in enumerate(LAYOUT.ips):
                pk = self.ip_pk(i, j)
                name = self.device_name(i, ip.slot)
                primary = LAYOUT.primary.get(ip.slot) == j
                assigned = ("dcim.interface", self.iface_pk(i, ip.slot, ip.port))
                dns = f"{name}.{site['slug']}.example.net" if primary else ""
                yield pk, self._address(pk, self.ip_address(i, j), self.prefix_vrf(ip.prefix), self.device_tenant(i, ip.slot), ip.role, assigned, dns)
        for v in range(self.sizes.vms):
            pk = self.vm_ip_pk(v)
            c, n = self.cluster_of_vm(v)
            address = f"{ipaddress.IPv4Address(self.cluster_network(c) + n + 1)}/22"
            vrf = VRF_INDEX["PROD" if c < self.sizes.sites else "CLOUD"] + 1
            yield pk, self._address(pk, address, vrf, self.vm_tenant(v), None, ("virtualization.vminterface", 2 * v + 1), f"{self.vm_name(v)}.example.net")

    def ipam_vlangroup(self) -> Records:
        def ranges(lower: int, upper: int) -> str:
            return json.dumps([json.dumps({"bounds": "[)", "lower": str(lower), "upper": str(upper)})])

        fields = {**self.common("ipam.vlangroup", 1), "description": "Shared across every site"}
        yield 1, {**fields, "name": "Global", "slug": "global", **_pair(self.scope("", None)), "vid_ranges": ranges(3000, 4000), "_total_vlan_ids": 1000}
        for i in range(self.sizes.sites):
            pk, site = i + 2, self.site(i)
            fields = {**self.common("ipam.vlangroup", pk), "description": ""}
            name = f"{site['name']} VLANs"
            yield (
                pk,
                {
                    **fields,
                    "name": name,
                    "slug": f"{site['slug']}-vlans",
                    **_pair(self.scope("site", i + 1)),
                    "vid_ranges": ranges(10, 100),
                    "_total_vlan_ids": 90,
                },
            )

    def ipam_vlan(self) -> Records:
        for n, (vid, name) in enumerate(GLOBAL_VLANS):
            pk = n + 1
            fields = {**self.common("ipam.vlan", pk), "description": "", "comments": "", "site": None, "group": 1, "vid": vid, "name": name}
            yield pk, {**fields, "tenant": None, "status": "active", "role": None, "qinq_svlan": None, "qinq_role": None}
        for i in range(self.sizes.sites):
            for j, (vid, name, grouped, role) in enumerate(SITE_VLANS):
                pk = self.vlan_pk(i, j)
                fields = {**self.common("ipam.vlan", pk), "description": "", "comments": "", "site": i + 1, "group": i + 2 if grouped else None}
                fields |= {"vid": vid, "name": name, "tenant": self.site(i)["tenant"], "status": "active"}
                yield pk, {**fields, "role": IPAM_ROLE_INDEX[role] + 1 if role else None, "qinq_svlan": None, "qinq_role": None}

    def extras_tag(self) -> Records:
        for pk, (name, color, types) in enumerate(TAGS, 1):
            created, updated = self.stamps("extras.tag", pk)
            fields = {"name": name, "slug": name, "created": created, "last_updated": updated, "color": color}
            yield pk, {**fields, "description": "", "object_types": [self.ct(label) for label in types]}

    def extras_taggeditem(self) -> Records:
        pk = 0

        def item(label: str, object_id: int, tag: int) -> tuple[int, Fields]:
            nonlocal pk
            pk += 1
            return pk, {"content_type": self.ct(label), "object_id": object_id, "tag": self.tag(tag)}

        for i in range(self.sizes.sites):
            first = self.pick(OPEN_TAGS, "site-tag", i)
            second = OPEN_TAGS[(OPEN_TAGS.index(first) + 1 + self.h("site-tag-2", i) % (len(OPEN_TAGS) - 1)) % len(OPEN_TAGS)]
            yield item("dcim.site", i + 1, first)
            yield item("dcim.site", i + 1, second)
            for d in LAYOUT.tagged_devices:
                server = LAYOUT.slots[d].kind == "server"
                tag = self.pick(("pci", "backup", "monitored", "customer-facing"), "server-tag", i, d) if server else "critical"
                yield item("dcim.device", self.device_pk(i, d), TAG_INDEX[tag])
            yield item("ipam.prefix", self.prefix_pk(i, P_CONTAINER), TAG_INDEX["monitored"])
        for v in range(0, self.sizes.vms, 3):
            yield item("virtualization.virtualmachine", v + 1, TAG_INDEX[self.pick(("pci", "backup", "customer-facing", "lab"), "vm-tag", v)])

    def extras_customfield(self) -> Records:
        for pk, (name, label, type_, types, description, regex, minimum) in enumerate(CUSTOM_FIELDS, 1):
            created, updated = self.stamps("extras.customfield", pk)
            yield (
                pk,
                {
                    "created": created,
                    "last_updated": updated,
                    "type": type_,
                    "related_object_type": None,
                    "name": name,
                    "label": label,
                    "group_name": "",
                    "description": description,
                    "required": False,
                    "unique": False,
                    "search_weight": 1000,
                    "filter_logic": "exact" if type_ == "text" else "loose",
                    "default": None,
                    "related_object_filter": None,
                    "weight": 100 * pk,
                    "validation_minimum": minimum,
                    "validation_maximum": None,
                    "validation_regex": regex,
                    "choice_set": None,
                    "ui_visible": "always",
                    "ui_editable": "yes",
                    "is_cloneable": False,
                    "comments": "",
                    "object_types": [self.ct(label) for label in types],
                },
            )

    def tenancy_tenantgroup(self) -> Records:
        for pk, (name, slug) in enumerate(TENANT_GROUPS, 1):
            fields = {**self.common("tenancy.tenantgroup", pk), "parent": None, "description": "", "name": name, "slug": slug}
            yield pk, {**fields, "lft": 1, "rght": 2, "tree_id": pk, "level": 0}

    def tenancy_tenant(self) -> Records:
        for pk, (name, slug, group, code) in enumerate(TENANTS, 1):
            fields = {**self.common("tenancy.tenant", pk, cust_id=code), "description": "", "comments": ""}
            yield pk, {**fields, "name": name, "slug": slug, "group": group + 1}

    def virtualization_clustertype(self) -> Records:
        for pk, (name, slug) in enumerate(CLUSTER_TYPES, 1):
            yield pk, {**self.common("virtualization.clustertype", pk), "name": name, "slug": slug, "description": ""}

    def virtualization_clustergroup(self) -> Records:
        for pk, (name, slug) in enumerate(CLUSTER_GROUPS, 1):
            yield pk, {**self.common("virtualization.clustergroup", pk), "name": name, "slug": slug, "description": ""}

    def virtualization_cluster(self) -> Records:
        for c in range(self.sizes.clusters):
            pk = c + 1
            fields = {**self.common("virtualization.cluster", pk), "description": "", "comments": ""}
            if c < self.sizes.sites:
                site = self.site(c)
                name, type_, group, tenant, scope = f"{site['name']}-vsphere01", 1, 1, site["tenant"], self.scope("site", c + 1)
            else:
                k = c - self.sizes.sites
                cloud, type_, continent = CLOUDS[k % len(CLOUDS)]
                name = cloud if k < len(CLOUDS) else f"{cloud} ({k // len(CLOUDS) + 1})"
                group, tenant, scope = 2, None, self.scope("region", CONTINENT_PK[continent])
            yield pk, {**fields, **scope, "name": name, "type": type_, "group": group, "status": "active", "tenant": tenant}

    def vm_name(self, v: int) -> str:
        prefix = self.pick(VM_ROLES, "vm-role", v)[1]
        return f"{prefix}{v + 1:06d}"

    def virtualization_virtualmachine(self) -> Records:
        for v in range(self.sizes.vms):
            pk = v + 1
            c, n = self.cluster_of_vm(v)
            on_site = c < self.sizes.sites
            role = ROLE_INDEX[self.pick(VM_ROLES, "vm-role", v)[0]] + 1
            host = None
            if on_site and n % 2 == 0:  # half the site's machines are pinned to a host of its cluster
                r = self.h("vm-host", v)
                host = self.device_pk(c, LAYOUT.servers[r % COMPUTE_RACKS][r // COMPUTE_RACKS % HYPERVISORS_PER_RACK])
            size = self.h("vm-size", v)
            yield (
                pk,
                {
                    **self.common("virtualization.virtualmachine", pk, cmdb_id=500_000 + pk),
                    "description": "",
                    "comments": "",
                    "local_context_data": None,
                    "config_template": None,
                    "site": c + 1 if on_site else None,
                    "cluster": c + 1,
                    "device": host,
                    "tenant": self.vm_tenant(v),
                    "platform": PLATFORM_INDEX[self.pick(VM_PLATFORMS, "vm-platform", v)] + 1,
                    "name": self.vm_name(v),
                    "status": "active" if size % 10 else self.pick(("offline", "planned", "staged"), "vm-status", v),
                    "role": role,
                    "primary_ip4": self.vm_ip_pk(v),
                    "primary_ip6": None,
                    "vcpus": f"{2 ** (1 + size % 4)}.00",
                    "memory": 2048 * 2 ** (size // 4 % 4),
                    "disk": 40_960 * (1 + size // 16 % 8),
                    "serial": "",
                    "interface_count": 2,
                    "virtual_disk_count": 0,
                },
            )

    def virtualization_vminterface(self) -> Records:
        for v in range(self.sizes.vms):
            c, _ = self.cluster_of_vm(v)
            on_site = c < self.sizes.sites
            for k in range(2):
                pk = 2 * v + k + 1
                name = f"eth{k}"
                access = on_site and k == 0
                yield (
                    pk,
                    {
                        **self.common("virtualization.vminterface", pk),
                        "enabled": True,
                        "mtu": 1500 if k == 0 else None,
                        "mode": "access" if access else None,
                        "parent": None,
                        "bridge": None,
                        "untagged_vlan": self.vlan_pk(c, VLAN_SERVERS) if access else None,
                        "qinq_svlan": None,
                        "vlan_translation_policy": None,
                        "primary_mac_address": None,
                        "description": "",
                        "name": name,
                        "_name": naturalize_interface(name, 100),
                        "virtual_machine": v + 1,
                        "vrf": None,
                        "tagged_vlans": [],
                    },
                )

    def users_user(self) -> Records:
        for pk, name in enumerate(USERS, 1):
            joined = _iso(BEGIN_MS + pk * 7 * DAY_MS)
            yield (
                pk,
                {
                    "password": "!" + "".join("abcdefghijkmnopqrstuvwxyz0123456789"[self.h("password", pk, n) % 35] for n in range(40)),
                    "last_login": _iso(END_MS - pk * DAY_MS),
                    "is_superuser": name == "admin",
                    "username": name,
                    "first_name": name.capitalize() if name != "admin" else "",
                    "last_name": "",
                    "email": f"{name}@example.net",
                    "is_staff": name == "admin",
                    "is_active": True,
                    "date_joined": joined,
                    "user_permissions": [],
                    "groups": [],
                    "object_permissions": [],
                },
            )

    # --- the file ------------------------------------------------------------------------

    def records(self) -> Iterator[tuple[str, int | None, Fields]]:
        """(label, pk or None, fields) in dumpdata's order."""
        for label in NATURAL_ORDER if self.natural else PLAIN_ORDER:
            method: Callable[[], Records] = getattr(self, label.replace(".", "_"))
            keyed = self.natural and label in NATURAL_PRIMARY
            for pk, fields in method():
                yield label, None if keyed else pk, fields


def _pair(scope: Fields) -> Fields:
    """A VLAN group's scope: the pair without the location caches (it has none)."""
    return {"scope_type": scope["scope_type"], "scope_id": scope["scope_id"]}


def write_export(
    target: str | os.PathLike[str] | IO[bytes],
    *,
    objects: int = 100_000,
    seed: int = 1,
    natural_keys: bool = True,
    gzip: bool = False,
    indent: int | None = None,
) -> dict[str, int]:
    """Write a NetBox 4.2 dumpdata export of about ``objects`` records to ``target`` (a
    path, or a binary stream left open); the count of records per model label.

    ``indent`` as dumpdata's ``--indent`` (the demo was written with 2); without, one
    line, as dumpdata writes by default. ``gzip`` compresses the output (no name and no
    time in the header: the bytes depend on the seed alone)."""
    export = _Export(Sizes.of(objects), seed, natural_keys)
    counts: dict[str, int] = {}
    separators = (",", ": ") if indent else (", ", ": ")
    between = b",\n" if indent else b", "
    with _output(target, gzip) as out:
        out.write(b"[\n" if indent else b"[")
        first = True
        for label, pk, fields in export.records():
            record = {"model": label, "fields": fields} if pk is None else {"model": label, "pk": pk, "fields": fields}
            out.write((b"" if first else between) + json.dumps(record, indent=indent, separators=separators).encode())
            first = False
            counts[label] = counts.get(label, 0) + 1
        out.write(b"\n]\n" if indent else b"]")
    # The pks were computed from these counts: a difference is a bug here.
    assert counts == {label: n for label, n in export.counts.items() if n}, "the export's counts differ from its plan"
    return counts


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


@contextmanager
def _output(target: str | os.PathLike[str] | IO[bytes], compress: bool) -> Iterator[_Writable]:
    """The stream to write to: the file (opened and closed here) or the caller's stream
    (left open), gzipped if asked."""
    with ExitStack() as stack:
        stream: _Writable
        if isinstance(target, (str, os.PathLike)):
            stream = stack.enter_context(open(target, "wb", buffering=1 << 20))
        else:
            stream = target
        if compress:
            stream = stack.enter_context(gzip_module.GzipFile(filename="", mode="wb", fileobj=stream, compresslevel=6, mtime=0))
        yield stream


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the file to write (gzipped when it ends in .gz)")
    parser.add_argument("--objects", type=int, default=100_000, help="about how many records (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-natural-keys", dest="natural_keys", action="store_false", help="integer pks and content type ids, as dumpdata without --natural-*"
    )
    parser.add_argument("--indent", type=int, default=None, help="as dumpdata's --indent (the demo export used 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = write_export(args.out, objects=args.objects, seed=args.seed, natural_keys=args.natural_keys, gzip=args.out.endswith(".gz"), indent=args.indent)
    seconds = time.perf_counter() - started
    size = os.path.getsize(args.out)
    print(f"{args.out}: {sum(counts.values())} records of {len(counts)} models, {size / 1e6:.1f} MB in {seconds:.1f} s", file=sys.stderr)
    for label, count in sorted(counts.items(), key=lambda item: -item[1])[:10]:
        print(f"  {count:>8}  {label}", file=sys.stderr)


if __name__ == "__main__":
    main()
