"""Record canonical orders, once per (source, external id)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.canonical import Order as CanonicalOrder
from hub.canonical import Refund
from hub.db import utcnow
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.events import emit
from hub.models import Connection
from hub.models import Order
from hub.models import OrderRefund
from hub.points.accrual import sync_order
from hub.referrals.progress import refund_seen

if TYPE_CHECKING:
    from hub.core import Hub

FINANCIAL_STATUSES = (
    "pending",
    "authorized",
    "paid",
    "partially_paid",
    "partially_refunded",
    "refunded",
    "voided",
)
#: Fields a later delivery of the same order may change.
_MUTABLE = (
    "financial_status",
    "paid_at",
    "cancelled_at",
    "total",
    "subtotal",
    "total_discounts",
    "shipping",
    "tax",
    "discount_codes",
)


@dataclass(frozen=True)
class RecordedOrder:
    order: Order
    created: bool
    changed: tuple[str, ...] = ()


def source_for(connection_id: int | None, source: str | None) -> str:
    """Return the namespace an order's external id is unique in."""
    if connection_id is not None:
        return f"connection:{connection_id}"
    if not source:
        raise ValidationError(
            "an order needs a connection or a source name",
            details={"source": ["required without connection_id"]},
        )
    return f"api:{source}"


def check_status(order: CanonicalOrder) -> None:
    """:raise ValidationError: the order's financial status is not one the hub knows."""
    if order.financial_status not in FINANCIAL_STATUSES:
        raise ValidationError(
            f"unknown financial status {order.financial_status!r}",
            details={"financial_status": [f"one of {', '.join(FINANCIAL_STATUSES)}"]},
        )


def namespace_for(
    session: Session, merchant_id: int, connection_id: int | None, source: str | None
) -> str:
    """``source_for``, once the connection is known to be the merchant's.

    :raise NotFound: the connection does not exist or is another merchant's.
    """
    if connection_id is not None:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.merchant_id != merchant_id:
            raise NotFound(f"connection {connection_id} not found", code="connection_not_found")
    return source_for(connection_id, source)


def to_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def line_values(position: int, line) -> dict:
    """The columns of an order line (all but the order's id) from a canonical line."""
    return {
        "position": position,
        "sku": line.sku,
        "product_id": line.product_id,
        "variant_id": line.variant_id,
        "title": line.title,
        "quantity": line.quantity,
        "price": line.price,
        "total_discount": line.total_discount,
        "collections": list(line.collections),
        "gift_card": line.gift_card,
    }


def update_order(session: Session, row: Order, order: CanonicalOrder) -> RecordedOrder:
    """Apply a later delivery of a stored order; emit order.updated when something changed."""
    seen = to_utc(order.updated_at)
    if seen is not None and row.source_updated_at is not None and seen < row.source_updated_at:
        # Older than the delivery already applied (platforms send webhooks out of
        # order): it would move the order back. Its points are not at stake either:
        # they follow refunds and cancellation, which only ever grow.
        return RecordedOrder(order=row, created=False)
    changed = []
    if seen is not None and seen != row.source_updated_at:
        row.source_updated_at = seen
    for field in _MUTABLE:
        value = getattr(order, field)
        if field in ("paid_at", "cancelled_at"):
            value = to_utc(value)
        if field == "discount_codes":
            value = list(value)
        if field in ("paid_at", "cancelled_at") and value is None:
            continue  # a late, older delivery never un-pays or un-cancels
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed.append(field)
    if changed:
        session.flush()
        emit(
            session,
            "order.updated",
            row.merchant_id,
            {**_event_data(row), "changed": changed},
        )
    return RecordedOrder(order=row, created=False, changed=tuple(changed))


def _event_data(row: Order) -> dict:
    return event_data(row.id, {name: getattr(row, name) for name in _EVENT_FIELDS})


_EVENT_FIELDS = (
    "external_id", "source", "connection_id", "member_id", "financial_status", "total", "currency",
)  # fmt: skip


