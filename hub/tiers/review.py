"""Tier reviews: when a window closes, members keep, lose or step down their tier.

The merchant's downgrade policy decides: ``never`` (tiers are kept for good),
``review`` (to the tier earned in the window that closed, possibly none) or
``one_step`` (at most one tier down per review). The daily job runs every
review that is due; each looks at the window that closed at its own date, so
a job that runs late, or twice, decides exactly as one that ran on time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Member
from hub.models.tiers import MemberTier
from hub.models.tiers import Tier
from hub.models.tiers import TierSettings
from hub.points import ledger
from hub.tiers.ladder import get_settings
from hub.tiers.ladder import list_tiers
from hub.tiers.ladder import rank
from hub.tiers.membership import change_tier
from hub.tiers.membership import current_period
from hub.tiers.membership import end_override
from hub.tiers.membership import reevaluate_tier
from hub.tiers.membership import review_date
from hub.tiers.progress import member_stats
from hub.tiers.progress import qualified_tier
from hub.tiers.windows import merchant_tz

if TYPE_CHECKING:
    from hub.core import Hub


def review_member(hub: Hub, session: Session, member: Member, now: datetime | None = None) -> int:
    """Run every review of the member due at ``now``, and an override's end; return how many.

    Runs inside the caller's transaction and takes the member's row lock.
    """
    now = now or utcnow()
    ledger.lock_member(session, member)
    period = current_period(session, member.id)
    if period is None:
        return 0
    if period.is_override:
        if period.override_until is not None and period.override_until <= now:
            end_override(hub, session, member, note="the override's end date passed")
            return 1
        return 0
    settings = get_settings(session, member.merchant_id)
    tz = merchant_tz(session, member.merchant_id)
    tiers = list_tiers(session, member.merchant_id)
    reviews = 0
    while period.review_at is not None and period.review_at <= now:
        reviews += 1
        period = _review_once(hub, session, member, period, tiers, settings, tz, now)
    return reviews


def _review_once(
    hub: Hub,
    session: Session,
    member: Member,
    period: MemberTier,
    tiers: list[Tier],
    settings: TierSettings,
    tz: ZoneInfo,
    now: datetime,
) -> MemberTier:
    boundary = period.review_at
    current = session.get(Tier, period.tier_id) if period.tier_id else None
    stats = member_stats(session, member, at=boundary, tiers=tiers)
    earned = qualified_tier(hub, session, member, stats)
    if rank(earned) > rank(current):
        return change_tier(
            session,
            member,
            period,
            earned,
            reason="qualified",
            now=now,
            review_at=review_date(earned, boundary, settings, tz),
        )
    if current is None or rank(earned) == rank(current) or settings.downgrade_policy == "never":
        period.review_at = review_date(current, boundary, settings, tz)
        period.data = {**(period.data or {}), "retained_at": boundary.isoformat()}
        return period
    if settings.downgrade_policy == "one_step":
        target = max((t for t in tiers if rank(t) < rank(current)), key=rank, default=None)
    else:
        target = earned
    return change_tier(
        session,
        member,
        period,
        target,
        reason="review",
        now=now,
        review_at=review_date(target, boundary, settings, tz),
        note=f"review of the window that closed at {boundary.isoformat()}",
    )


def due_member_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Members with a review or an override's end due at ``now``, at most ``limit``."""
    return list(
        session.scalars(
            select(MemberTier.member_id)
            .where(
                MemberTier.ended_at.is_(None),
                or_(
                    and_(MemberTier.is_override.is_(False), MemberTier.review_at <= now),
                    and_(MemberTier.is_override.is_(True), MemberTier.override_until <= now),
                ),
            )
            .group_by(MemberTier.member_id)
            .order_by(MemberTier.member_id)
            .limit(limit)
        )
    )


