"""A KiotViet stand-in on 127.0.0.1: token endpoint, webhook registration, signed notifications.

For the hub's tests and for trying the connector without a KiotViet shop. It
speaks the Public API guide v1.4's protocol over real HTTP:

* ``POST /connect/token`` (form: scopes, grant_type, client_id, client_secret)
  answers ``{"access_token", "expires_in", "token_type": "Bearer"}``;
* ``GET|POST /webhooks`` and ``DELETE /webhooks/<id>`` need ``Retailer`` and a
  live ``Authorization: Bearer`` token, else 401;
* ``notify(action, data)`` posts ``{"Id", "Attempt", "Notifications": [{"Action",
  "Data"}]}`` to the URL registered for ``action``, signed in ``X-Hub-Signature``
  with the registration's ``Secret`` in one of the variants the hub accepts;
  ``resend`` repeats a notification (KiotViet retrying, ``Attempt`` + 1) and
  ``forge`` signs with a key that is not the shop's.

Point the hub at it with ``HUB_PLUGINS_CONFIG={"kiotviet": {"token_url":
sim.token_url, "api_url": sim.url}}``; ``connectors.kiotviet.payloads`` makes
the notifications' data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import requests

ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


class _Server(ThreadingHTTPServer):
    simulator: KiotVietSimulator


@dataclass
class Delivery:
    """One notification the simulator sent, and what the hub answered."""

    url: str
    body: bytes
    headers: dict[str, str]
    variant: str
    status: int
    answer: Any = None


@dataclass
class Shop:
    """The simulated shop's state, shared with the request handler thread."""

    retailer: str
    client_id: str
    client_secret: str
    expires_in: int
    tokens: dict[str, float] = field(default_factory=dict)
    token_requests: int = 0
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Any = field(default_factory=lambda: itertools.count(1001))


