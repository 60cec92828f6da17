"""Calendar days in a merchant's timezone, on both databases.

A report counts what happened on a local day: an order placed at 23:30 in
Hanoi on 31 January belongs to 31 January although it is 16:30 UTC. On
PostgreSQL the day of a stored time is ``timezone(zone, at)::date``. SQLite
has no timezones: the range asked for is cut into stretches over which the
zone's offset from UTC does not change (one stretch for a zone without
daylight saving, such as Asia/Ho_Chi_Minh), and in each the day is
``date(at, '+N minutes')``. Both give the same day for every stored time.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date
from sqlalchemy import cast
from sqlalchemy import func


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """The UTC moment the local ``day`` begins."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def as_date(value: Any) -> date:
    """A day as the database returns it (a date on PostgreSQL, text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class Stretch:
    """``[start, end)`` in UTC, and the SQL that turns a stored time in it into its local day."""

    start: datetime
    end: datetime
    day_of: Callable[[Any], Any]


def stretches(dialect: str, tz: ZoneInfo, first: date, last: date) -> Iterator[Stretch]:
    """The stretches covering local days ``first`` to ``last`` (both included)."""
    end = start_of(last + timedelta(days=1), tz)
    if dialect == "postgresql":
        yield Stretch(start_of(first, tz), end, lambda at: cast(func.timezone(tz.key, at), Date))
        return
    start = start_of(first, tz)
    for change in _changes(tz, first, last):
        yield Stretch(start, change, _sqlite_day(_offset_at(start, tz)))
        start = change
    yield Stretch(start, end, _sqlite_day(_offset_at(start, tz)))


def _offset_at(moment: datetime, tz: ZoneInfo) -> int:
    """The zone's offset from UTC at ``moment``, in minutes."""
    return int(moment.astimezone(tz).utcoffset().total_seconds() // 60)


def _changes(tz: ZoneInfo, first: date, last: date) -> Iterator[datetime]:
    """The UTC moments, to the minute, at which the zone's offset changes in those days."""
    day = first
    while day <= last:
        low, high = start_of(day, tz), start_of(day + timedelta(days=1), tz)
        if _offset_at(low, tz) != _offset_at(high, tz):
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if _offset_at(middle, tz) == _offset_at(low, tz):
                    low = middle
                else:
                    high = middle
            yield high
        day += timedelta(days=1)


def _sqlite_day(offset: int) -> Callable[[Any], Any]:
    shift = f"{offset:+d} minutes"
    return lambda at: func.date(at, shift)


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days joined into ``(first, last)`` runs, in order."""
    result: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if result and result[-1][1] + timedelta(days=1) == day:
            result[-1] = (result[-1][0], day)
        else:
            result.append((day, day))
    return result
