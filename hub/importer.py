"""Import members from a CSV file: good rows in, bad rows reported, re-runs harmless.

Columns (header names, any order, case-insensitive): ``phone``, ``email``,
``name``, ``birthday`` (YYYY-MM-DD or DD/MM/YYYY), ``opening_points``,
``total_spent``. A row is matched to an existing member by phone, then email;
its opening points are credited once per member (the ledger key is the
member's, not the file's), so importing the same file again changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from hub import ledger
from hub.errors import HubError
from hub.members import create_member
from hub.members import find_member
from hub.members import update_member
from hub.phones import normalize_email
from hub.phones import normalize_phone

if TYPE_CHECKING:
    from hub.core import Hub

COLUMNS = ("phone", "email", "name", "birthday", "opening_points", "total_spent")
_ALIASES = {
    "opening points": "opening_points",
    "total spent": "total_spent",
    "points": "opening_points",
    "so_dien_thoai": "phone",
    "sdt": "phone",
    "ho_ten": "name",
    "ngay_sinh": "birthday",
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    points_credited: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.errors)


class RowError(Exception):
    pass


def _header(name: str) -> str:
    key = name.strip().lower().lstrip("\ufeff")
    key = _ALIASES.get(key, key)
    return key.replace(" ", "_")


#: Bytes of Windows-1258 that only Vietnamese text uses: Ă ă Đ đ Ơ ơ Ư ư and the
#: combining tone marks (grave, hook, tilde, acute, dot below).
_VIETNAMESE_1258 = frozenset(b"\xc3\xe3\xd0\xf0\xd5\xf5\xdd\xfd\xcc\xec\xd2\xde\xf2")


class EncodingProblem(HubError):
    """The file is not in the encoding it is read with; the message names the likely one."""

    code = "import_encoding"


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


def decode_file(path: Path, encoding: str = "utf-8") -> str:
    """Return the text of ``path``; UTF-8 may start with a byte-order mark.

    A file that is not in ``encoding`` raises ``EncodingProblem`` naming the
    byte and line where it fails and the encoding it looks like. Text is
    returned in Unicode's composed form (NFC): Windows-1258 writes tone marks
    as separate characters, which would otherwise not match the same name
    typed elsewhere.
    """
    codec = check_encoding_name(encoding)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        guess, described = guess_encoding(raw)
        raise EncodingProblem(
            f"{path.name} is not {codec} (byte 0x{raw[exc.start]:02X} on line {line}); "
            f"it looks like {described}: run again with --encoding {guess}, "
            f'or save it from Excel as "CSV UTF-8"'
        ) from None
    return unicodedata.normalize("NFC", text)


def read_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with normalised header names."""
    reader = csv.DictReader(io.StringIO(decode_file(path, encoding), newline=""))
    if reader.fieldnames is None:
        return
    reader.fieldnames = [_header(n) for n in reader.fieldnames]
    unknown = set(reader.fieldnames) - set(COLUMNS)
    if unknown:
        raise HubError(
            f"unknown columns {sorted(unknown)}; expected {', '.join(COLUMNS)}",
            code="import_bad_header",
        )
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _birthday(text: str) -> date | None:
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowError(f"birthday {text!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def _whole(text: str, name: str) -> int:
    if not text:
        return 0
    try:
        value = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise RowError(f"{name} {text!r} is not a number") from None
    if value < 0 or value != value.to_integral_value():
        raise RowError(f"{name} {text!r} must be a whole number of at least 0")
    return int(value)


def _money(text: str) -> Decimal:
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise RowError(f"total_spent {text!r} is not an amount") from None
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
    return {
        "phone": phone,
        "email": email,
        "name": row.get("name", ""),
        "birthday": _birthday(row.get("birthday", "")),
        "opening_points": _whole(row.get("opening_points", ""), "opening_points"),
        "total_spent": _money(row.get("total_spent", "")),
    }


def import_members(
    hub: Hub,
    merchant_id: int,
    path: Path,
    *,
    progress: Callable[[int], None] = lambda n: None,
    encoding: str = "utf-8",
) -> ImportReport:
    """Import every row, one transaction per row: a bad row never blocks a good one."""
    report = ImportReport()
    region = hub.config["HUB_DEFAULT_REGION"]
    seen: dict[str, int] = {}  # phone or email -> the line that had it first
    for line, row in read_rows(path, encoding):
        try:
            data = parse_row(row, region)
            for value in (data["phone"], data["email"]):
                if value and value in seen:
                    raise RowError(f"{value} is also on line {seen[value]}; keep one row")
            seen.update({v: line for v in (data["phone"], data["email"]) if v})
            with hub.db.transaction() as session:
                outcome = _apply(session, merchant_id, data, region)
            setattr(report, outcome[0], getattr(report, outcome[0]) + 1)
            report.points_credited += outcome[1]
        except (RowError, HubError) as exc:
            reason = exc.message if isinstance(exc, HubError) else str(exc)
            report.errors.append({"line": line, "reason": reason, "row": row})
        progress(1)
    return report


def _apply(session, merchant_id: int, data: dict[str, Any], region: str) -> tuple[str, int]:
    points = data.pop("opening_points")
    spent = data.pop("total_spent")
    member = find_member(session, merchant_id, phone=data["phone"])
    if member is None and data["email"]:
        member = find_member(session, merchant_id, email=data["email"])
    if member is None:
        member = create_member(session, merchant_id, dict(data), source="import", region=region)
        outcome = "created"
    else:
        fill = {k: v for k, v in data.items() if v and not getattr(member, k)}
        update_member(session, member, fill, region=region, source="import")
        outcome = "updated" if fill else "unchanged"
    credited = 0
    key = f"import:opening:{member.id}"
    if points and ledger.existing_entry(session, merchant_id, key) is None:
        ledger.credit(
            session,
            member,
            points,
            kind="import",
            key=key,
            rule="opening_balance",
            note="opening balance (import)",
            actor="import",
        )
        credited = points
        outcome = "updated" if outcome == "unchanged" else outcome
    if spent and not member.attributes.get("imported_total_spent"):
        ledger.post(session, [ledger.Posting(member, ledger.Spent(spent))])
        member.attributes = {**member.attributes, "imported_total_spent": str(spent)}
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome, credited


def write_error_report(report: ImportReport, path: Path) -> None:
    """Write the rejected rows with their reason, ready to fix and import again."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *COLUMNS])
        for error in report.errors:
            writer.writerow(
                [error["line"], error["reason"], *(error["row"].get(c, "") for c in COLUMNS)]
            )
