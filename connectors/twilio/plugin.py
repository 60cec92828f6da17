"""The ``twilio`` gateway: SMS through Twilio's Messages API, status callbacks, STOP replies.

Connection settings: ``account_sid``, and ``from_number`` (E.164) or
``messaging_service_sid``; ``price`` (what one SMS part costs in the
merchant's currency, for the daily budget; Twilio bills in USD later).
Secret: ``auth_token``. The hub calls only ``BASE_URL``; an operator may
point it at a simulator with ``HUB_PLUGINS_CONFIG["twilio"]["base_url"]``,
never a merchant.

Protocol from twilio/twilio-python (Messages resource, status values,
request validator) and Twilio's status-callback docs. Status callbacks are
form POSTs signed with ``X-Twilio-Signature``; inbound messages to the
number (STOP) come signed the same way to the inbound URL.
"""

from __future__ import annotations

from urllib.parse import quote

from connectors.twilio import signature
from connectors.twilio.settings import TwilioSecretsSchema
from connectors.twilio.settings import TwilioSettingsSchema
from hub import DeliveryReceipt
from hub import GatewayConnector
from hub import InboundMessage
from hub import OutsideResponse
from hub import PermanentError
from hub import RecipientOptedOut
from hub import RetryLater
from hub import SendResult
from hub import Unauthorized
from hub import connection_secrets
from hub import hookimpl
from hub import transient_status

NAME = "twilio"
BASE_URL = "https://api.twilio.com"
#: Twilio error 21610: the recipient replied STOP to this sender.
UNSUBSCRIBED = 21610
TOO_MANY_REQUESTS = 20429
DELIVERED = {"delivered", "read"}
FAILED = {"failed", "undelivered", "canceled"}


class TwilioGateway(GatewayConnector):
    """SMS through Twilio's Messages API; signed status callbacks and STOP replies."""

    name = NAME
    title = "Twilio"
    description = "SMS worldwide through Twilio; signed status callbacks and STOP replies."
    settings_schema = TwilioSettingsSchema
    secrets_schema = TwilioSecretsSchema
    inbound = True
    base_url = BASE_URL

    def send(self, hub, connection, message):
        settings = self.required_settings(connection, "account_sid")
        sid = settings["account_sid"]
        token = self.required_secrets(hub, connection, "auth_token")["auth_token"]
        form = {"To": message.to, "Body": message.text}
        if settings.get("messaging_service_sid"):
            form["MessagingServiceSid"] = settings["messaging_service_sid"]
        elif settings.get("from_number"):
            form["From"] = settings["from_number"]
        else:
            raise PermanentError(
                f"connection {connection.id} (Twilio) needs settings.from_number or "
                "settings.messaging_service_sid"
            )
        if message.receipts_url:
            form["StatusCallback"] = message.receipts_url
        path = f"/2010-04-01/Accounts/{quote(str(sid), safe='')}/Messages.json"
        response = self.post(hub, self.url(hub, path), data=form, auth=(sid, token))
        return self._result(response)

    def _result(self, response: OutsideResponse) -> SendResult:
        answer = self.lenient_answer(response)
        if response.status_code in (200, 201):
            price = self.amount(answer.get("price"))
            segments = answer.get("num_segments")
            return SendResult(
                gateway_message_id=answer.get("sid"),
                status="delivered" if answer.get("status") in DELIVERED else "sent",
                cost=abs(price) if price is not None else None,
                currency=(answer.get("price_unit") or None) if price is not None else None,
                segments=int(segments) if str(segments or "").isdigit() else None,
            )
        code = answer.get("code")
        reason = f"Twilio HTTP {response.status_code}, error {code}: {answer.get('message', '')}"
        if code == TOO_MANY_REQUESTS:
            raise RetryLater(reason)
        if code == UNSUBSCRIBED and not transient_status(response.status_code):
            raise RecipientOptedOut(reason)
        raise self.http_refusal(response.status_code, reason)

    def verify_callback(self, hub, connection, callback):
        token = connection_secrets(hub, connection).get("auth_token", "")
        presented = callback.headers.get("X-Twilio-Signature", "")
        if not signature.verify(token, callback.urls(), callback.form, presented):
            raise Unauthorized("the X-Twilio-Signature is missing or wrong")

    def read_callback(self, hub, connection, callback):
        form = callback.form
        if callback.endpoint == "inbound":
            if not form.get("From"):
                return []
            return [
                InboundMessage(
                    sender=form["From"],
                    text=form.get("Body", ""),
                    gateway_message_id=form.get("MessageSid"),
                )
            ]
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        if status in DELIVERED:
            state = "delivered"
        elif status in FAILED:
            state = "failed"
        elif status == "sent":
            state = "sent"
        else:
            return []
        error = form.get("ErrorCode")
        return [
            DeliveryReceipt(
                status=state,
                gateway_message_id=form.get("MessageSid") or form.get("SmsSid"),
                error=f"Twilio error {error}" if error else None,
            )
        ]


@hookimpl
def register_connectors(hub):
    return [TwilioGateway()]
