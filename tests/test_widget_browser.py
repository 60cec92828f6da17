"""The widget in a real headless Chromium, embedded in a storefront on another origin."""

import base64
import json
import re
import time
from datetime import UTC
from datetime import datetime
from urllib.parse import parse_qs
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from browser_support import ServerThread
from browser_support import png_grey
from browser_support import screenshot
from flask import Flask
from flask import jsonify
from flask import request
from widget_setup import set_up_storefront

from hub.widget.tokens import sign
from hub.widget.tokens import sign_visitor

# Run by the PostgreSQL lane of scripts/test (the pages' data comes from a database either way).
pytestmark = [pytest.mark.db_agnostic, pytest.mark.postgres_lane]

STORE_PAGE = """<!doctype html>
<html lang="{locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trà Sen — cửa hàng</title>
<style>body{{font-family:Georgia,serif;margin:40px}} button{{all:unset;color:red}}
 *{{font-size:30px !important;color:purple !important}}</style></head>
<body><h1>Trà Sen</h1><p>Trà ngon mỗi ngày.</p><a href="#" id="store-link">Sản phẩm</a>
<script>window.dataLayer = window.dataLayer || [];</script>
<script src="{hub}/widget/v1/loader.js" data-connection="{connection}"
        data-token="{token}" data-locale="{locale}" async></script>
</body></html>"""


@pytest.fixture
def live(app):
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def store_server():
    """A storefront on its own origin; its server signs visitor tokens as a real store does."""
    shop = Flask("storefront")
    shop.config["page"] = {}

    @shop.get("/")
    def page():
        settings = shop.config["page"]
        token = settings["make_token"]() if settings.get("make_token") else ""
        return STORE_PAGE.format(
            hub=settings["hub"],
            connection=settings["connection"],
            token=token,
            locale=request.args.get("locale", "vi"),
        )

    @shop.get("/token")
    def token():
        return jsonify({"token": shop.config["page"]["make_token"]()})

    server = ServerThread(shop)
    server.shop = shop
    yield server
    server.stop()


@pytest.fixture
def storefront(api, hub, live, store_server):
    setup = set_up_storefront(api, hub, origin=store_server.url)
    store_server.shop.config["page"] = {"hub": live.url, "connection": setup.connection_id}
    return setup


def visit(
    browser, store_server, make_token=None, *, width=1280, height=800, locale="vi", requested=None
):
    """Open the storefront; every URL the page asks for is added to ``requested``, if given."""
    store_server.shop.config["page"]["make_token"] = make_token
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    if requested is not None:
        page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{store_server.url}/?locale={locale}")
    launcher = page.locator("#storefront-hub-widget").locator("button.launcher")
    launcher.wait_for()
    return page, launcher


def panel(page):
    return page.locator("#storefront-hub-widget").locator("[role=dialog]")


def test_guest_sees_the_program_and_how_to_join(browser, store_server, storefront):
    page, launcher = visit(browser, store_server)
    launcher.click()
    dialog = panel(page)
    dialog.get_by_text("Tham gia ngay").wait_for()
    text = dialog.inner_text()
    assert "1 điểm cho mỗi 1.000" in text
    assert "Giảm 50.000đ" in text
    assert "0912345678" not in page.content()
    screenshot(page, "widget-guest")


def member_loaded(page, points):
    page.wait_for_function(
        "p => document.querySelector('#storefront-hub-widget').shadowRoot"
        ".querySelector('button.launcher').textContent.includes(p)",
        arg=points,
    )


def test_member_sees_points_tier_rewards_and_code(browser, store_server, storefront):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make)
    member_loaded(page, "1.500")
    launcher.click()
    dialog = panel(page)
    dialog.get_by_text("Xin chào, Lan").wait_for()
    text = dialog.inner_text()
    assert "1.500 điểm" in text
    assert "Vàng" in text  # the next tier and what it takes
    assert dialog.get_by_role("button", name="Đổi Giảm 50.000đ").is_enabled()
    assert not dialog.get_by_role("button", name="Đổi Giảm 200.000đ").is_enabled()
    screenshot(page, "widget-member")


