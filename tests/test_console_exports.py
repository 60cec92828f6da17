"""Every console export (members CSV, reports CSV/XLSX, an import's refused rows): who gets it,
and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from console_support import csrf
from console_support import make_staff
from console_support import sign_in
from openpyxl import load_workbook
from test_console_import import upload

from hub.reports.exports import Table
from hub.reports.exports import csv_chunks
from hub.reports.exports import xlsx_file
from hub.spreadsheet_cells import csv_cell

#: Cells a spreadsheet would run, each as a person could type it into a name or a reward.
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3+cmd|x",
            "@SUM(1+1)*cmd|x", "\t=1+1", "\r=1+1"]  # fmt: skip
SECRET = "Nguyễn Thị Lan"
REPORTS = ("participation", "points", "rewards", "tiers", "customers")
REFUSED_ROWS = "sdt,ho_ten\nnot a phone,=1+2\n"


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def runs_as_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def shop(api):
    """The first merchant: one member, one reward, one import with a refused row."""
    api.post("/api/v1/members", json={"name": SECRET, "phone": "0912345678"})
    api.post(
        "/api/v1/rewards",
        json={"name": "Quà Tết 2027", "kind": "amount_off", "value": "50000", "points_cost": 5},
    )


def exports(import_id: str = "0" * 32) -> list[str]:
    paths = ["/console/members.csv", "/console/members.csv?q=lan"]
    for name in REPORTS:
        paths += [f"/console/reports/export?report={name}&format={f}" for f in ("csv", "xlsx")]
    return [*paths, f"/console/members/import/{import_id}/errors"]


def text_of(response) -> str:
    """What an export holds, XLSX opened and read cell by cell."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data))
        return "\n".join(
            str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
        )
    return response.get_data(as_text=True)


def test_an_anonymous_visitor_gets_no_export(client, shop):
    for path in exports():
        response = client.get(path)
        assert response.status_code in (302, 404), path
        if response.status_code == 302:
            assert "/console/sign-in" in response.headers["Location"], path
        assert SECRET not in response.get_data(as_text=True), path


def test_another_shops_user_gets_only_their_own_shops_exports(
    app, client, hub, merchant, other_merchant, shop
):
    first = app.test_client()
    assert sign_in(first, make_staff(hub, merchant.id, "manager").email).status_code == 302
    import_id = upload(first, REFUSED_ROWS.encode()).location.rsplit("/", 1)[1]
    first.post(f"/console/members/import/{import_id}/start", data={"csrf_token": csrf(first)})
    assert first.get(f"/console/members/import/{import_id}/errors").status_code == 200
    assert SECRET in first.get("/console/members.csv").get_data(as_text=True)
    # a manager of another shop: the first shop's refused rows are not found
    stranger = make_staff(hub, other_merchant.id, "owner", email="chu@shop-khac.example")
    assert sign_in(client, stranger.email).status_code == 302
    for path in exports(import_id):
        response = client.get(path)
        if "/errors" in path:
            assert response.status_code == 404, path
        else:  # their own (empty) lists and reports
            assert response.status_code == 200, path
        body = text_of(response) if response.status_code == 200 else response.get_data(True)
        assert SECRET not in body and "Quà Tết 2027" not in body, path


def test_a_member_named_like_a_formula_is_exported_as_text(client, hub, merchant, api):
    for n, name in enumerate(FORMULAS):
        api.post("/api/v1/members", json={"name": name, "phone": f"091234567{n}"})
    api.post("/api/v1/members", json={"name": "Ms =Lan", "email": "lan@example.vn"})
    assert sign_in(client, make_staff(hub, merchant.id, "manager").email).status_code == 302
    rows = rows_of(client.get("/console/members.csv").get_data(as_text=True))
    header, body = rows[0], rows[1:]
    names = {row[header.index("name")] for row in body}
    assert names == {"'" + name for name in FORMULAS} | {"Ms =Lan"}
    assert not any(runs_as_formula(cell) for row in body for cell in row if cell[:1] != "+")
    # a phone is a signed number, not a formula: it stays as it is
    assert {row[header.index("phone")] for row in body} >= {"+84912345670", ""}


def test_an_imports_refused_rows_are_written_as_text(client, hub, merchant):
    assert sign_in(client, make_staff(hub, merchant.id, "manager").email).status_code == 302
    import_id = upload(client, REFUSED_ROWS.encode()).location.rsplit("/", 1)[1]
    client.post(f"/console/members/import/{import_id}/start", data={"csrf_token": csrf(client)})
    rows = rows_of(client.get(f"/console/members/import/{import_id}/errors").get_data(True))
    assert "'=1+2" in rows[1] and "=1+2" not in rows[1]


def test_report_files_never_hold_a_formula():
    table = Table("Rewards", ["reward", "redeemed", "change"],
                  [[name, 3, -2] for name in FORMULAS] + [["Quà Tết", None, "-5"]])  # fmt: skip
    rows = rows_of("".join(csv_chunks([table])))
    assert [row[0] for row in rows[1:]] == ["'" + name for name in FORMULAS] + ["Quà Tết"]
    assert rows[-1] == ["Quà Tết", "", "-5"] and rows[1][2] == "-2"
    book = load_workbook(xlsx_file([table]))
    cells = list(book["Rewards"].iter_rows(min_row=2))
    # (XML keeps no carriage return: it reads back as a line feed)
    expected = [name.replace("\r", "\n") for name in FORMULAS]
    assert [row[0].value for row in cells] == [*expected, "Quà Tết"]
    assert all(row[0].data_type == "s" for row in cells)  # text, never a formula
    assert cells[0][2].value == -2 and cells[0][2].data_type == "n"


@pytest.mark.parametrize(
    "value, cell",
    [("=1+1", "'=1+1"), ("+84912345678", "+84912345678"), ("-5", "-5"), ("-2+3", "'-2+3"),
     ("-2+A1", "'-2+A1"), ("@x", "'@x"), ("Lan", "Lan"), ("", ""), (7, 7), (None, None)],
)  # fmt: skip
def test_a_cell_is_quoted_only_when_it_could_run(value, cell):
    assert csv_cell(value) == cell
