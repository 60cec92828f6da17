"""Settle referrals: rewarded, rejected or reversed once their window ends or a refund comes.

The order path already made a referral pending at the friend's first paid
order and stamped ``refund_seen_at`` when its order was refunded
(``hub.referrals.progress``). A periodic job (every ten minutes) settles every
shop, reading only pending referrals past their window and rewarded ones with
a stamp, each through its index, so a run's cost follows what changed, not
how many referrals there have been. A test or an operator calls
``settle_referrals`` with the moment to settle at. Each step is safe to run
again: ledger entries are keyed by the referral and the side, and a referral
changes status under its members' row locks.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.calendar_days import month_bounds
from hub.db import utcnow
from hub.errors import Conflict
from hub.events import emit
from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.models import Member
from hub.models import Merchant
from hub.models import Order
from hub.models import OrderRefund
from hub.models import Referral
from hub.models import Voucher
from hub.points import ledger
from hub.referrals.progress import REFUNDED_STATUSES
from hub.referrals.progress import move_referral
from hub.referrals.terms import get_terms
from hub.rewards.catalog import get_reward
from hub.rewards.vouchers import cancel_voucher
from hub.rewards.vouchers import issue_voucher
from hub.rewards.vouchers import voucher_event

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)
BATCH = 500
SIDES = ("referrer", "friend")


def settle_referrals(hub: Hub, *, now: datetime | None = None) -> dict[str, int]:
    """Settle every shop's referrals at ``now``; answer how many moved, per new status."""
    now = now or utcnow()
    moved = {"rewarded": 0, "rejected": 0, "reversed": 0}
    for step in (_settle_pending, _reverse_refunded):
        while True:
            with hub.db.transaction() as session:
                done = step(session, now, moved)
            if done < BATCH:
                break
    return moved


def _refunded(order_id: Any):
    """SQL: the order was refunded (in part or whole) or cancelled."""
    return or_(
        Order.cancelled_at.is_not(None),
        Order.financial_status.in_(REFUNDED_STATUSES),
        exists().where(OrderRefund.order_id == order_id),
    )


def due_pending(now: datetime):
    """SQL: pending referrals whose refund window has ended, soonest due first.

    Read through ``ix_referrals_due`` (status, due_at): referrals still inside
    their window are never looked at, however many there are.
    """
    return (
        select(Referral, _refunded(Referral.order_id))
        .join(Order, Order.id == Referral.order_id)
        .where(Referral.status == "pending", Referral.due_at <= now)
        .order_by(Referral.due_at, Referral.id)
        .limit(BATCH)
    )


def _settle_pending(session: Session, now: datetime, moved: dict[str, int]) -> int:
    """Due referrals: refunded ones rejected; the others rewarded, or refused past the limit.

    A refund inside the window is seen when the window ends: nobody is
    rewarded before then, so waiting changes no outcome.
    """
    rows = session.execute(due_pending(now)).all()
    for referral, refunded in rows:
        referrer, friend = _locked(session, referral)
        # A refund recorded since the read above stamped the referral: it counts too.
        if refunded or referral.refund_seen_at is not None:
            move_referral(session, referral, "rejected", now, reason="refunded")
        elif (
            _rewarded_this_month(session, referral, now)
            >= get_terms(session, referral.merchant_id)["monthly_limit"]
        ):
            move_referral(session, referral, "rejected", now, reason="monthly_limit")
        else:
            _reward(session, referral, referrer, friend, now)
        moved[referral.status] += 1
    return len(rows)


def _reverse_refunded(session: Session, now: datetime, moved: dict[str, int]) -> int:
    """Rewarded referrals whose order was refunded since: both rewards are taken back."""
    rows = session.scalars(refunded_after_reward()).all()
    for referral in rows:
        members = dict(zip(SIDES, _locked(session, referral), strict=True))
        for side in SIDES:
            _take_back(session, referral, side, members[side])
        move_referral(session, referral, "reversed", now, reason="refunded")
        moved["reversed"] += 1
    return len(rows)


