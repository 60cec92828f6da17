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

import logging
from collections.abc import Callable
from datetime import timedelta
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
from hub import active_connection_ids
from hub import apply_pages
from hub import current_hub
from hub import run_backfill
from hub import utcnow
from hub import walk_pages

log = logging.getLogger(__name__)

PAGE_SIZE = 50
RECONCILE_WINDOW = timedelta(hours=48)
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


BACKFILL = StoreBackfill(open_store=open_store, fetch=_page, cursor_key="page", first_cursor=1)


def backfill(
    hub: Hub,
    connection_id: int,
    *,
    progress: Callable[[int], None] | None = None,
    restart: bool = False,
    page_size: int = PAGE_SIZE,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Import the shop's customers, then its orders; return the state reached."""
    return run_backfill(
        hub,
        connection_id,
        BACKFILL,
        progress=progress,
        restart=restart,
        page_size=page_size,
        max_pages=max_pages,
    )


def backfill_job(connection_id: int) -> dict[str, Any]:
    """Job: run the backfill to its end (resumes where an earlier run stopped)."""
    return backfill(current_hub(), connection_id)


def reconcile_all() -> int:
    """Periodic job: enqueue one reconciliation per active Haravan connection."""
    hub = current_hub()
    with hub.db.session() as session:
        ids = active_connection_ids(session, NAME)
    for connection_id in ids:
        hub.jobs.enqueue(
            "connectors.haravan.sync.reconcile_connection",
            connection_id,
            job_id=f"haravan-reconcile-{connection_id}",
            retry=hub.jobs.default_retry(3),
            meta={"plugin": NAME, "connection_id": connection_id},
        )
    return len(ids)


def reconcile_connection(connection_id: int, window_hours: int | None = None) -> dict[str, Any]:
    """Job: re-subscribe missing topics and apply orders updated in the last 48 hours."""
    hub = current_hub()
    store = open_store(hub, connection_id)
    if store is None:
        return {"skipped": True}
    subscribed = ensure_webhooks(store)
    window = timedelta(hours=window_hours) if window_hours else RECONCILE_WINDOW
    since = (utcnow() - window).strftime("%Y-%m-%dT%H:%M:%SZ")
    pages = walk_pages(
        lambda page: _page(store, "orders", page, PAGE_SIZE, updated_at_min=since), first=1
    )
    seen = apply_pages(hub, connection_id, pages)
    log.info("haravan connection %s reconciled: %s orders", connection_id, seen)
    return {"orders": seen, "webhooks_subscribed": subscribed}
