"""A member's progress towards tiers: points earned or money spent, per window."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Member
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import PointEntry
from hub.models.tiers import Tier
from hub.tiers.ladder import list_tiers
from hub.tiers.windows import merchant_tz
from hub.tiers.windows import window_start

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

#: Ledger kinds that count as points earned; a negative ``reverse`` (an
#: order's earning taken back) counts against them. Redemptions, expiry and
#: manual adjustments do not move a tier.
EARN_KINDS = ("earn", "bonus", "import")


@dataclass(frozen=True)
class TierStats:
    """A member's progress at ``at`` on every (basis, window) the merchant's tiers use.

    ``tiers`` is the merchant's ladder, lowest first; ``values`` maps
    ``(basis, window)`` to the progress, points or money, as a ``Decimal``.
    """

    at: datetime
    tiers: tuple[Tier, ...]
    values: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def value(self, basis: str, window: str) -> Decimal:
        return self.values.get((basis, window), Decimal(0))

    def progress(self, tier: Tier) -> Decimal:
        """The member's progress towards ``tier``: its basis over its window."""
        return self.value(tier.basis, tier.window)


def points_earned(
    session: Session, member_id: int, start: datetime | None, end: datetime
) -> Decimal:
    """Points the member earned in [start, end), net of earnings taken back.

    A reversal counts in the window of the order it reverses (a January
    refund lowers the year the order was paid in); entries written after
    ``end`` never count, so a late review sees what an on-time one saw.
    """
    when = func.coalesce(Order.paid_at, Order.placed_at, PointEntry.created_at)
    query = (
        select(func.coalesce(func.sum(PointEntry.points), 0))
        .select_from(PointEntry)
        .outerjoin(Order, Order.id == PointEntry.order_id)
        .where(
            PointEntry.member_id == member_id,
            PointEntry.created_at < end,
            or_(
                PointEntry.kind.in_(EARN_KINDS),
                and_(PointEntry.kind == "reverse", PointEntry.points < 0),
            ),
        )
    )
    if start is not None:
        query = query.where(when >= start)
    return Decimal(session.scalar(query) or 0)


def amount_spent(
    session: Session, member: Member, start: datetime | None, end: datetime
) -> Decimal:
    """Money the member spent on orders paid in [start, end), net of refunds.

    An order counts in the window it was paid in (placed in, when the store
    sent no payment time). Over the lifetime this is the member's ``total_spent``, which includes
    spending imported from a previous system.
    """
    if start is None:
        return Decimal(member.total_spent or 0)
    when = func.coalesce(Order.paid_at, Order.placed_at)
    rows = session.scalars(
        select(OrderAccrual.spent)
        .join(Order, Order.id == OrderAccrual.order_id)
        .where(
            OrderAccrual.member_id == member.id,
            OrderAccrual.created_at < end,
            when >= start,
            when < end,
        )
    )
    return sum((Decimal(v) for v in rows), Decimal(0))


def progress_value(
    session: Session, member: Member, basis: str, start: datetime | None, end: datetime
) -> Decimal:
    """The member's progress on ``basis`` over [start, end)."""
    if basis == "spend":
        return amount_spent(session, member, start, end)
    return points_earned(session, member.id, start, end)


def member_stats(
    session: Session,
    member: Member,
    *,
    at: datetime | None = None,
    tiers: Iterable[Tier] | None = None,
) -> TierStats:
    """Compute the member's progress at ``at`` (default now) on each basis the tiers use."""
    at = at or utcnow()
    ladder = tuple(tiers if tiers is not None else list_tiers(session, member.merchant_id))
    tz = merchant_tz(session, member.merchant_id)
    values = {}
    for basis, window in sorted({(t.basis, t.window) for t in ladder}):
        values[(basis, window)] = progress_value(
            session, member, basis, window_start(window, at, tz), at
        )
    return TierStats(at=at, tiers=ladder, values=values)


def qualified_tier(hub: Hub, session: Session, member: Member, stats: TierStats) -> Tier | None:
    """Ask the ``tier_for_member`` hook which tier the numbers in ``stats`` earn.

    An answer that is not one of the merchant's tiers is logged and ignored.
    """
    answer = hub.pm.hook.tier_for_member(hub=hub, session=session, member=member, stats=stats)
    if answer is None:
        return None
    wanted = getattr(answer, "id", answer)
    for tier in stats.tiers:
        if tier.id == wanted:
            return tier
    log.warning(
        "tier_for_member answered %r, not a tier of merchant %s; ignored",
        answer,
        member.merchant_id,
    )
    return None
