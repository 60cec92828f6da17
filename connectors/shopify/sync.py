"""Backfill a store's history and reconcile what webhooks missed, page by page.

Both read the GraphQL Admin API within its cost limit (``client.ShopifyAdmin``
waits for the bucket) and apply records with ``hub.apply_record``, so an order
is recorded exactly as its webhook would record it: the program's start date
and ``count_orders_before_start`` decide whether history earns, and a record
applied twice changes nothing.

The backfill keeps its place in the connection's settings (``backfill``:
phase, cursor and count), written in the same transaction as each page, so an
interrupted run picks up at the page after the last one stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from connectors.shopify.schemas import graphql_customer_records
from connectors.shopify.schemas import graphql_order_records
from connectors.shopify.setup import ensure_webhooks
from connectors.shopify.store import NAME
from connectors.shopify.store import open_store
from hub import Connection
from hub import Hub
from hub import active_connection_ids
from hub import apply_record
from hub import current_hub
from hub import utcnow

log = logging.getLogger(__name__)

PAGE_SIZE = 50
#: Orders updated this long ago or later are looked at by each reconciliation.
RECONCILE_WINDOW = timedelta(hours=48)

CUSTOMERS_QUERY = """
query HubCustomers($first: Int!, $after: String) {
  customers(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId firstName lastName tags
      defaultEmailAddress { emailAddress }
      defaultPhoneNumber { phoneNumber }
      defaultAddress { address1 city province }
    }
  }
}
"""

ORDERS_QUERY = """
query HubOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId name email phone createdAt processedAt cancelledAt
      currencyCode displayFinancialStatus discountCodes
      subtotalPriceSet { shopMoney { amount } }
      totalPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      customer {
        legacyResourceId firstName lastName
        defaultEmailAddress { emailAddress }
        defaultPhoneNumber { phoneNumber }
      }
      lineItems(first: 100) {
        nodes {
          quantity sku title
          originalUnitPriceSet { shopMoney { amount } }
          totalDiscountSet { shopMoney { amount } }
          product { legacyResourceId }
          variant { legacyResourceId }
        }
      }
      refunds(first: 50) {
        legacyResourceId createdAt note
        totalRefundedSet { shopMoney { amount currencyCode } }
      }
    }
  }
}
"""

COUNTS_QUERY = """
query HubCounts { customersCount { count } ordersCount(limit: null) { count } }
"""

PHASES = ("customers", "orders", "done")


def backfill_state(connection: Connection) -> dict[str, Any]:
    state = dict((connection.settings or {}).get("backfill") or {})
    state.setdefault("phase", "customers")
    state.setdefault("cursor", None)
    state.setdefault("done", 0)
    return state


def totals(hub: Hub, connection_id: int) -> int | None:
    """Return how many customers and orders the store has (for a progress bar)."""
    store = open_store(hub, connection_id)
    if store is None:
        return None
    data = store.admin.graphql(COUNTS_QUERY, cost=2)
    return sum(
        int((data.get(k) or {}).get("count") or 0) for k in ("customersCount", "ordersCount")
    )


def backfill(
    hub: Hub,
    connection_id: int,
    *,
    progress: Callable[[int], None] | None = None,
    restart: bool = False,
    page_size: int = PAGE_SIZE,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Import the store's customers, then its orders; return the state reached.

    ``progress(n)`` is called with the number of records of each page stored.
    ``max_pages`` stops early (the state says where); ``restart`` starts over.
    """
    if restart:
        _save_state(hub, connection_id, {"phase": "customers", "cursor": None, "done": 0}, [])
    pages = 0
    while True:
        store = open_store(hub, connection_id)
        if store is None:
            return {"phase": "stopped"}
        state = backfill_state(store.connection)
        if state["phase"] == "done" or (max_pages is not None and pages >= max_pages):
            return state
        variables = {"first": page_size, "after": state["cursor"]}
        if state["phase"] == "customers":
            data = store.admin.graphql(CUSTOMERS_QUERY, variables, cost=page_size + 2)
            page = data.get("customers") or {}
            records = [
                r for node in page.get("nodes") or [] for r in graphql_customer_records(node)
            ]
            count = len(page.get("nodes") or [])
        else:
            data = store.admin.graphql(ORDERS_QUERY, variables, cost=page_size * 4 + 2)
            page = data.get("orders") or {}
            currency = store.settings.get("currency")
            records = [
                r
                for node in page.get("nodes") or []
                for r in graphql_order_records(node, currency=currency)
            ]
            count = len(page.get("nodes") or [])
        info = page.get("pageInfo") or {}
        if info.get("hasNextPage"):
            state = {**state, "cursor": info.get("endCursor"), "done": state["done"] + count}
        else:
            phase = PHASES[PHASES.index(state["phase"]) + 1]
            state = {"phase": phase, "cursor": None, "done": state["done"] + count}
        _save_state(hub, connection_id, state, records)
        pages += 1
        if progress is not None:
            progress(count)


def _save_state(hub: Hub, connection_id: int, state: dict[str, Any], records: list[Any]) -> None:
    """Apply one page's records and move the cursor, in one transaction."""
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
    """Periodic job: enqueue one reconciliation per active Shopify connection."""
    hub = current_hub()
    with hub.db.session() as session:
        ids = active_connection_ids(session, NAME)
    for connection_id in ids:
        hub.jobs.enqueue(
            "connectors.shopify.sync.reconcile_connection",
            connection_id,
            job_id=f"shopify-reconcile-{connection_id}",
            retry=hub.jobs.default_retry(3),
            meta={"plugin": NAME, "connection_id": connection_id},
        )
    return len(ids)


def reconcile_connection(connection_id: int, window_hours: int | None = None) -> dict[str, Any]:
    """Job: re-subscribe missing webhooks and apply orders updated in the last 48 hours.

    Shopify removes a subscription whose deliveries keep failing and may
    deliver late or not at all (shopify.dev "Best practices for webhooks"
    asks for reconciliation jobs); orders the webhooks brought already
    change nothing.
    """
    hub = current_hub()
    store = open_store(hub, connection_id)
    if store is None:
        return {"skipped": True}
    created = ensure_webhooks(hub, store)
    window = timedelta(hours=window_hours) if window_hours else RECONCILE_WINDOW
    since = (utcnow() - window).strftime("%Y-%m-%dT%H:%M:%SZ")
    variables: dict[str, Any] = {
        "first": PAGE_SIZE,
        "after": None,
        "query": f"updated_at:>='{since}'",
    }
    seen = 0
    while True:
        data = store.admin.graphql(ORDERS_QUERY, variables, cost=PAGE_SIZE * 4 + 2)
        page = data.get("orders") or {}
        nodes = page.get("nodes") or []
        records = [
            r
            for node in nodes
            for r in graphql_order_records(node, currency=store.settings.get("currency"))
        ]
        with hub.db.transaction() as session:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status != "active":
                break
            for record in records:
                apply_record(hub, session, connection, record)
        seen += len(nodes)
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            break
        variables["after"] = info.get("endCursor")
    log.info(
        "shopify connection %s reconciled: %s orders, %s subscriptions restored",
        connection_id,
        seen,
        len(created),
    )
    return {"orders": seen, "webhooks_created": created}