class KiotVietSimulator:
    """Run with ``with KiotVietSimulator() as sim:``; ``sim.url`` is its base URL."""

    #: Seconds the shop waits for the hub to answer a notification.
    #: Tests on a loaded machine, where processing runs inline, may raise it.
    delivery_timeout: float = 10.0

    def __init__(
        self,
        *,
        retailer: str = "hoamai",
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",
        expires_in: int = 86400,
        token_delay: float = 0.0,
    ) -> None:
        self.shop = Shop(retailer, client_id, client_secret, expires_in)
        self.token_delay = token_delay
        self.deliveries: list[Delivery] = []
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.simulator = self
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.token_url = f"{self.url}/connect/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> KiotVietSimulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the shop's side ------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Make every token issued so far stale, as KiotViet does after ``expires_in``."""
        with self.shop.lock:
            self.shop.tokens = dict.fromkeys(self.shop.tokens, 0.0)

    def registration(self, action: str) -> dict[str, Any]:
        with self.shop.lock:
            for webhook in self.shop.webhooks.values():
                if webhook["Type"] == action and webhook["IsActive"]:
                    return webhook
        raise LookupError(f"no webhook registered for {action}")

    def notify(
        self,
        action: str,
        data: list[dict[str, Any]] | dict[str, Any],
        *,
        delivery_id: str | None = None,
        attempt: int = 1,
        variant: str = "sha256:secret",
        prefix: bool = True,
    ) -> Delivery:
        """Send one notification the way KiotViet does, signed with the shop's secret."""
        webhook = self.registration(action)
        envelope = {
            "Id": delivery_id or uuid.uuid4().hex,
            "Attempt": attempt,
            "Notifications": [{"Action": action, "Data": data}],
        }
        body = json.dumps(envelope, ensure_ascii=False).encode()
        key = _signing_key(webhook["Secret"], variant.split(":")[1])
        return self._post(webhook["Url"], body, _signature(key, body, variant, prefix), variant)

    def resend(self, delivery: Delivery, *, attempt: int | None = None) -> Delivery:
        """KiotViet retrying: the same ``Id``; with ``attempt``, a new body, signed again."""
        signature = delivery.headers["X-Hub-Signature"]
        if attempt is None:
            return self._post(delivery.url, delivery.body, signature, delivery.variant)
        envelope = json.loads(delivery.body)
        envelope["Attempt"] = attempt
        body = json.dumps(envelope, ensure_ascii=False).encode()
        webhook = self.registration(envelope["Notifications"][0]["Action"])
        key = _signing_key(webhook["Secret"], delivery.variant.split(":")[1])
        signed = _signature(key, body, delivery.variant, "=" in signature)
        return self._post(delivery.url, body, signed, delivery.variant)

    def forge(
        self, action: str, data: list[dict[str, Any]], *, variant: str = "sha256:secret"
    ) -> Delivery:
        """A notification from someone who does not have the shop's secret."""
        webhook = self.registration(action)
        notification = {"Action": action, "Data": data}
        envelope = {"Id": uuid.uuid4().hex, "Attempt": 1, "Notifications": [notification]}
        body = json.dumps(envelope, ensure_ascii=False).encode()
        key = secrets.token_bytes(24)
        return self._post(webhook["Url"], body, _signature(key, body, variant, True), variant)

    def tamper(self, delivery: Delivery, body: bytes) -> Delivery:
        """The signature of one notification on another body."""
        signature = delivery.headers["X-Hub-Signature"]
        return self._post(delivery.url, body, signature, delivery.variant)

    def _post(self, url: str, body: bytes, signature: str, variant: str) -> Delivery:
        headers = {"Content-Type": "application/json", "X-Hub-Signature": signature}
        response = requests.post(url, data=body, headers=headers, timeout=self.delivery_timeout)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        delivery = Delivery(url, body, headers, variant, response.status_code, answer)
        self.deliveries.append(delivery)
        return delivery

    # -- the API's side --------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """KiotViet's side of the simulator: the token endpoint and webhook registrations."""

    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorised(self) -> bool:
        shop = self.server.simulator.shop
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        with shop.lock:
            live = shop.tokens.get(token, 0.0) > time.time()
        if scheme != "Bearer" or not live or self.headers.get("Retailer") != shop.retailer:
            status = {"ErrorCode": "Unauthorized", "Message": "token"}
            self._send(401, {"ResponseStatus": status})
            return False
        return True

    def do_POST(self) -> None:
        if self.path == "/connect/token":
            self._token()
        elif self.path == "/webhooks" and self._authorised():
            self._register()
        elif self.path not in ("/connect/token", "/webhooks"):
            self._send(404, {"error": "not found"})

    def do_GET(self) -> None:
        if self.path.startswith("/webhooks") and self._authorised():
            with self.server.simulator.shop.lock:
                data = [_shown(w) for w in self.server.simulator.shop.webhooks.values()]
            self._send(200, {"total": len(data), "pageSize": 100, "data": data})

    def do_DELETE(self) -> None:
        if self.path.startswith("/webhooks/") and self._authorised():
            with self.server.simulator.shop.lock:
                self.server.simulator.shop.webhooks.pop(int(self.path.rsplit("/", 1)[1]), None)
            self._send(200, {"message": "deleted"})

    def _token(self) -> None:
        form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
        shop = self.server.simulator.shop
        with shop.lock:
            shop.token_requests += 1
        time.sleep(self.server.simulator.token_delay)
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("scopes") != "PublicApi.Access"
            or form.get("client_id") != shop.client_id
            or form.get("client_secret") != shop.client_secret
        ):
            self._send(400, {"error": "invalid_client"})
            return
        token = secrets.token_urlsafe(24)
        with shop.lock:
            shop.tokens[token] = time.time() + shop.expires_in
        self._send(
            200,
            {"access_token": token, "expires_in": shop.expires_in, "token_type": "Bearer"},
        )

    def _register(self) -> None:
        try:
            webhook = json.loads(self._body())["Webhook"]
            kind, url = webhook["Type"], webhook["Url"]
        except (ValueError, KeyError, TypeError):
            self._send(400, {"ResponseStatus": {"ErrorCode": "BadRequest"}})
            return
        shop = self.server.simulator.shop
        with shop.lock:
            webhook_id = next(shop.ids)
            shop.webhooks[webhook_id] = {
                "Id": webhook_id,
                "Type": kind,
                "Url": url,
                "IsActive": bool(webhook.get("IsActive", True)),
                "Description": webhook.get("Description", ""),
                "Secret": webhook.get("Secret") or "",
            }
            shown = _shown(shop.webhooks[webhook_id])
        self._send(200, shown)


def _shown(webhook: dict[str, Any]) -> dict[str, Any]:
    """A registration as KiotViet answers it: camelCase, no secret, the retailer's id."""
    return {
        "id": webhook["Id"],
        "type": webhook["Type"],
        "url": webhook["Url"],
        "isActive": webhook["IsActive"],
        "description": webhook["Description"],
        "retailerId": 500123,
    }


def _signing_key(registered: str, kind: str) -> bytes:
    """A variant's key: the merchant's secret (``Secret`` decoded) or ``Secret`` itself."""
    if kind == "base64":
        return registered.encode()
    return base64.b64decode(registered)


def _signature(key: bytes, body: bytes, variant: str, prefix: bool) -> str:
    algorithm = variant.split(":")[0]
    digest = hmac.new(key, body, ALGORITHMS[algorithm]).hexdigest()
    return f"{algorithm}={digest}" if prefix else digest
