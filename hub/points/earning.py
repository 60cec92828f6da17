"""What an order earns: the ``points_for_order`` hooks, asked under the program in force.

Earning rules are plugins. The base spend rule is ``hub.defaults.earning``;
product bonuses, special days, birthdays and the rest live in ``plugins/``.
Every award is named by its rule, and the name goes on the ledger entry, so
any balance can be explained line by line.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import ValidationError
from hub.events import emit
from hub.models import Member
from hub.models import OrderAccrual
from hub.models import PointEntry
from hub.points import ledger
from hub.points.program import Program
from hub.points.program import program_for

if TYPE_CHECKING:
    from hub.canonical import Order
    from hub.core import Hub

log = logging.getLogger(__name__)

#: A rule name as it goes on ledger entries and in keys.
RULE_NAME_MAX = 40
#: The most points one order may earn: far below what a BIGINT balance holds, and above
#: anything a real program gives; more means a mistaken earn rate, refused with 422.
MAX_ORDER_POINTS = 10**12


@dataclass(frozen=True)
class Award:
    """Points one earning rule gives for one order; ``note`` explains them to people."""

    points: int
    rule: str
    note: str = ""


@dataclass(frozen=True)
class Quote:
    """What an order earns under a program: the awards, or why there are none."""

    program: Program
    base: Decimal
    awards: tuple[Award, ...]
    reason: str | None = None

    @property
    def points(self) -> int:
        return sum(award.points for award in self.awards)


def quote(
    hub: Hub,
    session: Session,
    merchant_id: int,
    member: Member | None,
    order: Order,
    program: Program,
) -> Quote:
    """Ask every earning rule what ``order`` earns under ``program``; write nothing."""
    base = program.earning_base(order)
    reason = program.ineligible(order)
    if reason is not None:
        return Quote(program=program, base=base, awards=(), reason=reason)
    results = hub.pm.hook.points_for_order(
        hub=hub,
        session=session,
        merchant_id=merchant_id,
        member=member,
        order=order,
        program=program,
    )
    awards = combine(results)
    total = sum(award.points for award in awards)
    if total > MAX_ORDER_POINTS:
        raise ValidationError(
            f"order {order.external_id} would earn {total} points, more than the "
            f"{MAX_ORDER_POINTS} one order may; check the program's earn rate and rules",
            details={"points": [f"more than {MAX_ORDER_POINTS}"]},
            code="too_many_points",
        )
    return Quote(program=program, base=base, awards=awards)


def combine(results: list[list[Award] | None]) -> tuple[Award, ...]:
    """Flatten hook results: one award per rule name, in first-seen order, positive only."""
    merged: dict[str, Award] = {}
    for awards in results:
        for award in awards or []:
            if not isinstance(award, Award) or not isinstance(award.points, int):
                log.warning("points_for_order returned %r, not an Award; ignored", award)
                continue
            rule = award.rule[:RULE_NAME_MAX]
            if rule in merged:
                before = merged[rule]
                note = "; ".join(n for n in (before.note, award.note) if n)
                merged[rule] = Award(before.points + award.points, rule, note)
            else:
                merged[rule] = Award(award.points, rule, award.note)
    return tuple(a for a in merged.values() if a.points > 0)


# -- helpers for earning rules (re-exported from ``hub``) ---------------------


def counted_orders(
    session: Session,
    member_id: int,
    *,
    exclude_order_id: int | None = None,
    since: datetime | None = None,
) -> int:
    """How many of the member's paid orders the points engine has counted (cancelled ones not).

    ``since`` counts only orders counted at or after that moment.
    """
    query = select(func.count()).where(
        OrderAccrual.member_id == member_id, OrderAccrual.cancelled.is_(False)
    )
    if exclude_order_id is not None:
        query = query.where(OrderAccrual.order_id != exclude_order_id)
    if since is not None:
        query = query.where(OrderAccrual.created_at >= since)
    return int(session.scalar(query) or 0)


def rule_awarded(
    session: Session, member_id: int, rule: str, *, since: datetime | None = None
) -> int:
    """How many times rule ``rule`` has credited the member (since ``since``, if given)."""
    query = select(func.count()).where(
        PointEntry.member_id == member_id, PointEntry.rule == rule, PointEntry.points > 0
    )
    if since is not None:
        query = query.where(PointEntry.created_at >= since)
    return int(session.scalar(query) or 0)


def grant_points(
    hub: Hub,
    session: Session,
    merchant_id: int,
    member_id: int,
    points: int,
    *,
    rule: str,
    key: str,
    note: str = "",
    at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Credit points that no order earned (sign-up, a referral), once per ``key``.

    The program in force at ``at`` (default now) decides when they unlock
    and expire, as for an order's points. Emits ``points.earned``. Returns
    False when ``key`` was already credited, or the member is gone.
    """
    now = now or utcnow()
    member = session.get(Member, member_id)
    if member is None or member.merchant_id != merchant_id or member.status != "active":
        return False
    program = program_for(hub, session, merchant_id, at or now)
    posted = ledger.credit(
        session, member, points, kind="bonus", key=key, rule=rule[:RULE_NAME_MAX], note=note,
        available_at=program.available_at(now), expires_at=program.expires_at(now),
        program_version=program.version, now=now,
    )  # fmt: skip
    if not posted.created:
        return False
    emit(
        session,
        "points.earned",
        merchant_id,
        {
            "member_id": member_id,
            "order_id": None,
            "points": points,
            "awards": [{"rule": rule, "points": points, "note": note}],
            "program_version": program.version,
            "balance": posted.balance,
        },
    )
    return True


def adjust_points(
    hub: Hub,
    session: Session,
    member: Member,
    points: int,
    *,
    reason: str,
    actor: str,
    key: str | None = None,
    now: datetime | None = None,
) -> PointEntry:
    """Add (points > 0) or remove (points < 0) points by hand, with the reason and who did it.

    Added points are spendable at once and expire as the program says;
    removed points come from the available ones (``InsufficientPoints``
    when there are too few). Emits ``points.adjusted``; the change is in the
    audit log too.
    """
    if points == 0:
        raise ValidationError("an adjustment needs points other than 0", details={"points": ["0"]})
    if not reason.strip():
        raise ValidationError("an adjustment needs a reason", details={"reason": ["required"]})
    now = now or utcnow()
    key = key or f"adjust:{uuid.uuid4().hex}"
    common = {"kind": "adjust", "key": key, "rule": "adjustment", "note": reason[:500]}
    program = program_for(hub, session, member.merchant_id, now)
    if points > 0:
        posted = ledger.credit(
            session, member, points, **common, actor=actor, expires_at=program.expires_at(now),
            program_version=program.version, now=now,
        )  # fmt: skip
    else:
        posted = ledger.debit(session, member, -points, **common, actor=actor, now=now)
    if posted.created:
        audit.record(
            session,
            member.merchant_id,
            actor=actor,
            action="points.adjusted",
            object_type="member",
            object_id=member.id,
            data={"points": points, "reason": reason[:500], "entry_id": posted.entry.id},
        )
        emit(
            session,
            "points.adjusted",
            member.merchant_id,
            {
                "member_id": member.id,
                "points": points,
                "reason": reason[:500],
                "actor": actor,
                "entry_id": posted.entry.id,
                "balance": posted.balance,
            },
        )
    return posted.entry
