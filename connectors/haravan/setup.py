"""Set a shop up for the hub: webhook topics and the widget's ScriptTag.

App webhooks go to the app's one callback URL, set with its Verify Token in
the partner dashboard (``/webhooks/haravan`` on the hub); the shop's topics
are then subscribed with ``POST https://webhook.haravan.com/api/subscribe``
and the shop's token, and listed with ``GET`` on the same URL (docs.haravan.com
"Connect webhook" for the steps [V]; URL, verbs and body from several
codebases [C]; the body ``{"topics": [...]}`` is [I]). Haravan checks the
callback with a ``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...``
that the hub answers (``web.verify_challenge``). Idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.haravan.store import NAME
from connectors.haravan.store import OpenStore
from connectors.haravan.store import open_store
from hub import current_hub
from hub import public_url
from hub import update_connection_settings
from hub import utcnow

log = logging.getLogger(__name__)

#: Topics seen in live-handling code and Haravan's MCP README [C].
TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "customers/create",
    "customers/update",
    "app/uninstalled",
)


def setup_connection(connection_id: int) -> dict[str, Any]:
    """Job: read the shop, subscribe the topics and add the widget's ScriptTag."""
    hub = current_hub()
    store = open_store(hub, connection_id)
    if store is None:
        return {"skipped": True}
    shop = (store.api.get("/com/shop.json") or {}).get("shop") or {}
    subscribed = ensure_webhooks(store)
    script = None
    if store.settings.get("inject_widget", True) is not False:
        script = ensure_script_tag(hub, store)
    update_connection_settings(
        hub,
        connection_id,
        {
            "currency": shop.get("currency") or store.settings.get("currency") or "VND",
            "shop_name": shop.get("name") or store.settings.get("shop_name"),
            "set_up_at": utcnow().isoformat(),
        },
    )
    return {"webhooks_subscribed": subscribed, "script_tag": script}


def ensure_webhooks(store: OpenStore) -> list[str]:
    """Subscribe the topics the shop lacks; return them."""
    listed = store.webhook_api.get("/api/subscribe") or {}
    present = set(listed.get("topics") or [])
    missing = [t for t in TOPICS if t not in present]
    if missing:
        store.webhook_api.post("/api/subscribe", {"topics": missing})
        log.info("haravan connection %s: subscribed %s", store.connection.id, ", ".join(missing))
    return missing


def widget_script_url(hub, connection_id: int) -> str:
    return f"{public_url(hub, 'Haravan')}/{NAME}/widget.js?connection={connection_id}"


def ensure_script_tag(hub, store: OpenStore) -> str:
    """Add the widget's ScriptTag (``POST /web/script_tags.json``, event ``onload``) once."""
    src = widget_script_url(hub, store.connection.id)
    tags = (store.api.get("/web/script_tags.json") or {}).get("script_tags") or []
    if not any(t.get("src") == src for t in tags):
        store.api.post("/web/script_tags.json", {"script_tag": {"event": "onload", "src": src}})
    return src
