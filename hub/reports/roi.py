"""The return on the program: revenue it brought against what it cost, with the method.

Attributed revenue is the total of the period's orders (not cancelled) that
earned points or used one of the program's vouchers (the daily rollups'
``orders`` rows marked ``loyalty``). The cost is the discounts the program's
vouchers gave on orders in the period plus what its messages cost. ROI is
(attributed revenue - cost) / cost. The revenue is not incremental: those
customers might have bought anyway; a campaign's control group measures lift.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Message
from hub.models import Voucher
from hub.reports.periods import Period
from hub.reports.reading import money
from hub.reports.reading import pick
from hub.reports.reading import totals
from hub.reports.rollups import money_e4

METHOD = (
    "Attributed revenue: orders placed in the period, not cancelled, that earned points or "
    "used a program voucher. Cost: discounts given by program vouchers used in the period "
    "plus the cost of messages sent in the period. ROI = (attributed revenue - cost) / cost. "
    "Not a measure of lift: those customers might have bought anyway."
)


def rewards_cost(session: Session, merchant_id: int, within: Period) -> Decimal:
    """The discounts the program's vouchers gave on orders in the period."""
    dialect = session.get_bind().dialect.name
    total = session.scalar(
        select(func.coalesce(func.sum(money_e4(dialect, Voucher.used_discount)), 0)).where(
            Voucher.merchant_id == merchant_id,
            Voucher.used_at >= within.start,
            Voucher.used_at < within.end,
        )
    )
    return money(int(total))


def messages_cost(session: Session, merchant_id: int, within: Period) -> Decimal:
    """What the messages created in the period cost, as their gateways reported it."""
    dialect = session.get_bind().dialect.name
    total = session.scalar(
        select(func.coalesce(func.sum(money_e4(dialect, Message.cost)), 0)).where(
            Message.merchant_id == merchant_id,
            Message.created_at >= within.start,
            Message.created_at < within.end,
        )
    )
    return money(int(total))


def _summary(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    found = totals(session, merchant_id, within)
    attributed = pick(found, "orders", lambda d: d.endswith(":loyalty"))
    placed = pick(found, "orders", lambda d: not d.endswith(":cancelled"))
    rewards = rewards_cost(session, merchant_id, within)
    messages = messages_cost(session, merchant_id, within)
    cost = rewards + messages
    roi = None
    if cost:
        roi = str(((attributed.amount - cost) / cost).quantize(Decimal("0.0001")))
    return {
        "attributed_orders": attributed.count,
        "attributed_revenue": str(attributed.amount),
        "revenue": str(placed.amount),
        "rewards_cost": str(rewards),
        "messages_cost": str(messages),
        "cost": str(cost),
        "roi": roi,
    }


def roi_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """The ROI report for ``within`` and the period before it, with its method."""
    return {
        "report": "roi",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": _summary(session, merchant_id, within),
        "previous_totals": _summary(session, merchant_id, within.previous()),
        "method": METHOD,
        "series": [],
    }
