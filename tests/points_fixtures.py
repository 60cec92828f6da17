"""Builders shared by the points engine's tests: orders, refunds, settings, invariants."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hub.canonical import Customer
from hub.canonical import Order
from hub.canonical import OrderLine
from hub.canonical import Refund
from hub.models import Member
from hub.models import Order as OrderRow
from hub.orders.batches import record_order
from hub.orders.recording import record_refund
from hub.points import ledger
from hub.points.program import save_program

T0 = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
PHONE = "0912345678"


def order(
    external_id: str = "1001",
    total: str | int = "250000",
    *,
    status: str = "paid",
    phone: str | None = PHONE,
    placed_at: datetime = T0,
    paid_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    shipping: str | int = 0,
    tax: str | int = 0,
    lines: tuple[OrderLine, ...] = (),
    currency: str = "VND",
    birthday=None,
) -> Order:
    total = Decimal(str(total))
    customer = Customer(phone=phone, name="Lan", birthday=birthday) if phone else None
    return Order(
        external_id=external_id,
        currency=currency,
        subtotal=total - Decimal(str(shipping)) - Decimal(str(tax)),
        total=total,
        financial_status=status,
        placed_at=placed_at,
        paid_at=paid_at,
        cancelled_at=cancelled_at,
        shipping=Decimal(str(shipping)),
        tax=Decimal(str(tax)),
        lines=lines,
        customer=customer,
    )


def line(price: str | int, quantity: int = 1, **kwargs: Any) -> OrderLine:
    return OrderLine(quantity=quantity, price=Decimal(str(price)), **kwargs)


def record(hub, merchant_id: int, the_order: Order, *, now=None, source: str = "shop") -> OrderRow:
    with hub.db.transaction() as session:
        return record_order(hub, session, merchant_id, the_order, source=source, now=now).order


def refund(
    hub,
    merchant_id: int,
    order_external_id: str,
    external_id: str,
    amount: str | int,
    *,
    now=None,
    at: datetime | None = None,
    source: str = "shop",
    currency: str = "VND",
):
    the_refund = Refund(
        external_id=external_id,
        order_external_id=order_external_id,
        amount=Decimal(str(amount)),
        currency=currency,
        created_at=at or T0 + timedelta(days=1),
    )
    with hub.db.transaction() as session:
        return record_refund(hub, session, merchant_id, the_refund, source=source, now=now)


def settings(hub, merchant_id: int, values: dict, *, now: datetime | None = None):
    with hub.db.transaction() as session:
        version, _ = save_program(
            hub, session, merchant_id, values, actor="test", now=now or T0 - timedelta(days=30)
        )
        return version.version


def member_id(hub, merchant_id: int, phone: str = "+84912345678") -> int:
    with hub.db.session() as session:
        from sqlalchemy import select

        return session.scalar(
            select(Member.id).where(Member.merchant_id == merchant_id, Member.phone == phone)
        )


def points(hub, member_id: int, at: datetime | None = None) -> ledger.Balance:
    with hub.db.session() as session:
        return ledger.balance(session, member_id, at=at)


def spent(hub, member_id: int) -> Decimal:
    with hub.db.session() as session:
        return session.get(Member, member_id).total_spent


def assert_invariants(hub, member_id: int) -> None:
    """The ledger's invariants: balance = sum of entries, lots = max(balance, 0)."""
    with hub.db.session() as session:
        balance = session.get(Member, member_id).points_balance
        assert balance == ledger.balance_from_entries(session, member_id)
        assert ledger.lots_remaining(session, member_id) == max(balance, 0)
