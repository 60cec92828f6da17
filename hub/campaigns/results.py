"""What a campaign's run did: its messages, vouchers, and orders against the control group.

Orders are the paid orders the points engine counted (``order_accruals``,
net of refunds, not cancelled), placed in the attribution window: from the
run's start for ``attribution_days`` days. Both groups are measured over the
same window and over every member assigned to them, so the difference is
what the campaign caused, give or take the interval (``lift``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.campaigns.lift import mean_lift
from hub.campaigns.lift import proportion_lift
from hub.db import utcnow
from hub.messaging.models import Message
from hub.messaging.models import MessageOptOut
from hub.models import Campaign
from hub.models import CampaignRecipient
from hub.models import Member
from hub.models import MemberConsent
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import Voucher

GROUPS = ("target", "control")


def results(
    session: Session, campaign: Campaign, *, run: int | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The run's figures (the latest run unless ``run`` names one)."""
    run = run or campaign.run
    now = now or utcnow()
    start = campaign.started_at if run == campaign.run else _run_start(session, campaign, run)
    window_end = start + timedelta(days=campaign.attribution_days) if start else None
    groups = _group_sizes(session, campaign.id, run)
    messages = _message_counts(session, campaign.id, run)
    orders = _orders(session, campaign, run, start, window_end) if start else {}
    squares = {name: figures.pop("_squares", Decimal(0)) for name, figures in orders.items()}
    return {
        "campaign_id": campaign.id,
        "run": run,
        "state": campaign.state,
        "started_at": start,
        "window_ends_at": window_end,
        "window_closed": bool(window_end and window_end <= now),
        "targeted": groups.get("target", 0),
        "held_out": groups.get("control", 0),
        **messages,
        "opted_out_after": _opted_out_after(session, campaign, run, start) if start else 0,
        "vouchers_redeemed": _vouchers_redeemed(session, campaign.id, run),
        "groups": {name: orders.get(name, _empty(groups.get(name, 0))) for name in GROUPS},
        "lift": _lift(orders, squares, groups),
    }


def _run_start(session: Session, campaign: Campaign, run: int) -> datetime | None:
    return session.scalar(
        select(func.min(CampaignRecipient.assigned_at)).where(
            CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.run == run
        )
    )


def _group_sizes(session: Session, campaign_id: int, run: int) -> dict[str, int]:
    rows = session.execute(
        select(CampaignRecipient.group, func.count())
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.run == run)
        .group_by(CampaignRecipient.group)
    ).all()
    return {group: count for group, count in rows}


def _message_counts(session: Session, campaign_id: int, run: int) -> dict[str, Any]:
    rows = session.execute(
        select(
            Message.status,
            func.count(),
            func.coalesce(func.sum(func.coalesce(Message.cost, Message.estimated_cost)), 0),
            func.min(Message.due_at),
        )
        .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.run == run)
        .group_by(Message.status)
    ).all()
    by_status = {status: count for status, count, _, _ in rows}
    cost = sum(
        (Decimal(spent) for status, _, spent, _ in rows if status in ("sent", "delivered")),
        Decimal(0),
    )
    waiting_until = next((due for status, _, _, due in rows if status == "held"), None)
    pending = session.scalar(
        select(func.count()).where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.run == run,
            CampaignRecipient.status == "pending",
        )
    )
    return {
        "pending": (pending or 0)
        + by_status.get("queued", 0)
        + by_status.get("held", 0)
        + by_status.get("sending", 0),
        "sent": by_status.get("sent", 0) + by_status.get("delivered", 0),
        "delivered": by_status.get("delivered", 0),
        "failed": by_status.get("failed", 0),
        "skipped": by_status.get("skipped", 0),
        # Held until their time comes (an advertising SMS after 22:00 waits for 07:00); the
        # delivery's own schedule sends them then, after the run itself is done.
        "waiting": by_status.get("held", 0),
        "waiting_until": waiting_until,
        "cost": cost,
    }


def _targets(campaign_id: int, run: int):
    return select(CampaignRecipient.member_id).where(
        CampaignRecipient.campaign_id == campaign_id,
        CampaignRecipient.run == run,
        CampaignRecipient.group == "target",
    )


