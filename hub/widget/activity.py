"""A member's recent activity as the widget lists it: one line per event, not per entry.

An order writes several ledger entries (its base points, a tier's bonus, a
birthday bonus); the shopper sees one line for it: the day, the order number
and the points it brought. A refund of that order is a line of its own, and
so is every redemption, expiry or adjustment. The words are the script's (the
panel's language); this module gives the facts: the kind of line, the order
number or reward name, the points and the day in the merchant's format.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.calendar_days import day_text
from hub.models import Member
from hub.models import Merchant
from hub.models import Order
from hub.models import PointEntry
from hub.models import Voucher

LINES = 8
#: Entries read to make the lines; an order rarely writes more than three.
ENTRIES = 40
ORDER_CREDITS = ("earn", "bonus")


@dataclass
class _Line:
    kind: str
    at: datetime
    points: int = 0
    order_id: int | None = None
    voucher_id: int | None = None
    action: str | None = None
    entries: list[int] = field(default_factory=list)


def _line_key(entry: PointEntry) -> tuple[Any, ...]:
    if entry.order_id is not None and entry.kind in ORDER_CREDITS:
        return ("order", entry.order_id)
    if entry.order_id is not None and entry.kind == "reverse":
        return ("refund", entry.order_id)
    return ("entry", entry.id)


def _kind(entry: PointEntry) -> str:
    if entry.order_id is not None and entry.kind in ORDER_CREDITS:
        return "order"
    if entry.order_id is not None and entry.kind == "reverse":
        return "refund"
    if entry.kind == "bonus" and entry.rule in ("referral", "event"):
        return entry.rule
    return entry.kind


def activity_lines(session: Session, member: Member, merchant: Merchant) -> list[dict[str, Any]]:
    """The member's latest events, newest first, at most ``LINES`` of them."""
    entries = session.scalars(
        select(PointEntry)
        .where(PointEntry.member_id == member.id)
        .order_by(PointEntry.id.desc())
        .limit(ENTRIES)
    ).all()
    lines: dict[tuple[Any, ...], _Line] = {}
    for entry in entries:
        key = _line_key(entry)
        if key not in lines:
            if len(lines) == LINES:
                continue
            lines[key] = _Line(_kind(entry), entry.created_at, order_id=entry.order_id)
        line = lines[key]
        line.points += entry.points
        if entry.kind == "redeem":
            line.voucher_id = (entry.data or {}).get("voucher_id")
        if entry.rule == "event":
            line.action = (entry.data or {}).get("kind")
    number = func.coalesce(Order.number, Order.external_id)
    orders = _names(session, Order, number, {ln.order_id for ln in lines.values()})
    rewards = _names(
        session, Voucher, Voucher.reward_name, {ln.voucher_id for ln in lines.values()}
    )
    return [
        {
            "kind": line.kind,
            "points": line.points,
            "order": orders.get(line.order_id) if line.kind in ("order", "refund") else None,
            "reward": rewards.get(line.voucher_id),
            "action": line.action,
            "on": day_text(line.at, merchant.locale, merchant.timezone),
            "at": line.at.isoformat(),
        }
        for line in lines.values()
    ]


def _names(session: Session, model: Any, column: Any, ids: set[Any]) -> dict[int, str]:
    wanted = sorted(i for i in ids if isinstance(i, int))
    if not wanted:
        return {}
    rows = session.execute(select(model.id, column).where(model.id.in_(wanted))).all()
    return {row[0]: row[1] for row in rows if row[1]}
