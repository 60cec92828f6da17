"""Refunds of orders, each recorded once and applied to the points once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow


class OrderRefund(Model):
    """One refund of an order, as its store reported it.

    A refund may arrive before its order: it is then kept with no ``order_id``
    under the order's source and external id, and attached when the order
    comes. ``applied_at`` is set once its points reversal has been written.
    """

    __tablename__ = "order_refunds"
    __table_args__ = (
        UniqueConstraint("order_id", "external_id"),
        UniqueConstraint(
            "merchant_id",
            "source",
            "order_external_id",
            "external_id",
            name="uq_order_refunds_source_order_refund",
        ),
        # Reports sum a merchant's refunds by the day they were made.
        Index("ix_order_refunds_merchant_refunded", "merchant_id", "refunded_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(80))
    order_external_id: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    #: When the store made the refund.
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lines: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
