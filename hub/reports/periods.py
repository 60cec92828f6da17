"""The period a report covers, in the merchant's days, and the one before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from hub.errors import ValidationError
from hub.reports.days import start_of

#: The longest period one report covers: ten years of days.
MAX_DAYS = 3660
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last``, both included, in ``tz``."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The UTC moment the period begins."""
        return start_of(self.first, self.tz)

    @property
    def end(self) -> datetime:
        """The UTC moment after the period's last day ends."""
        return start_of(self.last + timedelta(days=1), self.tz)

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one begins."""
        last = self.first - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last, self.tz)

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def to_dict(self) -> dict[str, str]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "timezone": self.tz.key,
        }


def period(tz: ZoneInfo, first: date | None, last: date | None, today: date) -> Period:
    """The period asked for: ``last`` defaults to today, ``first`` to 30 days before it.

    :raise ValidationError: the period ends before it begins, or is longer than ten years.
    """
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationError(
            f"the period ends ({last}) before it begins ({first}): give 'from' on or before 'to'",
            code="invalid_period",
            details={"from": first.isoformat(), "to": last.isoformat()},
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError(
            f"the period is longer than {MAX_DAYS} days: ask for a shorter one",
            code="invalid_period",
            details={"from": first.isoformat(), "to": last.isoformat()},
        )
    return Period(first, last, tz)
