"""Brevo on loopback: ``POST /v3/smtp/email`` with the ``api-key`` header, and its webhooks.

Answers as Brevo's transactional API does (201 with ``messageId``; 400, 401,
402 with ``code`` and ``message``); a send whose ``headers.idempotencyKey``
was seen before is processed once: the first answer again, nothing sent. The
outcome ``lost_answer`` sends the e-mail and answers 503, as when the answer
is lost on the way back. It posts transactional webhook events
(``delivered``, ``hard_bounce``, ``spam``, ``unsubscribed``...) with the
bearer token the webhook was created with.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import requests

from simulators.base import Request
from simulators.base import Response
from simulators.base import Simulator

SEND_PATH = "/v3/smtp/email"


@dataclass
class Sent:
    message_id: str
    body: dict[str, Any]

    @property
    def to(self) -> str:
        return self.body["to"][0]["email"]

    @property
    def reference(self) -> str:
        return self.body.get("headers", {}).get("X-Mailin-custom", "")


class BrevoSimulator(Simulator):
    def __init__(self, api_key: str = "xkeysib-test", webhook_token: str = "brevo-hook") -> None:
        self.api_key = api_key
        self.webhook_token = webhook_token
        self.webhook_url: str | None = None
        self.sent: list[Sent] = []
        self._answered: dict[str, str] = {}
        self._ids = itertools.count(1)
        super().__init__()

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != SEND_PATH:
            return Response(404, {"code": "not_found", "message": "Not found"})
        if request.headers.get("api-key") != self.api_key:
            return Response(401, {"code": "unauthorized", "message": "Key not found"})
        outcome = self.next_outcome()
        if outcome == "transient":
            return Response(429, {"code": "too_many_requests", "message": "Rate limit"})
        if outcome == "permanent":
            return Response(402, {"code": "not_enough_credits", "message": "Not enough credits"})
        body = request.json() or {}
        if not body.get("to") or not body.get("sender") or not body.get("subject"):
            return Response(400, {"code": "missing_parameter", "message": "to, sender, subject"})
        if not (body.get("htmlContent") or body.get("textContent")):
            return Response(400, {"code": "missing_parameter", "message": "content is missing"})
        key = str((body.get("headers") or {}).get("idempotencyKey") or "")
        if key and key in self._answered:
            return Response(201, {"messageId": self._answered[key]})
        sent = Sent(f"<{next(self._ids):012d}.{int(time.time())}@smtp-relay.mailin.fr>", body)
        self.sent.append(sent)
        if key:
            self._answered[key] = sent.message_id
        if outcome == "lost_answer":
            return Response(503, {"code": "service_unavailable", "message": "Upstream timeout"})
        return Response(201, {"messageId": sent.message_id})

    def event(self, name: str, sent: Sent, *, token: str | None = None, **extra: Any) -> int:
        """Post one transactional webhook event about ``sent`` to the webhook URL."""
        now = int(time.time())
        payload = {
            "event": name,
            "email": sent.to,
            "id": 4242,
            "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
            "ts": now,
            "message-id": sent.message_id,
            "ts_event": now,
            "subject": sent.body.get("subject"),
            "X-Mailin-custom": sent.reference,
            "sending_ip": "185.41.28.109",
            "ts_epoch": now * 1000,
            "tags": sent.body.get("tags", []),
            **extra,
        }
        headers = {"Authorization": f"Bearer {token or self.webhook_token}"}
        return requests.post(
            self.webhook_url, json=payload, headers=headers, timeout=10
        ).status_code
