"""A TLS front for a plain-HTTP test server, as a reverse proxy would put before Danbyte:
the certificate comes from a throwaway trustme CA, so a client that validates must be
given that CA, and one that does not validate connects anyway."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import trustme


def _read_request(source: socket.socket) -> bytes:
    """One HTTP request: its head, then as many body bytes as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = source.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (chunk := source.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def tls_front(upstream: str, ca_dir: Path) -> Iterator[tuple[str, Path]]:
    """(https base URL forwarding to ``upstream``, the CA's PEM file) while the block runs."""
    ca = trustme.CA()
    ca_file = ca_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    target = urlsplit(upstream)
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    def handle(client: socket.socket) -> None:
        try:
            secured = context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):  # the client refused our certificate: its choice
            client.close()
            return
        # One request per connection (urllib sends Connection: close): read it whole, pass
        # it on, send back everything the server answers until it closes.
        with secured, socket.create_connection((target.hostname, target.port)) as backend:
            with suppress(OSError):
                backend.sendall(_read_request(secured))
                while chunk := backend.recv(65536):
                    secured.sendall(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", ca_file
    finally:
        stopping.set()
        listener.close()
        thread.join(timeout=5)
