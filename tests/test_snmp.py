"""SNMP discovery against real agents on loopback: snmpsim serving the LibreNMS recordings
in ../shared/data/snmp. Expected facts are computed from the recordings themselves."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from snmp_agent import (
    RECORDINGS,
    SNMP_DATA,
    Recording,
    SnmpAgent,
    V3User,
    community_of,
    expected_arp,
    expected_interfaces,
    expected_ip_addresses,
    expected_lldp,
    expected_sys_name,
    free_udp_port,
)

from snmp import (
    AuthenticationFailed,
    AuthProtocol,
    CounterSample,
    DeadlineExceeded,
    DeviceFacts,
    InterfaceCounters,
    MalformedValue,
    NoResponse,
    PrivProtocol,
    Skipped,
    SnmpV1,
    SnmpV2c,
    SnmpV3,
    TableMissing,
    Target,
    UnexpectedError,
    WalkEndedEarly,
    counter_delta,
    discover,
    discover_each,
    discover_many,
    probe,
    rates,
    sample_counters,
)

AUTH_PRIV = V3User("danbyte-priv", "SHA", "auth-secret-1", "AES", "priv-secret-1")
AUTH_ONLY = V3User("danbyte-auth", "SHA256", "auth-secret-2")

# Facts about the devices behind the recordings: (vendor, platform, version, chassis serial).
PLATFORMS = {
    "apc_ap8959eu3": ("APC", "apc-aos", "6.4.0", "5A1638E01463"),
    "arista_eos": ("Arista", "eos", "4.15.3F", "JPE00000000"),
    "ios_2960x": ("Cisco", "ios", "15.0(2a)EX5", "FCW1929B68S"),
    "ios_ie32008t2s-ios17-12": ("Cisco", "ios-xe", "17.12.04", "FVH2849L0CA"),
    "iosxe_c9300": ("Cisco", "ios-xe", "16.6.7", "FCW2204L050"),
    "iosxe_isr4321": ("Cisco", "ios-xe", "17.6.4", "FDO2249A154"),
    "iosxr_asr9001": ("Cisco", "ios-xr", "6.6.3", "FOC1939NDNZ"),
    "jetdirect_m880": ("HP", "hp-printer", "JDI99999999", None),
    "junos_mx5t-isis": ("Juniper", "junos", "19.4R3.11", "F8223"),
    "junos_qfx5100": ("Juniper", "junos", "14.1X53-D40.8", "TA3716123456"),
    "junos_rpm": ("Juniper", "junos", None, "AG3213AK0210"),  # sysDescr "Juniper SRX240B gsm-fw"
    "linux_icecast": (None, "linux", "4.18.0-147.8.1.el8_1.x86_64", None),
    "nxos_n3k-3064pq": ("Cisco", "nx-os", "7.0(3)I7(8)", None),  # serial anonymised: "<private>"
    "nxos_n9k-c93180yc-fx3": ("Cisco", "nx-os", "10.5(2)", "FDO2750P"),
    "opengear_im72xx": ("Opengear", "opengear", "5.1.1", None),
    "panos_5220": ("Palo Alto Networks", "pan-os", "10.2.9-h1", "000000000001"),
}

# From shared/data/README.md: LLDP neighbours and (IPv4) ARP entries per recording.
README_LLDP = {
    "arista_eos": 6,
    "junos_mx5t-isis": 4,
    "ios_ie32008t2s-ios17-12": 2,
    "junos_qfx5100": 2,
    "nxos_n3k-3064pq": 1,
}
README_ARP = {"iosxr_asr9001": 23, "linux_icecast": 25}

TIMEOUT = 0.5
RETRIES = 1
# Room for scheduling and process start-up noise on top of timeout * (retries + 1).
MARGIN = 0.5


def variant_with_bad_values(variants_root: Path) -> Path:
    """linux_icecast with values that are well-formed SNMP but wrong for their MIB object,
    an LLDP neighbour with a bad chassis id, and one record snmpsim cannot serve."""
    source = SNMP_DATA / "librenms" / "linux_icecast.snmprec"
    lines = {line.split("|", 1)[0]: line for line in source.read_text().splitlines() if line}
    changes = {
        "1.3.6.1.2.1.1.2.0": "4|not-an-oid",  # sysObjectID as a string
        "1.3.6.1.2.1.2.2.1.6.2": "4x|0a0b0c0d",  # eth0's MAC: 4 octets
        "1.3.6.1.2.1.4.20.1.3.10.10.0.6": "64|255.0.255.0",  # non-contiguous netmask
        "1.3.6.1.2.1.4.22.1.2.2.10.10.0.2": "4x|00005E0001",  # ARP MAC: 5 octets
        "1.3.6.1.2.1.4.35.1.4.2.1.4.10.10.0.2": "4x|00005E0001",
        "1.3.6.1.2.1.31.1.1.1.18.2": "4x|zz",  # eth0's alias: unservable, ends the walk
        "1.0.8802.1.1.2.1.3.7.1.3.2": "4|eth0",
        "1.0.8802.1.1.2.1.4.1.1.4.0.2.1": "2|4",  # chassis id subtype macAddress ...
        "1.0.8802.1.1.2.1.4.1.1.5.0.2.1": "4x|0a0b0c",  # ... but 3 octets
        "1.0.8802.1.1.2.1.4.1.1.6.0.2.1": "2|5",
        "1.0.8802.1.1.2.1.4.1.1.7.0.2.1": "4|ge-0/0/1",
        "1.0.8802.1.1.2.1.4.1.1.9.0.2.1": "4|upstream-switch",
    }
    for oid, tail in changes.items():
        lines[oid] = f"{oid}|{tail}"
    ordered = sorted(lines.values(), key=lambda line: tuple(int(p) for p in line.split("|", 1)[0].split(".")))
    target = variants_root / "variants" / "linux_bad_values.snmprec"
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(ordered) + "\n")
    return target


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    work = tmp_path_factory.mktemp("snmpsim")
    variants_root = work / "data"
    variant_with_bad_values(variants_root)
    agent = SnmpAgent(work, data_dirs=[SNMP_DATA, variants_root], v3_users=[AUTH_PRIV, AUTH_ONLY])
    with agent.start(probe_community=community_of(RECORDINGS[0])):
        yield agent


def target(agent: SnmpAgent, **overrides: float | int | None) -> Target:
    settings: dict = {"timeout": TIMEOUT, "retries": RETRIES, **overrides}
    return Target("127.0.0.1", agent.port, **settings)


@pytest.fixture(scope="module")
def discovered(agent: SnmpAgent) -> dict[str, DeviceFacts]:
    """Every recording, discovered concurrently once for the module."""
    requests = [(target(agent, timeout=5), SnmpV2c(community_of(path))) for path in RECORDINGS]
    results = discover_many(requests, concurrency=8)
    return {path.stem: facts for path, facts in zip(RECORDINGS, results, strict=True)}


def test_every_recording_is_served() -> None:
    assert len(RECORDINGS) == 16
    assert set(PLATFORMS) == {path.stem for path in RECORDINGS}


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.stem)
def test_facts_match_the_recording(path: Path, discovered: dict[str, DeviceFacts]) -> None:
    recording = Recording(path)
    facts = discovered[path.stem]

    assert facts.reachable and facts.system is not None
    assert not facts.errors_of(UnexpectedError)
    assert facts.system.name == expected_sys_name(recording)
    assert {i.if_index: i.name for i in facts.interfaces} == expected_interfaces(recording)
    assert {(n.local_port_num, n.chassis_id, n.port_id, n.system_name, n.management_addresses) for n in facts.lldp_neighbours} == expected_lldp(recording)
    assert {(e.if_index, e.ip, e.mac) for e in facts.arp_entries} == expected_arp(recording)
    assert {(a.if_index, a.address) for a in facts.ip_addresses} == expected_ip_addresses(recording)
    # Every neighbour's local port is one of the device's interfaces when it was matched.
    interface_indexes = {i.if_index for i in facts.interfaces}
    assert all(n.local_if_index in interface_indexes for n in facts.lldp_neighbours if n.local_if_index)


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.stem)
def test_platform_is_recognised(path: Path, discovered: dict[str, DeviceFacts]) -> None:
    system = discovered[path.stem].system
    assert system is not None
    assert (system.vendor, system.platform, system.version, system.serial) == PLATFORMS[path.stem]


def test_counts_stated_in_the_data_readme(discovered: dict[str, DeviceFacts]) -> None:
    for name, count in README_LLDP.items():
        assert len(discovered[name].lldp_neighbours) == count, name
    for name, count in README_ARP.items():
        assert len([e for e in discovered[name].arp_entries if ":" not in e.ip]) == count, name


def test_arista_neighbour_details(discovered: dict[str, DeviceFacts]) -> None:
    by_port = {n.local_interface: n for n in discovered["arista_eos"].lldp_neighbours}
    core = by_port["Ethernet48"]
    assert core.local_if_index == 48
    assert core.system_name == "4900M-CORE.example.net"
    assert (core.chassis_id, core.port_id) == ("c4:7d:4f:c4:46:c0", "Te1/3")
    assert core.port_description == "TenGigabitEthernet1/3"
    assert core.management_addresses == ("84.232.18.1", "2a04:41c0::1")


def test_discovery_without_counters_reads_less_and_finds_the_rest(agent: SnmpAgent, discovered: dict[str, DeviceFacts]) -> None:
    arista = next(path for path in RECORDINGS if path.stem == "arista_eos")
    lean = discover(target(agent, timeout=5), SnmpV2c(community_of(arista)), sections=frozenset({"interfaces", "ip_addresses", "lldp", "arp"}))
    full = discovered["arista_eos"]
    assert lean.counters is None and full.counters is not None
    assert _comparable(lean) == _comparable(full)
    assert lean.varbinds_received < full.varbinds_received
    only_system = discover(target(agent, timeout=5), SnmpV2c(community_of(arista)), sections=frozenset())
    assert only_system.system == full.system and only_system.interfaces == () and only_system.lldp_neighbours == ()
    with pytest.raises(ValueError, match="unknown discovery sections"):
        discover(target(agent), SnmpV2c("x"), sections=frozenset({"bgp"}))


def test_probe_asks_the_system_group_once(agent: SnmpAgent, discovered: dict[str, DeviceFacts]) -> None:
    arista = next(path for path in RECORDINGS if path.stem == "arista_eos")
    system = probe(target(agent, timeout=5), SnmpV2c(community_of(arista)))
    full = discovered["arista_eos"].system
    assert system is not None and full is not None
    assert (system.object_id, system.description, system.name, system.vendor, system.platform) == (
        full.object_id,
        full.description,
        full.name,
        full.vendor,
        full.platform,
    )
    assert probe(target(agent, timeout=0.3, retries=0), SnmpV2c("silent-probe")) is None


def test_discover_each_hands_over_every_result_and_keeps_none(agent: SnmpAgent) -> None:
    paths = RECORDINGS[:4]
    seen: dict[str, str | None] = {}
    count = discover_each(
        ((target(agent, timeout=5), SnmpV2c(community_of(path)), path.stem) for path in paths),
        lambda stem, facts: seen.__setitem__(stem, facts.system.platform if facts.system else None),
        concurrency=2,
        sections=frozenset(),
    )
    assert count == 4 and seen == {path.stem: PLATFORMS[path.stem][1] for path in paths}, "each result comes with its own key"

    def refuse(key: str, facts: DeviceFacts) -> None:
        raise RuntimeError("the store refused it")

    with pytest.raises(RuntimeError, match="the store refused it"):
        discover_each([(target(agent, timeout=5), SnmpV2c(community_of(paths[0])), "x")], refuse, sections=frozenset())


def test_interface_fields(discovered: dict[str, DeviceFacts]) -> None:
    ethernet1 = next(i for i in discovered["arista_eos"].interfaces if i.if_index == 1)
    assert (ethernet1.name, ethernet1.type, ethernet1.mtu) == ("Ethernet1", 6, 9214)
    assert ethernet1.speed_bps == 10_000_000_000
    assert (ethernet1.mac, ethernet1.admin_status, ethernet1.oper_status) == ("00:1c:73:65:8e:3a", "up", "up")
    assert ethernet1.alias == "\\A EDICION-1\\"  # backslashes survive: strings travel as hex

    sample = discovered["arista_eos"].counters
    assert sample is not None
    counters = sample.by_index()[1]
    assert counters.counter_bits == 64
    assert (counters.in_octets, counters.out_octets) == (522_941_215_169, 921_675_793_922)
    # No ifXTable on the PDU: 32-bit octets.
    apc = discovered["apc_ap8959eu3"].counters
    assert apc is not None and {c.counter_bits for c in apc.interfaces} == {32}


def test_blanked_values_end_walks_early_and_the_rest_survives(discovered: dict[str, DeviceFacts]) -> None:
    facts = discovered["nxos_n3k-3064pq"]
    assert Recording(SNMP_DATA / "librenms" / "nxos_n3k-3064pq.snmprec").has_unservable_records()
    ended_early = {(e.section, e.oid) for e in facts.errors_of(WalkEndedEarly)}
    assert ("arp", "1.3.6.1.2.1.4.22.1.2") in ended_early  # ipNetToMediaPhysAddress is "<private>"
    # ipNetToPhysicalTable still has the neighbour, and everything after the bad record is there.
    assert [(e.ip, e.mac) for e in facts.arp_entries] == [("172.30.192.1", "a8:0c:0d:98:8f:3f")]
    assert len(facts.interfaces) == 54 and len(facts.lldp_neighbours) == 1


def test_missing_tables_are_reported(discovered: dict[str, DeviceFacts]) -> None:
    linux = discovered["linux_icecast"]
    missing = {(e.section, e.oid) for e in linux.errors_of(TableMissing)}
    assert ("lldp", "1.0.8802.1.1.2.1.4.1.1") in missing
    assert linux.lldp_neighbours == ()
    assert not any(e.section == "arp" for e in linux.errors)  # Linux has both ARP tables


def test_bad_values_give_partial_facts_and_typed_errors(agent: SnmpAgent) -> None:
    facts = discover(target(agent), SnmpV2c("variants/linux_bad_values"))
    malformed = {e.section: e for e in facts.errors_of(MalformedValue)}
    assert set(malformed) == {"system", "interfaces", "ip_addresses", "arp", "lldp"}

    assert facts.system is not None and facts.system.object_id is None
    assert facts.system.platform == "linux"  # sysDescr alone still says so
    eth0 = next(i for i in facts.interfaces if i.name == "eth0")
    assert eth0.mac is None and eth0.if_index == 2
    assert ("10.10.0.6", None) in {(a.address, a.prefix_length) for a in facts.ip_addresses}
    assert "10.10.0.2" not in {e.ip for e in facts.arp_entries}
    assert len(facts.arp_entries) == 24
    [neighbour] = facts.lldp_neighbours
    assert (neighbour.chassis_id, neighbour.port_id, neighbour.local_interface) == ("0a:0b:0c", "ge-0/0/1", "eth0")
    # The unservable ifAlias ends that walk: its rows after it are lost, the rest is not.
    ended_early = {(e.section, e.oid) for e in facts.errors_of(WalkEndedEarly)}
    assert ("interfaces", "1.3.6.1.2.1.31.1.1.1.18.1") in ended_early
    assert len(facts.interfaces) == 3


def _assert_timed_out_cleanly(facts: DeviceFacts, elapsed: float) -> None:
    assert elapsed < TIMEOUT * (RETRIES + 1) + MARGIN
    assert not facts.reachable and facts.system is None and facts.interfaces == ()
    [no_response] = facts.errors_of(NoResponse)
    assert no_response.section == "system"
    assert {e.section for e in facts.errors_of(Skipped)} >= {"interfaces", "lldp", "arp"}


def test_unanswered_community_times_out_cleanly(agent: SnmpAgent) -> None:
    start = time.monotonic()
    facts = discover(target(agent), SnmpV2c("no-such-community"))
    _assert_timed_out_cleanly(facts, time.monotonic() - start)


def test_closed_port_times_out_cleanly() -> None:
    start = time.monotonic()
    facts = discover(Target("127.0.0.1", free_udp_port(), timeout=TIMEOUT, retries=RETRIES), SnmpV2c("public"))
    _assert_timed_out_cleanly(facts, time.monotonic() - start)


def test_discover_many_bounds_concurrency(agent: SnmpAgent) -> None:
    """Four silent targets at 0.4 s each: two waves with concurrency 2, one with 4."""
    requests = [(target(agent, timeout=0.4, retries=0), SnmpV2c(f"silent-{n}")) for n in range(4)]
    finished: list[DeviceFacts] = []
    start = time.monotonic()
    results = discover_many(requests, concurrency=2, on_result=finished.append)
    two_waves = time.monotonic() - start
    start = time.monotonic()
    discover_many(requests, concurrency=4)
    one_wave = time.monotonic() - start
    assert len(results) == len(finished) == 4
    assert all(facts.errors_of(NoResponse) for facts in results)
    assert 0.8 <= two_waves < 0.8 + MARGIN
    assert 0.4 <= one_wave < 0.4 + MARGIN


def _comparable(facts: DeviceFacts) -> tuple:
    return facts.system, facts.interfaces, facts.lldp_neighbours, facts.arp_entries, facts.ip_addresses


def test_snmpv1_finds_the_same_facts(agent: SnmpAgent, discovered: dict[str, DeviceFacts]) -> None:
    name = "ios_ie32008t2s-ios17-12"
    facts = discover(target(agent), SnmpV1(f"librenms/{name}"))
    assert _comparable(facts) == _comparable(discovered[name])
    # SNMPv1 cannot carry Counter64, so only 32-bit counters (absent in this recording) remain.
    assert facts.counters is not None and {c.counter_bits for c in facts.counters.interfaces} == {32}


@pytest.mark.parametrize(
    "credentials",
    [
        SnmpV3(AUTH_PRIV.name, AuthProtocol.SHA, AUTH_PRIV.auth_key, PrivProtocol.AES, AUTH_PRIV.priv_key, context="librenms/arista_eos"),
        SnmpV3(AUTH_ONLY.name, AuthProtocol.SHA256, AUTH_ONLY.auth_key, context="librenms/arista_eos"),
    ],
    ids=["authPriv", "authNoPriv"],
)
def test_snmpv3_finds_the_same_facts(agent: SnmpAgent, discovered: dict[str, DeviceFacts], credentials: SnmpV3) -> None:
    facts = discover(target(agent), credentials)
    assert _comparable(facts) == _comparable(discovered["arista_eos"])


def test_snmpv3_wrong_key_is_an_authentication_failure(agent: SnmpAgent) -> None:
    credentials = SnmpV3(AUTH_PRIV.name, AuthProtocol.SHA, "not-the-key", PrivProtocol.AES, AUTH_PRIV.priv_key, context="librenms/arista_eos")
    start = time.monotonic()
    facts = discover(target(agent), credentials)
    assert time.monotonic() - start < TIMEOUT * (RETRIES + 1)  # rejected, not ignored
    assert [e.section for e in facts.errors_of(AuthenticationFailed)] == ["system"]
    assert facts.interfaces == () and not facts.reachable


def test_max_duration_gives_partial_facts(agent: SnmpAgent) -> None:
    start = time.monotonic()
    facts = discover(target(agent, max_duration=0.05), SnmpV2c("librenms/ios_2960x"))
    assert time.monotonic() - start < 1.5
    assert facts.system is not None and facts.system.platform == "ios"
    sections = {e.section for e in facts.errors_of(DeadlineExceeded)}
    assert {"lldp", "arp"} <= sections


def test_counter_rates_from_two_real_samples(agent: SnmpAgent) -> None:
    first = sample_counters(target(agent), SnmpV2c("librenms/arista_eos"))
    second = sample_counters(target(agent), SnmpV2c("librenms/arista_eos"))
    assert first.sample is not None and second.sample is not None and not first.errors
    assert first.sample.uptime_ticks == 2793316199
    by_index = rates(first.sample, second.sample)
    assert len(by_index) == 55
    # A recording does not move: every rate is zero, none unknown.
    assert {r.in_bps for r in by_index.values()} == {0.0} and {r.out_bps for r in by_index.values()} == {0.0}


def _sample(at: float, uptime: int | None, **counters: int | None) -> CounterSample:
    defaults: dict = dict(
        if_index=1, counter_bits=32, in_octets=0, out_octets=0, in_errors=0, out_errors=0, in_discards=0, out_discards=0, speed_bps=1_000_000_000
    )
    return CounterSample(at, uptime, (InterfaceCounters(**{**defaults, **counters}),))


def test_counter_wrap_reset_and_restart() -> None:
    assert counter_delta(2**32 - 1000, 500, 32) == 1500
    assert counter_delta(2**64 - 1000, 500, 64) is None  # 64-bit counters reset, never wrap
    assert counter_delta(None, 5, 32) is None

    wrapped = rates(_sample(0, 100, in_octets=2**32 - 1000), _sample(10, 1100, in_octets=500))[1]
    assert wrapped.in_bps == 1500 * 8 / 10 and wrapped.out_bps == 0.0

    # A wrap that would mean 3.4 Gbit/s on a 1 Gbit/s link is a reset, not a wrap.
    assert rates(_sample(0, 100, in_octets=10), _sample(10, 1100, in_octets=5))[1].in_bps is None
    # sysUpTime went down: the device restarted and all counters started again.
    restarted = rates(_sample(0, 500_000, in_octets=10), _sample(60, 3_000, in_octets=20))[1]
    assert restarted.in_bps is None and restarted.in_errors_per_second is None
    # Up again, but by far less than the day that passed: it restarted in between too.
    assert rates(_sample(0, 100_000, in_octets=10), _sample(86_400, 200_000, in_octets=20))[1].in_bps is None
    # sysUpTime wrapping after 497 days is not a restart.
    ticks = 2**32 - 1000
    assert rates(_sample(0, ticks, in_octets=10), _sample(60, 5000, in_octets=20))[1].in_bps == 80 / 60
    # 64-bit now, 32-bit before: not comparable.
    assert rates(_sample(0, 1, in_octets=10), _sample(10, 1001, in_octets=20, counter_bits=64))[1].in_bps is None
    with pytest.raises(ValueError):
        rates(_sample(10, 1), _sample(10, 1))


def test_credentials_validate_and_keep_secrets_out_of_repr() -> None:
    with pytest.raises(ValueError):
        SnmpV3("user", priv_protocol=PrivProtocol.AES, priv_key="priv-secret")
    with pytest.raises(ValueError):
        SnmpV3("user", AuthProtocol.SHA, "short")
    credentials = SnmpV3("user", AuthProtocol.SHA, "auth-secret", PrivProtocol.AES, "priv-secret")
    assert credentials.security_level == "authPriv"
    assert "secret" not in repr(credentials) and "public" not in repr(SnmpV2c("public"))


def test_facts_serialise_to_json(discovered: dict[str, DeviceFacts]) -> None:
    data = json.loads(json.dumps(discovered["nxos_n3k-3064pq"].to_dict()))
    assert data["system"]["platform"] == "nx-os"
    assert "walk_ended_early" in {error["kind"] for error in data["errors"]}
