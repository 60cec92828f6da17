"""Random histories for the reports' tests, and the figures computed straight from raw rows."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from points_fixtures import order as make_order
from sqlalchemy import select

from hub.canonical import Refund
from hub.errors import Conflict
from hub.members.directory import create_member
from hub.members.merges import merge_members
from hub.merchants.accounts import create_merchant
from hub.models import Member
from hub.models import MemberTier
from hub.models import Order
from hub.models import OrderRefund
from hub.models import PointEntry
from hub.models import ReportDay
from hub.models import ReportMemberDay
from hub.models import Tier
from hub.orders.batches import record_order
from hub.orders.recording import record_refund
from hub.points.earning import adjust_points
from hub.points.expiry import expire_due
from hub.points.program import save_program
from hub.tiers.ladder import create_tier

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
#: 31 January 2026, 00:00 in Hanoi: histories start on the last day of a month.
START = datetime(2026, 1, 30, 17, 0, tzinfo=UTC)
PHONES = ("0911000001", "0911000002", "0911000003")
#: Times of day (UTC) around Hanoi's midnight (17:00 UTC): 23:30, 23:59, 00:00 and 00:30 there.
EDGES = (timedelta(hours=16, minutes=30), timedelta(hours=16, minutes=59),
         timedelta(hours=17), timedelta(hours=17, minutes=30), timedelta(hours=3))  # fmt: skip

orders = st.tuples(
    st.just("order"),
    st.sampled_from((*PHONES, None)),
    st.integers(1, 40).map(lambda n: n * 10_000),
    st.integers(0, 4),
    st.sampled_from(EDGES),
    st.sampled_from(("paid", "pending")),
)
refunds = st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 100))
cancels = st.tuples(st.just("cancel"), st.integers(0, 30))
adjusts = st.tuples(st.just("adjust"), st.sampled_from(PHONES), st.integers(-50, 80))
expiries = st.tuples(st.just("expire"), st.integers(1, 12))
#: A member joining otherwise than by a store's order: at a counter, by import, the widget or
#: by hand (``create_member``'s sources), with a phone the orders may use afterwards.
joins = st.tuples(
    st.just("join"),
    st.sampled_from(PHONES),
    st.sampled_from(("pos:Quầy 1", "import", "widget", "api")),
)
#: One member merged into another (their orders move to the survivor).
merges = st.tuples(st.just("merge"), st.sampled_from(PHONES), st.sampled_from(PHONES))
histories = st.lists(
    st.one_of(orders, refunds, cancels, adjusts, expiries, joins, merges), max_size=14
)


def new_merchant(hub, name: str = "reports", *, ladder: bool = False) -> int:
    """A merchant whose points expire five days after they are earned; with ``ladder``, two
    tiers earned by spending (refunds and cancellations can take a member back down)."""
    with hub.db.transaction() as session:
        merchant_id = create_merchant(session, name).id
        save_program(
            hub, session, merchant_id,
            {"expiry": {"policy": "days", "days": 5}},
            actor="test", now=START - timedelta(days=30),
        )  # fmt: skip
        if ladder:
            for tier, threshold in (("Bạc", 300_000), ("Vàng", 700_000)):
                create_tier(session, merchant_id, {"name": tier, "threshold": Decimal(threshold)},
                            actor="test")  # fmt: skip
    return merchant_id


def play(hub, merchant_id: int, history: list) -> None:
    """Apply a history of orders, refunds, cancellations, adjustments and expiry runs."""
    placed: list = []
    for step in history:
        if step[0] == "order":
            _, phone, amount, day, hour, status = step
            at = START + timedelta(days=day) + hour
            the_order = make_order(f"o{len(placed)}", amount, status=status, phone=phone,
                                   placed_at=at)  # fmt: skip
            with hub.db.transaction() as session:
                record_order(hub, session, merchant_id, the_order, source="shop",
                             now=at + timedelta(minutes=20))  # fmt: skip
            placed.append((the_order, at))
        elif step[0] == "refund" and placed:
            the_order, at = placed[step[1] % len(placed)]
            amount = the_order.total * step[2] / 100
            refund = Refund(external_id=f"r{step[1]}-{step[2]}",
                            order_external_id=the_order.external_id,
                            amount=amount.quantize(Decimal(1)), currency="VND",
                            created_at=at + timedelta(hours=7))  # fmt: skip
            with hub.db.transaction() as session:
                record_refund(hub, session, merchant_id, refund, source="shop",
                              now=at + timedelta(hours=8))  # fmt: skip
        elif step[0] == "cancel" and placed:
            the_order, at = placed[step[1] % len(placed)]
            cancelled = dataclasses.replace(the_order, cancelled_at=at + timedelta(hours=2))
            with hub.db.transaction() as session:
                record_order(hub, session, merchant_id, cancelled, source="shop",
                             now=at + timedelta(hours=2))  # fmt: skip
        elif step[0] == "adjust" and step[2]:
            _adjust(hub, merchant_id, step[1], step[2])
        elif step[0] == "expire":
            expire_due(hub, now=START + timedelta(days=step[1], hours=1))
        elif step[0] == "join":
            _join(hub, merchant_id, step[1], step[2])
        elif step[0] == "merge" and step[1] != step[2]:
            _merge(hub, merchant_id, step[1], step[2])


def _join(hub, merchant_id: int, phone: str, source: str) -> None:
    with hub.db.transaction() as session:
        try:
            with session.begin_nested():
                create_member(session, merchant_id, {"phone": phone}, source=source)
        except Conflict:  # joined already: the history goes on
            pass


def _member(session, merchant_id: int, phone: str) -> Member | None:
    return session.scalar(
        select(Member).where(
            Member.merchant_id == merchant_id,
            Member.phone == "+84" + phone[1:],
            Member.status == "active",
        )
    )


def _merge(hub, merchant_id: int, keep: str, drop: str) -> None:
    with hub.db.transaction() as session:
        survivor, merged = _member(session, merchant_id, keep), _member(session, merchant_id, drop)
        if survivor is not None and merged is not None:
            merge_members(hub, session, merchant_id, survivor.id, merged.id, actor="test")


def _adjust(hub, merchant_id: int, phone: str, points: int) -> None:
    e164 = "+84" + phone[1:]
    with hub.db.transaction() as session:
        member = session.scalar(
            select(Member).where(Member.merchant_id == merchant_id, Member.phone == e164)
        )
        if member is None:
            return
        try:
            with session.begin_nested():
                adjust_points(hub, session, member, points, reason="test", actor="test",
                              now=START + timedelta(days=2, hours=5))  # fmt: skip
        except Exception:  # too few points to take: the history goes on without it
            pass


def rollup_rows(hub, merchant_id: int) -> dict:
    """The merchant's rollups: (day, metric, dimension) -> (count, points, amount_e4)."""
    with hub.db.session() as session:
        rows = session.execute(
            select(ReportDay).where(ReportDay.merchant_id == merchant_id)
        ).scalars()
        return {
            (r.day, r.metric, r.dimension): (r.count, r.points, r.amount_e4)
            for r in rows
            if r.count or r.points or r.amount_e4
        }


