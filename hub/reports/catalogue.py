"""The reports by name, and the one way to run one: bring the rollups up to date, then read.

The API, the console and the exports all call ``run_report``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from hub.db import utcnow
from hub.errors import NotFound
from hub.reports import staleness
from hub.reports.activity import messages_report
from hub.reports.activity import rewards_report
from hub.reports.customers import customers_report
from hub.reports.participation import participation_report
from hub.reports.periods import Period
from hub.reports.periods import period
from hub.reports.points import points_report
from hub.reports.roi import roi_report
from hub.reports.rollups import merchant_zone
from hub.reports.tiers import tiers_report

if TYPE_CHECKING:
    from hub.core import Hub


def _points(session, merchant_id: int, within: Period, now: datetime) -> dict[str, Any]:
    return points_report(session, merchant_id, within, now)


def _without_now(report: Callable) -> Callable:
    return lambda session, merchant_id, within, now: report(session, merchant_id, within)


#: Every report, in the order the console lists them.
REPORTS: dict[str, Callable[..., dict[str, Any]]] = {
    "participation": _without_now(participation_report),
    "points": _points,
    "rewards": _without_now(rewards_report),
    "tiers": _without_now(tiers_report),
    "customers": _without_now(customers_report),
    "messages": _without_now(messages_report),
    "roi": _without_now(roi_report),
}


def report_names() -> list[str]:
    return list(REPORTS)


def run_report(
    hub: Hub,
    merchant_id: int,
    name: str,
    first: date | None = None,
    last: date | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Report ``name`` for local days ``first`` to ``last`` (default: the 30 days to today).

    :raise NotFound: no report has that name (``report_not_found``).
    :raise ValidationError: the period is not a valid one (``invalid_period``).
    """
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(
            f"no report named {name!r}: the reports are {', '.join(REPORTS)}",
            code="report_not_found",
        )
    now = now or utcnow()
    with hub.db.session() as session:
        tz = merchant_zone(session, merchant_id)
        within = period(tz, first, last, now.astimezone(tz).date())
        stale = bool(staleness.stale_days(session, merchant_id))
    if stale:
        with hub.db.transaction() as session:
            staleness.refresh(session, merchant_id)
    with hub.db.session() as session:
        return report(session, merchant_id, within, now)
