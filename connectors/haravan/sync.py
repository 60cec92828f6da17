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
from connectors.haravan.store import open_store
from hub import Connection
from hub import Hub
from hub import active_connection_ids
from hub import apply_record
from hub import current_hub
from hub import utcnow

log = logging.getLogger(__name__)

PAGE_SIZE = 50
RECONCILE_WINDOW = timedelta(hours=48)
PHASES = ("customers", "orders", "done")
LISTS = {"customers": "/com/customers.json", "orders": "/com/orders.json"}


def totals(hub: Hub, connection_id: int) -> int | None:
    store = open_store(hub, connection_id)
    if store is None:
        return None
    customers = store.api.get("/com/customers/count.json").get("count") or 0
    orders = store.api.get("/com/orders/count.json", status="any").get("count") or 0
    return int(customers) + int(orders)


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
    if restart:
        _save(hub, connection_id, {"phase": "customers", "page": 1, "done": 0}, [])
    pages = 0
    while True:
        store = open_store(hub, connection_id)
        if store is None:
            return {"phase": "stopped"}
        state = {
            "phase": "customers",
            "page": 1,
            "done": 0,
            **(store.settings.get("backfill") or {}),
        }
        if state["phase"] == "done" or (max_pages is not None and pages >= max_pages):
            return state
        phase = state["phase"]
        params: dict[str, Any] = {"page": state["page"], "limit": page_size}
        if phase == "orders":
            params["status"] = "any"
        items = store.api.get(LISTS[phase], **params).get(phase) or []
        records = [
            r
            for item in items
            for r in (order_records(item) if phase == "orders" else customer_records(item))
        ]
        if len(items) == page_size:
            state = {**state, "page": state["page"] + 1, "done": state["done"] + len(items)}
        else:
            state = {
                "phase": PHASES[PHASES.index(phase) + 1],
                "page": 1,
                "done": state["done"] + len(items),
            }
        _save(hub, connection_id, state, records)
        pages += 1
        if progress is not None:
            progress(len(items))


def _save(hub: Hub, connection_id: int, state: dict[str, Any], records: list[Any]) -> None:
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id, with_for_update=True)
        for record in records:
            apply_record(hub, session, connection, record)
        connection.settings = {
            **(connection.settings or {}),
            "backfill": {**state, "updated_at": utcnow().isoformat()},
        }


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
    page, seen = 1, 0
    while True:
        items = (
            store.api.get(
                "/com/orders.json", updated_at_min=since, status="any", page=page, limit=PAGE_SIZE
            ).get("orders")
            or []
        )
        records = [r for item in items for r in order_records(item)]
        with hub.db.transaction() as session:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status != "active":
                break
            for record in records:
                apply_record(hub, session, connection, record)
        seen += len(items)
        if len(items) < PAGE_SIZE:
            break
        page += 1
    log.info("haravan connection %s reconciled: %s orders", connection_id, seen)
    return {"orders": seen, "webhooks_subscribed": subscribed}
