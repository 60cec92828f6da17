"""The tiers report: members per tier at each month's end, upgrades and downgrades per month.

Read from ``member_tiers``, the history of every member's tier (one row per
stay in a tier, ``ended_at`` set when the member left it). A move is an
upgrade when the new tier sits higher on the ladder than the one left (or
the member had none), a downgrade when lower (or the member lost their tier).
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from hub.db import UTCDateTime
from hub.models import MemberTier
from hub.models import Tier
from hub.reports.days import start_of
from hub.reports.periods import Period


def months(within: Period) -> list[date]:
    """The first day of each calendar month the period touches."""
    first, found = within.first.replace(day=1), []
    while first <= within.last:
        found.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return found


def _month_end(month: date, within: Period) -> date:
    following = (month + timedelta(days=32)).replace(day=1)
    return min(following - timedelta(days=1), within.last)


def _members_at(session: Session, merchant_id: int, moments: list[datetime]) -> list[dict]:
    """Members per tier at each of ``moments``, in one pass over the tier stays."""
    # The moments as a table of their own: a UNION ALL, which both databases read.
    ends = union_all(*[
        select(literal(moment, UTCDateTime()).label("at"), literal(n, Integer()).label("n"))
        for n, moment in enumerate(moments)
    ]).subquery("ends")  # fmt: skip
    rows = session.execute(
        select(ends.c.n, MemberTier.tier_name, func.count())
        .join(ends, and_(MemberTier.started_at < ends.c.at,
                         or_(MemberTier.ended_at.is_(None), MemberTier.ended_at >= ends.c.at)))
        .where(MemberTier.merchant_id == merchant_id, MemberTier.tier_id.is_not(None))
        .group_by(ends.c.n, MemberTier.tier_name)
    )  # fmt: skip
    found: list[dict[str, int]] = [{} for _ in moments]
    for n, name, count in rows:
        found[n][name or ""] = int(count)
    return [dict(sorted(counts.items())) for counts in found]


def _moves(session: Session, merchant_id: int, within: Period) -> dict[date, dict[str, int]]:
    new, old = aliased(Tier), aliased(Tier)
    rows = session.execute(
        select(MemberTier.started_at, new.position, old.position)
        .outerjoin(new, new.id == MemberTier.tier_id)
        .outerjoin(old, old.id == MemberTier.previous_tier_id)
        .where(
            MemberTier.merchant_id == merchant_id,
            MemberTier.started_at >= within.start,
            MemberTier.started_at < within.end,
        )
    )
    found = {month: {"upgrades": 0, "downgrades": 0} for month in months(within)}
    for started_at, position, previous in rows:
        month = started_at.astimezone(within.tz).date().replace(day=1)
        if position is not None and (previous is None or position > previous):
            found[month]["upgrades"] += 1
        elif previous is not None and (position is None or position < previous):
            found[month]["downgrades"] += 1
    return found


def _summary(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    moves = _moves(session, merchant_id, within)
    return {
        "members_by_tier": _members_at(session, merchant_id, [within.end])[0],
        "upgrades": sum(m["upgrades"] for m in moves.values()),
        "downgrades": sum(m["downgrades"] for m in moves.values()),
    }


def tiers_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """Members per tier at the end of each month of the period, and the moves in each month."""
    moves = _moves(session, merchant_id, within)
    ends = [start_of(_month_end(month, within) + timedelta(days=1), within.tz)
            for month in months(within)]  # fmt: skip
    counts = _members_at(session, merchant_id, ends)
    series = [
        {"month": month.strftime("%Y-%m"), "members_by_tier": counts[n], **moves[month]}
        for n, month in enumerate(months(within))
    ]
    return {
        "report": "tiers",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": _summary(session, merchant_id, within),
        "previous_totals": _summary(session, merchant_id, within.previous()),
        "series": series,
    }
