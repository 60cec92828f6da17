"""Test helpers for webhooks: the app on a real HTTP server, receivers, signing.

For the hub's tests and for connector authors who want to post real HTTP
deliveries to a running hub and watch what a merchant's endpoint receives.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import ssl
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server


def standard_signature(secret: str, message_id: str, timestamp: int | str, body: bytes) -> str:
    """Return ``v1,<base64>``: the Standard Webhooks signature of one message."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def standard_headers(
    secret: str, message_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """Return the three Standard Webhooks headers for ``body``, signed now."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": standard_signature(secret, message_id, ts, body),
        "Content-Type": "application/json",
    }


def new_test_secret(seed: str = "test") -> str:
    """Return a deterministic ``whsec_`` secret for tests."""
    return "whsec_" + base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class LiveServer:
    """Serve a WSGI app on 127.0.0.1 in a thread; ``url`` is its base URL."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None, *, settle: bool = True
    ) -> tuple[int, Any]:
        """POST ``body`` over a real connection; return the status and the parsed JSON.

        With ``settle`` it also waits until the drain its delivery asked for is
        queued (see ``settle``), so a test can look at the queue next.
        """
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if settle:
            self.settle()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, data

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the drains the app's deliveries asked for are queued (a few ms)."""
        if not self.app.extensions["hub"].jobs.settle(timeout):
            raise TimeoutError(f"drains still waiting to be queued after {timeout} s")


class Receiver:
    """A merchant's endpoint: records every request, answers as scripted.

    ``answers`` are used in order, the last one repeating; an answer may be a
    callable taking the request record and returning an ``Answer``.
    """

    def __init__(
        self,
        answers: list[Answer | Callable[[dict], Answer]] | None = None,
        *,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.answers = list(answers or [Answer(200, b"ok")])
        self.requests: list[dict[str, Any]] = []
        #: Server names the TLS clients asked for (SNI), when ``tls`` is given.
        self.server_names: list[str | None] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                record = {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.rfile.read(length),
                    "at": time.time(),
                }
                with receiver.lock:
                    receiver.requests.append(record)
                    index = min(len(receiver.requests), len(receiver.answers)) - 1
                    answer = receiver.answers[index]
                if callable(answer):
                    answer = answer(record)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.url = f"https://localhost:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_certificate(folder: Path, host: str = "localhost") -> tuple[str, str]:
    """Write a self-signed certificate and key for ``host``; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{host}.crt", folder / f"{host}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@contextmanager
def live_server(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
