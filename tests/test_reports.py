"""The reports' numbers against the same numbers computed here from the raw rows."""

from __future__ import annotations

import os
from collections import Counter
from datetime import date
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from points_fixtures import order as make_order
from report_fixtures import HANOI
from report_fixtures import START
from report_fixtures import histories
from report_fixtures import new_merchant
from report_fixtures import play
from sqlalchemy import select

from hub.db import utcnow
from hub.members.directory import create_member
from hub.models import Member
from hub.models import Message
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import PointEntry
from hub.orders.batches import record_order
from hub.points.earning import adjust_points
from hub.reports.catalogue import run_report
from hub.rewards.catalog import create_reward
from hub.rewards.catalog import redeem
from hub.rewards.vouchers import use_voucher
from hub.tiers.ladder import create_tier

ON_POSTGRES = bool(os.environ.get("HUB_TEST_DATABASE_URL"))
EXAMPLES = int(os.environ.get("HUB_REPORT_EXAMPLES") or (15 if ON_POSTGRES else 40))
#: Every day the histories can touch, and a window inside them.
PERIODS = st.sampled_from(
    [(date(2026, 1, 31), date(2026, 2, 14)), (date(2026, 2, 1), date(2026, 2, 2)),
     (date(2026, 1, 31), date(2026, 1, 31))]
)  # fmt: skip
NOW = START + timedelta(days=20)


@pytest.fixture
def hub_config():
    return {"HUB_LOAD_ENTRYPOINTS": False, "HUB_DISABLE_PLUGINS": "hub.messaging.plugin"}


def _day(moment) -> date:
    return moment.astimezone(HANOI).date()


def raw(hub, merchant_id: int, first: date, last: date) -> dict:
    """The figures the reports give, computed from the raw rows one by one."""
    inside = lambda moment: first <= _day(moment) <= last  # noqa: E731
    with hub.db.session() as session:
        entries = session.scalars(select(PointEntry).where(PointEntry.merchant_id == merchant_id))
        entries = list(entries)
        orders = list(session.scalars(select(Order).where(Order.merchant_id == merchant_id)))
        earned = {a.order_id for a in session.scalars(select(OrderAccrual)) if a.earned > 0}
        members = list(session.scalars(select(Member).where(Member.merchant_id == merchant_id)))
    now = [e for e in entries if inside(e.created_at)]
    placed = [o for o in orders if inside(o.placed_at) and o.cancelled_at is None
              and o.financial_status != "voided"]  # fmt: skip
    mine = [o for o in placed if o.member_id is not None]
    per_member = Counter(o.member_id for o in mine)
    return {
        "issued": sum(
            e.points
            for e in now
            if e.points > 0 and e.kind in ("earn", "bonus", "import", "adjust")
        ),
        "redeemed": -sum(e.points for e in now if e.kind == "redeem"),
        "expired": -sum(e.points for e in now if e.kind == "expire"),
        "reversed": -sum(e.points for e in now if e.kind == "reverse" and e.points < 0),
        "deducted": -sum(e.points for e in now if e.kind == "adjust" and e.points < 0),
        "outstanding": sum(e.points for e in entries if _day(e.created_at) <= last),
        "member_orders": len(mine),
        "guest_orders": len(placed) - len(mine),
        "member_revenue": sum((o.total for o in mine), Decimal(0)),
        "active_members": len(per_member),
        "new_members": sum(1 for m in members if inside(m.created_at)),
        "members": sum(1 for m in members if _day(m.created_at) <= last),
        "repeat_buyers": sum(1 for n in per_member.values() if n >= 2),
        "attributed": sum((o.total for o in placed if o.id in earned), Decimal(0)),
    }


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, period=PERIODS)
def test_reports_match_the_raw_rows_after_random_histories(hub, history, period):
    merchant_id = new_merchant(hub)
    play(hub, merchant_id, history)
    first, last = period
    expected = raw(hub, merchant_id, first, last)
    points = run_report(hub, merchant_id, "points", first, last, now=NOW)["totals"]
    people = run_report(hub, merchant_id, "participation", first, last, now=NOW)["totals"]
    customers = run_report(hub, merchant_id, "customers", first, last, now=NOW)["totals"]
    roi = run_report(hub, merchant_id, "roi", first, last, now=NOW)["totals"]
    for name in ("issued", "redeemed", "expired", "reversed", "deducted", "outstanding"):
        assert points[name] == expected[name], name
    for name in ("member_orders", "guest_orders", "active_members", "new_members", "members"):
        assert people[name] == expected[name], name
    assert Decimal(people["member_revenue"]) == expected["member_revenue"]
    assert customers["buyers"] == expected["active_members"]
    assert customers["repeat_buyers"] == expected["repeat_buyers"]
    assert Decimal(roi["attributed_revenue"]) == expected["attributed"]


