"""Segments and Campaigns in Debian's Chromium: both languages, phone and desktop, axe-checked.

Screenshots go to test-artifacts/screenshots: the segments list and builder
(with its live count), a segment, the campaigns list and wizard, a sent
campaign with its results against the control group, and a campaign run at
night whose SMS wait for 07:00.
"""

from __future__ import annotations

import campaign_fixtures
import pytest
import simulators.fixtures as simulators_fixtures
from browser_support import WIDTHS
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from browser_support import viewport
from campaign_fixtures import add_member
from campaign_fixtures import run_at_night
from console_support import PASSWORD
from console_support import make_staff
from console_support import sign_in_page

from hub import utcnow

pytestmark = pytest.mark.db_agnostic

console = campaign_fixtures.console
outbox = campaign_fixtures.outbox
daytime = simulators_fixtures.daytime
app_context = campaign_fixtures.app_context


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


@pytest.fixture
def sent_campaign(api, console, daytime):
    """Twenty VIP members, a campaign sent to them with a control group, and two orders.

    The shop is in the daytime zone: sent after 22:00 in Hanoi, the advertising SMS would
    all wait for 07:00 and the pages would show a campaign that sent nothing.
    """
    members = [add_member(api) for _ in range(20)]
    segment = api.post(
        "/api/v1/segments",
        json={"name": "Khách VIP", "conditions": {"all": [{"kind": "tags", "tags": ["vip"]}]}},
    ).json
    campaign = api.post(
        "/api/v1/campaigns",
        json={
            "name": "Tuần lễ vàng",
            "segment_id": segment["id"],
            "channel": "sms",
            "templates": {"vi": "{shop}: chào {first_name}, tuần lễ vàng giảm 20%!"},
            "holdout_percent": 30,
        },
    ).json
    api.post(f"/api/v1/campaigns/{campaign['id']}/schedule")
    for index, member in enumerate(members[:2]):
        api.post(
            "/api/v1/orders",
            json={
                "source": "webshop",
                "external_id": f"B-{index}",
                "currency": "VND",
                "subtotal": "350000",
                "total": "350000",
                "financial_status": "paid",
                "placed_at": utcnow().isoformat(),
                "customer": {"phone": member["phone"]},
            },
        )
    draft = api.post(
        "/api/v1/campaigns",
        json={
            "name": "Sinh nhật tháng 12",
            "segment_id": segment["id"],
            "channel": "sms",
            "templates": {"vi": "{shop} chúc mừng sinh nhật {first_name}!"},
            "holdout_percent": 10,
            "budget": "500000",
        },
    ).json
    return {"segment": segment["id"], "sent": campaign["id"], "draft": draft["id"]}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_segment_and_campaign_pages_in_chromium(
    browser, server, hub, merchant, sent_campaign, locale, width
):
    person = make_staff(hub, merchant.id, "manager")
    context = browser.new_context(viewport=viewport(width))
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
        pages = {
            "segments": "/console/segments",
            "segment": f"/console/segments/{sent_campaign['segment']}",
            "campaigns": "/console/campaigns",
            "campaign-draft": f"/console/campaigns/{sent_campaign['draft']}",
            "campaign-results": f"/console/campaigns/{sent_campaign['sent']}",
        }
        for name, path in pages.items():
            page.goto(server.url + path)
            assert page.locator("h1").count() == 1
            if name == "segments":
                # The builder counts as the merchant types (htmx)
                page.fill("#tags", "vip")
                page.locator("#segment-preview strong").wait_for()
                assert page.locator("#segment-preview strong").inner_text() == "20"
            shot = f"console-{name}-{locale}-{width}"
            screenshot(page, shot)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= WIDTHS[width][0], f"{shot} scrolls sideways ({scroll}px)"
            check_accessibility(page, shot)
    finally:
        context.close()


def test_a_draft_is_edited_in_chromium_and_shows_the_change(
    browser, server, hub, merchant, sent_campaign
):
    person = make_staff(hub, merchant.id, "manager")
    context = browser.new_context(viewport=viewport("desktop"))
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console/sign-in")
        page.get_by_role("button", name="Tiếng Việt").click()
        page.fill("#email", person.email)
        page.fill("#password", PASSWORD)
        page.locator("form.stack button").click()
        page.wait_for_load_state()
        page.goto(f"{server.url}/console/campaigns/{sent_campaign['draft']}")
        page.locator("#edit summary").click()
        assert page.locator("#edit #holdout_percent").input_value() == "10"
        page.fill("#edit #template_vi", "{shop}: quà sinh nhật cho {first_name}!")
        page.fill("#edit #holdout_percent", "25")
        screenshot(page, "console-campaign-edit-vi-desktop")
        page.locator("#edit button[value=edit]").click()
        page.wait_for_load_state()
        assert page.locator("blockquote[lang=vi]").inner_text() == (
            "{shop}: quà sinh nhật cho {first_name}!"
        )
        assert page.locator(".note.ok").count() == 1
        facts = page.locator("dl.facts").inner_text()
        assert "25%" in facts
        screenshot(page, "console-campaign-edited-vi-desktop")
        check_accessibility(page, "console-campaign-edited-vi-desktop")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_campaign_whose_sms_wait_for_07_00_says_so_in_chromium(
    browser, server, hub, merchant, api, console, app_context, locale
):
    # Given a shop in Hanoi whose campaign ran at 23:00 there: its two SMS wait for 07:00
    campaign, _ = run_at_night(api, hub)
    # When the manager opens it on a phone
    person = make_staff(hub, merchant.id, "manager")
    context = browser.new_context(viewport=viewport("phone"))
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
        page.goto(f"{server.url}/console/campaigns/{campaign['id']}")
        # Then under its status it says how many wait, and until 07:00 there ("7:00 AM")
        waiting = page.locator('[data-figure="waiting"]')
        assert waiting.is_visible()
        assert "7:00" in waiting.inner_text() and "2 " in waiting.inner_text()
        shot = f"console-campaign-waiting-{locale}-phone"
        screenshot(page, shot)
        check_accessibility(page, shot)
    finally:
        context.close()
