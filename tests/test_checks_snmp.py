"""The SNMP GET probe against snmpsim serving a real device recording (a Linux host from
LibreNMS's test data), started once for this module."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from snmp_agent import SnmpAgent, free_udp_port

from checks import Check, CheckStatus, Comparison, ProbeError, SnmpProbe, run_checks

LOOPBACK = "127.0.0.1"
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RECORDING = SHARED_DATA / "snmp" / "librenms" / "linux_icecast.snmprec"
COMMUNITY = "librenms/linux_icecast"  # the recording's path under the data dir
SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0"
SHORT = 0.5
SLACK = 2.0
TYPES = {
    "2": "Integer",
    "4": "OctetString",
    "4x": "OctetString",
    "6": "ObjectIdentifier",
    "64": "IpAddress",
    "65": "Counter32",
    "66": "Gauge32",
    "67": "TimeTicks",
    "70": "Counter64",
}


@pytest.fixture(scope="module")
def snmp_agent() -> Iterator[int]:
    """snmpsim (tests/snmp_agent.py) serving one recording on a free loopback port."""
    work = Path(tempfile.mkdtemp(prefix="danbyte-snmpsim-"))
    data = work / "data"
    (data / "librenms").mkdir(parents=True)
    # one recording only: snmpsim indexes every file at start, and one is quick
    shutil.copy(RECORDING, data / "librenms" / RECORDING.name)
    agent = SnmpAgent(work_dir=work / "agent", data_dirs=[data])
    try:
        with agent.start(probe_community=COMMUNITY):
            yield agent.port
    finally:
        shutil.rmtree(work, ignore_errors=True)


def probe(port: int, oid: str, **options: object) -> SnmpProbe:
    return SnmpProbe(LOOPBACK, oid, community=COMMUNITY, port=port, **options)  # type: ignore[arg-type]


def _expected(type_tag: str, text: str) -> object:
    """The probe's value for a recording line: numbers as ints, printable strings as text,
    other octets as colon-separated hex."""
    if type_tag in ("2", "65", "66", "67", "70"):
        return int(text)
    if type_tag == "4x":
        raw = bytes.fromhex(text)
        try:
            decoded = raw.decode()
        except UnicodeDecodeError:
            return raw.hex(":")
        return decoded if all(ch.isprintable() or ch in "\r\n\t" for ch in decoded) else raw.hex(":")
    return text


def _recording_sample() -> list[tuple[str, str, str]]:
    """Every line of the rarer types and every fifth plain string."""
    lines = [line.split("|", 2) for line in RECORDING.read_text().splitlines() if line.count("|") >= 2]
    strings = [line for line in lines if line[1] == "4"]
    return [line for line in lines if line[1] != "4"] + strings[::5]


async def test_values_match_the_recording(snmp_agent: int) -> None:
    """Every value type the recording holds, decoded as the recording says (also runs
    the probe a few hundred times through the runner)."""
    sample = _recording_sample()
    assert {type_tag for _, type_tag, _ in sample} == set(TYPES)
    checks = [Check(oid, probe(snmp_agent, oid), timeout=5.0) for oid, _, _ in sample]
    results = {r.check_id: r.result for r in await run_checks(checks, concurrency=8)}
    mismatches = []
    for oid, type_tag, text in sample:
        result = results[oid]
        if (result.status, result.value, result.details.get("type")) != (
            CheckStatus.UP,
            _expected(type_tag, text),
            TYPES[type_tag],
        ):
            mismatches.append((oid, type_tag, text, result))
    assert not mismatches, mismatches[:5]


async def test_known_values(snmp_agent: int) -> None:
    descr = await probe(snmp_agent, SYS_DESCR).run(2.0)
    assert descr.status is CheckStatus.UP
    assert descr.value.startswith("Linux mp2-nyc1.telecurve.net 4.18.0")
    assert 0 < descr.latency < 2.0
    uptime = await probe(snmp_agent, SYS_UPTIME).run(2.0)
    assert (uptime.value, uptime.details["type"]) == (208255664, "TimeTicks")
    object_id = await probe(snmp_agent, SYS_OBJECT_ID).run(2.0)
    assert object_id.value == "1.3.6.1.4.1.8072.3.2.10"
    hc_octets = await probe(snmp_agent, "1.3.6.1.2.1.31.1.1.1.6.2").run(2.0)
    assert (hc_octets.value, hc_octets.details["type"]) == (11781310571002, "Counter64")
    mac = await probe(snmp_agent, "1.3.6.1.2.1.2.2.1.6.2").run(2.0)
    assert mac.value == "d6:0e:32:94:e0:a0"


@pytest.mark.parametrize(
    ("oid", "comparison", "status"),
    [
        (SYS_UPTIME, Comparison(">", 1000), CheckStatus.UP),
        (SYS_UPTIME, Comparison("<", 1000), CheckStatus.DOWN),
        (SYS_UPTIME, Comparison("==", "208255664"), CheckStatus.UP),
        (SYS_DESCR, Comparison("contains", "x86_64"), CheckStatus.UP),
        (SYS_DESCR, Comparison("matches", r"^Linux \S+ 4\.18"), CheckStatus.UP),
        (SYS_DESCR, Comparison("contains", "FreeBSD"), CheckStatus.DOWN),
        (SYS_OBJECT_ID, Comparison("==", "1.3.6.1.4.1.8072.3.2.10"), CheckStatus.UP),
        (SYS_OBJECT_ID, Comparison("!=", "1.3.6.1.4.1.8072.3.2.10"), CheckStatus.DOWN),
        ("1.3.6.1.2.1.2.2.1.8.2", Comparison("==", 1), CheckStatus.UP),  # ifOperStatus.2 up(1)
    ],
)
async def test_value_comparison(snmp_agent: int, oid: str, comparison: Comparison, status: CheckStatus) -> None:
    result = await probe(snmp_agent, oid, expect=comparison).run(2.0)
    assert result.status is status, result
    assert result.value is not None
    if status is CheckStatus.DOWN:
        assert result.error is ProbeError.UNEXPECTED_RESPONSE
        assert comparison.describe() in result.message


@pytest.mark.parametrize("version", ["1", "2c"])
async def test_missing_object(snmp_agent: int, version: str) -> None:
    result = await probe(snmp_agent, "1.3.6.1.2.1.1.99.0", version=version).run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.NOT_FOUND, result  # noSuchName (v1) / noSuchObject (v2c)


async def test_version_1_get(snmp_agent: int) -> None:
    result = await probe(snmp_agent, SYS_UPTIME, version="1").run(2.0)
    assert result.value == 208255664


async def test_wrong_community_times_out(snmp_agent: int) -> None:
    start = time.perf_counter()
    result = await SnmpProbe(LOOPBACK, SYS_DESCR, community="public", port=snmp_agent).run(SHORT)
    elapsed = time.perf_counter() - start
    assert result.error is ProbeError.TIMEOUT
    assert "community" in result.message
    assert SHORT * 0.9 <= elapsed <= SHORT + SLACK


class _Counter(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received = 0

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.received += 1


@pytest.fixture
async def silent_agent() -> AsyncIterator[tuple[int, _Counter]]:
    loop = asyncio.get_running_loop()
    transport, counter = await loop.create_datagram_endpoint(_Counter, local_addr=(LOOPBACK, 0))
    try:
        yield transport.get_extra_info("sockname")[1], counter
    finally:
        transport.close()


async def test_requests_resent_within_the_timeout(silent_agent: tuple[int, _Counter]) -> None:
    port, counter = silent_agent
    start = time.perf_counter()
    result = await SnmpProbe(LOOPBACK, SYS_DESCR, port=port, retries=2).run(0.6)
    elapsed = time.perf_counter() - start
    assert result.error is ProbeError.TIMEOUT
    assert 0.6 * 0.9 <= elapsed <= 0.6 + SLACK
    await asyncio.sleep(0.05)
    assert counter.received == 3


async def test_closed_port_is_refused() -> None:
    result = await SnmpProbe(LOOPBACK, SYS_DESCR, port=free_udp_port()).run(2.0)
    assert result.error is ProbeError.REFUSED


def test_rejects_bad_definitions() -> None:
    with pytest.raises(ValueError, match="version"):
        SnmpProbe(LOOPBACK, SYS_DESCR, version="3c")
    with pytest.raises(ValueError, match="OID"):
        SnmpProbe(LOOPBACK, "1.99.1")
    with pytest.raises(ValueError):
        SnmpProbe(LOOPBACK, "not.an.oid")
