"""Twilio on loopback: the Messages resource, and status callbacks signed as Twilio signs them.

Errors come as Twilio's JSON (``{"code", "message", "more_info", "status"}``):
21211 invalid To, 21610 unsubscribed recipient, 20429 too many requests,
20003 bad credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

import requests

from simulators.base import Request
from simulators.base import Response
from simulators.base import Simulator


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's signing rule, written out on its own: URL, then each sorted name and value."""
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(
        hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()


@dataclass
class Sent:
    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None


def _error(status: int, code: int, message: str) -> Response:
    return Response(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


class TwilioSimulator(Simulator):
    def __init__(
        self, account_sid: str = "AC" + "1" * 32, auth_token: str = "twilio-token"
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sent: list[Sent] = []
        self._pending: list[Sent] = []
        super().__init__()

    def handle(self, request: Request) -> Response:
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if request.method != "POST" or request.path != path:
            return _error(404, 20404, "The requested resource was not found")
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if request.headers.get("Authorization") != expected:
            return _error(401, 20003, "Authenticate")
        outcome = self.next_outcome()
        if outcome == "transient":
            return _error(429, 20429, "Too Many Requests")
        if outcome == "http503":
            return _error(503, 20503, "Service Unavailable")
        if outcome == "unsubscribed":
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if not re.fullmatch(r"\+\d{8,15}", form.get("To", "")) or outcome == "permanent":
            return _error(
                400, 21211, f"The 'To' number {form.get('To')} is not a valid phone number."
            )
        sent = Sent(
            sid="SM" + uuid.uuid4().hex,
            to=form["To"],
            sender=form.get("From") or form.get("MessagingServiceSid", ""),
            body=form.get("Body", ""),
            status_callback=form.get("StatusCallback"),
        )
        self.sent.append(sent)
        self._pending.append(sent)
        return Response(
            201,
            {
                "sid": sent.sid,
                "account_sid": self.account_sid,
                "to": sent.to,
                "from": sent.sender,
                "body": sent.body,
                "status": "queued",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
            },
        )

    def deliver_receipts(
        self, status: str = "delivered", error_code: str | None = None
    ) -> list[int]:
        """POST a signed status callback for every accepted message."""
        pending, self._pending = self._pending, []
        codes = []
        for sent in pending:
            params = {
                "MessageSid": sent.sid,
                "SmsSid": sent.sid,
                "AccountSid": self.account_sid,
                "From": sent.sender,
                "To": sent.to,
                "MessageStatus": status,
                "SmsStatus": status,
                "ApiVersion": "2010-04-01",
            }
            if error_code:
                params["ErrorCode"] = error_code
            codes.append(self.post_signed(sent.status_callback, params))
        return codes

    def post_signed(self, url: str, params: dict[str, str], *, token: str | None = None) -> int:
        signature = twilio_signature(token or self.auth_token, url, params)
        return requests.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        ).status_code

    def send_reply(self, url: str, sender: str, body: str) -> int:
        """A person texts the merchant's Twilio number; Twilio forwards it to the inbound URL."""
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": self.account_sid,
            "From": sender,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
        }
        if body.strip().upper() == "STOP":
            params["OptOutType"] = "STOP"
        return self.post_signed(url, params)
