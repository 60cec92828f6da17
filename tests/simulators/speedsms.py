"""SpeedSMS on loopback: ``/index.php/sms/send`` with Basic auth, JSON reports to a webhook."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import requests

from simulators.base import Request
from simulators.base import Response
from simulators.base import Simulator

SEND_PATH = "/index.php/sms/send"
PRICE_PER_PART = 250


@dataclass
class Sent:
    tran_id: int
    phone: str
    content: str
    sms_type: int
    sender: str


class SpeedSmsSimulator(Simulator):
    def __init__(self, access_token: str = "speed-token") -> None:
        self.access_token = access_token
        self.webhook_url: str | None = None
        self.sent: list[Sent] = []
        self._pending: list[Sent] = []
        self._next_id = 840000
        super().__init__()

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != SEND_PATH:
            return Response(404, {"status": "error", "code": "404", "message": "not found"})
        expected = "Basic " + base64.b64encode(f"{self.access_token}:x".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response(401, {"status": "error", "code": "401", "message": "Unauthorized"})
        outcome = self.next_outcome()
        if outcome == "transient":
            return Response(200, {"status": "error", "code": "500", "message": "internal error"})
        if outcome == "http503":
            return Response(503, {"status": "error", "code": "503", "message": "unavailable"})
        if outcome == "permanent":
            return Response(200, {"status": "error", "code": "300", "message": "not enough money"})
        body = request.json() or {}
        phones = body.get("to") or []
        invalid = [p for p in phones if not re.fullmatch(r"84\d{9}", str(p))]
        if invalid or not phones:
            return Response(
                200,
                {
                    "status": "error",
                    "code": "105",
                    "message": "invalid phone",
                    "invalidPhone": invalid,
                },
            )
        self._next_id += 1
        parts = max(1, -(-len(body.get("content", "")) // 153))
        sent = Sent(
            self._next_id,
            phones[0],
            body.get("content", ""),
            body.get("sms_type"),
            body.get("sender", ""),
        )
        self.sent.append(sent)
        self._pending.append(sent)
        return Response(
            200,
            {
                "status": "success",
                "code": "00",
                "data": {
                    "tranId": sent.tran_id,
                    "totalSMS": parts,
                    "totalPrice": PRICE_PER_PART * parts,
                    "invalidPhone": [],
                },
            },
        )

    def deliver_receipts(self, status: int = 0) -> list[int]:
        """Post a report for every accepted message (0 delivered, 1-63 trying, 64+ failed)."""
        pending, self._pending = self._pending, []
        return [
            requests.post(
                self.webhook_url,
                json={
                    "type": "report",
                    "tranId": sent.tran_id,
                    "phone": sent.phone,
                    "status": status,
                },
                timeout=10,
            ).status_code
            for sent in pending
        ]

    def send_reply(self, phone: str, content: str) -> int:
        """A person texts the merchant's number; SpeedSMS forwards it to the webhook."""
        return requests.post(
            self.webhook_url,
            json={"type": "incoming", "phone": phone, "content": content},
            timeout=10,
        ).status_code
