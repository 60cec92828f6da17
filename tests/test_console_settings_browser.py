"""Shop settings, the audit log and outbound webhooks in Chromium: vi and en, two widths, axe."""

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
def hub_config():
    return {"HUB_WEBHOOKS_ALLOW_LOOPBACK": True}


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_settings_and_audit_pages_render(browser, server, hub, merchant, api, locale, width):
    api.post("/api/v1/connections", json={"connector": "custom", "name": "Web Trà Sen"})
    api.patch("/api/v1/merchant", json={"name": "Cửa hàng Hoa Mai"})
    hook = api.post(
        "/api/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/crm", "event_types": ["*"], "description": "CRM"},
    ).json
    person = make_staff(hub, merchant.id, "owner")
    page = browser.new_page(viewport=viewport(width))
    try:
        sign_in_page(page, server.url, person.email, locale)
        pages = (
            ("shop", "/console/settings"),
            ("audit", "/console/settings/audit"),
            ("webhooks", "/console/settings/webhooks"),
            ("webhook", f"/console/settings/webhooks/{hook['id']}"),
        )
        for key, path in pages:
            page.goto(server.url + path)
            assert page.locator("h1").count() == 1
            name = f"console-settings-{key}-{locale}-{width}"
            screenshot(page, name)
            width_px = page.evaluate("document.documentElement.scrollWidth")
            assert width_px <= WIDTHS[width][0], f"{name} scrolls sideways ({width_px}px)"
            check_accessibility(page, name)
        page.goto(server.url + "/console/settings/audit")
        assert "connection.created" in page.content()
    finally:
        page.close()
