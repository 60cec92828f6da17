"""Reports: each report's chart with the table of its numbers, a date range, and its files.

The pages call ``hub.reports.catalogue.run_report`` and
``hub.reports.downloads.report_download``, as the REST API does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response
from flask import abort
from flask import request
from flask import stream_with_context
from flask_babel import lazy_gettext as _l

from hub.console.charts import COLOURS
from hub.console.charts import Bars
from hub.console.charts import bar_chart
from hub.console.dates import read_day
from hub.console.figures import WORDS
from hub.console.i18n import month
from hub.console.i18n import number
from hub.console.i18n import short_day
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.reports.catalogue import REPORTS
from hub.reports.catalogue import run_report
from hub.reports.downloads import report_download
from hub.reports.exports import FORMATS

TITLES = {
    "participation": _l("Participation"),
    "points": _l("Points"),
    "rewards": _l("Rewards and vouchers"),
    "tiers": _l("Tiers"),
    "customers": _l("Customers"),
    "messages": _l("Messages sent"),
    "roi": _l("Return on the program"),
}
#: The series each report's chart draws, with their names.
CHARTS = {
    "participation": (("member_orders", _l("Member orders")), ("guest_orders", _l("Guest orders"))),
    "points": (("issued", _l("Points issued")), ("redeemed", _l("Points redeemed"))),
    "rewards": (("vouchers_issued", _l("Vouchers issued")), ("vouchers_used", _l("Vouchers used"))),
    "tiers": (("upgrades", _l("Upgrades")), ("downgrades", _l("Downgrades"))),
}
FIGURES = {
    "members": _l("Members"), "new_members": _l("New members"),
    "new_members_by_source": _l("New members by how they joined"),
    "active_members": _l("Active members"), "participation_rate": _l("Participation rate"),
    "member_orders": _l("Member orders"), "guest_orders": _l("Guest orders"),
    "member_revenue": _l("Member revenue"), "guest_revenue": _l("Guest revenue"),
    "member_order_share": _l("Members' share of orders"),
    "member_revenue_share": _l("Members' share of revenue"),
    "issued": _l("Points issued"), "redeemed": _l("Points redeemed"),
    "returned": _l("Points returned"), "expired": _l("Points expired"),
    "reversed": _l("Points reversed by refunds"), "deducted": _l("Points deducted"),
    "redemption_rate": _l("Redemption rate"), "outstanding": _l("Points outstanding"),
    "point_value": _l("Value of a point"), "liability": _l("Liability"),
    "expiring": _l("Expiring in 30 / 60 / 90 days"), "issued_by_reason": _l("Issued by reason"),
    "vouchers_issued": _l("Vouchers issued"), "vouchers_used": _l("Vouchers used"),
    "vouchers_expired": _l("Vouchers expired"), "vouchers_cancelled": _l("Vouchers cancelled"),
    "vouchers_unused": _l("Vouchers unused"), "usage_rate": _l("Voucher usage rate"),
    "points_redeemed": _l("Points redeemed"), "rewards_cost": _l("Cost of rewards"),
    "members_by_tier": _l("Members by tier"), "upgrades": _l("Upgrades"),
    "downgrades": _l("Downgrades"), "buyers": _l("Members who bought"),
    "repeat_buyers": _l("Members who bought again"), "repeat_rate": _l("Repeat purchase rate"),
    "historic_clv": _l("Lifetime value so far"), "average_order_value": _l("Average order value"),
    "orders_per_year": _l("Orders per member a year"), "retention": _l("Retention"),
    "predictive_clv": _l("Predicted lifetime value"), "sent": _l("Sent"),
    "delivered": _l("Delivered"), "failed": _l("Failed"), "cost": _l("Cost"),
    "attributed_orders": _l("Orders from the program"),
    "attributed_revenue": _l("Revenue from the program"), "revenue": _l("All revenue"),
    "messages_cost": _l("Cost of messages"), "roi": _l("ROI"),
    "day": _l("Day"), "month": _l("Month"), "reward": _l("Reward"), "vouchers": _l("Vouchers"),
    "points": _l("Points"), "tier": _l("Tier"), "orders": _l("Orders"),
    "orders_per_buyer": _l("Orders per member"), "cohort": _l("Month joined"),
    "channel": _l("Channel"), "kind": _l("Kind"), "not_sent": _l("Not sent"),
    "guest_revenue_share": _l("Guests' share of revenue"),
}  # fmt: skip


def _day(name: str) -> date | None:
    """The day the box ``name`` holds (None when blank); :raise BadDate: it holds no day."""
    return read_day(request.args.get(name), field=name)


def _chart(name: str, report: dict[str, Any]) -> Any:
    if name not in CHARTS or not report["series"]:
        return None
    series = report["series"]
    bars = Bars([_along(row) for row in series],
                [(str(title), [Decimal(str(row[key])) for row in series])
                 for key, title in CHARTS[name]])  # fmt: skip
    title = f"{TITLES[name]}: {', '.join(str(t) for _, t in CHARTS[name])}"
    return bar_chart(bars, title, write=number)


def _along(row: dict[str, Any]) -> str:
    """The label of a series' row along the chart: its day without the year, or its month."""
    if "day" in row:
        return short_day(date.fromisoformat(row["day"]))
    return month(date.fromisoformat(f"{row['month']}-01"))


def _legend(name: str) -> list[tuple[str, str]]:
    """The chart's series names with their colours, for the legend beside it."""
    return [(str(title), COLOURS[n % 2]) for n, (_, title) in enumerate(CHARTS.get(name, ()))]


def _rows(report: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """The totals table: (figure, its name, this period's value, the previous period's)."""
    now, before = report["totals"], report["previous_totals"]
    return [
        (key, FIGURES.get(key, key), value, before.get(key))
        for key, value in now.items()
        if not isinstance(value, list)
    ]


@bp.get("/reports")
@requires("manager")
def reports():
    name = request.args.get("report", "participation")
    if name not in REPORTS:
        abort(404)
    me = user()
    try:
        report = run_report(current_hub(), me.merchant_id, name, _day("from"), _day("to"))
    except HubError as error:
        report = run_report(current_hub(), me.merchant_id, name)
        return render("console/reports.html", current="reports", name=name, titles=TITLES,
                      report=report, chart=_chart(name, report), rows=_rows(report),
                      problem=error.message, formats=FORMATS, labels=FIGURES,
                      legend=_legend(name), words=WORDS)  # fmt: skip
    return render("console/reports.html", current="reports", name=name, titles=TITLES,
                  report=report, chart=_chart(name, report), rows=_rows(report),
                  formats=FORMATS, labels=FIGURES, legend=_legend(name),
                  words=WORDS)  # fmt: skip


@bp.get("/reports/export")
@requires("manager")
def report_export():
    name = request.args.get("report", "")
    fmt = request.args.get("format", "csv")
    if name not in REPORTS or fmt not in FORMATS:
        abort(404)
    me = user()
    try:
        download = report_download(current_hub(), me.merchant_id, name, fmt, _day("from"),
                                   _day("to"))  # fmt: skip
    except HubError:
        abort(404)
    return Response(
        stream_with_context(download.chunks),
        mimetype=download.media_type.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )
