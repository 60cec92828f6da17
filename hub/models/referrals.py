"""Referrals: each member's referral code, the friends they brought, and the programme's terms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import UTCDateTime
from hub.db import utcnow


class ReferralSettings(Model):
    """A merchant's referral terms (``hub.referrals.settings`` says what they hold)."""

    __tablename__ = "referral_settings"

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReferralCode(Model):
    """A member's referral code: what their link carries. Not the member code the counter scans."""

    __tablename__ = "referral_codes"
    __table_args__ = (UniqueConstraint("merchant_id", "code"),)

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(Model):
    """A friend who arrived through a member's link, and where the referral stands.

    ``status``: ``joined`` (the friend is known, no paid order yet), ``pending``
    (a first paid order, waiting out the refund window until ``due_at``),
    ``rewarded``, ``rejected`` (with ``reason``) or ``reversed`` (refunded after
    the reward). A friend is referred at most once per merchant.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("merchant_id", "friend_id"),
        Index("ix_referrals_referrer", "referrer_id", "status"),
        Index("ix_referrals_merchant_status", "merchant_id", "status", "id"),
        # Settlement reads the pending referrals that are due, and only those.
        Index("ix_referrals_due", "status", "due_at"),
        # The order path finds the referral of a refunded order; settlement reads
        # the rewarded referrals a refund was seen for, and only those.
        Index("ix_referrals_order", "order_id"),
        Index("ix_referrals_refund_seen", "status", "refund_seen_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    friend_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL")
    )
    code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a refund or cancellation of ``order_id`` was recorded while the referral
    #: was pending or rewarded: settlement takes a rewarded one's rewards back.
    refund_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What each side got: points or a voucher id, for the reversal.
    rewards: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