def test_the_series_add_up_to_the_totals_and_outstanding_runs_on(hub):
    merchant_id = new_merchant(hub)
    # In Hanoi: 31 January 03:00, 1 February 23:30, 3 February 00:00.
    times = (timedelta(hours=3), timedelta(days=2, minutes=-30), timedelta(days=3))
    for n, after in enumerate(times):
        at = START + after
        with hub.db.transaction() as session:
            record_order(hub, session, merchant_id, make_order(f"s{n}", 100_000, placed_at=at),
                         source="shop", now=at)  # fmt: skip
    report = run_report(hub, merchant_id, "points", date(2026, 1, 31), date(2026, 2, 3), now=NOW)
    series = report["series"]
    assert [d["day"] for d in series] == ["2026-01-31", "2026-02-01", "2026-02-02", "2026-02-03"]
    assert sum(d["issued"] for d in series) == report["totals"]["issued"] > 0
    assert series[-1]["outstanding"] == report["totals"]["outstanding"]
    assert [d["issued"] > 0 for d in series] == [True, True, False, True]


def test_the_previous_period_is_as_long_and_ends_the_day_before(hub):
    merchant_id = new_merchant(hub)
    report = run_report(hub, merchant_id, "participation", date(2026, 3, 1), date(2026, 3, 31),
                        now=NOW)  # fmt: skip
    assert report["previous_period"]["from"] == "2026-01-29"
    assert report["previous_period"]["to"] == "2026-02-28"


def test_rewards_messages_and_roi_count_a_redemption_its_voucher_and_a_message(hub):
    merchant_id = new_merchant(hub)
    with hub.db.transaction() as session:
        member = create_member(session, merchant_id, {"phone": "0913000001", "name": "Mai"})
        adjust_points(hub, session, member, 500, reason="welcome", actor="test")
        reward = create_reward(
            session, merchant_id,
            {"name": "Giảm 20.000đ", "kind": "amount_off", "value": Decimal(20000),
             "points_cost": 100},
            actor="test",
        )  # fmt: skip
        code = redeem(hub, session, member, reward, actor="test").voucher.code
        the_order = make_order("V1", 180_000, phone="0913000001", placed_at=utcnow())
        placed = record_order(hub, session, merchant_id, the_order, source="shop").order
        use_voucher(session, merchant_id, code, order_id=placed.id, order_total=Decimal(180_000))
        session.add(Message(merchant_id=merchant_id, member_id=member.id, kind="points_earned",
                            dedupe_key="m1", status="delivered", locale="vi", channel="sms",
                            cost=Decimal(300), cost_currency="VND"))  # fmt: skip
    rewards = run_report(hub, merchant_id, "rewards")["totals"]
    assert (rewards["vouchers_issued"], rewards["vouchers_used"]) == (1, 1)
    assert rewards["points_redeemed"] == 100 and rewards["usage_rate"] == "1.0000"
    assert rewards["rewards_cost"] == "20000"
    assert rewards["by_reward"] == [{"reward": "Giảm 20.000đ", "vouchers": 1, "points": 100}]
    messages = run_report(hub, merchant_id, "messages")["totals"]
    assert (messages["sent"], messages["delivered"], messages["cost"]) == (1, 1, "300")
    roi = run_report(hub, merchant_id, "roi")["totals"]
    assert roi["attributed_orders"] == 1 and roi["attributed_revenue"] == "180000"
    assert roi["cost"] == "20300"
    assert roi["roi"] == str(((Decimal(180000) - 20300) / 20300).quantize(Decimal("0.0001")))
    points = run_report(hub, merchant_id, "points")["totals"]
    assert points["redeemed"] == 100
    assert points["point_value"] == "200.0000"  # 20,000 for 100 points
    assert points["liability"] == str(Decimal(points["outstanding"]) * 200) + ".00"


def test_the_tiers_report_counts_members_per_tier_and_upgrades(hub):
    merchant_id = new_merchant(hub)
    with hub.db.transaction() as session:
        create_tier(session, merchant_id, {"name": "Vàng", "threshold": Decimal(100_000)},
                    actor="test")  # fmt: skip
        record_order(hub, session, merchant_id, make_order("T1", 150_000, phone="0913000002",
                     placed_at=utcnow()), source="shop")  # fmt: skip
    tiers = run_report(hub, merchant_id, "tiers")["totals"]
    assert tiers["members_by_tier"] == {"Vàng": 1}
    assert (tiers["upgrades"], tiers["downgrades"]) == (1, 0)


def _hanoi(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text).replace(tzinfo=HANOI)


