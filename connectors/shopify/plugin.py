"""The ``shopify`` connector plugin: the hooks that tie a Shopify store to the hub."""

from __future__ import annotations

import logging
from pathlib import Path

from marshmallow import ValidationError as SchemaError

from connectors.shopify import schemas
from connectors.shopify import signing
from connectors.shopify.installs import installed_connection
from connectors.shopify.settings import ShopifySecretsSchema
from connectors.shopify.settings import ShopifySettingsSchema
from connectors.shopify.store import NAME
from connectors.shopify.store import app_config
from connectors.shopify.store import ours
from connectors.shopify.store import webhook_secrets
from hub import ConnectionUninstalled
from hub import ConnectorInfo
from hub import PeriodicJob
from hub import ValidationError
from hub import handles_events
from hub import hookimpl
from hub import member_by_identity
from hub import register_api_blueprint

#: Its webhook hooks answer only for its own connections (``hub.call_for_connector``).
HUB_CONNECTOR = NAME

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"

ORDER_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
)
CUSTOMER_TOPICS = ("customers/create", "customers/update")
PRIVACY_TOPICS = ("customers/redact", "customers/data_request", "shop/redact")
#: What a disabled (uninstalled) connection still accepts.
AFTER_UNINSTALL = (*PRIVACY_TOPICS, "app/uninstalled")


@hookimpl
def register_connectors(hub):
    return [
        ConnectorInfo(
            name=NAME,
            title="Shopify",
            kind="store",
            description=(
                "Customers and orders flow in by webhooks, rewards go out as discount codes, "
                "and the widget appears on the storefront."
            ),
            settings_schema=ShopifySettingsSchema,
            secrets_schema=ShopifySecretsSchema,
        )
    ]


@hookimpl
def register_blueprints(hub):
    from connectors.shopify.web import api
    from connectors.shopify.web import bp

    register_api_blueprint(hub.app, api)
    return [bp]


@hookimpl
def register_periodic_jobs(hub):
    return [
        PeriodicJob(
            name="shopify.reconcile",
            func="connectors.shopify.sync.reconcile_all",
            interval=15 * 60,
        )
    ]


@hookimpl
def register_migrations(hub):
    return [str(MIGRATIONS)]


@hookimpl
def register_commands(cli):
    from connectors.shopify.cli import add_commands

    add_commands(cli)


# -- inbound webhooks -------------------------------------------------------------


@hookimpl
def webhook_connection(hub, connector, headers, body):
    """App-wide deliveries (the privacy topics) name their store by its domain.

    They go to the connection that completed OAuth for that store, even after
    an uninstall (the store still owes its privacy requests); a connection
    that merely names the shop in its settings is never chosen.
    """
    if connector != NAME:
        return None
    shop = (headers.get("X-Shopify-Shop-Domain") or "").strip().lower()
    if not signing.valid_shop(shop):
        return None
    with hub.db.session() as session:
        connection = installed_connection(session, shop)
        if connection is None:
            return None
        session.expunge(connection)
        return connection


@hookimpl
def webhook_verify(hub, connection, headers, body):
    if not ours(connection):
        return None
    return signing.verify_body(
        webhook_secrets(hub, connection), body, headers.get("X-Shopify-Hmac-Sha256")
    )


@hookimpl
def webhook_delivery_id(hub, connection, headers, body):
    if not ours(connection):
        return None
    # X-Shopify-Event-Id is the same on every duplicate of one event; older deliveries
    # carry only X-Shopify-Webhook-Id (shopify.dev "Ignore duplicate webhooks").
    return headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id")


@hookimpl
def webhook_topic(hub, connection, headers, body):
    if not ours(connection):
        return None
    return headers.get("X-Shopify-Topic") or ""


@hookimpl
def webhook_records(hub, connection, topic, payload, headers):
    if not ours(connection):
        return None
    if connection.status != "active" and topic not in AFTER_UNINSTALL:
        return None  # the store was disconnected: its late deliveries change nothing
    currency = (connection.settings or {}).get("currency")
    try:
        if topic in ORDER_TOPICS:
            return schemas.order_records(payload, currency=currency)
        if topic == "refunds/create":
            return schemas.refund_records(payload, currency=currency)
        if topic in CUSTOMER_TOPICS:
            return schemas.customer_records(payload)
        if topic in PRIVACY_TOPICS:
            return schemas.privacy_records(topic, payload, headers)
    except SchemaError as exc:
        messages = exc.messages
        raise ValidationError(
            f"this Shopify {topic} delivery cannot be read; see details",
            details=messages if isinstance(messages, dict) else {"payload": messages},
        ) from None
    if topic == "app/uninstalled":
        return [ConnectionUninstalled(reason="app/uninstalled")]
    return None


# -- the widget through the app proxy ----------------------------------------------


@hookimpl
def widget_identity(hub, connection, request):
    """A request through the app proxy names the signed-in customer, signed by Shopify."""
    if not ours(connection) or "signature" not in request.args:
        return None
    config = app_config(hub)
    keys = [k for k in (config.get("api_secret"), config.get("previous_api_secret")) if k]
    if not signing.verify_proxy(keys, request.args):
        log.info("shopify connection %s: app proxy signature refused", connection.id)
        return None
    if request.args.get("shop") != (connection.settings or {}).get("shop"):
        return None
    customer_id = request.args.get("logged_in_customer_id") or ""
    if not customer_id:
        return None
    with hub.db.session() as session:
        member = member_by_identity(session, connection.id, customer_id)
        if member is not None:
            session.expunge(member)
        return member


# -- events out ----------------------------------------------------------------------


@hookimpl
@handles_events("voucher.issued", "voucher.cancelled")
def handle_event(hub, event):
    if event.type == "voucher.issued":
        from connectors.shopify.vouchers import push_voucher

        return push_voucher(hub, event)
    if event.type == "voucher.cancelled":
        from connectors.shopify.vouchers import withdraw_voucher

        return withdraw_voucher(hub, event)
    return None
