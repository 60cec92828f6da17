"""The demo store in Chromium: a guest joins through the store's own sign-up, or signs in,
and comes back to the widget's member view."""

import pytest
from browser_support import ServerThread
from browser_support import screenshot
from browser_support import viewport

from hub.demo import bp
from hub.demo import seed_demo

pytestmark = pytest.mark.db_agnostic


@pytest.fixture
def demo(app, hub):
    app.register_blueprint(bp)
    seed_demo(hub, members=3)
    server = ServerThread(app)
    yield server
    server.stop()


def widget(page):
    return page.locator("#storefront-hub-widget")


def open_panel(page):
    launcher = widget(page).locator("button.launcher")
    launcher.wait_for()
    launcher.click()
    return widget(page).locator("[role=dialog]")


@pytest.mark.parametrize(("locale", "width"), [("vi", 390), ("en", 1366)])
def test_a_new_customer_joins_at_the_store_and_sees_the_member_view(browser, demo, locale, width):
    words = {
        "vi": ("Tham gia ngay", "Họ tên", "Số điện thoại", "Đăng ký", "Xin chào, Hồng"),
        "en": ("Join now", "Name", "Phone", "Create account", "Hello, Hồng"),
    }[locale]
    page = browser.new_context(viewport={"width": width, "height": 844}).new_page()
    page.goto(f"{demo.url}/demo/store?locale={locale}")
    open_panel(page).get_by_role("link", name=words[0]).click()
    page.wait_for_url("**/demo/store/account/register")
    page.get_by_label(words[1]).fill("Hồng")
    page.get_by_label(words[2]).fill("0987 654 321")
    screenshot(page, f"demo-store-register-{locale}-{width}")
    page.get_by_role("button", name=words[3]).click()
    page.wait_for_url("**/demo/store?locale=" + locale)
    dialog = open_panel(page)
    dialog.get_by_text(words[4]).wait_for()
    link = dialog.locator(".link").inner_text()
    assert link.startswith(f"{demo.url}/demo/store?ref=")
    screenshot(page, f"demo-store-joined-{locale}-{width}")
    page.context.close()


def test_a_member_signs_in_at_the_store_from_the_widget(browser, demo, api, hub):
    page = browser.new_context(viewport=viewport("phone")).new_page()
    page.goto(f"{demo.url}/demo/store")
    open_panel(page).get_by_role("link", name="Đã là thành viên? Đăng nhập").click()
    page.wait_for_url("**/demo/store/account/login")
    page.get_by_label("Số điện thoại hoặc email").fill("khach1@example.vn")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/demo/store?locale=vi")
    dialog = open_panel(page)
    dialog.get_by_text("Xin chào,").wait_for()
    assert dialog.locator("section.activity li").count() >= 1
    screenshot(page, "demo-store-signed-in")
    page.context.close()


def test_signing_in_with_an_unknown_contact_says_so(browser, demo):
    page = browser.new_context(viewport=viewport("phone")).new_page()
    page.goto(f"{demo.url}/demo/store/account/login")
    page.get_by_label("Số điện thoại hoặc email").fill("nobody@example.vn")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("alert").wait_for()
    assert "Không có tài khoản" in page.get_by_role("alert").inner_text()
    page.context.close()


def test_a_friend_who_follows_a_referral_link_and_joins_is_tied_to_the_referrer(browser, demo, hub):
    from sqlalchemy import select

    from hub.models import Referral

    referrer = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    referrer.goto(f"{demo.url}/demo/store?customer=demo-1")
    link = open_panel(referrer).locator(".link").inner_text()
    assert link.startswith(f"{demo.url}/demo/store?ref=")

    friend = browser.new_context(viewport=viewport("phone")).new_page()
    friend.goto(link)
    open_panel(friend).get_by_role("link", name="Tham gia ngay").click()
    friend.get_by_label("Họ tên").fill("Thu")
    friend.get_by_label("Số điện thoại").fill("0977 111 222")
    friend.get_by_role("button", name="Đăng ký").click()
    open_panel(friend).get_by_text("Xin chào, Thu").wait_for()
    friend.wait_for_function(
        "() => !localStorage.getItem('storefront-hub-ref:' + "
        "document.querySelector('script[data-connection]').dataset.connection)"
    )
    with hub.db.session() as session:
        [referral] = session.scalars(select(Referral)).all()
        assert (referral.status, referral.reason) == ("joined", None)

    referrer.reload()
    dialog = open_panel(referrer)
    dialog.get_by_text("Bạn bè đã tham gia: 1").wait_for()
    dialog.locator(".link").scroll_into_view_if_needed()
    screenshot(referrer, "demo-store-referrer-results")
    referrer.context.close()
    friend.context.close()
