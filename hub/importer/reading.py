"""Read a members CSV as a stream: its encoding checked, its headers mapped, each row parsed.

Nothing here holds more than one block of the file at a time, so a file of
any length is read in the same memory.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import Any

from hub.db import latest_today
from hub.errors import HubError
from hub.phones import normalize_email
from hub.phones import normalize_phone

COLUMNS = ("phone", "email", "name", "birthday", "opening_points", "total_spent")

#: Other names a header may have, written without accents, spaces or underscores
#: (``Số điện thoại``, ``so_dien_thoai`` and ``SoDienThoai`` are all ``sodienthoai``).
ALIASES = {
    "sodienthoai": "phone",
    "sdt": "phone",
    "dienthoai": "phone",
    "didong": "phone",
    "mobile": "phone",
    "thudientu": "email",
    "hoten": "name",
    "hovaten": "name",
    "ten": "name",
    "tenkhachhang": "name",
    "ngaysinh": "birthday",
    "diem": "opening_points",
    "diemthuong": "opening_points",
    "diemhientai": "opening_points",
    "points": "opening_points",
    "openingpoints": "opening_points",
    "tongchitieu": "total_spent",
    "totalspent": "total_spent",
}

#: Bytes read at a time; a row is never held longer than the block it ends in.
BLOCK = 1 << 16
#: Name, email and phone lengths the members table holds.
_LIMITS = {"name": 200, "email": 254}

#: Bytes of Windows-1258 that only Vietnamese text uses: Ă ă Đ đ Ơ ơ Ư ư and the
#: combining tone marks (grave, hook, tilde, acute, dot below).
_VIETNAMESE_1258 = frozenset(b"\xc3\xe3\xd0\xf0\xd5\xf5\xdd\xfd\xcc\xec\xd2\xde\xf2")


class EncodingProblem(HubError):
    """The file is not in the encoding it is read with; the message names the likely one."""

    code = "import_encoding"


class RowError(Exception):
    """One row cannot be imported; the message is the reason the error file gives."""


def check_encoding_name(encoding: str) -> str:
    """Return Python's name for ``encoding``; raise ``EncodingProblem`` for an unknown one."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise EncodingProblem(
            f"unknown encoding {encoding!r}: use utf-8, cp1258 (Vietnamese Windows) "
            f"or cp1252 (Western Windows)"
        ) from None


def guess_encoding(raw: bytes) -> tuple[str, str]:
    """Name the encoding ``raw`` most likely is in: (codec, what people call it)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 'UTF-16 (Excel\'s "Unicode Text")'
    high = [b for b in raw if b >= 0x80]
    vietnamese = sum(1 for b in high if b in _VIETNAMESE_1258)
    if high and vietnamese * 3 >= len(high):
        try:
            raw.decode("cp1258")
            return "cp1258", 'Windows-1258 (Vietnamese Windows, Excel\'s "CSV")'
        except UnicodeDecodeError:
            pass
    try:
        raw.decode("cp1252")
        return "cp1252", 'Windows-1252 (Western Windows, Excel\'s "CSV")'
    except UnicodeDecodeError:
        return "latin-1", "Latin-1"


def text_lines(path: Path, encoding: str = "utf-8") -> Iterator[str]:
    """Yield the lines of ``path`` decoded, each with its line ending, block by block.

    UTF-8 may start with a byte-order mark. A byte that is not ``encoding``
    raises ``EncodingProblem`` naming it, its line and the encoding the file
    looks like. Lines come in Unicode's composed form (NFC): Windows-1258 writes
    tone marks as separate characters, which would otherwise not match the
    same name typed elsewhere.
    """
    codec = check_encoding_name(encoding)
    decoder = codecs.getincrementaldecoder("utf-8-sig" if codec == "utf-8" else codec)()
    newlines, pending = 0, ""
    with path.open("rb") as handle:
        while True:
            block = handle.read(BLOCK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise _not_in(path, codec, exc, block, newlines) from None
            newlines += block.count(b"\n")
            pieces = (pending + text).split("\n")
            pending = pieces.pop()
            for piece in pieces:
                yield unicodedata.normalize("NFC", piece + "\n")
            if not block:
                break
    if pending:
        yield unicodedata.normalize("NFC", pending)


def _not_in(
    path: Path, codec: str, exc: UnicodeDecodeError, block: bytes, newlines: int
) -> EncodingProblem:
    # The decoder may have kept the first bytes of a character from the block before.
    at = max(exc.start - (len(exc.object) - len(block)), 0)
    line = newlines + block.count(b"\n", 0, at) + 1
    guess, described = guess_encoding(block)
    return EncodingProblem(
        f"{path.name} is not {codec} (byte 0x{exc.object[exc.start]:02X} on line {line}); "
        f"it looks like {described}: run again with --encoding {guess}, "
        f'or save it from Excel as "CSV UTF-8"'
    )


def header_field(name: str) -> str | None:
    """The column a header names (``Số điện thoại`` is ``phone``), or None for none of ours."""
    plain = unicodedata.normalize("NFD", name.strip().lower().lstrip("\ufeff"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("đ", "d")
    key = re.sub(r"[\s_\-.]+", "", plain)
    if key in ALIASES:
        return ALIASES[key]
    return next((column for column in COLUMNS if column.replace("_", "") == key), None)


@dataclass(frozen=True)
class Rows:
    """The file's headers, the column each maps to, and its rows as (line number, fields)."""

    headers: list[str]
    fields: list[str | None]
    rows: Iterator[tuple[int, dict[str, str]]]


