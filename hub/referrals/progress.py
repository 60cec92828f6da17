"""Referrals follow the friend's orders as the order path records them.

The order path calls these in the transaction that stores an order or a
refund, so settlement never has to look for what changed:

* ``orders_paid``: a joined friend's first paid order makes the referral
  pending until the refund window ends (``due_at``);
* ``refund_seen``: a refund or cancellation of a pending or rewarded
  referral's order stamps ``refund_seen_at``; settlement takes a rewarded
  one's rewards back, and a pending one is judged when its window ends.

Neither locks a member: the rewards move under the members' row locks in
settlement, which reads only due and stamped referrals through their indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.events import emit
from hub.models import Order
from hub.models import Referral
from hub.referrals.claims import referral_event
from hub.referrals.terms import get_terms

#: The states in which a refund of the referral's order still matters.
OPEN_STATUSES = ("pending", "rewarded")
#: Order statuses that say the order was refunded (in part or whole) or voided.
REFUNDED_STATUSES = ("refunded", "partially_refunded", "voided")


def refunded_or_cancelled(order: Order) -> bool:
    """The stored order was refunded (in part or whole), voided or cancelled."""
    return order.cancelled_at is not None or order.financial_status in REFUNDED_STATUSES


def orders_paid(
    session: Session,
    merchant_id: int,
    orders: Iterable[tuple[int, int | None, datetime | None]],
    now: datetime,
) -> int:
    """Make pending the joined referrals whose friend paid one of ``orders``; answer how many.

    ``orders`` are (order id, member id, paid at) of orders just stored or
    just paid. One indexed lookup for the whole batch (merchant, friend); the
    friend's earliest paid order among them is the one the referral waits on.
    """
    first: dict[int, tuple[datetime, int]] = {}
    for order_id, member_id, paid_at in orders:
        if member_id is None or paid_at is None:
            continue
        if member_id not in first or (paid_at, order_id) < first[member_id]:
            first[member_id] = (paid_at, order_id)
    if not first:
        return 0
    joined = session.scalars(
        select(Referral).where(
            Referral.merchant_id == merchant_id,
            Referral.friend_id.in_(list(first)),
            Referral.status == "joined",
        )
    ).all()
    if joined:
        hold = timedelta(days=get_terms(session, merchant_id)["hold_days"])
    for referral in joined:
        paid_at, order_id = first[referral.friend_id]
        move_referral(session, referral, "pending", now, order_id=order_id, due_at=paid_at + hold)
    return len(joined)


def refund_seen(session: Session, order_id: int, now: datetime) -> None:
    """Stamp the pending or rewarded referral waiting on ``order_id``: a refund was recorded.

    One UPDATE through ``ix_referrals_order``; a second refund of the same order
    keeps the first stamp.
    """
    session.execute(
        update(Referral)
        .where(
            Referral.order_id == order_id,
            Referral.status.in_(OPEN_STATUSES),
            Referral.refund_seen_at.is_(None),
        )
        .values(refund_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def move_referral(
    session: Session, referral: Referral, status: str, now: datetime, **changes
) -> None:
    """Set the referral's status (and ``changes``) and emit ``referral.<status>``."""
    referral.status = status
    referral.updated_at = now
    for name, value in changes.items():
        setattr(referral, name, value)
    session.flush()
    emit(session, f"referral.{status}", referral.merchant_id, referral_event(referral))
