"""Serve a platform simulator's WSGI app on loopback, in a thread or in the foreground.

Every store simulator (Shopify, Haravan, KiotViet, a third platform) is a WSGI app that
speaks the platform's real protocol; this is the one place that puts such an app on a
port. ``start`` picks a free port when given 0 and answers the base URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
from typing import Any
from typing import Self

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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
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
