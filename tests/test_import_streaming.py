"""The member import in chunks: Vietnamese headers, repeats across chunks, clashes with other
members, a file checked whole before any write, and the preview of a file."""

import csv

import pytest
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from hub.errors import HubError
from hub.importer import EncodingProblem
from hub.importer import import_members
from hub.importer import preview
from hub.importer.reading import BLOCK
from hub.importer.writing import holders_query
from hub.importer.writing import member_codes
from hub.members.directory import CODE_ALPHABET
from hub.models import Member


def write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def run(hub, merchant, path, **options):
    with hub.app.app_context():
        return import_members(
            hub, merchant.id, path, errors_path=path.with_suffix(".errors.csv"), **options
        )


def members(hub):
    with hub.db.session() as session:
        return {m.phone or m.email: m for m in session.scalars(select(Member))}


def reasons(path):
    with path.with_suffix(".errors.csv").open(encoding="utf-8") as handle:
        return {int(r["line"]): r["reason"] for r in csv.DictReader(handle)}


def test_vietnamese_headers_with_accents_or_written_together_are_understood(
    hub, merchant, tmp_path
):
    path = write(
        tmp_path / "khach.csv",
        [
            ["Số điện thoại", "Họ tên", "Ngày sinh", "Điểm", "Tổng chi tiêu", "Thư điện tử"],
            ["0912345678", "Nguyễn Thị Lan", "02/05/1990", "150", "2000000", "lan@example.vn"],
        ],
    )
    report = run(hub, merchant, path)

    assert (report.created, report.rejected, report.points_credited) == (1, 0, 150)
    lan = members(hub)["+84912345678"]
    assert (lan.name, str(lan.birthday), lan.email) == (
        "Nguyễn Thị Lan",
        "1990-05-02",
        "lan@example.vn",
    )
    assert lan.total_spent == 2000000
    assert report.errors_path is None


def test_the_haraloyalty_template_header_names_the_phone(hub, merchant, tmp_path):
    path = write(tmp_path / "hara.csv", [["SoDienThoai", "HoTen"], ["0912345678", "Lan"]])
    assert run(hub, merchant, path).created == 1


def test_a_column_given_twice_stops_the_import(hub, merchant, tmp_path):
    path = write(tmp_path / "twice.csv", [["sdt", "phone"], ["0912345678", "0912345679"]])
    with pytest.raises(HubError, match=r"columns \['phone'\] are given twice"):
        run(hub, merchant, path)
    assert members(hub) == {}


def test_a_repeat_in_a_later_chunk_names_the_first_line(hub, merchant, tmp_path):
    rows = [["phone", "name"]] + [[f"09123456{n:02d}", f"M{n}"] for n in range(7)]
    rows.append(["0912345601", "Again"])
    path = write(tmp_path / "repeat.csv", rows)

    report = run(hub, merchant, path, chunk_size=3)

    assert (report.created, report.rejected) == (7, 1)
    # the error file quotes a text a spreadsheet could run (it starts with +)
    assert reasons(path) == {9: "'+84912345601 is also on line 3; keep one row"}


def test_every_chunk_reports_progress_up_to_the_total(hub, merchant, tmp_path):
    rows = [["phone"]] + [[f"09123456{n:02d}"] for n in range(5)] + [["123"]]
    path = write(tmp_path / "progress.csv", rows)
    seen = []

    run(hub, merchant, path, chunk_size=2, progress=lambda done, total: seen.append((done, total)))

    assert seen[0] == (0, 6)
    assert seen[-1] == (6, 6)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_phone_held_by_a_merged_member_is_refused_with_its_id(hub, merchant, tmp_path):
    first = write(tmp_path / "first.csv", [["phone"], ["0912345678"]])
    run(hub, merchant, first)
    old = members(hub)["+84912345678"]
    with hub.db.transaction() as session:
        session.execute(update(Member).where(Member.id == old.id).values(status="merged"))
    again = write(tmp_path / "again.csv", [["phone", "name"], ["0912345678", "Lan"]])

    report = run(hub, merchant, again)

    assert (report.created, report.rejected) == (0, 1)
    assert reasons(again) == {2: f"another member (id {old.id}) already has this phone"}