def member_day_rows(hub, merchant_id: int) -> dict:
    """What each member bought each day, as rolled up: (day, member) -> (orders, revenue_e4)."""
    with hub.db.session() as session:
        rows = session.scalars(
            select(ReportMemberDay).where(ReportMemberDay.merchant_id == merchant_id)
        )
        return {(r.day, r.member_id): (r.orders, r.revenue_e4) for r in rows}


def raw_member_days(hub, merchant_id: int, tz: ZoneInfo = HANOI) -> dict:
    """The same computed here from the orders, in Python."""
    found: dict = defaultdict(lambda: [0, 0])
    with hub.db.session() as session:
        for o in session.scalars(select(Order).where(Order.merchant_id == merchant_id)):
            if o.member_id is None or o.cancelled_at is not None or o.financial_status == "voided":
                continue
            key = (o.placed_at.astimezone(tz).date(), o.member_id)
            found[key][0] += 1
            found[key][1] += int(o.total * 10_000)
    return {k: tuple(v) for k, v in found.items()}


def raw_figures(hub, merchant_id: int, tz: ZoneInfo = HANOI) -> dict:
    """The same figures computed here from the raw rows, in Python, day by day."""
    found: dict = defaultdict(lambda: [0, 0, 0])
    with hub.db.session() as session:
        for e in session.scalars(select(PointEntry).where(PointEntry.merchant_id == merchant_id)):
            sign = "+" if e.points > 0 else "-"
            key = (e.created_at.astimezone(tz).date(), "points", f"{e.kind}:{sign}:{e.rule or ''}")
            found[key][0] += 1
            found[key][1] += e.points
        for o in session.scalars(select(Order).where(Order.merchant_id == merchant_id)):
            who = "guest" if o.member_id is None else "member"
            key = (o.placed_at.astimezone(tz).date(), "orders", f"{who}:{_state(session, o)}")
            found[key][0] += 1
            found[key][2] += int(o.total * 10_000)
        for r in session.scalars(select(OrderRefund).where(OrderRefund.merchant_id == merchant_id)):
            key = (r.refunded_at.astimezone(tz).date(), "refunds", "")
            found[key][0] += 1
            found[key][2] += int(r.amount * 10_000)
        for m in session.scalars(
            select(Member).where(Member.merchant_id == merchant_id, Member.merged_into_id.is_(None))
        ):
            found[(m.created_at.astimezone(tz).date(), "members", m.joined_via)][0] += 1
        _tier_figures(session, merchant_id, tz, found)
    return {k: tuple(v) for k, v in found.items() if any(v)}


def _tier_figures(session, merchant_id: int, tz: ZoneInfo, found: dict) -> None:
    """Stays begun and ended per day and tier, and moves up or down the ladder per day."""
    positions = dict(session.execute(select(Tier.id, Tier.position)).all())
    for stay in session.scalars(select(MemberTier).where(MemberTier.merchant_id == merchant_id)):
        began = stay.started_at.astimezone(tz).date()
        if stay.tier_name is not None:
            found[(began, "tier_in", stay.tier_name)][0] += 1
            if stay.ended_at is not None:
                found[(stay.ended_at.astimezone(tz).date(), "tier_out", stay.tier_name)][0] += 1
        new, old = positions.get(stay.tier_id), positions.get(stay.previous_tier_id)
        if new is not None and (old is None or new > old):
            found[(began, "tier_moves", "up")][0] += 1
        elif old is not None and (new is None or new < old):
            found[(began, "tier_moves", "down")][0] += 1


def _state(session, o: Order) -> str:
    from hub.models import OrderAccrual
    from hub.models import Voucher

    if o.cancelled_at is not None or o.financial_status == "voided":
        return "cancelled"
    accrual = session.scalar(select(OrderAccrual).where(OrderAccrual.order_id == o.id))
    used = session.scalar(select(Voucher.id).where(Voucher.used_order_id == o.id))
    return "loyalty" if (accrual is not None and accrual.earned > 0) or used else "plain"
