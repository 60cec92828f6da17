"""The cashier page in a real headless Chromium (Debian's), tablet-sized, used by keyboard."""

from __future__ import annotations

import pytest
from browser_support import ServerThread
from browser_support import screenshot

from connectors.pos.testing import open_counter
from hub.models import Member

# The PostgreSQL lane of scripts/test skips these: the database changes nothing on screen.
pytestmark = pytest.mark.db_agnostic

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def live(app):
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def shop(api, client, merchant, member):
    """A counter, tiers, a reward, and Lan with 1,500 points from an earlier sale."""
    till = open_counter(client, merchant.headers, location="Quầy Lê Lợi")
    for name, threshold in (("Đồng", "0"), ("Bạc", "1000"), ("Vàng", "5000")):
        api.post("/api/v1/tiers", json={"name": name, "threshold": threshold, "basis": "points"})
    for name, value, cost in (("Giảm 50.000đ", "50000", 1000), ("Giảm 200.000đ", "200000", 5000)):
        reward = api.post(
            "/api/v1/rewards",
            json={"name": name, "kind": "amount_off", "value": value, "points_cost": cost},
        )
        assert reward.status_code == 201, reward.json
    earned = till.sale("HD-0", "1500000", member_code=member["code"])
    assert earned.status_code == 201, earned.json
    return till


def open_page(browser, live, *, viewport=TABLET):
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live.url}/pos/cashier")
    return page


def wait_focus(page, element_id):
    """Wait until the page has put the cursor in ``element_id`` (autofocus runs after load)."""
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id", arg=element_id
    )


def sign_in(page, key):
    wait_focus(page, "key")
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.locator("#lookup-q").wait_for()


def test_a_cashier_signs_in_finds_a_member_earns_and_redeems_by_keyboard(
    browser, live, shop, member
):
    page = open_page(browser, live)
    sign_in(page, shop.key)
    wait_focus(page, "lookup-q")

    page.keyboard.type("0912 345 678")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Nguyễn Thị Lan").wait_for()
    card = page.locator(".member").inner_text()
    assert "1.500" in card and "Bạc" in card and member["code"] in card
    assert page.locator(".qr svg").count() == 1
    wait_focus(page, "amount")

    page.keyboard.type("250.000", delay=60)  # a person types; a scanner would be far faster
    page.keyboard.press("Enter")
    page.get_by_text("+250 điểm").wait_for()
    assert page.locator(".points .big").inner_text() == "1.750"

    for _ in range(8):
        page.keyboard.press("Tab")
        if "Đổi Giảm 50.000đ" in page.evaluate("() => document.activeElement.textContent"):
            break
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "4px"  # the focus can be seen from a step away
    page.keyboard.press("Enter")
    page.get_by_text("Đã đổi “Giảm 50.000đ”").wait_for()
    assert page.locator(".points .big").inner_text() == "750"
    assert page.locator("ul.vouchers li.new").count() == 1
    assert not page.get_by_role("button", name="Đổi Giảm 200.000đ").is_enabled()
    screenshot(page, "cashier-member")


def test_a_scanned_card_finds_the_member_even_with_the_cursor_in_the_amount(
    browser, live, shop, api, hub, member
):
    other = api.post("/api/v1/members", json={"phone": "0987654321", "name": "Trần Bình"}).json
    with hub.db.transaction() as session:  # a code with letters, as nearly every code has
        session.get(Member, other["id"]).code = other["code"] = "TRAN8B1H"
    page = open_page(browser, live)
    sign_in(page, shop.key)
    wait_focus(page, "lookup-q")

    page.keyboard.type(member["code"].lower())  # a scanner types the QR's text, then Enter
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Nguyễn Thị Lan").wait_for()
    wait_focus(page, "amount")

    page.keyboard.type(other["code"], delay=0)
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Trần Bình").wait_for()
    assert "+" not in (page.locator(".message").all_inner_texts() or [""])[0]


def test_an_unknown_phone_leads_to_enrolment(browser, live, shop, hub):
    page = open_page(browser, live)
    sign_in(page, shop.key)
    wait_focus(page, "lookup-q")

    page.keyboard.type("0901234567")
    page.keyboard.press("Enter")
    page.get_by_text("Không tìm thấy").wait_for()
    page.get_by_role("link", name="Đăng ký thành viên mới").click()
    page.locator("#name").wait_for()
    assert page.locator("#phone").input_value() == "0901234567"
    wait_focus(page, "name")
    page.keyboard.type("Lê Văn Cường", delay=20)
    page.get_by_label("Đồng ý nhận tin SMS").check()
    page.locator("#name").press("Enter")

    page.get_by_text("Đã đăng ký thành viên").wait_for()
    assert page.get_by_role("heading", name="Lê Văn Cường").is_visible()
    screenshot(page, "cashier-enrolled")


def test_the_page_works_in_english_with_big_touch_targets(browser, live, shop):
    page = open_page(browser, live, viewport={"width": 800, "height": 1280})
    sign_in(page, shop.key)

    page.get_by_role("link", name="English").click()
    page.get_by_label("Phone, member code or scan the QR code").wait_for()
    wait_focus(page, "lookup-q")
    page.keyboard.type("0912345678")
    page.keyboard.press("Enter")
    page.get_by_text("Earn points on a sale").wait_for()

    for button in page.locator("main button").all():
        box = button.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48
    assert "1,500" in page.locator(".points").inner_text()
    screenshot(page, "cashier-member-en")


def test_a_wrong_key_keeps_the_cashier_on_the_sign_in_form(browser, live, shop):
    page = open_page(browser, live)
    wait_focus(page, "key")

    page.keyboard.type("pos_wrong_key")
    page.keyboard.press("Enter")

    page.get_by_role("alert").wait_for()
    assert "Khoá không đúng" in page.get_by_role("alert").inner_text()
    assert page.locator("#lookup-q").count() == 0
