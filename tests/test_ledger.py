"""The ledger: lots, spending order, holds, expiry, debts, give-backs, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import points
from sqlalchemy import select

from hub.errors import Conflict
from hub.members.directory import create_member
from hub.models import Member
from hub.models import PointAllocation
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import ledger


@pytest.fixture
def mid(hub, merchant):
    with hub.db.transaction() as session:
        return create_member(session, merchant.id, {"phone": "0912345678"}).id


def credit(hub, mid, points, key, **kwargs):
    kwargs.setdefault("now", T0)
    with hub.db.transaction() as session:
        member = session.get(Member, mid)
        return ledger.credit(session, member, points, kind="earn", key=key, **kwargs)


def debit(hub, mid, points, key, **kwargs):
    kwargs.setdefault("now", T0)
    kwargs.setdefault("kind", "redeem")
    with hub.db.transaction() as session:
        member = session.get(Member, mid)
        return ledger.debit(session, member, points, key=key, **kwargs)


def test_a_debit_is_written_once_per_key(hub, mid):
    credit(hub, mid, 100, "k1")
    first = debit(hub, mid, 30, "spend")
    second = debit(hub, mid, 30, "spend")

    assert first.created and not second.created
    assert second.entry.id == first.entry.id
    assert second.entry.points == -30
    assert points(hub, mid, at=T0).total == 70
    assert lots(hub, mid) == [(100, 70)]


def lots(hub, mid):
    with hub.db.session() as session:
        rows = session.scalars(select(PointLot).where(PointLot.member_id == mid).order_by("id"))
        return [(lot.points, lot.remaining) for lot in rows]


def test_a_credit_is_written_once_per_key(hub, mid):
    first = credit(hub, mid, 100, "k1")
    second = credit(hub, mid, 100, "k1")

    assert first.created and not second.created
    assert second.entry.id == first.entry.id
    assert points(hub, mid, at=T0).total == 100
    assert_invariants(hub, mid)


def test_spending_draws_the_soonest_expiring_lot_first_and_never_expiring_last(hub, mid):
    credit(hub, mid, 100, "never")
    credit(hub, mid, 100, "late", expires_at=T0 + timedelta(days=300))
    credit(hub, mid, 100, "soon", expires_at=T0 + timedelta(days=30))

    debit(hub, mid, 150, "spend")

    assert lots(hub, mid) == [(100, 100), (100, 50), (100, 0)]
    assert_invariants(hub, mid)


def test_spending_more_than_available_writes_nothing(hub, mid):
    credit(hub, mid, 100, "a")

    with pytest.raises(ledger.InsufficientPoints) as caught:
        debit(hub, mid, 101, "spend")

    assert caught.value.details == {"available": 100, "needed": 101}
    assert points(hub, mid, at=T0).total == 100
    with hub.db.session() as session:
        assert ledger.existing_entry(session, session.get(Member, mid).merchant_id, "spend") is None


def test_pending_points_cannot_be_spent_until_the_hold_ends(hub, mid):
    credit(hub, mid, 100, "held", available_at=T0 + timedelta(days=7))

    assert points(hub, mid, at=T0) == ledger.Balance(available=0, pending=100, total=100)
    with pytest.raises(ledger.InsufficientPoints):
        debit(hub, mid, 10, "too-early")
    debit(hub, mid, 10, "later", now=T0 + timedelta(days=7))

    assert points(hub, mid, at=T0 + timedelta(days=7)).available == 90


def test_expired_points_are_never_spendable_and_are_written_off_first(hub, mid):
    credit(hub, mid, 100, "old", expires_at=T0 + timedelta(days=1))
    credit(hub, mid, 50, "new")
    later = T0 + timedelta(days=2)
    assert points(hub, mid, at=later) == ledger.Balance(available=50, pending=0, total=150)

    with pytest.raises(ledger.InsufficientPoints):
        debit(hub, mid, 60, "too-much", now=later)
    debit(hub, mid, 50, "ok", now=later)

    with hub.db.session() as session:
        expired = session.scalars(select(PointEntry).where(PointEntry.kind == "expire")).one()
    assert expired.points == -100 and expired.key.startswith("expire:")
    assert points(hub, mid, at=later).total == 0
    assert_invariants(hub, mid)


def test_a_reversal_may_leave_a_debt_that_the_next_credit_pays_first(hub, mid):
    credit(hub, mid, 100, "earned")
    debit(hub, mid, 80, "spent")

    debit(hub, mid, 100, "reversed", kind="reverse", allow_debt=True)
    assert points(hub, mid, at=T0) == ledger.Balance(available=0, pending=0, total=-80)
    assert_invariants(hub, mid)

    credit(hub, mid, 50, "next")
    assert points(hub, mid, at=T0).total == -30
    assert lots(hub, mid)[-1] == (50, 0)
    credit(hub, mid, 50, "after")
    assert points(hub, mid, at=T0) == ledger.Balance(available=20, pending=0, total=20)
    assert_invariants(hub, mid)


def test_reversal_prefers_the_lots_it_names_even_pending_ones(hub, mid):
    credit(hub, mid, 100, "other")
    held = credit(hub, mid, 100, "held", available_at=T0 + timedelta(days=7))
    with hub.db.session() as session:
        lot_id = session.scalar(select(PointLot.id).where(PointLot.entry_id == held.entry.id))

    debit(hub, mid, 100, "back", kind="reverse", allow_debt=True, prefer_lots=[lot_id])

    assert lots(hub, mid) == [(100, 100), (100, 0)]


def test_give_back_returns_points_to_their_lots_with_their_expiry(hub, mid):
    credit(hub, mid, 100, "a", expires_at=T0 + timedelta(days=10))
    credit(hub, mid, 100, "b", expires_at=T0 + timedelta(days=20))
    spent = debit(hub, mid, 150, "spend")

    with hub.db.transaction() as session:
        member = session.get(Member, mid)
        back = ledger.give_back(session, member, spent.entry, key="undo", now=T0)
        again = ledger.give_back(session, member, spent.entry, key="undo", now=T0)

    assert back.created and not again.created
    assert back.entry.points == 150
    assert lots(hub, mid) == [(100, 100), (100, 100)]
    assert_invariants(hub, mid)


def test_give_back_skips_lots_that_expired_meanwhile(hub, mid):
    credit(hub, mid, 100, "a", expires_at=T0 + timedelta(days=10))
    credit(hub, mid, 100, "b", expires_at=T0 + timedelta(days=20))
    spent = debit(hub, mid, 150, "spend")
    later = T0 + timedelta(days=15)

    with hub.db.transaction() as session:
        back = ledger.give_back(session, session.get(Member, mid), spent.entry, key="u", now=later)

    assert back.entry.points == 50
    assert points(hub, mid, at=later) == ledger.Balance(available=100, pending=0, total=100)
    assert_invariants(hub, mid)


def test_give_back_pays_a_debt_first(hub, mid):
    credit(hub, mid, 100, "a")
    spent = debit(hub, mid, 100, "spend")
    debit(hub, mid, 30, "clawback", kind="reverse", allow_debt=True)

    with hub.db.transaction() as session:
        ledger.give_back(session, session.get(Member, mid), spent.entry, key="undo", now=T0)

    assert points(hub, mid, at=T0) == ledger.Balance(available=70, pending=0, total=70)
    assert_invariants(hub, mid)


def test_give_back_of_expired_points_only_is_refused(hub, mid):
    credit(hub, mid, 100, "a", expires_at=T0 + timedelta(days=1))
    spent = debit(hub, mid, 100, "spend")

    with hub.db.transaction() as session, pytest.raises(Conflict):
        ledger.give_back(
            session, session.get(Member, mid), spent.entry, key="u", now=T0 + timedelta(days=2)
        )


def test_allocations_record_which_lot_each_debit_drew(hub, mid):
    credit(hub, mid, 30, "a", expires_at=T0 + timedelta(days=1))
    credit(hub, mid, 30, "b", expires_at=T0 + timedelta(days=2))
    spent = debit(hub, mid, 40, "spend")

    with hub.db.session() as session:
        drawn = session.scalars(
            select(PointAllocation.points).where(PointAllocation.entry_id == spent.entry.id)
        ).all()
    assert sorted(drawn) == [10, 30]


def test_merging_a_debtor_into_a_member_with_points_keeps_the_invariants(hub, merchant, mid):
    from hub.members.merges import merge_members

    with hub.db.transaction() as session:
        other = create_member(session, merchant.id, {"phone": "0987654321"}).id
    credit(hub, mid, 100, "a")
    credit(hub, other, 50, "b")
    debit(hub, other, 50, "spend")
    debit(hub, other, 80, "clawback", kind="reverse", allow_debt=True)

    with hub.db.transaction() as session:
        merge_members(hub, session, merchant.id, mid, other, actor="test")

    assert points(hub, mid, at=T0) == ledger.Balance(available=20, pending=0, total=20)
    assert_invariants(hub, mid)
    assert_invariants(hub, other)


def test_concurrent_redemptions_never_spend_a_balance_twice(hub, mid):
    credit(hub, mid, 100, "a")
    outcomes = []

    def redeem(n):
        try:
            debit(hub, mid, 100, f"redeem-{n}", now=None)
            outcomes.append("ok")
        except ledger.InsufficientPoints:
            outcomes.append("refused")

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert points(hub, mid).total == 0
    assert_invariants(hub, mid)
