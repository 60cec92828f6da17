"""Message templates: ``{name}`` placeholders filled from a member and an event.

Only plain names are allowed (``{name}``, ``{voucher_code}``): no attribute
access, no indexing, no format specs, so a merchant's template can never
reach into Python objects. Values are formatted for the locale before they
go in: ``1.250`` points in Vietnamese, ``1,250`` in English.
"""

from __future__ import annotations

import string
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.errors import ValidationError

LOCALES = ("vi", "en")
_FORMATTER = string.Formatter()


def placeholders(template: str) -> list[str]:
    """Return the placeholder names of ``template``.

    :raise ValueError: a brace is unbalanced or a placeholder is not a plain name.
    """
    names = []
    for _literal, field_name, format_spec, conversion in _FORMATTER.parse(template):
        if field_name is None:
            continue
        if not field_name.isidentifier() or format_spec or conversion:
            raise ValueError(f"{{{field_name}}} is not a plain placeholder name")
        names.append(field_name)
    return names


def check_template(template: str, allowed: set[str], *, field: str) -> None:
    """Refuse a template with broken braces or a placeholder the kind does not offer."""
    try:
        names = placeholders(template)
    except ValueError as exc:
        raise ValidationError(
            f"the template in {field} cannot be read: {exc}; write placeholders as {{name}} "
            "and double a literal brace as {{ or }}",
            details={field: [str(exc)]},
        ) from None
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise ValidationError(
            f"the template in {field} uses {', '.join(unknown)}, which this message does not "
            f"offer; available: {', '.join(sorted(allowed))}",
            details={field: [f"unknown placeholder {name}" for name in unknown]},
        )


def render(template: str, variables: dict[str, str]) -> str:
    """Fill ``template``; a placeholder without a value becomes empty."""
    parts = []
    for literal, field_name, _spec, _conversion in _FORMATTER.parse(template):
        parts.append(literal)
        if field_name is not None:
            parts.append(variables.get(field_name, ""))
    return "".join(parts)


def format_value(value: Any, locale: str) -> str:
    """Return ``value`` as a person reading the message in ``locale`` expects it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple) and len(value) == 2:
        amount, currency = value
        return f"{format_number(Decimal(amount), locale)} {currency}"
    if isinstance(value, int | Decimal):
        return format_number(value, locale)
    if isinstance(value, datetime | date):
        return format_date(value, locale)
    return str(value)


def format_number(value: int | Decimal, locale: str) -> str:
    """Group thousands: ``1.250.000`` in Vietnamese, ``1,250,000`` in English."""
    amount = Decimal(value)
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount.normalize():,f}"
    if locale == "vi":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_date(value: date | datetime, locale: str) -> str:
    """``23/11/2026`` in Vietnamese, ``Nov 23, 2026`` in English."""
    day = value.date() if isinstance(value, datetime) else value
    if locale == "vi":
        return day.strftime("%d/%m/%Y")
    return f"{day:%b} {day.day}, {day.year}"
