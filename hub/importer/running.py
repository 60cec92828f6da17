"""Import a members file from start to end: checked whole first, then written chunk by chunk.

A row is matched to an existing member by phone, then email; its opening
points are credited once per member (the ledger key is the member's, not the
file's), so importing the same file again changes nothing. The file is read
twice as a stream (once to check its encoding and headers and count its rows,
before anything is written; once to import), and the rows refused go to the
error file as they are met, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import TextIO

from sqlalchemy.exc import IntegrityError

from hub.errors import HubError
from hub.importer.reading import COLUMNS
from hub.importer.reading import RowError
from hub.importer.reading import count_rows
from hub.importer.reading import open_rows
from hub.importer.reading import parse_row
from hub.importer.seen import SeenKeys
from hub.importer.writing import Parsed
from hub.importer.writing import write_chunk
from hub.models import Member
from hub.spreadsheet_cells import csv_row

if TYPE_CHECKING:
    from hub.core import Hub

#: Rows written in one transaction.
CHUNK = 2000
#: Times a chunk is written again after a unique key clashed (a member code drawn twice,
#: or a member another transaction created meanwhile, found on the next try).
_ATTEMPTS = 3


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    points_credited: int = 0
    #: Where the refused rows are, or None when every row was imported.
    errors_path: Path | None = None

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected


class ErrorFile:
    """The refused rows with their line and reason, ready to fix and import again.

    Created with the first refused row; a file that refuses none leaves none.
    A cell that could run as a formula in a spreadsheet is quoted.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: TextIO | None = None
        self._writer: csv.writer | None = None  # type: ignore[valid-type]

    def add(self, line: int, reason: str, row: dict[str, str]) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reason", *COLUMNS])
        self._writer.writerow(csv_row([line, reason, *(row.get(c, "") for c in COLUMNS)]))

    @property
    def written(self) -> bool:
        return self._handle is not None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def import_members(
    hub: Hub,
    merchant_id: int,
    path: Path,
    *,
    errors_path: Path,
    progress: Callable[[int, int], None] = lambda done, total: None,
    encoding: str = "utf-8",
    chunk_size: int = CHUNK,
) -> ImportReport:
    """Import every row of ``path``; a bad row never blocks a good one.

    ``progress(done, total)`` is called once the file is checked (done 0) and
    after each chunk of ``chunk_size`` rows (one transaction each). Raises
    ``HubError`` (``EncodingProblem`` among them) for a file that cannot be
    read, before anything is written.
    """
    total = count_rows(path, encoding)
    progress(0, total)
    report = ImportReport()
    region = hub.config["HUB_DEFAULT_REGION"]
    errors, seen = ErrorFile(errors_path), SeenKeys()
    sampled_at = 0
    try:
        with open_rows(path, encoding) as opened:
            chunk: list[Parsed] = []
            for line, row in opened.rows:
                try:
                    chunk.append(Parsed(line, row, parse_row(row, region)))
                except RowError as exc:
                    errors.add(line, str(exc), row)
                    report.rejected += 1
                if len(chunk) >= chunk_size:
                    _import_chunk(hub, merchant_id, chunk, seen, errors, report)
                    chunk = []
                    progress(report.total, total)
                    if report.created > 2 * sampled_at:
                        # The database's picture of the merchant's members is kept within
                        # half of the truth, so each chunk's lookup by phone and email reads
                        # the keys' indexes, not all the members: a few samples per file.
                        hub.db.refresh_statistics(Member.__table__)
                        sampled_at = report.created
            _import_chunk(hub, merchant_id, chunk, seen, errors, report)
            progress(report.total, total)
    finally:
        errors.close()
        seen.close()
    report.errors_path = errors.path if errors.written else None
    return report


def _import_chunk(
    hub: Hub,
    merchant_id: int,
    chunk: list[Parsed],
    seen: SeenKeys,
    errors: ErrorFile,
    report: ImportReport,
) -> None:
    fresh = _refuse_repeats(chunk, seen, errors, report)
    if not fresh:
        return
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            written = write_chunk(hub, merchant_id, fresh)
            break
        except IntegrityError:
            if attempt == _ATTEMPTS:
                raise HubError(
                    f"rows from line {fresh[0].line} clash with members written at the same "
                    f"time {_ATTEMPTS} times; import the file again",
                    code="import_conflict",
                ) from None
    for parsed, reason in written.refused:
        errors.add(parsed.line, reason, parsed.row)
    report.created += written.created
    report.updated += written.updated
    report.unchanged += written.unchanged
    report.rejected += len(written.refused)
    report.points_credited += written.points_credited


def _refuse_repeats(
    chunk: list[Parsed], seen: SeenKeys, errors: ErrorFile, report: ImportReport
) -> list[Parsed]:
    """The rows whose phone and email no earlier row had; the others go to the error file."""
    keys = [(k, p.line) for p in chunk for k in (p.data["phone"], p.data["email"]) if k]
    first = seen.first_lines(k for k, _ in keys)
    fresh = []
    for parsed in chunk:
        mine = [k for k in (parsed.data["phone"], parsed.data["email"]) if k]
        repeated = next((k for k in mine if k in first), None)
        if repeated is not None:
            errors.add(
                parsed.line,
                f"{repeated} is also on line {first[repeated]}; keep one row",
                parsed.row,
            )
            report.rejected += 1
        else:
            fresh.append(parsed)
        for key in mine:
            first.setdefault(key, parsed.line)
    seen.add(keys)
    return fresh