def test_the_store_css_does_not_leak_into_the_widget(browser, store_server, storefront):
    _page, launcher = visit(browser, store_server)
    colour = launcher.evaluate("b => getComputedStyle(b).color")
    size = launcher.evaluate("b => getComputedStyle(b).fontSize")
    assert colour == "rgb(255, 255, 255)"
    assert size == "15px"


@pytest.mark.parametrize("token_kind", ["forged", "expired"], ids=["forged-token", "expired-token"])
def test_forged_and_expired_tokens_show_the_guest_view(
    browser,
    store_server,
    storefront,
    token_kind,
):
    def make():
        if token_kind == "forged":
            return sign_visitor(storefront.customer_id, "wsk_guessed-secret")
        now = int(time.time())
        return sign(
            {"sub": storefront.customer_id, "iat": now - 900, "exp": now - 600},
            storefront.widget_secret,
        )

    page, launcher = visit(browser, store_server, make)
    launcher.click()
    panel(page).get_by_text("Tham gia ngay").wait_for()
    assert "Lan" not in panel(page).inner_text()
    screenshot(page, f"widget-{token_kind}")


def test_member_confirms_before_points_are_spent_and_sees_the_code(
    browser, store_server, storefront, api
):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make)
    member_loaded(page, "1.500")
    launcher.click()
    dialog = panel(page)
    dialog.get_by_role("button", name="Đổi Giảm 50.000đ").click()
    # One tap asks first: nothing is spent yet.
    dialog.get_by_text("Dùng 1.000 điểm để đổi Giảm 50.000đ?").wait_for()
    screenshot(page, "widget-redeem-confirm")
    assert api.get(f"/api/v1/members/{storefront.member_id}").json["points"]["available"] == 1500
    dialog.get_by_role("button", name="Huỷ").click()
    assert dialog.get_by_text("Dùng 1.000 điểm").count() == 0
    assert api.get(f"/api/v1/members/{storefront.member_id}").json["points"]["available"] == 1500

    dialog.get_by_role("button", name="Đổi Giảm 50.000đ").click()
    dialog.get_by_role("button", name="Đồng ý đổi").click()
    dialog.get_by_text("Đổi quà thành công!").wait_for()
    code = dialog.locator(".note").inner_text().rsplit(" ", 1)[-1]
    # The panel reloads with the voucher listed and the points taken.
    dialog.locator(".code", has_text=code).wait_for()
    assert dialog.locator(".big").first.inner_text() == "500 điểm"
    voucher = dialog.locator("li", has=page.locator(".code", has_text=code)).inner_text()
    assert re.search(r"hạn dùng đến \d{2}/\d{2}/\d{4}", voucher), voucher
    events = [e["event"] for e in page.evaluate("() => window.dataLayer")]
    assert events == ["loyalty_panel_open", "spend_virtual_currency"]
    screenshot(page, "widget-redeemed")


def test_panel_fits_a_phone_screen(browser, store_server, storefront):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make, width=375, height=740)
    launcher.click()
    dialog = panel(page)
    dialog.get_by_text("Xin chào, Lan").wait_for()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["width"] <= 375
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 375
    screenshot(page, "widget-phone")


def test_keyboard_only_opens_traps_focus_and_closes(browser, store_server, storefront):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make)
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = panel(page)
    dialog.get_by_text("Xin chào, Lan").wait_for()
    inside = (
        "() => document.querySelector('#storefront-hub-widget').shadowRoot"
        ".activeElement && document.querySelector('#storefront-hub-widget').shadowRoot"
        ".activeElement.closest('[role=dialog]') !== null"
    )
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate(inside), "focus left the open panel"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(inside)
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    focused = page.evaluate(
        "() => document.querySelector('#storefront-hub-widget').shadowRoot.activeElement.className"
    )
    assert "launcher" in focused
    assert launcher.get_attribute("aria-expanded") == "false"
    screenshot(page, "widget-keyboard-closed")


