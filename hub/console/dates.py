"""Calendar days as the console shows and reads them: 24/12/2026 (vi), 12/24/2026 (en).

A browser's own date box follows the computer's language, not the page's: a
Vietnamese page on a computer set to American English would show and take
12/24/2026. So the console's date boxes (the ``date_input`` macro of
``console/_dates.html``) are text boxes in the page's style, read back here
on the server. An ISO day (2026-12-24), which the console's own links carry,
is read in either language.
"""

from __future__ import annotations

import re
from datetime import date
from datetime import datetime

from flask import Flask
from flask_babel import gettext as _

from hub.console.i18n import locale_code
from hub.errors import ValidationError

#: strftime pattern per locale; English follows Babel's ``en`` short style, month first.
PATTERNS = {"vi": "%d/%m/%Y", "en": "%m/%d/%Y"}
#: The day every hint writes, in the page's style.
EXAMPLE = date(2026, 12, 24)
_TYPED = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadDate(ValidationError):
    """A date box holds something that is not a day in the page's style."""

    code = "bad_date"


def _pattern() -> str:
    return PATTERNS.get(locale_code(), PATTERNS["vi"])


def date_example() -> str:
    """24/12/2026 or 12/24/2026: how this page wants a day written."""
    return EXAMPLE.strftime(_pattern())


def show_day(value: date | datetime | str | None) -> str:
    """A day (or an ISO day's text) in the page's style; anything else as it was typed."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str) and _ISO.fullmatch(value.strip()):
        value = date.fromisoformat(value.strip())
    if isinstance(value, date):
        return value.strftime(_pattern())
    return value or ""


def read_day(raw: str | None, *, field: str = "date") -> date | None:
    """The day a date box holds, or None when it is blank.

    :raise BadDate: the text is no day in the page's style (nor ISO), or no real day.
    """
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if _ISO.fullmatch(text):
            return date.fromisoformat(text)
        typed = _TYPED.fullmatch(text)
        if typed is not None:
            first, second, year = (int(part) for part in typed.groups())
            day, month = (first, second) if _pattern().startswith("%d") else (second, first)
            return date(year, month, day)
    except ValueError:
        pass
    raise BadDate(
        _(
            "%(value)s is not a date: write it as %(example)s.",
            value=text[:40],
            example=date_example(),
        ),
        details={field: ["not a date"]},
    )


def install(app: Flask) -> None:
    """The template helpers the ``date_input`` macro uses."""
    app.jinja_env.globals["date_example"] = date_example
    app.jinja_env.filters["dayinput"] = show_day
