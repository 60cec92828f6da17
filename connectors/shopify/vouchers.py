"""Push a redeemed reward's voucher to the store as a discount code; delete it if cancelled.

``voucher.issued`` reaches ``handle_event`` once per event for this plugin
(one job); the code is created in every active Shopify store of the merchant,
limited to the member's own customer account where the store knows them.
A code the store already has counts as done, so a retried job creates nothing
twice. An order that uses the code comes back as ``VoucherUse`` and burns the
voucher in the hub.

``discountCodeBasicCreate`` takes a ``DiscountCodeBasicInput`` whose required
fields on create are ``code``, ``context`` (or the deprecated
``customerSelection``), ``customerGets``, ``startsAt`` and ``title``
(shopify.dev admin-graphql DiscountCodeBasicInput and DiscountContextInput,
2025-10 and later) [V]; the nesting below follows those pages.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from connectors.shopify.client import user_errors
from connectors.shopify.store import NAME
from connectors.shopify.store import OpenStore
from connectors.shopify.store import open_store
from hub import Event
from hub import Hub
from hub import PermanentError
from hub import active_connection_ids
from hub import identities_of
from hub import utcnow
from hub import voucher_status

log = logging.getLogger(__name__)

BASIC_MUTATION = """
mutation HubDiscountCode($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

FREE_SHIPPING_MUTATION = """
mutation HubFreeShippingCode($input: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""


LOOKUP_QUERY = """
query HubDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""

DELETE_MUTATION = """
mutation HubDiscountDelete($id: ID!) {
  discountCodeDelete(id: $id) {
    deletedCodeDiscountId
    userErrors { field code message }
  }
}
"""


def push_voucher(hub: Hub, event: Event) -> list[int]:
    """Create the event's voucher code in each active store; return the connections done."""
    voucher = event.data
    if voucher.get("kind") not in ("amount_off", "percent_off", "free_shipping"):
        log.info(
            "voucher %s is a %s: nothing to create in Shopify",
            voucher.get("code"),
            voucher.get("kind"),
        )
        return []
    if voucher_status(hub, event.merchant_id, voucher["code"]) != "issued":
        return []  # cancelled (or used) before it reached the store
    done = []
    for connection_id, customer_id in _targets(hub, event.merchant_id, voucher.get("member_id")):
        store = open_store(hub, connection_id)
        if store is None:
            continue
        create_code(store, voucher, customer_id)
        done.append(connection_id)
        if voucher_status(hub, event.merchant_id, voucher["code"]) == "cancelled":
            # Cancelled while this job created it: its own job may have found no code yet.
            delete_code(store, voucher["code"])
    return done


def withdraw_voucher(hub: Hub, event: Event) -> list[int]:
    """Delete a cancelled voucher's code from each active store; return the connections done.

    ``voucher.cancelled`` gives the member their points back, so the code must
    not stay usable at the checkout. The code is found by
    ``codeDiscountNodeByCode`` and removed with ``discountCodeDelete``; a store
    without it (never pushed, or deleted by an earlier run of this job) is done.
    """
    voucher = event.data
    if voucher.get("kind") not in ("amount_off", "percent_off", "free_shipping"):
        return []
    done = []
    for connection_id, _ in _targets(hub, event.merchant_id, None):
        store = open_store(hub, connection_id)
        if store is None:
            continue
        delete_code(store, voucher["code"])
        done.append(connection_id)
    return done


def delete_code(store: OpenStore, code: str) -> bool:
    """Delete one discount code; False when the store does not have it."""
    found = store.admin.graphql(LOOKUP_QUERY, {"code": code}, cost=2).get("codeDiscountNodeByCode")
    if not found:
        return False
    answer = store.admin.graphql(DELETE_MUTATION, {"id": found["id"]}, cost=10)
    errors = user_errors(answer.get("discountCodeDelete"))
    if errors:
        raise PermanentError(
            f"Shopify refused to delete discount code {code} on connection "
            f"{store.connection.id}: {errors}"
        )
    log.info("voucher %s deleted from shopify connection %s", code, store.connection.id)
    return True


def _targets(hub: Hub, merchant_id: int, member_id: int | None) -> list[tuple[int, str | None]]:
    with hub.db.session() as session:
        ids = active_connection_ids(session, NAME, merchant_id=merchant_id)
        known = {}
        if member_id is not None:
            known = {i.connection_id: i.external_id for i in identities_of(session, member_id)}
    return [(connection_id, known.get(connection_id)) for connection_id in ids]


def discount_input(voucher: dict[str, Any], customer_id: str | None) -> dict[str, Any]:
    """Return the discount input for a voucher as the ``voucher.issued`` event carries it."""
    context: dict[str, Any] = (
        {"customers": {"add": [f"gid://shopify/Customer/{customer_id}"]}}
        if customer_id
        else {"all": "ALL"}
    )
    base: dict[str, Any] = {
        "title": f"Loyalty reward {voucher['code']}",
        "code": voucher["code"],
        "startsAt": utcnow().isoformat(),
        "endsAt": voucher.get("expires_at"),
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "context": context,
    }
    minimum = Decimal(voucher.get("min_order") or 0)
    if minimum > 0:
        base["minimumRequirement"] = {
            "subtotal": {"greaterThanOrEqualToSubtotal": format(minimum, "f")}
        }
    if voucher["kind"] == "free_shipping":
        return {**base, "destination": {"all": True}}
    if voucher["kind"] == "percent_off":
        value: dict[str, Any] = {"percentage": float(Decimal(voucher["value"]) / 100)}
    else:
        value = {"discountAmount": {"amount": voucher["value"], "appliesOnEachItem": False}}
    return {**base, "customerGets": {"value": value, "items": {"all": True}}}


def create_code(store: OpenStore, voucher: dict[str, Any], customer_id: str | None) -> None:
    """Create one discount code; a code the store already has is left as it is."""
    free_shipping = voucher["kind"] == "free_shipping"
    mutation = FREE_SHIPPING_MUTATION if free_shipping else BASIC_MUTATION
    name = "discountCodeFreeShippingCreate" if free_shipping else "discountCodeBasicCreate"
    answer = store.admin.graphql(mutation, {"input": discount_input(voucher, customer_id)}, cost=10)
    errors = user_errors(answer.get(name))
    if not errors:
        log.info(
            "voucher %s created in shopify connection %s", voucher["code"], store.connection.id
        )
        return
    if all(_taken(e) for e in errors):
        return  # created by an earlier run of this job
    raise PermanentError(
        f"Shopify refused discount code {voucher['code']} on connection "
        f"{store.connection.id}: {errors}"
    )


def _taken(error: dict[str, Any]) -> bool:
    text = f"{error.get('code', '')} {error.get('message', '')}".lower()
    return "taken" in text or "unique" in text