def test_an_email_of_another_member_is_not_given_to_the_one_matched_by_phone(
    hub, merchant, tmp_path
):
    write(tmp_path / "two.csv", [["phone", "email"], ["0912345678", ""], ["0987654321", "x@e.vn"]])
    run(hub, merchant, tmp_path / "two.csv")
    owner = members(hub)["+84987654321"]
    path = write(tmp_path / "clash.csv", [["phone", "email"], ["0912345678", "x@e.vn"]])

    report = run(hub, merchant, path)

    assert report.rejected == 1
    assert reasons(path) == {2: f"another member (id {owner.id}) already has this email"}
    assert members(hub)["+84912345678"].email is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["0912345678", "Lan", "01/01/2999"], "birthday '01/01/2999' is in the future"),
        (["0912345678", "L" * 201, ""], "name is longer than 200 characters"),
        (["0912345678", "Lan", "31/02/1990"], "birthday '31/02/1990' is not a date"),
    ],
)
def test_rows_the_members_table_cannot_hold_are_refused(hub, merchant, tmp_path, row, reason):
    path = write(tmp_path / "bad.csv", [["sdt", "ho_ten", "ngay_sinh"], row])
    report = run(hub, merchant, path)
    assert (report.created, report.rejected) == (0, 1)
    assert reasons(path)[2].startswith(reason)


def test_a_bad_byte_past_the_first_block_stops_the_file_before_any_row(hub, merchant, tmp_path):
    good = "".join(f"09{10_000_000 + n},Lan\r\n" for n in range(BLOCK // 10))
    path = tmp_path / "late.csv"
    path.write_bytes(b"phone,name\r\n" + good.encode() + "0987654321,Đăng\r\n".encode("cp1258"))
    line = good.count("\n") + 2

    with pytest.raises(EncodingProblem, match=rf"on line {line}\); it looks like Windows-1258"):
        run(hub, merchant, path)
    assert members(hub) == {}


def test_a_multibyte_character_split_between_blocks_is_read_whole(hub, merchant, tmp_path):
    head = b"phone,,name\n0912345678,"  # the unnamed column holds the filler
    filler = b"x" * (BLOCK - 2 - len(head))
    path = tmp_path / "split.csv"
    path.write_bytes(head + filler + b"," + "Đức\n".encode())  # Đ's two bytes straddle blocks
    report = run(hub, merchant, path)
    assert report.created == 1
    assert members(hub)["+84912345678"].name == "Đức"


def test_the_preview_maps_each_header_and_shows_the_first_rows(tmp_path):
    rows = [["SĐT", "Họ và tên", ""]] + [[f"09123456{n:02d}", f"M{n}", ""] for n in range(5)]
    path = write(tmp_path / "p.csv", rows)

    shown = preview(path, limit=2)

    assert shown["columns"] == [
        {"header": "SĐT", "field": "phone"},
        {"header": "Họ và tên", "field": "name"},
        {"header": "", "field": None},
    ]
    assert [(r["line"], r["phone"], r["name"]) for r in shown["rows"]] == [
        (2, "0912345600", "M0"),
        (3, "0912345601", "M1"),
    ]


def test_member_codes_are_eight_letters_of_the_members_alphabet():
    codes = member_codes(500)
    assert len(codes) == 500
    assert all(len(c) == 8 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert len(set(codes)) == 500


def test_imported_names_are_found_without_their_accents_new_or_filled_in_later(
    hub, merchant, tmp_path
):
    write(tmp_path / "a.csv", [["sdt", "email"], ["0912345001", "ha@example.vn"]])
    run(hub, merchant, tmp_path / "a.csv")
    write(
        tmp_path / "b.csv",
        [["sdt", "ho_ten"], ["0912345001", "Trần Thị Hà"], ["0912345002", "Đỗ Văn Đức"]],
    )
    run(hub, merchant, tmp_path / "b.csv")

    found = members(hub)
    assert found["+84912345001"].search_name == "tran thi ha"
    assert found["+84912345002"].search_name == "do van duc"


def test_a_growing_import_keeps_finding_its_members_through_the_phone_and_email_indexes(
    hub, merchant, tmp_path
):
    """PostgreSQL plans each chunk's lookup from its statistics of the members table. Left
    as they were before the import (no members), they have it read every member of the
    merchant for each chunk, and a file of a million rows takes hours; the import has them
    sampled again as it grows, so the lookup probes the unique indexes."""
    if hub.db.is_sqlite:
        pytest.skip("SQLite plans this lookup from its indexes alone")
    rows = [["sdt", "ho_ten"]] + [[f"0912{n:06d}", "Lan"] for n in range(3000)]
    report = run(hub, merchant, write(tmp_path / "many.csv", rows), chunk_size=300)
    assert report.created == 3000
    phones = [f"+84912{n:06d}" for n in range(1000, 1005)]
    with hub.db.session() as session:
        query = holders_query(session, merchant.id, phones, [])
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(session.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "uq_members_merchant_id_phone" in plan, plan
