"""An order's points through its life: earned when paid, reversed by refunds and cancellation.

``sync_order`` compares what the order's state calls for with what has been
written (its ``order_accruals`` row) and writes the difference, so it can run
after every delivery, in any order, as often as deliveries come:

* paid (status paid, partially refunded or refunded, or ``paid_at`` set) and
  not cancelled: earn once, one entry per rule, keyed
  ``order:<order id>:earn:<rule>``; the order's total is added to the
  member's ``total_spent``;
* each refund (stored by ``record_refund``, perhaps before the order was
  paid): reverse ``earned * refunded so far / earning base`` (half up,
  never more than earned) less what is already reversed, keyed
  ``order:<order id>:refund:<refund id>``; a status of ``refunded`` with no
  refund amounts reverses everything, keyed ``order:<order id>:refunded``;
* cancelled (``cancelled_at`` set or status voided): reverse whatever is left,
  keyed ``order:<order id>:cancel``; a cancelled order never earns later.

Reversals draw first from the lots the order itself opened, and may leave the
member owing points. The amounts reversed only grow, so whichever order the
deliveries come in, the final balance is the one the right order gives.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.canonical import Customer
from hub.canonical import Order as CanonicalOrder
from hub.canonical import OrderLine as CanonicalLine
from hub.db import utcnow
from hub.events import emit
from hub.metrics import count
from hub.models import Member
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import OrderRefund
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import ledger
from hub.points.earning import Award
from hub.points.earning import Quote
from hub.points.earning import quote
from hub.points.program import Program
from hub.points.program import format_amount
from hub.points.program import program_for
from hub.tiers import reevaluate_tier

if TYPE_CHECKING:
    from hub.core import Hub

PAID_STATUSES = ("paid", "partially_refunded", "refunded")


def is_paid(order: Order | CanonicalOrder) -> bool:
    return order.financial_status in PAID_STATUSES or order.paid_at is not None


def is_cancelled(order: Order | CanonicalOrder) -> bool:
    return order.cancelled_at is not None or order.financial_status == "voided"


def canonical(order: Order) -> CanonicalOrder:
    """The stored order as the canonical dataclass earning rules receive."""
    return CanonicalOrder(
        external_id=order.external_id,
        number=order.number,
        currency=order.currency,
        subtotal=order.subtotal,
        total_discounts=order.total_discounts,
        shipping=order.shipping,
        tax=order.tax,
        total=order.total,
        discount_codes=tuple(order.discount_codes or ()),
        financial_status=order.financial_status,
        placed_at=order.placed_at,
        paid_at=order.paid_at,
        cancelled_at=order.cancelled_at,
        lines=tuple(
            CanonicalLine(
                quantity=line.quantity,
                price=line.price,
                sku=line.sku,
                product_id=line.product_id,
                variant_id=line.variant_id,
                title=line.title,
                total_discount=line.total_discount,
                collections=tuple(line.collections or ()),
                gift_card=line.gift_card,
            )
            for line in order.lines
        ),
        customer=Customer.from_dict(order.customer) if order.customer else None,
    )


def sync_order(
    hub: Hub,
    session: Session,
    order: Order,
    *,
    fresh: bool = False,
    now: datetime | None = None,
) -> OrderAccrual | None:
    """Write whatever points the order's state calls for and is not written yet.

    ``fresh`` says the order row was inserted in this transaction and no
    refund refers to it yet, so two lookups can be skipped. Returns the
    order's accrual, or None when it has not earned (no member, not paid, or
    cancelled first).
    """
    if order.member_id is None:
        return None
    now = now or utcnow()
    if not fresh:
        # Two deliveries of one order in two workers: the second waits here and
        # then sees what the first wrote (its cancellation, its accrual).
        # FOR NO KEY UPDATE, as an UPDATE of the order takes: it waits for no
        # key share lock (a refund inserted for the order holds one).
        session.refresh(
            order,
            ["financial_status", "paid_at", "cancelled_at"],
            with_for_update={"key_share": True},
        )
    accrual = None if fresh else accrual_of(session, order.id)
    before = None if accrual is None else (accrual.reversed, accrual.spent, accrual.cancelled)
    if accrual is None:
        if not is_paid(order) or is_cancelled(order):
            return None
        accrual = _earn(hub, session, order, now)
    if accrual.cancelled:
        return accrual
    if is_cancelled(order):
        _cancel(session, order, accrual, now)
    else:
        _apply_refunds(session, order, accrual, now, fresh=fresh)
    if before != (accrual.reversed, accrual.spent, accrual.cancelled):
        # Points or spend moved: the member's tier may have too.
        reevaluate_tier(hub, session, session.get(Member, order.member_id))
    return accrual


def accrual_of(session: Session, order_id: int) -> OrderAccrual | None:
    return session.scalars(select(OrderAccrual).where(OrderAccrual.order_id == order_id)).first()


def _earn(hub: Hub, session: Session, order: Order, now: datetime) -> OrderAccrual:
    member = session.get(Member, order.member_id)
    ledger.lock_member(session, member)
    program = program_for(hub, session, order.merchant_id, order.placed_at)
    offer = quote(hub, session, order.merchant_id, member, canonical(order), program)
    postings = [ledger.Posting(member, ledger.Spent(order.total))]
    postings += [
        ledger.Posting(member, earn_credit(order.id, award, program, now)) for award in offer.awards
    ]
    # No accrual row, so none of its keys can be written: skip looking them up.
    balance = ledger.post(session, postings, now=now, known_new=True)[-1].balance
    accrual = OrderAccrual(
        merchant_id=order.merchant_id,
        order_id=order.id,
        member_id=member.id,
        program_version=program.version,
        base=offer.base,
        earned=offer.points,
        reversed=0,
        refunded=Decimal(0),
        spent=order.total,
        cancelled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(accrual)
    if offer.points:
        count("accruals")
        count("points_accrued", offer.points)
        emit(session, "points.earned", order.merchant_id,
             earned_event(member.id, order.id, offer, now, balance))  # fmt: skip
    return accrual


def earn_credit(order_id: int, award: Award, program: Program, now: datetime) -> ledger.Credit:
    """The credit one award of an order's quote posts."""
    return ledger.Credit(
        points=award.points,
        kind="earn",
        key=f"order:{order_id}:earn:{award.rule}",
        rule=award.rule,
        order_id=order_id,
        note=award.note[:500],
        available_at=program.available_at(now),
        expires_at=program.expires_at(now),
        program_version=program.version,
    )


