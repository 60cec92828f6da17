"""The e-mail and its unsubscribe page as a member sees them, in a real headless Chromium."""

from __future__ import annotations

import pytest
from browser_support import ServerThread
from browser_support import screenshot
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect_smtp

from hub import queue_message

# The PostgreSQL lane of scripts/test skips these: the database changes nothing on screen.
pytestmark = pytest.mark.db_agnostic

smtp = fixtures.smtp


@pytest.fixture
def live(app):
    server = ServerThread(app)
    app.extensions["hub"].config["HUB_PUBLIC_URL"] = server.url
    yield server
    server.stop()


def _send(api, hub, merchant, smtp, **member_fields):
    configure(
        api,
        channel_order=["email"],
        connections={"email": connect_smtp(api, smtp)},
        kinds={"tier_near": {"enabled": True}},
    )
    member = add_member(api, email="lan@example.vn", consents={"email": True}, **member_fields)
    queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind="tier_near",
        key="b1",
        variables={"next_tier": "Vàng", "needed": 200},
    )
    return member, smtp.received[-1]


def test_the_email_reads_well_and_its_link_unsubscribes_in_two_steps(
    browser, live, api, hub, merchant, smtp
):
    member, received = _send(api, hub, merchant, smtp)
    page = browser.new_page(viewport={"width": 420, "height": 720})
    # The HTML part, as a mail client shows it
    page.set_content(received.part("html"))
    assert page.get_by_text("Lan ơi, chỉ còn 200 nữa").is_visible()
    link = page.get_by_role("link", name="Hủy đăng ký nhận thư")
    assert link.is_visible()
    screenshot(page, "email-html-vi")
    # When the member follows the link, the page asks and nothing is recorded yet
    page.goto(link.get_attribute("href"))
    assert page.get_by_role("heading", name="Hủy đăng ký nhận thư").is_visible()
    assert page.get_by_text("l**@example.vn").is_visible()
    screenshot(page, "unsubscribe-ask-vi")
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []
    # When they press the button, they are unsubscribed and told so, on the same page
    page.get_by_role("button", name="Hủy đăng ký").click()
    page.get_by_text("Đã hủy đăng ký").wait_for()
    assert page.get_by_role("button").count() == 0
    screenshot(page, "unsubscribe-done-vi")
    opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    assert [o["channel"] for o in opt_outs] == ["email"]
    page.close()


def test_an_english_speaking_member_gets_the_page_in_english(
    browser, live, api, hub, merchant, smtp
):
    _member, received = _send(api, hub, merchant, smtp, attributes={"locale": "en"})
    page = browser.new_page(viewport={"width": 1024, "height": 640})
    page.set_content(received.part("html"))
    page.goto(page.get_by_role("link", name="Unsubscribe").get_attribute("href"))
    assert page.get_by_role("heading", name="Unsubscribe").is_visible()
    screenshot(page, "unsubscribe-ask-en")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_text("You are unsubscribed").wait_for()
    screenshot(page, "unsubscribe-done-en")
    page.close()
