"""Each member's tier: upgrades, overrides, near misses and what is left to do.

A member's periods in tiers are ``MemberTier`` rows; the open one (no
``ended_at``) is the current tier, the others are the history. Changes of one
member are serialised by the member's row lock (``ledger.lock_member``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import ValidationError
from hub.events import emit
from hub.models import Member
from hub.models.rewards import Reward
from hub.models.tiers import MemberTier
from hub.models.tiers import Tier
from hub.models.tiers import TierNotice
from hub.models.tiers import TierSettings
from hub.points import ledger
from hub.tiers.ladder import get_settings
from hub.tiers.ladder import list_tiers
from hub.tiers.ladder import rank
from hub.tiers.progress import TierStats
from hub.tiers.progress import member_stats
from hub.tiers.progress import progress_value
from hub.tiers.progress import qualified_tier
from hub.tiers.windows import merchant_tz
from hub.tiers.windows import window_end
from hub.tiers.windows import window_key
from hub.tiers.windows import window_start

if TYPE_CHECKING:
    from hub.core import Hub


def current_period(session: Session, member_id: int) -> MemberTier | None:
    """The member's open period, or None for a member who never had a tier."""
    return session.scalars(
        select(MemberTier)
        .where(MemberTier.member_id == member_id, MemberTier.ended_at.is_(None))
        .order_by(MemberTier.id.desc())
    ).first()


def current_tier(session: Session, member: Member) -> Tier | None:
    """The tier the member is in now, or None."""
    period = current_period(session, member.id)
    if period is None or period.tier_id is None:
        return None
    return session.get(Tier, period.tier_id)


def tier_history(session: Session, member_id: int, limit: int = 100) -> list[MemberTier]:
    """The member's periods, newest first."""
    return list(
        session.scalars(
            select(MemberTier)
            .where(MemberTier.member_id == member_id)
            .order_by(MemberTier.id.desc())
            .limit(limit)
        )
    )


def next_tier(tiers: Iterable[Tier], current: Tier | None) -> Tier | None:
    """The lowest tier above ``current``."""
    return min((t for t in tiers if rank(t) > rank(current)), key=rank, default=None)


def review_date(
    tier: Tier | None, start: datetime, settings: TierSettings, tz: ZoneInfo
) -> datetime | None:
    """When a period in ``tier`` that began at ``start`` is reviewed (None: never)."""
    if tier is None or settings.downgrade_policy == "never":
        return None
    return window_end(tier.window, start, tz)


def plain(amount: Decimal) -> str:
    """``Decimal("90.0000")`` as ``"90"``: the same text on every database."""
    return format(Decimal(amount).normalize(), "f")


def tier_ref(tier: Tier | None) -> dict[str, Any] | None:
    return None if tier is None else {"id": tier.id, "name": tier.name}


def change_tier(
    session: Session,
    member: Member,
    period: MemberTier | None,
    target: Tier | None,
    *,
    reason: str,
    now: datetime,
    review_at: datetime | None = None,
    note: str = "",
    actor: str = "system",
    override_until: datetime | None = None,
    is_override: bool = False,
) -> MemberTier:
    """Close the member's open period and open one in ``target``; emit ``tier.changed``.

    The event is emitted only when the tier really changes (an override to
    the tier the member is already in records the override, silently).
    """
    previous = session.get(Tier, period.tier_id) if period and period.tier_id else None
    if period is not None:
        period.ended_at = now
    new = MemberTier(
        merchant_id=member.merchant_id,
        member_id=member.id,
        tier_id=target.id if target else None,
        tier_name=target.name if target else None,
        previous_tier_id=previous.id if previous else None,
        reason=reason,
        note=note,
        actor=actor,
        is_override=is_override,
        started_at=now,
        review_at=None if is_override else review_at,
        override_until=override_until,
        data={},
    )
    session.add(new)
    session.flush()
    if rank(target) != rank(previous):
        emit(
            session,
            "tier.changed",
            member.merchant_id,
            {
                "member_id": member.id,
                "from_tier": tier_ref(previous),
                "to_tier": tier_ref(target),
                "direction": "up" if rank(target) > rank(previous) else "down",
                "reason": reason,
            },
        )
    return new


