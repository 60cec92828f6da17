"""A merchant's numbers at a glance: members, points this month, vouchers, connections, jobs.

The console's Overview page shows them; "this month" is the calendar month in
the merchant's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Connection
from hub.models import JobRecord
from hub.models import Member
from hub.models import Order
from hub.models import PointEntry
from hub.models import Voucher

ACTIVE_DAYS = 30
ISSUED_KINDS = ("earn", "bonus", "adjust", "import")


@dataclass(frozen=True)
class ConnectionHealth:
    id: int
    name: str
    connector: str
    status: str
    last_order_at: datetime | None


@dataclass(frozen=True)
class Overview:
    members: int
    active_members: int
    points_issued: int
    points_redeemed: int
    vouchers_outstanding: int
    jobs_failing: int
    connections: list[ConnectionHealth]


def month_start(now: datetime, timezone: str) -> datetime:
    """The first instant of ``now``'s calendar month in ``timezone``, as a UTC time."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(
        ZoneInfo("UTC")
    )


def merchant_overview(
    session: Session, merchant_id: int, timezone: str, *, now: datetime | None = None
) -> Overview:
    """Count what the Overview page shows for one merchant."""
    now = now or utcnow()
    since = month_start(now, timezone)
    active = Member.merchant_id == merchant_id, Member.status == "active"
    members = session.scalar(select(func.count()).where(*active)) or 0
    buyers = session.scalar(
        select(func.count(func.distinct(Order.member_id))).where(
            Order.merchant_id == merchant_id,
            Order.member_id.is_not(None),
            Order.placed_at >= now - timedelta(days=ACTIVE_DAYS),
        )
    )
    month = PointEntry.merchant_id == merchant_id, PointEntry.created_at >= since
    issued = session.scalar(
        select(func.coalesce(func.sum(PointEntry.points), 0)).where(
            *month, PointEntry.kind.in_(ISSUED_KINDS), PointEntry.points > 0
        )
    )
    redeemed = session.scalar(
        select(func.coalesce(func.sum(PointEntry.points), 0)).where(
            *month, PointEntry.kind == "redeem"
        )
    )
    outstanding = session.scalar(
        select(func.count()).where(
            Voucher.merchant_id == merchant_id,
            Voucher.status == "issued",
            (Voucher.expires_at.is_(None)) | (Voucher.expires_at > now),
        )
    )
    failing = session.scalar(
        select(func.count()).where(
            JobRecord.merchant_id == merchant_id, JobRecord.status == "failed"
        )
    )
    return Overview(
        members=members,
        active_members=buyers or 0,
        points_issued=int(issued or 0),
        points_redeemed=-int(redeemed or 0),
        vouchers_outstanding=outstanding or 0,
        jobs_failing=failing or 0,
        connections=_connections(session, merchant_id),
    )


def _connections(session: Session, merchant_id: int) -> list[ConnectionHealth]:
    last_order = (
        select(func.max(Order.created_at))
        .where(Order.connection_id == Connection.id)
        .correlate(Connection)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Connection, last_order)
        .where(Connection.merchant_id == merchant_id)
        .order_by(Connection.id)
    ).all()
    return [ConnectionHealth(c.id, c.name, c.connector, c.status, last) for c, last in rows]
