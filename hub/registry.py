"""What plugins register at startup: connector objects, one per outside system.

A plugin returns its ``Connector`` objects from ``register_connectors``; the hub
keeps them by name and hands every call about a connection to the object its
``connection.connector`` names. Nothing else decides which code answers for a
connection, so a connector's methods never check whose connection they got.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from hub.errors import NotFound
from hub.errors import PermanentError

if TYPE_CHECKING:
    from flask import Request
    from marshmallow import Schema
    from sqlalchemy.orm import Session
    from werkzeug.datastructures import Headers

    from hub.core import Hub
    from hub.messaging.gateways import DeliveryReceipt
    from hub.messaging.gateways import Gateway
    from hub.messaging.gateways import GatewayCallback
    from hub.messaging.gateways import InboundMessage
    from hub.messaging.gateways import OutgoingMessage
    from hub.messaging.gateways import SendResult
    from hub.models import Connection
    from hub.models import Member


@dataclass(frozen=True)
class WebhookDelivery:
    """What a connector reads from one inbound delivery, in one answer to the intake.

    ``verified`` is whether the signature over the raw body checks out (False:
    401, nothing stored); ``delivery_id`` the platform's id of the delivery, the
    same on every retry (None: the hub uses a SHA-256 of the body); ``topic``
    what the delivery is about, in the platform's words.
    """

    verified: bool
    delivery_id: str | None = None
    topic: str = ""


#: The kinds of connector a merchant can create connections for.
KINDS = ("store", "pos", "messaging", "custom")


class Connector:
    """One outside system a merchant can create connections for.

    Subclass it, set the description (``name``, ``title``, ``kind``,
    ``description``, ``settings_schema``, ``secrets_schema``) and override the
    methods the system needs; the defaults say "this connector does not do
    that". Every method receives a connection of this connector only.

    ``settings_schema`` is the marshmallow schema a merchant's connection
    settings are loaded with (build it on ``hub.ConnectionSettingsSchema``,
    ``StorefrontSettingsSchema`` or ``GatewaySettingsSchema``, which refuse
    unknown keys); without one, only the hub's own settings for the kind are
    accepted. ``secrets_schema`` (on ``hub.SecretsSchema``) refuses unknown
    secret names; without one, any names are accepted.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    kind: ClassVar[str] = "store"
    description: ClassVar[str] = ""
    settings_schema: ClassVar[type[Schema] | None] = None
    secrets_schema: ClassVar[type[Schema] | None] = None
    #: What the connector sends messages through, for messaging connectors.
    gateway: Gateway | None = None
    #: What a merchant types to start an OAuth install (``("shop",)``), for ``install_link``.
    install_fields: ClassVar[tuple[str, ...]] = ()

    # -- inbound webhooks: request, no network I/O -------------------------------
    # The intake calls these in front of Flask: with an app context and no request
    # context, so they read their arguments, never ``flask.request``.

    def connection_for(self, hub: Hub, headers: Headers, body: bytes) -> Connection | None:
        """Name the connection a delivery to ``/webhooks/<name>`` (one URL per app) is for.

        Read the store from the headers and answer its connection (it may be
        disabled), or None for an unknown store (the hub answers 404). The
        signature is checked next, with ``verify_webhook``.
        """
        return None

    def read_webhook(
        self, hub: Hub, connection: Connection, headers: Headers, body: bytes
    ) -> WebhookDelivery | None:
        """Read one delivery: its signature verdict, delivery id and topic together.

        The intake asks only this. None when the connector takes no webhooks
        (404). The default answers from ``verify_webhook``, ``delivery_id`` and
        ``topic``, so a connector may write those three instead; a connector
        that reads all three in one pass overrides this.
        """
        verified = self.verify_webhook(hub, connection, headers, body)
        if verified is None:
            return None
        if not verified:
            return WebhookDelivery(verified=False)
        return WebhookDelivery(
            verified=True,
            delivery_id=self.delivery_id(hub, connection, headers, body),
            topic=self.topic(hub, connection, headers, body),
        )

    def verify_webhook(
        self, hub: Hub, connection: Connection, headers: Headers, body: bytes
    ) -> bool | None:
        """Say whether a delivery really comes from the connection's platform.

        True when the signature over the raw ``body`` checks out (compare in
        constant time), False when it is missing or wrong (401, nothing
        stored), None when the connector takes no webhooks (404).
        """
        return None

    def delivery_id(
        self, hub: Hub, connection: Connection, headers: Headers, body: bytes
    ) -> str | None:
        """Return the platform's id of this delivery, the same on every retry of it.

        None when the delivery carries none: the hub uses a SHA-256 of the body.
        """
        return None

    def topic(self, hub: Hub, connection: Connection, headers: Headers, body: bytes) -> str:
        """Return what the delivery is about, in the platform's words (``orders/create``)."""
        return ""

    def records(
        self, hub: Hub, connection: Connection, topic: str, payload: Any, headers: Headers
    ) -> list[Any] | None:
        """Turn one stored delivery into canonical records; None marks it ignored.

        Raise ``ValidationError`` or ``PermanentError`` for a payload that can
        never be read. Runs in a worker, once per delivery and again on a replay.
        """
        return None

    # -- the storefront widget: request, no network I/O ---------------------------

    def widget_identity(self, hub: Hub, connection: Connection, request: Request) -> Member | None:
        """Identify a storefront visitor by the platform's own signature (an app proxy).

        None leaves the visitor to the hub's check of the store's HS256 token.
        """
        return None

    #: Where a store's own sign-up and sign-in pages are when the merchant set none
    #: (``join_url``, ``sign_in_url``): paths on the storefront, or web addresses.
    default_join_url: ClassVar[str | None] = None
    default_sign_in_url: ClassVar[str | None] = None

    def storefront_links(self, connection: Connection) -> dict[str, str | None]:
        """The widget's "join" and "sign in" links: the connection's settings, else the defaults."""
        settings = connection.settings or {}
        return {
            "join": settings.get("join_url") or self.default_join_url,
            "sign_in": settings.get("sign_in_url") or self.default_sign_in_url,
        }

    # -- messaging: worker and request ---------------------------------------------

    def send_message(
        self, hub: Hub, connection: Connection, message: OutgoingMessage
    ) -> SendResult:
        """Send one message through the connection's gateway (see ``GatewayConnector``)."""
        raise PermanentError(f"the {self.name} connector sends no messages")

    def gateway_callback(
        self, hub: Hub, connection: Connection, callback: GatewayCallback
    ) -> list[DeliveryReceipt | InboundMessage] | None:
        """Check and read one request a gateway made to the connection's callback URL.

        None when the connector takes no callbacks (404).
        """
        return None

    # -- the merchant's side: request, no network I/O -------------------------------

    def install_link(self, hub: Hub, merchant_id: int, data: dict[str, str]) -> str | None:
        """Return the address that starts an OAuth install of a store for the merchant.

        ``data`` holds the ``install_fields`` the merchant typed; raise
        ``ValidationError`` for a value the platform cannot take. None when
        the connector has no OAuth install (connections are made with
        settings and secrets).
        """
        return None

    def access_keys(
        self, hub: Hub, session: Session, connection: Connection
    ) -> list[AccessKey] | None:
        """List the keys the connection's own devices (tills) sign in with, newest first.

        Never the keys themselves. None when the connector's devices take no keys.
        """
        return None

    def issue_access_key(
        self, hub: Hub, session: Session, connection: Connection, name: str, actor: str
    ) -> IssuedAccessKey:
        """Make a key for the connection's devices; the answer is the only time it is shown."""
        raise PermanentError(f"the {self.name} connector takes no access keys")

    def revoke_access_key(
        self, hub: Hub, session: Session, connection: Connection, key_id: int, actor: str
    ) -> None:
        """Revoke one of the connection's keys at once; an unknown id raises ``NotFound``."""
        raise PermanentError(f"the {self.name} connector takes no access keys")

    def device_url(self, hub: Hub, connection: Connection) -> str | None:
        """Return the path of the page the connection's devices open (a cashier page), or None."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@dataclass(frozen=True)
class AccessKey:
    """One key of a connection's devices, as a merchant sees it: never the key itself."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IssuedAccessKey:
    """A key just made: ``secret`` is shown to the merchant this once and stored hashed."""

    id: int
    name: str
    prefix: str
    secret: str


