"""Daily rollups for reports: one row per merchant, local day, figure and breakdown."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import Model


class ReportDay(Model):
    """What happened on one day (in the merchant's timezone) for one figure.

    ``metric`` names the figure (``points``, ``orders``, ``refunds``,
    ``members``), ``dimension`` its breakdown (for points, ``kind:sign:rule``).
    ``amount_e4`` is money in ten-thousandths, so sums are exact on both
    databases. Rows are derived from the raw tables by ``hub.reports.rollups``
    and can always be rebuilt from them.
    """

    __tablename__ = "report_days"
    __table_args__ = (UniqueConstraint("merchant_id", "day", "metric", "dimension"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(32))
    dimension: Mapped[str] = mapped_column(String(120), default="")
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_e4: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportStaleDay(Model):
    """A merchant's local day whose rollups no longer match the raw tables.

    Marked in the transaction that changed the raw rows; cleared when the
    day is recomputed.
    """

    __tablename__ = "report_stale_days"

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class ReportMemberDay(Model):
    """What one member bought on one day (in the merchant's timezone).

    ``orders`` counts the member's orders placed that day (cancelled and
    voided ones left out), ``revenue_e4`` their total in ten-thousandths.
    Derived from the orders by ``hub.reports.member_days`` with the daily
    rollups, on the same days, so the customers report and the active
    members read one row per member and day bought instead of the orders.
    """

    __tablename__ = "report_member_days"
    __table_args__ = (Index("ix_report_member_days_member", "merchant_id", "member_id", "day"),)

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_e4: Mapped[int] = mapped_column(BigInteger, default=0)
