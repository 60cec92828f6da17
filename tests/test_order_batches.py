"""record_orders ends where record_order one order at a time ends: same rows, points, events."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import line
from points_fixtures import order
from points_fixtures import refund
from points_fixtures import settings
from sqlalchemy import select

from hub.canonical import Customer
from hub.errors import ValidationError
from hub.members.directory import create_member
from hub.models import EventRecord
from hub.models import Member
from hub.models import MemberTier
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import PointEntry
from hub.models import PointLot
from hub.orders.batches import record_order
from hub.orders.batches import record_orders
from hub.points import ledger
from hub.testing import create_test_merchant
from hub.tiers.ladder import create_tier

PHONES = [f"09{n:08d}" for n in range(1, 7)]


def the_batch() -> list:
    """Orders that exercise every branch: repeat customers, a first-order bonus, a tier
    reached half-way, a member in debt, no customer, unpaid, cancelled, an email-only
    customer, the same order twice in the batch, and an order whose refund came first."""
    at = [T0 + timedelta(minutes=i) for i in range(30)]
    orders = [
        order("o1", 300000, phone=PHONES[0], placed_at=at[0]),
        order("o2", 2000000, phone=PHONES[1], placed_at=at[1]),
        order("o3", 150000, phone=PHONES[0], placed_at=at[2]),  # the same member again
        order("o4", 99000, phone=None, placed_at=at[3]),  # nobody to credit
        order("o5", 500000, phone=PHONES[2], status="pending", placed_at=at[4]),
        order("o6", 400000, phone=PHONES[3], placed_at=at[5], cancelled_at=at[6]),
        order("o7", 800000, phone=PHONES[4], placed_at=at[7]),  # owes 100 points
        order("o8", 600000, phone=PHONES[1], placed_at=at[8]),  # now in the tier: x2
        order("o9", 250000, phone=PHONES[0], placed_at=at[9], lines=(line(250000, sku="B"),)),
        order("w1", 700000, phone=PHONES[5], placed_at=at[10]),  # its refund came first
        order("o2", 2000000, phone=PHONES[1], status="partially_refunded", placed_at=at[1]),
    ]
    email_only = dataclasses.replace(
        order("o10", 320000, phone=None, placed_at=at[11]),
        customer=Customer(email="Mai@Example.com", name="Mai"),
    )
    return [*orders, email_only]


def set_up(hub) -> int:
    merchant_id = create_test_merchant(hub).id
    settings(
        hub,
        merchant_id,
        {
            "rules": {
                "first_order": {"points": 200},
                "product_bonus": {"items": [{"sku": "B", "points": 50}]},
            }
        },
    )
    with hub.db.transaction() as session:
        create_tier(
            session,
            merchant_id,
            {"name": "Vàng", "threshold": 1000, "earn_multiplier": "2"},
            actor="test",
        )
        debtor = create_member(session, merchant_id, {"phone": PHONES[4], "name": "Nợ"})
        ledger.debit(session, debtor, 100, kind="adjust", key="debt", note="debt", allow_debt=True)
    refund(hub, merchant_id, "w1", "r1", 350000)
    return merchant_id


def state(hub, merchant_id: int) -> dict:
    """Everything record_order writes, with ids replaced by what names them."""
    with hub.db.session() as session:
        members = {
            m.id: m.phone or m.email
            for m in session.scalars(select(Member).where(Member.merchant_id == merchant_id))
        }
        orders = {
            o.id: o.external_id
            for o in session.scalars(select(Order).where(Order.merchant_id == merchant_id))
        }

        def name(key: str) -> str:
            parts = key.split(":")
            if parts[0] == "order":
                parts[1] = orders[int(parts[1])]
            return ":".join(parts)

        return {
            "members": sorted(
                (members[m.id], m.points_balance, m.total_spent)
                for m in session.scalars(select(Member).where(Member.merchant_id == merchant_id))
            ),
            "orders": sorted(
                (o.external_id, members.get(o.member_id), o.financial_status, o.total)
                for o in session.scalars(select(Order).where(Order.merchant_id == merchant_id))
            ),
            "entries": sorted(
                (members[e.member_id], e.kind, e.points, e.rule or "", name(e.key), e.note)
                for e in session.scalars(
                    select(PointEntry).where(PointEntry.merchant_id == merchant_id)
                )
            ),
            "lots": sorted(
                (members[lot.member_id], lot.points, lot.remaining, lot.expires_at is None)
                for lot in session.scalars(
                    select(PointLot).where(PointLot.merchant_id == merchant_id)
                )
            ),
            "accruals": sorted(
                (orders[a.order_id], a.earned, a.reversed, a.base, a.spent, a.cancelled)
                for a in session.scalars(
                    select(OrderAccrual).where(OrderAccrual.merchant_id == merchant_id)
                )
            ),
            "tiers": sorted(
                (members[t.member_id], t.tier_name, t.ended_at is None)
                for t in session.scalars(
                    select(MemberTier).where(MemberTier.merchant_id == merchant_id)
                )
            ),
            "events": Counter(
                session.scalars(
                    select(EventRecord.type).where(EventRecord.merchant_id == merchant_id)
                )
            ),
        }, list(members)


def test_a_batch_ends_where_one_order_at_a_time_ends(hub):
    now = T0 + timedelta(hours=1)
    one_by_one = set_up(hub)
    for each in the_batch():
        with hub.db.transaction() as session:
            record_order(hub, session, one_by_one, each, source="shop", now=now)
    batched = set_up(hub)
    with hub.db.transaction() as session:
        ids = record_orders(hub, session, batched, the_batch(), source="shop", now=now)
    expected, _ = state(hub, one_by_one)
    got, member_ids = state(hub, batched)
    assert got == expected
    assert len(ids) == len(the_batch())
    # What the batch must have exercised, so the comparison above means something.
    bonuses = [e for e in got["entries"] if e[3] == "first_order"]
    assert [e[4] for e in bonuses if e[0] == "+84900000001"] == ["order:o1:earn:first_order"]
    assert any(e[3] == "tier_multiplier" for e in got["entries"])
    assert any(e[3] == "product_bonus" for e in got["entries"])
    assert any(e[1] == "reverse" and "w1" in e[4] for e in got["entries"])
    for member_id in member_ids:
        assert_invariants(hub, member_id)


def test_a_batch_recorded_twice_changes_nothing(hub):
    merchant_id = set_up(hub)
    with hub.db.transaction() as session:
        first = record_orders(hub, session, merchant_id, the_batch(), source="shop")
    before, _ = state(hub, merchant_id)
    with hub.db.transaction() as session:
        again = record_orders(hub, session, merchant_id, the_batch(), source="shop")
    after, _ = state(hub, merchant_id)
    assert again == first
    # No point, lot, accrual or member moves. The batch sends o2 twice (paid, then
    # partially refunded), so its status goes back and forth once more, as it would
    # one order at a time: two order.updated events and nothing else.
    events_before, events_after = before.pop("events"), after.pop("events")
    assert after == before
    assert events_after - events_before == Counter({"order.updated": 2})


def test_a_bad_order_in_a_batch_writes_nothing(hub):
    merchant_id = set_up(hub)
    bad = order("bad", 100000, status="lost")
    with (
        pytest.raises(ValidationError, match="financial status"),
        hub.db.transaction() as session,
    ):
        record_orders(hub, session, merchant_id, [order("good", 100000), bad], source="shop")
    with hub.db.session() as session:
        assert session.scalars(select(Order).where(Order.merchant_id == merchant_id)).all() == []


def test_members_new_to_the_batch_are_created_once(hub):
    merchant_id = create_test_merchant(hub).id
    batch = [order(f"n{i}", 100000 + i, phone="0987000111") for i in range(3)]
    with hub.db.transaction() as session:
        record_orders(hub, session, merchant_id, batch, source="shop")
    with hub.db.session() as session:
        members = session.scalars(select(Member).where(Member.merchant_id == merchant_id)).all()
        assert len(members) == 1
        assert members[0].points_balance == 100 * 3
        assert members[0].total_spent == Decimal(300003)
        assert_invariants(hub, members[0].id)


def _store_batch() -> list:
    """Orders from a store: customers with the store's ids, new and known, some twice."""

    def by(n: int, customer_id: str, phone: str | None, email: str | None = None):
        return dataclasses.replace(
            order(f"s{n}", 100000 * (n + 1), phone=None, placed_at=T0 + timedelta(minutes=n)),
            customer=Customer(external_id=customer_id, phone=phone, email=email, name="Khách"),
        )

    return [
        by(0, "c-new", "0987000001"),
        by(1, "c-new", "0987000001"),  # the member just created, found again
        by(2, "c-linked", "0987000099"),  # known by the store's id, phone changed
        by(3, "c-phone", "0987000002"),  # a member by phone, not yet linked
        by(4, "c-mail", None, "an@example.vn"),  # by email only
        by(5, "c-other", "0987000003"),
    ]


