"""Refunds take back points in proportion, once each, whatever order events arrive in."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from points_fixtures import record
from points_fixtures import refund
from points_fixtures import spent
from sqlalchemy import select

from hub.errors import ValidationError
from hub.models import Member
from hub.models import OrderRefund
from hub.models import PointEntry


def reversals(hub, mid):
    with hub.db.session() as session:
        return list(
            session.scalars(
                select(PointEntry)
                .where(PointEntry.member_id == mid, PointEntry.kind == "reverse")
                .order_by(PointEntry.id)
            )
        )


def test_partial_refund_takes_back_its_share(hub, merchant, recorded_events):
    record(hub, merchant.id, order(total="1000000"))

    refund(hub, merchant.id, "1001", "r1", "250000")

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 750
    assert spent(hub, mid) == Decimal(750000)
    (entry,) = reversals(hub, mid)
    assert (entry.rule, entry.points) == ("refund", -250)
    assert entry.key == f"order:{entry.order_id}:refund:r1"
    assert "points.reversed" in recorded_events.types()
    assert_invariants(hub, mid)


def test_several_refunds_in_a_row_add_up_and_never_exceed_what_was_earned(hub, merchant):
    record(hub, merchant.id, order(total="1000000"))
    mid = member_id(hub, merchant.id)

    refund(hub, merchant.id, "1001", "r1", "333333")
    refund(hub, merchant.id, "1001", "r2", "333333")
    assert points(hub, mid).total == 1000 - 667

    refund(hub, merchant.id, "1001", "r3", "333334")
    refund(hub, merchant.id, "1001", "r4", "500000")  # more than was paid

    assert points(hub, mid).total == 0
    assert sum(e.points for e in reversals(hub, mid)) == -1000
    assert spent(hub, mid) == 0
    assert_invariants(hub, mid)


def test_replayed_refund_takes_back_nothing_more(hub, merchant):
    record(hub, merchant.id, order(total="1000000"))

    first = refund(hub, merchant.id, "1001", "r1", "100000")
    again = refund(hub, merchant.id, "1001", "r1", "100000")

    assert first.created and not again.created
    assert points(hub, member_id(hub, merchant.id)).total == 900


def test_refund_before_paid_is_kept_and_applied_when_paid_arrives(hub, merchant):
    record(hub, merchant.id, order(total="1000000", status="pending"))
    stored = refund(hub, merchant.id, "1001", "r1", "400000")
    assert stored.refund.applied_at is None

    record(hub, merchant.id, order(total="1000000", status="paid"))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 600
    assert spent(hub, mid) == Decimal(600000)
    assert_invariants(hub, mid)


def test_refund_before_the_order_itself_is_attached_when_the_order_comes(hub, merchant):
    stored = refund(hub, merchant.id, "1001", "r1", "400000")
    assert stored.refund.order_id is None

    row = record(hub, merchant.id, order(total="1000000"))

    assert points(hub, member_id(hub, merchant.id)).total == 600
    with hub.db.session() as session:
        assert session.get(OrderRefund, stored.refund.id).order_id == row.id


def test_refunded_status_without_amounts_reverses_everything(hub, merchant):
    record(hub, merchant.id, order(total="1000000"))
    refund(hub, merchant.id, "1001", "r1", "100000")

    record(hub, merchant.id, order(total="1000000", status="refunded"))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 0
    assert spent(hub, mid) == 0
    refund(hub, merchant.id, "1001", "r2", "900000")  # the store's record, late
    assert points(hub, mid).total == 0
    assert_invariants(hub, mid)


def test_refund_of_a_cancelled_order_changes_nothing(hub, merchant):
    record(hub, merchant.id, order(total="1000000"))
    record(hub, merchant.id, order(total="1000000", cancelled_at=T0 + timedelta(days=1)))

    refund(hub, merchant.id, "1001", "r1", "1000000")

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 0
    assert [e.rule for e in reversals(hub, mid)] == ["cancel"]


def test_refund_in_another_currency_than_its_order_is_refused(hub, merchant):
    record(hub, merchant.id, order(total="1000000"))

    with pytest.raises(ValidationError) as caught:
        refund(hub, merchant.id, "1001", "r1", "10", currency="USD")
    assert caught.value.details == {"currency": ["must be VND"]}


def test_refund_of_nothing_is_refused(hub, merchant):
    with pytest.raises(ValidationError):
        refund(hub, merchant.id, "1001", "r1", "0")


def test_refund_takes_back_the_orders_own_lot_first(hub, merchant):
    from hub.points import ledger

    record(hub, merchant.id, order("a", total="100000"), now=T0)
    record(hub, merchant.id, order("b", total="200000"), now=T0)
    mid = member_id(hub, merchant.id)

    refund(hub, merchant.id, "b", "r1", "200000")

    with hub.db.session() as session:
        lots = session.scalars(
            select(ledger.PointLot).where(ledger.PointLot.member_id == mid).order_by("id")
        ).all()
    assert [(lot.points, lot.remaining) for lot in lots] == [(100, 100), (200, 0)]


EVENTS = ("paid", "refund_1", "refund_2", "cancel", "paid_again")


def apply(hub, merchant_id, event):
    if event in ("paid", "paid_again"):
        record(hub, merchant_id, order(total="1000000"))
    elif event == "cancel":
        record(hub, merchant_id, order(total="1000000", cancelled_at=T0 + timedelta(days=3)))
    else:
        refund(hub, merchant_id, "1001", event, "300000")


@pytest.mark.parametrize(
    "events",
    [
        ("paid", "refund_1", "refund_2"),
        ("paid", "refund_1", "refund_2", "paid_again"),
        ("paid", "refund_1", "cancel"),
    ],
)
def test_any_arrival_order_ends_in_the_balance_of_the_right_order(hub, merchant, events):
    # Given the balance each permutation of the same deliveries ends in
    outcomes = set()
    for shuffled in itertools.permutations(events):
        with hub.db.transaction() as session:
            from hub.merchants.accounts import create_merchant

            other = create_merchant(session, "permutation").id
        for event in shuffled:
            apply(hub, other, event)
        mid = member_id(hub, other)
        assert_invariants(hub, mid)
        with hub.db.session() as session:
            member = session.get(Member, mid)
            outcomes.add((member.points_balance, member.total_spent))
    # Then every permutation ends in the same place as the right order
    for event in events:
        apply(hub, merchant.id, event)
    with hub.db.session() as session:
        member = session.get(Member, member_id(hub, merchant.id))
        right = (member.points_balance, member.total_spent)
    assert outcomes == {right}


# -- API ---------------------------------------------------------------------------


def test_refund_through_the_api_answers_201_then_200(api, hub, merchant):
    order_row = record(hub, merchant.id, order(total="1000000"), source="pos")

    body = {"external_id": "R-1", "amount": "500000", "note": "returned one item"}
    created = api.post(f"/api/v1/orders/{order_row.id}/refunds", json=body)
    replay = api.post(f"/api/v1/orders/{order_row.id}/refunds", json=body)
    listed = api.get(f"/api/v1/orders/{order_row.id}/refunds")

    assert created.status_code == 201, created.json
    assert created.json["points_reversed"] == 500
    assert created.json["currency"] == "VND"
    assert replay.status_code == 200
    assert [r["external_id"] for r in listed.json] == ["R-1"]
    assert points(hub, member_id(hub, merchant.id)).total == 500


def test_refund_api_refuses_bad_amounts_and_other_merchants_orders(api, other_api, hub, merchant):
    order_row = record(hub, merchant.id, order(total="1000000"))

    bad = api.post(
        f"/api/v1/orders/{order_row.id}/refunds", json={"external_id": "x", "amount": -1}
    )
    foreign = other_api.post(
        f"/api/v1/orders/{order_row.id}/refunds", json={"external_id": "x", "amount": "1"}
    )

    assert bad.status_code == 422
    assert foreign.status_code == 404