@dataclass(frozen=True)
class DeliveryHealth:
    """How a connection's inbound deliveries are doing, for the merchant's Connections page.

    ``backlog`` counts deliveries waiting to be processed, ``failed`` those
    that failed for good (a replay queues them again); ``last_error`` is the
    reason the latest of those failed.
    """

    last_received_at: datetime | None = None
    backlog: int = 0
    failed: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None


class UnknownConnector(NotFound):
    """A connection names a connector no installed plugin registers."""

    def __init__(self, name: str, known: list[str]):
        super().__init__(
            f"no installed plugin provides the connector {name!r} (installed: "
            f"{', '.join(sorted(known)) or 'none'}); install its plugin or delete its connections",
            code="unknown_connector",
        )


def bare_connector(name: str) -> Connector:
    """A stand-in describing a connector that is no longer installed: it does nothing."""
    connector = Connector()
    connector.name = name  # type: ignore[misc]
    connector.title = name  # type: ignore[misc]
    return connector


@dataclass(frozen=True)
class ApiInterface:
    """An HTTP interface a plugin serves outside ``/api/v1``, for the OpenAPI document.

    ``tag`` groups its operations in the reference (``Counter (POS)``), and
    ``description`` says who calls it and how it authenticates (Markdown).
    ``paths`` are OpenAPI 3.1 path items (null as JSON Schema says it:
    ``"type": ["string", "null"]``), by path (``/pos/v1/me``), each
    operation with a ``summary``, its own ``security`` when not the merchant's
    bearer key, its answers and an ``example`` of each body. ``webhooks`` are
    OpenAPI 3.1 webhooks: requests the interface makes to URLs the merchant
    gave, by name (``order.received``), written like path items.
    """

    tag: str
    description: str
    paths: dict[str, Any]
    webhooks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsolePage:
    """A page a plugin adds to the merchant console's navigation.

    ``endpoint`` names a view of a blueprint the plugin registers (through
    ``register_blueprints``); the view extends ``console/base.html``. ``title``
    is the navigation label, by locale (``{"vi": ..., "en": ...}``).
    ``min_role`` is the lowest role that sees it: ``owner``, ``manager`` or
    ``cashier``.
    """

    key: str
    endpoint: str
    title: dict[str, str]
    min_role: str = "manager"
