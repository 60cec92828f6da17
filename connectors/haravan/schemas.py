"""Haravan payloads into canonical records, with marshmallow at the edge.

Field names follow the Order and Customer resources of docs.haravan.com
(omni-apis) [V-copy]; webhooks carry the same objects [I, as Shopify's do].
Money comes as numbers (``13200000.0``) and becomes ``Decimal`` through its
text, never through float arithmetic. Kept from Haravan: the address's
district and ward, the gender (``1`` male, ``0`` female, null unknown) and
the birthday. Orders made at a Haravan POS may have no customer [V-copy]:
they are stored and earn nothing. Unknown fields are ignored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import fields
from marshmallow import pre_load

from hub import Address
from hub import Customer
from hub import Order
from hub import OrderLine
from hub import Refund
from hub import VoucherUse

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
GENDERS = {1: "male", 0: "female", "1": "male", "0": "female"}


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class Number(fields.Field):
    """A number or numeric string as ``Decimal``, taken from its text (never a float's bits)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        try:
            return Decimal(str(value))
        except ArithmeticError:
            raise self.make_error("invalid") from None

    default_error_messages = {"invalid": "Not a valid number."}


def _opt(field: fields.Field) -> fields.Field:
    field.allow_none = True
    field.load_default = None
    field.required = False
    return field


class AddressSchema(_Lenient):
    address1 = _opt(fields.Str())
    province = _opt(fields.Str())
    district = _opt(fields.Str())
    ward = _opt(fields.Str())


class CustomerSchema(_Lenient):
    id = _opt(fields.Raw())
    email = _opt(fields.Str())
    phone = _opt(fields.Str())
    first_name = _opt(fields.Str())
    last_name = _opt(fields.Str())
    tags = _opt(fields.Str())
    birthday = _opt(fields.Str())
    gender = _opt(fields.Raw())
    accepts_marketing = _opt(fields.Bool())
    default_address = _opt(fields.Nested(AddressSchema))


class LineSchema(_Lenient):
    product_id = _opt(fields.Raw())
    variant_id = _opt(fields.Raw())
    sku = _opt(fields.Str())
    title = _opt(fields.Str())
    quantity = fields.Int(load_default=0)
    price = _opt(Number())
    total_discount = _opt(Number())
    gift_card = _opt(fields.Bool())


class CodeSchema(_Lenient):
    code = _opt(fields.Str())


class TransactionSchema(_Lenient):
    kind = _opt(fields.Str())
    status = _opt(fields.Str())
    amount = _opt(Number())


class RefundSchema(_Lenient):
    id = fields.Raw(required=True)
    created_at = _opt(fields.AwareDateTime())
    note = _opt(fields.Str())
    transactions = fields.List(fields.Nested(TransactionSchema), load_default=list)


class OrderSchema(_Lenient):
    id = fields.Raw(required=True)
    name = _opt(fields.Str())
    email = _opt(fields.Str())
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = _opt(fields.AwareDateTime())
    updated_at = _opt(fields.AwareDateTime())
    currency = fields.Str(load_default="VND")
    subtotal_price = _opt(Number())
    total_price = Number(required=True)
    total_discounts = _opt(Number())
    total_tax = _opt(Number())
    financial_status = _opt(fields.Str())
    discount_codes = fields.List(fields.Nested(CodeSchema), load_default=list, allow_none=True)
    line_items = fields.List(fields.Nested(LineSchema), load_default=list, allow_none=True)
    shipping_lines = fields.List(fields.Dict(), load_default=list, allow_none=True)
    customer = _opt(fields.Nested(CustomerSchema))
    shipping_address = _opt(fields.Nested(AddressSchema))
    billing_address = _opt(fields.Nested(AddressSchema))
    refunds = fields.List(fields.Nested(RefundSchema), load_default=list, allow_none=True)

    @pre_load
    def unwrap(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"order"}:
            return data["order"]
        return data


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _birthday(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def customer_of(data: dict[str, Any] | None, fallback_address=None) -> Customer | None:
    """Return the canonical customer of a loaded customer, or None when it names nobody."""
    if not data:
        return None
    name = " ".join(p.strip() for p in (data.get("first_name"), data.get("last_name")) if p)
    address = data.get("default_address") or fallback_address or {}
    customer = Customer(
        external_id=_text(data.get("id")),
        email=_text(data.get("email")),
        phone=_text(data.get("phone")),
        name=name.strip(),
        birthday=_birthday(data.get("birthday")),
        gender=GENDERS.get(data.get("gender")),
        address=Address(
            province=address.get("province"),
            district=address.get("district"),
            ward=address.get("ward"),
            line=address.get("address1"),
        )
        if address
        else None,
        tags=tuple(t.strip() for t in (data.get("tags") or "").split(",") if t.strip()),
        accepts_marketing=(
            {"email": bool(data["accepts_marketing"])}
            if data.get("accepts_marketing") is not None
            else {}
        ),
    )
    if not (customer.external_id or customer.email or customer.phone):
        return None
    return customer


def order_records(payload: Any) -> list[Any]:
    """Return the order of a webhook or API payload, its refunds and its discount code uses."""
    data = OrderSchema().load(payload)
    status = data.get("financial_status") or "pending"
    if status not in STATUSES:
        status = "pending"
    address = data.get("shipping_address") or data.get("billing_address")
    customer = customer_of(data.get("customer"), address)
    if customer is None and data.get("email"):
        customer = Customer(email=data["email"])
    codes = tuple(c["code"] for c in data.get("discount_codes") or () if c.get("code"))
    shipping = sum(
        (Decimal(str(line.get("price") or 0)) for line in data.get("shipping_lines") or ()),
        Decimal(0),
    )
    total = data["total_price"]
    order = Order(
        external_id=str(data["id"]),
        number=data.get("name"),
        currency=(data.get("currency") or "VND").upper(),
        subtotal=data.get("subtotal_price") if data.get("subtotal_price") is not None else total,
        total=total,
        total_discounts=data.get("total_discounts") or Decimal(0),
        shipping=shipping,
        tax=data.get("total_tax") or Decimal(0),
        financial_status=status,
        placed_at=data["created_at"],
        paid_at=data["created_at"] if status in PAID else None,
        cancelled_at=data.get("cancelled_at"),
        updated_at=data.get("updated_at"),
        discount_codes=codes,
        lines=_lines(data),
        customer=customer,
    )
    records: list[Any] = [order, *_refunds(data, order)]
    if order.cancelled_at is None and status != "voided":
        records.extend(VoucherUse(code=c, order_external_id=order.external_id) for c in codes)
    return records


def _lines(data: dict) -> tuple[OrderLine, ...]:
    return tuple(
        OrderLine(
            quantity=line.get("quantity") or 0,
            price=line.get("price") or Decimal(0),
            sku=line.get("sku") or None,
            product_id=_text(line.get("product_id")),
            variant_id=_text(line.get("variant_id")),
            title=line.get("title") or "",
            total_discount=line.get("total_discount") or Decimal(0),
            gift_card=bool(line.get("gift_card")),
        )
        for line in data.get("line_items") or ()
    )


def _refunds(data: dict, order: Order) -> list[Refund]:
    """The order's refunds with money returned.

    Haravan has no documented refund topic: refunds arrive inside the order
    (``refunds[].transactions``) with orders/updated [I].
    """
    refunds = []
    for refund in data.get("refunds") or ():
        amount = sum(
            (
                tx.get("amount") or Decimal(0)
                for tx in refund.get("transactions") or ()
                if (tx.get("kind") or "refund") == "refund"
                and (tx.get("status") or "success") == "success"
            ),
            Decimal(0),
        )
        if amount > 0:
            refunds.append(
                Refund(
                    external_id=str(refund["id"]),
                    order_external_id=order.external_id,
                    amount=amount,
                    currency=order.currency,
                    created_at=refund.get("created_at") or order.placed_at,
                    note=(refund.get("note") or "")[:500],
                )
            )
    return refunds


def customer_records(payload: Any) -> list[Customer]:
    data = (
        payload.get("customer") if isinstance(payload, dict) and "customer" in payload else payload
    )
    customer = customer_of(CustomerSchema().load(data or {}))
    return [customer] if customer is not None else []
