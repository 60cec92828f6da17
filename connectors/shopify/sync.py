"""Backfill a store's history and reconcile what webhooks missed, page by page.

Both read the GraphQL Admin API within its cost limit (``client.ShopifyAdmin``
waits for the bucket) and apply records with ``hub.apply_record``, so an order
is recorded exactly as its webhook would record it: the program's start date
and ``count_orders_before_start`` decide whether history earns, and a record
applied twice changes nothing.

The backfill keeps its place in the connection's settings (``backfill``:
phase, cursor and count), written in the same transaction as each page, so an
interrupted run picks up at the page after the last one stored. Reconciliation
re-subscribes missing webhooks and applies the orders updated in the last 48
hours: Shopify removes a subscription whose deliveries keep failing and may
deliver late or not at all (shopify.dev "Best practices for webhooks" asks for
reconciliation jobs).
"""

from __future__ import annotations

from typing import Any

from connectors.shopify.schemas import graphql_customer_records
from connectors.shopify.schemas import graphql_order_records
from connectors.shopify.setup import ensure_webhooks
from connectors.shopify.store import NAME
from connectors.shopify.store import OpenStore
from connectors.shopify.store import open_store
from hub import Hub
from hub import StoreBackfill
from hub import StorePage
from hub import StoreSync

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


def totals(hub: Hub, connection_id: int) -> int | None:
    """Return how many customers and orders the store has (for a progress bar)."""
    store = open_store(hub, connection_id)
    if store is None:
        return None
    data = store.admin.graphql(COUNTS_QUERY, cost=2)
    return sum(
        int((data.get(k) or {}).get("count") or 0) for k in ("customersCount", "ordersCount")
    )


def _page(
    store: OpenStore, phase: str, cursor: str | None, page_size: int, query: str | None = None
) -> StorePage:
    """One GraphQL page of ``phase`` after ``cursor`` (orders matching ``query`` when
    given), mapped to canonical records."""
    variables: dict[str, Any] = {"first": page_size, "after": cursor}
    if query is not None:
        variables["query"] = query
    if phase == "customers":
        data = store.admin.graphql(CUSTOMERS_QUERY, variables, cost=page_size + 2)
        page = data.get("customers") or {}
        nodes = page.get("nodes") or []
        records = [r for node in nodes for r in graphql_customer_records(node)]
    else:
        data = store.admin.graphql(ORDERS_QUERY, variables, cost=page_size * 4 + 2)
        page = data.get("orders") or {}
        nodes = page.get("nodes") or []
        currency = store.settings.get("currency")
        records = [r for node in nodes for r in graphql_order_records(node, currency=currency)]
    info = page.get("pageInfo") or {}
    return StorePage(
        records, len(nodes), info.get("endCursor") if info.get("hasNextPage") else None
    )


def _updated(store: OpenStore, cursor: str | None, page_size: int, since: str) -> StorePage:
    return _page(store, "orders", cursor, page_size, f"updated_at:>='{since}'")


def _resubscribe(hub: Hub, store: OpenStore) -> dict[str, Any]:
    return {"webhooks_created": ensure_webhooks(hub, store)}


SYNC = StoreSync(
    NAME,
    __name__,
    StoreBackfill(open_store=open_store, fetch=_page),
    updated=_updated,
    resubscribe=_resubscribe,
)
backfill = SYNC.backfill
backfill_job = SYNC.backfill_job
reconcile_all = SYNC.reconcile_all
reconcile_connection = SYNC.reconcile_connection
