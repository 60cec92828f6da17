"""What a gateway connector and the send pipeline hand each other, and the gateway base.

A gateway plugin registers a ``GatewayConnector`` (which channels it serves,
described by its ``Gateway``), sends an ``OutgoingMessage`` and answers a
``SendResult``, and turns a gateway's callback (``GatewayCallback``) into
``DeliveryReceipt`` and ``InboundMessage`` items. The base does what every
HTTP gateway does the same way: the channel check, the address (an operator
may point it at a simulator), the call through the hub's outside client, the
classification of failures (transient or permanent) and the callback's
check-then-read order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from hub.errors import PermanentError
from hub.errors import RetryLater
from hub.http import OutsideResponse
from hub.http import OutsideUnreachable
from hub.http import outside_http
from hub.http import transient_status
from hub.merchants.connections import connection_secrets
from hub.registry import Connector

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.models import Connection

#: Channels a message can go out on (a member's consents use the same names).
CHANNELS = ("zalo", "sms", "email")
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
    version, for the log. For e-mail, ``to`` is the address, ``subject``,
    ``text`` and ``html`` are the two parts, and ``headers`` the ones to add
    (``List-Unsubscribe``, ``List-Unsubscribe-Post``); ``sender`` is left to
    the connection's settings. ``reference`` is the hub's id of the message: send
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
    subject: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

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
    """A message a person sent to the merchant's number (``STOP`` opts the number out).

    ``channel`` is the one the reply came on, when the gateway serves several
    (an SMS reply or a Zalo one); by default the gateway's SMS channel.
    ``external_id`` is set instead of a phone in ``sender`` when the platform
    knows the person by its own id only (a Zalo follower): the hub finds the
    member linked to that id on the connection (see ``SharedContact``) and
    acts on their phone; a reply from an id linked to no one changes nothing.
    """

    sender: str
    text: str
    gateway_message_id: str | None = None
    channel: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class SharedContact:
    """A person the platform knows by ``external_id`` shared their ``phone`` with the shop
    (Zalo's ``user_submit_info``): the hub links the member with that phone to the id
    on the connection, so that person's later replies reach the member."""

    external_id: str
    phone: str


@dataclass(frozen=True)
class AddressOptOut:
    """An address the gateway says must get nothing more: a hard bounce, a spam
    complaint, an unsubscribe at the provider. ``reason`` names which, for the log."""

    address: str
    reason: str
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

    def json(self) -> Any:
        """The body read as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class RecipientOptedOut(PermanentError):
    """The gateway refuses because the recipient unsubscribed (Twilio 21610).

    The hub records an opt-out for the number on this channel and tries the
    next channel, as for any permanent failure.
    """


class GatewayConnector(Connector):
    """A connector that sends messages; subclass it and write ``send`` and ``read_callback``.

    Describe the gateway with ``channels``, ``receipts``, ``inbound`` and
    ``unicode`` (see ``Gateway``), its production address with ``base_url``
    and its own retryable result codes with ``transient_codes``.
    ``send_message`` refuses a channel the gateway does not serve, then calls
    ``send``; ``gateway_callback`` calls ``verify_callback`` (raise
    ``Unauthorized`` on a bad signature), then ``read_callback``, for a
    gateway that reports receipts or replies (any other answers 404).
    """

    kind = "messaging"
    channels: ClassVar[tuple[str, ...]] = ("sms",)
    receipts: ClassVar[bool] = True
    inbound: ClassVar[bool] = False
    unicode: ClassVar[bool] = True
    base_url: ClassVar[str] = ""
    #: (connect, read) seconds for every call to the gateway.
    timeout: ClassVar[tuple[float, float]] = (5, 20)
    #: The gateway's own result codes that a later attempt may get through.
    transient_codes: ClassVar[frozenset[str]] = frozenset()

    @property
    def gateway(self) -> Gateway:  # type: ignore[override]
        return Gateway(
            connector=self.name,
            channels=self.channels,
            title=self.title,
            receipts=self.receipts,
            inbound=self.inbound,
            unicode=self.unicode,
        )

    def send_message(
        self, hub: Hub, connection: Connection, message: OutgoingMessage
    ) -> SendResult:
        if message.channel not in self.channels:
            raise PermanentError(f"{self.title} cannot send {message.channel} messages")
        return self.send(hub, connection, message)

    def send(self, hub: Hub, connection: Connection, message: OutgoingMessage) -> SendResult:
        """Send one message of a channel the gateway serves; answer what it said.

        Raise ``RetryLater`` for a transient failure, ``PermanentError`` for
        one retrying will not fix, ``RecipientOptedOut`` for an unsubscribed
        recipient. Runs in a worker, outside any transaction.
        """
        raise NotImplementedError

    def gateway_callback(
        self, hub: Hub, connection: Connection, callback: GatewayCallback
    ) -> list[DeliveryReceipt | InboundMessage] | None:
        if not (self.receipts or self.inbound):
            return None
        self.verify_callback(hub, connection, callback)
        return self.read_callback(hub, connection, callback)

    def callback_answer(
        self, hub: Hub, connection: Connection, callback: GatewayCallback, counts: dict[str, int]
    ) -> tuple[bytes, str] | None:
        """The body and media type to answer a callback with, once the hub applied it.

        ``counts`` says what the hub did (``opt_outs``: replies that opted a
        number out). None answers the counts as JSON; a gateway that expects
        its own answer (an XML reply to send back) builds it here.
        """
        return None

    def verify_callback(self, hub: Hub, connection: Connection, callback: GatewayCallback) -> None:
        """Raise ``Unauthorized`` unless the gateway signed the request; by default the
        hub's token in the callback URL (already checked) is the only check."""

    def read_callback(
        self, hub: Hub, connection: Connection, callback: GatewayCallback
    ) -> list[DeliveryReceipt | InboundMessage]:
        """The receipts and replies in a verified callback (empty when nothing is tracked)."""
        return []

    # -- what every HTTP gateway does alike ------------------------------------------

    def url(self, hub: Hub, path: str = "") -> str:
        """The gateway's address and ``path``: ``base_url``, or the operator's override."""
        return (hub.plugin_config(self.name).get("base_url") or self.base_url).rstrip("/") + path

    def post(self, hub: Hub, url: str, **options: Any) -> OutsideResponse:
        """POST through the hub's outside client; an unreachable gateway is transient."""
        try:
            return outside_http(hub).post(url, timeout=self.timeout, **options)
        except OutsideUnreachable as exc:
            raise RetryLater(f"{self.title} could not be reached: {exc}") from exc

    def http_refusal(self, status: int, reason: str) -> Exception:
        """The error for a send the gateway refused with HTTP ``status``: 429 and 5xx are
        transient (the next attempt may get through), anything else permanent."""
        if transient_status(status):
            return RetryLater(reason)
        return PermanentError(reason)

    def answer(self, response: OutsideResponse) -> dict[str, Any]:
        """The JSON object a gateway answered; 429, 5xx and anything else unreadable is
        transient (the gateway may still be fine on the next attempt)."""
        if transient_status(response.status_code):
            raise RetryLater(f"{self.title} answered HTTP {response.status_code}")
        answer = self.lenient_answer(response)
        if not answer:
            raise RetryLater(
                f"{self.title} answered HTTP {response.status_code} without a JSON object"
            )
        return answer

    @staticmethod
    def lenient_answer(response: OutsideResponse) -> dict[str, Any]:
        """The JSON object in a response, or an empty one when there is none."""
        try:
            answer = response.json()
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    def refused(self, code: Any, reason: str) -> Exception:
        """The error for a send the gateway refused with its own ``code``: retry or give up."""
        if str(code) in self.transient_codes:
            return RetryLater(reason)
        return PermanentError(reason)

    def required_settings(
        self, connection: Connection, *names: str, note: str = ""
    ) -> dict[str, Any]:
        """The connection's settings; a permanent failure naming the fix when one is missing.

        ``note`` follows the missing names in the message (what the setting must be).
        """
        settings = dict(connection.settings or {})
        missing = [f"settings.{name}" for name in names if not settings.get(name)]
        if missing:
            raise PermanentError(
                f"connection {connection.id} ({self.title}) needs {' and '.join(missing)}{note}; "
                f"set it with PATCH /api/v1/connections/{connection.id}"
            )
        return settings

    def required_secrets(self, hub: Hub, connection: Connection, *names: str) -> dict[str, str]:
        """The connection's secrets; a permanent failure naming the fix when one is missing."""
        secrets = connection_secrets(hub, connection)
        missing = [name for name in names if not secrets.get(name)]
        if missing:
            raise PermanentError(
                f"connection {connection.id} ({self.title}) has no {' or '.join(missing)}; "
                f"add it with PATCH /api/v1/connections/{connection.id}"
            )
        return secrets

    def vietnamese_number(self, phone: str, *, national: bool = False) -> str:
        """``+84912345678`` as ``84912345678``, or ``0912345678`` when ``national``."""
        if not phone.startswith("+84"):
            raise PermanentError(f"{self.title} sends only to Vietnamese numbers, not {phone}")
        return "0" + phone[3:] if national else phone[1:]

    @staticmethod
    def moment(raw: Any, *, millis: bool = False) -> datetime | None:
        """A Unix time the gateway reported (seconds, or milliseconds when ``millis``) as
        an aware UTC datetime, or None when it reported none readable."""
        try:
            value = int(raw)
            return datetime.fromtimestamp(value / 1000 if millis else value, tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            return None

    @staticmethod
    def amount(raw: Any) -> Decimal | None:
        """A price the gateway reported, or None when it reported none readable."""
        if raw in (None, ""):
            return None
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            return None


def gateways(hub: Hub) -> dict[str, Gateway]:
    """Return the gateway of every registered messaging connector, by connector name."""
    return {
        name: connector.gateway
        for name, connector in hub.connectors.items()
        if connector.gateway is not None
    }