@contextmanager
def open_rows(path: Path, encoding: str = "utf-8") -> Iterator[Rows]:
    """Read ``path`` row by row; an unknown or repeated column stops it before any row."""
    lines = text_lines(path, encoding)
    reader = csv.reader(lines)
    headers = next(reader, [])
    fields = [header_field(h) for h in headers]
    unknown = [h.strip() for h, f in zip(headers, fields, strict=True) if f is None and h.strip()]
    if unknown:
        raise HubError(
            f"unknown columns {unknown}; expected {', '.join(COLUMNS)} "
            f"(or their Vietnamese names, such as sdt, ho_ten, ngay_sinh)",
            code="import_bad_header",
        )
    named = [f for f in fields if f]
    if len(named) != len(set(named)):
        twice = sorted({f for f in named if named.count(f) > 1})
        raise HubError(f"columns {twice} are given twice", code="import_bad_header")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # a blank line
            row = {f: v.strip() for f, v in zip(fields, values, strict=False) if f}
            yield reader.line_num, row

    try:
        yield Rows(headers, fields, rows())
    finally:
        lines.close()


def count_rows(path: Path, encoding: str = "utf-8") -> int:
    """Read the whole file once: its encoding and headers checked, its rows counted."""
    with open_rows(path, encoding) as opened:
        return sum(1 for _ in opened.rows)


def preview(path: Path, encoding: str = "utf-8", limit: int = 10) -> dict[str, Any]:
    """The file's headers with the column each maps to, and its first ``limit`` rows."""
    with open_rows(path, encoding) as opened:
        rows = []
        for line, row in opened.rows:
            rows.append({"line": line, **{c: row.get(c, "") for c in COLUMNS}})
            if len(rows) >= limit:
                break
    return {
        "columns": [
            {"header": h, "field": f} for h, f in zip(opened.headers, opened.fields, strict=True)
        ],
        "rows": rows,
    }


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")


def _birthday(text: str) -> date | None:
    if not text:
        return None
    iso, day_first = _ISO_DATE.fullmatch(text), _DAY_FIRST.fullmatch(text)
    try:
        if iso:
            value = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif day_first:
            value = date(int(day_first[3]), int(day_first[2]), int(day_first[1]))
        else:
            raise ValueError(text)
    except ValueError:
        raise RowError(f"birthday {text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)") from None
    if value > latest_today():
        raise RowError(f"birthday {text!r} is in the future")
    return value


def _number(text: str, name: str, what: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise RowError(f"{name} {text!r} is not {what}") from None


def _whole(text: str, name: str) -> int:
    if not text:
        return 0
    value = _number(text, name, "a number")
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        raise RowError(f"{name} {text!r} must be a whole number of at least 0")
    return int(value)


def _money(text: str) -> Decimal:
    if not text:
        return Decimal(0)
    value = _number(text, "total_spent", "an amount")
    if not value.is_finite():
        raise RowError(f"total_spent {text!r} is not an amount")
    if value < 0:
        raise RowError(f"total_spent {text!r} is negative")
    return value


def parse_row(row: dict[str, str], region: str) -> dict[str, Any]:
    """Validate one row; raise ``RowError`` with the reason."""
    try:
        phone = normalize_phone(row.get("phone"), region)
        email = normalize_email(row.get("email"))
    except HubError as exc:
        raise RowError(exc.message) from None
    if not (phone or email):
        raise RowError("the row has neither a phone nor an email")
    name = row.get("name", "")
    for field, value in (("name", name), ("email", email)):
        if value and len(value) > _LIMITS[field]:
            raise RowError(f"{field} is longer than {_LIMITS[field]} characters")
    return {
        "phone": phone,
        "email": email,
        "name": name,
        "birthday": _birthday(row.get("birthday", "")),
        "opening_points": _whole(row.get("opening_points", ""), "opening_points"),
        "total_spent": _money(row.get("total_spent", "")),
    }
