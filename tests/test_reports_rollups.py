"""The daily rollups: kept in step with every change, equal to a rebuild and to the raw rows."""

from __future__ import annotations

import os
from datetime import date
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from points_fixtures import order as make_order
from report_fixtures import HANOI
from report_fixtures import START
from report_fixtures import histories
from report_fixtures import member_day_rows
from report_fixtures import new_merchant
from report_fixtures import play
from report_fixtures import raw_figures
from report_fixtures import raw_member_days
from report_fixtures import rollup_rows
from sqlalchemy import select

from hub.models import Member
from hub.orders.batches import record_order
from hub.reports import rollups
from hub.reports import staleness

ON_POSTGRES = bool(os.environ.get("HUB_TEST_DATABASE_URL"))
EXAMPLES = int(os.environ.get("HUB_REPORT_EXAMPLES") or (25 if ON_POSTGRES else 60))


@pytest.fixture
def hub_config():
    return {"HUB_LOAD_ENTRYPOINTS": False, "HUB_DISABLE_PLUGINS": "hub.messaging.plugin"}


def refresh(hub, merchant_id: int) -> int:
    with hub.db.transaction() as session:
        return staleness.refresh(session, merchant_id)


def rebuild(hub, merchant_id: int, since: date | None = None) -> int:
    with hub.db.transaction() as session:
        return rollups.rebuild(session, merchant_id, since)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_incremental_rollups_equal_a_rebuild_and_the_raw_rows(hub, history):
    merchant_id = new_merchant(hub, ladder=True)
    play(hub, merchant_id, history)
    refresh(hub, merchant_id)
    incremental = rollup_rows(hub, merchant_id)
    assert incremental == raw_figures(hub, merchant_id)
    bought = member_day_rows(hub, merchant_id)
    assert bought == raw_member_days(hub, merchant_id)
    rebuild(hub, merchant_id)
    assert rollup_rows(hub, merchant_id) == incremental
    assert member_day_rows(hub, merchant_id) == bought


def test_an_order_at_half_past_eleven_in_hanoi_counts_on_the_last_day_of_the_month(hub):
    merchant_id = new_merchant(hub)
    late = START + timedelta(days=1) - timedelta(minutes=30)  # 31 January, 23:30 in Hanoi
    with hub.db.transaction() as session:
        record_order(hub, session, merchant_id, make_order("late", 100_000, placed_at=late),
                     source="shop", now=late)  # fmt: skip
    refresh(hub, merchant_id)
    rows = rollup_rows(hub, merchant_id)
    assert rows[(date(2026, 1, 31), "orders", "member:loyalty")] == (1, 0, 100_000 * 10_000)
    assert not any(day == date(2026, 2, 1) for day, _, _ in rows)


def test_a_commit_marks_its_days_and_a_refresh_clears_them(hub):
    """The order's day, the day its points were posted, and the day its member joined."""
    merchant_id = new_merchant(hub)
    with hub.db.transaction() as session:
        record_order(hub, session, merchant_id, make_order("a", 50_000, placed_at=START),
                     source="shop", now=START + timedelta(days=3))  # fmt: skip
    with hub.db.session() as session:
        joined = session.scalar(select(Member.created_at).where(Member.merchant_id == merchant_id))
        stale = staleness.stale_days(session, merchant_id)
    expected = {date(2026, 1, 31), date(2026, 2, 3), joined.astimezone(HANOI).date()}
    assert stale == sorted(expected)
    assert refresh(hub, merchant_id) == len(expected)
    assert refresh(hub, merchant_id) == 0


def test_rebuild_since_a_date_keeps_the_days_before_it(hub):
    merchant_id = new_merchant(hub)
    for n in range(3):
        at = START + timedelta(days=n, hours=3)
        with hub.db.transaction() as session:
            record_order(hub, session, merchant_id, make_order(f"d{n}", 10_000, placed_at=at),
                         source="shop", now=at)  # fmt: skip
    refresh(hub, merchant_id)
    before = rollup_rows(hub, merchant_id)
    assert rebuild(hub, merchant_id, since=date(2026, 2, 1)) > 0
    assert rollup_rows(hub, merchant_id) == before


def test_an_empty_merchant_has_no_rollups(hub):
    merchant_id = new_merchant(hub)
    assert rebuild(hub, merchant_id) == 0
    assert rollup_rows(hub, merchant_id) == {}


def test_a_merge_moves_what_the_merged_member_bought_to_the_survivor(hub):
    merchant_id = new_merchant(hub)
    early = timedelta(hours=3)
    play(hub, merchant_id, [("order", "0911000001", 100_000, 0, early, "paid"),
                            ("order", "0911000002", 50_000, 2, early, "paid")])  # fmt: skip
    refresh(hub, merchant_id)
    assert len(member_day_rows(hub, merchant_id)) == 2
    play(hub, merchant_id, [("merge", "0911000001", "0911000002")])
    refresh(hub, merchant_id)
    bought = member_day_rows(hub, merchant_id)
    assert bought == raw_member_days(hub, merchant_id)
    assert len({member for _, member in bought}) == 1
