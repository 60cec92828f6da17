"""A report or a raw list as a file to send: its name, its type and its bytes in chunks.

The API streams the chunks; ``hub export`` writes them to a file with a
progress bar (``on_row`` is called once per row written).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from hub.db import utcnow
from hub.reports.catalogue import run_report
from hub.reports.exports import MEDIA_TYPES
from hub.reports.exports import check_format
from hub.reports.exports import csv_chunks
from hub.reports.exports import file_chunks
from hub.reports.exports import list_size
from hub.reports.exports import list_table
from hub.reports.exports import report_tables
from hub.reports.exports import xlsx_file
from hub.reports.periods import Period
from hub.reports.periods import period
from hub.reports.rollups import merchant_zone

if TYPE_CHECKING:
    from hub.core import Hub


@dataclass
class Download:
    filename: str
    media_type: str
    chunks: Iterator[bytes]
    rows: int


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    first = True
    for text in chunks:
        # A byte order mark first: spreadsheet programs then read the file as UTF-8.
        yield (("\ufeff" if first else "") + text).encode("utf-8")
        first = False


def _chunks(tables, fmt: str, on_row: Callable[[], None] | None) -> Iterator[bytes]:
    if fmt == "csv":
        return _encoded(csv_chunks(tables, on_row))
    return file_chunks(xlsx_file(tables, on_row))


def report_download(
    hub: Hub,
    merchant_id: int,
    name: str,
    fmt: str,
    first: date | None = None,
    last: date | None = None,
    *,
    now: datetime | None = None,
    on_row: Callable[[], None] | None = None,
) -> Download:
    """Report ``name`` as CSV or XLSX."""
    check_format(fmt)
    report = run_report(hub, merchant_id, name, first, last, now=now)
    tables = report_tables(report)
    within = report["period"]
    filename = f"{name}-{within['from']}-{within['to']}.{fmt}"
    rows = sum(len(table.rows) for table in tables)  # type: ignore[arg-type]
    return Download(filename, MEDIA_TYPES[fmt], _chunks(tables, fmt, on_row), rows)


def list_period(
    hub: Hub, merchant_id: int, first: date | None, last: date | None, now: datetime | None
) -> Period:
    with hub.db.session() as session:
        tz = merchant_zone(session, merchant_id)
    return period(tz, first, last, (now or utcnow()).astimezone(tz).date())


def list_download(
    hub: Hub,
    merchant_id: int,
    what: str,
    fmt: str,
    first: date | None = None,
    last: date | None = None,
    *,
    now: datetime | None = None,
    on_row: Callable[[], None] | None = None,
) -> Download:
    """The raw list ``what`` (vouchers, ledger, orders) of the period as CSV or XLSX.

    The rows are read while the chunks are taken, in one read session held
    until the last one.
    """
    check_format(fmt)
    within = list_period(hub, merchant_id, first, last, now)
    with hub.db.session() as session:
        list_table(session, merchant_id, what, within)  # an unknown list fails here, before
        rows = list_size(session, merchant_id, what, within)

    def chunks() -> Iterator[bytes]:
        with hub.db.session() as session:
            yield from _chunks([list_table(session, merchant_id, what, within)], fmt, on_row)

    filename = f"{what}-{within.first}-{within.last}.{fmt}"
    return Download(filename, MEDIA_TYPES[fmt], chunks(), rows)
