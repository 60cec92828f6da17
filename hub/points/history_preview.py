"""What the merchant's latest real orders would earn under settings not saved yet.

The program page shows this beside the form before a save: each recent order
with the points it earns under the version in force when it was placed, and
under the proposed settings. Nothing is written: the session is rolled back
whatever a rule did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Member
from hub.models import Order
from hub.points.accrual import canonical
from hub.points.accrual import is_cancelled
from hub.points.earning import quote
from hub.points.program import Program
from hub.points.program import ProgramsInForce
from hub.points.program import program_for
from hub.points.program import program_rules
from hub.points.program import validate_settings

if TYPE_CHECKING:
    from hub.core import Hub

#: How many of the latest orders a preview replays.
HISTORY_ORDERS = 20


@dataclass(frozen=True)
class OrderPreview:
    """One past order: what it earns now and what it would earn under the proposal."""

    order_id: int
    number: str
    placed_at: datetime
    total: Decimal
    member_id: int | None
    current: int
    proposed: int
    reason: str | None


def preview_on_history(
    hub: Hub,
    session: Session,
    merchant_id: int,
    settings: Mapping[str, Any],
    *,
    limit: int = HISTORY_ORDERS,
) -> list[OrderPreview]:
    """Quote the latest ``limit`` orders under their own version and under ``settings``.

    :raise ValidationError: ``settings`` are not valid program settings.
    """
    proposed = proposed_program(hub, session, merchant_id, settings)
    orders = list(
        session.scalars(
            select(Order)
            .where(Order.merchant_id == merchant_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )
    members = {
        m.id: m
        for m in session.scalars(
            select(Member).where(Member.id.in_({o.member_id for o in orders if o.member_id}))
        )
    }
    in_force = ProgramsInForce(hub, session, merchant_id)
    rows = []
    for order in orders:
        data = canonical(order)
        member = members.get(order.member_id) if order.member_id else None
        now = quote(hub, session, merchant_id, member, data, in_force.at(order.placed_at))
        then = quote(hub, session, merchant_id, member, data, proposed)
        cancelled = is_cancelled(data)
        rows.append(
            OrderPreview(
                order_id=order.id,
                number=order.number or order.external_id,
                placed_at=order.placed_at,
                total=order.total,
                member_id=order.member_id,
                current=0 if cancelled else now.points,
                proposed=0 if cancelled else then.points,
                reason="cancelled" if cancelled else then.reason,
            )
        )
    session.rollback()
    return rows


def proposed_program(
    hub: Hub, session: Session, merchant_id: int, settings: Mapping[str, Any]
) -> Program:
    """The program ``settings`` would make, as the next version (validated, not saved)."""
    normalised = validate_settings(hub, settings)
    current = program_for(hub, session, merchant_id)
    return Program.from_settings(
        merchant_id,
        current.version + 1,
        normalised,
        timezone=current.timezone,
        currency=current.currency,
        rule_schemas={n: r.schema for n, r in program_rules(hub).items() if r.schema},
    )
