"""The console in Debian's Chromium: every role, both languages, desktop and phone widths.

Screenshots go to test-artifacts/screenshots; axe-core (vendored from npm) finds no
serious or critical accessibility violation on any page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import ServerThread
from browser_support import screenshot
from console_support import make_staff
from console_support import sign_in_page

pytestmark = pytest.mark.db_agnostic

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WIDTHS = {"desktop": (1366, 800), "phone": (390, 844)}
PAGES = {
    "owner": [
        "/console/overview",
        "/console/members",
        "/console/members/{member}",
        "/console/program",
        "/console/tiers",
        "/console/rewards",
        "/console/messages",
        "/console/settings/staff",
        "/console/settings/api-keys",
    ],
    "manager": [
        "/console/overview",
        "/console/members?q=nguyen",
        "/console/members/{member}",
        "/console/program",
        "/console/tiers",
        "/console/rewards",
        "/console/messages",
    ],
    "cashier": ["/console/counter?q=0912345678"],
}


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


def check_accessibility(page, name: str) -> None:
    page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], name


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("role", PAGES)
def test_console_pages_render_for_each_role(
    browser, server, hub, merchant, member, role, locale, width
):
    person = make_staff(hub, merchant.id, role)
    context = browser.new_context(
        viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True))
    )
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
        if role == "owner":
            screenshot(page, f"console-{role}-home-{locale}-{width}")
        for n, path in enumerate(PAGES[role]):
            page.goto(server.url + path.format(member=member["id"]))
            assert page.locator("h1").count() == 1
            name = f"console-{role}-{n}-{path.split('/')[2].split('?')[0]}-{locale}-{width}"
            screenshot(page, name)
            width_px = page.evaluate("document.documentElement.scrollWidth")
            assert width_px <= WIDTHS[width][0], f"{name} scrolls sideways ({width_px}px)"
            check_accessibility(page, name)
    finally:
        context.close()


def test_sign_in_page_passes_the_accessibility_check(browser, server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(f"{server.url}/console/sign-in")
        screenshot(page, "console-sign-in-vi-phone")
        check_accessibility(page, "sign-in")
    finally:
        page.close()
