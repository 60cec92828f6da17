"""The ledger's one posting API: batches of postings for several members, as one at a time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from sqlalchemy import select

from hub.members.directory import create_member
from hub.models import Member
from hub.models import PointEntry
from hub.models import PointLot
from hub.phones import phone_or_none
from hub.points import ledger


@pytest.fixture
def two(hub, merchant):
    with hub.db.transaction() as session:
        return [
            create_member(session, merchant.id, {"phone": phone}).id
            for phone in ("0912345678", "0987654321")
        ]


def changes(tag: str):
    """For the first member: a debt, a credit that pays it, a debit; for the second: credits."""
    return [
        (0, ledger.Credit(points=50, kind="earn", key=f"{tag}:a:1")),
        (1, ledger.Credit(points=70, kind="earn", key=f"{tag}:b:1",
                          expires_at=T0 + timedelta(days=9))),
        (0, ledger.Debit(points=80, kind="reverse", key=f"{tag}:a:2", allow_debt=True)),
        (0, ledger.Spent(Decimal("125000"))),
        (0, ledger.Credit(points=40, kind="earn", key=f"{tag}:a:3")),
        (1, ledger.Credit(points=5, kind="bonus", key=f"{tag}:b:2")),
        (0, ledger.Debit(points=5, kind="redeem", key=f"{tag}:a:4")),
    ]  # fmt: skip


def state(hub, member_ids):
    """Each member's totals, entries and lots, named by what they are rather than by id."""
    with hub.db.session() as session:
        found = []
        for member_id in member_ids:
            member = session.get(Member, member_id)
            entries = [
                (key.split(":", 1)[-1], points)
                for key, points in session.execute(
                    select(PointEntry.key, PointEntry.points)
                    .where(PointEntry.member_id == member_id)
                    .order_by(PointEntry.id)
                )
            ]
            lots = session.execute(
                select(PointLot.points, PointLot.remaining, PointLot.expires_at)
                .where(PointLot.member_id == member_id)
                .order_by(PointLot.id)
            ).all()
            found.append((member.points_balance, member.total_spent, entries, list(lots)))
        return found


def test_a_batch_of_postings_ends_where_posting_one_at_a_time_ends(hub, merchant, two):
    with hub.db.transaction() as session:
        others = [create_member(session, merchant.id, {"phone": p}).id
                  for p in ("0911111111", "0922222222")]  # fmt: skip
    for who, change in changes("one"):
        with hub.db.transaction() as session:
            member = session.get(Member, others[who])
            ledger.post(session, [ledger.Posting(member, change)], now=T0)
    with hub.db.transaction() as session:
        members = [session.get(Member, member_id) for member_id in two]
        posted = ledger.post(
            session,
            [ledger.Posting(members[who], change) for who, change in changes("batch")],
            now=T0,
        )

    assert state(hub, two) == state(hub, others)
    balance, spent, _, lots = state(hub, two)[0]
    assert (balance, spent) == (5, Decimal("125000"))
    assert [lot[:2] for lot in lots] == [(50, 0), (40, 5)]  # the debt took 30 of the second
    assert [p.balance for p in posted] == [50, 70, -30, -30, 10, 75, 5]
    assert [p.created for p in posted] == [True] * 7
    assert posted[3].entry is None
    for member_id in two:
        assert_invariants(hub, member_id)


def test_a_member_named_by_id_alone_posts_as_its_object_does(hub, merchant, two):
    # Given the same batch posted for members held as objects and named by id alone
    with hub.db.transaction() as session:
        others = [create_member(session, merchant.id, {"phone": p}).id
                  for p in ("0911111111", "0922222222")]  # fmt: skip
    with hub.db.transaction() as session:
        members = [session.get(Member, member_id) for member_id in others]
        ledger.post(session, [ledger.Posting(members[w], c) for w, c in changes("obj")], now=T0)
    with hub.db.transaction() as session:
        refs = [ledger.MemberRef(member_id, merchant.id) for member_id in two]
        posted = ledger.post(
            session, [ledger.Posting(refs[w], c) for w, c in changes("ref")], now=T0
        )
    # Then both end the same, with the same balances along the way
    assert state(hub, two) == state(hub, others)
    assert [p.balance for p in posted] == [50, 70, -30, -30, 10, 75, 5]
    # And a replay named by id changes nothing and answers the balance as it stands
    with hub.db.transaction() as session:
        again = ledger.MemberRef(two[1], merchant.id)
        (replayed,) = ledger.post(session, [ledger.Posting(again, changes("ref")[1][1])], now=T0)
    assert not replayed.created and replayed.balance == 75
    for member_id in two:
        assert_invariants(hub, member_id)


