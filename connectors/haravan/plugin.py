"""The ``haravan`` connector plugin: the hooks that tie a Haravan shop to the hub."""

from __future__ import annotations

import hashlib
from pathlib import Path

from marshmallow import ValidationError as SchemaError

from connectors.haravan import models  # noqa: F401 - registers the table on hub.Model
from connectors.haravan import schemas
from connectors.haravan import signing
from connectors.haravan.installs import installed_connection
from connectors.haravan.settings import HaravanSecretsSchema
from connectors.haravan.settings import HaravanSettingsSchema
from connectors.haravan.store import NAME
from connectors.haravan.store import ours
from connectors.haravan.store import webhook_secrets
from hub import ConnectionUninstalled
from hub import ConnectorInfo
from hub import PeriodicJob
from hub import ValidationError
from hub import handles_events
from hub import hookimpl
from hub import register_api_blueprint

#: Its webhook hooks answer only for its own connections (``hub.call_for_connector``).
HUB_CONNECTOR = NAME

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
)
CUSTOMER_TOPICS = ("customers/create", "customers/update")
MIGRATIONS = Path(__file__).parent / "migrations"


@hookimpl
def register_connectors(hub):
    return [
        ConnectorInfo(
            name=NAME,
            title="Haravan",
            kind="store",
            description=(
                "Customers and orders flow in by webhooks, rewards go out as discounts, "
                "and the widget appears on the storefront."
            ),
            settings_schema=HaravanSettingsSchema,
            secrets_schema=HaravanSecretsSchema,
        )
    ]


@hookimpl
def register_blueprints(hub):
    from connectors.haravan.web import api
    from connectors.haravan.web import bp

    register_api_blueprint(hub.app, api)
    return [bp]


@hookimpl
def register_periodic_jobs(hub):
    return [
        PeriodicJob(
            name="haravan.reconcile", func="connectors.haravan.sync.reconcile_all", interval=900
        )
    ]


@hookimpl
def register_commands(cli):
    from connectors.haravan.cli import add_commands

    add_commands(cli)


@hookimpl
def webhook_connection(hub, connector, headers, body):
    """App webhooks all reach ``/webhooks/haravan``; ``X-Haravan-Org-Id`` names the shop.

    They go to the connection that completed OAuth for that shop, even after
    an uninstall; a connection that merely names the org id in its settings
    is never chosen.
    """
    if connector != NAME:
        return None
    org_id = (headers.get("X-Haravan-Org-Id") or "").strip()
    if not org_id:
        return None
    with hub.db.session() as session:
        connection = installed_connection(session, org_id)
        if connection is None:
            return None
        session.expunge(connection)
        return connection


@hookimpl
def webhook_verify(hub, connection, headers, body):
    if not ours(connection):
        return None
    legacy = bool((connection.settings or {}).get("legacy_hmac_sha1"))
    return signing.verify(webhook_secrets(hub, connection), headers, body, legacy=legacy)


@hookimpl
def webhook_delivery_id(hub, connection, headers, body):
    if not ours(connection):
        return None
    # Haravan sends no delivery id: a retry repeats topic, shop and body [I].
    topic = headers.get("X-Haravan-Topic") or ""
    org = headers.get("X-Haravan-Org-Id") or ""
    return "sha256:" + hashlib.sha256(f"{topic}|{org}|".encode() + body).hexdigest()


@hookimpl
def webhook_topic(hub, connection, headers, body):
    if not ours(connection):
        return None
    return headers.get("X-Haravan-Topic") or ""


@hookimpl
def webhook_records(hub, connection, topic, payload, headers):
    if not ours(connection):
        return None
    if headers.get("X-Haravan-Test"):
        return None  # Haravan's test deliveries change nothing [C]
    if topic == "app/uninstalled":
        return [ConnectionUninstalled(reason="app/uninstalled")]
    if connection.status != "active":
        return None
    try:
        if topic in ORDER_TOPICS:
            return schemas.order_records(payload)
        if topic in CUSTOMER_TOPICS:
            return schemas.customer_records(payload)
    except SchemaError as exc:
        messages = exc.messages
        raise ValidationError(
            f"this Haravan {topic} delivery cannot be read; see details",
            details=messages if isinstance(messages, dict) else {"payload": messages},
        ) from None
    return None


@hookimpl
@handles_events("voucher.issued", "voucher.cancelled")
def handle_event(hub, event):
    if event.type == "voucher.issued":
        from connectors.haravan.vouchers import push_voucher

        return push_voucher(hub, event)
    if event.type == "voucher.cancelled":
        from connectors.haravan.vouchers import withdraw_voucher

        return withdraw_voucher(hub, event)
    return None


@hookimpl
def register_migrations(hub):
    return [str(MIGRATIONS)]
