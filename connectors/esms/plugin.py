"""The ``esms`` gateway: SMS (brandname or fixed number) and Zalo ZNS through eSMS.vn.

Connection settings: ``brandname`` (the registered sender name), ``sms_type``
(``2`` customer care with brandname, the default; ``8`` fixed number),
``oa_id`` (to send ZNS through eSMS), ``sandbox`` (validate only, nothing
sent or charged) and ``price`` (what one SMS part costs, for the daily
budget). Secrets: ``api_key`` and ``secret_key``. The hub calls only
``BASE_URL``; an operator may point it at a simulator with
``HUB_PLUGINS_CONFIG["esms"]["base_url"]``, never a merchant.

Protocol per developers.esms.vn (send API, ``CodeResult`` 100 = accepted,
callback by GET with at most 5 retries) [vendor docs]; result codes other
than 100 from the eSMS developer book and the n8n eSMS node, which disagree
on some numbers, so all of those are permanent except 99 (unknown error).
eSMS signs no delivery callback: the hub's token in the callback URL is the
check.

Replies: with a short code (đầu số ngắn, set up with eSMS, which gives a
``cpid`` and a private key), eSMS calls the partner's URL with GET for each
message a person sends to it (MO): ``sender`` (84…), ``content``,
``serviceNumber``, ``keyword``, ``smsid``, ``receiverTime``
(``yyyyMMddhhmmss``), ``cpid`` and ``sign`` = MD5 of cpid, smsid, content,
receiverTime and the private key, joined (developers.esms.vn, "Kết nối đầu
số ngắn"). Give eSMS the connection's inbound URL; a reply of TC or STOP
opts the number out, and the answer is eSMS's ``ClientResponse`` XML whose
``Message`` confirms it to the sender, as Decree 91/2020 asks.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from xml.sax.saxutils import escape

from connectors.esms.settings import EsmsSecretsSchema
from connectors.esms.settings import EsmsSettingsSchema
from hub import DeliveryReceipt
from hub import GatewayConnector
from hub import InboundMessage
from hub import PermanentError
from hub import SendResult
from hub import Unauthorized
from hub import connection_secrets
from hub import hookimpl

NAME = "esms"
BASE_URL = "https://rest.esms.vn"
SEND_SMS = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
SEND_ZNS = "/MainService.svc/json/SendZaloMessage_V4_post_json/"

ACCEPTED = "100"
#: The RequestId was used before: an earlier attempt of this message got through.
DUPLICATE_REQUEST = "124"
TRANSIENT = frozenset({"99"})
CODES = {
    "99": "unknown error at eSMS",
    "101": "wrong ApiKey or SecretKey",
    "102": "account locked or no price list",
    "103": "account not activated or balance too low",
    "104": "balance too low or brandname not registered",
    "105": "invalid data or message id",
    "109": "brandname not activated",
    "110": "message too long",
    "146": "wrong customer-care template",
    "177": "carrier not registered for this brandname",
    "204": "OA id unknown to eSMS",
    "788": "OA id not active",
    "789": "OA id missing",
}
#: SendStatus in receipts: 5 sent successfully, 4 rejected; 1, 2 and 7 still on the way.
DELIVERED, REJECTED = "5", "4"
#: What the short code answers a reply that opted the number out (no diacritics: one SMS part).
OPTED_OUT_REPLY = "Ban da tu choi nhan tin quang cao. Soan START de nhan lai."


def mo_sign(cpid: str, smsid: str, content: str, receiver_time: str, private_key: str) -> str:
    """eSMS's signature of a reply (MO): MD5 of the values and the private key, joined."""
    joined = f"{cpid}{smsid}{content}{receiver_time}{private_key}"
    return hashlib.md5(joined.encode()).hexdigest()


