"""The console's Points for actions page: the rules on events and the events signing secrets.

Given an owner, when they make a signing secret, then it is shown once, it signs
events that earn, and the page afterwards lists it only by its first characters.
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

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
from test_signed_events import RULES
from test_signed_events import balance
from test_signed_events import review
from test_signed_events import signed_post

SECRET = re.compile(r'value="(whsec_[^"]+)"')


@pytest.fixture
def server(app):
    thread = ServerThread(app)
    yield thread
    thread.stop()


@pytest.fixture
def owner(client, hub, merchant):
    person = make_staff(hub, merchant.id, "owner")
    assert sign_in(client, person.email).status_code == 302
    return person


def test_a_signing_secret_made_in_the_console_is_shown_once_and_signs_events(
    api, client, hub, merchant, owner
):
    api.put("/api/v1/events/rules", json={"data": RULES})
    lan = api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json
    empty = client.get("/console/events").get_data(as_text=True)
    assert "review.published" in empty and "whsec_" not in empty
    made = client.post("/console/events/secrets", data={"csrf_token": csrf(client)})
    assert made.status_code == 200
    secret = SECRET.search(made.get_data(as_text=True)).group(1)
    answer = signed_post(client, merchant.id, [secret], "console-1", review(), at=datetime.now(UTC))
    assert answer.status_code == 201, answer.json
    assert balance(api, lan) == 50
    listing = client.get("/console/events").get_data(as_text=True)
    assert secret not in listing and secret[:10] in listing


def test_a_manager_cannot_open_the_signing_secrets(client, hub, merchant):
    manager = make_staff(hub, merchant.id, "manager")
    sign_in(client, manager.email)
    assert client.get("/console/events").status_code == 403
    assert client.post(
        "/console/events/secrets", data={"csrf_token": csrf(client)}
    ).status_code in (403,)


@pytest.mark.db_agnostic
@pytest.mark.parametrize(("locale", "width"), [("vi", "phone"), ("en", "desktop")])
def test_the_page_shows_a_new_secret_in_chromium(
    browser, server, api, hub, merchant, locale, width
):
    api.put("/api/v1/events/rules", json={"data": RULES})
    person = make_staff(hub, merchant.id, "owner")
    context = browser.new_context(viewport=viewport(width))
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
        page.goto(f"{server.url}/console/events")
        made = "Tạo khóa ký" if locale == "vi" else "Make a signing secret"
        page.get_by_role("button", name=made).click()
        page.wait_for_load_state()
        assert page.locator("#secret").input_value().startswith("whsec_")
        shown_once = "chỉ hiện một lần" if locale == "vi" else "shown only this once"
        assert shown_once in page.locator("[role=status]").inner_text()
        name = f"console-events-secret-{locale}-{width}"
        screenshot(page, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width][0]
        check_accessibility(page, name)
    finally:
        context.close()
