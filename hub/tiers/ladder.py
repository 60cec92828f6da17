"""The merchant's tier ladder and tier policy: read, create, change.

Tiers are data: a merchant may have any number, each earned on its own basis
and window. No tiers exist until the merchant creates them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models.tiers import MemberTier
from hub.models.tiers import Tier
from hub.models.tiers import TierSettings
from hub.tiers.windows import WINDOWS
from hub.tiers.windows import merchant_tz
from hub.tiers.windows import window_end

BASES = ("points", "spend")
DOWNGRADE_POLICIES = ("never", "review", "one_step")
DEFAULT_DOWNGRADE_POLICY = "one_step"
DEFAULT_NEAR_SHARE = Decimal("0.9")
TIER_FIELDS = ("name", "position", "threshold", "basis", "window", "earn_multiplier", "benefits")
MAX_MULTIPLIER = Decimal(100)


def list_tiers(session: Session, merchant_id: int) -> list[Tier]:
    """The merchant's tiers, lowest first."""
    return list(
        session.scalars(
            select(Tier).where(Tier.merchant_id == merchant_id).order_by(Tier.position, Tier.id)
        )
    )


def get_tier(session: Session, merchant_id: int, tier_id: int) -> Tier:
    """Return the merchant's tier; another merchant's id is simply not found."""
    tier = session.get(Tier, tier_id)
    if tier is None or tier.merchant_id != merchant_id:
        raise NotFound(f"tier {tier_id} not found", code="tier_not_found")
    return tier


def rank(tier: Tier | None) -> tuple[int, int]:
    """Order tiers by position (no tier lowest); the id settles equal positions."""
    return (-1, -1) if tier is None else (tier.position, tier.id)


def create_tier(session: Session, merchant_id: int, data: dict[str, Any], *, actor: str) -> Tier:
    """Add a tier; without a ``position`` it goes on top of the ladder.

    :raise ValidationError: a field is out of range, or the ladder would not rise.
    :raise Conflict: the name or position is taken.
    """
    values = {k: v for k, v in data.items() if k in TIER_FIELDS}
    if values.get("position") is None:
        top = session.scalar(select(func.max(Tier.position)).where(Tier.merchant_id == merchant_id))
        values["position"] = 0 if top is None else top + 1
    values.setdefault("basis", "spend")
    values.setdefault("window", "lifetime")
    values.setdefault("earn_multiplier", Decimal(1))
    values.setdefault("benefits", "")
    tier = Tier(merchant_id=merchant_id, **values)
    _check(session, tier)
    session.add(tier)
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="tier.created",
        object_type="tier",
        object_id=tier.id,
        data={"name": tier.name},
    )
    return tier


def update_tier(session: Session, tier: Tier, changes: dict[str, Any], *, actor: str) -> Tier:
    """Change some of a tier's fields; members move only when next evaluated or reviewed.

    A new window moves the review of the tier's current members to the end
    of the window running now.
    """
    old_window = tier.window
    for name in TIER_FIELDS:
        if name in changes and changes[name] is not None:
            setattr(tier, name, changes[name])
    _check(session, tier)
    session.flush()
    if tier.window != old_window:
        settings = get_settings(session, tier.merchant_id)
        _move_reviews(session, tier, settings, utcnow())
    audit.record(
        session,
        tier.merchant_id,
        actor=actor,
        action="tier.updated",
        object_type="tier",
        object_id=tier.id,
        data={k: str(v) for k, v in changes.items()},
    )
    return tier


def _check(session: Session, tier: Tier) -> None:
    errors: dict[str, list[str]] = {}
    if not tier.name or tier.threshold is None:
        raise ValidationError(
            "a tier needs a name and a threshold",
            details={
                k: ["required"] for k in ("name", "threshold") if getattr(tier, k) in (None, "")
            },
        )
    if tier.basis not in BASES:
        errors["basis"] = [f"one of {', '.join(BASES)}"]
    if tier.window not in WINDOWS:
        errors["window"] = [f"one of {', '.join(WINDOWS)}"]
    threshold = Decimal(tier.threshold)
    if threshold < 0:
        errors["threshold"] = ["must be 0 or more"]
    elif tier.basis == "points" and threshold != threshold.to_integral_value():
        errors["threshold"] = ["a points threshold is a whole number"]
    if not Decimal(1) <= Decimal(tier.earn_multiplier) <= MAX_MULTIPLIER:
        errors["earn_multiplier"] = [f"between 1 and {MAX_MULTIPLIER}"]
    if tier.position is None or tier.position < 0:
        errors["position"] = ["must be 0 or more"]
    if errors:
        raise ValidationError(f"tier {tier.name!r} is not valid; see details", details=errors)
    with session.no_autoflush:
        others = [t for t in list_tiers(session, tier.merchant_id) if t.id != tier.id]
    for other in others:
        if other.name.casefold() == tier.name.casefold():
            raise Conflict(
                f"there is already a tier named {tier.name!r} (id {other.id})",
                details={"name": ["already used"]},
                code="duplicate_tier_name",
            )
        if other.position == tier.position:
            raise Conflict(
                f"tier {other.name!r} is already at position {tier.position}; pick another "
                f"position or move that tier first",
                details={"position": [f"used by tier {other.id}"]},
                code="duplicate_tier_position",
            )
    _check_rising(tier, others)


