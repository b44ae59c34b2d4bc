"""SNMPv3 in the SNMP probe, against snmpsim with USM users: authPriv, authNoPriv, and the
failures a wrong user or key must give (quick and named, not a timeout)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from snmp_agent import SnmpAgent, V3User

from checks import Check, CheckStatus, Comparison, ProbeError, SnmpProbe, probe_from_dict, probe_to_dict, run_checks

LOOPBACK = "127.0.0.1"
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RECORDING = SHARED_DATA / "snmp" / "librenms" / "linux_icecast.snmprec"
CONTEXT = "librenms/linux_icecast"  # snmpsim: the recording's path is the v3 context
SYS_DESCR, SYS_UPTIME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.3.0"
AUTH_PRIV = V3User("probe-priv", "SHA", "auth-secret-1", "AES", "priv-secret-1")
AUTH_ONLY = V3User("probe-auth", "SHA256", "auth-secret-2")


@pytest.fixture(scope="module")
def agent() -> Iterator[int]:
    work = Path(tempfile.mkdtemp(prefix="danbyte-snmpsim-v3-"))
    data = work / "data"
    (data / "librenms").mkdir(parents=True)
    shutil.copy(RECORDING, data / "librenms" / RECORDING.name)
    agent = SnmpAgent(work_dir=work / "agent", data_dirs=[data], v3_users=[AUTH_PRIV, AUTH_ONLY])
    try:
        with agent.start(probe_community=CONTEXT):
            yield agent.port
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _recorded(oid: str) -> str:
    for line in RECORDING.read_text().splitlines():
        if line.startswith(oid + "|"):
            return line.split("|", 2)[2]
    raise KeyError(oid)


def v3(port: int, oid: str = SYS_DESCR, **options: object) -> SnmpProbe:
    values: dict[str, object] = {
        "username": AUTH_PRIV.name,
        "auth_protocol": "SHA",
        "auth_key": AUTH_PRIV.auth_key,
        "priv_protocol": "AES",
        "priv_key": AUTH_PRIV.priv_key,
        "context": CONTEXT,
        **options,
    }
    return SnmpProbe(LOOPBACK, oid, port=port, version="3", **values)  # type: ignore[arg-type]


async def test_auth_priv_reads_the_value(agent: int) -> None:
    result = await v3(agent).run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.value == _recorded(SYS_DESCR) and result.details["type"] == "OctetString"
    uptime = await v3(agent, SYS_UPTIME, expect=Comparison(">", 100)).run(2.0)
    assert uptime.status is CheckStatus.UP and uptime.value == int(_recorded(SYS_UPTIME)) and uptime.details["type"] == "TimeTicks"


async def test_auth_no_priv(agent: int) -> None:
    probe = SnmpProbe(
        LOOPBACK, SYS_DESCR, port=agent, version="3", username=AUTH_ONLY.name, auth_protocol="SHA-256", auth_key=AUTH_ONLY.auth_key, context=CONTEXT
    )
    result = await probe.run(2.0)
    assert result.status is CheckStatus.UP and result.value == _recorded(SYS_DESCR)


async def test_comparison_fails_down(agent: int) -> None:
    result = await v3(agent, SYS_UPTIME, expect=Comparison("<", 5)).run(2.0)
    assert result.status is CheckStatus.DOWN and result.error is ProbeError.UNEXPECTED_RESPONSE


async def test_missing_object_is_not_found(agent: int) -> None:
    result = await v3(agent, "1.3.6.1.2.1.1.99.0").run(2.0)
    assert result.status is CheckStatus.DOWN and result.error is ProbeError.NOT_FOUND, result


@pytest.mark.parametrize(
    "wrong",
    [{"auth_key": "not-the-key"}, {"username": "nobody-here"}, {"priv_protocol": None, "priv_key": None}],
    ids=["wrong-auth-key", "unknown-user", "wrong-security-level"],
)
async def test_rejected_credentials_are_an_authentication_failure(agent: int, wrong: dict[str, object]) -> None:
    start = time.monotonic()
    result = await v3(agent, **wrong).run(3.0)
    assert time.monotonic() - start < 2.5  # reported by the agent, not waited out
    assert result.status is CheckStatus.DOWN and result.error is ProbeError.AUTHENTICATION_FAILED, result
    assert "rejected SNMPv3 user" in result.message
    assert "not-the-key" not in result.message and AUTH_PRIV.priv_key not in result.message


async def test_wrong_priv_key_is_down(agent: int) -> None:
    # A wrong privacy key authenticates but cannot be decrypted: net-snmp reports a
    # decryption error or the agent stays silent; down either way, and quickly named when reported.
    result = await v3(agent, priv_key="not-the-priv-key").run(1.5)
    assert result.status is CheckStatus.DOWN and result.error in (ProbeError.AUTHENTICATION_FAILED, ProbeError.TIMEOUT), result


async def test_no_agent_times_out_at_the_timeout() -> None:
    from snmp_agent import free_udp_port

    start = time.monotonic()
    result = await v3(free_udp_port()).run(0.6)
    assert time.monotonic() - start < 0.6 + 1.0
    assert result.status is CheckStatus.DOWN and result.error in (ProbeError.TIMEOUT, ProbeError.NETWORK_ERROR), result


async def test_many_v3_checks_concurrently(agent: int) -> None:
    checks = [Check(f"c{i}", v3(agent), timeout=5.0) for i in range(40)]
    results = await run_checks(checks, concurrency=40)
    assert all(r.result.status is CheckStatus.UP for r in results), [r.result.message for r in results if not r.result.ok]


def test_keys_stay_out_of_repr_but_round_trip() -> None:
    probe = SnmpProbe(LOOPBACK, SYS_DESCR, version="3", username="u", auth_protocol="SHA", auth_key="auth-key-1", priv_protocol="DES", priv_key="priv-key-1")
    check = Check("c", probe)
    for shown in (repr(probe), repr(check), repr(probe_to_dict(probe)), repr(check.to_dict()), str(check.to_dict())):
        assert "auth-key-1" not in shown and "priv-key-1" not in shown
    assert repr(probe_to_dict(probe)["auth_key"]) == "'***'"
    assert probe_from_dict(json.loads(json.dumps(probe_to_dict(probe)))) == probe
    assert Check.from_dict(json.loads(json.dumps(check.to_dict()))) == check
    v2 = SnmpProbe(LOOPBACK, SYS_DESCR, community="sekrit-community")
    assert "sekrit-community" not in repr(v2) and "sekrit-community" not in repr(probe_to_dict(v2))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version": "3"}, "username"),
        ({"version": "3", "username": "u", "auth_protocol": "SHA1", "auth_key": "k" * 8}, "auth_protocol"),
        ({"version": "3", "username": "u", "auth_protocol": "SHA"}, "go together"),
        ({"version": "3", "username": "u", "priv_protocol": "AES", "priv_key": "k" * 8}, "requires authentication"),
        ({"version": "2c", "username": "u"}, "version '3'"),
        ({"version": "4"}, "not supported"),
    ],
)
def test_bad_definitions_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnmpProbe(LOOPBACK, SYS_DESCR, **options)  # type: ignore[arg-type]
