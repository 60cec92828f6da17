"""Post points to the ledger: one entry per change, keyed so it is written once.

Invariants, kept in the same transaction as every entry:

* ``members.points_balance`` equals the sum of the member's entries;
* the points remaining in the member's lots equal ``max(points_balance, 0)``:
  a balance below zero (a refund reversing points already spent) is a debt
  that the next credits pay off before they open a spendable lot.

Credits open a lot, spendable from ``available_at`` until ``expires_at``.
Debits draw from lots, soonest-expiring first, and record each draw, so a
cancelled redemption gives back exactly the points it took, with their
original expiry. Concurrent debits on one member are serialised by a row lock
on the member (PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``), so a
balance can never be spent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.errors import Conflict
from hub.models import Member
from hub.models import PointAllocation
from hub.models import PointEntry
from hub.models import PointLot

CREDIT_KINDS = ("earn", "bonus", "adjust", "import", "reverse")
DEBIT_KINDS = ("redeem", "reverse", "expire", "adjust")


class InsufficientPoints(Conflict):
    code = "insufficient_points"


@dataclass(frozen=True)
class Posted:
    """The entry a posting wrote, or the one already there (``created`` False)."""

    entry: PointEntry
    created: bool


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    total: int


def existing_entry(session: Session, merchant_id: int, key: str) -> PointEntry | None:
    return session.scalars(
        select(PointEntry).where(PointEntry.merchant_id == merchant_id, PointEntry.key == key)
    ).first()


def lock_member(session: Session, member: Member) -> Member:
    """Take the member's row lock for the rest of the transaction and refresh it."""
    session.execute(select(Member.id).where(Member.id == member.id).with_for_update())
    session.refresh(member, ["points_balance"])
    return member


