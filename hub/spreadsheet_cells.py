"""Cells a spreadsheet shows as text and never runs: the hub's guard against CSV injection.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (and a tab or carriage return may hide
one), so a member named ``=HYPERLINK(...)`` could act in the merchant's
spreadsheet. Every CSV the hub writes passes its text cells through
``csv_cell``, which puts an apostrophe first (the sign spreadsheets read as
"this is text"), as OWASP advises. A signed number (``-5``, ``+84912345678``)
is data a formula cannot hide in, and stays as it is so it still reads as a
number or a phone. XLSX cells carry their type, so ``xlsx_text`` only says
which text cells must be stored as text rather than as a formula.
"""

from __future__ import annotations

import re
from typing import Any

#: What a spreadsheet may take as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A signed number or phone: digits with spaces, dots, commas or parentheses, nothing callable.
_SIGNED_NUMBER = re.compile(r"[+-][\d .,()]*\d[\d .,()]*")


def needs_quoting(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula."""
    return text.startswith(FORMULA_STARTS) and _SIGNED_NUMBER.fullmatch(text) is None


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell: a text that could run as a formula gets an apostrophe first."""
    if isinstance(value, str) and needs_quoting(value):
        return "'" + value
    return value


def csv_row(values: Any) -> list[Any]:
    """Every cell of a row through ``csv_cell``; None becomes an empty cell."""
    return ["" if v is None else csv_cell(v) for v in values]


def xlsx_text(value: Any) -> bool:
    """Whether an XLSX writer must store ``value`` explicitly as text (it starts with ``=``)."""
    return isinstance(value, str) and value.startswith("=")
