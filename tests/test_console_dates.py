"""Dates in the console in the page's style: dd/mm/yyyy in Vietnamese, mm/dd/yyyy in English."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from console_support import make_staff
from console_support import sign_in
from console_support import sign_in_page
from test_console_connections import sign_in_english
from test_console_settings import add_records

from hub.console.dates import BadDate
from hub.console.dates import read_day
from hub.console.dates import show_day
from hub.db import utcnow

STYLES = {"vi": "%d/%m/%Y", "en": "%m/%d/%Y"}


def today() -> date:
    return utcnow().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def typed(days_ago: int, locale: str) -> str:
    return (today() - timedelta(days=days_ago)).strftime(STYLES[locale])


@pytest.fixture
def signed_in(client, hub, merchant):
    """Sign an owner in, in the language asked for."""

    def as_(locale: str):
        person = make_staff(hub, merchant.id, "owner")
        if locale == "en":
            sign_in_english(client, person)
        else:
            assert sign_in(client, person.email).status_code == 302
        return person

    return as_


def actions(html: str) -> set[str]:
    return {a for a in ("reward.created", "tier.updated") if f">{a}<" in html}


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_audit_log_takes_a_day_in_the_pages_style(client, hub, merchant, signed_in, locale):
    signed_in(locale)
    add_records(hub, merchant.id, ("cli", "reward.created", 9), ("cli", "tier.updated", 2))
    page = client.get(f"/console/settings/audit?from={typed(5, locale)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert actions(html) == {"tier.updated"}
    # the box shows the day back as it was typed, and the hint says how to write one
    assert f'value="{typed(5, locale)}"' in html
    assert ("24/12/2026" if locale == "vi" else "12/24/2026") in html


def test_an_iso_day_from_a_link_is_read_in_either_language(client, hub, merchant, signed_in):
    signed_in("en")
    add_records(hub, merchant.id, ("cli", "reward.created", 9), ("cli", "tier.updated", 2))
    iso = (today() - timedelta(days=5)).isoformat()
    html = client.get(f"/console/settings/audit?from={iso}").get_data(as_text=True)
    assert actions(html) == {"tier.updated"}
    assert f'value="{typed(5, "en")}"' in html


@pytest.mark.parametrize(
    "locale, bad, says",
    [
        ("vi", "31/02/2026", "không phải là ngày: hãy viết dạng 24/12/2026"),
        ("vi", "12/24/2026", "không phải là ngày"),  # month first is not Vietnamese
        ("en", "24/12/2026", "is not a date: write it as 12/24/2026"),
        ("en", "yesterday", "is not a date"),
    ],
)
def test_a_day_not_in_the_pages_style_is_a_clear_error(client, signed_in, locale, bad, says):
    signed_in(locale)
    for path in ("/console/settings/audit?from=", "/console/members?ordered_after="):
        answer = client.get(path + bad)
        assert answer.status_code == 422, path
        assert says in answer.get_data(as_text=True), path
    assert client.get("/console/members.csv?ordered_after=" + bad).status_code == 422


def test_a_bad_day_in_the_members_filter_is_told_inside_the_htmx_table(client, signed_in):
    signed_in("vi")
    answer = client.get("/console/members?ordered_after=32/01/2026", headers={"HX-Request": "1"})
    assert answer.status_code == 200  # htmx swaps only a 2xx answer in
    html = answer.get_data(as_text=True)
    assert 'id="members-table"' in html and "32/01/2026 không phải là ngày" in html


def test_the_members_filter_reads_a_vietnamese_day(client, api, signed_in):
    signed_in("vi")
    api.post("/api/v1/members", json={"name": "Trần Văn Đức", "phone": "0912345678"})
    # no order yet: a day in the past finds no one, and the page is not an error
    html = client.get(f"/console/members?ordered_after={typed(3, 'vi')}").get_data(as_text=True)
    assert "Trần Văn Đức" not in html
    assert "Trần Văn Đức" in client.get("/console/members").get_data(as_text=True)


def test_reports_show_and_take_days_in_the_pages_style(client, signed_in):
    signed_in("vi")
    html = client.get("/console/reports?report=points&from=01/11/2026&to=30/11/2026").get_data(
        as_text=True
    )
    assert 'value="01/11/2026"' in html and 'value="30/11/2026"' in html
    assert "01/11/2026 \u2013 30/11/2026" in html
    bad = client.get("/console/reports?report=points&from=2026-13-01")
    assert "không phải là ngày" in bad.get_data(as_text=True)


def test_reading_a_day(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert read_day("12/24/2026") == date(2026, 12, 24)
        assert read_day(" 2026-12-24 ") == date(2026, 12, 24)
        assert read_day("") is None and read_day(None) is None
        assert show_day(date(2026, 3, 1)) == "03/01/2026"
        assert show_day("typed text") == "typed text"
        with pytest.raises(BadDate):
            read_day("24/12/2026")
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert read_day("24/12/2026") == date(2026, 12, 24)
        assert read_day("1.3.2026") == date(2026, 3, 1)
        assert show_day(date(2026, 3, 1)) == "01/03/2026"
        for bad in ("29/02/2025", "00/01/2026", "1/1/26", "24/12/2026/1"):
            with pytest.raises(BadDate):
                read_day(bad)


# -- in Chromium -------------------------------------------------------------------------


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


@pytest.mark.db_agnostic
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_person_types_a_day_in_their_languages_style(browser, server, hub, merchant, locale):
    add_records(hub, merchant.id, ("cli", "reward.created", 9), ("cli", "tier.updated", 2))
    person = make_staff(hub, merchant.id, "owner")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        sign_in_page(page, server.url, person.email, locale)
        page.goto(f"{server.url}/console/settings/audit")
        box = page.locator("input[name=from]")
        assert box.get_attribute("placeholder") == (
            "24/12/2026" if locale == "vi" else "12/24/2026"
        )
        box.fill(typed(5, locale))
        page.locator("form.filters button").click()
        page.wait_for_load_state()
        assert actions(page.content()) == {"tier.updated"}
        assert page.locator("input[name=from]").input_value() == typed(5, locale)
        screenshot(page, f"console-dates-audit-{locale}")
        check_accessibility(page, f"console-dates-audit-{locale}")
        # a day written the other language's way is refused, with the way to write it
        other = (today() - timedelta(days=40)).replace(day=20)
        page.locator("input[name=from]").fill(
            other.strftime(STYLES["en" if locale == "vi" else "vi"])
        )
        page.locator("form.filters button").click()
        page.wait_for_load_state()
        alert = page.get_by_role("alert").inner_text()
        assert ("24/12/2026" if locale == "vi" else "12/24/2026") in alert
    finally:
        page.close()
