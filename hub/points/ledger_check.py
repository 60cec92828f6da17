"""Check the ledger's invariants over the whole database (``hub db check``).

The ledger keeps them in the same transaction as every entry (``hub.points.ledger``):
a member's balance equals the sum of their entries, and the points left in
their lots equal the balance when it is positive (none when it is a debt).
This reads them back, after a restore or a hand-made change, and names every
member where they do not hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Member
from hub.models import PointEntry
from hub.models import PointLot


@dataclass(frozen=True)
class LedgerDifference:
    """One member whose stored totals disagree with their entries or lots."""

    member_id: int
    merchant_id: int
    balance: int
    entries: int
    lots: int

    def describe(self) -> str:
        parts = []
        if self.balance != self.entries:
            parts.append(
                f"balance {self.balance} but entries sum to {self.entries} "
                f"(difference {self.balance - self.entries:+d})"
            )
        if self.lots != max(self.balance, 0):
            parts.append(f"lots hold {self.lots} points but the balance is {self.balance}")
        return f"member {self.member_id} (merchant {self.merchant_id}): " + "; ".join(parts)


@dataclass(frozen=True)
class LedgerReport:
    members: int
    differences: list[LedgerDifference]


def check_ledger(session: Session) -> LedgerReport:
    """Compare every member's balance with their entries and lots, in two grouped queries."""
    entries = (
        select(PointEntry.member_id, func.sum(PointEntry.points).label("points"))
        .group_by(PointEntry.member_id)
        .subquery()
    )
    lots = (
        select(PointLot.member_id, func.sum(PointLot.remaining).label("points"))
        .group_by(PointLot.member_id)
        .subquery()
    )
    entry_sum = func.coalesce(entries.c.points, 0)
    lot_sum = func.coalesce(lots.c.points, 0)
    positive = case((Member.points_balance > 0, Member.points_balance), else_=0)
    query = (
        select(Member.id, Member.merchant_id, Member.points_balance, entry_sum, lot_sum)
        .outerjoin(entries, entries.c.member_id == Member.id)
        .outerjoin(lots, lots.c.member_id == Member.id)
        .where(or_(Member.points_balance != entry_sum, lot_sum != positive))
        .order_by(Member.id)
    )
    differences = [
        LedgerDifference(int(a), int(b), int(c), int(d), int(e))
        for a, b, c, d, e in session.execute(query)
    ]
    members = session.scalar(select(func.count()).select_from(Member)) or 0
    return LedgerReport(members=members, differences=differences)
