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
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from typing import Any

from connectors.zalo import signature
from connectors.zalo import tokens
from connectors.zalo.settings import ZaloSecretsSchema
from connectors.zalo.settings import ZaloSettingsSchema
from hub import ConnectorInfo
from hub import DeliveryReceipt
from hub import Gateway
from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater
from hub import SendResult
from hub import Unauthorized
from hub import connection_secrets
from hub import hookimpl
from hub import outside_http

NAME = "zalo"
BASE_URL = "https://business.openapi.zalo.me"
SEND = "/message/template"
TIMEOUT = (5, 20)
TOKEN_REJECTED = {-216, -124}
TRANSIENT = {-32}
RECEIVED_EVENTS = {"user_received_message", "user_seen_message"}


@hookimpl
def register_connectors(hub):
    return [
        ConnectorInfo(
            name=NAME,
            title="Zalo ZNS",
            kind="messaging",
            description="Zalo template notifications (ZNS) to members' phone numbers.",
            settings_schema=ZaloSettingsSchema,
            secrets_schema=ZaloSecretsSchema,
        )
    ]


@hookimpl
def register_gateways(hub):
    return [Gateway(connector=NAME, channels=("zalo",), title="Zalo ZNS")]


def zalo_phone(phone: str) -> str:
    """``+84912345678`` -> ``84912345678``: ZNS reaches Vietnamese numbers only."""
    if not phone.startswith("+84"):
        raise PermanentError(f"ZNS sends only to Vietnamese numbers, not {phone}")
    return phone[1:]


@hookimpl
def send_message(hub, connection, message):
    if connection.connector != NAME:
        return None
    if message.channel != "zalo" or not message.template_id:
        raise PermanentError("Zalo sends ZNS template messages only; set the kind's ZNS template")
    body: dict[str, Any] = {
        "phone": zalo_phone(message.to),
        "template_id": message.template_id,
        "template_data": message.template_data,
        "tracking_id": message.reference,
    }
    if (connection.settings or {}).get("mode") == "development":
        body["mode"] = "development"
    token = tokens.access_token(hub, connection)
    status, answer = _post(hub, token, body)
    if _token_rejected(status, answer):
        token = tokens.access_token(hub, connection, rejected=token)
        status, answer = _post(hub, token, body)
        if _token_rejected(status, answer):
            raise RetryLater("Zalo refused a freshly refreshed access token")
    return _result(status, answer)


def _post(hub, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    url = (hub.plugin_config(NAME).get("base_url") or BASE_URL).rstrip("/") + SEND
    try:
        response = outside_http(hub).post(
            url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"access_token": token, "Content-Type": "application/json"},
            timeout=TIMEOUT,
        )
    except OutsideUnreachable as exc:
        raise RetryLater(f"Zalo could not be reached: {exc}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return response.status_code, answer if isinstance(answer, dict) else {}


def _token_rejected(status: int, answer: dict[str, Any]) -> bool:
    return status == 401 or _error(answer) in TOKEN_REJECTED


def _error(answer: dict[str, Any]) -> int | None:
    try:
        return int(answer.get("error"))
    except (TypeError, ValueError):
        return None


def _result(status: int, answer: dict[str, Any]) -> SendResult:
    if status == 429 or status >= 500:
        raise RetryLater(f"Zalo answered HTTP {status}")
    error = _error(answer)
    if status == 200 and error == 0:
        data = answer.get("data") or {}
        return SendResult(gateway_message_id=data.get("msg_id"))
    reason = f"Zalo error {error}: {answer.get('message', '')} (HTTP {status})"
    if error in TRANSIENT:
        raise RetryLater(reason)
    raise PermanentError(reason)


@hookimpl
def gateway_callback(hub, connection, callback):
    if connection.connector != NAME:
        return None
    app_id = str((connection.settings or {}).get("app_id") or "")
    key = connection_secrets(hub, connection).get("oa_secret_key", "")
    presented = callback.headers.get("X-ZEvent-Signature", "")
    if not signature.verify(app_id, key, callback.body, presented):
        raise Unauthorized("the X-ZEvent-Signature is missing or wrong")
    event = json.loads(callback.body)
    if str(event.get("app_id", app_id)) != app_id:
        raise Unauthorized("the event is for another Zalo app")
    if event.get("event_name") not in RECEIVED_EVENTS:
        return []
    message = event.get("message") or {}
    return [
        DeliveryReceipt(
            status="delivered",
            gateway_message_id=message.get("msg_id"),
            reference=message.get("tracking_id"),
            at=_moment(message.get("delivery_time")),
        )
    ]


def _moment(millis: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
