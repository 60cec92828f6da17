"""hub import members: good rows in, bad rows reported with reasons, re-runs change nothing."""

import csv

import pytest
from sqlalchemy import func
from sqlalchemy import select

from hub.models import Member
from hub.models import PointEntry
from hub.points import ledger

ROWS = [
    ["phone", "email", "name", "birthday", "opening_points", "total_spent"],
    ["0912345678", "lan@example.vn", "Nguyễn Thị Lan", "1990-05-02", "1200", "3500000"],
    ["01662345678", "", "Trần Minh", "02/05/1985", "0", ""],
    ["12345", "bad@example.vn", "Bad phone", "", "10", ""],
    ["", "", "Nobody", "", "", ""],
    ["0987654321", "minh@example.vn", "Bad birthday", "1990-13-45", "", ""],
    ["0977777777", "", "Bad points", "", "-5", ""],
    ["0966666666", "", "Fractional points", "", "1.5", ""],
    ["0955555555", "", "Bad money", "", "", "lots"],
    ["+84 912 345 678", "", "Duplicate of Lan", "", "300", ""],
]


@pytest.fixture
def members_csv(tmp_path):
    path = tmp_path / "members.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    return path


def members(hub):
    with hub.db.session() as session:
        return {m.phone: m for m in session.scalars(select(Member))}


def test_import_takes_good_rows_and_reports_bad_ones(runner, hub, merchant, members_csv):
    result = runner.invoke(
        args=["import", "members", str(members_csv), "--merchant", str(merchant.id)]
    )

    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged, 7 rejected; 1200 opening points credited" in (
        result.output
    )
    rows = members(hub)
    assert set(rows) == {"+84912345678", "+84362345678"}
    lan = rows["+84912345678"]
    assert lan.points_balance == 1200
    assert str(lan.birthday) == "1990-05-02"
    assert lan.total_spent == 3500000
    assert str(rows["+84362345678"].birthday) == "1985-05-02"

    report = list(csv.DictReader((members_csv.with_suffix(".errors.csv")).open()))
    reasons = {r["name"]: r["reason"] for r in report}
    assert set(reasons) == {
        "Bad phone", "Nobody", "Bad birthday", "Bad points", "Fractional points", "Bad money",
        "Duplicate of Lan",
    }  # fmt: skip
    # a text starting with + could run in a spreadsheet: the error file quotes it
    assert reasons["Duplicate of Lan"] == "'+84912345678 is also on line 2; keep one row"
    assert "not a valid phone number" in reasons["Bad phone"]
    assert "neither a phone nor an email" in reasons["Nobody"]
    assert "birthday" in reasons["Bad birthday"]
    assert "whole number" in reasons["Fractional points"]


def test_importing_the_same_file_again_changes_nothing(runner, hub, merchant, members_csv):
    args = ["import", "members", str(members_csv), "--merchant", str(merchant.id)]
    runner.invoke(args=args)
    before = {phone: (m.points_balance, m.total_spent) for phone, m in members(hub).items()}

    again = runner.invoke(args=args)

    assert "0 created, 0 updated, 2 unchanged, 7 rejected; 0 opening points credited" in (
        again.output
    )
    after = {phone: (m.points_balance, m.total_spent) for phone, m in members(hub).items()}
    assert after == before
    with hub.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PointEntry)) == 1


def test_opening_points_are_a_lot_like_any_other(runner, hub, merchant, members_csv):
    runner.invoke(args=["import", "members", str(members_csv), "--merchant", str(merchant.id)])
    lan = members(hub)["+84912345678"]
    with hub.db.session() as session:
        entry = session.scalars(select(PointEntry)).one()
        assert (entry.kind, entry.rule, entry.actor) == ("import", "opening_balance", "import")
        assert ledger.balance(session, lan.id).available == 1200
        assert ledger.balance_from_entries(session, lan.id) == lan.points_balance


def test_unknown_columns_stop_the_import_before_any_row(runner, hub, merchant, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("phone,points_balance\n0912345678,5\n")
    result = runner.invoke(args=["import", "members", str(path), "--merchant", str(merchant.id)])
    assert result.exit_code != 0
    assert "unknown columns ['points_balance']" in result.output
    assert members(hub) == {}


def test_import_for_an_unknown_merchant_fails_clearly(runner, members_csv):
    result = runner.invoke(args=["import", "members", str(members_csv), "--merchant", "42"])
    assert result.exit_code != 0
    assert "merchant 42 does not exist" in result.output


def test_an_existing_member_is_completed_not_duplicated(runner, hub, api, merchant, tmp_path):
    existing = api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json
    path = tmp_path / "one.csv"
    path.write_text("phone,email,name,opening_points\n0912345678,lan@example.vn,Other,50\n")

    result = runner.invoke(args=["import", "members", str(path), "--merchant", str(merchant.id)])

    assert "0 created, 1 updated, 0 unchanged, 0 rejected; 50 opening points credited" in (
        result.output
    )
    body = api.get(f"/api/v1/members/{existing['id']}").json
    assert (body["email"], body["name"]) == ("lan@example.vn", "Lan")