def review_due(now: str | None = None) -> int:
    """Periodic job: run every tier review and override end that is due; return how many.

    ``now`` (ISO 8601, aware) replaces the clock, for replays and tests. Each
    member is reviewed in a transaction of its own.
    """
    from hub.core import current_hub

    hub = current_hub()
    moment = datetime.fromisoformat(now) if now else utcnow()
    done = 0
    while True:
        with hub.db.session() as session:
            ids = due_member_ids(session, moment)
        ran = 0
        for member_id in ids:
            with hub.db.transaction() as session:
                ran += review_member(hub, session, session.get(Member, member_id), moment)
        done += ran
        if ran == 0:
            break
    place_new_members(hub)
    return done


def place_new_members(hub: Hub, batch: int = 500) -> int:
    """Put members never evaluated yet in the entry tier, where one asks for nothing.

    A member gets a tier with their first order; one who joined without
    buying is placed here, by the daily job, in a tier with a threshold of 0.
    Returns how many members were looked at.
    """
    # Amounts are text on SQLite: compare them as Decimals, not in SQL.
    with hub.db.session() as session:
        merchants = sorted(
            {t.merchant_id for t in session.scalars(select(Tier)) if t.threshold == 0}
        )
    placed = select(MemberTier.id).where(MemberTier.member_id == Member.id)
    after, seen = 0, 0
    while merchants:
        with hub.db.session() as session:
            ids = list(
                session.scalars(
                    select(Member.id)
                    .where(
                        Member.id > after,
                        Member.merchant_id.in_(merchants),
                        Member.status == "active",
                        ~placed.exists(),
                    )
                    .order_by(Member.id)
                    .limit(batch)
                )
            )
        if not ids:
            return seen
        for member_id in ids:
            with hub.db.transaction() as session:
                reevaluate_tier(hub, session, session.get(Member, member_id))
        seen += len(ids)
        after = ids[-1]
    return seen


def reevaluate_merchant(merchant_id: int, batch: int = 200) -> int:
    """Job: re-evaluate every active member of a merchant, after its tiers changed.

    Upgrades whoever now qualifies (nobody moves down before a review);
    returns how many members were looked at, and reports its progress after
    each batch (``GET /api/v1/jobs/<id>``).
    """
    from hub.core import current_hub

    hub = current_hub()
    active = (Member.merchant_id == merchant_id, Member.status == "active")
    with hub.db.session() as session:
        total = session.scalar(select(func.count()).select_from(Member).where(*active))
    hub.jobs.report_progress(0, total)
    after, seen = 0, 0
    while True:
        with hub.db.session() as session:
            ids = list(
                session.scalars(
                    select(Member.id)
                    .where(*active, Member.id > after)
                    .order_by(Member.id)
                    .limit(batch)
                )
            )
        if not ids:
            return seen
        for member_id in ids:
            with hub.db.transaction() as session:
                reevaluate_tier(hub, session, session.get(Member, member_id))
        seen += len(ids)
        after = ids[-1]
        hub.jobs.report_progress(seen, max(total or 0, seen))


def settle_after_merge(hub: Hub, session: Session, survivor: Member) -> None:
    """After a merge moved the other member's periods here, keep the better open one.

    An override wins, then the higher tier; the other open period is closed.
    The survivor is then re-evaluated on the combined numbers.
    """
    open_periods = list(
        session.scalars(
            select(MemberTier).where(
                MemberTier.member_id == survivor.id, MemberTier.ended_at.is_(None)
            )
        )
    )
    if len(open_periods) > 1:
        now = utcnow()

        def strength(period: MemberTier) -> tuple[bool, tuple[int, int], int]:
            tier = session.get(Tier, period.tier_id) if period.tier_id else None
            return (period.is_override, rank(tier), period.id)

        keep = max(open_periods, key=strength)
        for period in open_periods:
            if period is not keep:
                period.ended_at = now
                period.data = {**(period.data or {}), "ended_by": "merge"}
        session.flush()
    reevaluate_tier(hub, session, survivor)
