"""Tiers: the merchant's ladder, its policy, and each member's periods in it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow


class Tier(Model):
    """One rung of a merchant's ladder; ``position`` orders them, lowest first.

    A member qualifies when their progress on ``basis`` (points earned or
    amount spent) over ``window`` (lifetime, calendar year, rolling 12
    months) reaches ``threshold``.
    """

    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("merchant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[Decimal] = mapped_column(Money)
    basis: Mapped[str] = mapped_column(String(16))  # points, spend
    window: Mapped[str] = mapped_column(String(16))  # lifetime, calendar_year, rolling_12m
    earn_multiplier: Mapped[Decimal] = mapped_column(Money, default=Decimal(1))
    benefits: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TierSettings(Model):
    """The merchant's tier policy; a merchant without a row uses the defaults."""

    __tablename__ = "tier_settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), unique=True
    )
    #: never, review (to the tier earned in the closing window), one_step.
    downgrade_policy: Mapped[str] = mapped_column(String(16))
    #: Share of the next threshold at which ``tier.near`` fires (0 < share < 1).
    near_share: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MemberTier(Model):
    """One period of a member in a tier (``tier_id`` None: in no tier).

    The member's current period is the one with no ``ended_at``; the others
    are the history, each with the reason it began. ``review_at`` is when the
    tier must have been earned again (the retain-by date); an override holds
    the tier until ``override_until`` (None: until lifted).
    """

    __tablename__ = "member_tiers"
    __table_args__ = (
        Index("ix_member_tiers_member", "member_id", "ended_at"),
        Index("ix_member_tiers_review", "ended_at", "review_at"),
        # Reports count a merchant's stays by the day they began and the day they ended.
        Index("ix_member_tiers_merchant_started", "merchant_id", "started_at"),
        Index("ix_member_tiers_merchant_ended", "merchant_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id", ondelete="SET NULL"))
    #: The tier's name when the period began, kept after a tier is renamed or deleted.
    tier_name: Mapped[str | None] = mapped_column(String(100))
    previous_tier_id: Mapped[int | None] = mapped_column(
        ForeignKey("tiers.id", ondelete="SET NULL")
    )
    #: qualified, review, override, override_ended, merge, tier_deleted
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    is_override: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    override_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class TierNotice(Model):
    """A ``tier.near`` already sent: one per member, tier and window.

    ``key`` is ``<member>:<tier>:<window>``; unique per merchant, so a notice
    is written once even when two evaluations race.
    """

    __tablename__ = "tier_notices"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