class EsmsGateway(GatewayConnector):
    """SMS (brandname or fixed number) and Zalo ZNS through eSMS.vn's JSON API."""

    name = NAME
    title = "eSMS.vn"
    description = "SMS brandname and Zalo ZNS through eSMS.vn; receipts by callback."
    settings_schema = EsmsSettingsSchema
    secrets_schema = EsmsSecretsSchema
    channels = ("sms", "zalo")
    inbound = True
    base_url = BASE_URL
    transient_codes = TRANSIENT

    def send(self, hub, connection, message):
        settings = connection.settings or {}
        secrets = self.required_secrets(hub, connection, "api_key", "secret_key")
        body: dict[str, Any] = {
            "ApiKey": secrets["api_key"],
            "SecretKey": secrets["secret_key"],
            "Phone": self.vietnamese_number(message.to, national=True),
            "RequestId": message.reference,
            "Sandbox": "1" if settings.get("sandbox") else "0",
        }
        if message.receipts_url:
            body["CallbackUrl"] = message.receipts_url
        if message.channel == "zalo":
            if not settings.get("oa_id"):
                raise PermanentError(f"connection {connection.id} (eSMS) has no oa_id for ZNS")
            # eSMS takes the template's values in order, not by name.
            body.update(
                OAID=settings["oa_id"],
                TempID=message.template_id,
                Params=list(message.template_data.values()),
            )
            path = SEND_ZNS
        else:
            body.update(
                Content=message.text,
                SmsType=str(settings.get("sms_type", "2")),
                IsUnicode="1" if message.unicode else "0",
            )
            if settings.get("brandname"):
                body["Brandname"] = settings["brandname"]
            path = SEND_SMS
        return self._result(self.answer(self.post(hub, self.url(hub, path), json=body)))

    def _result(self, answer: dict[str, Any]) -> SendResult:
        code = str(answer.get("CodeResult", ""))
        if code in (ACCEPTED, DUPLICATE_REQUEST):
            return SendResult(gateway_message_id=answer.get("SMSID") or None)
        reason = answer.get("ErrorMessage") or CODES.get(code, "unknown result code")
        raise self.refused(code, f"eSMS CodeResult {code}: {reason}")

    def verify_callback(self, hub, connection, callback):
        if callback.endpoint != "inbound":
            return  # delivery callbacks: the URL's token is the check
        params = callback.args
        cpid = str((connection.settings or {}).get("cpid") or "")
        key = connection_secrets(hub, connection).get("mo_private_key", "")
        if not cpid or not key or params.get("cpid") != cpid:
            raise Unauthorized("the reply is not for this connection's short code (cpid)")
        expected = mo_sign(
            cpid,
            params.get("smsid", ""),
            params.get("content", ""),
            params.get("receiverTime", ""),
            key,
        )
        if not hmac.compare_digest(expected, str(params.get("sign", "")).lower()):
            raise Unauthorized("the reply's sign is missing or wrong")

    def callback_answer(self, hub, connection, callback, counts):
        if callback.endpoint != "inbound":
            return None
        message = OPTED_OUT_REPLY if counts.get("opt_outs") else ""
        args = callback.args
        xml = (
            "<ClientResponse>"
            f"<Message>{escape(message)}</Message>"
            f"<Smsid>{escape(str(args.get('smsid', '')))}</Smsid>"
            f"<Receiver>{escape(str(args.get('sender', '')))}</Receiver>"
            "</ClientResponse>"
        )
        return xml.encode(), "application/xml"

    def read_callback(self, hub, connection, callback):
        if callback.endpoint == "inbound":
            sender = str(callback.args.get("sender") or "")
            if not sender:
                return []
            return [
                InboundMessage(
                    sender=sender,
                    text=str(callback.args.get("content") or ""),
                    gateway_message_id=callback.args.get("smsid") or None,
                    channel="sms",
                )
            ]
        # eSMS calls back with GET and query parameters; accept a form POST alike.
        params = {**callback.form, **callback.args}
        if not params.get("SMSID") and not params.get("RequestId"):
            return []
        status = str(params.get("SendStatus", ""))
        state = {DELIVERED: "delivered", REJECTED: "failed"}.get(status, "sent")
        return [
            DeliveryReceipt(
                status=state,
                gateway_message_id=params.get("SMSID") or None,
                reference=params.get("RequestId") or None,
                error=params.get("error_info")
                or ("rejected by eSMS" if state == "failed" else None),
                cost=self.amount(params.get("Totalprice")),
                currency="VND" if params.get("Totalprice") else None,
            )
        ]


@hookimpl
def register_connectors(hub):
    return [EsmsGateway()]
