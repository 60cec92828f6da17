"""The POS connector's tables: counter keys, sales by receipt, and counter requests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub import JSONType
from hub import Model
from hub import Money
from hub import UTCDateTime
from hub import utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class PosKey(Model):
    """A key one POS connection's tills authenticate with: ``pos_<prefix>_<secret>``.

    Only a SHA-256 of the secret is kept; the key itself is shown once. A key
    opens the counter API of its own connection and nothing else.
    """

    __tablename__ = "pos_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PosSale(Model):
    """One sale a counter sent, once per (connection, receipt).

    The row is inserted first, in the sale's transaction, so of two
    deliveries of one receipt the second waits for the first and then finds
    it: a POS sending its backlog twice records each sale once. ``fingerprint``
    tells a retry (same content) from a different sale reusing a receipt number.
    """

    __tablename__ = "pos_sales"
    __table_args__ = (UniqueConstraint("connection_id", "receipt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    receipt: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points_redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    points_discount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    redeem_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("point_entries.id", ondelete="SET NULL")
    )
    #: The canonical order as recorded, so a void can send it again, cancelled.
    order_data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PosRequest(Model):
    """A counter action without a natural key (a reward redemption), once per request id.

    The first request inserts the row and stores its answer in the same
    transaction; a retry with the same id gets that answer back.
    """

    __tablename__ = "pos_requests"
    __table_args__ = (UniqueConstraint("connection_id", "request_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