def _store_set_up(hub) -> tuple[int, int]:
    from hub.members.directory import add_identity
    from hub.merchants.connections import create_connection

    merchant_id = create_test_merchant(hub).id
    with hub.db.transaction() as session:
        connection_id = create_connection(hub, session, merchant_id, connector="custom").id
        linked = create_member(session, merchant_id, {"phone": "0987000050", "name": "Cũ"})
        add_identity(session, linked, connection_id, "c-linked")
        create_member(session, merchant_id, {"phone": "0987000002", "name": "Theo số"})
    return merchant_id, connection_id


def _identities(hub, merchant_id: int) -> list:
    from hub.models import MemberIdentity

    with hub.db.session() as session:
        return sorted(
            (i.external_id, session.get(Member, i.member_id).phone or "")
            for i in session.scalars(
                select(MemberIdentity).where(MemberIdentity.merchant_id == merchant_id)
            )
        )


def test_store_customers_are_matched_linked_and_created_as_one_at_a_time_does(hub):
    one_by_one, connection = _store_set_up(hub)
    for each in _store_batch():
        with hub.db.transaction() as session:
            record_order(hub, session, one_by_one, each, connection_id=connection, now=T0)
    batched, connection = _store_set_up(hub)
    with hub.db.transaction() as session:
        record_orders(hub, session, batched, _store_batch(), connection_id=connection, now=T0)
    assert state(hub, batched)[0] == state(hub, one_by_one)[0]
    assert _identities(hub, batched) == _identities(hub, one_by_one)
    assert ("c-linked", "+84987000050") in _identities(hub, batched)