def test_english_storefront_gets_english_and_currency_formatting(
    browser,
    store_server,
    storefront,
):
    page, launcher = visit(browser, store_server, locale="en")
    launcher.click()
    dialog = panel(page)
    dialog.get_by_text("Join now").wait_for()
    text = dialog.inner_text()
    assert "1 point for every ₫1,000 spent" in text
    assert "1 points" not in text
    screenshot(page, "widget-guest-en")


def shadow_boxes(page, selector):
    """Sizes of the panel's elements matching ``selector``: (text, width, height) each."""
    return page.evaluate(
        """s => Array.from(document.querySelector('#storefront-hub-widget').shadowRoot
             .querySelectorAll(s)).map(n => {
               const r = n.getBoundingClientRect();
               return [n.textContent.trim(), r.width, r.height];
             })""",
        selector,
    )


def test_the_member_qr_code_is_drawn_big_enough_and_reads_as_the_member_code(
    browser, store_server, storefront, api
):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make)
    member_loaded(page, "1.500")
    launcher.click()
    qr = panel(page).locator(".qr svg")
    qr.scroll_into_view_if_needed()
    box = qr.bounding_box()
    assert box["width"] >= 120 and box["height"] >= 120, box
    read = zxingcpp.read_barcodes(png_grey(qr.screenshot()), formats=zxingcpp.BarcodeFormat.QRCode)
    code = api.get(f"/api/v1/members/{storefront.member_id}").json["code"]
    assert [barcode.text for barcode in read] == [code]
    screenshot(page, "widget-member-qr")


def test_activity_is_one_line_per_order_with_day_number_and_points_in_the_panels_language(
    browser, store_server, storefront, api
):
    tiers = {t["name"]: t["id"] for t in api.get("/api/v1/tiers").json["data"]}
    api.patch(f"/api/v1/tiers/{tiers['Bạc']}", json={"earn_multiplier": "1.5"})
    order = api.post(
        "/api/v1/orders",
        json={
            "source": "setup",
            "external_id": "W-2",
            "number": "#1002",
            "subtotal": "100000",
            "total": "100000",
            "financial_status": "paid",
            "placed_at": "2026-11-20T22:30:00+07:00",
            "paid_at": "2026-11-20T22:30:00+07:00",
            "customer": {"phone": "0912345678"},
        },
    )
    assert order.status_code == 201, order.json
    entries = api.get(f"/api/v1/members/{storefront.member_id}/ledger").json["data"]
    assert len(entries) == 3  # W-1's base points; W-2's base points and its tier bonus
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    for locale, order_word, points in (("vi", "Đơn hàng", "điểm"), ("en", "Order", "points")):
        page, launcher = visit(browser, store_server, make, locale=locale)
        member_loaded(page, "1")
        launcher.click()
        lines = panel(page).locator("section.activity li").all_inner_texts()
        assert len(lines) == 2, lines
        newest = " ".join(lines[0].split())
        assert re.fullmatch(rf"\d\d/\d\d/2026 {order_word} #1002 \+150 {points}", newest), newest
        assert f"{order_word} W-1" in lines[1]
        text = panel(page).inner_text()
        for engine_words in ("per 1,000", "floor", "base points", "x1.5"):
            assert engine_words not in text
        panel(page).locator("section.activity").scroll_into_view_if_needed()
        screenshot(page, f"widget-activity-{locale}")
        page.context.close()


@pytest.mark.parametrize("width", [390, 1366])
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_button_and_link_is_a_44_pixel_touch_target(
    browser, store_server, storefront, width, locale
):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make, width=width, height=844, locale=locale)
    member_loaded(page, "1")
    launcher.click()
    panel(page).locator("section.activity").wait_for()
    small = [
        box
        for box in shadow_boxes(page, "button, a[href]")
        if box[1] and (box[1] < 44 or box[2] < 44)
    ]
    assert small == []
    box = panel(page).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    screenshot(page, f"widget-member-{locale}-{width}")


