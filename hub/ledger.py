"""Post points to the ledger: one entry per change, keyed so it is written once.

A member's ``points_balance`` always equals the sum of their entries; both are
written in the same transaction. Credits open a lot; spending draws from lots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Member
from hub.models import PointEntry
from hub.models import PointLot

CREDIT_KINDS = ("earn", "bonus", "adjust", "import", "reverse")


@dataclass(frozen=True)
class Posted:
    entry: PointEntry
    created: bool


def existing_entry(session: Session, merchant_id: int, key: str) -> PointEntry | None:
    return session.scalars(
        select(PointEntry).where(PointEntry.merchant_id == merchant_id, PointEntry.key == key)
    ).first()


def credit(
    session: Session,
    member: Member,
    points: int,
    *,
    kind: str,
    key: str,
    rule: str | None = None,
    order_id: int | None = None,
    note: str = "",
    actor: str = "system",
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Posted:
    """Add ``points`` (> 0) as a new lot; a second call with the same key changes nothing."""
    if points <= 0:
        raise ValueError(f"a credit must be positive, got {points}")
    found = existing_entry(session, member.merchant_id, key)
    if found is not None:
        return Posted(found, False)
    entry = PointEntry(
        merchant_id=member.merchant_id,
        member_id=member.id,
        kind=kind,
        points=points,
        key=key,
        rule=rule,
        order_id=order_id,
        note=note,
        actor=actor,
    )
    session.add(entry)
    session.flush()
    session.add(
        PointLot(
            merchant_id=member.merchant_id,
            member_id=member.id,
            entry_id=entry.id,
            points=points,
            remaining=points,
            available_at=available_at or utcnow(),
            expires_at=expires_at,
        )
    )
    session.execute(
        update(Member)
        .where(Member.id == member.id)
        .values(points_balance=Member.points_balance + points)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(member, ["points_balance"])
    return Posted(entry, True)


def balance_from_entries(session: Session, member_id: int) -> int:
    """The member's balance computed from scratch: the invariant's right-hand side."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.member_id == member_id
            )
        )
    )
