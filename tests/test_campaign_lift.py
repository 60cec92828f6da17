"""The lift arithmetic against worked examples and tables."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from hub.campaigns.audience import held_out
from hub.campaigns.lift import mean_lift
from hub.campaigns.lift import proportion_lift
from hub.campaigns.lift import t_quantile
from hub.campaigns.results import GROUPS
from hub.campaigns.results import _lift as results_lift

pytestmark = pytest.mark.db_agnostic


def test_conversion_lift_matches_the_agresti_caffo_worked_example():
    # 600 of 9,000 recipients bought, 50 of 1,000 held-out members did
    lift = proportion_lift(600, 9000, 50, 1000)
    assert lift.difference == pytest.approx(0.016667, abs=1e-6)
    assert lift.relative == pytest.approx(1 / 3, abs=1e-6)
    assert (round(lift.low * 100, 2), round(lift.high * 100, 2)) == (0.13, 3.04)
    assert lift.significant is True


def test_a_difference_the_interval_spans_is_not_significant():
    lift = proportion_lift(6, 100, 5, 100)
    assert lift.low < 0 < lift.high and lift.significant is False


def test_no_control_group_gives_no_lift():
    assert proportion_lift(5, 10, 0, 0).difference is None
    assert mean_lift(10, 100.0, 2000.0, 1, 0.0, 0.0).difference is None


def test_a_run_whose_every_member_was_held_out_has_no_measurable_lift():
    # A tiny audience can fall wholly in the control group: nothing to compare it with
    groups = {name: {"members": 0, "buyers": 0, "revenue": Decimal(0)} for name in GROUPS}
    groups["control"]["members"] = 1
    lift = results_lift(groups, {}, {"target": 0, "control": 1})
    assert lift["measurable"] is False and lift["conversion"] is None


@pytest.mark.parametrize(
    ("df", "expected"), [(5, 2.571), (10, 2.228), (30, 2.042), (120, 1.980), (math.inf, 1.960)]
)
def test_t_quantiles_match_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=2e-3)


def test_revenue_lift_is_welchs_interval():
    # Target: 4 members spending 10, 20, 30, 40; control: 3 spending 0, 10, 20
    target, control = [10.0, 20.0, 30.0, 40.0], [0.0, 10.0, 20.0]
    lift = mean_lift(
        len(target),
        sum(target),
        sum(x * x for x in target),
        len(control),
        sum(control),
        sum(x * x for x in control),
    )
    var_t, var_c = 500 / 3, 100.0
    se = math.sqrt(var_t / 4 + var_c / 3)
    df = (var_t / 4 + var_c / 3) ** 2 / ((var_t / 4) ** 2 / 3 + (var_c / 3) ** 2 / 2)
    assert lift.difference == pytest.approx(15.0)
    assert lift.high - lift.difference == pytest.approx(t_quantile(0.975, df) * se)
    assert lift.significant is False


def test_the_holdout_draw_holds_out_about_the_share_asked_for():
    out = sum(held_out("seed", member_id, 10) for member_id in range(1, 20001))
    assert 1800 < out < 2200
    assert not any(held_out("seed", member_id, 0) for member_id in range(1, 1001))
