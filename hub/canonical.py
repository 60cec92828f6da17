"""Canonical orders, refunds and customers: what every connector turns its payloads into.

Plain dataclasses that round-trip through JSON (``to_dict``/``from_dict``), so
they travel through rq jobs unchanged. Money is ``Decimal``; times are aware UTC.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Address:
    province: str | None = None
    district: str | None = None
    ward: str | None = None
    line: str | None = None


@dataclass(frozen=True)
class Customer:
    """A person as an outside system knows them."""

    external_id: str | None = None
    phone: str | None = None
    email: str | None = None
    name: str = ""
    birthday: date | None = None
    gender: str | None = None
    address: Address | None = None
    tags: tuple[str, ...] = ()
    accepts_marketing: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Customer:
        data = dict(data)
        if data.get("birthday"):
            data["birthday"] = date.fromisoformat(data["birthday"])
        if data.get("address"):
            data["address"] = Address(**data["address"])
        data["tags"] = tuple(data.get("tags") or ())
        return cls(**data)


@dataclass(frozen=True)
class OrderLine:
    quantity: int
    price: Decimal
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    title: str = ""
    total_discount: Decimal = Decimal(0)
    collections: tuple[str, ...] = ()
    gift_card: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderLine:
        data = dict(data)
        data["price"] = Decimal(data["price"])
        data["total_discount"] = Decimal(data.get("total_discount") or 0)
        data["collections"] = tuple(data.get("collections") or ())
        return cls(**data)


@dataclass(frozen=True)
class Order:
    """One order, placed at a store, a counter or a custom site.

    ``external_id`` is unique within its source: the connection it came from,
    or the name a direct integration gives itself. ``updated_at`` is when the
    store last changed the order, when it says: a delivery older than the one
    recorded before it changes nothing (platforms send webhooks out of order).
    """

    external_id: str
    currency: str
    subtotal: Decimal
    total: Decimal
    financial_status: str
    placed_at: datetime
    number: str | None = None
    total_discounts: Decimal = Decimal(0)
    shipping: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    discount_codes: tuple[str, ...] = ()
    lines: tuple[OrderLine, ...] = ()
    customer: Customer | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        data = dict(data)
        for name in ("subtotal", "total", "total_discounts", "shipping", "tax"):
            if data.get(name) is not None:
                data[name] = Decimal(data[name])
        for name in ("placed_at", "paid_at", "cancelled_at", "updated_at"):
            if data.get(name):
                data[name] = datetime.fromisoformat(data[name])
        data["lines"] = tuple(OrderLine.from_dict(x) for x in data.get("lines") or ())
        data["discount_codes"] = tuple(data.get("discount_codes") or ())
        if data.get("customer"):
            data["customer"] = Customer.from_dict(data["customer"])
        return cls(**data)


@dataclass(frozen=True)
class Refund:
    """Money given back on one order, as its store reports it.

    ``external_id`` is the refund's id at the store, unique within its order;
    ``order_external_id`` names the order the same way ``Order.external_id``
    does. ``amount`` is what was refunded, in the order's currency. ``lines``
    may carry the refunded lines as the store describes them (kept, not read).
    """

    external_id: str
    order_external_id: str
    amount: Decimal
    currency: str
    created_at: datetime
    lines: tuple[Any, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Refund:
        data = dict(data)
        data["amount"] = Decimal(data["amount"])
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["lines"] = tuple(data.get("lines") or ())
        return cls(**data)


@dataclass(frozen=True)
class VoucherUse:
    """A store reports that an order used a discount code (maybe one the hub issued).

    ``order_external_id`` names the order as ``Order.external_id`` does; send it
    after the order itself. A code the hub never issued changes nothing.
    """

    code: str
    order_external_id: str

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoucherUse:
        return cls(**data)


@dataclass(frozen=True)
class ConnectionUninstalled:
    """The store removed the hub's app: the connection is disabled and calls stop."""

    reason: str = "uninstalled"

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectionUninstalled:
        return cls(**data)


@dataclass(frozen=True)
class CustomerRedaction:
    """Erase one customer's personal data (Shopify ``customers/redact`` and the like).

    The member is found by the connection's customer id, then the email or
    phone; ``order_external_ids`` are orders whose stored customer details
    are wiped too. ``request_id`` names the request in the audit log.
    """

    customer: Customer
    order_external_ids: tuple[str, ...] = ()
    request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerRedaction:
        return cls(
            customer=Customer.from_dict(data["customer"]),
            order_external_ids=tuple(data.get("order_external_ids") or ()),
            request_id=data.get("request_id"),
        )


@dataclass(frozen=True)
class CustomerDataRequest:
    """A customer asked the merchant for the data held about them (``customers/data_request``)."""

    customer: Customer
    order_external_ids: tuple[str, ...] = ()
    request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerDataRequest:
        return cls(
            customer=Customer.from_dict(data["customer"]),
            order_external_ids=tuple(data.get("order_external_ids") or ()),
            request_id=data.get("request_id"),
        )


@dataclass(frozen=True)
class ShopRedaction:
    """Purge what the hub holds from one store (``shop/redact``, 48 hours after uninstall)."""

    shop: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShopRedaction:
        return cls(**data)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value
