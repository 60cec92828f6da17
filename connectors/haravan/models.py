"""The Haravan connector's table: the discounts it created for vouchers, by shop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub import Model
from hub import UTCDateTime
from hub import utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class HaravanDiscount(Model):
    """A voucher's discount in one Haravan shop, with the id Haravan gave it.

    Haravan disables a discount by its id (``PUT /com/discounts/{id}/disable.json``)
    and its documented API has no lookup by code, so the id of each discount
    created is kept. ``disabled_at`` is set once the shop has disabled it.
    """

    __tablename__ = "haravan_discounts"
    __table_args__ = (UniqueConstraint("connection_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    discount_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
