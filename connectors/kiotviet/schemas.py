"""KiotViet's webhook payloads, loaded by marshmallow and turned into canonical records.

Field names follow KiotViet's Public API guide v1.4 (``invoice.update``,
``customer.update``, ``order.update``); fields KiotViet adds later are
ignored (``unknown = EXCLUDE``). Money arrives as JSON numbers and becomes
``Decimal`` through its decimal text, never through float arithmetic.
KiotViet writes times without a zone, in the shop's local time; the
connection's ``timezone`` setting (default Asia/Ho_Chi_Minh) places them.

Status codes are from community integrations, not the guide [C]: invoices
1 = completed (Hoàn thành), 2 = cancelled (Đã hủy), 3 = in progress,
5 = not delivered; orders 1 = draft, 2 = delivering, 3 = completed,
4 = cancelled, 5 = confirmed. An order (đặt hàng) never earns: the invoice
it becomes does.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields

from hub import Address
from hub import Customer
from hub import Order
from hub import OrderLine
from hub import latest_today

INVOICE_PAID = 1
INVOICE_CANCELLED = 2
ORDER_CANCELLED = 4
_FRACTION = re.compile(r"(\.\d{6})\d+")


class KiotVietTime(fields.Field):
    """A time as KiotViet writes it: ``2025-05-01T10:15:00``, maybe with 7 decimals or a zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not value.strip():
            raise SchemaError("not a date and time")
        text = _FRACTION.sub(r"\1", value.strip())  # .NET writes 7 fractional digits
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise SchemaError(f"not a date and time: {value!r}") from None


def _money(**kwargs: Any) -> fields.Decimal:
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", None)
    return fields.Decimal(allow_nan=False, allow_none=True, **kwargs)


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class DetailSchema(_Lenient):
    ProductId = fields.Raw(load_default=None)
    ProductCode = fields.Str(allow_none=True, load_default=None)
    ProductName = fields.Str(allow_none=True, load_default="")
    Quantity = fields.Decimal(allow_nan=False, load_default=Decimal(1))
    Price = _money()
    Discount = _money()


class InvoiceSchema(_Lenient):
    Id = fields.Raw(required=True)
    Code = fields.Str(allow_none=True, load_default=None)
    PurchaseDate = KiotVietTime(required=True)
    ModifiedDate = KiotVietTime(allow_none=True, load_default=None)
    CustomerId = fields.Raw(allow_none=True, load_default=None)
    CustomerCode = fields.Str(allow_none=True, load_default=None)
    CustomerName = fields.Str(allow_none=True, load_default="")
    Total = _money(required=True)
    TotalPayment = _money()
    Discount = _money()
    Status = fields.Int(allow_none=True, load_default=None)
    StatusValue = fields.Str(allow_none=True, load_default=None)
    InvoiceDetails = fields.List(fields.Nested(DetailSchema), load_default=list)


class OrderSchema(InvoiceSchema):
    OrderDetails = fields.List(fields.Nested(DetailSchema), load_default=list)


class CustomerSchema(_Lenient):
    Id = fields.Raw(required=True)
    Code = fields.Str(allow_none=True, load_default=None)
    Name = fields.Str(allow_none=True, load_default="")
    Gender = fields.Bool(allow_none=True, load_default=None)
    BirthDate = KiotVietTime(allow_none=True, load_default=None)
    ContactNumber = fields.Str(allow_none=True, load_default=None)
    Address = fields.Str(allow_none=True, load_default=None)
    LocationName = fields.Str(allow_none=True, load_default=None)
    WardName = fields.Str(allow_none=True, load_default=None)
    Email = fields.Str(allow_none=True, load_default=None)


class NotificationSchema(_Lenient):
    """One action and its items; delete actions carry ``{"RemoveId": [...]}`` instead [V-copy]."""

    Action = fields.Str(required=True)
    Data = fields.Raw(load_default=list)


class EnvelopeSchema(_Lenient):
    """``{"Id", "Attempt", "Notifications": [{"Action", "Data": [...]}]}``."""

    Id = fields.Str(required=True)
    Attempt = fields.Int(load_default=1)
    Notifications = fields.List(fields.Nested(NotificationSchema), required=True)


