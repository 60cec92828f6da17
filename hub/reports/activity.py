"""The rewards and messages reports, counted over the vouchers and messages of the period.

Vouchers and messages are few next to orders and ledger entries, so these
reports read their tables directly (by the merchant's index on each),
grouped by local day the same way the rollups are.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Message
from hub.models import Voucher
from hub.reports.days import as_date
from hub.reports.days import stretches
from hub.reports.periods import Period
from hub.reports.reading import money
from hub.reports.roi import rewards_cost
from hub.reports.rollups import money_e4

#: Message statuses that mean the gateway took the message.
SENT = ("sent", "delivered")


def _share(part: int, whole: int) -> str | None:
    return str((Decimal(part) / whole).quantize(Decimal("0.0001"))) if whole else None


def _daily(session: Session, merchant_id: int, within: Period, column: Any) -> dict:
    """Vouchers per local day by ``column`` (a time), in the period."""
    dialect = session.get_bind().dialect.name
    found: dict = {}
    for stretch in stretches(dialect, within.tz, within.first, within.last):
        day = stretch.day_of(column).label("day")
        rows = session.execute(
            select(day, func.count())
            .where(Voucher.merchant_id == merchant_id, column >= stretch.start,
                   column < stretch.end)
            .group_by(day)
        )  # fmt: skip
        found.update({as_date(d): n for d, n in rows})
    return found


def _vouchers(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    in_period = (
        Voucher.merchant_id == merchant_id,
        Voucher.issued_at >= within.start,
        Voucher.issued_at < within.end,
    )
    by_reward = session.execute(
        select(Voucher.reward_name, func.count(), func.sum(Voucher.points))
        .where(*in_period)
        .group_by(Voucher.reward_name)
        .order_by(Voucher.reward_name)
    ).all()
    issued = sum(n for _, n, _ in by_reward)
    used_of_issued = session.scalar(
        select(func.count()).where(*in_period, Voucher.used_at.is_not(None))
    )
    unused = session.scalar(select(func.count()).where(*in_period, Voucher.status == "issued"))

    def happened(column: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).where(
                    Voucher.merchant_id == merchant_id, column >= within.start, column < within.end
                )
            )
        )

    return {
        "vouchers_issued": issued,
        "points_redeemed": int(sum(p or 0 for _, _, p in by_reward)),
        "vouchers_used": happened(Voucher.used_at),
        "vouchers_expired": happened(Voucher.expired_at),
        "vouchers_cancelled": happened(Voucher.cancelled_at),
        "vouchers_unused": int(unused),
        "usage_rate": _share(int(used_of_issued), issued),
        "rewards_cost": str(rewards_cost(session, merchant_id, within)),
        "by_reward": [
            {"reward": name, "vouchers": n, "points": int(p or 0)} for name, n, p in by_reward
        ],
    }


def rewards_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """Vouchers issued per reward, used, expired and unused; the usage rate and the cost."""
    issued = _daily(session, merchant_id, within, Voucher.issued_at)
    used = _daily(session, merchant_id, within, Voucher.used_at)
    return {
        "report": "rewards",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": _vouchers(session, merchant_id, within),
        "previous_totals": _vouchers(session, merchant_id, within.previous()),
        "series": [
            {
                "day": d.isoformat(),
                "vouchers_issued": issued.get(d, 0),
                "vouchers_used": used.get(d, 0),
            }
            for d in within.each_day()
        ],
    }


def _messages(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    dialect = session.get_bind().dialect.name
    rows = session.execute(
        select(
            Message.channel, Message.kind, Message.status, func.count(),
            func.coalesce(func.sum(money_e4(dialect, Message.cost)), 0),
        )
        .where(Message.merchant_id == merchant_id, Message.created_at >= within.start,
               Message.created_at < within.end)
        .group_by(Message.channel, Message.kind, Message.status)
    ).all()  # fmt: skip
    groups: dict = defaultdict(lambda: {"sent": 0, "delivered": 0, "failed": 0, "other": 0,
                                        "cost_e4": 0})  # fmt: skip
    for channel, kind, status, count, cost in rows:
        group = groups[(channel or "", kind)]
        if status in SENT:
            group["sent"] += count
        if status in ("delivered", "failed"):
            group[status] += count
        elif status not in SENT:
            group["other"] += count
        group["cost_e4"] += int(cost)
    lines = [
        {"channel": channel or None, "kind": kind, "sent": g["sent"],
         "delivered": g["delivered"], "failed": g["failed"], "not_sent": g["other"],
         "cost": str(money(g["cost_e4"]))}
        for (channel, kind), g in sorted(groups.items())
    ]  # fmt: skip
    return {
        "sent": sum(line["sent"] for line in lines),
        "delivered": sum(line["delivered"] for line in lines),
        "failed": sum(line["failed"] for line in lines),
        "cost": str(money(sum(g["cost_e4"] for g in groups.values()))),
        "by_channel_and_kind": lines,
    }


def messages_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """Messages created in the period: sent, delivered, failed and cost, per channel and kind.

    Campaigns and their lift against a control group are not part of the hub
    yet; the automatic messages are what this report counts.
    """
    return {
        "report": "messages",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": _messages(session, merchant_id, within),
        "previous_totals": _messages(session, merchant_id, within.previous()),
        "series": [],
    }
