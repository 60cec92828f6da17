"""The console's languages: Babel catalogues for vi and en, money and dates for the merchant.

The locale is the signed-in user's choice, else the merchant's, else what the
browser asks for; dates show in the merchant's timezone (Asia/Ho_Chi_Minh by
default). Catalogues live in ``hub/console/translations`` and ship compiled.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.dates import format_datetime
from babel.dates import format_skeleton
from babel.numbers import format_currency
from babel.numbers import format_decimal
from babel.numbers import format_percent
from flask import Flask
from flask import g
from flask import request
from flask_babel import Babel
from flask_babel import get_locale

LOCALES = ("vi", "en")
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
TRANSLATIONS = Path(__file__).parent / "translations"
#: The cookie a visitor who is not signed in chooses the language with.
LANG_COOKIE = "hub_console_lang"


def select_locale() -> str:
    """The locale of this request: the user's, the one chosen in this browser, the merchant's,
    or the browser's."""
    user = getattr(g, "console_user", None)
    chosen = request.cookies.get(LANG_COOKIE)
    choices = (user.locale, chosen, user.merchant_locale) if user is not None else (chosen,)
    for choice in choices:
        if choice in LOCALES:
            return choice
    return request.accept_languages.best_match(LOCALES, default="vi")


def select_timezone() -> str:
    user = getattr(g, "console_user", None)
    return user.timezone if user is not None else DEFAULT_TIMEZONE


def locale_code() -> str:
    return str(get_locale() or "vi")


def money(
    amount: Decimal | int | str | None, currency: str | None = None, *, exact: bool = False
) -> str:
    """``180.000 ₫`` in Vietnamese, ``₫180,000`` in English; VND has no minor unit.

    ``exact`` keeps the digits a currency does not have (the value of one point,
    ``0,5 ₫``) instead of rounding to the currency's unit.
    """
    if amount is None:
        return "—"
    user = getattr(g, "console_user", None)
    currency = currency or (user.currency if user is not None else "VND")
    return format_currency(
        Decimal(amount), currency, locale=locale_code(), decimal_quantization=not exact
    )


def number(value: int | Decimal | str | None) -> str:
    """A count or quantity with the language's separators: ``1.234.567`` in Vietnamese."""
    return "—" if value is None else format_decimal(Decimal(value), locale=locale_code())


def percent(share: Decimal | str | None) -> str:
    """A share (``0.1254``) as a percentage with one decimal: ``12,5%`` in Vietnamese."""
    if share is None:
        return "—"
    return format_percent(Decimal(share), "#,##0.0%", locale=locale_code())


def short_day(value: date) -> str:
    """A day without its year, as the language writes it: ``31/1`` in Vietnamese, ``1/31`` in
    English (for the labels along a chart)."""
    return format_skeleton("Md", value, locale=locale_code())


def month(value: date) -> str:
    """A month and its year: ``thg 1 2026`` in Vietnamese, ``Jan 2026`` in English."""
    return format_skeleton("yMMM", value, locale=locale_code())


def when(value: datetime | None, style: str = "medium") -> str:
    """A time in the merchant's timezone and the user's language."""
    if value is None:
        return "—"
    return format_datetime(value, style, tzinfo=select_timezone(), locale=locale_code())


def day(value: date | datetime | None) -> str:
    """A calendar day; a time is first put in the merchant's timezone."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(select_timezone())).date()
    return format_date(value, "medium", locale=locale_code())


def init_i18n(app: Flask) -> None:
    """Install Flask-Babel with the console's catalogues and the Jinja filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(
        money=money, number=number, percent=percent, when=when, day=day, month=month
    )