def reevaluate_tier(hub: Hub, session: Session, member: Member) -> None:
    """Upgrade the member at once if they now qualify for a higher tier; note a near miss.

    Never moves a member down (that waits for the review) and leaves an
    override alone. Calling it again changes nothing. Runs inside the
    caller's transaction and takes the member's row lock.
    """
    ledger.lock_member(session, member)
    tiers = list_tiers(session, member.merchant_id)
    if not tiers:
        return  # a merchant without tiers: nothing to move the member to
    period = current_period(session, member.id)
    if period is not None and period.is_override:
        return
    now = utcnow()
    settings = get_settings(session, member.merchant_id)
    tz = merchant_tz(session, member.merchant_id)
    stats = member_stats(session, member, at=now, tiers=tiers)
    earned = qualified_tier(hub, session, member, stats)
    current = session.get(Tier, period.tier_id) if period and period.tier_id else None
    if rank(earned) > rank(current):
        change_tier(
            session,
            member,
            period,
            earned,
            reason="qualified",
            now=now,
            review_at=review_date(earned, now, settings, tz),
        )
        current = earned
    elif current is not None and period is not None:
        _flag_lifetime_shortfall(period, current, stats, settings, now)
    notice_near(session, member, current, stats, settings, tz)


def _flag_lifetime_shortfall(
    period: MemberTier, tier: Tier, stats: TierStats, settings: TierSettings, now: datetime
) -> None:
    # A lifetime tier has no window that closes; a reversal that takes the
    # member below its threshold brings the review forward to now instead.
    if tier.window != "lifetime" or settings.downgrade_policy == "never":
        return
    if period.review_at is None and stats.progress(tier) < tier.threshold:
        period.review_at = now


def notice_near(
    session: Session,
    member: Member,
    current: Tier | None,
    stats: TierStats,
    settings: TierSettings,
    tz: ZoneInfo,
) -> None:
    """Emit ``tier.near`` once per member, tier and window, within ``near_share`` of it."""
    target = next_tier(stats.tiers, current)
    if target is None or target.threshold <= 0:
        return
    progress = stats.progress(target)
    if progress >= target.threshold or progress < target.threshold * settings.near_share:
        return
    key = f"{member.id}:{target.id}:{window_key(target.window, stats.at, tz, member)}"
    taken = session.scalar(
        select(TierNotice.id).where(
            TierNotice.merchant_id == member.merchant_id, TierNotice.key == key
        )
    )
    if taken is not None:
        return
    session.add(
        TierNotice(merchant_id=member.merchant_id, member_id=member.id, tier_id=target.id, key=key)
    )
    session.flush()
    emit(
        session,
        "tier.near",
        member.merchant_id,
        {
            "member_id": member.id,
            "tier": tier_ref(target),
            "basis": target.basis,
            "window": target.window,
            "progress": plain(progress),
            "threshold": plain(target.threshold),
            "delta": plain(target.threshold - progress),
        },
    )


def override_tier(
    session: Session,
    member: Member,
    tier: Tier,
    *,
    until: datetime | None,
    note: str = "",
    actor: str = "system",
) -> MemberTier:
    """Put the member in ``tier`` until ``until`` (None: until lifted), whatever they earn.

    While the override holds, neither upgrades nor reviews move the member;
    when it ends, they take the tier they qualify for then.
    """
    now = utcnow()
    if until is not None and until <= now:
        raise ValidationError(
            f"the override would end at {until.isoformat()}, which has passed",
            details={"until": ["a moment in the future, or null until lifted"]},
        )
    ledger.lock_member(session, member)
    period = change_tier(
        session,
        member,
        current_period(session, member.id),
        tier,
        reason="override",
        now=now,
        note=note,
        actor=actor,
        override_until=until,
        is_override=True,
    )
    audit.record(
        session,
        member.merchant_id,
        actor=actor,
        action="member.tier_override",
        object_type="member",
        object_id=member.id,
        data={"tier_id": tier.id, "until": until.isoformat() if until else None},
    )
    return period


def end_override(
    hub: Hub, session: Session, member: Member, *, actor: str = "system", note: str = ""
) -> MemberTier | None:
    """Lift the member's override: they take the tier they qualify for now.

    Returns the new period, or None when there was no override to lift.
    """
    ledger.lock_member(session, member)
    period = current_period(session, member.id)
    if period is None or not period.is_override:
        return None
    now = utcnow()
    settings = get_settings(session, member.merchant_id)
    tz = merchant_tz(session, member.merchant_id)
    stats = member_stats(session, member, at=now)
    earned = qualified_tier(hub, session, member, stats)
    new = change_tier(
        session,
        member,
        period,
        earned,
        reason="override_ended",
        now=now,
        review_at=review_date(earned, now, settings, tz),
        note=note,
        actor=actor,
    )
    notice_near(session, member, earned, stats, settings, tz)
    return new


