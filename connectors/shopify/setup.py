"""Set a store up for the hub: webhook subscriptions and the widget's script tag.

Run as a job after an install (and by ``POST /api/v1/shopify/connections/<id>/setup``
for a pasted token); the reconciliation job runs the webhook part again, so a
subscription Shopify removed after repeated failed deliveries comes back.
Idempotent: what exists already is left as it is.

The mandatory privacy topics (``customers/data_request``, ``customers/redact``,
``shop/redact``) cannot be subscribed through the Admin API: they are set in
the app's configuration (``shopify.app.toml`` or the Partner Dashboard) to the
hub's app-wide URL ``/webhooks/shopify`` (shopify.dev "Privacy law compliance").
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.shopify.client import user_errors
from connectors.shopify.store import NAME
from connectors.shopify.store import OpenStore
from connectors.shopify.store import open_store
from connectors.shopify.store import webhook_url
from hub import Hub
from hub import PermanentError
from hub import current_hub
from hub import public_url
from hub import update_connection_settings
from hub import utcnow

log = logging.getLogger(__name__)

#: Topics subscribed per store, as GraphQL ``WebhookSubscriptionTopic`` values
#: (shopify.dev admin-graphql WebhookSubscriptionTopic enum).
TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_PAID",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "APP_UNINSTALLED",
)

SHOP_QUERY = """
query HubShop { shop { name currencyCode myshopifyDomain } }
"""

SUBSCRIPTIONS_QUERY = """
query HubWebhookSubscriptions {
  webhookSubscriptions(first: 100) { nodes { id topic uri } }
}
"""

# ``uri`` replaced ``callbackUrl`` in WebhookSubscriptionInput (shopify.dev changelog
# "webhookSubscriptionCreate and webhookSubscriptionUpdate support all URI types")
# [I: that the pinned version has it; the per-connection api_version setting can pin another].
SUBSCRIBE_MUTATION = """
mutation HubWebhookSubscribe($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

SCRIPT_TAGS_QUERY = """
query HubScriptTags { scriptTags(first: 50) { nodes { id src } } }
"""

SCRIPT_TAG_MUTATION = """
mutation HubScriptTag($src: URL!) {
  scriptTagCreate(input: {src: $src, displayScope: ONLINE_STORE, cache: true}) {
    scriptTag { id src }
    userErrors { field message }
  }
}
"""


def widget_script_url(hub: Hub, connection_id: int) -> str:
    return f"{public_url(hub, 'Shopify')}/{NAME}/widget.js?connection={connection_id}"


def setup_connection(connection_id: int) -> dict[str, Any]:
    """Job: read the shop, subscribe the webhooks and inject the widget; return what changed."""
    hub = current_hub()
    store = open_store(hub, connection_id)
    if store is None:
        log.info("shopify connection %s is not active; setup skipped", connection_id)
        return {"skipped": True}
    shop = store.admin.graphql(SHOP_QUERY, cost=2).get("shop") or {}
    created = ensure_webhooks(hub, store)
    script = None
    if (store.settings.get("inject_widget", True)) is not False:
        script = ensure_script_tag(hub, store)
    changes = {
        "currency": shop.get("currencyCode") or store.settings.get("currency"),
        "shop_name": shop.get("name") or store.settings.get("shop_name"),
        "set_up_at": utcnow().isoformat(),
    }
    update_connection_settings(hub, connection_id, changes)
    return {"webhooks_created": created, "script_tag": script}


def ensure_webhooks(hub: Hub, store: OpenStore) -> list[str]:
    """Subscribe every topic this connection's URL lacks; return the topics subscribed now."""
    url = webhook_url(hub, store.connection.id)
    data = store.admin.graphql(SUBSCRIPTIONS_QUERY, cost=12)
    nodes = ((data.get("webhookSubscriptions") or {}).get("nodes")) or []
    present = {n.get("topic") for n in nodes if (n.get("uri") or n.get("callbackUrl")) == url}
    created = []
    for topic in TOPICS:
        if topic in present:
            continue
        answer = store.admin.graphql(SUBSCRIBE_MUTATION, {"topic": topic, "uri": url}, cost=10)
        errors = user_errors(answer.get("webhookSubscriptionCreate"))
        if errors and not _already_taken(errors):
            raise PermanentError(f"Shopify refused the {topic} subscription: {errors}")
        created.append(topic)
    if created:
        log.info("shopify connection %s: subscribed %s", store.connection.id, ", ".join(created))
    return created


def ensure_script_tag(hub: Hub, store: OpenStore) -> str:
    """Add the widget's script tag unless the store has it; return its src."""
    src = widget_script_url(hub, store.connection.id)
    data = store.admin.graphql(SCRIPT_TAGS_QUERY, cost=5)
    nodes = ((data.get("scriptTags") or {}).get("nodes")) or []
    if any(n.get("src") == src for n in nodes):
        return src
    answer = store.admin.graphql(SCRIPT_TAG_MUTATION, {"src": src}, cost=10)
    errors = user_errors(answer.get("scriptTagCreate"))
    if errors:
        raise PermanentError(f"Shopify refused the widget script tag: {errors}")
    return src


def _already_taken(errors: list[dict[str, Any]]) -> bool:
    return all("taken" in str(e.get("message", "")).lower() for e in errors)
