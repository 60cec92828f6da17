"""The Widget page in Debian's Chromium: both languages and widths, axe, and a live preview."""

from __future__ import annotations

import pytest
from browser_support import WIDTHS
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from browser_support import viewport
from console_support import make_staff
from console_support import sign_in_page

pytestmark = pytest.mark.db_agnostic


@pytest.fixture
def store(api):
    made = api.post(
        "/api/v1/connections",
        json={
            "connector": "custom",
            "name": "Web Trà Sen",
            "settings": {"widget": {"colour": "#8a4b14", "launcher_text": "Trà Sen Club"}},
        },
    )
    return made.json["id"]


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


def signed_in_page(browser, server, hub, merchant, locale, width):
    person = make_staff(hub, merchant.id, "owner")
    page = browser.new_page(viewport=viewport(width))
    sign_in_page(page, server.url, person.email, locale)
    return page


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_widget_page_renders(browser, server, hub, merchant, store, locale, width):
    page = signed_in_page(browser, server, hub, merchant, locale, width)
    try:
        page.goto(f"{server.url}/console/widget")
        assert page.locator("h1").count() == 1
        name = f"console-widget-owner-{locale}-{width}"
        screenshot(page, name)
        width_px = page.evaluate("document.documentElement.scrollWidth")
        assert width_px <= WIDTHS[width][0], f"{name} scrolls sideways ({width_px}px)"
        check_accessibility(page, name)
    finally:
        page.close()


def test_the_preview_follows_the_form_as_it_is_typed(browser, server, hub, merchant, store):
    page = signed_in_page(browser, server, hub, merchant, "en", "desktop")
    try:
        page.goto(f"{server.url}/console/widget")
        launcher = page.locator("#preview-launcher")
        colour = "getComputedStyle(document.getElementById('preview-launcher')).backgroundColor"
        assert launcher.inner_text() == "Trà Sen Club"
        assert page.evaluate(colour) == "rgb(138, 75, 20)"

        page.locator("#colour").fill("#1d4ed8")
        page.fill("#launcher_text", "Điểm thưởng")
        page.select_option("#position", "left")

        assert launcher.inner_text() == "Điểm thưởng"
        assert page.evaluate(colour) == "rgb(29, 78, 216)"
        assert page.locator(".widget-preview").get_attribute("data-side") == "left"
        screenshot(page, "console-widget-preview-typed-en-desktop")
    finally:
        page.close()
