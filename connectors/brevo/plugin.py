"""The ``brevo`` gateway: e-mail through Brevo's transactional API, and its webhooks.

Send: ``POST https://api.brevo.com/v3/smtp/email`` with the ``api-key``
header and a JSON body (``sender``, ``to``, ``subject``, ``htmlContent``,
``textContent``, ``headers``, ``tags``); Brevo answers 201 with the
``messageId`` (developers.brevo.com, "Send a transactional email"). The
hub's id goes in the ``X-Mailin-custom`` header, which Brevo echoes in its
webhook events, so an event names the message even before the send's answer
was recorded. 429 and 5xx are transient; 400, 401 and 402 (no credits) are
permanent.

Every attempt at one message carries the same ``idempotencyKey`` in
``headers`` (a UUID, as Brevo asks: developers.brevo.com, "Idempotency for
batch emails"): when Brevo accepted a send but its answer was lost (a
timeout, a 5xx from a proxy), the retry is processed once, not mailed twice.
Brevo keeps a key for 15 to 30 minutes; the hub's retries of a transient
failure come well within that.

Webhooks (transactional, one JSON event per call, or a list when batched):
Brevo signs nothing; the webhook is created with a bearer token
(``auth: {type: bearer, token}``), which must match the connection's
``webhook_token`` secret, on top of the hub's token in the URL. ``delivered``
marks the message delivered; ``hard_bounce``, ``invalid_email`` and
``blocked`` fail it and opt the address out; ``spam`` (a complaint) and
``unsubscribed`` opt it out. Set the webhook's URL to the connection's
receipts URL. An operator may point the hub at a simulator with
``HUB_PLUGINS_CONFIG["brevo"]["base_url"]``, never a merchant.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any

from connectors.brevo.settings import BrevoSecretsSchema
from connectors.brevo.settings import BrevoSettingsSchema
from hub import AddressOptOut
from hub import DeliveryReceipt
from hub import GatewayConnector
from hub import SendResult
from hub import Unauthorized
from hub import connection_secrets
from hub import hookimpl

NAME = "brevo"
BASE_URL = "https://api.brevo.com"
SEND = "/v3/smtp/email"
#: Events after which the address must get nothing more, and why, for the opt-out's source.
OPT_OUT = {
    "hard_bounce": "hard_bounce",
    "invalid_email": "invalid_email",
    "blocked": "blocked",
    "spam": "complaint",
    "unsubscribed": "unsubscribed",
}
FAILED = {"hard_bounce", "invalid_email", "blocked", "error"}


class BrevoGateway(GatewayConnector):
    """E-mail through Brevo's transactional API; bounces and complaints become opt-outs."""

    name = NAME
    title = "Brevo"
    description = "E-mail through Brevo (Sendinblue); bounces, complaints, unsubscribes."
    settings_schema = BrevoSettingsSchema
    secrets_schema = BrevoSecretsSchema
    channels = ("email",)
    base_url = BASE_URL

    def send(self, hub, connection, message):
        settings = self.required_settings(
            connection, "sender_email", note=", a sender verified in Brevo"
        )
        api_key = self.required_secrets(hub, connection, "api_key")["api_key"]
        sender = {"email": settings["sender_email"]}
        if settings.get("sender_name"):
            sender["name"] = settings["sender_name"]
        body: dict[str, Any] = {
            "sender": sender,
            "to": [{"email": message.to}],
            "subject": message.subject or "",
            "textContent": message.text,
            "headers": {
                **message.headers,
                "X-Mailin-custom": message.reference,
                "idempotencyKey": idempotency_key(hub, connection, message),
            },
            "tags": [message.kind],
        }
        if message.html:
            body["htmlContent"] = message.html
        if settings.get("reply_to"):
            body["replyTo"] = {"email": settings["reply_to"]}
        response = self.post(
            hub,
            self.url(hub, SEND),
            json=body,
            headers={"api-key": api_key, "accept": "application/json"},
        )
        answer = self.lenient_answer(response)
        if response.status_code in (200, 201, 202):
            return SendResult(gateway_message_id=answer.get("messageId"), status="sent")
        reason = (
            f"Brevo HTTP {response.status_code}, {answer.get('code', 'no code')}: "
            f"{answer.get('message', '')}"
        )
        raise self.http_refusal(response.status_code, reason)

    def verify_callback(self, hub, connection, callback):
        token = connection_secrets(hub, connection).get("webhook_token", "")
        presented = callback.headers.get("Authorization", "")
        if not token or not hmac.compare_digest(presented, f"Bearer {token}"):
            raise Unauthorized("the webhook's bearer token is missing or wrong")

    def read_callback(self, hub, connection, callback):
        payload = callback.json()
        events = payload if isinstance(payload, list) else [payload]
        items: list[DeliveryReceipt | AddressOptOut] = []
        for event in events:
            if isinstance(event, dict):
                items.extend(_items(event))
        return items


def idempotency_key(hub, connection, message) -> str:
    """The same UUID for every attempt at one message, and for no other message.

    Keyed with the hub's secret, so two hubs sharing a Brevo account (a
    staging copy beside production) never make each other's keys.
    """
    seed = f"brevo:{connection.id}:{message.reference}".encode()
    digest = hmac.new(hub.config["HUB_SECRET_KEY"].encode(), seed, hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _items(event: dict[str, Any]) -> list[DeliveryReceipt | AddressOptOut]:
    name = str(event.get("event") or "")
    gateway_id = event.get("message-id") or None
    reference = str(event.get("X-Mailin-custom") or "") or None
    at = _moment(event.get("ts_event") or event.get("ts_epoch"))
    items: list[DeliveryReceipt | AddressOptOut] = []
    if name == "delivered":
        items.append(DeliveryReceipt("delivered", gateway_id, reference, at=at))
    elif name in FAILED:
        error = f"Brevo {name}: {event.get('reason') or 'no reason given'}"
        items.append(DeliveryReceipt("failed", gateway_id, reference, error=error, at=at))
    if name in OPT_OUT and event.get("email"):
        items.append(AddressOptOut(str(event["email"]), OPT_OUT[name], gateway_id))
    return items


def _moment(raw: Any) -> datetime | None:
    # ts_epoch is in milliseconds, ts_event in seconds: no time in seconds reaches 10**11.
    try:
        millis = int(raw) > 10**11
    except (TypeError, ValueError):
        return None
    return GatewayConnector.moment(raw, millis=millis)


@hookimpl
def register_connectors(hub):
    return [BrevoGateway()]
