"""What a gateway plugin and the send pipeline hand each other: plain dataclasses.

A gateway plugin registers a ``Gateway`` (which connector, which channels),
sends an ``OutgoingMessage`` in ``send_message`` and answers a ``SendResult``,
and turns a gateway's callback (``GatewayCallback``) into
``DeliveryReceipt`` and ``InboundMessage`` items in ``gateway_callback``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from hub.errors import PermanentError

if TYPE_CHECKING:
    from hub.core import Hub

#: Channels a message can go out on (a member's consents use the same names).
CHANNELS = ("zalo", "sms")
#: Statuses a gateway may report for a message, in the order they happen.
RECEIPT_STATUSES = ("sent", "delivered", "failed")


@dataclass(frozen=True)
class Gateway:
    """A connector that sends messages: which channels it serves and what it supports.

    ``inbound``: replies (STOP) reach the hub through it. ``receipts``: it
    reports delivery. ``unicode``: it can send SMS with Vietnamese diacritics.
    """

    connector: str
    channels: tuple[str, ...] = ("sms",)
    title: str = ""
    receipts: bool = True
    inbound: bool = False
    unicode: bool = True


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for a gateway to send, ready to go.

    ``to`` is E.164 (``+84912345678``): format it as the gateway wants.
    ``text`` is the SMS body already in the merchant's chosen form (with or
    without diacritics); ``unicode`` says whether it needs UCS-2. For ZNS,
    ``template_id`` and ``template_data`` are set and ``text`` is the SMS
    version, for the log. ``reference`` is the hub's id of the message: send
    it as the gateway's tracking or request id, so receipts and retries can be
    matched to it. ``receipts_url`` is where the gateway should report.
    """

    id: int
    merchant_id: int
    channel: str
    to: str
    text: str
    kind: str
    locale: str = "vi"
    unicode: bool = False
    segments: int = 1
    template_id: str | None = None
    template_data: dict[str, str] = field(default_factory=dict)
    receipts_url: str | None = None
    attempt: int = 1

    @property
    def reference(self) -> str:
        return str(self.id)


@dataclass(frozen=True)
class SendResult:
    """What the gateway answered to a send it accepted.

    ``status`` is ``sent`` (accepted, a receipt may follow) or ``delivered``
    (the gateway knows at once, as the console does). ``cost`` is what the
    gateway charged, in ``currency``, when it says so.
    """

    gateway_message_id: str | None
    status: str = "sent"
    cost: Decimal | None = None
    currency: str | None = None
    segments: int | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """A gateway's report on one message it sent.

    Name the message by the gateway's id, the hub's ``reference`` (which the
    gateway echoes as tracking or request id), or both. ``status`` is one of
    ``sent``, ``delivered`` or ``failed``.
    """

    status: str
    gateway_message_id: str | None = None
    reference: str | None = None
    error: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message a person sent to the merchant's number (``STOP`` opts the number out)."""

    sender: str
    text: str
    gateway_message_id: str | None = None


@dataclass(frozen=True)
class GatewayCallback:
    """One HTTP request a gateway made to the hub's callback URL, as received.

    ``url`` is the public URL the hub gave the gateway (``HUB_PUBLIC_URL`` and
    the path and query as received); ``received_url`` is the URL as this
    server saw it. Verify a signature over ``body`` (raw bytes) or ``form``.
    ``endpoint`` is ``receipts`` or ``inbound``.
    """

    endpoint: str
    method: str
    url: str
    received_url: str
    headers: Mapping[str, str]
    args: Mapping[str, Any]
    form: Mapping[str, Any]
    body: bytes

    def urls(self) -> list[str]:
        """The URLs a signature may have been computed over, public one first."""
        return list(dict.fromkeys([self.url, self.received_url]))


class RecipientOptedOut(PermanentError):
    """The gateway refuses because the recipient unsubscribed (Twilio 21610).

    The hub records an opt-out for the number on this channel and tries the
    next channel, as for any permanent failure.
    """


def gateways(hub: Hub) -> dict[str, Gateway]:
    """Return every registered gateway by connector name (cached on the hub)."""
    state = hub.app.extensions.setdefault("messaging", {})
    if "gateways" not in state:
        found: dict[str, Gateway] = {}
        for result in hub.pm.hook.register_gateways(hub=hub):
            for gateway in result or []:
                found[gateway.connector] = gateway
        state["gateways"] = found
    return state["gateways"]
