"""A delivery older than the one applied before it (by the store's updated_at) changes nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from points_fixtures import T0
from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from sqlalchemy import select

from hub.models import EventRecord
from hub.models import Order
from hub.orders.batches import record_order
from hub.orders.batches import record_orders


def stamped(status: str, minutes: int | None, total: int = 300000):
    at = None if minutes is None else T0 + timedelta(minutes=minutes)
    return dataclasses.replace(order("S-1", total, status=status), updated_at=at)


def state(hub, merchant_id):
    with hub.db.session() as session:
        row = session.scalars(select(Order).where(Order.merchant_id == merchant_id)).one()
        updates = session.scalars(
            select(EventRecord.type).where(
                EventRecord.merchant_id == merchant_id, EventRecord.type == "order.updated"
            )
        ).all()
        return row.financial_status, row.total, row.source_updated_at, len(updates)


def record(hub, merchant_id, the_order):
    with hub.db.transaction() as session:
        record_order(hub, session, merchant_id, the_order, source="shop", now=T0)


def test_an_older_delivery_after_a_newer_one_changes_nothing(hub, merchant):
    record(hub, merchant.id, stamped("paid", 1))
    record(hub, merchant.id, stamped("partially_refunded", 10, total=250000))
    # The paid delivery of minute 5 arrives late: the order stays as minute 10 left it.
    record(hub, merchant.id, stamped("paid", 5))
    assert state(hub, merchant.id) == (
        "partially_refunded", 250000, T0 + timedelta(minutes=10), 1,
    )  # fmt: skip
    assert points(hub, member_id(hub, merchant.id), at=T0).total == 300


def test_a_newer_or_unstamped_delivery_applies(hub, merchant):
    record(hub, merchant.id, stamped("pending", 1))
    record(hub, merchant.id, stamped("paid", 2))
    assert state(hub, merchant.id)[0] == "paid"
    # A store that sends no updated_at is applied as it comes, as before.
    record(hub, merchant.id, stamped("partially_refunded", None))
    status, _, seen, updates = state(hub, merchant.id)
    assert (status, seen, updates) == ("partially_refunded", T0 + timedelta(minutes=2), 2)


def test_a_batch_keeps_the_newest_delivery_of_an_order(hub, merchant):
    with hub.db.transaction() as session:
        record_orders(
            hub,
            session,
            merchant.id,
            [stamped("partially_refunded", 10, total=250000), stamped("paid", 5)],
            source="shop",
            now=T0,
        )
    assert state(hub, merchant.id)[:3] == (
        "partially_refunded", 250000, T0 + timedelta(minutes=10),
    )  # fmt: skip
