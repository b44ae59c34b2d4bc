"""Each probe against real peers on loopback: TCP, UDP, HTTP and HTTPS (trustme
certificates), SSH banner and DNS servers started here; ICMP to 127.0.0.1. SNMP is in
test_checks_snmp.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest
import trustme

from checks import (
    Check,
    CheckResult,
    CheckStatus,
    Comparison,
    DnsProbe,
    HttpProbe,
    IcmpProbe,
    ProbeError,
    ProbeResult,
    SnmpProbe,
    SshProbe,
    StatePolicy,
    TcpProbe,
    UdpProbe,
    probe_from_dict,
    probe_to_dict,
)

LOOPBACK = "127.0.0.1"
# Timeouts below are short so failures are quick; assertions about elapsed time allow
# generous slack above them for a loaded machine, never less than the timeout itself.
SHORT = 0.5
SLACK = 2.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


async def timed(probe: object, timeout: float) -> tuple[ProbeResult, float]:
    start = time.perf_counter()
    result = await probe.run(timeout)  # type: ignore[attr-defined]
    return result, time.perf_counter() - start


def assert_timed_out(result: ProbeResult, elapsed: float, timeout: float) -> None:
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.TIMEOUT, result
    assert timeout * 0.9 <= elapsed <= timeout + SLACK, elapsed


# --- TCP -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def tcp_server() -> AsyncIterator[int]:
    """Greets with "220 ready", answers "PING" lines with "PONG"."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"220 ready\r\n")
            while line := await reader.readline():
                if line.strip() == b"PING":
                    writer.write(b"PONG\r\n")
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, LOOPBACK, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture(scope="module")
def tcp_blackhole() -> Iterator[int]:
    """A listener that never accepts, its one-slot backlog already full: further SYNs
    are dropped, so a connect hangs."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex((LOOPBACK, port))
        fillers.append(filler)
    time.sleep(0.05)
    try:
        yield port
    finally:
        for sock in (*fillers, listener):
            sock.close()


async def test_tcp_connect_up(tcp_server: int) -> None:
    result = await TcpProbe(LOOPBACK, tcp_server).run(2.0)
    assert result.status is CheckStatus.UP
    assert result.error is None
    assert 0 < result.latency < 2.0
    assert f"{LOOPBACK}:{tcp_server}" in result.message


async def test_tcp_expect_banner_and_reply(tcp_server: int) -> None:
    banner = await TcpProbe(LOOPBACK, tcp_server, expect=b"220").run(2.0)
    assert banner.status is CheckStatus.UP
    assert banner.value.startswith(b"220 ready")
    pong = await TcpProbe(LOOPBACK, tcp_server, send="PING\r\n", expect="PONG").run(2.0)
    assert pong.status is CheckStatus.UP
    assert b"PONG" in pong.value


async def test_tcp_expect_missing_times_out(tcp_server: int) -> None:
    result, elapsed = await timed(TcpProbe(LOOPBACK, tcp_server, expect=b"never sent"), SHORT)
    assert_timed_out(result, elapsed, SHORT)
    assert "never sent" in result.message


async def test_tcp_closed_port_is_refused() -> None:
    result = await TcpProbe(LOOPBACK, free_port()).run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.REFUSED
    assert result.latency is None


async def test_tcp_blackhole_times_out_at_its_timeout(tcp_blackhole: int) -> None:
    result, elapsed = await timed(TcpProbe(LOOPBACK, tcp_blackhole), SHORT)
    assert_timed_out(result, elapsed, SHORT)
    assert "connecting" in result.message


async def test_tcp_unresolvable_host() -> None:
    result = await TcpProbe("no-such-host.invalid", 80).run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error in (ProbeError.RESOLUTION_FAILED, ProbeError.TIMEOUT)


# --- UDP -------------------------------------------------------------------------------


class _PongProtocol(asyncio.DatagramProtocol):
    """Answers "PING x" with "PONG x"; stays silent to anything else."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.startswith(b"PING"):
            self.transport.sendto(b"PONG" + data[4:], addr)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
async def udp_responder() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_PongProtocol, local_addr=(LOOPBACK, 0))
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


