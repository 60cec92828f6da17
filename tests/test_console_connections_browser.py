"""The Connections pages in Debian's Chromium: owner and manager, vi and en, desktop and phone.

Screenshots go to test-artifacts/screenshots; axe-core finds no serious or
critical accessibility violation.
"""

from __future__ import annotations

import pytest
from browser_support import WIDTHS
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from browser_support import viewport
from console_support import PASSWORD
from console_support import make_staff
from console_support import sign_in_page
from test_console_connections import SECRET
from test_console_connections import Outage
from test_console_connections import deliver
from test_console_connections import order_event

# Run by the PostgreSQL lane of scripts/test (the pages' data comes from a database either way).
pytestmark = [pytest.mark.db_agnostic, pytest.mark.postgres_lane]


@pytest.fixture
def connections(client, hub, api):
    """A store with one failed delivery, a counter with a till key, an SMS gateway."""
    store = api.post(
        "/api/v1/connections",
        json={"connector": "custom", "name": "Web Hoa Mai", "secrets": {"webhook_secret": SECRET}},
    ).json["id"]
    outage = Outage()
    hub.pm.register(outage, name="outage")
    deliver(client, store, order_event("W-1"), "w-1")
    outage.down = False
    deliver(client, store, order_event("W-2"), "w-2")
    pos = api.post("/api/v1/connections", json={"connector": "pos", "name": "Quầy Quận 1"}).json
    api.post(f"/api/v1/pos/connections/{pos['id']}/keys", json={"name": "Máy 1"})
    sms = api.post(
        "/api/v1/connections",
        json={"connector": "esms", "name": "eSMS", "secrets": {"api_key": "k", "secret_key": "s"}},
    ).json
    return {"store": store, "pos": pos["id"], "sms": sms["id"]}


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("role", ["owner", "manager"])
def test_connections_pages_render_for_each_role(
    browser, server, hub, merchant, connections, role, locale, width
):
    person = make_staff(hub, merchant.id, role)
    context = browser.new_context(viewport=viewport(width))
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
        paths = {
            "list": "/console/connections?connector=esms",
            "store": f"/console/connections/{connections['store']}",
            "pos": f"/console/connections/{connections['pos']}",
            "sms": f"/console/connections/{connections['sms']}",
        }
        for key, path in paths.items():
            page.goto(server.url + path)
            assert page.locator("h1").count() == 1
            name = f"console-connections-{role}-{key}-{locale}-{width}"
            screenshot(page, name)
            width_px = page.evaluate("document.documentElement.scrollWidth")
            assert width_px <= WIDTHS[width][0], f"{name} scrolls sideways ({width_px}px)"
            check_accessibility(page, name)
    finally:
        context.close()


def test_an_owner_makes_a_till_key_and_sees_it_once(browser, server, hub, merchant, connections):
    person = make_staff(hub, merchant.id, "owner")
    page = browser.new_page(viewport=viewport("desktop"))
    try:
        page.goto(f"{server.url}/console/sign-in")
        page.get_by_role("button", name="English").click()
        page.fill("#email", person.email)
        page.fill("#password", PASSWORD)
        page.locator("form.stack button").click()
        page.wait_for_load_state()
        page.goto(f"{server.url}/console/connections/{connections['pos']}")
        page.fill("#key-name", "Máy 2")
        page.get_by_role("button", name="Make a key").click()
        page.wait_for_load_state()
        secret = page.locator("#new-key").input_value()
        assert secret.startswith("pos_")
        screenshot(page, "console-connections-owner-key-made-en-desktop")
        page.goto(f"{server.url}/console/connections/{connections['pos']}")
        assert secret not in page.content() and "Máy 2" in page.content()
    finally:
        page.close()


def test_an_owner_adds_an_smtp_connection_in_vietnamese(browser, server, hub, merchant, api):
    person = make_staff(hub, merchant.id, "owner")
    context = browser.new_context(viewport=viewport("desktop"))
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console/sign-in")
        page.get_by_role("button", name="Tiếng Việt").click()
        page.fill("#email", person.email)
        page.fill("#password", PASSWORD)
        page.locator("form.stack button").click()
        page.wait_for_load_state()
        page.goto(f"{server.url}/console/connections?connector=smtp")
        assert page.get_by_label("Máy chủ thư (SMTP host)").count() == 1
        page.fill("#name", "Thư của shop")
        page.fill("[name='setting.host']", "smtp.hoamai.vn")
        page.fill("[name='setting.port']", "587")
        page.select_option("[name='setting.security']", "starttls")
        page.fill("[name='setting.from_email']", "tin@hoamai.vn")
        page.fill("[name='secret.password']", "mat-khau-smtp")
        screenshot(page, "console-connections-smtp-form-vi-desktop")
        check_accessibility(page, "console-connections-smtp-form-vi-desktop")
        page.locator("form.filters button.primary").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Thư của shop"
        screenshot(page, "console-connections-smtp-vi-desktop")
        check_accessibility(page, "console-connections-smtp-vi-desktop")
    finally:
        context.close()
    [made] = api.get("/api/v1/connections").json
    assert (made["connector"], made["settings"]["host"]) == ("smtp", "smtp.hoamai.vn")