def _post(session: Session, member: Member, points: int, **fields) -> PointEntry:
    entry = PointEntry(merchant_id=member.merchant_id, member_id=member.id, points=points, **fields)
    session.add(entry)
    session.execute(
        update(Member)
        .where(Member.id == member.id)
        .values(points_balance=Member.points_balance + points)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return entry


def credit(
    session: Session,
    member: Member,
    points: int,
    *,
    kind: str,
    key: str,
    rule: str | None = None,
    order_id: int | None = None,
    reference: str | None = None,
    note: str = "",
    actor: str = "system",
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
    data: dict | None = None,
) -> Posted:
    """Add ``points`` (> 0) as a new lot; a second call with the same key changes nothing.

    When the member owes points, the debt is paid first and the lot holds the rest.
    """
    if points <= 0 or kind not in CREDIT_KINDS:
        raise ValueError(f"a credit needs points > 0 and a kind in {CREDIT_KINDS}")
    found = existing_entry(session, member.merchant_id, key)
    if found is not None:
        return Posted(found, False)
    lock_member(session, member)
    debt = max(0, -member.points_balance)
    entry = _post(
        session, member, points, kind=kind, key=key, rule=rule, order_id=order_id,
        reference=reference, note=note, actor=actor, data=data or {},
    )  # fmt: skip
    session.add(
        PointLot(
            merchant_id=member.merchant_id,
            member_id=member.id,
            entry_id=entry.id,
            points=points,
            remaining=max(0, points - debt),
            available_at=available_at or utcnow(),
            expires_at=expires_at,
        )
    )
    session.flush()
    session.refresh(member, ["points_balance"])
    return Posted(entry, True)


def _spendable(member_id: int, now: datetime, include_pending: bool):
    query = select(PointLot).where(
        PointLot.member_id == member_id,
        PointLot.remaining > 0,
        or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
    )
    if not include_pending:
        query = query.where(PointLot.available_at <= now)
    # Soonest-expiring first; lots that never expire last; oldest first among equals.
    never = case((PointLot.expires_at.is_(None), 1), else_=0)
    return query.order_by(never, PointLot.expires_at, PointLot.id).with_for_update()


def debit(
    session: Session,
    member: Member,
    points: int,
    *,
    kind: str,
    key: str,
    rule: str | None = None,
    order_id: int | None = None,
    reference: str | None = None,
    note: str = "",
    actor: str = "system",
    allow_debt: bool = False,
    prefer_lots: Sequence[int] = (),
    data: dict | None = None,
) -> Posted:
    """Take ``points`` (> 0) from the member's available lots, soonest-expiring first.

    ``prefer_lots`` are drawn first, pending or not (a reversal takes back the
    lot its order opened). With ``allow_debt`` the balance may go below zero
    (reversals); otherwise too few available points raise ``InsufficientPoints``
    and nothing is written. A second call with the same key changes nothing.
    """
    if points <= 0 or kind not in DEBIT_KINDS:
        raise ValueError(f"a debit needs points > 0 and a kind in {DEBIT_KINDS}")
    found = existing_entry(session, member.merchant_id, key)
    if found is not None:
        return Posted(found, False)
    lock_member(session, member)
    now = utcnow()
    preferred = []
    if prefer_lots:
        preferred = list(
            session.scalars(
                select(PointLot)
                .where(PointLot.id.in_(prefer_lots), PointLot.remaining > 0)
                .order_by(PointLot.id)
                .with_for_update()
            )
        )
    others = [
        lot
        for lot in session.scalars(_spendable(member.id, now, include_pending=allow_debt))
        if lot.id not in set(prefer_lots)
    ]
    lots = preferred + others
    if not allow_debt and sum(lot.remaining for lot in lots) < points:
        raise InsufficientPoints(
            f"member {member.id} has {sum(lot.remaining for lot in lots)} points available, "
            f"{points} needed",
            details={"available": sum(lot.remaining for lot in lots), "needed": points},
        )
    entry = _post(
        session, member, -points, kind=kind, key=key, rule=rule, order_id=order_id,
        reference=reference, note=note, actor=actor, data=data or {},
    )  # fmt: skip
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        lot.remaining -= take
        left -= take
        session.add(PointAllocation(entry_id=entry.id, lot_id=lot.id, points=take))
    session.flush()
    session.refresh(member, ["points_balance"])
    return Posted(entry, True)


def give_back(
    session: Session,
    member: Member,
    debit_entry: PointEntry,
    *,
    key: str,
    note: str = "",
    actor: str = "system",
) -> Posted:
    """Undo a debit: its points return to the lots they came from, with their expiry.

    Points drawn from a lot that has expired since are not returned to it; they
    are gone, as they would have been had they never been spent.
    """
    found = existing_entry(session, member.merchant_id, key)
    if found is not None:
        return Posted(found, False)
    lock_member(session, member)
    now = utcnow()
    returned = 0
    allocations = session.scalars(
        select(PointAllocation).where(PointAllocation.entry_id == debit_entry.id)
    ).all()
    for allocation in allocations:
        lot = session.get(PointLot, allocation.lot_id)
        if lot.expires_at is not None and lot.expires_at <= now:
            continue
        lot.remaining += allocation.points
        returned += allocation.points
    if returned == 0:
        raise Conflict("nothing to give back: the points have expired", code="points_expired")
    entry = _post(
        session, member, returned, kind="reverse", key=key, rule=debit_entry.rule,
        order_id=debit_entry.order_id, reference=str(debit_entry.id), note=note, actor=actor,
    )  # fmt: skip
    session.refresh(member, ["points_balance"])
    return Posted(entry, True)


def balance(session: Session, member_id: int, at: datetime | None = None) -> Balance:
    """Available, pending and total points of a member at ``at`` (default now)."""
    now = at or utcnow()
    live = or_(PointLot.expires_at.is_(None), PointLot.expires_at > now)
    available, pending = session.execute(
        select(
            func.coalesce(
                func.sum(case((PointLot.available_at <= now, PointLot.remaining), else_=0)), 0
            ),
            func.coalesce(
                func.sum(case((PointLot.available_at > now, PointLot.remaining), else_=0)), 0
            ),
        ).where(PointLot.member_id == member_id, live)
    ).one()
    total = session.scalar(select(Member.points_balance).where(Member.id == member_id)) or 0
    return Balance(available=int(available), pending=int(pending), total=int(total))


def balance_from_entries(session: Session, member_id: int) -> int:
    """The member's balance computed from scratch: the invariant's right-hand side."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.member_id == member_id
            )
        )
    )


def lots_remaining(session: Session, member_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                PointLot.member_id == member_id
            )
        )
    )
