"""Backfill a shop's history and reconcile what webhooks missed, page by page.

Haravan's list endpoints page with ``page`` and ``limit`` (at most 50) and
filter orders by ``updated_at_min`` like Shopify's REST API they are modelled
on [I: docs.haravan.com lists the endpoints; the parameters follow Shopify's].
Records are applied with ``hub.apply_record``, so the program decides whether
history earns and a record applied twice changes nothing. The backfill keeps
its place (phase, page, count) in the connection's settings, written in the
same transaction as each page: an interrupted run resumes at the next page.
"""

from __future__ import annotations

from typing import Any

from connectors.haravan.schemas import customer_records
from connectors.haravan.schemas import order_records
from connectors.haravan.setup import ensure_webhooks
from connectors.haravan.store import NAME
from connectors.haravan.store import OpenStore
from connectors.haravan.store import open_store
from hub import Hub
from hub import StoreBackfill
from hub import StorePage
from hub import StoreSync

LISTS = {"customers": "/com/customers.json", "orders": "/com/orders.json"}


def totals(hub: Hub, connection_id: int) -> int | None:
    store = open_store(hub, connection_id)
    if store is None:
        return None
    customers = store.api.get("/com/customers/count.json").get("count") or 0
    orders = store.api.get("/com/orders/count.json", status="any").get("count") or 0
    return int(customers) + int(orders)


def _page(store: OpenStore, phase: str, page: int, page_size: int, **filters: Any) -> StorePage:
    """Page number ``page`` of the shop's ``phase`` list, mapped to canonical records."""
    params: dict[str, Any] = {"page": page, "limit": page_size, **filters}
    if phase == "orders":
        params["status"] = "any"
    items = store.api.get(LISTS[phase], **params).get(phase) or []
    mapping = order_records if phase == "orders" else customer_records
    records = [r for item in items for r in mapping(item)]
    return StorePage(records, len(items), page + 1 if len(items) == page_size else None)


def _updated(store: OpenStore, page: int, page_size: int, since: str) -> StorePage:
    return _page(store, "orders", page, page_size, updated_at_min=since)


def _resubscribe(hub: Hub, store: OpenStore) -> dict[str, Any]:
    return {"webhooks_subscribed": ensure_webhooks(store)}


SYNC = StoreSync(
    NAME,
    __name__,
    StoreBackfill(open_store=open_store, fetch=_page, cursor_key="page", first_cursor=1),
    updated=_updated,
    resubscribe=_resubscribe,
)
backfill = SYNC.backfill
backfill_job = SYNC.backfill_job
reconcile_all = SYNC.reconcile_all
reconcile_connection = SYNC.reconcile_connection