def _check_rising(tier: Tier, others: list[Tier]) -> None:
    # On one basis and window, a higher tier must ask for more: otherwise
    # nobody could stand on the lower one and the ladder is a mistake.
    for other in others:
        if (other.basis, other.window) != (tier.basis, tier.window):
            continue
        above = other.position > tier.position
        if (above and other.threshold <= tier.threshold) or (
            not above and other.threshold >= tier.threshold
        ):
            raise ValidationError(
                f"tier {tier.name!r} (threshold {tier.threshold}) and tier {other.name!r} "
                f"(threshold {other.threshold}) are out of order: a higher position needs a "
                f"higher threshold on the same basis and window",
                details={"threshold": [f"conflicts with tier {other.id}"]},
                code="tiers_out_of_order",
            )


def get_settings(session: Session, merchant_id: int) -> TierSettings:
    """The merchant's tier policy; a transient row with the defaults if none was saved."""
    settings = session.scalars(
        select(TierSettings).where(TierSettings.merchant_id == merchant_id)
    ).first()
    if settings is None:
        settings = TierSettings(
            merchant_id=merchant_id,
            downgrade_policy=DEFAULT_DOWNGRADE_POLICY,
            near_share=DEFAULT_NEAR_SHARE,
        )
    return settings


def update_settings(
    session: Session, merchant_id: int, changes: dict[str, Any], *, actor: str
) -> TierSettings:
    """Change the tier policy; a new downgrade policy reschedules every member's review."""
    settings = get_settings(session, merchant_id)
    old_policy = settings.downgrade_policy
    policy = changes.get("downgrade_policy") or settings.downgrade_policy
    share = changes.get("near_share")
    share = settings.near_share if share is None else Decimal(share)
    if policy not in DOWNGRADE_POLICIES:
        raise ValidationError(
            f"unknown downgrade policy {policy!r}",
            details={"downgrade_policy": [f"one of {', '.join(DOWNGRADE_POLICIES)}"]},
        )
    if not Decimal(0) < share < Decimal(1):
        raise ValidationError(
            "near_share must be between 0 and 1 (for example 0.9)",
            details={"near_share": ["between 0 and 1, exclusive"]},
        )
    settings.downgrade_policy = policy
    settings.near_share = share
    if settings.id is None:
        session.add(settings)
    session.flush()
    if policy != old_policy:
        now = utcnow()
        for tier in list_tiers(session, merchant_id):
            _move_reviews(session, tier, settings, now)
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="tier_settings.updated",
        object_type="tier_settings",
        object_id=merchant_id,
        data={"downgrade_policy": policy, "near_share": str(share)},
    )
    return settings


def _move_reviews(session: Session, tier: Tier, settings: TierSettings, now: datetime) -> None:
    """Reschedule the review of everyone in ``tier`` to the end of the window running now."""
    review_at = None
    if settings.downgrade_policy != "never":
        review_at = window_end(tier.window, now, merchant_tz(session, tier.merchant_id))
    session.execute(
        update(MemberTier)
        .where(
            MemberTier.tier_id == tier.id,
            MemberTier.ended_at.is_(None),
            MemberTier.is_override.is_(False),
        )
        .values(review_at=review_at)
        .execution_options(synchronize_session=False)
    )


def move_tier(session: Session, tier: Tier, step: int, *, actor: str) -> Tier:
    """Swap ``tier`` with its neighbour one place up (``step`` 1) or down (-1) the ladder.

    :raise ValidationError: there is no neighbour that way, or the swapped ladder would
        not rise (a higher position needs a higher threshold on the same basis and window).
    """
    ladder = list_tiers(session, tier.merchant_id)
    index = ladder.index(tier) + (1 if step > 0 else -1)
    if not 0 <= index < len(ladder):
        raise ValidationError(
            f"tier {tier.name!r} is already at the {'top' if step > 0 else 'bottom'}",
            details={"position": ["no neighbour that way"]},
            code="tier_at_end",
        )
    other = ladder[index]
    mine, theirs = tier.position, other.position
    # Positions are unique: park this tier above the ladder while the other moves.
    tier.position = max(t.position for t in ladder) + 1
    session.flush()
    update_tier(session, other, {"position": mine}, actor=actor)
    return update_tier(session, tier, {"position": theirs}, actor=actor)
