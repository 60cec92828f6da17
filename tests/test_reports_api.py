"""Reports over HTTP: every report for a period, its errors, and its files opened back."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import openpyxl
import pytest
from points_fixtures import order as make_order

from hub.orders.batches import record_order
from hub.reports.catalogue import REPORTS

PLACED = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 23:30 on 30 November in Hanoi
PERIOD = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def orders(hub, merchant):
    """Two member orders and a guest order in November, the last at 23:30 on its last day."""
    for n, (phone, total) in enumerate((("0912345678", 200_000), ("0912345678", 300_000),
                                        (None, 50_000))):  # fmt: skip
        at = PLACED - timedelta(days=2 - n)
        with hub.db.transaction() as session:
            record_order(hub, session, merchant.id, make_order(f"N{n}", total, phone=phone,
                         placed_at=at), source="shop", now=at)  # fmt: skip


def test_the_list_of_reports(api):
    assert api.get("/api/v1/reports").json == {"reports": list(REPORTS)}


@pytest.mark.parametrize("name", list(REPORTS))
def test_every_report_of_an_empty_merchant_answers_zeros(api, name):
    response = api.get(f"/api/v1/reports/{name}?{PERIOD}")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["report"] == name
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30",
                              "timezone": "Asia/Ho_Chi_Minh"}  # fmt: skip
    numbers = [v for v in body["totals"].values() if isinstance(v, int)]
    assert all(v == 0 for v in numbers)


def test_participation_in_november(api, orders):
    totals = api.get(f"/api/v1/reports/participation?{PERIOD}").json["totals"]
    assert totals["member_orders"] == 2 and totals["guest_orders"] == 1
    assert totals["member_revenue"] == "500000" and totals["guest_revenue"] == "50000"
    assert totals["member_order_share"] == "0.6667"
    assert totals["active_members"] == 1
    december = api.get("/api/v1/reports/participation?from=2026-12-01&to=2026-12-31").json
    assert december["totals"]["member_orders"] == 0
    assert december["previous_totals"]["member_orders"] == 2


def test_a_period_that_ends_before_it_begins_is_refused(api):
    response = api.get("/api/v1/reports/points?from=2026-12-01&to=2026-11-01")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_period"


def test_a_period_longer_than_ten_years_is_refused(api):
    response = api.get("/api/v1/reports/points?from=2000-01-01&to=2026-11-01")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_period"


def test_a_date_that_is_not_one_is_refused(api):
    response = api.get("/api/v1/reports/points?from=yesterday")
    assert response.status_code == 422
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_an_unknown_export_format_is_refused(api):
    response = api.get("/api/v1/reports/points/export?format=pdf")
    assert response.status_code == 422


def test_the_csv_export_of_a_report_holds_its_totals(api, orders):
    report = api.get(f"/api/v1/reports/participation?{PERIOD}").json
    response = api.get(f"/api/v1/reports/participation/export?format=csv&{PERIOD}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "participation-2026-11-01-2026-11-30.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["# totals"]
    found = {row[0]: row[1] for row in rows[2:] if len(row) == 3}
    for name, value in report["totals"].items():
        if isinstance(value, dict):  # a breakdown: new members by how they joined
            assert set(found[name].split("; ")) == {f"{k}={v}" for k, v in value.items()}
        else:
            assert found[name] == ("" if value is None else str(value))
    assert found["new_members_by_source"].startswith("store=")


def test_the_xlsx_export_of_a_report_has_a_sheet_per_table(api, orders):
    report = api.get(f"/api/v1/reports/points?{PERIOD}").json
    response = api.get(f"/api/v1/reports/points/export?format=xlsx&{PERIOD}")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["totals", "series"]
    header, *series = list(book["series"].iter_rows(values_only=True))
    assert [dict(zip(header, row, strict=True)) for row in series] == report["series"]
    totals = {row[0]: row[1] for row in book["totals"].iter_rows(min_row=2, values_only=True)}
    assert totals["issued"] == report["totals"]["issued"] > 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_orders_list_exports_every_order_of_the_period(api, orders, fmt):
    response = api.get(f"/api/v1/exports/orders?format={fmt}&{PERIOD}")
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        rows = [list(r) for r in book["orders"].iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    assert header[:3] == ["id", "source", "external_id"]
    assert sorted(row[2] for row in body) == ["N0", "N1", "N2"]
    totals = sorted(str(row[header.index("total")]) for row in body)
    assert [t.split(".")[0] for t in totals] == ["200000", "300000", "50000"]


def test_the_ledger_list_exports_the_entries_of_the_period(api, orders):
    rows = list(csv.reader(io.StringIO(
        api.get(f"/api/v1/exports/ledger?{PERIOD}").data.decode("utf-8-sig"))))  # fmt: skip
    assert rows[0][:5] == ["id", "created_at", "member_code", "kind", "points"]
    assert [row[3] for row in rows[1:]] == ["earn", "earn"]


def test_another_merchants_export_holds_none_of_these_orders(other_api, orders):
    rows = other_api.get(f"/api/v1/exports/orders?{PERIOD}").data.decode("utf-8-sig")
    assert rows.strip().splitlines()[1:] == []


def test_a_note_with_a_control_character_exports_to_xlsx_without_it(api, member):
    reason = "quà\x16 khai trương"
    made = api.post(
        f"/api/v1/members/{member['id']}/adjustments", json={"points": 5, "reason": reason}
    )
    assert made.status_code == 201, made.json
    today = datetime.now(UTC).date()
    period = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    response = api.get(f"/api/v1/exports/ledger?format=xlsx&{period}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
    assert "quà khai trương" in cells