def refunded_after_reward():
    """SQL: rewarded referrals the order path stamped with a refund, through their index.

    Rewarded referrals without a stamp are never read, however many there are.
    """
    return (
        select(Referral)
        .where(Referral.status == "rewarded", Referral.refund_seen_at.is_not(None))
        .order_by(Referral.status, Referral.refund_seen_at, Referral.id)
        .limit(BATCH)
    )


def _locked(session: Session, referral: Referral) -> tuple[Member, Member]:
    referrer = session.get(Member, referral.referrer_id)
    friend = session.get(Member, referral.friend_id)
    ledger.lock_members(session, [referrer, friend])
    session.refresh(referral)
    return referrer, friend


def _rewarded_this_month(session: Session, referral: Referral, now: datetime) -> int:
    """The referrer's referrals rewarded in ``now``'s month, as the merchant's calendar has it."""
    zone = session.scalar(select(Merchant.timezone).where(Merchant.id == referral.merchant_id))
    start, end = month_bounds(now, zone)
    return session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(
            Referral.referrer_id == referral.referrer_id,
            Referral.status.in_(("rewarded", "reversed")),
            Referral.rewarded_at >= start,
            Referral.rewarded_at < end,
        )
    )


def _reward(
    session: Session, referral: Referral, referrer: Member, friend: Member, now: datetime
) -> None:
    terms = get_terms(session, referral.merchant_id)
    given: dict[str, Any] = {}
    for side, member in (("referrer", referrer), ("friend", friend)):
        given[side] = _give(session, referral, side, member, terms[side], now)
    referral.rewards = given
    referral.rewarded_at = now
    move_referral(session, referral, "rewarded", now)


def _give(
    session: Session, referral: Referral, side: str, member: Member, terms: dict, now: datetime
) -> dict[str, Any]:
    """One side's reward: points through the ledger, or a voucher of the reward given free."""
    if terms.get("points"):
        posted = ledger.credit(
            session, member, terms["points"], kind="bonus", rule="referral",
            key=f"referral:{referral.id}:{side}", reference=f"referral:{referral.id}",
            note=f"referral {referral.id} ({side})", actor="referrals", now=now,
        )  # fmt: skip
        return {"points": terms["points"], "entry_id": posted.entry.id}
    reward = get_reward(session, referral.merchant_id, terms["reward_id"])
    voucher = issue_voucher(session, member, reward, actor="referrals", now=now)
    voucher.points = 0  # given, not bought: cancelling it returns no points
    emit(session, "voucher.issued", member.merchant_id, voucher_event(voucher))
    return {"voucher_id": voucher.id}


def _take_back(session: Session, referral: Referral, side: str, member: Member) -> None:
    given = (referral.rewards or {}).get(side) or {}
    if given.get("points"):
        ledger.debit(
            session, member, given["points"], kind="reverse", rule="referral",
            key=f"referral:{referral.id}:{side}:reverse", reference=f"referral:{referral.id}",
            note=f"referral {referral.id} refunded", actor="referrals", allow_debt=True,
        )  # fmt: skip
    elif given.get("voucher_id"):
        voucher = session.get(Voucher, given["voucher_id"])
        try:
            cancel_voucher(session, voucher, actor="referrals", note="referral refunded")
        except Conflict:
            log.info("referral %s: voucher %s was used or expired", referral.id, voucher.id)


def run_settlement() -> dict[str, int]:
    """Job: settle the referrals of every shop."""
    from hub.core import current_hub

    moved = settle_referrals(current_hub())
    log.info("referrals settled: %s", moved)
    return moved


@hookimpl(trylast=True)
def register_periodic_jobs(hub):
    """Settle referrals every ten minutes."""
    return [
        PeriodicJob(
            name="referrals.settle",
            func="hub.referrals.settlement.run_settlement",
            cron="*/10 * * * *",
        )
    ]
