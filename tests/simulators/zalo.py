"""Zalo on loopback: ZNS ``/message/template``, the OA token endpoint, signed webhook events.

Access tokens expire; a refresh token works once and answers -14020 when
used again, as Zalo's does. ``hold_refresh`` keeps a refresh call waiting
(up to the given seconds) for a second refresh to arrive, so a test can see
whether two workers ever refresh at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import requests

from simulators.base import Request
from simulators.base import Response
from simulators.base import Simulator


@dataclass
class Sent:
    msg_id: str
    phone: str
    template_id: str
    template_data: dict
    tracking_id: str


class ZaloSimulator(Simulator):
    def __init__(
        self,
        app_id: str = "2074138120372622546",
        app_secret: str = "zalo-app-secret",
        oa_secret_key: str = "zalo-oa-secret",
        templates: tuple[str, ...] = ("375847",),
    ) -> None:
        self.app_id, self.app_secret, self.oa_secret_key = app_id, app_secret, oa_secret_key
        self.templates = set(templates)
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.used_refresh_tokens: set[str] = set()
        self.refresh_calls = 0
        self.refresh_reuses = 0
        self.no_zalo: set[str] = set()
        self.webhook_url: str | None = None
        self.sent: list[Sent] = []
        self._pending: list[Sent] = []
        self._hold = 0.0
        self._arrived = threading.Condition()
        self._in_refresh = 0
        super().__init__()

    def issue_tokens(self, *, expires_in: float = 90000) -> tuple[str, str]:
        """Authorize the OA: a fresh (access, refresh) pair, as the OAuth flow ends."""
        access, refresh = "at-" + uuid.uuid4().hex, "rt-" + uuid.uuid4().hex
        self.access_tokens[access] = time.time() + expires_in
        self.refresh_tokens.add(refresh)
        return access, refresh

    def expire(self, access_token: str) -> None:
        self.access_tokens[access_token] = 0

    def hold_refresh(self, seconds: float) -> None:
        self._hold = seconds

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/v4/oa/access_token":
            return self._token(request)
        if request.method == "POST" and request.path == "/message/template":
            return self._send(request)
        return Response(404, {"error": -404, "message": "not found"})

    def _token(self, request: Request) -> Response:
        with self._arrived:
            self.refresh_calls += 1
            self._in_refresh += 1
            self._arrived.notify_all()
            if self._hold:
                # Wait for a concurrent refresh, if there is one coming.
                self._arrived.wait_for(lambda: self._in_refresh > 1, timeout=self._hold)
        try:
            return self._refresh(request)
        finally:
            with self._arrived:
                self._in_refresh -= 1

    def _refresh(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if (
            request.headers.get("secret_key") != self.app_secret
            or form.get("app_id") != self.app_id
        ):
            return Response(
                200,
                {
                    "error": -14002,
                    "error_name": "Invalid app",
                    "error_description": "app_id or secret_key is invalid",
                },
            )
        token = form.get("refresh_token", "")
        with self._lock:
            if form.get("grant_type") != "refresh_token" or token not in self.refresh_tokens:
                if token in self.used_refresh_tokens:
                    self.refresh_reuses += 1
                return Response(
                    200,
                    {
                        "error": -14020,
                        "error_name": "Invalid refresh token",
                        "error_description": "Refresh token is invalid or used",
                    },
                )
            self.refresh_tokens.discard(token)
            self.used_refresh_tokens.add(token)
        access, refresh = self.issue_tokens()
        return Response(
            200, {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        )

    def _send(self, request: Request) -> Response:
        token = request.headers.get("access_token", "")
        if self.access_tokens.get(token, 0) < time.time():
            return Response(200, {"error": -216, "message": "Access token is invalid"})
        outcome = self.next_outcome()
        if outcome == "transient":
            return Response(200, {"error": -32, "message": "Exceeded the request limit"})
        if outcome == "http500":
            return Response(500, {"error": -500, "message": "Internal error"})
        body = request.json() or {}
        phone = str(body.get("phone", ""))
        if not re.fullmatch(r"84\d{9}", phone):
            return Response(200, {"error": -108, "message": "Phone number is invalid"})
        if str(body.get("template_id")) not in self.templates or outcome == "permanent":
            return Response(200, {"error": -1124, "message": "Template is invalid or not approved"})
        if phone in self.no_zalo:
            return Response(200, {"error": -118, "message": "Zalo account not existed"})
        sent = Sent(
            msg_id=uuid.uuid4().hex[:20],
            phone=phone,
            template_id=str(body["template_id"]),
            template_data=body.get("template_data") or {},
            tracking_id=str(body.get("tracking_id", "")),
        )
        self.sent.append(sent)
        self._pending.append(sent)
        return Response(
            200,
            {
                "error": 0,
                "message": "Success",
                "data": {
                    "msg_id": sent.msg_id,
                    "sent_time": str(int(time.time() * 1000)),
                    "quota": {"dailyQuota": "500", "remainingQuota": "499"},
                },
            },
        )

    def event_body(self, sent: Sent, event_name: str = "user_received_message") -> bytes:
        now = int(time.time() * 1000)
        return json.dumps(
            {
                "sender": {"id": "2893352839501541173"},
                "recipient": {"id": sent.phone},
                "event_name": event_name,
                "message": {
                    "delivery_time": str(now),
                    "msg_id": sent.msg_id,
                    "tracking_id": sent.tracking_id,
                },
                "app_id": self.app_id,
                "timestamp": str(now + 5),
            }
        ).encode()

    def follower_event(self, event_name: str, user_id: str, **fields: Any) -> bytes:
        """An Official Account event from a follower (``user_send_text``, ``user_submit_info``)."""
        now = int(time.time() * 1000)
        return json.dumps(
            {
                "app_id": self.app_id,
                "user_id_by_app": f"app-{user_id}",
                "event_name": event_name,
                "timestamp": str(now),
                "sender": {"id": user_id},
                "recipient": {"id": "579745863508352884"},
                **fields,
            },
            ensure_ascii=False,
        ).encode()

    def follower_says(self, user_id: str, text: str) -> int:
        """A follower writes to the OA; Zalo posts the signed ``user_send_text`` event."""
        body = self.follower_event(
            "user_send_text", user_id, message={"text": text, "msg_id": f"m{time.time_ns()}"}
        )
        return self.post_event(body, self.sign(body))

    def follower_shares(self, user_id: str, phone: str, name: str = "Lan") -> int:
        """A follower fills the OA's request for their info; Zalo posts ``user_submit_info``."""
        info = {"name": name, "phone": phone, "address": "", "city": "", "district": ""}
        body = self.follower_event("user_submit_info", user_id, info=info)
        return self.post_event(body, self.sign(body))

    def sign(self, body: bytes, *, key: str | None = None) -> str:
        """``mac=`` SHA-256 of app id, body, the body's timestamp and the OA secret key."""
        timestamp = json.loads(body)["timestamp"]
        data = (
            self.app_id.encode() + body + timestamp.encode() + (key or self.oa_secret_key).encode()
        )
        return "mac=" + hashlib.sha256(data).hexdigest()

    def deliver_receipts(self) -> list[int]:
        """POST a signed ``user_received_message`` event per accepted message to the webhook."""
        pending, self._pending = self._pending, []
        codes = []
        for sent in pending:
            body = self.event_body(sent)
            codes.append(self.post_event(body, self.sign(body)))
        return codes

    def post_event(self, body: bytes, signature: str) -> int:
        headers = {
            "Content-Type": "application/json",
            "X-ZEvent-Signature": signature,
            "X-ZEvent-Server": "ZNS",
        }
        return requests.post(self.webhook_url, data=body, headers=headers, timeout=10).status_code
