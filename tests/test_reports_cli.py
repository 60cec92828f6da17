"""``hub reports rebuild`` and ``hub export``: files written, opened back, errors named."""

from __future__ import annotations

import csv
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import openpyxl
import pytest
from points_fixtures import order as make_order
from sqlalchemy import select

from hub.models import ReportDay
from hub.orders.batches import record_order

PLACED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def orders(hub, merchant):
    for n in range(3):
        at = PLACED + timedelta(days=n)
        with hub.db.transaction() as session:
            record_order(hub, session, merchant.id, make_order(f"C{n}", 100_000 * (n + 1),
                         placed_at=at), source="shop", now=at)  # fmt: skip


def _rollups(hub, merchant_id):
    with hub.db.session() as session:
        rows = session.scalars(select(ReportDay).where(ReportDay.merchant_id == merchant_id))
        return sorted((r.day, r.metric, r.dimension, r.count, r.points, r.amount_e4) for r in rows)


def test_rebuild_writes_the_rollups_the_refresh_wrote(runner, hub, merchant, orders):
    assert runner.invoke(args=["reports", "refresh"]).exit_code == 0
    refreshed = _rollups(hub, merchant.id)
    assert refreshed
    result = runner.invoke(args=["reports", "rebuild", "--merchant", str(merchant.id)])
    assert result.exit_code == 0, result.output
    assert "rollup rows written" in result.output
    assert _rollups(hub, merchant.id) == refreshed


def test_rebuild_of_an_unknown_merchant_says_so(runner):
    result = runner.invoke(args=["reports", "rebuild", "--merchant", "999999"])
    assert result.exit_code != 0
    assert "merchant 999999 not found" in result.output


def test_a_since_that_is_not_a_day_is_refused(runner, merchant):
    result = runner.invoke(args=["reports", "rebuild", "--merchant", str(merchant.id),
                                 "--since", "last week"])  # fmt: skip
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_export_orders_writes_every_order_of_the_period(runner, merchant, orders, tmp_path):
    target = tmp_path / "orders.csv"
    result = runner.invoke(args=["export", "orders", "--merchant", str(merchant.id),
                                 "--from", "2026-11-01", "--to", "2026-11-30",
                                 "-o", str(target)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output
    with target.open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert [(r["external_id"], r["total"]) for r in rows] == [
        ("C0", "100000"), ("C1", "200000"), ("C2", "300000")]  # fmt: skip


def test_export_a_report_as_xlsx(runner, merchant, orders, tmp_path):
    target = tmp_path / "p.xlsx"
    result = runner.invoke(args=["export", "report", "participation", "--merchant",
                                 str(merchant.id), "--from", "2026-11-01", "--to", "2026-11-30",
                                 "--format", "xlsx", "-o", str(target)])  # fmt: skip
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(target)
    totals = {row[0]: row[1] for row in book["totals"].iter_rows(min_row=2, values_only=True)}
    assert totals["member_orders"] == 3
    assert totals["member_revenue"] == "600000"


def test_export_a_period_that_ends_before_it_begins_says_so(runner, merchant, tmp_path):
    result = runner.invoke(args=["export", "ledger", "--merchant", str(merchant.id),
                                 "--from", "2026-11-30", "--to", "2026-11-01",
                                 "-o", str(tmp_path / "x.csv")])  # fmt: skip
    assert result.exit_code == 1
    assert "before it begins" in result.output
