"""Push a redeemed reward's voucher to the store as a discount code; delete it if cancelled.

The connector's ``push_voucher`` (``hub.StoreConnector``) creates the code in
every active Shopify store of the merchant, limited to the member's own
customer account where the store knows them, with ``create_code``. A code the
store already has counts as done, so a retried job creates nothing twice. An
order that uses the code comes back as ``VoucherUse`` and burns the voucher.

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
from hub import Hub
from hub import PermanentError
from hub import active_connection_ids
from hub import utcnow

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


def withdraw_code(hub: Hub, merchant_id: int, code: str) -> list[int]:
    """Delete a cancelled voucher's code from each active store; return the connections done.

    The code is found by ``codeDiscountNodeByCode`` and removed with
    ``discountCodeDelete``; a store without it (never pushed, or deleted by an
    earlier run of this job) is done.
    """
    with hub.db.session() as session:
        ids = active_connection_ids(session, NAME, merchant_id=merchant_id)
    done = []
    for connection_id in ids:
        store = open_store(hub, connection_id)
        if store is None:
            continue
        delete_code(store, code)
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
