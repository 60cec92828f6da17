"""The rewards catalog and the vouchers members redeem points for."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow


class Reward(Model):
    """Something a member can redeem points for; each redemption issues a voucher.

    ``stock`` None means unlimited; ``per_member_limit`` None means no limit.
    ``min_tier_id`` restricts the reward to members in that tier or above.
    """

    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: amount_off, percent_off, free_shipping, free_product, store_credit
    kind: Mapped[str] = mapped_column(String(16))
    #: Amount off or store credit in the merchant's currency; percent for percent_off.
    value: Mapped[Decimal | None] = mapped_column(Money)
    #: Cap of a percent_off or free_shipping discount.
    max_discount: Mapped[Decimal | None] = mapped_column(Money)
    product_sku: Mapped[str | None] = mapped_column(String(100))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    min_order: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    #: Days a voucher stays valid after it is issued; None: it never expires.
    validity_days: Mapped[int | None] = mapped_column(Integer)
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id", ondelete="RESTRICT"))
    stock: Mapped[int | None] = mapped_column(BigInteger)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Voucher(Model):
    """A code a member got for points, with the reward's terms as they were then.

    ``status`` is issued, used, cancelled or expired. A used voucher keeps the
    use's ``used_reference`` (``order:<id>`` or ``ref:<text>``) so the same use
    sent again answers the same result.
    """

    __tablename__ = "vouchers"
    __table_args__ = (
        UniqueConstraint("merchant_id", "code"),
        Index("ix_vouchers_member", "member_id", "id"),
        Index("ix_vouchers_expiry", "status", "expires_at"),
        # Reports: whether an order used a voucher.
        Index("ix_vouchers_used_order", "used_order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reward_id: Mapped[int | None] = mapped_column(
        ForeignKey("rewards.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="issued")
    reward_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal | None] = mapped_column(Money)
    max_discount: Mapped[Decimal | None] = mapped_column(Money)
    product_sku: Mapped[str | None] = mapped_column(String(100))
    min_order: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3))
    points: Mapped[int] = mapped_column(BigInteger)
    debit_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("point_entries.id", ondelete="SET NULL")
    )
    points_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_reference: Mapped[str | None] = mapped_column(String(120))
    used_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    used_order_total: Mapped[Decimal | None] = mapped_column(Money)
    used_discount: Mapped[Decimal | None] = mapped_column(Money)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100), default="system")
