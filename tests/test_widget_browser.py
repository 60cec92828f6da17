"""The widget in a real headless Chromium, embedded in a storefront on another origin."""

import time

import pytest
from browser_support import ServerThread
from browser_support import screenshot
from flask import Flask
from flask import jsonify
from flask import request
from widget_setup import set_up_storefront

from hub.widget.tokens import sign
from hub.widget.tokens import sign_visitor

# The PostgreSQL lane of scripts/test skips these: the database changes nothing on screen.
pytestmark = pytest.mark.db_agnostic

STORE_PAGE = """<!doctype html>
<html lang="{locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trà Sen — cửa hàng</title>
<style>body{{font-family:Georgia,serif;margin:40px}} button{{all:unset;color:red}}
 *{{font-size:30px !important;color:purple !important}}</style></head>
<body><h1>Trà Sen</h1><p>Trà ngon mỗi ngày.</p><a href="#" id="store-link">Sản phẩm</a>
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


def visit(browser, store_server, make_token=None, *, width=1280, height=800, locale="vi"):
    store_server.shop.config["page"]["make_token"] = make_token
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
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


def test_member_sees_points_tier_rewards_and_code(browser, store_server, storefront):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make)
    page.wait_for_function(
        "() => document.querySelector('#storefront-hub-widget').shadowRoot"
        ".querySelector('button.launcher').textContent.includes('1.500')"
    )
    launcher.click()
    dialog = panel(page)
    dialog.get_by_text("Xin chào, Lan").wait_for()
    text = dialog.inner_text()
    assert "1.500 điểm" in text
    assert "Vàng" in text  # the next tier and what it takes
    assert dialog.locator(".qr svg").count() == 1
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


def test_member_redeems_a_reward_and_sees_the_code_at_once(browser, store_server, storefront):
    make = lambda: sign_visitor(storefront.customer_id, storefront.widget_secret)  # noqa: E731
    page, launcher = visit(browser, store_server, make)
    page.wait_for_function(
        "() => document.querySelector('#storefront-hub-widget').shadowRoot"
        ".querySelector('button.launcher').textContent.includes('1.500')"
    )
    launcher.click()
    dialog = panel(page)
    dialog.get_by_role("button", name="Đổi Giảm 50.000đ").click()
    dialog.get_by_text("Đổi quà thành công!").wait_for()
    note = dialog.locator(".note").inner_text()
    code = note.rsplit(" ", 1)[-1]
    # The panel reloads with the voucher listed and the points taken.
    dialog.locator(".code", has_text=code).wait_for()
    assert dialog.locator(".big").first.inner_text() == "500 điểm"
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
    assert "1 points for every ₫1,000 spent" in dialog.inner_text()
