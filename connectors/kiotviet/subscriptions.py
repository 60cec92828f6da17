"""Register the hub's webhook with KiotViet, one registration per event.

KiotViet takes one event type per registration [C]:
``POST /webhooks {"Webhook": {"Type", "Url", "IsActive", "Description", "Secret"}}``
answers ``{id, type, url, isActive, description, retailerId}`` [V-copy]. The
guide asks for ``?noecho`` on the URL. ``Secret`` (not in guide v1.4, sent by
newer integrations [C]) is the connection's webhook secret in base64; the
signature check accepts either form as the key.

Registering is idempotent: registrations already at KiotViet for the hub's
URL are kept, so running it again registers nothing twice.
"""

from __future__ import annotations

import secrets as tokens
from typing import TYPE_CHECKING
from typing import Any

from connectors.kiotviet import client
from connectors.kiotviet.signature import registered_secret
from hub import Connection
from hub import PermanentError
from hub import current_hub
from hub import record_audit
from hub import refresh_connection_secrets

if TYPE_CHECKING:
    from hub import Hub

EVENTS = ("invoice.update", "customer.update", "order.update")
DESCRIPTION = "Storefront Hub: loyalty points"


def webhook_url(hub: Hub, connection_id: int) -> str:
    """Where KiotViet sends this connection's notifications."""
    public = hub.config.get("HUB_PUBLIC_URL")
    if not public:
        raise PermanentError(
            "set HUB_PUBLIC_URL to the address KiotViet can reach this hub at "
            "(https://hub.example.com) before registering webhooks"
        )
    return f"{public.rstrip('/')}/webhooks/kiotviet/{connection_id}?noecho"


def _webhook_secret(hub: Hub, connection_id: int) -> str:
    """The connection's webhook secret, made (and stored) on first use."""
    stored = refresh_connection_secrets(
        hub,
        connection_id,
        needs_refresh=lambda current: not current.get("webhook_secret"),
        refresh=lambda current: {"webhook_secret": tokens.token_urlsafe(32)},
    )
    return stored["webhook_secret"]


def _listed(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, dict):
        answer = answer.get("data") or answer.get("Data") or []
    return [item for item in answer or [] if isinstance(item, dict)]


def _field(item: dict[str, Any], name: str) -> Any:
    return item.get(name, item.get(name[:1].upper() + name[1:]))


def register_webhooks(connection_id: int) -> dict[str, Any]:
    """Job: register every event of ``EVENTS`` for the connection; return ``{event: id}``.

    Stored in the connection's ``webhooks`` setting. Safe to run again.
    """
    hub = current_hub()
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
    if connection is None or connection.connector != "kiotviet" or connection.status != "active":
        raise PermanentError(f"no active KiotViet connection {connection_id}")
    url = webhook_url(hub, connection_id)
    secret = registered_secret(_webhook_secret(hub, connection_id))
    existing = {
        _field(item, "type"): _field(item, "id")
        for item in _listed(client.call(hub, connection, "GET", "/webhooks"))
        if _field(item, "url") == url
    }
    registered = {}
    for event in EVENTS:
        if existing.get(event) is not None:
            registered[event] = existing[event]
            continue
        body = {
            "Webhook": {
                "Type": event,
                "Url": url,
                "IsActive": True,
                "Description": DESCRIPTION,
                "Secret": secret,
            }
        }
        answer = client.call(hub, connection, "POST", "/webhooks", json=body) or {}
        registered[event] = _field(answer, "id")
    _remember(hub, connection_id, registered)
    return registered


def _remember(hub: Hub, connection_id: int, registered: dict[str, Any]) -> None:
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id, with_for_update=True)
        connection.settings = {**(connection.settings or {}), "webhooks": registered}
        record_audit(
            session,
            connection.merchant_id,
            actor="kiotviet",
            action="kiotviet.webhooks_registered",
            object_type="connection",
            object_id=connection_id,
            data={"events": sorted(registered)},
        )
