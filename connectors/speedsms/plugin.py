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

from typing import Any

from connectors.speedsms.settings import SpeedSmsSecretsSchema
from connectors.speedsms.settings import SpeedSmsSettingsSchema
from hub import DeliveryReceipt
from hub import GatewayConnector
from hub import InboundMessage
from hub import PermanentError
from hub import SendResult
from hub import hookimpl

NAME = "speedsms"
BASE_URL = "https://api.speedsms.vn"
SEND = "/index.php/sms/send"
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
TRANSIENT = frozenset({"500"})
FAILED_FROM = 64


class SpeedSmsGateway(GatewayConnector):
    """SMS through SpeedSMS; delivery reports and replies on one webhook per account."""

    name = NAME
    title = "SpeedSMS"
    description = "SMS through SpeedSMS; delivery reports and replies by webhook."
    settings_schema = SpeedSmsSettingsSchema
    secrets_schema = SpeedSmsSecretsSchema
    base_url = BASE_URL
    transient_codes = TRANSIENT

    def send(self, hub, connection, message):
        settings = connection.settings or {}
        token = self.required_secrets(hub, connection, "access_token")["access_token"]
        sender = settings.get("sender") or ""
        body = {
            "to": [self.vietnamese_number(message.to)],
            "content": message.text,
            "sms_type": int(settings.get("sms_type") or (3 if sender else 2)),
            "sender": sender,
        }
        response = self.post(hub, self.url(hub, SEND), json=body, auth=(token, "x"))
        if response.status_code in (401, 403):
            raise PermanentError(f"SpeedSMS refused the access token (HTTP {response.status_code})")
        return self._result(self.answer(response))

    def _result(self, answer: dict[str, Any]) -> SendResult:
        data = answer.get("data") or {}
        if answer.get("status") == "success" and not data.get("invalidPhone"):
            return SendResult(
                gateway_message_id=str(data["tranId"]) if data.get("tranId") is not None else None,
                cost=self.amount(data.get("totalPrice")),
                currency="VND" if data.get("totalPrice") is not None else None,
                segments=int(data["totalSMS"]) if data.get("totalSMS") else None,
            )
        if data.get("invalidPhone") or answer.get("invalidPhone"):
            raise PermanentError("SpeedSMS says the phone number is invalid")
        code = str(answer.get("code", ""))
        reason = answer.get("message") or CODES.get(code, "unknown error code")
        raise self.refused(code, f"SpeedSMS code {code}: {reason}")

    def read_callback(self, hub, connection, callback):
        event = callback.json()
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


@hookimpl
def register_connectors(hub):
    return [SpeedSmsGateway()]
