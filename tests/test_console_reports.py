"""The console's Reports: each report's chart and numbers, the date range, the files; in
Chromium at desktop and phone widths, in Vietnamese and English, with axe."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from html import unescape

import pytest
from browser_support import WIDTHS
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from browser_support import viewport
from console_support import csrf
from console_support import make_staff
from console_support import sign_in
from console_support import sign_in_page
from points_fixtures import order as make_order

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
    rows = re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td>', table)
    return {name: [now, before] for name, now, before in rows}


#: How each kind of figure is written, worked out here without Babel: (thousands, decimal).
SEPARATORS = {"en": (",", "."), "vi": (".", ",")}
MONEY_KEYS = {"member_revenue", "guest_revenue", "liability", "rewards_cost", "historic_clv",
              "average_order_value", "predictive_clv", "cost", "attributed_revenue", "revenue",
              "messages_cost"}  # fmt: skip
SHARE_KEYS = {"participation_rate", "member_order_share", "member_revenue_share",
              "redemption_rate", "usage_rate", "repeat_rate", "retention", "roi"}  # fmt: skip


def speak(client, locale: str) -> None:
    """Choose the console's language as the signed-in user does."""
    client.post("/console/language", data={"locale": locale, "csrf_token": csrf(client)})


def _grouped(value: Decimal, places: int, locale: str) -> str:
    thousands, point = SEPARATORS[locale]
    text = f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN):,.{places}f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", thousands)


def written(key: str, value: int | str, locale: str) -> str:
    """A report's value as the page should write it for people in ``locale``."""
    if key in MONEY_KEYS:
        amount = _grouped(Decimal(value), 0, locale)
        return f"{amount}\xa0₫" if locale == "vi" else f"₫{amount}"
    if key in SHARE_KEYS:
        return _grouped(Decimal(value) * 100, 1, locale) + "%"
    if key in ("orders_per_year", "orders_per_buyer"):
        return _grouped(Decimal(value), 1, locale)
    return _grouped(Decimal(value), 0, locale)


@pytest.mark.parametrize("locale", ["en", "vi"])
@pytest.mark.parametrize("name", list(REPORTS))
def test_each_report_page_writes_the_reports_numbers_for_people(client, hub, merchant, manager,
                                                                orders, name, locale):  # fmt: skip
    speak(client, locale)
    response = client.get(f"/console/reports?report={name}&{PERIOD}")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    report = run_report(hub, merchant.id, name, *map(_date, ("2026-11-01", "2026-11-30")))
    cells = _cells(html)
    numbers = {k: v for k, v in report["totals"].items() if isinstance(v, int | str)}
    assert len(cells) >= len(numbers)
    shown = {now for now, _ in cells.values()}
    for key, value in numbers.items():
        assert written(key, value, locale) in shown, (key, value)


def test_money_counts_and_shares_follow_the_language(client, hub, merchant, manager, orders):
    """Members spent 3.015.000 ₫ on 14 orders of 18 in November: 77,8% of the orders."""
    expected = {
        "vi": {"Doanh thu từ thành viên": "3.015.000\xa0₫", "Đơn của thành viên": "14",
               "Tỷ trọng đơn hàng của thành viên": "77,8%"},
        "en": {"Member revenue": "₫3,015,000", "Member orders": "14",
               "Members' share of orders": "77.8%"},
    }  # fmt: skip
    for locale, figures in expected.items():
        speak(client, locale)
        html = client.get(f"/console/reports?report=participation&{PERIOD}")
        cells = _cells(unescape(html.get_data(as_text=True)))
        for name, value in figures.items():
            assert cells[name][0] == value, (locale, name, cells.get(name))


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


#: What Chromium shows for November's members, read off the page (see the test above).
ON_SCREEN = {
    "vi": {"Doanh thu từ thành viên": "3.015.000\xa0₫", "Tỷ trọng đơn hàng của thành viên": "77,8%",
           "day": "3 thg 11, 2026", "revenue": "90.000\xa0₫"},
    "en": {"Member revenue": "₫3,015,000", "Members' share of orders": "77.8%",
           "day": "Nov 3, 2026", "revenue": "₫90,000"},
}  # fmt: skip


def _check_written_numbers(page, locale: str) -> None:
    """The totals and the table beside the chart, as rendered: money, shares and days."""
    expected = dict(ON_SCREEN[locale])
    day, revenue = expected.pop("day"), expected.pop("revenue")
    for name, value in expected.items():
        row = page.locator("table.figures tbody tr").filter(has=page.get_by_text(name, exact=True))
        assert row.locator("td").first.text_content() == value, (locale, name)
    rows = page.locator(".chart-pair table tbody tr")
    assert rows.count() == 30  # every day of November
    third = rows.nth(2).locator("td")  # 3 November: one member's order of 90,000
    cells = [third.nth(n).text_content() for n in range(third.count())]
    assert cells[0] == day
    assert revenue in cells


@pytest.mark.db_agnostic
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_reports_in_chromium(browser, server, hub, merchant, orders, locale, width):
    person = make_staff(hub, merchant.id, "manager")
    context = browser.new_context(viewport=viewport(width))
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
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
            if name == "participation":
                _check_written_numbers(page, locale)
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