@pytest.mark.parametrize("width", [390, 1366])
def test_guest_sees_tiers_and_the_stores_join_and_sign_in_pages(
    browser, store_server, storefront, width
):
    page, launcher = visit(browser, store_server, width=width, height=844)
    launcher.click()
    dialog = panel(page)
    join = dialog.get_by_role("link", name="Tham gia ngay")
    assert join.get_attribute("href") == f"{store_server.url}/account/register"
    sign_in = dialog.get_by_role("link", name="Đã là thành viên? Đăng nhập")
    assert sign_in.get_attribute("href") == f"{store_server.url}/account/login"
    tiers = dialog.locator("li.tier").all_inner_texts()
    assert [t.split()[0] for t in tiers] == ["Đồng", "Bạc", "Vàng"]
    assert "từ 1.000 điểm" in tiers[1]
    screenshot(page, f"widget-guest-vi-{width}")


def shared_links(dialog):
    """What each share link hands its app, read back from the link's own address."""
    found = {}
    for name in ("Zalo", "Messenger", "SMS"):
        href = dialog.get_by_role("link", name=f"Chia sẻ qua {name}").get_attribute("href")
        address = urlsplit(href)
        query = parse_qs(address.query)
        if name == "Zalo":
            assert (address.scheme, address.netloc) == ("https", "button-share.zalo.me")
            sent = json.loads(base64.b64decode(query["d"][0]))["url"]
            assert query["url"] == [sent]
        elif name == "Messenger":
            assert (address.scheme, address.netloc, address.path) == ("fb-messenger", "share", "/")
            sent = query["link"][0]
        else:
            assert address.scheme == "sms"
            sent = query["body"][0]
        found[name] = sent
    return found


def test_member_gets_an_absolute_referral_link_to_copy_and_share(
    browser, store_server, storefront, api, live
):
    api.patch("/api/v1/referrals/settings", json={"enabled": True})
    api.patch(
        f"/api/v1/connections/{storefront.connection_id}",
        json={"settings": {"referral_url": "/?ref={code}"}},
    )
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    requested = []
    page, launcher = visit(browser, store_server, make, width=390, height=844, requested=requested)
    member_loaded(page, "1.500")
    launcher.click()
    link = panel(page).locator(".link")
    found = re.fullmatch(rf"{store_server.url}/\?ref=([0-9A-Z]{{8}})", link.inner_text())
    assert found, link.inner_text()
    member_code = api.get(f"/api/v1/members/{storefront.member_id}").json["code"]
    assert found.group(1) != member_code  # the counter's code stays off shared links
    sent = shared_links(panel(page))
    assert (sent["Zalo"], sent["Messenger"]) == (link.inner_text(), link.inner_text())
    assert sent["SMS"].startswith("Mua sắm tại ") and sent["SMS"].endswith(f": {link.inner_text()}")
    # Loading the widget and showing the links asked nothing of Zalo or Facebook: every
    # request went to the store or the hub.
    hosts = {urlsplit(u).netloc for u in requested}
    assert hosts == {urlsplit(store_server.url).netloc, urlsplit(live.url).netloc}
    panel(page).get_by_role("button", name="Sao chép Giới thiệu bạn bè").click()
    shared = [e for e in page.evaluate("() => window.dataLayer") if e["event"] == "share"]
    assert shared == [
        {
            "event": "share",
            "loyalty_connection": str(storefront.connection_id),
            "method": "copy",
            "content_type": "referral",
            "item_id": found.group(1),
        }
    ]
    assert "Bạn bè đã tham gia: 0" in panel(page).inner_text()
    link.scroll_into_view_if_needed()
    screenshot(page, "widget-referral-390")


@pytest.mark.parametrize(("locale", "width"), [("vi", 390), ("en", 1366)])
def test_ways_to_earn_by_action_show_what_is_done_and_what_earns(
    browser, store_server, storefront, api, locale, width
):
    api.put(
        "/api/v1/events/rules",
        json={
            "data": [
                {"kind": "review.published", "points": 50},
                {"kind": "profile.completed", "points": 1, "first_time_only": True},
            ]
        },
    )
    api.post(
        "/api/v1/events",
        json={"kind": "profile.completed", "member_id": storefront.member_id},
        headers={"Idempotency-Key": "profile"},
    )
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make, width=width, height=844, locale=locale)
    member_loaded(page, "1")
    launcher.click()
    ways = panel(page).locator(
        "section", has=page.locator("h3", has_text=re.compile("Cách tích điểm|Ways to earn"))
    )
    ways.scroll_into_view_if_needed()
    text = " ".join(ways.inner_text().split())
    expected = {
        "vi": ("Viết đánh giá nhận 50 điểm", "Hoàn thiện hồ sơ ✓ đã hoàn thành"),
        "en": ("Write a review earn 50 points", "Complete your profile ✓ done"),
    }[locale]
    for words in expected:
        assert words in text, text
    newest = panel(page).locator("section.activity li").first.inner_text()
    assert expected[1].split(" ✓")[0] in newest  # the action's own name, not the engine's
    screenshot(page, f"widget-ways-to-earn-{locale}-{width}")


