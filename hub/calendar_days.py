"""One way to write a calendar day for shoppers and cashiers: the merchant's locale decides.

The widget and the cashier page show the same day the same way: ``06/01/2027``
for a Vietnamese shop (dd/mm/yyyy), ``6 Jan 2027`` for an English one, always
in the merchant's timezone, so a voucher bought late in the evening in Hanoi
does not read as the day before.
"""

from __future__ import annotations

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
