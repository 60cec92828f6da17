"""Read the rollups of a period: totals by figure, one row per day, and running totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import ReportDay
from hub.reports.periods import Period
from hub.reports.rollups import MONEY_SCALE


@dataclass
class Sums:
    count: int = 0
    points: int = 0
    amount_e4: int = 0

    @property
    def amount(self) -> Decimal:
        return money(self.amount_e4)

    def add(self, other: Sums) -> None:
        self.count += other.count
        self.points += other.points
        self.amount_e4 += other.amount_e4


def money(amount_e4: int) -> Decimal:
    """Ten-thousandths back to an amount, without trailing zeros."""
    value = Decimal(amount_e4) / MONEY_SCALE
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def totals(session: Session, merchant_id: int, within: Period) -> dict[tuple[str, str], Sums]:
    """The period's sums by (metric, dimension)."""
    rows = session.execute(
        select(
            ReportDay.metric,
            ReportDay.dimension,
            func.sum(ReportDay.count),
            func.sum(ReportDay.points),
            func.sum(ReportDay.amount_e4),
        )
        .where(
            ReportDay.merchant_id == merchant_id,
            ReportDay.day >= within.first,
            ReportDay.day <= within.last,
        )
        .group_by(ReportDay.metric, ReportDay.dimension)
    )
    return {(m, d): Sums(int(c or 0), int(p or 0), int(a or 0)) for m, d, c, p, a in rows}


def by_day(
    session: Session, merchant_id: int, within: Period, metric: str
) -> dict[date, dict[str, Sums]]:
    """The period's rows of one metric: by day, then by dimension."""
    rows = session.execute(
        select(
            ReportDay.day, ReportDay.dimension, ReportDay.count, ReportDay.points,
            ReportDay.amount_e4,
        ).where(
            ReportDay.merchant_id == merchant_id,
            ReportDay.metric == metric,
            ReportDay.day >= within.first,
            ReportDay.day <= within.last,
        )
    )  # fmt: skip
    days: dict[date, dict[str, Sums]] = defaultdict(dict)
    for day, dimension, count, points, amount in rows:
        days[day][dimension] = Sums(count, points, amount)
    return days


def before(session: Session, merchant_id: int, metric: str, day: date) -> Sums:
    """The sums of one metric over every day before ``day``: where a running total starts."""
    count, points, amount = session.execute(
        select(
            func.coalesce(func.sum(ReportDay.count), 0),
            func.coalesce(func.sum(ReportDay.points), 0),
            func.coalesce(func.sum(ReportDay.amount_e4), 0),
        ).where(
            ReportDay.merchant_id == merchant_id,
            ReportDay.metric == metric,
            ReportDay.day < day,
        )
    ).one()
    return Sums(int(count), int(points), int(amount))


def pick(found: dict[tuple[str, str], Sums], metric: str, test) -> Sums:
    """The sum over the dimensions of ``metric`` for which ``test(dimension)`` holds."""
    total = Sums()
    for (m, dimension), sums in found.items():
        if m == metric and test(dimension):
            total.add(sums)
    return total
