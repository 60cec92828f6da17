"""Exports: every report and the raw lists (vouchers, ledger lines, orders) as CSV or XLSX.

A report becomes tables (its totals beside the previous period's, its daily
series, its breakdowns); a raw list is one table read in batches of
``BATCH`` rows, so neither the database nor the process holds the whole list.
CSV is produced row by row as it is sent; no text cell can run as a formula
in a spreadsheet (``hub.spreadsheet_cells``). XLSX is written by openpyxl in
write-only mode (rows go to disk as they come, memory stays flat) into a
temporary file that is then sent in chunks: a zip archive cannot be sent
before its last row is written.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import ValidationError
from hub.models import Member
from hub.models import Order
from hub.models import PointEntry
from hub.models import Voucher
from hub.reports.periods import Period
from hub.spreadsheet_cells import csv_row
from hub.spreadsheet_cells import xlsx_text

FORMATS = ("csv", "xlsx")
BATCH = 2000
CHUNK = 64 * 1024
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Table:
    """A named table: a header row, then rows (possibly read lazily)."""

    name: str
    header: list[str]
    rows: Iterable[list[Any]]


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationError(
            f"unknown export format {fmt!r}: use csv or xlsx",
            code="invalid_format",
            details={"format": fmt},
        )
    return fmt


# -- reports as tables ---------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value


def report_tables(report: dict[str, Any]) -> list[Table]:
    """A report as tables: totals with the previous period's beside them, then its lists."""
    totals, previous = report.get("totals", {}), report.get("previous_totals", {})
    flat = [(k, v) for k, v in totals.items() if not isinstance(v, list)]
    tables = [
        Table(
            "totals",
            ["figure", f"{report['period']['from']}..{report['period']['to']}",
             f"{report['previous_period']['from']}..{report['previous_period']['to']}"],
            [[k, _cell(v), _cell(previous.get(k))] for k, v in flat],
        )
    ]  # fmt: skip
    for key, value in totals.items():
        if isinstance(value, list) and value:
            tables.append(_list_table(key, value))
    for key in ("series", "cohorts"):
        if report.get(key):
            tables.append(_list_table(key, report[key]))
    if report.get("method"):
        tables.append(Table("method", ["method"], [[report["method"]]]))
    return tables


def _list_table(name: str, items: list[dict[str, Any]]) -> Table:
    header = list(items[0])
    return Table(name, header, [[_cell(item.get(h)) for h in header] for item in items])


# -- raw lists -------------------------------------------------------------------


def _batches(session: Session, query: Any) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=BATCH))


def _vouchers(session: Session, merchant_id: int, within: Period) -> Table:
    query = (
        select(Voucher.id, Voucher.code, Member.code, Voucher.reward_name, Voucher.kind,
               Voucher.value, Voucher.points, Voucher.status, Voucher.issued_at,
               Voucher.expires_at, Voucher.used_at, Voucher.used_discount)
        .join(Member, Member.id == Voucher.member_id)
        .where(Voucher.merchant_id == merchant_id, Voucher.issued_at >= within.start,
               Voucher.issued_at < within.end)
        .order_by(Voucher.id)
    )  # fmt: skip
    header = ["id", "code", "member_code", "reward", "kind", "value", "points", "status",
              "issued_at", "expires_at", "used_at", "used_discount"]  # fmt: skip
    return Table("vouchers", header, (_plain(row) for row in _batches(session, query)))


def _ledger(session: Session, merchant_id: int, within: Period) -> Table:
    query = (
        select(PointEntry.id, PointEntry.created_at, Member.code, PointEntry.kind,
               PointEntry.points, PointEntry.rule, PointEntry.order_id, PointEntry.key,
               PointEntry.note, PointEntry.actor)
        .join(Member, Member.id == PointEntry.member_id)
        .where(PointEntry.merchant_id == merchant_id, PointEntry.created_at >= within.start,
               PointEntry.created_at < within.end)
        .order_by(PointEntry.created_at, PointEntry.id)
    )  # fmt: skip
    header = ["id", "created_at", "member_code", "kind", "points", "rule", "order_id", "key",
              "note", "actor"]  # fmt: skip
    return Table("ledger", header, (_plain(row) for row in _batches(session, query)))


def _orders(session: Session, merchant_id: int, within: Period) -> Table:
    query = (
        select(Order.id, Order.source, Order.external_id, Order.number, Member.code,
               Order.currency, Order.total, Order.total_discounts, Order.financial_status,
               Order.placed_at, Order.cancelled_at)
        .outerjoin(Member, Member.id == Order.member_id)
        .where(Order.merchant_id == merchant_id, Order.placed_at >= within.start,
               Order.placed_at < within.end)
        .order_by(Order.placed_at, Order.id)
    )  # fmt: skip
    header = ["id", "source", "external_id", "number", "member_code", "currency", "total",
              "total_discounts", "financial_status", "placed_at", "cancelled_at"]  # fmt: skip
    return Table("orders", header, (_plain(row) for row in _batches(session, query)))


def _plain(row: Iterable[Any]) -> list[Any]:
    return [_value(v) for v in row]


def _value(value: Any) -> Any:
    """A cell: times in ISO 8601, amounts as exact decimals (never ``2E+5``)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _decimal(value)
    return value


def _decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


LISTS: dict[str, Callable[[Session, int, Period], Table]] = {
    "vouchers": _vouchers,
    "ledger": _ledger,
    "orders": _orders,
}
_COUNTED = {
    "vouchers": (Voucher, Voucher.issued_at),
    "ledger": (PointEntry, PointEntry.created_at),
    "orders": (Order, Order.placed_at),
}


def list_table(session: Session, merchant_id: int, what: str, within: Period) -> Table:
    """The raw list ``what`` (vouchers, ledger, orders) of the period, read in batches."""
    if what not in LISTS:
        raise ValidationError(
            f"no list named {what!r}: the lists are {', '.join(LISTS)}", code="unknown_list"
        )
    return LISTS[what](session, merchant_id, within)


def list_size(session: Session, merchant_id: int, what: str, within: Period) -> int:
    """How many rows ``list_table`` gives: what a progress bar counts to."""
    model, column = _COUNTED[what]
    return int(
        session.scalar(
            select(func.count()).where(
                model.merchant_id == merchant_id, column >= within.start, column < within.end
            )
        )
    )


# -- writers ----------------------------------------------------------------------


def csv_chunks(tables: list[Table], on_row: Callable[[], None] | None = None) -> Iterator[str]:
    """CSV text, a few rows at a time; several tables are separated by a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, table in enumerate(tables):
        if len(tables) > 1:
            if n:
                writer.writerow([])
            writer.writerow([f"# {table.name}"])
        writer.writerow(table.header)
        for row in table.rows:
            writer.writerow(csv_row(row))
            if on_row:
                on_row()
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(tables: list[Table], on_row: Callable[[], None] | None = None) -> IO[bytes]:
    """An XLSX workbook, one sheet per table, written in write-only mode; rewound."""
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.header)
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
            if on_row:
                on_row()
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned
    book.save(spool)
    spool.seek(0)
    return spool


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """The value as openpyxl writes it: without the control characters XML refuses (a stored
    note typed by a program may carry them), and a text starting with ``=`` stored as text,
    not a formula."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not xlsx_text(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def file_chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK):
            yield chunk
