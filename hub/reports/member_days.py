"""What each member bought on each local day: the rollup the customers report reads.

``recompute`` replaces the merchant's ``report_member_days`` rows of a run of
days with sums over the orders placed on them: per member, the orders (not
cancelled, not voided) and their total in ten-thousandths. It is called by
``hub.reports.rollups.recompute`` for the same days as the daily rollups, so
the stale-day marks, the refresh and the rebuild keep both in step.

The readers below count over these rows: buyers of a period, orders and
revenue per member, so a report's cost follows the members and days that
bought, not the orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Order
from hub.models import ReportMemberDay
from hub.reports.days import Stretch
from hub.reports.days import as_date

_TABLE = ReportMemberDay.__table__


def clear(session: Session, merchant_id: int, first: date | None, last: date | None) -> None:
    """Delete the merchant's rows from ``first`` to ``last`` (either open)."""
    where = [_TABLE.c.merchant_id == merchant_id]
    if first is not None:
        where.append(_TABLE.c.day >= first)
    if last is not None:
        where.append(_TABLE.c.day <= last)
    session.execute(delete(_TABLE).where(*where))


def recompute(
    session: Session, merchant_id: int, first: date, last: date, spans: Iterable[Stretch],
    money_e4: Any,
) -> int:  # fmt: skip
    """Replace the rows of days ``first`` to ``last`` from the orders; return rows written."""
    clear(session, merchant_id, first, last)
    rows: dict[tuple[date, int], dict[str, Any]] = {}
    for stretch in spans:
        day = stretch.day_of(Order.placed_at).label("day")
        query = (
            select(day, Order.member_id, func.count(), func.sum(money_e4(Order.total)))
            .where(*bought(merchant_id), Order.placed_at >= stretch.start,
                   Order.placed_at < stretch.end)
            .group_by(day, Order.member_id)
        )  # fmt: skip
        for found, member_id, count, revenue in session.execute(query):
            key = (as_date(found), int(member_id))
            row = rows.setdefault(key, _row(merchant_id, *key))
            row["orders"] += int(count)
            row["revenue_e4"] += int(revenue or 0)
    if rows:
        session.execute(insert(_TABLE), list(rows.values()))
    return len(rows)


def _row(merchant_id: int, day: date, member_id: int) -> dict[str, Any]:
    return {"merchant_id": merchant_id, "day": day, "member_id": member_id,
            "orders": 0, "revenue_e4": 0}  # fmt: skip


def bought(merchant_id: int, order: Any = Order) -> list:
    """The orders a member bought with: theirs, not cancelled, not voided."""
    return [
        order.merchant_id == merchant_id,
        order.member_id.is_not(None),
        order.cancelled_at.is_(None),
        order.financial_status != "voided",
    ]


def within(merchant_id: int, first: date, last: date) -> list:
    """The conditions on ``report_member_days`` for the merchant's days ``first`` to ``last``."""
    return [
        ReportMemberDay.merchant_id == merchant_id,
        ReportMemberDay.day >= first,
        ReportMemberDay.day <= last,
    ]


def per_member(merchant_id: int, first: date, last: date) -> Any:
    """A subquery: each member who bought in the days, with their orders and revenue."""
    return (
        select(
            ReportMemberDay.member_id.label("member_id"),
            func.sum(ReportMemberDay.orders).label("orders"),
            func.sum(ReportMemberDay.revenue_e4).label("revenue_e4"),
        )
        .where(*within(merchant_id, first, last))
        .group_by(ReportMemberDay.member_id)
        .subquery()
    )


def buyers(session: Session, merchant_id: int, first: date, last: date) -> int:
    """How many members bought in the days."""
    return int(
        session.scalar(
            select(func.count(func.distinct(ReportMemberDay.member_id))).where(
                *within(merchant_id, first, last)
            )
        )
        or 0
    )
