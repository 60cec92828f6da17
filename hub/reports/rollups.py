"""Compute a merchant's daily rollups from the raw tables, for a run of days.

``recompute`` is the one function that writes ``report_days``: it replaces
the rows of the days asked for with sums taken from the raw tables (ledger
entries, orders, refunds, members) over those days. The incremental path
(``hub.reports.staleness``) calls it for the days a transaction touched;
``rebuild`` calls it for every day since a date. Either way a day's rows are
a function of the raw rows alone, so running it twice changes nothing.

What each figure holds (``metric`` / ``dimension``):

* ``points`` / ``kind:sign:rule``: ledger entries posted that day, by kind,
  sign (``+`` credit, ``-`` debit) and rule; ``count`` entries, ``points``
  their sum.
* ``orders`` / ``member|guest:loyalty|plain|cancelled``: orders placed that
  day; ``loyalty`` orders earned points or used a voucher. ``amount_e4`` is
  their total.
* ``refunds`` / ``""``: refunds made that day and their amount.
* ``tier_in`` / ``tier_out`` / tier name: stays in a tier that began (``started_at``) or
  ended (``ended_at``) that day; members in a tier at the start of a day are the stays begun
  before it less those ended before it.
* ``tier_moves`` / ``up|down``: stays begun that day in a higher tier than the one left (or
  a first tier) and in a lower one (or none), by the ladder's order when the day was counted.
* ``members`` / ``store|pos|import|widget|api``: members who joined that day, by how they
  joined (``Member.joined_via``; merged members not counted).

The same days of ``report_member_days`` (what each member bought each day,
``hub.reports.member_days``) are recomputed with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from hub.models import Member
from hub.models import MemberTier
from hub.models import Merchant
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import OrderRefund
from hub.models import PointEntry
from hub.models import ReportDay
from hub.models import Tier
from hub.models import Voucher
from hub.reports import member_days
from hub.reports.days import Stretch
from hub.reports.days import as_date
from hub.reports.days import stretches
from hub.reports.days import zone

#: Ten-thousandths in one unit of money: ``amount_e4`` holds money in these.
MONEY_SCALE = 10_000
_ROLLUPS = ReportDay.__table__


def money_e4(dialect: str, amount: Any) -> Any:
    """An amount column as whole ten-thousandths, summed exactly on both databases.

    SQLite stores money as text; ``ROUND(amount * 10000)`` is exact for
    amounts below 10^11 with four decimals.
    """
    if dialect == "sqlite":
        return cast(func.round(cast(amount, Float) * MONEY_SCALE), Integer)
    return cast(func.round(amount * MONEY_SCALE), BigInteger)


def merchant_zone(session: Session, merchant_id: int) -> ZoneInfo:
    name = session.scalar(select(Merchant.timezone).where(Merchant.id == merchant_id))
    return zone(name or "Asia/Ho_Chi_Minh")


def recompute(session: Session, merchant_id: int, first: date, last: date) -> int:
    """Replace the merchant's rollups of local days ``first`` to ``last``; return rows written."""
    session.flush()
    session.execute(
        delete(_ROLLUPS).where(
            _ROLLUPS.c.merchant_id == merchant_id,
            _ROLLUPS.c.day >= first,
            _ROLLUPS.c.day <= last,
        )
    )
    dialect = session.get_bind().dialect.name
    tz = merchant_zone(session, merchant_id)
    spans = list(stretches(dialect, tz, first, last))
    member_days.recompute(
        session, merchant_id, first, last, spans, lambda amount: money_e4(dialect, amount)
    )
    rows: dict[tuple[date, str, str], dict[str, Any]] = {}
    for stretch in spans:
        for day, metric, dimension, count, points, amount in _sums(
            session, dialect, merchant_id, stretch
        ):
            key = (as_date(day), metric, dimension)
            row = rows.setdefault(key, _row(merchant_id, *key))
            row["count"] += int(count or 0)
            row["points"] += int(points or 0)
            row["amount_e4"] += int(amount or 0)
    if rows:
        session.execute(insert(_ROLLUPS), list(rows.values()))
    return len(rows)


def rebuild(session: Session, merchant_id: int, since: date | None = None) -> int:
    """Recompute every rollup of the merchant from ``since`` (default: its first record)."""
    tz = merchant_zone(session, merchant_id)
    first = since or _first_day(session, merchant_id, tz)
    last = _last_day(session, merchant_id, tz)
    if first is None or last is None or last < first:
        session.execute(
            delete(_ROLLUPS).where(
                _ROLLUPS.c.merchant_id == merchant_id, _ROLLUPS.c.day >= (since or date.min)
            )
        )
        member_days.clear(session, merchant_id, since, None)
        return 0
    session.execute(
        delete(_ROLLUPS).where(_ROLLUPS.c.merchant_id == merchant_id, _ROLLUPS.c.day > last)
    )
    member_days.clear(session, merchant_id, last + timedelta(days=1), None)
    return recompute(session, merchant_id, first, last)


def _row(merchant_id: int, day: date, metric: str, dimension: str) -> dict[str, Any]:
    return {
        "merchant_id": merchant_id, "day": day, "metric": metric, "dimension": dimension,
        "count": 0, "points": 0, "amount_e4": 0,
    }  # fmt: skip


def _sums(session: Session, dialect: str, merchant_id: int, stretch: Stretch) -> Iterator[tuple]:
    """``(day, metric, dimension, count, points, amount_e4)`` rows of every figure."""
    yield from _points(session, merchant_id, stretch)
    yield from _orders(session, dialect, merchant_id, stretch)
    yield from _refunds(session, dialect, merchant_id, stretch)
    yield from _members(session, merchant_id, stretch)
    yield from _tier_stays(session, merchant_id, stretch)
    yield from _tier_moves(session, merchant_id, stretch)


