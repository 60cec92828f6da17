"""Who a periodic message is for: birthdays, lapsed customers, points about to expire.

Plugins with periodic message kinds call these from their jobs. Each reads
in a session of its own and returns plain tuples, and each runs per
merchant, in the merchant's timezone: a birthday is the merchant's today,
not the server's.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy import extract
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from hub.db import utcnow
from hub.messaging.kinds import message_kinds
from hub.messaging.models import MessagingSettings
from hub.messaging.settings import get_settings
from hub.models import Member
from hub.models import Order
from hub.models import PointLot

if TYPE_CHECKING:
    from hub.core import Hub

#: Orders that count as a purchase for win-back and thank-you messages.
PAID_STATUSES = ("paid", "partially_refunded")
#: A lapse older than this past the threshold is not chased any more.
WIN_BACK_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DailyRun:
    """One merchant's turn of a daily message kind: its local date and the kind's options."""

    merchant_id: int
    today: date
    now: datetime
    timezone: str
    options: dict[str, Any]


def daily_runs(hub: Hub, kind: str, *, now: datetime | None = None) -> list[DailyRun]:
    """Merchants with ``kind`` on whose local clock has passed the kind's ``send_hour`` today.

    Run the job hourly: each merchant gets its turn once its morning comes,
    and the message's dedupe key (the date or the year) keeps later runs
    that day from sending again.
    """
    now = now or utcnow()
    spec = message_kinds(hub)[kind]
    runs = []
    with hub.db.session() as session:
        merchant_ids = session.scalars(select(MessagingSettings.merchant_id)).all()
        for merchant_id in merchant_ids:
            settings = get_settings(session, merchant_id)
            kind_settings = settings.kind(spec)
            if not kind_settings.enabled:
                continue
            local = now.astimezone(ZoneInfo(settings.timezone))
            if local.hour < int(kind_settings.options.get("send_hour", 0)):
                continue
            runs.append(
                DailyRun(merchant_id, local.date(), now, settings.timezone, kind_settings.options)
            )
    return runs


def birthday_members(hub: Hub, merchant_id: int, today: date) -> list[int]:
    """Active members whose birthday is ``today``; 29 February counts on the 28th in other years."""
    days = [today.day]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append(29)
    with hub.db.session() as session:
        return list(
            session.scalars(
                select(Member.id)
                .where(
                    Member.merchant_id == merchant_id,
                    Member.status == "active",
                    Member.birthday.is_not(None),
                    extract("month", Member.birthday) == today.month,
                    extract("day", Member.birthday).in_(days),
                )
                .order_by(Member.id)
            )
        )


def _paid():
    return and_(
        Order.member_id.is_not(None),
        Order.cancelled_at.is_(None),
        or_(Order.financial_status.in_(PAID_STATUSES), Order.paid_at.is_not(None)),
        Order.financial_status.not_in(("refunded", "voided")),
    )


def lapsed_members(
    hub: Hub, merchant_id: int, *, days: int, now: datetime | None = None
) -> list[tuple[int, int, datetime]]:
    """(member id, last order id, its time) of members whose last paid order is ``days`` old.

    Only lapses that began within the last 30 days past the threshold are
    returned, so switching win-back on does not write to every customer
    who ever left; the last order's id is the natural dedupe key.
    """
    now = now or utcnow()
    threshold = now - timedelta(days=days)
    last = (
        select(Order.member_id, func.max(Order.placed_at).label("placed_at"))
        .where(Order.merchant_id == merchant_id, _paid())
        .group_by(Order.member_id)
        .subquery()
    )
    with hub.db.session() as session:
        rows = session.execute(
            select(last.c.member_id, last.c.placed_at)
            .join(Member, Member.id == last.c.member_id)
            .where(
                Member.status == "active",
                last.c.placed_at <= threshold,
                last.c.placed_at > threshold - WIN_BACK_WINDOW,
            )
            .order_by(last.c.member_id)
        ).all()
        result = []
        for member_id, placed_at in rows:
            order_id = session.scalar(
                select(Order.id)
                .where(
                    Order.merchant_id == merchant_id,
                    Order.member_id == member_id,
                    Order.placed_at == placed_at,
                    _paid(),
                )
                .order_by(Order.id.desc())
                .limit(1)
            )
            result.append((member_id, order_id, placed_at))
        return result


def expiring_points(
    hub: Hub, merchant_id: int, *, days: int, now: datetime | None = None
) -> list[tuple[int, int, datetime]]:
    """(member id, points, first expiry) of members with points expiring within ``days``."""
    now = now or utcnow()
    with hub.db.session() as session:
        rows = session.execute(
            select(PointLot.member_id, PointLot.remaining, PointLot.expires_at)
            .join(Member, Member.id == PointLot.member_id)
            .where(
                PointLot.merchant_id == merchant_id,
                PointLot.remaining > 0,
                PointLot.expires_at > now,
                PointLot.expires_at <= now + timedelta(days=days),
                Member.status == "active",
            )
            .order_by(PointLot.member_id, PointLot.expires_at)
        ).all()
    totals: dict[int, list[Any]] = {}
    for member_id, remaining, expires_at in rows:
        entry = totals.setdefault(member_id, [0, expires_at])
        entry[0] += remaining
    return [(member_id, points, first) for member_id, (points, first) in totals.items()]


def order_facts(hub: Hub, merchant_id: int, order_id: int) -> dict[str, Any] | None:
    """What a message may say about an order: number, total, currency, time, member, paid."""
    with hub.db.session() as session:
        order = session.get(Order, order_id)
        if order is None or order.merchant_id != merchant_id:
            return None
        return {
            "id": order.id,
            "number": order.number or order.external_id,
            "total": Decimal(order.total),
            "currency": order.currency,
            "placed_at": order.placed_at,
            "member_id": order.member_id,
            "paid": order.cancelled_at is None
            and (order.financial_status in PAID_STATUSES or order.paid_at is not None),
        }
