"""The ``zalo`` gateway: ZNS template messages from a Zalo Official Account, and their receipts.

Connection settings: ``app_id`` (the Zalo app the OA authorized),
``mode`` (``development`` sends only to the app's admins), ``price`` (what
one ZNS costs, for the daily budget). The hub calls only ``BASE_URL`` and
``tokens.OAUTH_URL``; an operator may point them at a simulator with
``HUB_PLUGINS_CONFIG["zalo"]`` ``base_url`` and ``oauth_url``, never a merchant.
Secrets: ``app_secret``, ``oa_secret_key`` (signs webhook events),
``access_token``, ``refresh_token`` and ``access_token_expires_at`` (or an
``authorization_code`` and its ``code_verifier`` to exchange once).

Send and token calls as widely used client code has them (header
``access_token``, body ``phone``/``template_id``/``template_data``/
``tracking_id``; success is ``error`` 0, failures come as HTTP 200 with a
negative ``error``). An expired token answers HTTP 401 or error -216 (-124
in some replies): the token is refreshed and the send tried once more.
Error -32 (too many requests) is transient; every other negative error is
permanent, so the merchant's next channel (SMS) takes over, which is what a
member without Zalo (error -118) needs. Receipts: Zalo's webhook event
``user_received_message``, signed with ``X-ZEvent-Signature``.

Opt-out replies: the Official Account's webhook events, signed the same
way, come to the same URL. Zalo names a follower by its own user id, not a
phone, so a reply is tied to a member in two steps: ``user_submit_info``
(the follower shared their phone with the OA) links the member with that
phone to the user id; a later ``user_send_text`` of STOP, TC, "Từ chối"...
from that user id opts the member's phone out of the Zalo channel. A reply
from a follower who never shared their phone changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.zalo import signature
from connectors.zalo import tokens
from connectors.zalo.settings import ZaloSecretsSchema
from connectors.zalo.settings import ZaloSettingsSchema
from hub import DeliveryReceipt
from hub import GatewayConnector
from hub import InboundMessage
from hub import PermanentError
from hub import RetryLater
from hub import SendResult
from hub import SharedContact
from hub import Unauthorized
from hub import connection_secrets
from hub import hookimpl
from hub import transient_status

NAME = "zalo"
BASE_URL = "https://business.openapi.zalo.me"
SEND = "/message/template"
TOKEN_REJECTED = {-216, -124}
TRANSIENT = frozenset({"-32"})
RECEIVED_EVENTS = {"user_received_message", "user_seen_message"}
#: Official Account events from followers: a text they sent, the contact they shared.
FOLLOWER_EVENTS = {"user_send_text", "user_submit_info"}


class ZaloGateway(GatewayConnector):
    """ZNS template messages from a Zalo Official Account, with signed receipts."""

    name = NAME
    title = "Zalo ZNS"
    description = "Zalo template notifications (ZNS) to members' phone numbers."
    settings_schema = ZaloSettingsSchema
    secrets_schema = ZaloSecretsSchema
    channels = ("zalo",)
    base_url = BASE_URL
    transient_codes = TRANSIENT

    def send(self, hub, connection, message):
        if not message.template_id:
            raise PermanentError(
                "Zalo sends ZNS template messages only; set the kind's ZNS template"
            )
        body: dict[str, Any] = {
            "phone": self.vietnamese_number(message.to),
            "template_id": message.template_id,
            "template_data": message.template_data,
            "tracking_id": message.reference,
        }
        if (connection.settings or {}).get("mode") == "development":
            body["mode"] = "development"
        token = tokens.access_token(hub, connection)
        status, answer = self._post(hub, token, body)
        if _token_rejected(status, answer):
            token = tokens.access_token(hub, connection, rejected=token)
            status, answer = self._post(hub, token, body)
            if _token_rejected(status, answer):
                raise RetryLater("Zalo refused a freshly refreshed access token")
        return self._result(status, answer)

    def _post(self, hub, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.post(
            hub,
            self.url(hub, SEND),
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"access_token": token, "Content-Type": "application/json"},
        )
        return response.status_code, self.lenient_answer(response)

    def _result(self, status: int, answer: dict[str, Any]) -> SendResult:
        if transient_status(status):
            raise RetryLater(f"Zalo answered HTTP {status}")
        error = _error(answer)
        if status == 200 and error == 0:
            data = answer.get("data") or {}
            return SendResult(gateway_message_id=data.get("msg_id"))
        raise self.refused(
            error, f"Zalo error {error}: {answer.get('message', '')} (HTTP {status})"
        )

    def verify_callback(self, hub, connection, callback):
        app_id = str((connection.settings or {}).get("app_id") or "")
        key = connection_secrets(hub, connection).get("oa_secret_key", "")
        presented = callback.headers.get("X-ZEvent-Signature", "")
        if not signature.verify(app_id, key, callback.body, presented):
            raise Unauthorized("the X-ZEvent-Signature is missing or wrong")
        event = callback.json()
        if isinstance(event, dict) and str(event.get("app_id", app_id)) != app_id:
            raise Unauthorized("the event is for another Zalo app")

    def read_callback(self, hub, connection, callback):
        event = callback.json()
        if not isinstance(event, dict):
            return []
        name = event.get("event_name")
        if name in FOLLOWER_EVENTS:
            return _follower_items(event)
        if name not in RECEIVED_EVENTS:
            return []
        message = event.get("message") or {}
        return [
            DeliveryReceipt(
                status="delivered",
                gateway_message_id=message.get("msg_id"),
                reference=message.get("tracking_id"),
                at=self.moment(message.get("delivery_time"), millis=True),
            )
        ]


def _follower_items(event: dict[str, Any]) -> list[InboundMessage | SharedContact]:
    """A follower's text (a possible STOP) or the contact they shared, by their user id."""
    user_id = str((event.get("sender") or {}).get("id") or "")
    if not user_id:
        return []
    if event["event_name"] == "user_submit_info":
        phone = str((event.get("info") or {}).get("phone") or "")
        return [SharedContact(external_id=user_id, phone=phone)] if phone else []
    message = event.get("message") or {}
    return [
        InboundMessage(
            sender="",
            text=str(message.get("text") or ""),
            gateway_message_id=message.get("msg_id"),
            channel="zalo",
            external_id=user_id,
        )
    ]


def _token_rejected(status: int, answer: dict[str, Any]) -> bool:
    return status == 401 or _error(answer) in TOKEN_REJECTED


def _error(answer: dict[str, Any]) -> int | None:
    try:
        return int(answer.get("error"))
    except (TypeError, ValueError):
        return None


@hookimpl
def register_connectors(hub):
    return [ZaloGateway()]