def _opted_out_after(session: Session, campaign: Campaign, run: int, start: datetime) -> int:
    """Target members who opted out of the channel or withdrew consent since the run began."""
    opted = (
        select(Member.id)
        .join(MessageOptOut, MessageOptOut.address == Member.phone)
        .where(
            MessageOptOut.merchant_id == campaign.merchant_id,
            MessageOptOut.channel == campaign.channel,
            MessageOptOut.created_at >= start,
        )
    )
    withdrew = select(MemberConsent.member_id).where(
        MemberConsent.channel == campaign.channel,
        MemberConsent.granted.is_(False),
        MemberConsent.changed_at >= start,
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(Member)
            .where(
                Member.id.in_(_targets(campaign.id, run)),
                or_(Member.id.in_(opted), Member.id.in_(withdrew)),
            )
        )
        or 0
    )


def _vouchers_redeemed(session: Session, campaign_id: int, run: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Voucher)
            .join(Message, Message.voucher_id == Voucher.id)
            .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.run == run,
                Voucher.used_at.is_not(None),
            )
        )
        or 0
    )


def _orders(
    session: Session, campaign: Campaign, run: int, start: datetime, end: datetime
) -> dict[str, dict[str, Any]]:
    """Per group: members, buyers, orders, revenue and its sum of squares per member."""
    per_member = (
        select(
            CampaignRecipient.group.label("grp"),
            CampaignRecipient.member_id.label("member_id"),
            func.count(OrderAccrual.order_id).label("orders"),
            func.coalesce(func.sum(OrderAccrual.spent), 0).label("revenue"),
        )
        .join(OrderAccrual, OrderAccrual.member_id == CampaignRecipient.member_id)
        .join(Order, Order.id == OrderAccrual.order_id)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.run == run,
            OrderAccrual.merchant_id == campaign.merchant_id,
            OrderAccrual.cancelled.is_(False),
            Order.placed_at >= start,
            Order.placed_at < end,
        )
        .group_by(CampaignRecipient.group, CampaignRecipient.member_id)
        .subquery()
    )
    rows = session.execute(
        select(
            per_member.c.grp,
            func.count(),
            func.sum(per_member.c.orders),
            func.sum(per_member.c.revenue),
            func.sum(per_member.c.revenue * per_member.c.revenue),
        ).group_by(per_member.c.grp)
    ).all()
    sizes = _group_sizes(session, campaign.id, run)
    found = {}
    for group, buyers, orders, revenue, squares in rows:
        found[group] = {
            **_empty(sizes.get(group, 0)),
            "buyers": buyers,
            "orders": int(orders or 0),
            "revenue": Decimal(revenue or 0),
            "_squares": Decimal(squares or 0),
        }
    return {group: found.get(group, _empty(sizes.get(group, 0))) for group in GROUPS}


def _empty(members: int) -> dict[str, Any]:
    return {"members": members, "buyers": 0, "orders": 0, "revenue": Decimal(0)}


def _lift(
    orders: dict[str, dict[str, Any]], squares: dict[str, Decimal], sizes: dict[str, int]
) -> dict[str, Any]:
    target, control = orders.get("target"), orders.get("control")
    n_t, n_c = sizes.get("target", 0), sizes.get("control", 0)
    if not target or not control or n_t == 0 or n_c == 0:
        return {
            "measurable": False,
            "conversion": None,
            "revenue_per_member": None,
            "incremental_revenue": None,
        }
    conversion = proportion_lift(target["buyers"], n_t, control["buyers"], n_c)
    revenue = mean_lift(
        n_t,
        float(target["revenue"]),
        float(squares.get("target", 0)),
        n_c,
        float(control["revenue"]),
        float(squares.get("control", 0)),
    )
    incremental = None
    if revenue.difference is not None:
        incremental = Decimal(str(round(revenue.difference * n_t)))
    return {
        "measurable": True,
        "conversion": asdict(conversion),
        "revenue_per_member": asdict(revenue),
        "incremental_revenue": incremental,
    }
