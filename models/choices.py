"""Protocol constants. Values follow NetBox so exports and queries carry over unchanged."""

from __future__ import annotations

import enum


class SiteStatus(enum.Enum):
    planned = "planned"
    staging = "staging"
    active = "active"
    decommissioning = "decommissioning"
    retired = "retired"


class GatewayPolicy(enum.Enum):
    """Where a new prefix at a site gets its gateway address."""

    first = "first"
    last = "last"
    none = "none"


class PrefixStatus(enum.Enum):
    container = "container"
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"


class IPRangeStatus(enum.Enum):
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"


class IPAddressStatus(enum.Enum):
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"
    dhcp = "dhcp"
    slaac = "slaac"


class IPAddressRole(enum.Enum):
    loopback = "loopback"
    secondary = "secondary"
    anycast = "anycast"
    vip = "vip"
    vrrp = "vrrp"
    hsrp = "hsrp"
    glbp = "glbp"
    carp = "carp"
    gateway = "gateway"


class VLANStatus(enum.Enum):
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"


class ChangeAction(enum.Enum):
    create = "create"
    update = "update"
    delete = "delete"
