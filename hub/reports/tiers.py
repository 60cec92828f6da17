"""The tiers report: members per tier at each month's end, upgrades and downgrades per month.

Read from the daily rollups of the tier stays (``member_tiers``: one row per
stay in a tier, ``ended_at`` set when the member left it): members in a tier
at the end of a day are the stays in it begun up to that day less those
ended up to it (``tier_in``, ``tier_out``), counted by the tier's name, which
a stay keeps after its tier is renamed or deleted. A move is an upgrade when
the new tier sits higher on the ladder than the one left (or the member had
none), a downgrade when lower (or the member lost their tier): ``tier_moves``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import ReportDay
from hub.reports.periods import Period
from hub.reports.reading import by_day


def months(within: Period) -> list[date]:
    """The first day of each calendar month the period touches."""
    first, found = within.first.replace(day=1), []
    while first <= within.last:
        found.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return found


def _in_tier_before(session: Session, merchant_id: int, day: date) -> Counter[str]:
    """Members per tier name at the start of ``day``: stays begun before it less those ended."""
    rows = session.execute(
        select(ReportDay.metric, ReportDay.dimension, func.sum(ReportDay.count))
        .where(
            ReportDay.merchant_id == merchant_id,
            ReportDay.metric.in_(("tier_in", "tier_out")),
            ReportDay.day < day,
        )
        .group_by(ReportDay.metric, ReportDay.dimension)
    )
    found: Counter[str] = Counter()
    for metric, name, count in rows:
        found[name] += int(count or 0) * (1 if metric == "tier_in" else -1)
    return found


def _at_month_ends(session: Session, merchant_id: int, within: Period) -> list[dict[str, int]]:
    """Members per tier at the end of each month of the period (its last day for the last)."""
    running = _in_tier_before(session, merchant_id, within.first)
    began = by_day(session, merchant_id, within, "tier_in")
    ended = by_day(session, merchant_id, within, "tier_out")
    found: list[dict[str, int]] = []
    for day in within.each_day():
        for name, sums in began.get(day, {}).items():
            running[name] += sums.count
        for name, sums in ended.get(day, {}).items():
            running[name] -= sums.count
        following = day + timedelta(days=1)
        if following.day == 1 or day == within.last:
            found.append(dict(sorted((n, c) for n, c in running.items() if c)))
    return found


def _moves(session: Session, merchant_id: int, within: Period) -> dict[date, dict[str, int]]:
    found = {month: {"upgrades": 0, "downgrades": 0} for month in months(within)}
    for day, rows in by_day(session, merchant_id, within, "tier_moves").items():
        month = found[day.replace(day=1)]
        month["upgrades"] += rows["up"].count if "up" in rows else 0
        month["downgrades"] += rows["down"].count if "down" in rows else 0
    return found


def _summary(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    moves = _moves(session, merchant_id, within)
    return {
        "members_by_tier": _at_month_ends(session, merchant_id, within)[-1],
        "upgrades": sum(m["upgrades"] for m in moves.values()),
        "downgrades": sum(m["downgrades"] for m in moves.values()),
    }


def tiers_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """Members per tier at the end of each month of the period, and the moves in each month."""
    moves = _moves(session, merchant_id, within)
    counts = _at_month_ends(session, merchant_id, within)
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
