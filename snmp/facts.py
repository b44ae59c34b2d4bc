"""What a discovery returns: plain frozen dataclasses, JSON-ready through ``to_dict``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import DiscoveryError

E = TypeVar("E", bound=DiscoveryError)


@dataclass(frozen=True)
class SystemInfo:
    description: str | None  # sysDescr
    object_id: str | None  # sysObjectID, dotted
    name: str | None  # sysName
    location: str | None
    contact: str | None
    uptime_seconds: float | None  # sysUpTime: time since the agent (re)started
    vendor: str | None
    platform: str | None  # "ios", "ios-xe", "ios-xr", "nx-os", "junos", "eos", "linux", ...
    version: str | None  # software version, from sysDescr, a vendor MIB or ENTITY-MIB
    model: str | None
    serial: str | None  # chassis serial, ENTITY-MIB first


@dataclass(frozen=True)
class Interface:
    if_index: int
    name: str  # ifName, else ifDescr, else "ifIndex <n>"
    description: str | None  # ifDescr
    alias: str | None  # ifAlias: the operator's description
    type: int | None  # IANAifType, e.g. 6 ethernetCsmacd, 24 softwareLoopback, 161 ieee8023adLag
    mtu: int | None
    speed_bps: int | None  # ifHighSpeed * 10^6 where present, else ifSpeed
    mac: str | None
    admin_status: str | None  # "up", "down", "testing"
    oper_status: str | None  # also "unknown", "dormant", "notPresent", "lowerLayerDown"


@dataclass(frozen=True)
class IpAddress:
    address: str
    prefix_length: int | None
    if_index: int | None
    source: str  # "ipAddrTable" or "ipAddressTable"

    @property
    def version(self) -> int:
        return 6 if ":" in self.address else 4

    @property
    def with_prefix(self) -> str:
        return self.address if self.prefix_length is None else f"{self.address}/{self.prefix_length}"


@dataclass(frozen=True)
class LldpNeighbour:
    local_port_num: int  # lldpRemLocalPortNum
    local_port: str | None  # lldpLocPortId (else lldpLocPortDesc) of that port
    local_if_index: int | None  # the interface it was matched to, when one matches
    local_interface: str | None  # that interface's name
    chassis_id: str | None  # MACs as aa:bb:.., network addresses as text, else the string
    chassis_id_subtype: int | None  # LldpChassisIdSubtype: 4 macAddress, 5 networkAddress, 7 local, ...
    port_id: str | None
    port_id_subtype: int | None  # LldpPortIdSubtype: 1 ifAlias, 3 macAddress, 5 ifName, 7 local, ...
    port_description: str | None
    system_name: str | None
    system_description: str | None
    management_addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArpEntry:
    """An IPv4 ARP or IPv6 neighbour cache entry."""

    if_index: int
    ip: str
    mac: str
    state: str | None  # ipNetToMedia/PhysicalType: "dynamic", "static", "local", "other"
    source: str  # "ipNetToPhysicalTable" or "ipNetToMediaTable"


@dataclass(frozen=True)
class InterfaceCounters:
    if_index: int
    counter_bits: int  # 64 when the octets come from ifHC*Octets, else 32
    in_octets: int | None
    out_octets: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None
    speed_bps: int | None = None  # lets rates() reject impossible 32-bit wraps


@dataclass(frozen=True)
class CounterSample:
    taken_at: float  # time.time() when the octet counters were read
    uptime_ticks: int | None  # sysUpTime (1/100 s) at that time; a drop means a restart
    interfaces: tuple[InterfaceCounters, ...] = ()

    def by_index(self) -> dict[int, InterfaceCounters]:
        return {counters.if_index: counters for counters in self.interfaces}


@dataclass(frozen=True)
class InterfaceRates:
    if_index: int
    interval_seconds: float
    in_bps: float | None  # None: counter missing, reset or implausible
    out_bps: float | None
    in_errors_per_second: float | None
    out_errors_per_second: float | None
    in_discards_per_second: float | None
    out_discards_per_second: float | None


@dataclass(frozen=True)
class DeviceFacts:
    host: str
    port: int
    system: SystemInfo | None = None
    interfaces: tuple[Interface, ...] = ()
    ip_addresses: tuple[IpAddress, ...] = ()
    lldp_neighbours: tuple[LldpNeighbour, ...] = ()
    arp_entries: tuple[ArpEntry, ...] = ()
    counters: CounterSample | None = None
    errors: tuple[DiscoveryError, ...] = ()
    started_at: float = 0.0  # time.time()
    duration_seconds: float = 0.0
    varbinds_received: int = 0  # OIDs the agent returned, for throughput figures

    @property
    def reachable(self) -> bool:
        return self.varbinds_received > 0

    def errors_of(self, kind: type[E]) -> list[E]:
        return [error for error in self.errors if isinstance(error, kind)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (errors keep their ``kind``)."""
        return dataclasses.asdict(self)
