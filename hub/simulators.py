"""Serve a platform simulator's WSGI app on loopback, in a thread or in the foreground.

Every store simulator (Shopify, Haravan, KiotViet, a third platform) is a WSGI app that
speaks the platform's real protocol; this is the one place that puts such an app on a
port. ``start`` picks a free port when given 0 and answers the base URL.
``ServiceSimulator`` is the base of a simulated outside service (an SMS gateway,
a CRM): it records the requests it gets, answers through ``handle`` unless a
test scripted another answer or a failure, and posts callbacks to the hub.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from typing import Self
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server


class LoopbackServer:
    """A WSGI app served on ``host:port`` by a threaded server.

    While started, ``url`` is the base URL (``http://127.0.0.1:PORT``) and ``port`` the
    bound port; ``stop`` closes the socket and may be called any number of times.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.url = ""
        self.port = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; answer the base URL."""
        self.server = make_server(host, port, self.app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        # A short poll interval: ``stop`` waits at most this long for the serving loop.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def serve_forever(self, host: str, port: int) -> None:
        """Serve in the calling thread until interrupted (``hub simulate NAME``)."""
        self.port = port
        self.url = f"http://{host}:{port}"
        make_server(host, port, self.app, threaded=True).serve_forever()


class StoreSimulator(LoopbackServer):
    """A simulated store: its customers and orders, the tokens it issued, what it delivered.

    A platform simulator subclasses it with its protocol (its WSGI app, its payload
    shapes, its signatures) and keeps here what every store keeps: ``customers`` and
    ``orders`` by id, ``tokens`` and OAuth ``codes``, ``discounts`` and ``script_tags``,
    the API ``calls`` it answered and every webhook delivery with the hub's answer
    (``deliveries``). ``send(topic, payload)`` is the platform's webhook delivery.
    """

    #: Seconds the store waits for the hub to answer a webhook, as the platform does.
    #: Tests on a loaded machine, where processing runs inline, may raise it.
    delivery_timeout: float = 5.0

    def __init__(self, app: Any, *, first_id: int) -> None:
        self.lock = threading.RLock()
        self.ids = itertools.count(first_id)
        self.codes: dict[str, Any] = {}
        self.tokens: set[str] = set()
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.discounts: dict[str, dict[str, Any]] = {}
        self.script_tags: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.calls: list[str] = []
        super().__init__(app)

    def send(self, topic: str, payload: Any, **how: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def keep_customer(self, customer: dict[str, Any], *, notify: bool) -> dict[str, Any]:
        """Store a new customer; with ``notify``, send ``customers/create``."""
        with self.lock:
            self.customers[customer["id"]] = customer
        if notify:
            self.send("customers/create", customer)
        return customer

    def keep_order(self, order: dict[str, Any], *, notify: bool) -> dict[str, Any]:
        """Store a new order; with ``notify``, send ``orders/create`` (and ``orders/paid``)."""
        with self.lock:
            self.orders[order["id"]] = order
        if notify:
            self.send("orders/create", order)
            if order.get("financial_status") == "paid":
                self.send("orders/paid", order)
        return order

    def post_delivery(
        self, url: str, topic: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        """POST one webhook delivery to the hub; record and answer the hub's status."""
        try:
            response = requests.post(url, data=body, headers=headers, timeout=self.delivery_timeout)
            status: int | str = response.status_code
        except requests.RequestException as exc:
            status = f"error: {exc}"
        record = {"topic": topic, "url": url, "status": status}
        with self.lock:
            self.deliveries.append(record)
        return record


def body_signature(key: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 of ``body`` under ``key``, as store webhooks are signed."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class SimulatedRequest:
    """One HTTP request an outside service's simulator received, as it arrived."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body read as JSON (None for an empty body)."""
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        """The body read as a form (``application/x-www-form-urlencoded``)."""
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class SimulatedResponse:
    """What a simulator answers: a status, a body (JSON-encoded unless bytes), headers."""

    status: int
    body: Any = None
    headers: dict[str, str] | None = None

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


#: A scripted answer that closes the connection without a word, as a crashed service does.
DROP = "drop"

#: A scripted answer: a whole response, or ``DROP``.
Scripted = SimulatedResponse | str


class ServiceSimulator:
    """An outside service on a free loopback port, started at once; subclass ``handle``.

    ``requests`` lists every request received. ``script(*outcomes)`` queues
    names of outcomes (``"transient"``, ``"permanent"``, what your ``handle``
    understands) that the next calls get instead of ``"ok"`` from
    ``next_outcome()``, one each; ``answer_next(*responses)`` queues whole
    answers that replace ``handle`` for the next requests (a
    ``SimulatedResponse``, or ``DROP``: the connection is closed without an
    answer). ``call_back(url, ...)`` posts to the hub as the service would
    (signed by ``callback_headers``) and records the hub's status in
    ``callbacks``. Close it with ``close()`` (or use it as a context manager).

    It is served by the standard library's HTTP server, not a WSGI one: services
    such as Zalo put underscores in header names (``access_token``), which WSGI
    servers drop.
    """

    def __init__(self) -> None:
        self.requests: list[SimulatedRequest] = []
        self.callbacks: list[dict[str, Any]] = []
        self._script: deque[str] = deque()
        self._answers: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: SimulatedRequest) -> SimulatedResponse:
        """Answer one request as the service does; ``next_outcome()`` says how."""
        raise NotImplementedError

    def script(self, *outcomes: str) -> None:
        with self._lock:
            self._script.extend(outcomes)

    def next_outcome(self) -> str:
        with self._lock:
            return self._script.popleft() if self._script else "ok"

    def answer_next(self, *answers: Scripted) -> None:
        with self._lock:
            self._answers.extend(answers)

    def requests_to(self, path: str) -> list[SimulatedRequest]:
        """The requests received on ``path``, oldest first."""
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def callback_headers(self, body: bytes) -> dict[str, str]:
        """Headers that sign a callback's ``body`` as the service does (none by default)."""
        return {}

    def call_back(
        self,
        url: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        method: str = "POST",
    ) -> int:
        """Call the hub at ``url`` as the service would; answer the hub's HTTP status."""
        if form is not None:
            body = urlencode(form).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = b"" if json_body is None else json.dumps(json_body).encode()
            content_type = "application/json"
        sent = {"Content-Type": content_type, **self.callback_headers(body), **(headers or {})}
        response = requests.request(method, url, data=body, headers=sent, timeout=10)
        with self._lock:
            self.callbacks.append({"url": url, "status": response.status_code, "body": body})
        return response.status_code

    def _receive(self, request: SimulatedRequest) -> Scripted:
        with self._lock:
            self.requests.append(request)
            scripted = self._answers.popleft() if self._answers else None
        return scripted if scripted is not None else self.handle(request)


def _handler_for(simulator: ServiceSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            answer = simulator._receive(
                SimulatedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
            )
            if not isinstance(answer, SimulatedResponse):  # DROP: hang up without a word
                self.close_connection = True
                return
            payload = answer.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            for name, value in (answer.headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