def tier_status(session: Session, member: Member, now: datetime | None = None) -> dict[str, Any]:
    """Where the member stands: current and next tier, progress, and what keeps the tier.

    ``delta_to_next`` is what the member still needs for the next tier;
    ``retain_by`` is when the current tier is reviewed and ``delta_to_retain``
    what they still need by then to keep it (None when it cannot be lost).
    """
    now = now or utcnow()
    tiers = list_tiers(session, member.merchant_id)
    period = current_period(session, member.id)
    current = session.get(Tier, period.tier_id) if period and period.tier_id else None
    stats = member_stats(session, member, at=now, tiers=tiers)
    upcoming = next_tier(tiers, current)
    status: dict[str, Any] = {
        "tier": current,
        "since": period.started_at if period else None,
        "reason": period.reason if period else None,
        "override_until": period.override_until if period and period.is_override else None,
        "is_override": bool(period and period.is_override),
        "next_tier": upcoming,
        "progress": stats.progress(upcoming) if upcoming else None,
        "delta_to_next": (
            max(Decimal(0), upcoming.threshold - stats.progress(upcoming)) if upcoming else None
        ),
        "retain_by": None,
        "retain_progress": None,
        "delta_to_retain": None,
    }
    if current is None or period.is_override:
        return status
    settings = get_settings(session, member.merchant_id)
    if settings.downgrade_policy == "never":
        return status
    tz = merchant_tz(session, member.merchant_id)
    review_at = period.review_at
    start = window_start(current.window, review_at, tz) if review_at else None
    kept = progress_value(session, member, current.basis, start, now)
    status["retain_by"] = review_at
    status["retain_progress"] = kept
    status["delta_to_retain"] = max(Decimal(0), current.threshold - kept)
    return status


def delete_tier(hub: Hub, session: Session, tier: Tier, *, actor: str) -> int:
    """Delete a tier; its members move to the best remaining tier they qualify for.

    Returns how many members moved.
    :raise Conflict: a reward is restricted to the tier.
    """
    rewards = session.scalars(select(Reward).where(Reward.min_tier_id == tier.id)).all()
    if rewards:
        names = ", ".join(f"{r.name!r} (id {r.id})" for r in rewards)
        raise Conflict(
            f"tier {tier.name!r} is required by rewards {names}; change their tier "
            f"restriction first",
            details={"rewards": [r.id for r in rewards]},
            code="tier_in_use",
        )
    remaining = [t for t in list_tiers(session, tier.merchant_id) if t.id != tier.id]
    settings = get_settings(session, tier.merchant_id)
    tz = merchant_tz(session, tier.merchant_id)
    now = utcnow()
    holders = session.scalars(
        select(MemberTier).where(MemberTier.tier_id == tier.id, MemberTier.ended_at.is_(None))
    ).all()
    for period in holders:
        member = ledger.lock_member(session, session.get(Member, period.member_id))
        stats = member_stats(session, member, at=now, tiers=remaining)
        target = qualified_tier(hub, session, member, stats)
        change_tier(
            session,
            member,
            period,
            target,
            reason="tier_deleted",
            now=now,
            review_at=review_date(target, now, settings, tz),
            actor=actor,
        )
    audit.record(
        session,
        tier.merchant_id,
        actor=actor,
        action="tier.deleted",
        object_type="tier",
        object_id=tier.id,
        data={"name": tier.name, "members_moved": len(holders)},
    )
    session.delete(tier)
    session.flush()
    return len(holders)


def members_per_tier(session: Session, merchant_id: int) -> dict[int | None, int]:
    """How many members stand in each tier now (key None: in no tier after a period)."""
    rows = session.execute(
        select(MemberTier.tier_id, func.count())
        .where(MemberTier.merchant_id == merchant_id, MemberTier.ended_at.is_(None))
        .group_by(MemberTier.tier_id)
    )
    return {tier_id: count for tier_id, count in rows}