def test_a_key_given_twice_in_one_batch_is_written_once(hub, two):
    with hub.db.transaction() as session:
        member = session.get(Member, two[0])
        once = ledger.Credit(points=10, kind="earn", key="twice")
        first, second = ledger.post(
            session, [ledger.Posting(member, once), ledger.Posting(member, once)], now=T0
        )

    assert first.created and not second.created
    assert second.entry.id == first.entry.id
    assert (first.balance, second.balance) == (10, 10)
    assert state(hub, two[:1])[0][0] == 10


def test_a_refused_debit_in_a_batch_writes_nothing_of_it(hub, two):
    with hub.db.transaction() as session:
        ledger.credit(session, session.get(Member, two[0]), 10, kind="earn", key="k", now=T0)
    with pytest.raises(ledger.InsufficientPoints), hub.db.transaction() as session:
        member = session.get(Member, two[0])
        ledger.post(
            session,
            [
                ledger.Posting(member, ledger.Credit(points=5, kind="earn", key="k2")),
                ledger.Posting(member, ledger.Debit(points=50, kind="redeem", key="k3")),
            ],
            now=T0,
        )

    assert state(hub, two[:1])[0][0] == 10
    assert_invariants(hub, two[0])


def test_the_member_object_reads_its_new_totals_after_a_posting(hub, two):
    with hub.db.transaction() as session:
        member = session.get(Member, two[0])
        assert member.points_balance == 0
        posted = ledger.credit(session, member, 25, kind="earn", key="k", now=T0)
        ledger.post(session, [ledger.Posting(member, ledger.Spent(Decimal(9000)))], now=T0)

        assert posted.balance == 25
        assert (member.points_balance, member.total_spent) == (25, Decimal(9000))


def test_changed_members_names_every_member_a_transaction_posted_to(hub, merchant, two):
    with hub.db.transaction() as session:
        first, second = (session.get(Member, member_id) for member_id in two)
        assert ledger.changed_members(session) == set()
        ledger.credit(session, first, 5, kind="earn", key="k1", now=T0)
        ledger.debit(session, first, 2, kind="redeem", key="k2", now=T0)
        ledger.post(session, [ledger.Posting(second, ledger.Spent(Decimal(1)))], now=T0)

        assert ledger.changed_members(session) == {(merchant.id, two[0]), (merchant.id, two[1])}
    with hub.db.transaction() as session:
        assert ledger.changed_members(session) == set()


def test_expire_posts_nothing_for_a_lot_not_yet_due(hub, two):
    with hub.db.transaction() as session:
        member = session.get(Member, two[0])
        lot_expiry = T0 + timedelta(days=1)
        ledger.credit(session, member, 8, kind="earn", key="k", expires_at=lot_expiry, now=T0)
        lot_id = session.scalar(select(PointLot.id).where(PointLot.member_id == two[0]))
        early = ledger.post(session, [ledger.Posting(member, ledger.Expire(lot_id))], now=T0)[0]
        due = lot_expiry + timedelta(seconds=1)
        late = ledger.post(session, [ledger.Posting(member, ledger.Expire(lot_id))], now=due)[0]

    assert (early.entry, early.created, early.balance) == (None, False, 8)
    assert (late.entry.key, late.created, late.balance) == (f"expire:{lot_id}", True, 0)
    assert_invariants(hub, two[0])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0912345678", "+84912345678"), ("not a phone", None), ("", None), (None, None)],
)
def test_phone_or_none_gives_the_matching_phone_or_none(raw, expected):
    assert phone_or_none(raw, "VN") == expected