def _within(column: Any, stretch: Stretch) -> Any:
    return and_(column >= stretch.start, column < stretch.end)


def _points(session: Session, merchant_id: int, stretch: Stretch) -> Iterator[tuple]:
    day = stretch.day_of(PointEntry.created_at).label("day")
    sign = case((PointEntry.points > 0, "+"), else_="-").label("sign")
    rule = func.coalesce(PointEntry.rule, "").label("rule")
    query = (
        select(day, PointEntry.kind, sign, rule, func.count(), func.sum(PointEntry.points))
        .where(PointEntry.merchant_id == merchant_id, _within(PointEntry.created_at, stretch))
        .group_by(day, PointEntry.kind, sign, rule)
    )
    for found, kind, sign_, rule_, count, points in session.execute(query):
        yield found, "points", f"{kind}:{sign_}:{rule_}"[:120], count, points, 0


def loyalty_order(order: Any = Order) -> Any:
    """Whether an order earned points or used a voucher: the program's attributed orders."""
    earned = exists().where(OrderAccrual.order_id == order.id, OrderAccrual.earned > 0)
    voucher = exists().where(Voucher.used_order_id == order.id)
    return or_(earned, voucher)


def order_state(order: Any = Order) -> Any:
    cancelled = or_(order.cancelled_at.is_not(None), order.financial_status == "voided")
    return case((cancelled, "cancelled"), (loyalty_order(order), "loyalty"), else_="plain")


def _orders(session: Session, dialect: str, merchant_id: int, stretch: Stretch) -> Iterator:
    day = stretch.day_of(Order.placed_at).label("day")
    who = case((Order.member_id.is_(None), "guest"), else_="member").label("who")
    state = order_state().label("state")
    query = (
        select(day, who, state, func.count(), func.sum(money_e4(dialect, Order.total)))
        .where(Order.merchant_id == merchant_id, _within(Order.placed_at, stretch))
        .group_by(day, who, state)
    )
    for found, who_, state_, count, amount in session.execute(query):
        yield found, "orders", f"{who_}:{state_}", count, 0, amount


def _refunds(session: Session, dialect: str, merchant_id: int, stretch: Stretch) -> Iterator:
    day = stretch.day_of(OrderRefund.refunded_at).label("day")
    query = (
        select(day, func.count(), func.sum(money_e4(dialect, OrderRefund.amount)))
        .where(OrderRefund.merchant_id == merchant_id, _within(OrderRefund.refunded_at, stretch))
        .group_by(day)
    )
    for found, count, amount in session.execute(query):
        yield found, "refunds", "", count, 0, amount


def _members(session: Session, merchant_id: int, stretch: Stretch) -> Iterator[tuple]:
    day = stretch.day_of(Member.created_at).label("day")
    query = (
        select(day, Member.joined_via, func.count())
        .where(
            Member.merchant_id == merchant_id,
            Member.merged_into_id.is_(None),
            _within(Member.created_at, stretch),
        )
        .group_by(day, Member.joined_via)
    )
    for found, via, count in session.execute(query):
        yield found, "members", via, count, 0, 0


def _tier_stays(session: Session, merchant_id: int, stretch: Stretch) -> Iterator[tuple]:
    for column, metric in ((MemberTier.started_at, "tier_in"), (MemberTier.ended_at, "tier_out")):
        day = stretch.day_of(column).label("day")
        query = (
            select(day, MemberTier.tier_name, func.count())
            .where(
                MemberTier.merchant_id == merchant_id,
                MemberTier.tier_name.is_not(None),
                _within(column, stretch),
            )
            .group_by(day, MemberTier.tier_name)
        )
        for found, name, count in session.execute(query):
            yield found, metric, name[:120], count, 0, 0


def _tier_moves(session: Session, merchant_id: int, stretch: Stretch) -> Iterator[tuple]:
    new, old = aliased(Tier), aliased(Tier)
    up = and_(new.position.is_not(None), or_(old.position.is_(None), new.position > old.position))
    down = and_(old.position.is_not(None), or_(new.position.is_(None), new.position < old.position))
    direction = case((up, "up"), (down, "down"), else_="").label("direction")
    day = stretch.day_of(MemberTier.started_at).label("day")
    query = (
        select(day, direction, func.count())
        .outerjoin(new, new.id == MemberTier.tier_id)
        .outerjoin(old, old.id == MemberTier.previous_tier_id)
        .where(MemberTier.merchant_id == merchant_id, _within(MemberTier.started_at, stretch))
        .group_by(day, direction)
    )
    for found, moved, count in session.execute(query):
        if moved:
            yield found, "tier_moves", moved, count, 0, 0


def _bound(session: Session, merchant_id: int, tz: ZoneInfo, pick: Any) -> date | None:
    moments = [
        session.scalar(select(pick(column)).where(model.merchant_id == merchant_id))
        for model, column in (
            (PointEntry, PointEntry.created_at),
            (Order, Order.placed_at),
            (OrderRefund, OrderRefund.refunded_at),
            (Member, Member.created_at),
            (MemberTier, MemberTier.started_at),
        )
    ]
    found = [_aware(moment).astimezone(tz).date() for moment in moments if moment is not None]
    if not found:
        return None
    return min(found) if pick is func.min else max(found)


def _aware(moment: Any) -> datetime:
    """A bound as the database returns it (naive text or a time on SQLite), made aware."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_day(session: Session, merchant_id: int, tz: ZoneInfo) -> date | None:
    return _bound(session, merchant_id, tz, func.min)


def _last_day(session: Session, merchant_id: int, tz: ZoneInfo) -> date | None:
    return _bound(session, merchant_id, tz, func.max)
