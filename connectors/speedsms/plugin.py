"""The ``speedsms`` gateway: SMS through SpeedSMS (Vietnam).

Connection settings: ``sender`` (a registered brandname, or a device id for
``sms_type`` 5), ``sms_type`` (2 random number, 3 brandname, 4 default
brandname "Notify", 5 Android app; default 3 with a sender, else 2),
and ``price`` (what one SMS part costs, for the daily budget).
Secret: ``access_token`` (connect.speedsms.vn, Settings, Profile). The hub
calls only ``BASE_URL``; an operator may point it at a simulator with
``HUB_PLUGINS_CONFIG["speedsms"]["base_url"]``, never a merchant.

Send API and its answer shapes are as many SpeedSMS client libraries use
them (HTTP Basic with the token as user and ``x`` as password); error codes
from SpeedSMS's own list. The delivery report is one webhook URL per
account (set it to the connection's receipts URL); its ``status`` is 0 for
delivered, 1 to 63 for still trying, 64 and up for failed, as client code
in the wild reads it. Replies arrive on the same webhook as
``{"type": "incoming", "phone", "content"}`` [inferred; check with SpeedSMS].
"""

from __future__ import annotations

import json
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from connectors.speedsms.settings import SpeedSmsSecretsSchema
from connectors.speedsms.settings import SpeedSmsSettingsSchema
from hub import ConnectorInfo
from hub import DeliveryReceipt
from hub import Gateway
from hub import InboundMessage
from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater
from hub import SendResult
from hub import connection_secrets
from hub import hookimpl
from hub import outside_http

NAME = "speedsms"
BASE_URL = "https://api.speedsms.vn"
SEND = "/index.php/sms/send"
TIMEOUT = (5, 20)
CODES = {
    "007": "IP address locked",
    "008": "account blocked",
    "009": "account not allowed to use the API",
    "101": "invalid parameters",
    "105": "invalid phone number",
    "110": "encoding not supported",
    "113": "content too long",
    "300": "balance too low",
    "500": "internal error at SpeedSMS",
}
TRANSIENT = {"500"}
FAILED_FROM = 64


@hookimpl
def register_connectors(hub):
    return [
        ConnectorInfo(
            name=NAME,
            title="SpeedSMS",
            kind="messaging",
            description="SMS through SpeedSMS; delivery reports and replies by webhook.",
            settings_schema=SpeedSmsSettingsSchema,
            secrets_schema=SpeedSmsSecretsSchema,
        )
    ]


@hookimpl
def register_gateways(hub):
    return [Gateway(connector=NAME, channels=("sms",), title="SpeedSMS", unicode=True)]


def international(phone: str) -> str:
    """``+84912345678`` -> ``84912345678``, the form SpeedSMS takes."""
    if not phone.startswith("+84"):
        raise PermanentError(f"SpeedSMS sends only to Vietnamese numbers, not {phone}")
    return phone[1:]


@hookimpl
def send_message(hub, connection, message):
    if connection.connector != NAME:
        return None
    if message.channel != "sms":
        raise PermanentError(f"SpeedSMS cannot send {message.channel} messages")
    settings = connection.settings or {}
    token = connection_secrets(hub, connection).get("access_token")
    if not token:
        raise PermanentError(
            f"connection {connection.id} (SpeedSMS) has no access_token; add it with "
            f"PATCH /api/v1/connections/{connection.id}"
        )
    sender = settings.get("sender") or ""
    body = {
        "to": [international(message.to)],
        "content": message.text,
        "sms_type": int(settings.get("sms_type") or (3 if sender else 2)),
        "sender": sender,
    }
    url = (hub.plugin_config(NAME).get("base_url") or BASE_URL).rstrip("/") + SEND
    try:
        response = outside_http(hub).post(url, json=body, auth=(token, "x"), timeout=TIMEOUT)
    except OutsideUnreachable as exc:
        raise RetryLater(f"SpeedSMS could not be reached: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryLater(f"SpeedSMS answered HTTP {response.status_code}")
    if response.status_code in (401, 403):
        raise PermanentError(f"SpeedSMS refused the access token (HTTP {response.status_code})")
    try:
        answer = response.json()
    except ValueError:
        raise RetryLater(f"SpeedSMS answered HTTP {response.status_code} without JSON") from None
    return _result(answer)


def _result(answer: Any) -> SendResult:
    if not isinstance(answer, dict):
        raise RetryLater("SpeedSMS answered an unexpected shape")
    data = answer.get("data") or {}
    if answer.get("status") == "success" and not data.get("invalidPhone"):
        return SendResult(
            gateway_message_id=str(data["tranId"]) if data.get("tranId") is not None else None,
            cost=_decimal(data.get("totalPrice")),
            currency="VND" if data.get("totalPrice") is not None else None,
            segments=int(data["totalSMS"]) if data.get("totalSMS") else None,
        )
    if data.get("invalidPhone") or answer.get("invalidPhone"):
        raise PermanentError("SpeedSMS says the phone number is invalid")
    code = str(answer.get("code", ""))
    reason = answer.get("message") or CODES.get(code, "unknown error code")
    if code in TRANSIENT:
        raise RetryLater(f"SpeedSMS code {code}: {reason}")
    raise PermanentError(f"SpeedSMS code {code}: {reason}")


@hookimpl
def gateway_callback(hub, connection, callback):
    if connection.connector != NAME:
        return None
    try:
        event = json.loads(callback.body or b"{}")
    except ValueError:
        return []
    if not isinstance(event, dict):
        return []
    if event.get("type") == "incoming":
        sender = str(event.get("phone") or "")
        return [InboundMessage(sender=sender, text=str(event.get("content") or ""))]
    if event.get("type") != "report" or event.get("tranId") is None:
        return []
    try:
        status = int(event.get("status"))
    except (TypeError, ValueError):
        return []
    if status == 0:
        state, error = "delivered", None
    elif status >= FAILED_FROM:
        state, error = "failed", f"SpeedSMS delivery status {status}"
    else:
        state, error = "sent", None
    return [DeliveryReceipt(status=state, gateway_message_id=str(event["tranId"]), error=error)]


def _decimal(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None
