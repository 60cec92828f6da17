"""The console's Reports: each report's chart and numbers, the date range, the files; in
Chromium at desktop and phone widths, in Vietnamese and English, with axe."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from browser_support import ServerThread
from browser_support import screenshot
from console_support import PASSWORD
from console_support import make_staff
from console_support import sign_in
from points_fixtures import order as make_order
from test_console_browser import WIDTHS
from test_console_browser import check_accessibility

from hub.orders.batches import record_order
from hub.reports.catalogue import REPORTS
from hub.reports.catalogue import run_report

PERIOD = "from=2026-11-01&to=2026-11-30"
FIRST = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
def orders(hub, merchant):
    """Orders on nine days of November from three members and guests, some at 23:30."""
    for n in range(18):
        at = FIRST + timedelta(days=n * 3 // 2, hours=(n % 3) * 6 + 7, minutes=30)
        phone = None if n % 4 == 3 else f"091200000{n % 3}"
        with hub.db.transaction() as session:
            record_order(hub, session, merchant.id, make_order(f"K{n}", 90_000 + 15_000 * n,
                         phone=phone, placed_at=at), source="shop", now=at)  # fmt: skip


def _cells(html: str) -> dict[str, list[str]]:
    """The totals table's rows: figure -> [this period, previous period]."""
    table = html.split('class="figures"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td>', table)
    return {name: [now, before] for name, now, before in rows}


@pytest.mark.parametrize("name", list(REPORTS))
def test_each_report_page_shows_the_reports_numbers(client, hub, merchant, manager, orders,
                                                    name):  # fmt: skip
    response = client.get(f"/console/reports?report={name}&{PERIOD}&lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    report = run_report(hub, merchant.id, name, *map(_date, ("2026-11-01", "2026-11-30")))
    cells = _cells(html)
    numbers = {k: v for k, v in report["totals"].items() if isinstance(v, int | str)}
    assert len(cells) >= len(numbers)
    shown = {now for now, _ in cells.values()}
    for value in numbers.values():
        assert str(value) in shown


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_the_points_page_draws_a_chart_with_its_table_beside_it(client, manager, orders):
    html = client.get(f"/console/reports?report=points&{PERIOD}").get_data(as_text=True)
    assert html.count("<svg") == 1 and "<rect" in html
    assert html.count("<tr>") >= 30  # totals, then a row per day of November


def test_a_range_that_ends_before_it_begins_says_so(client, manager):
    response = client.get("/console/reports?report=points&from=2026-11-30&to=2026-11-01")
    assert response.status_code == 200
    assert 'role="alert"' in response.get_data(as_text=True)


def test_an_unknown_report_is_not_found(client, manager):
    assert client.get("/console/reports?report=nope").status_code == 404


def test_a_cashier_cannot_open_reports(client, hub, merchant):
    cashier = make_staff(hub, merchant.id, "cashier")
    sign_in(client, cashier.email)
    assert client.get("/console/reports").status_code == 403


def test_the_download_is_the_reports_csv(client, manager, orders):
    response = client.get(f"/console/reports/export?report=participation&format=csv&{PERIOD}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    figures = {row[0]: row[1] for row in rows if len(row) == 3}
    assert figures["member_orders"] == "14" and figures["guest_orders"] == "4"


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


@pytest.mark.db_agnostic
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_reports_in_chromium(browser, server, hub, merchant, orders, locale, width):
    person = make_staff(hub, merchant.id, "manager")
    context = browser.new_context(
        viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True))
    )
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console/sign-in")
        page.get_by_role("button", name="English" if locale == "en" else "Tiếng Việt").click()
        page.fill("#email", person.email)
        page.fill("#password", PASSWORD)
        page.locator("form.stack button").click()
        page.wait_for_load_state()
        for name in ("participation", "points", "customers", "roi"):
            page.goto(f"{server.url}/console/reports?report={name}&{PERIOD}")
            assert page.locator("h1").count() == 1
            shot = f"console-reports-{name}-{locale}-{width}"
            screenshot(page, shot)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= WIDTHS[width][0], f"{shot} scrolls sideways ({scroll}px)"
            check_accessibility(page, shot)
            if page.locator(".chart-pair").count():
                page.locator(".chart-pair").scroll_into_view_if_needed()
                screenshot(page, f"{shot}-chart")
        # The date range picker: a narrower period, chosen in the form.
        page.goto(f"{server.url}/console/reports?report=points&{PERIOD}")
        page.fill("input[name=from]", "2026-11-10")
        page.fill("input[name=to]", "2026-11-12")
        page.locator("form.range button").click()
        page.wait_for_load_state()
        assert "from=2026-11-10" in page.url
        assert page.locator("svg.chart rect").count() == 6  # two series, three days
        page.locator(".chart-pair").scroll_into_view_if_needed()
        screenshot(page, f"console-reports-points-range-{locale}-{width}")
    finally:
        context.close()