def _aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _lines(details: list[dict[str, Any]]) -> tuple[OrderLine, ...]:
    lines = []
    for item in details:
        quantity, price = item["Quantity"], item["Price"] or Decimal(0)
        discount = (item["Discount"] or Decimal(0)) * quantity  # per unit in KiotViet [I]
        title = item["ProductName"] or ""
        if quantity != quantity.to_integral_value():
            # Sold by weight or length (1.5 kg): one line of the whole amount keeps the total.
            price, title, quantity = price * quantity, f"{title} x {quantity.normalize()}", 1
        lines.append(
            OrderLine(
                quantity=int(quantity),
                price=price,
                sku=item["ProductCode"],
                product_id=str(item["ProductId"]) if item["ProductId"] is not None else None,
                title=title[:300],
                total_discount=discount,
            )
        )
    return tuple(lines)


def _buyer(data: dict[str, Any]) -> Customer | None:
    if data["CustomerId"] in (None, 0, ""):
        return None  # a walk-in sale (khách lẻ)
    return Customer(external_id=str(data["CustomerId"]), name=data["CustomerName"] or "")


def _invoice_status(data: dict[str, Any]) -> str:
    if data["Status"] == INVOICE_PAID or data["StatusValue"] == "Hoàn thành":
        return "paid"
    if data["Status"] == INVOICE_CANCELLED or data["StatusValue"] == "Đã hủy":
        return "voided"
    return "pending"


def invoice_order(data: dict[str, Any], zone: ZoneInfo, currency: str) -> Order:
    """An ``invoice.update`` item as a canonical order (``invoice:<Id>``): earns once completed."""
    status = _invoice_status(data)
    return _order(data, "invoice", status, _lines(data["InvoiceDetails"]), zone, currency)


def order_order(data: dict[str, Any], zone: ZoneInfo, currency: str) -> Order:
    """An ``order.update`` item (đặt hàng) as a canonical ``order:<Id>`` that never earns."""
    cancelled = data["Status"] == ORDER_CANCELLED or data["StatusValue"] == "Đã hủy"
    status = "voided" if cancelled else "pending"
    return _order(data, "order", status, _lines(data["OrderDetails"]), zone, currency)


def _order(
    data: dict[str, Any],
    kind: str,
    status: str,
    lines: tuple[OrderLine, ...],
    zone: ZoneInfo,
    currency: str,
) -> Order:
    placed = _aware(data["PurchaseDate"], zone)
    changed = _aware(data["ModifiedDate"], zone) or placed
    total = data["Total"] or Decimal(0)
    discount = data["Discount"] or Decimal(0)
    return Order(
        external_id=f"{kind}:{data['Id']}",
        number=data["Code"],
        currency=currency,
        subtotal=total + discount,
        total_discounts=discount,
        total=total,
        financial_status=status,
        placed_at=placed,
        paid_at=placed if status == "paid" else None,
        cancelled_at=changed if status == "voided" else None,
        updated_at=_aware(data["ModifiedDate"], zone),
        lines=lines,
        customer=_buyer(data),
    )


def customer(data: dict[str, Any]) -> Customer:
    """A ``customer.update`` item as a canonical customer, known by its KiotViet id."""
    gender = {True: "male", False: "female"}.get(data["Gender"])  # KiotViet: true = Nam [C]
    place = [p.strip() for p in (data["LocationName"] or "").split(" - ") if p.strip()]
    address = None
    if data["Address"] or place or data["WardName"]:
        address = Address(
            province=place[0] if place else None,
            district=place[1] if len(place) > 1 else None,
            ward=data["WardName"],
            line=data["Address"],
        )
    birthday = data["BirthDate"].date() if data["BirthDate"] else None
    if birthday is not None and birthday > latest_today():
        birthday = None  # a typo at the till must not stop the customer being recorded
    return Customer(
        external_id=str(data["Id"]),
        phone=data["ContactNumber"],
        email=data["Email"],
        name=data["Name"] or "",
        birthday=birthday,
        gender=gender,
        address=address,
    )