@pytest.fixture(scope="module")
def udp_blackhole() -> Iterator[int]:
    """Bound (so no port-unreachable comes back) but never reads or answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        yield sock.getsockname()[1]


async def test_udp_reply_with_expected_content(udp_responder: int) -> None:
    result = await UdpProbe(LOOPBACK, udp_responder, payload=b"PING 42", expect=b"PONG 42").run(2.0)
    assert result.status is CheckStatus.UP
    assert result.value == b"PONG 42"
    assert 0 < result.latency < 2.0


async def test_udp_reply_without_expected_content(udp_responder: int) -> None:
    result = await UdpProbe(LOOPBACK, udp_responder, payload="PING 1", expect="PONG 2").run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.UNEXPECTED_RESPONSE
    assert result.value == b"PONG 1"


async def test_udp_silent_service_times_out(udp_blackhole: int) -> None:
    result, elapsed = await timed(UdpProbe(LOOPBACK, udp_blackhole, payload=b"PING"), SHORT)
    assert_timed_out(result, elapsed, SHORT)


async def test_udp_closed_port_is_refused() -> None:
    result, elapsed = await timed(UdpProbe(LOOPBACK, free_port(socket.SOCK_DGRAM), payload=b"PING"), 2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.REFUSED  # ICMP port unreachable, long before the timeout
    assert elapsed < 1.0


# --- HTTP and HTTPS ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # http.server's naming
        if self.path == "/":
            self._send(200, b"hello from danbyte", "text/plain; charset=utf-8")
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), b"status page")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b"first chunk, ", b"second chunk: ", b"marker-7"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"body delimited by closing the connection")
            self.close_connection = True
        elif self.path == "/slow":
            time.sleep(SHORT * 4)
            self._send(200, b"late")
        elif self.path == "/headers":
            self._send(200, json.dumps(dict(self.headers)).encode())
        else:
            self._send(404, b"not found")

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # /slow handlers must not hold up teardown
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.tls is not None:
            # handshake in the request's thread, not in the accept loop
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that reject our certificate, or hang up early, are expected here


def _serve(tls: ssl.SSLContext | None = None) -> _Server:
    server = _Server((LOOPBACK, 0), _Handler)
    server.tls = tls
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@dataclass
class HttpPeers:
    http: str
    https: str
    https_expiring: str  # certificate valid for 10 more days
    https_expired: str
    ca_file: str


@pytest.fixture(scope="module")
def http_peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpPeers]:
    ca = trustme.CA()
    now = dt.datetime.now(dt.UTC)

    def tls(**validity: dt.datetime) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost", LOOPBACK, **validity).configure_cert(context)
        return context

    ca_file = tmp_path_factory.mktemp("trustme") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    servers = [
        _serve(),
        _serve(tls()),
        _serve(tls(not_after=now + dt.timedelta(days=10))),
        _serve(tls(not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))),
    ]
    http, https, expiring, expired = (f"{LOOPBACK}:{server.server_address[1]}" for server in servers)
    try:
        yield HttpPeers(f"http://{http}", f"https://{https}", f"https://{expiring}", f"https://{expired}", str(ca_file))
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


async def test_http_ok_with_body_match(http_peers: HttpPeers) -> None:
    result = await HttpProbe(f"{http_peers.http}/", body_pattern=r"hello from \w+").run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.value == 200
    assert result.details["body_matched"] is True
    assert result.details["body_bytes"] == len(b"hello from danbyte")
    assert 0 < result.details["connect_time"] <= result.latency < 2.0
    assert "cert_days_left" not in result.details


async def test_http_body_mismatch_is_down(http_peers: HttpPeers) -> None:
    result = await HttpProbe(f"{http_peers.http}/", body_pattern="goodbye").run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.UNEXPECTED_RESPONSE
    assert result.value == 200
    assert result.details["body_matched"] is False


@pytest.mark.parametrize(
    ("path", "expect_status", "status", "value"),
    [
        ("/status/503", (), CheckStatus.DOWN, 503),
        ("/status/503", (503,), CheckStatus.UP, 503),
        ("/missing", (), CheckStatus.DOWN, 404),
        ("/redirect", (), CheckStatus.UP, 302),  # not followed: a 3xx is an answer
        ("/redirect", (200,), CheckStatus.DOWN, 302),
    ],
)
async def test_http_status_expectations(http_peers: HttpPeers, path: str, expect_status: tuple[int, ...], status: CheckStatus, value: int) -> None:
    result = await HttpProbe(f"{http_peers.http}{path}", expect_status=expect_status).run(2.0)
    assert result.status is status, result
    assert result.value == value
    if status is CheckStatus.DOWN:
        assert result.error is ProbeError.UNEXPECTED_RESPONSE
        assert str(value) in result.message


@pytest.mark.parametrize(
    ("path", "pattern", "length"),
    [
        ("/chunked", r"second chunk: marker-\d", len(b"first chunk, second chunk: marker-7")),
        ("/until-close", r"delimited by closing", len(b"body delimited by closing the connection")),
    ],
)
async def test_http_body_framings(http_peers: HttpPeers, path: str, pattern: str, length: int) -> None:
    result = await HttpProbe(f"{http_peers.http}{path}", body_pattern=pattern).run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.details["body_bytes"] == length


async def test_http_head_reads_no_body(http_peers: HttpPeers) -> None:
    # a HEAD response announces a length but sends nothing: waiting for it would hang
    result, elapsed = await timed(HttpProbe(f"{http_peers.http}/", method="HEAD"), 2.0)
    assert result.status is CheckStatus.UP
    assert result.details["body_bytes"] == 0
    assert elapsed < 1.5


async def test_http_sends_custom_headers(http_peers: HttpPeers) -> None:
    probe = HttpProbe(f"{http_peers.http}/headers", headers={"X-Probe": "danbyte"}, body_pattern='"X-Probe": "danbyte"')
    result = await probe.run(2.0)
    assert result.status is CheckStatus.UP, result


async def test_http_body_cap(http_peers: HttpPeers) -> None:
    result = await HttpProbe(f"{http_peers.http}/", max_body_bytes=5, body_pattern="hello$").run(2.0)
    assert result.status is CheckStatus.UP
    assert result.details["body_bytes"] == 5


async def test_http_slow_server_times_out(http_peers: HttpPeers) -> None:
    result, elapsed = await timed(HttpProbe(f"{http_peers.http}/slow"), SHORT)
    assert_timed_out(result, elapsed, SHORT)
    assert "waiting for the response" in result.message


async def test_http_closed_port_is_refused() -> None:
    result = await HttpProbe(f"http://{LOOPBACK}:{free_port()}/").run(2.0)
    assert result.error is ProbeError.REFUSED


async def test_https_verified_reports_certificate_expiry(http_peers: HttpPeers) -> None:
    result = await HttpProbe(f"{http_peers.https}/", ca_file=http_peers.ca_file, cert_warning_days=30).run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.value == 200
    assert result.details["cert_days_left"] > 30
    assert dt.datetime.fromisoformat(result.details["cert_not_after"]) > dt.datetime.now(dt.UTC)


async def test_https_by_host_name(http_peers: HttpPeers) -> None:
    url = http_peers.https.replace(LOOPBACK, "localhost")
    result = await HttpProbe(f"{url}/", ca_file=http_peers.ca_file).run(2.0)
    assert result.status is CheckStatus.UP, result


async def test_https_unknown_issuer_is_a_tls_error(http_peers: HttpPeers) -> None:
    result = await HttpProbe(f"{http_peers.https}/").run(2.0)  # system trust store only
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.TLS_ERROR
    assert "certificate" in result.message


async def test_https_name_mismatch_is_a_tls_error(http_peers: HttpPeers) -> None:
    probe = HttpProbe(f"{http_peers.https}/", ca_file=http_peers.ca_file, server_name="router.example.test")
    result = await probe.run(2.0)
    assert result.error is ProbeError.TLS_ERROR
    assert "router.example.test" in result.message or "mismatch" in result.message


async def test_https_unverified_still_reports_expiry(http_peers: HttpPeers) -> None:
    result = await HttpProbe(f"{http_peers.https}/", verify_tls=False).run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.details["cert_days_left"] > 30


async def test_https_expiring_certificate_is_degraded(http_peers: HttpPeers) -> None:
    probe = HttpProbe(f"{http_peers.https_expiring}/", ca_file=http_peers.ca_file, cert_warning_days=30)
    result = await probe.run(2.0)
    assert result.status is CheckStatus.DEGRADED, result
    assert 9.9 < result.details["cert_days_left"] < 10.0
    assert "expires in 10.0 days" in result.message or "expires in 9.9 days" in result.message
    no_warning = await HttpProbe(f"{http_peers.https_expiring}/", ca_file=http_peers.ca_file).run(2.0)
    assert no_warning.status is CheckStatus.UP


async def test_https_expired_certificate(http_peers: HttpPeers) -> None:
    verified = await HttpProbe(f"{http_peers.https_expired}/", ca_file=http_peers.ca_file).run(2.0)
    assert verified.error is ProbeError.TLS_ERROR
    assert "expired" in verified.message
    unverified = await HttpProbe(f"{http_peers.https_expired}/", verify_tls=False).run(2.0)
    assert unverified.status is CheckStatus.DOWN
    assert unverified.error is ProbeError.TLS_ERROR
    assert unverified.value == 200
    assert -1.1 < unverified.details["cert_days_left"] < -0.9


def test_http_rejects_bad_definitions() -> None:
    with pytest.raises(ValueError, match="not an http"):
        HttpProbe("ftp://192.0.2.1/")
    with pytest.raises(ValueError):
        HttpProbe("http://192.0.2.1/", body_pattern="(")


# --- SSH banner --------------------------------------------------------------------------


@dataclass
class SshPeers:
    ports: dict[str, int]
    client_idents: list[bytes] = field(default_factory=list)


SSH_GREETINGS = {
    "openssh": b"SSH-2.0-OpenSSH_9.6\r\n",
    "with_preamble": b"Authorised use only\r\nAll sessions are logged\r\nSSH-2.0-dropbear_2022.83\r\n",
    "ssh1": b"SSH-1.5-OldServer\r\n",
    "smtp": b"220 mail.example.test ESMTP\r\n",
    "silent": b"",
}


@pytest.fixture(scope="module")
async def ssh_peers() -> AsyncIterator[SshPeers]:
    peers = SshPeers({})
    servers = []

    def greeter(greeting: bytes):
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                writer.write(greeting)
                if greeting.startswith(b"SSH-") or b"\nSSH-" in greeting:
                    async with asyncio.timeout(5):
                        peers.client_idents.append(await reader.readline())
                elif not greeting:
                    await reader.read()  # say nothing until the client gives up
            except (ConnectionError, TimeoutError):
                pass
            finally:
                writer.close()

        return handle

    for name, greeting in SSH_GREETINGS.items():
        server = await asyncio.start_server(greeter(greeting), LOOPBACK, 0)
        servers.append(server)
        peers.ports[name] = server.sockets[0].getsockname()[1]
    try:
        yield peers
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


async def test_ssh_banner(ssh_peers: SshPeers) -> None:
    before = len(ssh_peers.client_idents)
    result = await SshProbe(LOOPBACK, ssh_peers.ports["openssh"]).run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.value == "SSH-2.0-OpenSSH_9.6"
    assert result.details == {"protocol": "2.0", "software": "OpenSSH_9.6"}
    assert 0 < result.latency < 2.0
    # the probe identified itself before hanging up, as a well-behaved client does
    async with asyncio.timeout(2):
        while len(ssh_peers.client_idents) == before:
            await asyncio.sleep(0.01)
    assert ssh_peers.client_idents[-1].startswith(b"SSH-2.0-")


@pytest.mark.parametrize(("pattern", "status"), [(r"OpenSSH_9\.\d+", CheckStatus.UP), (r"OpenSSH_10", CheckStatus.DOWN)])
async def test_ssh_banner_expectation(ssh_peers: SshPeers, pattern: str, status: CheckStatus) -> None:
    result = await SshProbe(LOOPBACK, ssh_peers.ports["openssh"], expect=pattern).run(2.0)
    assert result.status is status
    if status is CheckStatus.DOWN:
        assert result.error is ProbeError.UNEXPECTED_RESPONSE


async def test_ssh_lines_before_the_banner(ssh_peers: SshPeers) -> None:
    result = await SshProbe(LOOPBACK, ssh_peers.ports["with_preamble"]).run(2.0)
    assert result.status is CheckStatus.UP
    assert result.details["software"] == "dropbear_2022.83"


@pytest.mark.parametrize(("peer", "error"), [("ssh1", ProbeError.UNEXPECTED_RESPONSE), ("smtp", ProbeError.PROTOCOL_ERROR)])
async def test_ssh_wrong_peer(ssh_peers: SshPeers, peer: str, error: ProbeError) -> None:
    result = await SshProbe(LOOPBACK, ssh_peers.ports[peer]).run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is error, result


async def test_ssh_silent_server_times_out(ssh_peers: SshPeers) -> None:
    result, elapsed = await timed(SshProbe(LOOPBACK, ssh_peers.ports["silent"]), SHORT)
    assert_timed_out(result, elapsed, SHORT)
    assert "banner" in result.message


async def test_ssh_closed_port_is_refused() -> None:
    result = await SshProbe(LOOPBACK, free_port()).run(2.0)
    assert result.error is ProbeError.REFUSED


async def test_http_against_a_non_http_server(ssh_peers: SshPeers) -> None:
    result = await HttpProbe(f"http://{LOOPBACK}:{ssh_peers.ports['smtp']}/").run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.PROTOCOL_ERROR


# --- DNS -------------------------------------------------------------------------------

ZONE: dict[tuple[str, str], list[str]] = {
    ("router1.example.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("router1.example.test.", "AAAA"): ["2001:db8::10"],
    ("big.example.test.", "TXT"): [f'"record {i:02d} {"x" * 60}"' for i in range(40)],
}
ALIASES = {"www.example.test.": "router1.example.test."}


def dns_answer(query: dns.message.Message, over_tcp: bool) -> dns.message.Message:
    response = dns.message.make_response(query)
    question = query.question[0]
    name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
    if name == "servfail.example.test.":
        response.set_rcode(dns.rcode.SERVFAIL)
        return response
    if name == "big.example.test." and not over_tcp:
        response.flags |= dns.flags.TC  # too big for UDP: the client must retry over TCP
        return response
    if name in ALIASES:
        response.answer.append(dns.rrset.from_text_list(name, 300, "IN", "CNAME", [ALIASES[name]]))
        name = ALIASES[name]
    records = ZONE.get((name, rdtype))
    if records:
        response.answer.append(dns.rrset.from_text_list(name, 300, "IN", rdtype, records))
    elif not any(known == name for known, _ in ZONE):
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response


class _DnsUdp(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = dns_answer(dns.message.from_wire(data), over_tcp=False)
        self.transport.sendto(answer.to_wire(), addr)  # type: ignore[attr-defined]


async def _dns_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        size = int.from_bytes(await reader.readexactly(2), "big")
        wire = dns_answer(dns.message.from_wire(await reader.readexactly(size)), over_tcp=True).to_wire()
        writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture(scope="module")
async def dns_server() -> AsyncIterator[int]:
    """A tiny authoritative server for example.test on one port, UDP and TCP."""
    loop = asyncio.get_running_loop()
    for _ in range(20):
        transport, _ = await loop.create_datagram_endpoint(_DnsUdp, local_addr=(LOOPBACK, 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            tcp = await asyncio.start_server(_dns_tcp, LOOPBACK, port)
        except OSError:  # that TCP port is taken: try another UDP port
            transport.close()
            continue
        break
    else:
        pytest.fail("no port free for both UDP and TCP")
    try:
        yield port
    finally:
        transport.close()
        tcp.close()
        await tcp.wait_closed()


async def test_dns_a_records(dns_server: int) -> None:
    probe = DnsProbe("router1.example.test", nameserver=LOOPBACK, port=dns_server, expect=("192.0.2.10",))
    result = await probe.run(2.0)
    assert result.status is CheckStatus.UP, result
    assert result.value == ("192.0.2.10", "192.0.2.11")
    assert result.details == {"canonical_name": "router1.example.test.", "ttl": 300}
    assert 0 < result.latency < 2.0


async def test_dns_aaaa_and_cname(dns_server: int) -> None:
    aaaa = await DnsProbe("router1.example.test", "AAAA", LOOPBACK, dns_server).run(2.0)
    assert aaaa.value == ("2001:db8::10",)
    alias = await DnsProbe("www.example.test.", "A", LOOPBACK, dns_server, expect=("192.0.2.11",)).run(2.0)
    assert alias.status is CheckStatus.UP, alias
    assert alias.details["canonical_name"] == "router1.example.test."


async def test_dns_truncated_answer_retried_over_tcp(dns_server: int) -> None:
    result = await DnsProbe("big.example.test", "TXT", LOOPBACK, dns_server).run(2.0)
    assert result.status is CheckStatus.UP, result
    assert len(result.value) == 40


async def test_dns_expected_address_missing(dns_server: int) -> None:
    probe = DnsProbe("router1.example.test", nameserver=LOOPBACK, port=dns_server, expect=("192.0.2.99",))
    result = await probe.run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is ProbeError.UNEXPECTED_RESPONSE
    assert "192.0.2.99" in result.message
    assert result.value == ("192.0.2.10", "192.0.2.11")


@pytest.mark.parametrize(
    ("name", "rdtype", "error", "text"),
    [
        ("nothing.example.test", "A", ProbeError.NOT_FOUND, "NXDOMAIN"),
        ("router1.example.test", "MX", ProbeError.NOT_FOUND, "no MX records"),
        ("servfail.example.test", "A", ProbeError.UNEXPECTED_RESPONSE, "SERVFAIL"),
    ],
)
async def test_dns_negative_answers(dns_server: int, name: str, rdtype: str, error: ProbeError, text: str) -> None:
    result = await DnsProbe(name, rdtype, LOOPBACK, dns_server).run(2.0)
    assert result.status is CheckStatus.DOWN
    assert result.error is error, result
    assert text in result.message


async def test_dns_silent_nameserver_times_out(udp_blackhole: int) -> None:
    result, elapsed = await timed(DnsProbe("router1.example.test", nameserver=LOOPBACK, port=udp_blackhole), SHORT)
    assert_timed_out(result, elapsed, SHORT)


def test_dns_rejects_unknown_record_type() -> None:
    with pytest.raises(ValueError, match="NOPE"):
        DnsProbe("example.test", "NOPE")


# --- ICMP ------------------------------------------------------------------------------


def _ping_sockets_allowed() -> bool:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except OSError:
        return False
    return low <= os.getgid() <= high


async def test_icmp_echo_to_loopback() -> None:
    result = await IcmpProbe(LOOPBACK, count=3, interval=0.05).run(2.0)
    if result.error is ProbeError.PERMISSION_DENIED:
        pytest.skip(f"no ICMP for this process: {result.message}")
    assert result.status is CheckStatus.UP, result
    assert result.value == 0.0  # packet loss
    assert result.details["sent"] == result.details["received"] == 3
    assert 0 < result.details["rtt_min"] <= result.latency <= result.details["rtt_max"] < 1.0
    if os.geteuid() == 0:
        assert result.details["socket"] == "raw"  # tried first, and root may


async def test_icmp_unprivileged_here() -> None:
    """A ping socket works exactly when this process's group is in ping_group_range;
    otherwise the error says which setting to change."""
    result = await IcmpProbe(LOOPBACK, privileged=False).run(2.0)
    if _ping_sockets_allowed():
        assert result.status is CheckStatus.UP, result
        assert result.details["socket"] == "datagram"
    else:
        assert result.status is CheckStatus.DOWN
        assert result.error is ProbeError.PERMISSION_DENIED
        assert "ping_group_range" in result.message


_IN_NAMESPACE = """
import asyncio, json, sys
from checks import IcmpProbe
privileged = json.loads(sys.argv[1])
result = asyncio.run(IcmpProbe("127.0.0.1", count=2, interval=0.05, privileged=privileged).run(2.0))
print(json.dumps(result.to_dict()))
"""


def _in_network_namespace(ping_group_range: str, drop_raw: bool, privileged: bool | None) -> dict:
    """Run the probe in a fresh network namespace (its own loopback and its own
    ping_group_range), optionally without CAP_NET_RAW."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "ip", "setpriv")):
        pytest.skip("needs root with unshare, ip and setpriv")
    setpriv = "setpriv --bounding-set=-net_raw --inh-caps=-net_raw " if drop_raw else ""
    script = f'ip link set lo up && echo \'{ping_group_range}\' > /proc/sys/net/ipv4/ping_group_range && exec {setpriv}"$0" -c "$1" "$2"'
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        ["unshare", "--net", "sh", "-c", script, sys.executable, _IN_NAMESPACE, json.dumps(privileged)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if completed.returncode and "unshare" in completed.stderr:
        pytest.skip(f"cannot make a network namespace here: {completed.stderr.strip()}")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize(
    ("ping_group_range", "drop_raw", "privileged", "status", "socket_kind"),
    [
        ("0 2147483647", False, False, "up", "datagram"),  # ping socket asked for, allowed
        ("0 2147483647", True, None, "up", "datagram"),  # no raw socket: falls back
        ("1 0", True, None, "down", None),  # neither: a typed, explained error
        ("1 0", False, None, "up", "raw"),
    ],
)
def test_icmp_socket_choice(ping_group_range: str, drop_raw: bool, privileged: bool | None, status: str, socket_kind: str | None) -> None:
    result = _in_network_namespace(ping_group_range, drop_raw, privileged)
    assert result["status"] == status, result
    if status == "up":
        assert result["details"]["socket"] == socket_kind
    else:
        assert result["error"] == "permission_denied"
        assert "CAP_NET_RAW" in result["message"] and "ping_group_range" in result["message"]


# --- plain forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "probe",
    [
        TcpProbe("192.0.2.1", 22, send="PING\r\n", expect="PONG"),
        UdpProbe("192.0.2.1", 7, payload="hello", expect="hello"),
        HttpProbe("https://192.0.2.1/health", expect_status=(200, 204), body_pattern="ok", headers={"X-A": "b"}),
        SnmpProbe("192.0.2.1", "1.3.6.1.2.1.1.3.0", expect=Comparison(">", 100)),
        SshProbe("192.0.2.1"),
        DnsProbe("router1.example.test", "AAAA", "192.0.2.53", 5353, expect=("2001:db8::1",)),
        IcmpProbe("192.0.2.1", count=3, privileged=False),
    ],
)
def test_probe_plain_form_round_trip(probe: object) -> None:
    plain = json.loads(json.dumps(probe_to_dict(probe)))  # type: ignore[arg-type]
    assert probe_from_dict(plain) == probe
    policy = StatePolicy(rise=1, fall=2, max_latency=0.2, degraded_when=Comparison(">", 0))
    check = Check("c1", probe, timeout=3.0, interval=30.0, policy=policy)  # type: ignore[arg-type]
    assert Check.from_dict(json.loads(json.dumps(check.to_dict()))) == check


def test_result_plain_form_round_trip() -> None:
    result = ProbeResult(CheckStatus.UP, 0.01, "ok", ("192.0.2.1", "192.0.2.2"), None, {"ttl": 300})
    assert ProbeResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    check_result = CheckResult("c1", result, 100.0, 100.5, 100.6, 0.5, 0.1)
    assert CheckResult.from_dict(json.loads(json.dumps(check_result.to_dict()))) == check_result
    raw = ProbeResult(CheckStatus.DOWN, None, "no", b"\xffPONG", ProbeError.UNEXPECTED_RESPONSE)
    assert json.loads(json.dumps(raw.to_dict()))["value"] == "\\xffPONG"


def test_unknown_probe_kind() -> None:
    with pytest.raises(ValueError, match="unknown probe kind"):
        probe_from_dict({"kind": "telnet", "host": "192.0.2.1"})
