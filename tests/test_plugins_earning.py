"""The built-in earning rules: product bonus, special days, birthday, first order, sign-up."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import line
from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from points_fixtures import record
from points_fixtures import settings
from sqlalchemy import select

from hub.errors import ValidationError
from hub.events import Event
from hub.members.directory import create_member
from hub.models import PointEntry


def awards(hub, merchant_id):
    with hub.db.session() as session:
        rows = session.execute(
            select(PointEntry.rule, PointEntry.points, PointEntry.note).where(
                PointEntry.merchant_id == merchant_id,
                PointEntry.kind == "earn",
                PointEntry.key.like("order:%:earn:%"),
            )
        ).all()
    return {rule: (points_, note) for rule, points_, note in rows}


# -- product bonus ---------------------------------------------------------------


def test_product_bonus_gives_fixed_points_per_unit_of_a_sku(hub, merchant):
    settings(
        hub, merchant.id, {"rules": {"product_bonus": {"items": [{"sku": "TRA", "points": 50}]}}}
    )

    record(
        hub, merchant.id, order(total="300000", lines=(line(100000, 2, sku="TRA"), line(100000)))
    )

    got = awards(hub, merchant.id)
    assert got["product_bonus"][0] == 100
    assert got["base"][0] == 300
    assert "TRA x2: +100" in got["product_bonus"][1]


def test_product_bonus_multiplier_uses_the_lines_share_of_the_earning_base(hub, merchant):
    settings(
        hub,
        merchant.id,
        {"rules": {"product_bonus": {"items": [{"collection": "tet", "multiplier": "3"}]}}},
    )
    # 400,000 of lines, 100,000 order discount: the tet line's share of the base is 150,000.
    the_order = order(
        total="300000",
        lines=(line(200000, collections=("tet",)), line(200000)),
    )

    record(hub, merchant.id, the_order)

    assert awards(hub, merchant.id)["product_bonus"][0] == 300


def test_product_bonus_first_matching_item_wins_and_gift_cards_never_match(hub, merchant):
    items = [{"sku": "A", "points": 10}, {"collection": "all", "points": 99}]
    settings(hub, merchant.id, {"rules": {"product_bonus": {"items": items}}})
    the_order = order(
        total="600000",
        lines=(
            line(100000, sku="A", collections=("all",)),
            line(500000, sku="GC", collections=("all",), gift_card=True),
        ),
    )

    record(hub, merchant.id, the_order)

    assert awards(hub, merchant.id)["product_bonus"][0] == 10


def test_product_bonus_items_are_validated(hub, merchant):
    with pytest.raises(ValidationError) as caught:
        settings(
            hub,
            merchant.id,
            {"rules": {"product_bonus": {"items": [{"sku": "A", "collection": "b", "points": 1}]}}},
        )
    assert "product_bonus" in caught.value.details["rules"]


# -- special days ----------------------------------------------------------------


def special(hub, merchant_id, periods):
    settings(hub, merchant_id, {"rules": {"special_days": {"periods": periods}}})


def test_special_day_multiplies_points_on_its_local_date(hub, merchant):
    special(hub, merchant.id, [{"name": "Women's Day", "from": "2026-03-08", "to": "2026-03-08",
                                "multiplier": "2"}])  # fmt: skip
    # 7 March 18:00 UTC is 8 March 01:00 in Ho Chi Minh City.
    on_the_day = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)

    record(hub, merchant.id, order("in", placed_at=on_the_day))
    record(hub, merchant.id, order("out", placed_at=on_the_day - timedelta(hours=2)))

    with hub.db.session() as session:
        rows = session.scalars(select(PointEntry).where(PointEntry.rule == "special_days")).all()
    assert [(row.points, row.note) for row in rows] == [(250, "Women's Day: x2")]


def test_special_weekdays_and_the_highest_multiplier_applies(hub, merchant):
    special(
        hub,
        merchant.id,
        [
            {"name": "Weekend", "weekdays": [5, 6], "multiplier": "1.5"},
            {"name": "Sale", "from": "2026-03-01", "to": "2026-03-31", "weekdays": [6],
             "multiplier": "3"},
        ],
    )  # fmt: skip
    saturday = datetime(2026, 3, 14, 3, 0, tzinfo=UTC)
    sunday = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)

    record(hub, merchant.id, order("sat", placed_at=saturday))
    record(hub, merchant.id, order("sun", placed_at=sunday))

    with hub.db.session() as session:
        got = sorted(
            session.scalars(select(PointEntry.points).where(PointEntry.rule == "special_days"))
        )
    assert got == [125, 500]


def test_special_days_need_dates_or_weekdays(hub, merchant):
    with pytest.raises(ValidationError):
        special(hub, merchant.id, [{"name": "Never", "multiplier": "2"}])


# -- birthday --------------------------------------------------------------------


def test_birthday_month_multiplier_and_gift_once_a_month(hub, merchant):
    settings(hub, merchant.id, {"rules": {"birthday": {"multiplier": "2", "points": 100}}})
    march = order(birthday=date(1990, 3, 25))

    record(hub, merchant.id, march)
    record(
        hub,
        merchant.id,
        order("1002", birthday=date(1990, 3, 25), placed_at=T0 + timedelta(days=1)),
    )

    mid = member_id(hub, merchant.id)
    with hub.db.session() as session:
        rows = session.execute(
            select(PointEntry.rule, PointEntry.points)
            .where(PointEntry.member_id == mid)
            .order_by(PointEntry.id)
        ).all()
    assert [r for r in rows if r[0] != "base"] == [
        ("birthday", 250),
        ("birthday_gift", 100),
        ("birthday", 250),
    ]


def test_no_birthday_bonus_outside_the_month_or_without_a_birthday(hub, merchant):
    settings(hub, merchant.id, {"rules": {"birthday": {"multiplier": "2", "points": 100}}})

    record(hub, merchant.id, order("a", phone="0911111111", birthday=date(1990, 4, 1)))
    record(hub, merchant.id, order("b", phone="0922222222"))

    assert set(awards(hub, merchant.id)) == {"base"}


# -- first order -----------------------------------------------------------------


def test_first_order_bonus_only_on_the_first_counted_order(hub, merchant):
    settings(hub, merchant.id, {"rules": {"first_order": {"points": 200}}})

    record(hub, merchant.id, order("1"))
    record(hub, merchant.id, order("2"))

    mid = member_id(hub, merchant.id)
    with hub.db.session() as session:
        bonus = session.scalars(
            select(PointEntry.points).where(PointEntry.rule == "first_order")
        ).all()
    assert bonus == [200]
    assert points(hub, mid).total == 700


def test_a_cancelled_first_order_does_not_use_up_the_bonus(hub, merchant):
    settings(hub, merchant.id, {"rules": {"first_order": {"points": 200}}})

    record(hub, merchant.id, order("1"))
    record(hub, merchant.id, order("1", cancelled_at=T0 + timedelta(hours=1)))
    record(hub, merchant.id, order("2"))

    mid = member_id(hub, merchant.id)
    assert points(hub, mid).total == 450
    assert_invariants(hub, mid)


# -- sign-up ---------------------------------------------------------------------


def test_signup_bonus_credits_a_new_member_once(hub, merchant, api):
    settings(hub, merchant.id, {"rules": {"signup": {"points": 100}}, "pending_days": 2})

    created = api.post("/api/v1/members", json={"phone": "0912345678"}).json

    with hub.db.session() as session:
        (entry,) = session.scalars(select(PointEntry).where(PointEntry.rule == "signup")).all()
    assert entry.key == f"signup:{created['id']}"
    balance = points(hub, created["id"])
    assert (balance.pending, balance.total) == (100, 100)

    replay = Event(
        type="member.created", merchant_id=merchant.id, data={"member_id": created["id"]}
    )
    hub.pm.get_plugin("signup_bonus").handle_event(hub=hub, event=replay)
    assert points(hub, created["id"]).total == 100


def test_signup_bonus_skips_imported_members_and_is_off_without_settings(hub, merchant, api):
    with hub.db.transaction() as session:
        imported = create_member(session, merchant.id, {"phone": "0911111111"}, source="import")
    plain = api.post("/api/v1/members", json={"phone": "0922222222"}).json

    settings(hub, merchant.id, {"rules": {"signup": {"points": 100}}})
    with hub.db.transaction() as session:
        later_import = create_member(session, merchant.id, {"phone": "0933333333"}, source="import")

    assert points(hub, imported.id).total == 0
    assert points(hub, plain["id"]).total == 0
    assert points(hub, later_import.id).total == 0
