"""One way to write a calendar day for shoppers and cashiers: the merchant's locale decides.

The widget and the cashier page show the same day the same way: ``06/01/2027``
for a Vietnamese shop (dd/mm/yyyy), ``6 Jan 2027`` for an English one, always
in the merchant's timezone, so a voucher bought late in the evening in Hanoi
does not read as the day before.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
#: Babel patterns per merchant locale; any other locale writes the Vietnamese way.
DAY_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}


def day_text(moment: datetime | None, locale: str | None, timezone: str | None) -> str | None:
    """``moment`` (timezone-aware) as the merchant's calendar day; None stays None."""
    if moment is None:
        return None
    code = locale if locale in DAY_PATTERNS else "vi"
    local = moment.astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE))
    return format_date(local.date(), DAY_PATTERNS[code], locale=code)


def month_bounds(moment: datetime, timezone: str | None) -> tuple[datetime, datetime]:
    """The [start, end) of ``moment``'s calendar month in ``timezone``, as UTC times.

    23:30 on 30 November in Hanoi is 16:30 UTC the same day, and half past
    midnight on 1 December there is still 30 November in UTC: the merchant's
    month, not UTC's, decides which month a moment belongs to.
    """
    zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    start = moment.astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start.astimezone(UTC), end.astimezone(UTC)