def test_cohorts_and_predictive_lifetime_value_by_hand(hub):
    merchant_id = new_merchant(hub)
    joined = {"A": "2026-01-10 09:00", "B": "2026-01-31 23:30", "C": "2026-02-01 00:30",
              "D": "2026-03-05 10:00", "E": "2024-12-01 10:00"}  # fmt: skip
    orders = [("A", "2025-01-10 10:00", 100_000), ("E", "2025-02-01 10:00", 50_000),
              ("A", "2026-01-15 10:00", 100_000), ("A", "2026-03-02 10:00", 200_000),
              ("B", "2026-02-01 00:10", 300_000), ("C", "2026-02-20 10:00", 400_000)]  # fmt: skip
    phones = {name: f"09140000{n:02d}" for n, name in enumerate(joined)}
    with hub.db.transaction() as session:
        for name, at in joined.items():
            member = create_member(session, merchant_id, {"phone": phones[name], "name": name})
            member.created_at = _hanoi(at)
    for n, (name, at, total) in enumerate(orders):
        with hub.db.transaction() as session:
            record_order(hub, session, merchant_id, make_order(f"H{n}", total, phone=phones[name],
                         placed_at=_hanoi(at)), source="shop", now=_hanoi(at))  # fmt: skip
    report = run_report(hub, merchant_id, "customers", date(2026, 1, 1), date(2026, 3, 31),
                        now=_hanoi("2026-04-01 09:00"))  # fmt: skip
    # B joined at 23:30 on 31 January in Hanoi (January's cohort) and bought at 00:10 on
    # 1 February; C joined at 00:30 on 1 February: February's cohort.
    assert report["cohorts"] == [
        {"cohort": "2026-01", "members": 2, "retention": ["0.5000", "0.5000", "0.5000"]},
        {"cohort": "2026-02", "members": 1, "retention": ["1.0000", "0.0000"]},
        {"cohort": "2026-03", "members": 1, "retention": ["0.0000"]},
    ]
    totals = report["totals"]
    # The last 12 months: four orders of 1,000,000 in all from A, B and C; the 12 months
    # before: A and E, of whom A bought again. Expected years 1 / (1 - 0.5) = 2.
    assert totals["average_order_value"] == "250000.0000"
    assert totals["orders_per_year"] == "1.3333"
    assert totals["retention"] == "0.5000"
    assert totals["predictive_clv"] == "666650.00"  # 250,000 x 1.3333 x 2
    assert totals["repeat_rate"] == "0.3333"  # A bought twice in the period, B and C once


def _move(hub, merchant_id: int, phone: str, tier_name: str | None, at) -> None:
    """Put the member in ``tier_name`` (None: in no tier) at ``at``, as tier reviews do."""
    from hub.models import MemberTier
    from hub.models import Tier
    from hub.tiers.membership import change_tier

    e164 = "+84" + phone[1:]
    with hub.db.transaction() as session:
        member = session.scalar(
            select(Member).where(Member.merchant_id == merchant_id, Member.phone == e164)
        )
        if member is None:
            member = create_member(session, merchant_id, {"phone": phone})
        period = session.scalar(
            select(MemberTier).where(
                MemberTier.member_id == member.id, MemberTier.ended_at.is_(None)
            )
        )
        target = None
        if tier_name is not None:
            target = session.scalar(
                select(Tier).where(Tier.merchant_id == merchant_id, Tier.name == tier_name)
            )
        change_tier(session, member, period, target, reason="review", now=at)


def test_members_per_tier_at_each_months_end_and_the_moves_of_each_month(hub):
    merchant_id = new_merchant(hub, ladder=True)  # Bạc below Vàng
    _move(hub, merchant_id, "0915000001", "Bạc", _hanoi("2026-01-10 09:00"))
    _move(hub, merchant_id, "0915000002", "Vàng", _hanoi("2026-01-31 23:30"))
    _move(hub, merchant_id, "0915000001", "Vàng", _hanoi("2026-02-05 10:00"))
    _move(hub, merchant_id, "0915000002", "Bạc", _hanoi("2026-02-10 10:00"))
    _move(hub, merchant_id, "0915000002", None, _hanoi("2026-03-01 00:00"))

    report = run_report(hub, merchant_id, "tiers", date(2026, 1, 1), date(2026, 3, 31))

    assert [(m["month"], m["members_by_tier"], m["upgrades"], m["downgrades"])
            for m in report["series"]] == [
        ("2026-01", {"Bạc": 1, "Vàng": 1}, 2, 0),
        ("2026-02", {"Bạc": 1, "Vàng": 1}, 1, 1),
        ("2026-03", {"Vàng": 1}, 0, 1),
    ]  # fmt: skip
    assert report["totals"]["members_by_tier"] == {"Vàng": 1}
    assert (report["totals"]["upgrades"], report["totals"]["downgrades"]) == (3, 2)
    february = run_report(hub, merchant_id, "tiers", date(2026, 2, 1), date(2026, 2, 9))
    assert february["totals"]["members_by_tier"] == {"Vàng": 2}
