"""An order's points follow its life: paid, paid again, cancelled, updated late."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from points_fixtures import record
from points_fixtures import settings
from points_fixtures import spent
from sqlalchemy import select

from hub.models import OrderAccrual
from hub.models import PointEntry


def entries(hub, mid):
    with hub.db.session() as session:
        return list(
            session.scalars(
                select(PointEntry).where(PointEntry.member_id == mid).order_by(PointEntry.id)
            )
        )


def test_paid_order_earns_one_point_per_thousand_by_default(hub, merchant):
    record(hub, merchant.id, order(total="250999"))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).available == 250
    (entry,) = entries(hub, mid)
    assert entry.kind == "earn" and entry.rule == "base" and entry.points == 250
    assert entry.key == f"order:{entry.order_id}:earn:base"
    assert "250,999 VND at 1 point per 1,000 VND (floor)" in entry.note
    assert entry.program_version == 0
    assert spent(hub, mid) == Decimal("250999")
    assert_invariants(hub, mid)


def test_duplicate_paid_delivery_awards_points_once(hub, merchant):
    record(hub, merchant.id, order())
    record(hub, merchant.id, order())
    record(hub, merchant.id, order(paid_at=T0 + timedelta(minutes=5)))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 250
    assert len(entries(hub, mid)) == 1
    assert spent(hub, mid) == Decimal(250000)


def test_unpaid_order_earns_nothing_until_it_is_paid(hub, merchant):
    record(hub, merchant.id, order(status="pending"))
    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 0
    assert spent(hub, mid) == 0

    record(hub, merchant.id, order(status="paid", paid_at=T0 + timedelta(hours=1)))

    assert points(hub, mid).total == 250
    assert spent(hub, mid) == Decimal(250000)


def test_paid_at_alone_counts_as_paid(hub, merchant):
    record(hub, merchant.id, order(status="partially_paid", paid_at=T0))

    assert points(hub, member_id(hub, merchant.id)).total == 250


def test_order_without_member_earns_nothing_and_fails_nothing(hub, merchant):
    recorded = record(hub, merchant.id, order(phone=None))

    with hub.db.session() as session:
        assert session.scalars(select(OrderAccrual)).first() is None
    assert recorded.member_id is None


def test_cancelled_order_reverses_everything_it_earned(hub, merchant, recorded_events):
    record(hub, merchant.id, order())
    record(hub, merchant.id, order(cancelled_at=T0 + timedelta(days=1)))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid) == points(hub, mid).__class__(available=0, pending=0, total=0)
    assert spent(hub, mid) == 0
    reverse = entries(hub, mid)[-1]
    assert (reverse.kind, reverse.rule, reverse.points) == ("reverse", "cancel", -250)
    assert reverse.key.endswith(":cancel")
    assert recorded_events.types().count("points.reversed") == 1
    assert_invariants(hub, mid)


def test_voided_status_counts_as_cancelled(hub, merchant):
    record(hub, merchant.id, order())
    record(hub, merchant.id, order(status="voided"))

    assert points(hub, member_id(hub, merchant.id)).total == 0


def test_cancellation_after_the_points_were_spent_leaves_a_debt(hub, merchant):
    from hub.models import Member
    from hub.points import ledger

    record(hub, merchant.id, order())
    mid = member_id(hub, merchant.id)
    with hub.db.transaction() as session:
        ledger.debit(session, session.get(Member, mid), 200, kind="redeem", key="r1")

    record(hub, merchant.id, order(cancelled_at=T0 + timedelta(days=1)))

    assert points(hub, mid).total == -200
    assert points(hub, mid).available == 0
    assert_invariants(hub, mid)

    record(hub, merchant.id, order("1002", total="300000"))

    assert points(hub, mid).total == 100
    assert points(hub, mid).available == 100
    assert_invariants(hub, mid)


def test_cancelled_before_paid_never_earns_even_if_paid_arrives_late(hub, merchant):
    record(hub, merchant.id, order(status="pending", cancelled_at=T0 + timedelta(hours=2)))
    record(hub, merchant.id, order(status="paid", paid_at=T0 + timedelta(hours=1)))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 0
    assert entries(hub, mid) == []
    assert spent(hub, mid) == 0


def test_update_after_cancellation_changes_nothing(hub, merchant):
    record(hub, merchant.id, order())
    record(hub, merchant.id, order(cancelled_at=T0 + timedelta(days=1)))
    record(hub, merchant.id, order(total="260000"))  # a late, older delivery

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 0
    assert len(entries(hub, mid)) == 2
    assert spent(hub, mid) == 0


def test_events_say_what_was_earned_and_by_which_rule(hub, merchant, recorded_events):
    record(hub, merchant.id, order())

    (earned,) = [e for e in recorded_events.events if e.type == "points.earned"]
    assert earned.data["points"] == 250
    assert earned.data["awards"][0]["rule"] == "base"
    assert earned.data["balance"] == 250
    assert earned.data["program_version"] == 0


def test_the_version_in_force_when_the_order_was_placed_decides(hub, merchant):
    settings(hub, merchant.id, {"earn_rate": {"amount": "1000"}}, now=T0 - timedelta(days=10))
    settings(hub, merchant.id, {"earn_rate": {"amount": "500"}}, now=T0 + timedelta(days=1))

    record(hub, merchant.id, order("old", placed_at=T0))
    record(hub, merchant.id, order("new", placed_at=T0 + timedelta(days=2)))

    mid = member_id(hub, merchant.id)
    by_order = {e.points: e.program_version for e in entries(hub, mid)}
    assert by_order == {250: 1, 500: 2}


def test_orders_placed_before_the_first_version_use_it(hub, merchant):
    settings(hub, merchant.id, {"earn_rate": {"amount": "100"}}, now=T0 + timedelta(days=1))

    record(hub, merchant.id, order(placed_at=T0))

    assert points(hub, member_id(hub, merchant.id)).total == 2500


def test_pending_days_hold_points_before_they_can_be_spent(hub, merchant):
    settings(hub, merchant.id, {"pending_days": 14})
    record(hub, merchant.id, order(), now=T0)
    mid = member_id(hub, merchant.id)

    assert points(hub, mid, at=T0 + timedelta(days=13)).pending == 250
    assert points(hub, mid, at=T0 + timedelta(days=13)).available == 0
    assert points(hub, mid, at=T0 + timedelta(days=14)).available == 250


def test_points_expire_as_the_program_says(hub, merchant):
    settings(hub, merchant.id, {"expiry": {"policy": "days", "days": 365}})
    record(hub, merchant.id, order(), now=T0)
    mid = member_id(hub, merchant.id)

    assert points(hub, mid, at=T0 + timedelta(days=364)).available == 250
    assert points(hub, mid, at=T0 + timedelta(days=365)).available == 0


def test_merged_members_keep_their_orders_points_reversible(hub, merchant):
    from hub.members.merges import merge_members

    record(hub, merchant.id, order("a", phone="0911111111"))
    record(hub, merchant.id, order("b", phone="0922222222"))
    first = member_id(hub, merchant.id, "+84911111111")
    second = member_id(hub, merchant.id, "+84922222222")
    with hub.db.transaction() as session:
        merge_members(hub, session, merchant.id, first, second, actor="test")

    record(hub, merchant.id, order("b", phone="0922222222", cancelled_at=T0 + timedelta(days=1)))

    assert points(hub, first).total == 250
    assert spent(hub, first) == Decimal(250000)
    assert_invariants(hub, first)
    assert_invariants(hub, second)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ({"status": "paid"}, {"status": "paid"}, 250),
        ({"status": "paid"}, {"status": "voided", "cancelled_at": T0 + timedelta(hours=1)}, 0),
    ],
)
def test_concurrent_deliveries_of_one_order_end_as_the_right_order_would(
    hub, merchant, first, second, expected
):
    record(hub, merchant.id, order(status="pending"))
    barrier = threading.Barrier(2)
    errors = []

    def deliver(changes):
        barrier.wait()
        try:
            record(hub, merchant.id, order(**changes))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    mid = member_id(hub, merchant.id)
    assert errors == []
    assert points(hub, mid).total == expected
    assert spent(hub, mid) == Decimal(expected * 1000)
    assert_invariants(hub, mid)


def test_orders_of_one_member_recorded_at_once_all_earn_without_a_deadlock(hub, merchant):
    # Each order's row refers to the member (a key-share lock on PostgreSQL) before the
    # points take the member's row lock: the lock order must still let every one through.
    record(hub, merchant.id, order("first", status="pending"))
    barrier = threading.Barrier(6)
    errors = []

    def deliver(n):
        barrier.wait()
        try:
            record(hub, merchant.id, order(f"at-once-{n}", total=100_000 * (n + 1)))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    mid = member_id(hub, merchant.id)
    assert errors == []
    assert points(hub, mid).total == sum(100 * (n + 1) for n in range(6))
    assert spent(hub, mid) == Decimal(sum(100_000 * (n + 1) for n in range(6)))
    assert_invariants(hub, mid)
