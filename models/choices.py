"""Protocol constants. Values follow NetBox so exports and queries carry over unchanged.

Each set is a ``StrEnum``: a member *is* its value (``PrefixStatus.active == "active"``), so
rows answer NetBox's values without conversion. GraphQL names the members NetBox's way,
``<PREFIX>_<VALUE>`` in capitals (``STATUS_ACTIVE``, ``TYPE_1000BASE_X_SFP``), with the
prefix each set declares through ``prefixed``.
"""

from __future__ import annotations

import enum
from typing import TypeVar

E = TypeVar("E", bound=type[enum.Enum])


def prefixed(prefix: str, *, name: str | None = None):
    """Declare the prefix of a choice set's GraphQL member names (NetBox's ``as_enum(prefix=…)``),
    and its GraphQL name where NetBox's is not ``<class>Enum``."""

    def declare(cls: E) -> E:
        cls.graphql_prefix = prefix  # type: ignore[attr-defined]
        cls.graphql_name = name or f"{cls.__name__}Enum"  # type: ignore[attr-defined]
        return cls

    return declare


@prefixed("status")
class SiteStatus(enum.StrEnum):
    planned = "planned"
    staging = "staging"
    active = "active"
    decommissioning = "decommissioning"
    retired = "retired"


@prefixed("status")
class LocationStatus(enum.StrEnum):
    planned = "planned"
    staging = "staging"
    active = "active"
    decommissioning = "decommissioning"
    retired = "retired"


@prefixed("status")
class DeviceStatus(enum.StrEnum):
    offline = "offline"
    active = "active"
    planned = "planned"
    staged = "staged"
    failed = "failed"
    inventory = "inventory"
    decommissioning = "decommissioning"


@prefixed("role")
class SubdeviceRole(enum.StrEnum):
    """Whether a device type holds child devices in its bays, or sits in one."""

    parent = "parent"
    child = "child"


@prefixed("airflow")
class DeviceAirflow(enum.StrEnum):
    front_to_rear = "front-to-rear"
    rear_to_front = "rear-to-front"
    left_to_right = "left-to-right"
    right_to_left = "right-to-left"
    side_to_rear = "side-to-rear"
    rear_to_side = "rear-to-side"
    bottom_to_top = "bottom-to-top"
    top_to_bottom = "top-to-bottom"
    passive = "passive"
    mixed = "mixed"


@prefixed("")
class WeightUnit(enum.StrEnum):
    kilogram = "kg"
    gram = "g"
    pound = "lb"
    ounce = "oz"


@prefixed("policy")
class GatewayPolicy(enum.StrEnum):
    """Where a new prefix at a site gets its gateway address."""

    first = "first"
    last = "last"
    none = "none"


@prefixed("status")
class PrefixStatus(enum.StrEnum):
    container = "container"
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"


@prefixed("status")
class IPRangeStatus(enum.StrEnum):
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"


@prefixed("status")
class IPAddressStatus(enum.StrEnum):
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"
    dhcp = "dhcp"
    slaac = "slaac"


@prefixed("role")
class IPAddressRole(enum.StrEnum):
    loopback = "loopback"
    secondary = "secondary"
    anycast = "anycast"
    vip = "vip"
    vrrp = "vrrp"
    hsrp = "hsrp"
    glbp = "glbp"
    carp = "carp"
    gateway = "gateway"


@prefixed("status")
class VLANStatus(enum.StrEnum):
    active = "active"
    reserved = "reserved"
    deprecated = "deprecated"


@prefixed("role")
class VLANQinQRole(enum.StrEnum):
    """A VLAN's part in Q-in-Q (IEEE 802.1ad): the outer service tag or an inner customer tag."""

    svlan = "svlan"
    cvlan = "cvlan"


