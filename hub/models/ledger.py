"""The points ledger: append-only entries, grouped into lots that can be spent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow


class PointEntry(Model):
    """One signed change of a member's points. Never updated, never deleted.

    ``key`` is the change's natural key (for example ``order:42:earn:base``),
    unique per merchant: writing the same change twice is impossible.
    """

    __tablename__ = "point_entries"
    __table_args__ = (
        UniqueConstraint("merchant_id", "key"),
        Index("ix_point_entries_member", "member_id", "id"),
        Index("ix_point_entries_order", "order_id"),
        # Reports recompute a merchant's day from the entries posted in it.
        Index("ix_point_entries_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    #: The program version whose settings produced the entry, if a program did.
    program_version: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointLot(Model):
    """Points credited together: spendable from ``available_at`` until ``expires_at``."""

    __tablename__ = "point_lots"
    __table_args__ = (
        Index("ix_point_lots_member", "member_id", "expires_at"),
        Index("ix_point_lots_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("point_entries.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: The credit that opened the lot (lets one flush write both).
    entry: Mapped[PointEntry] = relationship()


class PointAllocation(Model):
    """How much of one debit was drawn from one lot, so it can be given back exactly."""

    __tablename__ = "point_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("point_entries.id", ondelete="CASCADE"), index=True
    )
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)

    #: The debit that drew (lets one flush write both).
    entry: Mapped[PointEntry] = relationship()


class OrderAccrual(Model):
    """What the points engine has done with one paid order: a cache of its ledger entries.

    Written when the order first earns (even zero points: the order still
    counts as spent), updated as refunds and a cancellation reverse it.
    ``spent`` is what the order adds to the member's ``total_spent`` now.
    """

    __tablename__ = "order_accruals"
    __table_args__ = (
        UniqueConstraint("order_id"),
        Index("ix_order_accruals_member", "member_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    program_version: Mapped[int] = mapped_column(Integer)
    #: The amount the earn rate applied to.
    base: Mapped[Decimal] = mapped_column(Money)
    earned: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    spent: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    cancelled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
