"""Reading referrals: a shop's list for the console and the API, a member's own results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Referral

STATUSES = ("joined", "pending", "rewarded", "rejected", "reversed")


def list_referrals(
    session: Session,
    merchant_id: int,
    *,
    status: str | None = None,
    referrer_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Referral]:
    """The shop's referrals, oldest first, filtered by status and referrer."""
    query = select(Referral).where(Referral.merchant_id == merchant_id)
    if status is not None:
        query = query.where(Referral.status == status)
    if referrer_id is not None:
        query = query.where(Referral.referrer_id == referrer_id)
    if after_id is not None:
        query = query.where(Referral.id > after_id)
    return list(session.scalars(query.order_by(Referral.id).limit(limit)))


def referrer_results(session: Session, member_id: int) -> dict[str, Any]:
    """How the member's referrals went: friends who joined, and those rewarded."""
    counts = dict(
        session.execute(
            select(Referral.status, func.count())
            .where(Referral.referrer_id == member_id)
            .group_by(Referral.status)
        ).all()
    )
    joined = sum(n for status, n in counts.items() if status != "rejected")
    return {
        "joined": joined,
        "pending": counts.get("pending", 0),
        "rewarded": counts.get("rewarded", 0),
    }
