"""The ``haravan`` connector: the Haravan connector object and the plugin's hooks."""

from __future__ import annotations

import hashlib

from connectors.haravan import models  # noqa: F401 - registers the table on hub.Model
from connectors.haravan import schemas
from connectors.haravan import signing
from connectors.haravan import vouchers
from connectors.haravan.installs import HaravanInstall
from connectors.haravan.settings import HaravanSecretsSchema
from connectors.haravan.settings import HaravanSettingsSchema
from connectors.haravan.store import NAME
from connectors.haravan.store import open_store
from connectors.haravan.store import webhook_secrets
from hub import ConnectionUninstalled
from hub import StoreConnector
from hub import handles_events
from hub import hookimpl
from hub import register_api_blueprint

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
)
CUSTOMER_TOPICS = ("customers/create", "customers/update")


class HaravanConnector(StoreConnector):
    """A Haravan shop: webhooks signed with the app's secret, discounts pushed and disabled."""

    name = NAME
    title = "Haravan"
    description = (
        "Customers and orders flow in by webhooks, rewards go out as discounts, "
        "and the widget appears on the storefront."
    )
    settings_schema = HaravanSettingsSchema
    secrets_schema = HaravanSecretsSchema
    install_model = HaravanInstall
    #: App webhooks all reach ``/webhooks/haravan``; this header names the shop.
    install_header = "X-Haravan-Org-Id"
    package = "connectors.haravan"
    #: Haravan themes serve the customer account pages here;
    #: a merchant's ``join_url`` and ``sign_in_url`` settings win.
    default_join_url = "/account/register"
    default_sign_in_url = "/account/login"

    def install_link(self, hub, merchant_id, data):
        from connectors.haravan.web import WEB
        from connectors.haravan.web import connect_link

        WEB.app(hub)
        return connect_link(hub, merchant_id, {"name": ""})

    def verify_webhook(self, hub, connection, headers, body):
        legacy = bool((connection.settings or {}).get("legacy_hmac_sha1"))
        return signing.verify(webhook_secrets(hub, connection), headers, body, legacy=legacy)

    def delivery_id(self, hub, connection, headers, body):
        # Haravan sends no delivery id: a retry repeats topic, shop and body [I].
        topic = headers.get("X-Haravan-Topic") or ""
        org = headers.get("X-Haravan-Org-Id") or ""
        return "sha256:" + hashlib.sha256(f"{topic}|{org}|".encode() + body).hexdigest()

    def topic(self, hub, connection, headers, body):
        return headers.get("X-Haravan-Topic") or ""

    def read(self, hub, connection, topic, payload, headers):
        if headers.get("X-Haravan-Test"):
            return None  # Haravan's test deliveries change nothing [C]
        if topic == "app/uninstalled":
            return [ConnectionUninstalled(reason="app/uninstalled")]
        if connection.status != "active":
            return None
        if topic in ORDER_TOPICS:
            return schemas.order_records(payload)
        if topic in CUSTOMER_TOPICS:
            return schemas.customer_records(payload)
        return None

    def open_store(self, hub, connection_id):
        return open_store(hub, connection_id)

    def create_discount(self, hub, store, voucher, customer_id):
        vouchers.create_discount(hub, store, voucher)

    def withdraw_code(self, hub, merchant_id, code):
        return vouchers.withdraw_code(hub, merchant_id, code)


HARAVAN = HaravanConnector()


@hookimpl
def register_connectors(hub):
    return [HARAVAN]


@hookimpl
def register_blueprints(hub):
    from connectors.haravan.web import api
    from connectors.haravan.web import bp

    register_api_blueprint(hub.app, api)
    return [bp]


@hookimpl
def register_periodic_jobs(hub):
    return HARAVAN.periodic_jobs()


@hookimpl
def register_commands(cli):
    HARAVAN.add_commands(cli)


@hookimpl
@handles_events("voucher.issued", "voucher.cancelled")
def handle_event(hub, event):
    return HARAVAN.handle_voucher_event(hub, event)


@hookimpl
def register_migrations(hub):
    return HARAVAN.migrations()