def test_a_batch_of_new_customers_looks_members_up_once_not_per_customer(hub):
    from sqlalchemy import event

    merchant_id, connection = _store_set_up(hub)
    batch = [
        dataclasses.replace(
            order(f"b{n}", 100000, phone=None),
            customer=Customer(external_id=f"c{n}", phone=f"0988{n:06d}", name="Khách"),
        )
        for n in range(20)
    ]
    lookups = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        flat = " ".join(statement.split())
        if flat.startswith("SELECT") and (
            "members.phone" in flat.split("WHERE")[-1]
            or "member_identities.external_id" in flat.split("WHERE")[-1]
        ):
            lookups.append(flat)

    event.listen(hub.db.engine, "before_cursor_execute", count)
    try:
        with hub.db.transaction() as session:
            record_orders(hub, session, merchant_id, batch, connection_id=connection, now=T0)
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", count)
    assert len(lookups) == 2, lookups  # one by phone and one by the store's id, for all 20
    assert len(_identities(hub, merchant_id)) == 1 + 20


def test_two_batches_creating_one_customers_member_at_once_both_find_it(hub):
    import threading
    import time

    if hub.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: two batches never overlap")
    merchant_id, connection = _store_set_up(hub)

    def bought(n: int):
        return dataclasses.replace(
            order(f"r{n}", 100000, phone=None, placed_at=T0 + timedelta(minutes=n)),
            customer=Customer(external_id="c-both", phone="0987000777", name="Hai nơi"),
        )

    errors = []

    def second_batch() -> None:
        try:
            with hub.db.transaction() as session:
                record_orders(hub, session, merchant_id, [bought(2)], connection_id=connection)
        except Exception as exc:  # the test fails below with it
            errors.append(exc)

    with hub.db.transaction() as session:
        record_orders(hub, session, merchant_id, [bought(1)], connection_id=connection)
        other = threading.Thread(target=second_batch)
        other.start()
        time.sleep(0.5)  # the second batch now waits on this one's new member
    other.join(30)

    assert errors == []
    with hub.db.session() as session:
        members = session.scalars(
            select(Member).where(Member.merchant_id == merchant_id, Member.phone == "+84987000777")
        ).all()
        assert len(members) == 1 and members[0].points_balance == 200
        owners = session.scalars(
            select(Order.member_id).where(Order.external_id.in_(["r1", "r2"]))
        ).all()
    assert owners == [members[0].id] * 2
    assert ("c-both", "+84987000777") in _identities(hub, merchant_id)
