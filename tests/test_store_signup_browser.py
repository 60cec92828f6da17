"""A new customer signs up at a Shopify or Haravan store and comes back a member, in Chromium.

The hub serves on one loopback port, the store simulator on another. The store's
storefront loads the widget as the platform does: on Shopify through the script tag
the hub installed, its calls going through the app proxy, which names the signed-in
customer and signs the request; on Haravan through the theme's pasted snippet, with
a token the theme's server signs. The widget's "join" link opens the store's own
sign-up page; the customer the store creates reaches the hub by its webhook; back
on the storefront, the widget shows the member view.
"""

from __future__ import annotations

import pytest
import requests
from browser_support import screenshot

from connectors.haravan.simulator import HaravanSimulator
from connectors.shopify.simulator import ShopifySimulator
from webhooks.testing import LiveServer

SHOPIFY_KEY, SHOPIFY_SECRET = "test-shopify-key", "test-shopify-secret"
HARAVAN = {"org_id": "1000114691", "client_id": "haravan-client"}
HARAVAN_SECRET, VERIFY_TOKEN = "haravan-secret", "verify-me"

WORDS = {
    "vi": {
        "join": "Tham gia ngay",
        "name": "Họ tên",
        "phone": "Số điện thoại",
        "create": "Đăng ký",
        "hello": "Xin chào, Hồng",
    },
    "en": {
        "join": "Join now",
        "name": "Name",
        "phone": "Phone",
        "create": "Create account",
        "hello": "Hello, Hồng",
    },
}


@pytest.fixture
def hub_config():
    return {
        "HUB_ALLOW_PRIVATE_TARGETS": True,  # the store simulators listen on loopback
        "HUB_PLUGINS_CONFIG": {
            "shopify": {
                "api_key": SHOPIFY_KEY,
                "api_secret": SHOPIFY_SECRET,
                "proxy_path": "/apps/loyalty",
            },
            "haravan": {"client_id": HARAVAN["client_id"], "client_secret": HARAVAN_SECRET},
        },
    }


def connect(api, path, body) -> int:
    """The merchant connects the store; the platform's consent page sends them back."""
    answer = api.post(path, json=body)
    assert answer.status_code == 200, answer.json
    final = requests.get(answer.json["authorize_url"], timeout=60)
    assert final.status_code == 200, final.text
    return final.json()["connection_id"]


@pytest.fixture
def shopify(app, hub, api):
    store = ShopifySimulator(api_key=SHOPIFY_KEY, api_secret=SHOPIFY_SECRET)
    store.delivery_timeout = 60  # inline processing on a busy test machine
    with store, LiveServer(app) as server:
        hub.config["HUB_PUBLIC_URL"] = server.url
        hub.config["HUB_PLUGINS_CONFIG"]["shopify"]["shop_url"] = store.url
        store.connection_id = connect(api, "/api/v1/shopify/connect", {"shop": store.shop})
        assert store.script_tags, "the hub installs the widget's script tag"
        store.proxy_url = server.url  # the app's proxy URL: the hub
        yield store


@pytest.fixture
def haravan(app, hub, api):
    store = HaravanSimulator(**HARAVAN, client_secret=HARAVAN_SECRET, verify_token=VERIFY_TOKEN)
    store.delivery_timeout = 60
    with store, LiveServer(app) as server:
        hub.config["HUB_PUBLIC_URL"] = server.url
        hub.config["HUB_PLUGINS_CONFIG"]["haravan"].update(
            verify_token=VERIFY_TOKEN,
            accounts_url=store.url,
            api_url=store.url,
            webhook_api_url=store.url,
        )
        store.callback_url = f"{server.url}/webhooks/haravan"
        connection_id = connect(api, "/api/v1/haravan/connect", {})
        # The merchant pastes the snippet in the theme, whose server signs the token.
        secret = api.post(f"/api/v1/connections/{connection_id}/widget-secret").json
        settings = {"storefront_origins": [store.url]}
        answer = api.patch(f"/api/v1/connections/{connection_id}", json={"settings": settings})
        assert answer.status_code == 200, answer.json
        store.widget_snippet = (server.url, connection_id, secret["widget_secret"])
        yield store


def sign_up_from_the_widget(browser, store, locale, width, name):
    words = WORDS[locale]
    page = browser.new_context(viewport={"width": width, "height": 844}).new_page()
    page.goto(f"{store.url}/?locale={locale}")
    widget = page.locator("#storefront-hub-widget")
    widget.locator("button.launcher").click()
    join = widget.locator("[role=dialog]").get_by_role("link", name=words["join"])
    assert join.get_attribute("href") == "/account/register"  # the store's own page
    join.click()
    page.wait_for_url(f"{store.url}/account/register")
    page.get_by_label(words["name"]).fill("Hồng")
    page.get_by_label(words["phone"]).fill("0987 654 321")
    screenshot(page, f"{name}-register-{locale}-{width}")
    page.get_by_role("button", name=words["create"]).click()
    page.wait_for_url(f"{store.url}/")
    widget.locator("button.launcher").click()
    dialog = widget.locator("[role=dialog]")
    dialog.get_by_text(words["hello"]).wait_for()
    screenshot(page, f"{name}-member-{locale}-{width}")
    text = dialog.inner_text()
    page.context.close()
    return text


@pytest.mark.parametrize(("locale", "width"), [("vi", 390), ("en", 1366)])
def test_a_shopify_customer_who_signs_up_at_the_store_comes_back_a_member(
    browser, shopify, locale, width
):
    text = sign_up_from_the_widget(browser, shopify, locale, width, "shopify")
    [customer] = shopify.customers.values()
    assert customer["first_name"] == "Hồng"
    assert ("0 điểm" if locale == "vi" else "0 points") in text


@pytest.mark.parametrize(("locale", "width"), [("vi", 390), ("en", 1366)])
def test_a_haravan_customer_who_signs_up_at_the_store_comes_back_a_member(
    browser, haravan, locale, width
):
    text = sign_up_from_the_widget(browser, haravan, locale, width, "haravan")
    [customer] = haravan.customers.values()
    assert customer["first_name"] == "Hồng"
    assert ("0 điểm" if locale == "vi" else "0 points") in text


def test_the_app_proxy_names_no_member_to_a_guest_or_a_forged_signature(shopify, api):
    """Through the proxy a guest is a guest; straight to the hub, a made-up customer id
    with a bad signature is refused, whatever the store's cookie said."""
    customer = shopify.add_customer(email="lan@example.vn", first_name="Lan")
    connection = shopify.connection_id
    path = f"/apps/loyalty/widget/v1/c/{connection}/state"
    guest = requests.get(f"{shopify.url}{path}", timeout=30).json()
    assert guest["member"] is None
    member = requests.get(
        f"{shopify.url}{path}", cookies={"store_customer": str(customer["id"])}, timeout=30
    ).json()
    assert member["member"]["name"] == "Lan"
    forged = requests.get(
        f"{shopify.proxy_url}/widget/v1/c/{connection}/state",
        params={
            "shop": shopify.shop,
            "logged_in_customer_id": str(customer["id"]),
            "path_prefix": "/apps/loyalty",
            "timestamp": "1",
            "signature": "0" * 64,
        },
        timeout=30,
    ).json()
    assert forged["member"] is None