def earned_event(member_id: int, order_id: int, offer: Quote, now: datetime, balance: int) -> dict:
    """The data of an order's ``points.earned`` event; ``balance`` is the one after the order."""
    return {
        "member_id": member_id,
        "order_id": order_id,
        "points": offer.points,
        "awards": [{"rule": a.rule, "points": a.points, "note": a.note} for a in offer.awards],
        "program_version": offer.program.version,
        "available_at": offer.program.available_at(now).isoformat(),
        "balance": balance,
    }


def _target(accrual: OrderAccrual, refunded: Decimal) -> int:
    """Points a refund of ``refunded`` in total takes back: in proportion, half up, capped."""
    if accrual.earned <= 0 or accrual.base <= 0:
        return 0
    share = min(refunded, accrual.base) / accrual.base
    return min(accrual.earned, int((accrual.earned * share).quantize(1, ROUND_HALF_UP)))


def _apply_refunds(
    session: Session, order: Order, accrual: OrderAccrual, now: datetime, *, fresh: bool
) -> None:
    refunds = (
        []
        if fresh
        else list(
            session.scalars(
                select(OrderRefund)
                .where(OrderRefund.order_id == order.id, OrderRefund.applied_at.is_(None))
                .order_by(OrderRefund.refunded_at, OrderRefund.id)
            )
        )
    )
    for refund in refunds:
        refund.applied_at = now
        if refund.currency.upper() != order.currency.upper():
            refund.note = (refund.note + " [not applied: currency differs from the order's]")[:500]
            continue
        accrual.refunded = accrual.refunded + refund.amount
        refund.points_reversed = _reverse(
            session, order, accrual, _target(accrual, accrual.refunded), now,
            key=f"order:{order.id}:refund:{refund.external_id}", reason="refund",
            note=f"refund {refund.external_id}: {format_amount(refund.amount)} {refund.currency}",
        )  # fmt: skip
        _spend(session, order, accrual, max(order.total - accrual.refunded, Decimal(0)))
    if order.financial_status == "refunded" and (
        accrual.reversed < accrual.earned or accrual.spent > 0
    ):
        _reverse(
            session, order, accrual, accrual.earned, now,
            key=f"order:{order.id}:refunded", reason="refund",
            note="order refunded in full",
        )  # fmt: skip
        _spend(session, order, accrual, Decimal(0))


def _cancel(session: Session, order: Order, accrual: OrderAccrual, now: datetime) -> None:
    _reverse(
        session, order, accrual, accrual.earned, now,
        key=f"order:{order.id}:cancel", reason="cancel", note="order cancelled",
    )  # fmt: skip
    _spend(session, order, accrual, Decimal(0))
    accrual.cancelled = True
    accrual.updated_at = now
    for refund in session.scalars(
        select(OrderRefund).where(
            OrderRefund.order_id == order.id, OrderRefund.applied_at.is_(None)
        )
    ):
        refund.applied_at = now  # moot: the cancellation took back everything


def _reverse(
    session: Session,
    order: Order,
    accrual: OrderAccrual,
    target: int,
    now: datetime,
    *,
    key: str,
    reason: str,
    note: str,
) -> int:
    """Reverse up to ``target`` points in total for this order; return the points written."""
    points = target - accrual.reversed
    if points <= 0:
        return 0
    member = session.get(Member, accrual.member_id)
    posted = ledger.debit(
        session, member, points, kind="reverse", key=key, rule=reason, order_id=order.id,
        note=note, allow_debt=True, prefer_lots=order_lots(session, order.id),
        program_version=accrual.program_version, now=now,
    )  # fmt: skip
    if not posted.created:
        return 0
    accrual.reversed = accrual.reversed + points
    accrual.updated_at = now
    emit(
        session,
        "points.reversed",
        order.merchant_id,
        {
            "member_id": member.id,
            "order_id": order.id,
            "points": points,
            "reason": reason,
            "note": note,
            "balance": posted.balance,
        },
    )
    return points


def _spend(session: Session, order: Order, accrual: OrderAccrual, spent: Decimal) -> None:
    """Lower what the order adds to the member's ``total_spent`` to ``spent`` (never raise it)."""
    drop = accrual.spent - min(spent, accrual.spent)
    if drop <= 0:
        return
    member = session.get(Member, accrual.member_id)
    ledger.post(session, [ledger.Posting(member, ledger.Spent(-drop))])
    accrual.spent = accrual.spent - drop


def order_lots(session: Session, order_id: int) -> list[int]:
    """Ids of the lots the order's earn entries opened."""
    return list(
        session.scalars(
            select(PointLot.id)
            .join(PointEntry, PointEntry.id == PointLot.entry_id)
            .where(PointEntry.order_id == order_id, PointEntry.kind == "earn")
            .order_by(PointLot.id)
        )
    )
