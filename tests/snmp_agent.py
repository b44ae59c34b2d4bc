"""Real SNMP agents for tests and benchmarks: snmpsim serving the shared recordings on
loopback, plus a reader of the ``.snmprec`` files that computes what a correct discovery
must find in them (independently of the ``snmp`` package)."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SNMP_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "snmp"
RECORDINGS = sorted(SNMP_DATA.glob("librenms/*.snmprec"))

Oid = tuple[int, ...]


def community_of(recording: Path, data_dir: Path = SNMP_DATA) -> str:
    """snmpsim's community for a file: its path under the data dir, without .snmprec."""
    return recording.relative_to(data_dir).with_suffix("").as_posix()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class V3User:
    name: str
    auth_protocol: str  # snmpsim names: MD5, SHA, SHA256, ...
    auth_key: str
    priv_protocol: str | None = None  # DES, AES, ...
    priv_key: str | None = None

    def arguments(self) -> list[str]:
        args = [f"--v3-user={self.name}", f"--v3-auth-key={self.auth_key}", f"--v3-auth-proto={self.auth_protocol}"]
        if self.priv_protocol:
            args += [f"--v3-priv-key={self.priv_key}", f"--v3-priv-proto={self.priv_protocol}"]
        return args


@dataclass
class SnmpAgent:
    """snmpsim-command-responder in a subprocess, listening on loopback only: on each of
    ``hosts`` (default 127.0.0.1; Linux answers for all of 127/8 on lo) at each port.

    The first start builds record indexes in ``work_dir`` (a few seconds for all files).
    snmpsim logs "Listening" even when it could not bind, so ``start`` waits until this very
    process holds every UDP port, then for a real answer.
    """

    work_dir: Path
    data_dirs: Sequence[Path] = (SNMP_DATA,)
    ports: Sequence[int] = ()
    v3_users: Sequence[V3User] = ()
    hosts: Sequence[str] = ("127.0.0.1",)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.ports:
            self.ports = [free_udp_port()]

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def log_path(self) -> Path:
        return self.work_dir / "snmpsim.log"

    def command(self) -> list[str]:
        launcher = "import sys; sys.argv[0] = 'snmpsim-command-responder'; from snmpsim.commands.responder import main; sys.exit(main())"
        args = [sys.executable, "-c", launcher, f"--cache-dir={self.work_dir / 'cache'}", "--log-level=error"]
        args += [f"--data-dir={data_dir}" for data_dir in self.data_dirs]
        args += [f"--agent-udpv4-endpoint={host}:{port}" for host in self.hosts for port in self.ports]
        for user in self.v3_users:
            args += user.arguments()
        return args

    def start(self, timeout: float = 120.0, probe_community: str | None = None) -> SnmpAgent:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if os.geteuid() == 0:
            # snmpsim refuses root unless it drops privileges, and a dropped user may not be
            # able to read this interpreter (e.g. under /root); it binds no privileged port.
            env["SNMPSIM_ALLOW_ROOT"] = "true"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            self._wait_until_bound(timeout)
            if probe_community:
                self._wait_until_answering(probe_community, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_bound(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        wanted = {(host, port) for host in self.hosts for port in self.ports}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"snmpsim exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                bound = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(self.process.pid).net_connections(kind="udp4")}
            except psutil.Error:
                bound = set()
            if wanted <= bound:
                return
            time.sleep(0.05)
        raise RuntimeError(f"snmpsim did not bind {sorted(wanted)} within {timeout}s:\n{self.log_tail()}")

    def _wait_until_answering(self, community: str, timeout: float) -> None:
        from ezsnmp import Session

        deadline = time.monotonic() + timeout
        for host, port in ((host, port) for host in self.hosts for port in self.ports):
            session = Session(hostname=host, port_number=port, version=2, community=community, timeout=1, retries=0)
            while True:
                try:
                    session.get("1.3.6.1.2.1.1.1.0")
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
            session.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> SnmpAgent:
        return self if self.process else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- reading recordings -------------------------------------------------------------


class Unservable:
    """A record snmpsim cannot encode (e.g. "4x|<private>"): it answers endOfMibView there."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"Unservable({self.text!r})"


def _parse_oid(text: str) -> Oid:
    return tuple(int(part) for part in text.split(".") if part)


def _value(tag: str, text: str) -> object:
    """Decode one snmprec value. Tags are ASN.1 tag sums: 2 INTEGER, 4 OCTET STRING,
    5 NULL, 6 OID, 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks, 68 Opaque,
    70 Counter64; a trailing "x" means hex-encoded, "e" Python-escaped."""
    base, encoding = (tag[:-1], tag[-1]) if tag[-1:] in ("x", "e") else (tag, "")
    try:
        if base in ("4", "68"):
            if encoding == "x":
                return bytes.fromhex(text)
            if encoding == "e":
                return text.encode("latin-1").decode("unicode_escape").encode("latin-1")
            return text.encode("latin-1")  # snmpsim reads files as ISO-8859-1
        if base in ("2", "65", "66", "67", "70"):
            return int(text)
        if base == "6":
            return _parse_oid(text)
        if base == "64":
            return str(ipaddress.IPv4Address(bytes.fromhex(text) if encoding == "x" else text))
        if base == "5":
            return None
    except ValueError:
        return Unservable(text)
    return Unservable(text)


@dataclass(frozen=True)
class Record:
    oid: Oid
    value: object


class Recording:
    """One .snmprec file, and what walks of it return from a correct agent."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.stem
        records = []
        for line in path.read_bytes().decode("latin-1").splitlines():
            line = line.strip()  # as snmpsim does: trailing blanks of values are lost
            if not line:
                continue
            oid, tag, text = line.split("|", 2)
            records.append(Record(_parse_oid(oid), _value(tag, text)))
        self.records = sorted(records, key=lambda record: record.oid)
        self._by_oid = {record.oid: record.value for record in self.records}

    def get(self, oid: Oid) -> object:
        value = self._by_oid.get(oid)
        return None if isinstance(value, Unservable) else value

    def walk(self, base: Oid) -> Iterator[Record]:
        """GETNEXT from ``base`` while inside it; an unservable record ends the walk."""
        for record in self.records:
            if record.oid <= base:
                continue
            if isinstance(record.value, Unservable) or record.oid[: len(base)] != base:
                return
            yield record

    def column(self, base: Oid) -> dict[Oid, object]:
        return {record.oid[len(base) :]: record.value for record in self.walk(base)}

    def has_unservable_records(self) -> bool:
        return any(isinstance(record.value, Unservable) for record in self.records)


def text(value: object) -> str | None:
    if not isinstance(value, bytes):
        return None
    raw = value.rstrip(b"\x00")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    return decoded or None


def mac(value: object) -> str | None:
    if isinstance(value, bytes) and len(value) == 6:
        return ":".join(f"{octet:02x}" for octet in value)
    return None


# --- what a discovery must find ----------------------------------------------------------

IF_DESCR = _parse_oid("1.3.6.1.2.1.2.2.1.2")
IF_NAME = _parse_oid("1.3.6.1.2.1.31.1.1.1.1")
IF_TABLE_ENTRY = _parse_oid("1.3.6.1.2.1.2.2.1")
IFX_TABLE_ENTRY = _parse_oid("1.3.6.1.2.1.31.1.1.1")
LLDP_REM = _parse_oid("1.0.8802.1.1.2.1.4.1.1")
LLDP_MAN_ADDR = _parse_oid("1.0.8802.1.1.2.1.4.2.1.3")
IP_NET_TO_MEDIA = _parse_oid("1.3.6.1.2.1.4.22.1")
IP_NET_TO_PHYSICAL = _parse_oid("1.3.6.1.2.1.4.35.1")
IP_ADDR_IF_INDEX = _parse_oid("1.3.6.1.2.1.4.20.1.2")
IP_ADDRESS_IF_INDEX = _parse_oid("1.3.6.1.2.1.4.34.1.3")
IP_ADDRESS_TYPE = _parse_oid("1.3.6.1.2.1.4.34.1.4")


def expected_sys_name(recording: Recording) -> str | None:
    return text(recording.get(_parse_oid("1.3.6.1.2.1.1.5.0")))


def expected_interfaces(recording: Recording) -> dict[int, str]:
    """ifIndex -> name (ifName, else ifDescr) for every row of ifTable or ifXTable."""
    indexes = {record.oid[len(IF_TABLE_ENTRY) + 1 :] for record in recording.walk(IF_TABLE_ENTRY)}
    indexes |= {record.oid[len(IFX_TABLE_ENTRY) + 1 :] for record in recording.walk(IFX_TABLE_ENTRY)}
    names, descriptions = recording.column(IF_NAME), recording.column(IF_DESCR)
    return {index[0]: text(names.get(index)) or text(descriptions.get(index)) or f"ifIndex {index[0]}" for index in indexes}


def _lldp_id(subtype: object, value: object, mac_subtype: int, address_subtype: int) -> str | None:
    if subtype == mac_subtype:
        return mac(value)
    if subtype == address_subtype and isinstance(value, bytes) and value[:1] in (b"\x01", b"\x02"):
        return str(ipaddress.ip_address(value[1:]))
    return text(value)


def expected_lldp(recording: Recording) -> set[tuple[object, ...]]:
    """(local port num, chassis id, port id, system name, management addresses)."""
    columns = {column: recording.column(LLDP_REM + (column,)) for column in range(4, 11)}
    indexes = {index for column in columns.values() for index in column}
    addresses: dict[tuple[int, int], list[str]] = {}
    for index in recording.column(LLDP_MAN_ADDR):
        family, length, octets = index[3], index[4], index[5:]
        if family in (1, 2) and len(octets) == length:
            addresses.setdefault((index[1], index[2]), []).append(str(ipaddress.ip_address(bytes(octets))))
    return {
        (
            index[1],
            _lldp_id(columns[4].get(index), columns[5].get(index), 4, 5),
            _lldp_id(columns[6].get(index), columns[7].get(index), 3, 4),
            text(columns[9].get(index)),
            tuple(addresses.get((index[1], index[2]), ())),
        )
        for index in indexes
    }


def expected_arp(recording: Recording) -> set[tuple[int, str, str]]:
    """(ifIndex, IP, MAC) from ipNetToPhysicalTable and ipNetToMediaTable, invalid ones out."""
    found: dict[tuple[int, str], str] = {}
    physical = recording.column(IP_NET_TO_PHYSICAL + (4,))
    physical_type = recording.column(IP_NET_TO_PHYSICAL + (6,))
    for index, value in physical.items():
        address = str(ipaddress.ip_address(bytes(index[3 : 3 + index[2]])))
        if mac(value) and physical_type.get(index) != 2:
            found[(index[0], address)] = mac(value)  # type: ignore[assignment]
    media = recording.column(IP_NET_TO_MEDIA + (2,))
    media_type = recording.column(IP_NET_TO_MEDIA + (4,))
    for index, value in media.items():
        address = str(ipaddress.IPv4Address(bytes(index[1:5])))
        if mac(value) and media_type.get(index) != 2:
            found.setdefault((index[0], address), mac(value))  # type: ignore[arg-type]
    return {(if_index, address, mac_address) for (if_index, address), mac_address in found.items()}


def expected_ip_addresses(recording: Recording) -> set[tuple[int, str]]:
    """(ifIndex, address) from ipAddressTable and ipAddrTable."""
    found = set()
    address_types = recording.column(IP_ADDRESS_TYPE)
    for index, if_index in recording.column(IP_ADDRESS_IF_INDEX).items():
        if address_types.get(index) == 3:  # broadcast
            continue
        found.add((if_index, str(ipaddress.ip_address(bytes(index[2 : 2 + index[1]])))))
    for index, if_index in recording.column(IP_ADDR_IF_INDEX).items():
        found.add((if_index, str(ipaddress.IPv4Address(bytes(index)))))
    return found  # type: ignore[return-value]
