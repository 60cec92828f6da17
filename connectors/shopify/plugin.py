"""The ``shopify`` connector: the Shopify connector object and the plugin's hooks."""

from __future__ import annotations

import logging

from connectors.shopify import schemas
from connectors.shopify import signing
from connectors.shopify import vouchers
from connectors.shopify.installs import ShopifyInstall
from connectors.shopify.settings import ShopifySecretsSchema
from connectors.shopify.settings import ShopifySettingsSchema
from connectors.shopify.store import NAME
from connectors.shopify.store import app_config
from connectors.shopify.store import open_store
from connectors.shopify.store import webhook_secrets
from hub import ConnectionUninstalled
from hub import StoreConnector
from hub import WebhookDelivery
from hub import handles_events
from hub import hookimpl
from hub import member_by_identity
from hub import register_api_blueprint

log = logging.getLogger(__name__)

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


class ShopifyConnector(StoreConnector):
    """A Shopify store: webhooks signed with the app's secret, the app proxy, discount codes."""

    name = NAME
    title = "Shopify"
    description = (
        "Customers and orders flow in by webhooks, rewards go out as discount codes, "
        "and the widget appears on the storefront."
    )
    settings_schema = ShopifySettingsSchema
    secrets_schema = ShopifySecretsSchema
    install_model = ShopifyInstall
    install_header = "X-Shopify-Shop-Domain"
    package = "connectors.shopify"
    #: Online Store themes serve the customer account pages here (classic and new accounts);
    #: a merchant's ``join_url`` and ``sign_in_url`` settings win.
    default_join_url = "/account/register"
    default_sign_in_url = "/account/login"
    voucher_kinds = ("amount_off", "percent_off", "free_shipping")
    install_fields = ("shop",)

    def install_link(self, hub, merchant_id, data):
        from connectors.shopify.web import WEB
        from connectors.shopify.web import connect_link

        WEB.app(hub)
        return connect_link(hub, merchant_id, {"shop": data.get("shop", ""), "name": ""})

    def store_key(self, headers):
        shop = (headers.get(self.install_header) or "").strip().lower()
        return shop if signing.valid_shop(shop) else None

    def read_webhook(self, hub, connection, headers, body):
        """The signature, delivery id and topic, all from the delivery's headers."""
        secrets = webhook_secrets(hub, connection)
        return WebhookDelivery(
            verified=signing.verify_body(secrets, body, headers.get("X-Shopify-Hmac-Sha256")),
            delivery_id=self.delivery_id(hub, connection, headers, body),
            topic=self.topic(hub, connection, headers, body),
        )

    def verify_webhook(self, hub, connection, headers, body):
        return self.read_webhook(hub, connection, headers, body).verified

    def delivery_id(self, hub, connection, headers, body):
        # X-Shopify-Event-Id is the same on every duplicate of one event; older deliveries
        # carry only X-Shopify-Webhook-Id (shopify.dev "Ignore duplicate webhooks").
        return headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id")

    def topic(self, hub, connection, headers, body):
        return headers.get("X-Shopify-Topic") or ""

    def read(self, hub, connection, topic, payload, headers):
        if connection.status != "active" and topic not in AFTER_UNINSTALL:
            return None  # the store was disconnected: its late deliveries change nothing
        currency = (connection.settings or {}).get("currency")
        if topic in ORDER_TOPICS:
            return schemas.order_records(payload, currency=currency)
        if topic == "refunds/create":
            return schemas.refund_records(payload, currency=currency)
        if topic in CUSTOMER_TOPICS:
            return schemas.customer_records(payload)
        if topic in PRIVACY_TOPICS:
            return schemas.privacy_records(topic, payload, headers)
        if topic == "app/uninstalled":
            return [ConnectionUninstalled(reason="app/uninstalled")]
        return None

    def widget_identity(self, hub, connection, request):
        """A request through the app proxy names the signed-in customer, signed by Shopify."""
        if "signature" not in request.args:
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

    def open_store(self, hub, connection_id):
        return open_store(hub, connection_id)

    def create_discount(self, hub, store, voucher, customer_id):
        vouchers.create_code(store, voucher, customer_id)

    def withdraw_code(self, hub, merchant_id, code):
        return vouchers.withdraw_code(hub, merchant_id, code)


SHOPIFY = ShopifyConnector()


@hookimpl
def register_connectors(hub):
    return [SHOPIFY]


@hookimpl
def register_blueprints(hub):
    from connectors.shopify.web import api
    from connectors.shopify.web import bp

    register_api_blueprint(hub.app, api)
    return [bp]


@hookimpl
def register_periodic_jobs(hub):
    return SHOPIFY.periodic_jobs()


@hookimpl
def register_migrations(hub):
    return SHOPIFY.migrations()


@hookimpl
def register_commands(cli):
    SHOPIFY.add_commands(cli)


@hookimpl
@handles_events("voucher.issued", "voucher.cancelled")
def handle_event(hub, event):
    return SHOPIFY.handle_voucher_event(hub, event)
