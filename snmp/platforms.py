"""Vendor and platform recognition from sysObjectID and sysDescr.

sysObjectID names the vendor (its enterprise number) but rarely the operating system:
Cisco registers IOS, IOS-XE and IOS-XR products under the same subtree, so sysDescr
decides. Rules are tried in order; the first whose enterprise and sysDescr pattern both
match wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .values import Oid, parse_oid

ENTERPRISES: Oid = (1, 3, 6, 1, 4, 1)

# IANA private enterprise numbers of the vendors we recognise.
VENDORS_BY_ENTERPRISE: dict[int, str] = {
    9: "Cisco",
    11: "HP",
    318: "APC",
    2636: "Juniper",
    25049: "Opengear",
    25461: "Palo Alto Networks",
    30065: "Arista",
}


@dataclass(frozen=True)
class PlatformRule:
    platform: str
    vendor: str | None
    enterprise: int | None = None  # None: any sysObjectID
    descr: re.Pattern[str] | None = None  # must match sysDescr (search)
    version: re.Pattern[str] | None = None  # group 1 is the software version
    model: re.Pattern[str] | None = None  # group 1 is the model
    serial: re.Pattern[str] | None = None  # group 1 is the serial number
    # Vendor MIB scalars read when sysDescr and ENTITY-MIB do not say.
    version_oid: Oid | None = None
    serial_oid: Oid | None = None


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_CISCO_VERSION = _re(r"Version ([^,\s\[]+)")

RULES: tuple[PlatformRule, ...] = (
    PlatformRule("ios-xr", "Cisco", 9, _re(r"IOS[ -]XR"), _CISCO_VERSION),
    PlatformRule("nx-os", "Cisco", 9, _re(r"NX-OS"), _CISCO_VERSION),
    # IOS-XE says so in its image name (CAT9K_IOSXE, X86_64_LINUX_IOSD) or puts the release
    # train in brackets: "Cisco IOS Software [Everest], ...".
    PlatformRule("ios-xe", "Cisco", 9, _re(r"IOS[ -]?XE|IOSD|IOS Software \[\w+\]"), _CISCO_VERSION),
    PlatformRule("ios", "Cisco", 9, _re(r"IOS Software|IOS \(tm\)|Internetwork Operating System"), _CISCO_VERSION),
    PlatformRule(
        "junos",
        "Juniper",
        2636,
        version=_re(r"JUNOS ([^\s,]+)"),
        model=_re(r"Juniper Networks, Inc\. (\S+)|^Juniper (\S+)"),
        serial_oid=parse_oid("1.3.6.1.4.1.2636.3.1.3.0"),  # JUNIPER-MIB jnxBoxSerialNo
    ),
    PlatformRule(
        "eos",
        "Arista",
        30065,
        version=_re(r"EOS version (\S+)"),
        model=_re(r"running on an Arista Networks (\S+)"),
    ),
    PlatformRule(
        "pan-os",
        "Palo Alto Networks",
        25461,
        version_oid=parse_oid("1.3.6.1.4.1.25461.2.1.2.1.1.0"),  # PAN-COMMON-MIB panSysSwVersion
        serial_oid=parse_oid("1.3.6.1.4.1.25461.2.1.2.1.3.0"),  # panSysSerialNumber
    ),
    # APC Network Management Card: "(MB:v4.1.0 PF:v6.4.0 ... MN:AP8959EU3 HR:02 SN: 5A16...)";
    # PF is the AOS (card operating system) version.
    PlatformRule(
        "apc-aos",
        "APC",
        318,
        version=_re(r"\bPF:v?(\S+)"),
        model=_re(r"\bMN:\s*(\S+)"),
        serial=_re(r"\bSN:\s*(\S+)"),
    ),
    # HP printers answer with the JetDirect print server's sysDescr.
    PlatformRule(
        "hp-printer",
        "HP",
        11,
        _re(r"JETDIRECT|LaserJet|DeskJet|OfficeJet|PageWide"),
        version=_re(r"EEPROM ([^,\s]+)"),  # the print server's firmware revision
    ),
    PlatformRule(
        "opengear",
        "Opengear",
        25049,
        version=_re(r"Version (\S+)"),
        model=_re(r"^Opengear ([^,\s]+)"),
    ),
    # Generic Linux hosts run net-snmp (enterprise 8072) or a vendor agent; sysDescr is uname.
    PlatformRule("linux", None, None, _re(r"^Linux "), _re(r"^Linux \S+ (\S+)")),
)


@dataclass(frozen=True)
class Recognition:
    vendor: str | None
    platform: str | None
    version: str | None
    model: str | None
    serial: str | None
    rule: PlatformRule | None


def enterprise_of(sys_object_id: Oid | None) -> int | None:
    if sys_object_id and len(sys_object_id) > len(ENTERPRISES) and sys_object_id[:6] == ENTERPRISES:
        return sys_object_id[6]
    return None


def _first_group(pattern: re.Pattern[str] | None, text: str) -> str | None:
    if pattern is None or not text:
        return None
    match = pattern.search(text)
    if not match:
        return None
    return next((group for group in match.groups() if group), None)


def recognise(sys_object_id: Oid | None, sys_descr: str | None) -> Recognition:
    enterprise = enterprise_of(sys_object_id)
    text = sys_descr or ""
    for rule in RULES:
        if rule.enterprise is not None and rule.enterprise != enterprise:
            continue
        if rule.descr is not None and not rule.descr.search(text):
            continue
        return Recognition(
            vendor=rule.vendor,
            platform=rule.platform,
            version=_first_group(rule.version, text),
            model=_first_group(rule.model, text),
            serial=_first_group(rule.serial, text),
            rule=rule,
        )
    vendor = VENDORS_BY_ENTERPRISE.get(enterprise) if enterprise is not None else None
    return Recognition(vendor, None, None, None, None, None)


_VERSION_TOKEN = re.compile(r"\d[\w.()\-]*")
_MAJOR = re.compile(r"^(\d+)")


def version_from_software_rev(text: str | None) -> str | None:
    """entPhysicalSoftwareRev holds "Dublin 17.12.04" or "10.2.9-h1": keep the version."""
    if not text:
        return None
    tokens = _VERSION_TOKEN.findall(text)
    return tokens[-1] if tokens else None


def refine(recognition: Recognition, version: str | None) -> str | None:
    """The platform once the version is known from ENTITY-MIB or a vendor MIB.

    Some Cisco devices (IE3200) put no OS name in sysDescr. Classic IOS stopped at 15.x and
    IOS-XE numbers its releases from 16.x, so a Cisco box on 16 or later runs IOS-XE.
    """
    if recognition.platform is None and recognition.vendor == "Cisco" and version:
        major = _MAJOR.match(version)
        if major and int(major.group(1)) >= 16:
            return "ios-xe"
    return recognition.platform