@prefixed("action", name="ObjectChangeActionEnum")
class ChangeAction(enum.StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


@prefixed("family")
class IPAddressFamily(enum.IntEnum):
    """An address family, as NetBox's GraphQL filters take it (``family: FAMILY_4``)."""

    four = 4
    six = 6


@prefixed("status")
class CircuitStatus(enum.StrEnum):
    planned = "planned"
    provisioning = "provisioning"
    active = "active"
    offline = "offline"
    deprovisioning = "deprovisioning"
    decommissioned = "decommissioned"


@prefixed("side")
class CircuitTerminationSide(enum.StrEnum):
    """The end of a circuit a termination is: A or Z."""

    a = "A"
    z = "Z"


@prefixed("priority")
class CircuitPriority(enum.StrEnum):
    """A circuit's standing in a circuit group."""

    primary = "primary"
    secondary = "secondary"
    tertiary = "tertiary"
    inactive = "inactive"


@prefixed("role")
class VirtualCircuitTerminationRole(enum.StrEnum):
    """What an end of a virtual circuit is: a peer, or a hub or spoke of a star."""

    peer = "peer"
    hub = "hub"
    spoke = "spoke"


@prefixed("")
class DistanceUnit(enum.StrEnum):
    """The unit of a circuit's distance."""

    kilometer = "km"
    meter = "m"
    mile = "mi"
    foot = "ft"


@prefixed("status")
class ClusterStatus(enum.StrEnum):
    planned = "planned"
    staging = "staging"
    active = "active"
    decommissioning = "decommissioning"
    offline = "offline"


@prefixed("status")
class VirtualMachineStatus(enum.StrEnum):
    offline = "offline"
    active = "active"
    planned = "planned"
    staged = "staged"
    failed = "failed"
    decommissioning = "decommissioning"
    paused = "paused"


@prefixed("start_on_boot")
class VirtualMachineStartOnBoot(enum.StrEnum):
    """Whether a virtual machine starts with its host."""

    on = "on"
    off = "off"
    last_state = "laststate"


@prefixed("role")  # sic: NetBox's ServiceProtocolEnum members are ROLE_TCP, ROLE_UDP, ROLE_SCTP
class ServiceProtocol(enum.StrEnum):
    tcp = "tcp"
    udp = "udp"
    sctp = "sctp"


@prefixed("protocol", name="FHRPGroupProtocolEnum")
class FHRPGroupProtocol(enum.StrEnum):
    vrrp2 = "vrrp2"
    vrrp3 = "vrrp3"
    hsrp = "hsrp"
    glbp = "glbp"
    carp = "carp"
    clusterxl = "clusterxl"
    other = "other"


@prefixed("authentication", name="FHRPGroupAuthTypeEnum")
class FHRPGroupAuthType(enum.StrEnum):
    plaintext = "plaintext"
    md5 = "md5"


@prefixed("status")
class TunnelStatus(enum.StrEnum):
    planned = "planned"
    active = "active"
    disabled = "disabled"


@prefixed("encap")
class TunnelEncapsulation(enum.StrEnum):
    gre = "gre"
    ipsec_transport = "ipsec-transport"
    ipsec_tunnel = "ipsec-tunnel"
    ip_ip = "ip-ip"
    l2tp = "l2tp"
    openvpn = "openvpn"
    pptp = "pptp"
    wireguard = "wireguard"


@prefixed("role")
class TunnelTerminationRole(enum.StrEnum):
    peer = "peer"
    hub = "hub"
    spoke = "spoke"


@prefixed("type", name="L2VPNTypeEnum")
class L2VPNType(enum.StrEnum):
    vpls = "vpls"
    vpws = "vpws"
    epl = "epl"
    evpl = "evpl"
    ep_lan = "ep-lan"
    evp_lan = "evp-lan"
    ep_tree = "ep-tree"
    evp_tree = "evp-tree"
    vxlan = "vxlan"
    vxlan_evpn = "vxlan-evpn"
    mpls_evpn = "mpls-evpn"
    pbb_evpn = "pbb-evpn"
    evpn_vpws = "evpn-vpws"
    spb = "spb"


@prefixed("status", name="L2VPNStatusEnum")
class L2VPNStatus(enum.StrEnum):
    active = "active"
    planned = "planned"
    decommissioning = "decommissioning"


@prefixed("")
class IKEMode(enum.StrEnum):
    aggressive = "aggressive"
    main = "main"


@prefixed("", name="AuthenticationMethodEnum")
class AuthenticationMethod(enum.StrEnum):
    preshared_keys = "preshared-keys"
    certificates = "certificates"
    rsa_signatures = "rsa-signatures"
    dsa_signatures = "dsa-signatures"


@prefixed("", name="IPSecModeEnum")
class IPSecMode(enum.StrEnum):
    esp = "esp"
    ah = "ah"


@prefixed("encryption")
class EncryptionAlgorithm(enum.StrEnum):
    aes128_cbc = "aes-128-cbc"
    aes128_gcm = "aes-128-gcm"
    aes192_cbc = "aes-192-cbc"
    aes192_gcm = "aes-192-gcm"
    aes256_cbc = "aes-256-cbc"
    aes256_gcm = "aes-256-gcm"
    triple_des = "3des-cbc"
    des = "des-cbc"


@prefixed("auth")
class AuthenticationAlgorithm(enum.StrEnum):
    hmac_sha1 = "hmac-sha1"
    hmac_sha256 = "hmac-sha256"
    hmac_sha384 = "hmac-sha384"
    hmac_sha512 = "hmac-sha512"
    hmac_md5 = "hmac-md5"


# NetBox's IKE versions and Diffie-Hellman groups are numbers from fixed lists.
IKE_VERSIONS = (1, 2)
DH_GROUPS = (1, 2, 5, *range(14, 35))


@prefixed("status", name="WirelessLANStatusEnum")
class WirelessLANStatus(enum.StrEnum):
    active = "active"
    reserved = "reserved"
    disabled = "disabled"
    deprecated = "deprecated"


@prefixed("type")
class WirelessAuthType(enum.StrEnum):
    open = "open"
    wep = "wep"
    wpa_personal = "wpa-personal"
    wpa_enterprise = "wpa-enterprise"


@prefixed("cipher")
class WirelessAuthCipher(enum.StrEnum):
    auto = "auto"
    tkip = "tkip"
    aes = "aes"


@prefixed("")
class WebhookHttpMethod(enum.StrEnum):
    get = "GET"
    post = "POST"
    put = "PUT"
    patch = "PATCH"
    delete = "DELETE"


@prefixed("")
class EventRuleAction(enum.StrEnum):
    """What an event rule does; Danbyte runs webhooks (scripts and notifications are
    NetBox's other two, refused until they exist here)."""

    webhook = "webhook"
    script = "script"
    notification = "notification"


@prefixed("priority")
class ContactPriority(enum.StrEnum):
    primary = "primary"
    secondary = "secondary"
    tertiary = "tertiary"
    inactive = "inactive"


@prefixed("kind")
class JournalEntryKind(enum.StrEnum):
    info = "info"
    success = "success"
    warning = "warning"
    danger = "danger"


@prefixed("type")
class CustomFieldType(enum.StrEnum):
    text = "text"
    longtext = "longtext"
    integer = "integer"
    decimal = "decimal"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    url = "url"
    json = "json"
    select = "select"
    multiselect = "multiselect"
    object = "object"
    multiobject = "multiobject"


@prefixed("filter")
class CustomFieldFilterLogic(enum.StrEnum):
    disabled = "disabled"
    loose = "loose"
    exact = "exact"


@prefixed("")
class CustomFieldUIVisible(enum.StrEnum):
    always = "always"
    if_set = "if-set"
    hidden = "hidden"


@prefixed("")
class CustomFieldUIEditable(enum.StrEnum):
    yes = "yes"
    no = "no"
    hidden = "hidden"


@prefixed("")
class CustomFieldChoiceSetBase(enum.StrEnum):
    IATA = "IATA"
    ISO_3166 = "ISO_3166"
    UN_LOCODE = "UN_LOCODE"
