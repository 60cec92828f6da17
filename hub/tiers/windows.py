"""The windows a tier is earned in: lifetime, calendar year, rolling 12 months.

Calendar years are the merchant's local years (``Merchant.timezone``); every
instant going in and coming out is aware UTC.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Member
from hub.models import Merchant

WINDOWS = ("lifetime", "calendar_year", "rolling_12m")


def add_months(moment: datetime, months: int) -> datetime:
    """Return ``moment`` moved by whole months; a day the month lacks becomes its last."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month + 1)


def window_start(window: str, at: datetime, tz: ZoneInfo) -> datetime | None:
    """Return where the window that ends at ``at`` begins (None: the beginning of time).

    A calendar year is the local year of the instant just before ``at``: at a
    year's first moment it is the year that just closed, which is what a
    review at that moment looks at.
    """
    if window == "calendar_year":
        local = (at - timedelta(microseconds=1)).astimezone(tz)
        return datetime(local.year, 1, 1, tzinfo=tz).astimezone(UTC)
    if window == "rolling_12m":
        return add_months(at, -12)
    return None


def window_end(window: str, at: datetime, tz: ZoneInfo) -> datetime | None:
    """Return when the window running at ``at`` closes (None: a lifetime never does).

    For a rolling window that is 12 months after ``at``: a tier reached then
    is reviewed a year later, on the 12 months before the review.
    """
    if window == "calendar_year":
        local = at.astimezone(tz)
        return datetime(local.year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    if window == "rolling_12m":
        return add_months(at, 12)
    return None


def window_key(window: str, at: datetime, tz: ZoneInfo, member: Member) -> str:
    """Name the window ``at`` falls in: ``lifetime``, the local year, or the membership year.

    A rolling window has no name of its own; the member's n-th year since
    joining stands in for it, so a near-miss notice repeats at most yearly.
    """
    if window == "calendar_year":
        return str(at.astimezone(tz).year)
    if window == "rolling_12m":
        joined = member.created_at
        years = at.year - joined.year - ((at.month, at.day) < (joined.month, joined.day))
        return f"member-year-{max(0, years)}"
    return "lifetime"


def merchant_tz(session: Session, merchant_id: int) -> ZoneInfo:
    """The merchant's timezone (UTC if the stored name is unknown)."""
    name = session.scalar(select(Merchant.timezone).where(Merchant.id == merchant_id))
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
