"""HTTP and HTTPS: status, body match, latency and the certificate's days to expiry.

A small HTTP/1.1 client on asyncio streams rather than a client library: a check needs
one request per connection, a bounded body, timing, and the peer certificate even when
verification is off, and no declared dependency offers all of that.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import SplitResult, urlsplit

from cryptography import x509

from checks.probes._common import close_writer, failure, since
from checks.results import ProbeError, ProbeResult, Value, degraded, down, up

_MAX_HEAD = 64 * 1024
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: ([^\r\n]*))?")


@dataclass(frozen=True, slots=True)
class HttpProbe:
    """GET (or ``method``) ``url`` over HTTP/1.1 with ``Connection: close``; redirects
    are not followed. Up when the status is in ``expect_status`` (default: any 2xx or
    3xx) and the body matches ``body_pattern`` (a regular expression searched in the
    first ``max_body_bytes``). HTTPS verifies the certificate against the system store or
    ``ca_file`` unless ``verify_tls`` is off; the certificate's days to expiry are always
    reported, and fewer than ``cert_warning_days`` make the result degraded (an expired
    one is down). ``server_name`` overrides the name used for SNI and verification.
    The value is the status code; latency runs to the end of the body."""

    kind: ClassVar[str] = "http"
    url: str
    method: str = "GET"
    expect_status: tuple[int, ...] = ()
    body_pattern: str | None = None
    headers: Mapping[str, str] | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    server_name: str | None = None
    cert_warning_days: float | None = None
    max_body_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {self.url!r}")
        if self.body_pattern is not None:
            _compile(self.body_pattern)
        # JSON gives lists; keep the dataclass hashable and comparable
        object.__setattr__(self, "expect_status", tuple(self.expect_status))

    async def run(self, timeout: float) -> ProbeResult:
        parts = urlsplit(self.url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        start = time.perf_counter()
        doing = f"connecting to {self.url}"
        writer: asyncio.StreamWriter | None = None
        cert: dict[str, Value | bool] = {}
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=_tls_context(self.verify_tls, self.ca_file) if https else None,
                    server_hostname=(self.server_name or host) if https else None,
                    limit=_MAX_HEAD,
                )
                connect_time = since(start)
                if https:
                    cert = _certificate_facts(writer)
                doing = f"waiting for the response from {self.url}"
                writer.write(self._request(parts))
                status, reason, headers = await _read_head(reader)
                doing = f"reading the body from {self.url}"
                body = await _read_body(reader, headers, status, self.method, self.max_body_bytes)
        except (OSError, asyncio.IncompleteReadError) as exc:
            return failure(exc, doing, timeout)
        except (asyncio.LimitOverrunError, ValueError) as exc:
            return down(ProbeError.PROTOCOL_ERROR, f"malformed HTTP response from {self.url}: {exc}")
        finally:
            if writer is not None:
                await close_writer(writer)
        latency = since(start)
        facts: dict[str, Value | bool] = {"connect_time": connect_time, "body_bytes": len(body), **cert}
        accepted = status in self.expect_status if self.expect_status else 200 <= status < 400
        if not accepted:
            wanted = ", ".join(map(str, self.expect_status)) or "2xx or 3xx"
            return down(
                ProbeError.UNEXPECTED_RESPONSE,
                f"HTTP {status} {reason} from {self.url} (expected {wanted})",
                latency,
                status,
                **facts,
            )
        if self.body_pattern is not None:
            text = body.decode(_charset(headers), "replace")
            facts["body_matched"] = re.search(self.body_pattern, text) is not None
            if not facts["body_matched"]:
                return down(
                    ProbeError.UNEXPECTED_RESPONSE,
                    f"body of {self.url} does not match {self.body_pattern!r}",
                    latency,
                    status,
                    **facts,
                )
        days = cert.get("cert_days_left")
        if isinstance(days, float) and days < 0:
            expired = f"certificate of {self.url} expired {-days:.1f} days ago"
            return down(ProbeError.TLS_ERROR, expired, latency, status, **facts)
        if isinstance(days, float) and self.cert_warning_days is not None and days < self.cert_warning_days:
            return degraded(latency, f"certificate of {self.url} expires in {days:.1f} days", status, **facts)
        return up(latency, f"HTTP {status} {reason} from {self.url}", status, **facts)

    def _request(self, parts: SplitResult) -> bytes:
        host = parts.hostname or ""
        host_header = f"[{host}]" if ":" in host else host
        if parts.port:
            host_header += f":{parts.port}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fields = {"Host": host_header, "User-Agent": "danbyte-checks/1", "Accept": "*/*"}
        fields.update(self.headers or {})
        fields["Connection"] = "close"  # one request per connection: no pool to manage
        lines = [f"{self.method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items()), "", ""]
        return "\r\n".join(lines).encode("latin-1")


@functools.lru_cache(maxsize=32)
def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """Contexts are cached: building one loads the CA store, which costs milliseconds."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _certificate_facts(writer: asyncio.StreamWriter) -> dict[str, Value | bool]:
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    if not der:
        return {}
    # the binary form is there even when verification is off, the parsed dict is not
    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    left = (not_after - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    return {"cert_days_left": left, "cert_not_after": not_after.isoformat()}


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, str, dict[str, str]]:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        match = _STATUS_LINE.fullmatch(status_line)
        if match is None:
            raise ValueError(f"bad status line {status_line[:80]!r}")
        status = int(match.group(3))
        if 100 <= status < 200 and status != 101:
            continue  # interim response (100 Continue): the real one follows
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise ValueError(f"bad header line {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        return status, (match.group(4) or b"").decode("latin-1"), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], status: int, method: str, cap: int) -> bytes:
    if method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader, cap)
    if "content-length" in headers:
        return await reader.readexactly(min(int(headers["content-length"]), cap))
    body = b""
    while len(body) < cap:  # no length: the body ends when the server closes
        chunk = await reader.read(cap - len(body))
        if not chunk:
            break
        body += chunk
    return body


async def _read_chunked(reader: asyncio.StreamReader, cap: int) -> bytes:
    body = bytearray()
    while len(body) < cap:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            break
        chunk = await reader.readexactly(size)
        await reader.readexactly(2)
        body += chunk
    return bytes(body[:cap])


def _compile(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None


def _charset(headers: dict[str, str]) -> str:
    match = re.search(r"charset=([\w.-]+)", headers.get("content-type", ""))
    charset = match.group(1) if match else "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset
