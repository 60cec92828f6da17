"""The customers report: repeat rate, order value and frequency by tier, lifetime value, cohorts.

Counted over what each member bought each local day (``report_member_days``:
orders and their total, cancelled ones left out; ``hub.reports.member_days``),
so the cost follows the members and days that bought, not the orders; a
member's tier is the one they hold now.

* Repeat purchase rate: of the members who ordered in the period, the share
  who ordered at least twice.
* Historic CLV: the average ``total_spent`` (net of refunds) of the members
  who have spent anything, over all time.
* Predictive CLV: average order value x orders per active member per year x
  expected years as a customer, all measured over the 12 months (365 local
  days) before the period's end. Expected years = 1 / (1 - r), where r is the share of the
  members active in the 12 months before those who ordered again in them
  (capped at 10 years; None without a year of history).
* Cohorts: members by the month they joined (the period's last 12 months at
  most); for each later month, the share of the cohort who ordered in it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from hub.models import Member
from hub.models import MemberTier
from hub.models import ReportMemberDay
from hub.reports import member_days
from hub.reports.days import as_date
from hub.reports.days import local_day
from hub.reports.days import start_of
from hub.reports.periods import Period
from hub.reports.reading import money
from hub.reports.rollups import money_e4
from hub.reports.tiers import months

MAX_LIFETIME_YEARS = 10
MAX_COHORTS = 12
_PLACES = Decimal("0.0001")


def _ratio(part: Any, whole: Any) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(_PLACES) if whole else None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def repeat_rate(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    per_member = member_days.per_member(merchant_id, within.first, within.last)
    buyers, repeaters = session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((per_member.c.orders >= 2, 1), else_=0)), 0)
        )
    ).one()
    return {"buyers": int(buyers), "repeat_buyers": int(repeaters),
            "repeat_rate": _text(_ratio(repeaters, buyers))}  # fmt: skip


def by_tier(session: Session, merchant_id: int, within: Period) -> list[dict[str, Any]]:
    """Average order value and orders per buying member, by the members' tier now."""
    per_member = member_days.per_member(merchant_id, within.first, within.last)
    held = aliased(MemberTier)
    tier = held.tier_name
    rows = session.execute(
        select(tier, func.count(), func.sum(per_member.c.orders), func.sum(per_member.c.revenue_e4))
        .select_from(per_member)
        .outerjoin(held, and_(held.member_id == per_member.c.member_id, held.ended_at.is_(None),
                              held.tier_id.is_not(None)))
        .group_by(tier).order_by(tier)
    )  # fmt: skip
    return [
        {"tier": name or None, "buyers": int(buyers), "orders": int(n),
         "revenue": str(money(int(e4))), "average_order_value": _text(_ratio(money(int(e4)), n)),
         "orders_per_buyer": _text(_ratio(n, buyers))}
        for name, buyers, n, e4 in rows
    ]  # fmt: skip


def historic_clv(session: Session, merchant_id: int) -> Decimal | None:
    dialect = session.get_bind().dialect.name
    spent = money_e4(dialect, Member.total_spent)
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(spent), 0)).where(
            Member.merchant_id == merchant_id, Member.merged_into_id.is_(None), spent > 0
        )
    ).one()
    return _ratio(money(int(total)), count)


def predictive_clv(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    orders, revenue, buyers, before_buyers, stayed = _two_years(session, merchant_id, within.last)
    aov = _ratio(money(int(revenue)), orders)
    frequency = _ratio(orders, buyers)
    retention = _ratio(stayed, before_buyers)
    value = None
    if aov is not None and frequency is not None and retention is not None:
        years = Decimal(MAX_LIFETIME_YEARS)
        if retention < 1:
            years = min(years, (1 / (1 - retention)).quantize(_PLACES))
        value = (aov * frequency * years).quantize(Decimal("0.01"))
    return {"average_order_value": _text(aov), "orders_per_year": _text(frequency),
            "retention": _text(retention), "predictive_clv": _text(value)}  # fmt: skip


def _two_years(session: Session, merchant_id: int, last: date) -> tuple[int, ...]:
    """Orders, revenue and buyers of the 365 days to ``last``; buyers of the 365 before, and
    how many of them bought again: one pass over the member days of the two years."""
    year = last - timedelta(days=364)
    day, bought = ReportMemberDay.day, ReportMemberDay.orders
    recent = day >= year
    per_member = (
        select(
            func.sum(case((recent, bought), else_=0)).label("orders"),
            func.sum(case((recent, ReportMemberDay.revenue_e4), else_=0)).label("revenue"),
            func.max(day).label("latest"), func.min(day).label("earliest"),
        )
        .where(*member_days.within(merchant_id, last - timedelta(days=729), last))
        .group_by(ReportMemberDay.member_id)
        .subquery()
    )  # fmt: skip
    after, before = per_member.c.latest >= year, per_member.c.earliest < year
    row = session.execute(
        select(
            func.coalesce(func.sum(per_member.c.orders), 0),
            func.coalesce(func.sum(per_member.c.revenue), 0),
            func.coalesce(func.sum(case((after, 1), else_=0)), 0),
            func.coalesce(func.sum(case((before, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(after, before), 1), else_=0)), 0),
        )
    ).one()
    return tuple(int(value) for value in row)


def cohorts(session: Session, merchant_id: int, within: Period) -> list[dict[str, Any]]:
    """Members by month joined, with the share who ordered in each month since."""
    cohort_months = months(within)[-MAX_COHORTS:]
    start = max(within.start, _month_start(cohort_months[0], within))
    counts = _cohort_counts_pg if session.get_bind().dialect.name == "postgresql" else _counts
    sizes, active = counts(session, merchant_id, within, start)
    found = []
    for cohort in cohort_months:
        size = sizes.get(cohort, 0)
        later = [m for m in cohort_months if m >= cohort]
        found.append({
            "cohort": cohort.strftime("%Y-%m"),
            "members": size,
            "retention": [_text(_ratio(active.get((cohort, m), 0), size)) for m in later],
        })  # fmt: skip
    return found


def _joined(merchant_id: int, start: datetime, end: datetime) -> list:
    return [Member.merchant_id == merchant_id, Member.merged_into_id.is_(None),
            Member.created_at >= start, Member.created_at < end]  # fmt: skip


def _bought(merchant_id: int, within: Period, start: datetime) -> list:
    """Days a member of a cohort bought, from the cohorts' first day to the period's end."""
    return [ReportMemberDay.member_id == Member.id,
            *member_days.within(merchant_id, local_day(start, within.tz), within.last)]  # fmt: skip


def _counts(session: Session, merchant_id: int, within: Period, start: datetime) -> tuple:
    """Cohort sizes and (cohort, month) buyers, months taken in Python (SQLite)."""
    rows = session.execute(
        select(Member.id, Member.created_at, ReportMemberDay.day)
        .outerjoin(ReportMemberDay, and_(*_bought(merchant_id, within, start)))
        .where(*_joined(merchant_id, start, within.end))
    )  # fmt: skip
    members: dict[date, set[int]] = defaultdict(set)
    buyers: dict[tuple[date, date], set[int]] = defaultdict(set)
    for member_id, joined, bought in rows:
        cohort = joined.astimezone(within.tz).date().replace(day=1)
        members[cohort].add(member_id)
        if bought is not None:
            buyers[(cohort, as_date(bought).replace(day=1))].add(member_id)
    return ({k: len(v) for k, v in members.items()}, {k: len(v) for k, v in buyers.items()})


def _cohort_counts_pg(session: Session, merchant_id: int, within: Period, start: datetime):
    """Cohort sizes and (cohort, month) buyers, counted by PostgreSQL in the merchant's zone."""
    zone = within.tz.key
    cohort = cast(func.date_trunc("month", func.timezone(zone, Member.created_at)), Date).label(
        "cohort"
    )
    sizes = dict(
        session.execute(
            select(cohort, func.count()).where(*_joined(merchant_id, start, within.end))
            .group_by(cohort)
        ).all()
    )  # fmt: skip
    bought = cast(func.date_trunc("month", ReportMemberDay.day), Date).label("bought")
    rows = session.execute(
        select(cohort, bought, func.count(func.distinct(Member.id)))
        .join(ReportMemberDay, and_(*_bought(merchant_id, within, start)))
        .where(*_joined(merchant_id, start, within.end))
        .group_by(cohort, bought)
    )  # fmt: skip
    return sizes, {(c, b): n for c, b, n in rows}


def _month_start(month: date, within: Period) -> datetime:
    return start_of(month, within.tz)


def _summary(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    return {
        **repeat_rate(session, merchant_id, within),
        "by_tier": by_tier(session, merchant_id, within),
        "historic_clv": _text(historic_clv(session, merchant_id)),
        **predictive_clv(session, merchant_id, within),
    }


def customers_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """The customers report for ``within`` and the period before it, with cohorts."""
    return {
        "report": "customers",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": _summary(session, merchant_id, within),
        "previous_totals": _summary(session, merchant_id, within.previous()),
        "cohorts": cohorts(session, merchant_id, within),
        "series": [],
    }
