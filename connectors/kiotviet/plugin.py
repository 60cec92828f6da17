"""The KiotViet connector: invoices, orders and customers from a KiotViet shop's webhooks.

A merchant creates a ``kiotviet`` connection with the shop's ``retailer``
name (settings) and its API ``client_id`` and ``client_secret`` (secrets),
then registers the webhooks (``POST /api/v1/kiotviet/connections/<id>/webhooks``).
KiotViet then posts to ``/webhooks/kiotviet/<id>``; the webhooks plugin
checks the signature here, stores the delivery once per envelope ``Id``, and
a worker turns it into canonical orders and customers. See docs/connectors/kiotviet.md.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from marshmallow import ValidationError as SchemaError
from sqlalchemy.orm import Session
from sqlalchemy.orm import object_session

from connectors.kiotviet import schemas
from connectors.kiotviet.admin_api import blp as admin_blueprint
from connectors.kiotviet.settings import KiotVietSecretsSchema
from connectors.kiotviet.settings import KiotVietSettingsSchema
from connectors.kiotviet.signature import VARIANTS
from connectors.kiotviet.signature import matching_variant
from hub import Connection
from hub import Connector
from hub import ValidationError
from hub import connection_secrets
from hub import hookimpl
from hub import record_audit
from hub import register_api_blueprint

NAME = "kiotviet"
#: The actions the connector turns into records; others are stored and ignored.
HANDLED = ("invoice.update", "order.update", "customer.update")
#: The connection setting that holds the signature variant pinned by the first good delivery.
PINNED = "signature_variant"


@hookimpl
def register_connectors(hub):
    return [KIOTVIET]


@hookimpl
def register_blueprints(hub):
    register_api_blueprint(hub.app, admin_blueprint)
    return []


@hookimpl
def register_commands(cli):
    from connectors.kiotviet.cli import kiotviet_group

    cli.add_command(kiotviet_group)


def pin_variant(hub: Any, connection: Connection, variant: str) -> str:
    """Store the variant a delivery verified with, unless one is pinned; return the pinned one.

    When the intake's transaction holds the connection, the pin is written in
    it, so it lands together with the stored delivery (and SQLite, whose
    write lock that transaction holds, is not asked for a second one).
    """
    session = object_session(connection)
    if session is not None and session.in_transaction():
        return _pin(session, connection.id, variant)
    with hub.db.transaction() as own:
        return _pin(own, connection.id, variant)


def _pin(session: Session, connection_id: int, variant: str) -> str:
    row = session.get(Connection, connection_id, with_for_update=True, populate_existing=True)
    settings = dict(row.settings or {})
    if settings.get(PINNED) in VARIANTS:
        return settings[PINNED]
    settings[PINNED] = variant
    row.settings = settings
    record_audit(
        session,
        row.merchant_id,
        actor="kiotviet",
        action="kiotviet.signature_pinned",
        object_type="connection",
        object_id=connection_id,
        data={"variant": variant},
    )
    return variant


def _envelope(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _zone(connection: Connection) -> ZoneInfo:
    name = (connection.settings or {}).get("timezone") or "Asia/Ho_Chi_Minh"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Ho_Chi_Minh")


def _load(schema: Any, data: Any, what: str) -> Any:
    try:
        return schema.load(data)
    except SchemaError as exc:
        raise ValidationError(
            f"a KiotViet {what} in this notification cannot be read; see details",
            details=exc.messages,
        ) from None


class KiotVietConnector(Connector):
    """A KiotViet shop: signed webhook envelopes of invoices, orders and customers."""

    name = NAME
    title = "KiotViet"
    kind = "pos"
    description = (
        "Invoices, orders and customers from a KiotViet shop, by webhook. Needs the "
        "shop's retailer name and its Public API client id and secret."
    )
    settings_schema = KiotVietSettingsSchema
    secrets_schema = KiotVietSecretsSchema

    def verify_webhook(self, hub, connection, headers, body):
        """Accept a delivery signed with the connection's secret in its pinned variant.

        Until one delivery has verified, every known variant is tried; the first
        that verifies is pinned and is the only one accepted afterwards.
        """
        secret = connection_secrets(hub, connection).get("webhook_secret")
        if not secret:
            return False
        pinned = (connection.settings or {}).get(PINNED)
        allowed = (pinned,) if pinned in VARIANTS else VARIANTS
        variant = matching_variant(secret, headers, body, allowed=allowed)
        if variant is None:
            return False
        if pinned is None:
            return pin_variant(hub, connection, variant) == variant
        return True

    def delivery_id(self, hub, connection, headers, body):
        """The envelope's ``Id``: the same on every retry of a notification (``Attempt`` grows)."""
        envelope = _envelope(body) or {}
        value = envelope.get("Id")
        return str(value) if value not in (None, "") else None

    def topic(self, hub, connection, headers, body):
        envelope = _envelope(body) or {}
        notifications = envelope.get("Notifications")
        if not isinstance(notifications, list):
            return ""
        actions = {n.get("Action") for n in notifications if isinstance(n, dict)}
        return ",".join(sorted(a for a in actions if isinstance(a, str)))

    def records(self, hub, connection, topic, payload, headers):
        """Orders for ``invoice.update`` and ``order.update``, customers for ``customer.update``."""
        envelope = _load(schemas.EnvelopeSchema(), payload, "envelope")
        zone = _zone(connection)
        currency = str((connection.settings or {}).get("currency") or "VND").upper()
        records: list[Any] = []
        handled = False
        for notification in envelope["Notifications"]:
            action, items = notification["Action"], notification["Data"]
            if action in HANDLED and not isinstance(items, list):
                raise ValidationError(
                    f"the Data of a KiotViet {action} notification is not a list",
                    details={"Data": ["not a list"]},
                )
            if action == "invoice.update":
                loaded = [_load(schemas.InvoiceSchema(), item, "invoice") for item in items]
                records += [schemas.invoice_order(data, zone, currency) for data in loaded]
            elif action == "order.update":
                loaded = [_load(schemas.OrderSchema(), item, "order") for item in items]
                records += [schemas.order_order(data, zone, currency) for data in loaded]
            elif action == "customer.update":
                loaded = [_load(schemas.CustomerSchema(), item, "customer") for item in items]
                records += [schemas.customer(data) for data in loaded]
            else:
                continue
            handled = True
        return records if handled else None


KIOTVIET = KiotVietConnector()