def test_the_guest_panel_pushes_open_and_join_into_the_stores_data_layer(
    browser, store_server, storefront
):
    page, launcher = visit(browser, store_server, locale="en", width=1366)
    launcher.click()
    join = panel(page).get_by_role("link", name="Join now")
    join.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
    join.click()
    events = page.evaluate("() => window.dataLayer")
    assert [e["event"] for e in events] == ["loyalty_panel_open", "join_group"]
    assert events[0]["loyalty_member"] is False
    assert events[1]["group_id"] == "loyalty"


@pytest.fixture
def reviewed_storefront(api, hub, live, store_server):
    """Tiers counted over a rolling year and reviewed when it ends; Lan reaches Bạc."""
    setup = set_up_storefront(api, hub, origin=store_server.url, points=0)
    for tier in api.get("/api/v1/tiers").json["data"]:
        api.patch(f"/api/v1/tiers/{tier['id']}", json={"window": "rolling_12m"})
    api.patch("/api/v1/tiers/settings", json={"downgrade_policy": "review"})
    now = datetime.now(UTC).isoformat()  # the panel reads the real clock: the order is today's
    order = api.post(
        "/api/v1/orders",
        json={
            "source": "setup",
            "external_id": "W-2",
            "subtotal": "1500000",
            "total": "1500000",
            "financial_status": "paid",
            "placed_at": now,
            "paid_at": now,
            "customer": {"phone": "0912345678"},
        },
    )
    assert order.status_code == 201, order.json
    store_server.shop.config["page"] = {"hub": live.url, "connection": setup.connection_id}
    return setup


@pytest.mark.parametrize(("locale", "width"), [("vi", 390), ("en", 1366)])
def test_the_tier_says_what_the_next_one_takes_and_what_the_review_asks_in_one_reading(
    browser, store_server, reviewed_storefront, api, locale, width
):
    """Reaching the next tier counts the whole window, keeping this one only the review
    period: the panel says so in words, not "3,500 to reach" beside "1,000 more to keep"."""
    setup = reviewed_storefront
    make = lambda: sign_visitor(setup.customer_id, setup.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make, width=width, height=844, locale=locale)
    member_loaded(page, "1.500" if locale == "vi" else "1,500")
    launcher.click()
    tier = panel(page).locator("section", has=page.locator("h3", has_text=re.compile("Hạng|tier")))
    text = " ".join(tier.inner_text().split())
    status = api.get(f"/api/v1/members/{setup.member_id}/tier").json
    review = datetime.fromisoformat(status["retain_by"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    expected = {
        "vi": (
            "Còn 3.500 điểm để lên hạng Vàng",
            f"Xét hạng ngày {review:%d/%m/%Y}: để giữ hạng Bạc, cần đạt 1.000 điểm trong kỳ "
            "xét hạng này (còn thiếu 1.000 điểm)",
        ),
        "en": (
            "3,500 points more to reach Vàng",
            # Days are written the merchant's way (a Vietnamese shop) in either language.
            f"Tier review on {review:%d/%m/%Y}: to stay Bạc, reach 1,000 points "
            "in this review period (1,000 points to go)",
        ),
    }[locale]
    for words in expected:
        assert words in text, text
    assert text.index(expected[0]) < text.index(expected[1])
    assert "Cần thêm" not in text and "more to keep" not in text  # the old pair is gone
    tier.scroll_into_view_if_needed()
    screenshot(page, f"widget-tier-review-{locale}-{width}")
