"""Members: the filtered, sorted, paginated list and its streamed CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from datetime import time
from decimal import Decimal
from decimal import InvalidOperation

from flask import Response
from flask import request
from flask import stream_with_context

from hub.console.dates import BadDate
from hub.console.dates import read_day
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.members.directory import CHANNELS
from hub.members.directory import count_members
from hub.members.directory import search_members
from hub.members.search import SORTS
from hub.members.search import MemberFilters
from hub.merchants.connections import list_connections
from hub.spreadsheet_cells import csv_row
from hub.tiers import list_tiers

PAGE_SIZE = 25
EXPORT_BATCH = 1000
CSV_COLUMNS = ("id", "code", "name", "phone", "email", "province", "points", "total_spent")


def _int(name: str, low: int | None = None, high: int | None = None) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def _money(name: str) -> Decimal | None:
    try:
        value = Decimal(request.args.get(name, "").replace(".", "").replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _date(name: str) -> datetime | None:
    """The start of the day a date box holds, or None when blank.

    :raise BadDate: the box holds no day in the page's style.
    """
    day = read_day(request.args.get(name), field=name)
    return datetime.combine(day, time()) if day else None


def conditions_from_args() -> dict:
    """The search conditions in the page's query string; a malformed number is left out.

    :raise BadDate: a date box holds no day in the page's style.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(user().timezone)
    after, before = _date("ordered_after"), _date("ordered_before")
    consent = request.args.get("consent")
    filters = MemberFilters(
        tier_id=_int("tier_id", 1),
        points_min=_int("points_min"),
        points_max=_int("points_max"),
        spent_min=_money("spent_min"),
        spent_max=_money("spent_max"),
        ordered_after=after.replace(tzinfo=zone) if after else None,
        ordered_before=before.replace(tzinfo=zone) if before else None,
        birthday_month=_int("birthday_month", 1, 12),
        province=request.args.get("province", "").strip()[:100] or None,
        connection_id=_int("connection_id", 1),
        consent=consent if consent in CHANNELS else None,
    )
    return {
        "q": request.args.get("q", "").strip()[:100] or None,
        "tag": request.args.get("tag", "").strip()[:100] or None,
        "filters": filters,
    }


@bp.get("/members")
@requires("manager")
def members():
    try:
        conditions = conditions_from_args()
    except BadDate as exc:
        # htmx swaps only a 2xx answer in: the table then says what is wrong
        status = 200 if request.headers.get("HX-Request") else 422
        return _members_page([], 0, 1, "-id", conditions=None, status=status, refused=exc.message)
    sort = request.args.get("sort", "-id")
    sort = sort if sort in SORTS else "-id"
    page = _int("page", 1) or 1
    hub = current_hub()
    region = hub.config["HUB_DEFAULT_REGION"]
    with hub.db.session() as session:
        total = count_members(session, user().merchant_id, region=region, **conditions)
        rows = search_members(
            session,
            user().merchant_id,
            sort=sort,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            region=region,
            **conditions,
        )
    return _members_page(rows, total, page, sort, conditions=conditions)


def _members_page(rows, total: int, page: int, sort: str, *, conditions: dict | None, **extra):
    """The list (or, for htmx, its table); without ``conditions`` a filter was refused."""
    with current_hub().db.session() as session:
        tiers = list_tiers(session, user().merchant_id)
        connections = [(c.id, c.name) for c in list_connections(session, user().merchant_id)]
    template = (
        "console/_members_table.html"
        if request.headers.get("HX-Request")
        else "console/members.html"
    )
    filtered = conditions is None or bool(
        conditions["q"] or conditions["tag"] or conditions["filters"].any()
    )
    return render(
        template,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        sort=sort,
        tiers=tiers,
        connections=connections,
        filtered=filtered,
        channels=CHANNELS,
        **extra,
    )


@bp.get("/members.csv")
@requires("manager")
def members_csv():
    """The filtered list as CSV, written a batch at a time (memory stays flat)."""
    me = user()
    try:
        conditions = conditions_from_args()
    except BadDate as exc:
        return render("console/error.html", status=422, problem=exc.message)
    hub = current_hub()
    region = hub.config["HUB_DEFAULT_REGION"]

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + buffer.getvalue()  # Excel reads UTF-8 with the mark
        after = None
        while True:
            with hub.db.session() as session:
                batch = search_members(
                    session,
                    me.merchant_id,
                    after_id=after,
                    limit=EXPORT_BATCH,
                    region=region,
                    **conditions,
                )
            if not batch:
                return
            buffer.seek(0)
            buffer.truncate()
            for m in batch:
                writer.writerow(
                    csv_row(
                        (m.id, m.code, m.name, m.phone, m.email, m.province, m.points_balance,
                         m.total_spent)
                    )
                )  # fmt: skip
            yield buffer.getvalue()
            after = batch[-1].id

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="members.csv"'},
    )
