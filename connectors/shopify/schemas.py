"""Shopify payloads into canonical records, with marshmallow at the edge.

Webhook payloads use the REST serialization (shopify.dev webhook reference;
the samples in the tests are real captures): money as strings (``"2629.95"``),
ids as numbers, times with an offset. Backfill and reconciliation read the
GraphQL Admin API, whose nodes have other names (``legacyResourceId``,
``totalPriceSet.shopMoney.amount``); both end as the same canonical records.
Unknown fields are ignored (``EXCLUDE``): Shopify adds fields without notice.
Money becomes ``Decimal``, never float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import fields
from marshmallow import pre_load

from hub import Address
from hub import Customer
from hub import CustomerDataRequest
from hub import CustomerRedaction
from hub import Order
from hub import OrderLine
from hub import Refund
from hub import ShopRedaction
from hub import VoucherUse

#: Financial statuses the hub knows; Shopify's REST enum is the same list.
STATUSES = (
    "pending",
    "authorized",
    "paid",
    "partially_paid",
    "partially_refunded",
    "refunded",
    "voided",
)
PAID = ("paid", "partially_paid", "partially_refunded", "refunded")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


def _money(required: bool = False) -> fields.Decimal:
    if required:
        return fields.Decimal(required=True)
    return fields.Decimal(allow_none=True, load_default=None)


def _id(required: bool = False) -> fields.Raw:
    if required:
        return fields.Raw(required=True)
    return fields.Raw(allow_none=True, load_default=None)


class MoneySchema(_Lenient):
    amount = _money()
    currency_code = fields.Str(allow_none=True, load_default=None)


class MoneySetSchema(_Lenient):
    shop_money = fields.Nested(MoneySchema, allow_none=True, load_default=None)


class AddressSchema(_Lenient):
    address1 = fields.Str(allow_none=True, load_default=None)
    city = fields.Str(allow_none=True, load_default=None)
    province = fields.Str(allow_none=True, load_default=None)


class ConsentSchema(_Lenient):
    state = fields.Str(allow_none=True, load_default=None)


class CustomerSchema(_Lenient):
    id = _id()
    email = fields.Str(allow_none=True, load_default=None)
    phone = fields.Str(allow_none=True, load_default=None)
    first_name = fields.Str(allow_none=True, load_default=None)
    last_name = fields.Str(allow_none=True, load_default=None)
    tags = fields.Str(allow_none=True, load_default=None)
    default_address = fields.Nested(AddressSchema, allow_none=True, load_default=None)
    email_marketing_consent = fields.Nested(ConsentSchema, allow_none=True, load_default=None)
    sms_marketing_consent = fields.Nested(ConsentSchema, allow_none=True, load_default=None)


class LineItemSchema(_Lenient):
    id = _id()
    product_id = _id()
    variant_id = _id()
    sku = fields.Str(allow_none=True, load_default=None)
    title = fields.Str(allow_none=True, load_default="")
    quantity = fields.Int(load_default=0)
    price = _money()
    total_discount = _money()
    gift_card = fields.Bool(allow_none=True, load_default=False)


class DiscountCodeSchema(_Lenient):
    code = fields.Str(allow_none=True, load_default=None)


class TransactionSchema(_Lenient):
    kind = fields.Str(allow_none=True, load_default=None)
    status = fields.Str(allow_none=True, load_default=None)
    amount = _money()
    currency = fields.Str(allow_none=True, load_default=None)


class RefundLineSchema(_Lenient):
    line_item_id = _id()
    quantity = fields.Int(load_default=0)
    subtotal = _money()
    subtotal_set = fields.Nested(MoneySetSchema, allow_none=True, load_default=None)


class RefundSchema(_Lenient):
    id = _id(required=True)
    order_id = _id()
    created_at = fields.AwareDateTime(allow_none=True, load_default=None)
    note = fields.Str(allow_none=True, load_default=None)
    transactions = fields.List(fields.Nested(TransactionSchema), load_default=list)
    refund_line_items = fields.List(fields.Nested(RefundLineSchema), load_default=list)


class OrderSchema(_Lenient):
    id = _id(required=True)
    name = fields.Str(allow_none=True, load_default=None)
    email = fields.Str(allow_none=True, load_default=None)
    phone = fields.Str(allow_none=True, load_default=None)
    created_at = fields.AwareDateTime(required=True)
    processed_at = fields.AwareDateTime(allow_none=True, load_default=None)
    cancelled_at = fields.AwareDateTime(allow_none=True, load_default=None)
    updated_at = fields.AwareDateTime(allow_none=True, load_default=None)
    currency = fields.Str(required=True)
    subtotal_price = _money()
    total_price = _money(required=True)
    total_discounts = _money()
    total_tax = _money()
    total_shipping_price_set = fields.Nested(MoneySetSchema, allow_none=True, load_default=None)
    financial_status = fields.Str(allow_none=True, load_default=None)
    discount_codes = fields.List(fields.Nested(DiscountCodeSchema), load_default=list)
    line_items = fields.List(fields.Nested(LineItemSchema), load_default=list)
    customer = fields.Nested(CustomerSchema, allow_none=True, load_default=None)
    refunds = fields.List(fields.Nested(RefundSchema), load_default=list)

    @pre_load
    def unwrap(self, data: Any, **_: Any) -> Any:
        # The REST API wraps a single order as {"order": {...}}; webhooks do not.
        if isinstance(data, dict) and set(data) == {"order"}:
            return data["order"]
        return data


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def customer_of(data: dict[str, Any] | None) -> Customer | None:
    """Return the canonical customer of a loaded customer, or None when it names nobody."""
    if not data:
        return None
    name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p).strip()
    address = data.get("default_address") or {}
    consent = {}
    for channel, key in (("email", "email_marketing_consent"), ("sms", "sms_marketing_consent")):
        state = (data.get(key) or {}).get("state")
        if state:
            consent[channel] = state == "subscribed"
    tags = tuple(t.strip() for t in (data.get("tags") or "").split(",") if t.strip())
    customer = Customer(
        external_id=_text(data.get("id")),
        email=_text(data.get("email")),
        phone=_text(data.get("phone")),
        name=name,
        address=Address(
            province=address.get("province"),
            district=address.get("city"),
            line=address.get("address1"),
        )
        if address
        else None,
        tags=tags,
        accepts_marketing=consent,
    )
    if not (customer.external_id or customer.email or customer.phone):
        return None
    return customer


def order_records(payload: Any, *, currency: str | None = None) -> list[Any]:
    """Return the order of a webhook or REST payload, its refunds and its discount code uses."""
    data = OrderSchema().load(payload)
    status = data.get("financial_status") or "pending"
    if status not in STATUSES:
        status = "pending"
    customer = customer_of(data.get("customer"))
    if customer is None and (data.get("email") or data.get("phone")):
        customer = Customer(email=_text(data.get("email")), phone=_text(data.get("phone")))
    placed_at = data.get("processed_at") or data["created_at"]
    shipping = ((data.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    codes = tuple(c["code"] for c in data.get("discount_codes") or () if c.get("code"))
    order = Order(
        external_id=str(data["id"]),
        number=data.get("name"),
        currency=data["currency"].upper(),
        subtotal=_dec(data.get("subtotal_price"), data["total_price"]),
        total=_dec(data["total_price"]),
        total_discounts=_dec(data.get("total_discounts")),
        shipping=_dec(shipping),
        tax=_dec(data.get("total_tax")),
        financial_status=status,
        placed_at=placed_at,
        paid_at=placed_at if status in PAID else None,
        cancelled_at=data.get("cancelled_at"),
        updated_at=data.get("updated_at"),
        discount_codes=codes,
        lines=tuple(_line(line) for line in data.get("line_items") or ()),
        customer=customer,
    )
    records: list[Any] = [order]
    for refund in data.get("refunds") or ():
        loaded = _refund(refund, order.external_id, currency or order.currency, order.placed_at)
        if loaded is not None:
            records.append(loaded)
    if order.cancelled_at is None and status != "voided":
        records.extend(VoucherUse(code=code, order_external_id=order.external_id) for code in codes)
    return records


def _dec(value: Any, default: Any = 0) -> Decimal:
    if value is None:
        value = default
    return Decimal(str(value))


def _line(data: dict[str, Any]) -> OrderLine:
    return OrderLine(
        quantity=int(data.get("quantity") or 0),
        price=_dec(data.get("price")),
        sku=data.get("sku") or None,
        product_id=_text(data.get("product_id")),
        variant_id=_text(data.get("variant_id")),
        title=data.get("title") or "",
        total_discount=_dec(data.get("total_discount")),
        gift_card=bool(data.get("gift_card")),
    )


def refund_records(payload: Any, *, currency: str | None = None) -> list[Refund]:
    """Return the refund of a ``refunds/create`` payload; empty when no money went back."""
    data = RefundSchema().load(payload)
    refund = _refund(data, _text(data.get("order_id")) or "", currency, None)
    return [refund] if refund is not None else []


def _refund(data: dict[str, Any], order_id: str, currency: str | None, fallback) -> Refund | None:
    # Points follow money: the refund's successful "refund" transactions say what went
    # back [I: Shopify's REST Refund fixture has transactions with kind/status/amount];
    # without transactions, the refunded lines' subtotals.
    amount = Decimal(0)
    found_currency = None
    for tx in data.get("transactions") or ():
        if (tx.get("kind") or "refund") == "refund" and (tx.get("status") or "success") in (
            "success",
        ):
            amount += _dec(tx.get("amount"))
            found_currency = found_currency or tx.get("currency")
    if not data.get("transactions"):
        for line in data.get("refund_line_items") or ():
            money = ((line.get("subtotal_set") or {}).get("shop_money")) or {}
            amount += _dec(line.get("subtotal", money.get("amount")))
            found_currency = found_currency or money.get("currency_code")
    created = data.get("created_at") or fallback
    if amount <= 0 or not order_id or created is None:
        return None
    return Refund(
        external_id=str(data["id"]),
        order_external_id=order_id,
        amount=amount,
        currency=(found_currency or currency or "USD").upper(),
        created_at=created,
        note=(data.get("note") or "")[:500],
    )


def customer_records(payload: Any) -> list[Customer]:
    """Return the customer of a ``customers/create`` or ``customers/update`` payload."""
    customer = customer_of(CustomerSchema().load(payload))
    return [customer] if customer is not None else []


# -- privacy (mandatory compliance topics) ----------------------------------------


class PrivacyCustomerSchema(_Lenient):
    id = _id()
    email = fields.Str(allow_none=True, load_default=None)
    phone = fields.Str(allow_none=True, load_default=None)


class PrivacySchema(_Lenient):
    shop_id = _id()
    shop_domain = fields.Str(allow_none=True, load_default=None)
    customer = fields.Nested(PrivacyCustomerSchema, allow_none=True, load_default=None)
    orders_requested = fields.List(_id(), load_default=list)
    orders_to_redact = fields.List(_id(), load_default=list)
    data_request = fields.Dict(allow_none=True, load_default=None)


def _privacy_customer(data: dict[str, Any]) -> Customer:
    customer = data.get("customer") or {}
    return Customer(
        external_id=_text(customer.get("id")),
        email=_text(customer.get("email")),
        phone=_text(customer.get("phone")),
    )


def privacy_records(topic: str, payload: Any, headers: Any) -> list[Any]:
    """Return the privacy request of a compliance topic's payload."""
    data = PrivacySchema().load(payload or {})
    request_id = headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id")
    if topic == "customers/redact":
        return [
            CustomerRedaction(
                customer=_privacy_customer(data),
                order_external_ids=tuple(str(i) for i in data["orders_to_redact"] if i),
                request_id=request_id,
            )
        ]
    if topic == "customers/data_request":
        request = data.get("data_request") or {}
        return [
            CustomerDataRequest(
                customer=_privacy_customer(data),
                order_external_ids=tuple(str(i) for i in data["orders_requested"] if i),
                request_id=_text(request.get("id")) or request_id,
            )
        ]
    return [ShopRedaction(shop=data.get("shop_domain") or "")]


