"""The ``custom`` connector: a storefront of the merchant's own sends canonical events.

Events are JSON (``{"type", "timestamp", "data"}``) signed per Standard
Webhooks with the connection's ``webhook_secret`` (a ``whsec_`` secret), sent
to ``POST /webhooks/custom/<connection id>``. See docs/custom-storefront.md.
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError as SchemaError

from connectors.custom import signature
from connectors.custom.schemas import CustomerSchema
from connectors.custom.schemas import EnvelopeSchema
from connectors.custom.schemas import OrderSchema
from connectors.custom.schemas import RefundSchema
from connectors.custom.settings import CustomSecretsSchema
from connectors.custom.settings import CustomSettingsSchema
from hub import Connector
from hub import ValidationError
from hub import connection_secrets
from hub import hookimpl

NAME = "custom"
#: Event types and the schema that loads their ``data``.
ORDER_TYPES = ("order.created", "order.updated", "order.paid", "order.cancelled")
CUSTOMER_TYPES = ("customer.created", "customer.updated")
REFUND_TYPES = ("refund.created",)


@hookimpl
def register_connectors(hub):
    return [CUSTOM]


def _webhook_secrets(hub: Any, connection: Any) -> tuple[str, ...]:
    """Return the secrets that may sign a delivery, decrypted once per stored value.

    The cache is keyed by the encrypted text itself, which changes whenever a
    secret does (each encryption draws a new IV), so a rotation is never missed.
    """
    cache = hub.app.extensions.setdefault("custom_webhook_secrets", {})
    token = connection.secrets_encrypted
    secrets = cache.get(token)
    if secrets is None:
        stored = connection_secrets(hub, connection)
        names = ("webhook_secret", "previous_webhook_secret")
        secrets = tuple(stored[name] for name in names if stored.get(name))
        if len(cache) >= 1024:
            cache.clear()
        cache[token] = secrets
    return secrets


#: Built once and shared by every delivery: loading keeps no state on a schema.
_SCHEMAS = {
    "event": EnvelopeSchema(),
    "order": OrderSchema(),
    "customer": CustomerSchema(),
    "refund": RefundSchema(),
}


def _load(schema: Any, data: Any, what: str) -> Any:
    try:
        return schema.load(data)
    except SchemaError as exc:
        raise ValidationError(
            f"the {what} in this custom storefront event is invalid; see details",
            details=exc.messages,
        ) from None


class CustomConnector(Connector):
    """A storefront of the merchant's own: canonical events signed per Standard Webhooks."""

    name = NAME
    title = "Custom storefront (signed webhooks)"
    kind = "custom"
    description = (
        "Your own site sends order, refund and customer events, signed per "
        "Standard Webhooks, to /webhooks/custom/<connection id>."
    )
    settings_schema = CustomSettingsSchema
    secrets_schema = CustomSecretsSchema

    def verify_webhook(self, hub, connection, headers, body):
        secrets = _webhook_secrets(hub, connection)
        if not secrets:
            return False
        try:
            return signature.verify(secrets, headers, body)
        except ValueError:
            return False  # a malformed stored secret verifies nothing

    def delivery_id(self, hub, connection, headers, body):
        return headers.get("webhook-id")

    def topic(self, hub, connection, headers, body):
        try:
            event = json.loads(body)
        except ValueError:
            return ""
        kind = event.get("type") if isinstance(event, dict) else None
        return kind if isinstance(kind, str) else ""

    def records(self, hub, connection, topic, payload, headers):
        envelope = _load(_SCHEMAS["event"], payload, "event")
        kind = envelope["type"]
        if kind in ORDER_TYPES:
            return [_load(_SCHEMAS["order"], envelope["data"], "order")]
        if kind in CUSTOMER_TYPES:
            return [_load(_SCHEMAS["customer"], envelope["data"], "customer")]
        if kind in REFUND_TYPES:
            return [_load(_SCHEMAS["refund"], envelope["data"], "refund")]
        return None


CUSTOM = CustomConnector()
