"""What an order earns: the base rule's arithmetic and the points_for_order hook."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from marshmallow import Schema
from marshmallow import fields
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import line
from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from points_fixtures import record
from points_fixtures import settings
from sqlalchemy import select

from hub import Award
from hub import Program
from hub import ProgramRule
from hub import hookimpl
from hub.errors import ValidationError
from hub.models import PointEntry
from hub.points.program import program_for


class LoyalTagBonus:
    """A test earning rule: members tagged 'loyal' get a fixed bonus, twice in two awards."""

    __name__ = "loyal-tag-bonus"

    def __init__(self):
        self.seen = []

    @hookimpl
    def register_program_rules(self, hub):
        schema = Schema.from_dict({"enabled": fields.Bool(), "points": fields.Int(required=True)})
        return [ProgramRule("loyal", "Loyal customers", schema)]

    @hookimpl
    def points_for_order(self, member, order, program):
        self.seen.append((order.external_id, program.version))
        settings = program.rule("loyal")
        if settings is None or member is None or "loyal" not in (member.tags or []):
            return [Award(0, "loyal", "not loyal"), Award(-5, "loyal", "never negative")]
        half = settings["points"] // 2
        return [Award(half, "loyal", "first half"), Award(half, "loyal", "second half")]


@pytest.fixture
def rule():
    return LoyalTagBonus()


@pytest.fixture
def hub_plugins(rule):
    return [rule]


def program(**values) -> Program:
    return Program.from_settings(1, 1, values)


def test_hook_points_for_order_awards_are_all_applied_each_under_its_rule(hub, merchant, api, rule):
    settings(hub, merchant.id, {"rules": {"loyal": {"points": 100}}})
    api.post("/api/v1/members", json={"phone": "0912345678", "tags": ["loyal"]})

    record(hub, merchant.id, order(total="250000"))

    mid = member_id(hub, merchant.id)
    with hub.db.session() as session:
        rows = session.scalars(select(PointEntry).where(PointEntry.member_id == mid)).all()
    by_rule = {row.rule: row for row in rows}
    assert set(by_rule) == {"base", "loyal"}
    assert by_rule["loyal"].points == 100
    assert by_rule["loyal"].note == "first half; second half"
    assert by_rule["loyal"].key.endswith(":earn:loyal")
    assert points(hub, mid).total == 350
    assert rule.seen == [("1001", 1)]
    assert_invariants(hub, mid)


def test_hook_points_for_order_zero_and_negative_awards_are_dropped(hub, merchant, rule):
    settings(hub, merchant.id, {"rules": {"loyal": {"points": 100}}})

    record(hub, merchant.id, order(total="250000"))

    mid = member_id(hub, merchant.id)
    with hub.db.session() as session:
        rules = session.scalars(select(PointEntry.rule).where(PointEntry.member_id == mid)).all()
    assert rules == ["base"]


def test_hook_points_for_order_is_not_asked_about_orders_that_cannot_earn(hub, merchant, rule):
    settings(hub, merchant.id, {"minimum_order": "100000"})

    record(hub, merchant.id, order(total="99000"))

    assert rule.seen == []
    assert points(hub, member_id(hub, merchant.id)).total == 0


def test_hook_register_program_rules_offers_a_section_that_is_validated(hub, merchant, api):
    refused = api.put("/api/v1/program", json={"rules": {"loyal": {"pointz": 1}}})
    assert refused.status_code == 422
    assert "loyal" in refused.json["error"]["details"]["rules"]

    unknown = api.put("/api/v1/program", json={"rules": {"nobody_offers_this": {}}})
    assert unknown.status_code == 422
    assert "nobody_offers_this" in unknown.json["error"]["details"]["rules"]

    listed = api.get("/api/v1/program").json["rules_available"]
    assert {"name": "loyal", "title": "Loyal customers", "description": ""} in listed


def test_a_disabled_rule_section_is_off(hub, merchant):
    settings(hub, merchant.id, {"rules": {"loyal": {"points": 100, "enabled": False}}})
    with hub.db.session() as session:
        assert program_for(hub, session, merchant.id).rule("loyal") is None


# -- the base rule's arithmetic ---------------------------------------------------


@pytest.mark.parametrize(
    ("values", "total", "expected"),
    [
        ({}, "999", 0),
        ({}, "1999", 1),
        ({"rounding": "half_up"}, "1500", 2),
        ({"rounding": "half_up"}, "1499", 1),
        ({"earn_rate": {"amount": "100000", "points": 3}}, "250000", 7),
        ({"earn_rate": {"amount": "100000", "points": 3}, "rounding": "half_up"}, "250000", 8),
        ({"earn_rate": {"amount": "0.5"}}, "10.25", 20),
    ],
)
def test_earn_rate_and_rounding(values, total, expected):
    the_program = program(**values)
    assert the_program.points_for(the_program.earning_base(order(total=total))) == expected


def test_shipping_and_tax_are_excluded_unless_chosen():
    the_order = order(total="330000", shipping="30000", tax="20000")

    assert program().earning_base(the_order) == Decimal("280000")
    assert program(earn_on={"shipping": True}).earning_base(the_order) == Decimal("310000")
    assert program(earn_on={"shipping": True, "tax": True}).earning_base(the_order) == Decimal(
        "330000"
    )


def test_gift_card_lines_never_earn():
    the_order = order(
        total="600000",
        lines=(line(100000), line(250000, 2, gift_card=True, total_discount=0)),
    )

    assert program().earning_base(the_order) == Decimal("100000")


def test_the_base_is_never_below_zero():
    assert program().earning_base(order(total="10000", shipping="30000")) == 0


@pytest.mark.parametrize(
    ("values", "the_order", "reason"),
    [
        ({"enabled": False}, order(), "program_disabled"),
        ({}, order(currency="USD"), "currency"),
        ({"minimum_order": "300000"}, order(total="250000"), "below_minimum"),
        ({"start_date": "2026-03-11"}, order(placed_at=T0), "before_start"),
        (
            {"start_date": "2026-03-11", "count_orders_before_start": True},
            order(placed_at=T0),
            None,
        ),
        ({"start_date": "2026-03-10"}, order(placed_at=T0), None),
    ],
)
def test_orders_the_program_does_not_let_earn(values, the_order, reason):
    assert program(**values).ineligible(the_order) == reason


def test_start_date_is_a_day_in_the_merchants_timezone():
    # 2026-03-10 18:00 UTC is already 11 March in Ho Chi Minh City.
    late = order(placed_at=datetime.fromisoformat("2026-03-10T18:00:00+00:00"))

    assert program(start_date="2026-03-11").ineligible(late) is None


def test_settings_are_validated_field_by_field(hub):
    from hub.points.program import validate_settings

    with pytest.raises(ValidationError) as caught:
        validate_settings(
            hub,
            {
                "earn_rate": {"amount": "0"},
                "rounding": "up",
                "pending_days": -1,
                "expiry": {"policy": "days"},
                "tiers": [],
            },
        )
    details = caught.value.details
    assert set(details) == {"earn_rate", "rounding", "pending_days", "expiry", "tiers"}