# -- GraphQL Admin API nodes (backfill, reconciliation) -----------------------------


def _amount(money_set: dict[str, Any] | None) -> Any:
    return ((money_set or {}).get("shopMoney") or {}).get("amount")


def _graphql_customer(node: dict[str, Any] | None) -> dict[str, Any] | None:
    if not node:
        return None
    address = node.get("defaultAddress") or {}
    return {
        "id": node.get("legacyResourceId"),
        # 2025 versions moved these to defaultEmailAddress / defaultPhoneNumber
        # [I: shopify.dev Customer object; the plain fields are deprecated].
        "email": (node.get("defaultEmailAddress") or {}).get("emailAddress") or node.get("email"),
        "phone": (node.get("defaultPhoneNumber") or {}).get("phoneNumber") or node.get("phone"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "tags": ", ".join(node.get("tags") or []),
        "default_address": {
            "address1": address.get("address1"),
            "city": address.get("city"),
            "province": address.get("province"),
        }
        if address
        else None,
    }


def graphql_customer_records(node: dict[str, Any]) -> list[Customer]:
    """Return the canonical customer of a GraphQL ``Customer`` node."""
    customer = customer_of(_graphql_customer(node))
    return [customer] if customer is not None else []


def graphql_order_records(node: dict[str, Any], *, currency: str | None = None) -> list[Any]:
    """Return the records of a GraphQL ``Order`` node, as for its webhook payload."""
    status = (node.get("displayFinancialStatus") or "PENDING").lower()
    if status == "expired":
        status = "voided"
    payload = {
        "id": node.get("legacyResourceId"),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "currency": node.get("currencyCode") or currency or "USD",
        "subtotal_price": _amount(node.get("subtotalPriceSet")),
        "total_price": _amount(node.get("totalPriceSet")),
        "total_discounts": _amount(node.get("totalDiscountsSet")),
        "total_tax": _amount(node.get("totalTaxSet")),
        "total_shipping_price_set": {
            "shop_money": {"amount": _amount(node.get("totalShippingPriceSet"))}
        },
        "financial_status": status,
        "discount_codes": [{"code": c} for c in node.get("discountCodes") or []],
        "line_items": [
            {
                "quantity": line.get("quantity"),
                "sku": line.get("sku"),
                "title": line.get("title"),
                "price": _amount(line.get("originalUnitPriceSet")),
                "total_discount": _amount(line.get("totalDiscountSet")),
                "product_id": (line.get("product") or {}).get("legacyResourceId"),
                "variant_id": (line.get("variant") or {}).get("legacyResourceId"),
            }
            for line in ((node.get("lineItems") or {}).get("nodes") or [])
        ],
        "customer": _graphql_customer(node.get("customer")),
        "refunds": [
            {
                "id": refund.get("legacyResourceId"),
                "created_at": refund.get("createdAt"),
                "note": refund.get("note"),
                "transactions": [
                    {
                        "kind": "refund",
                        "status": "success",
                        "amount": _amount(refund.get("totalRefundedSet")),
                        "currency": (
                            (refund.get("totalRefundedSet") or {}).get("shopMoney") or {}
                        ).get("currencyCode"),
                    }
                ],
            }
            for refund in node.get("refunds") or []
        ],
    }
    return order_records(payload, currency=currency)