def event_data(order_id: int, values: Mapping[str, Any]) -> dict:
    """The data of an order's ``order.received`` or ``order.updated`` event, from its columns."""
    return {
        "order_id": order_id,
        **{name: values[name] for name in _EVENT_FIELDS},
        # Plain digits: str() of a normalized Decimal can be "1E+6".
        "total": format(Decimal(values["total"]), "f"),
    }


def get_order(session: Session, merchant_id: int, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.merchant_id != merchant_id:
        raise NotFound(f"order {order_id} not found", code="order_not_found")
    return order


# -- refunds -------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRefund:
    refund: OrderRefund
    created: bool


def record_refund(
    hub: Hub,
    session: Session,
    merchant_id: int,
    refund: Refund,
    *,
    connection_id: int | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> RecordedRefund:
    """Store a refund once per (order, refund id) and reverse its share of the order's points.

    The order is named the way ``record_orders`` names it (connection or
    source, and its external id). A refund that arrives before its order,
    or before the order is paid, is kept and applied when the order earns.
    The same refund sent again changes nothing.
    """
    if refund.amount is None or refund.amount <= 0:
        raise ValidationError(
            f"refund {refund.external_id}: the amount must be more than 0",
            details={"amount": ["must be more than 0"]},
        )
    namespace = namespace_for(session, merchant_id, connection_id, source)
    return store_refund(hub, session, merchant_id, namespace, refund, now=now)


def store_refund(
    hub: Hub,
    session: Session,
    merchant_id: int,
    namespace: str,
    refund: Refund,
    *,
    now: datetime | None = None,
) -> RecordedRefund:
    """Do ``record_refund`` for an order source already resolved (``connection:<id>``)."""
    existing = session.scalars(
        select(OrderRefund).where(
            OrderRefund.merchant_id == merchant_id,
            OrderRefund.source == namespace,
            OrderRefund.order_external_id == refund.order_external_id,
            OrderRefund.external_id == refund.external_id,
        )
    ).first()
    if existing is not None:
        return RecordedRefund(refund=existing, created=False)
    order = session.scalars(
        select(Order).where(
            Order.merchant_id == merchant_id,
            Order.source == namespace,
            Order.external_id == refund.order_external_id,
        )
    ).first()
    if order is not None and order.currency != refund.currency.upper():
        raise ValidationError(
            f"refund {refund.external_id} is in {refund.currency.upper()} but order "
            f"{refund.order_external_id} is in {order.currency}; send it in the order's currency",
            details={"currency": [f"must be {order.currency}"]},
        )
    row = OrderRefund(
        merchant_id=merchant_id,
        order_id=order.id if order is not None else None,
        source=namespace,
        order_external_id=refund.order_external_id,
        external_id=refund.external_id,
        amount=refund.amount,
        currency=refund.currency.upper(),
        refunded_at=to_utc(refund.created_at),
        lines=[dict(line) if isinstance(line, dict) else line for line in refund.lines],
        note=refund.note[:500],
    )
    session.add(row)
    session.flush()
    if order is not None:
        sync_order(hub, session, order, now=now)
        refund_seen(session, order.id, now or utcnow())
    return RecordedRefund(refund=row, created=True)


def attach_refunds(session: Session, order: Order) -> int:
    """Link refunds that arrived before their order to it; return how many."""
    # One UPDATE links every early refund of the order; no refund row is loaded.
    refunds = OrderRefund.__table__
    result = session.connection().execute(
        update(refunds)
        .where(
            refunds.c.merchant_id == order.merchant_id,
            refunds.c.source == order.source,
            refunds.c.order_external_id == order.external_id,
            refunds.c.order_id.is_(None),
        )
        .values(order_id=order.id)
    )
    return result.rowcount or 0


def refunds_of(session: Session, order_id: int) -> list[OrderRefund]:
    return list(
        session.scalars(
            select(OrderRefund)
            .where(OrderRefund.order_id == order_id)
            .order_by(OrderRefund.refunded_at, OrderRefund.id)
        )
    )
