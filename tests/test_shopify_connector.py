"""The Shopify connector's hooks, signatures and payload mapping, one at a time."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import Headers

from connectors.shopify import schemas
from connectors.shopify import signing
from connectors.shopify import store
from connectors.shopify.client import API_VERSION
from connectors.shopify.installs import ShopifyInstall
from hub import Connection
from hub import ConnectionUninstalled
from hub import CustomerRedaction
from hub import Order
from hub import PermanentError
from hub import Refund
from hub import ShopRedaction
from hub import VoucherUse
from hub import claim_install

SECRET = "shopify-app-secret"
SHOP = "hoa-mai.myshopify.com"

# The orders/paid capture of a real dev store (activepieces), trimmed: no customer,
# an empty email, money as strings.
DRAFT_ORDER = {
    "id": 5324830114101,
    "created_at": "2023-03-24T12:37:26-04:00",
    "processed_at": "2023-03-24T12:37:26-04:00",
    "currency": "USD",
    "current_subtotal_price": "2629.95",
    "discount_codes": [],
    "email": "",
    "financial_status": "paid",
    "name": "#1010",
    "subtotal_price": "2629.95",
    "total_discounts": "0.00",
    "total_price": "2629.95",
    "total_tax": "0.00",
    "line_items": [
        {
            "id": 13925006311734,
            "gift_card": False,
            "price": "2629.95",
            "product_id": 8222223204662,
            "quantity": 1,
            "sku": "sku-hosted-1",
            "title": "The 3p Fulfilled Snowboard",
            "total_discount": "0.00",
            "variant_id": 44872881439030,
        }
    ],
    "refunds": [],
}

# Shopify's REST order fixture (shopify_python_api test/fixtures/order.json), trimmed.
FIXTURE_ORDER = {
    "order": {
        "id": 450789469,
        "email": "bob.norman@hostmail.com",
        "created_at": "2008-01-10T11:00:00-05:00",
        "name": "#1001",
        "total_price": "409.94",
        "subtotal_price": "398.00",
        "total_discounts": "0.00",
        "total_tax": "11.94",
        "currency": "USD",
        "financial_status": "authorized",
        "cancelled_at": None,
        "discount_codes": [{"code": "TENOFF", "amount": "10.00"}],
        "line_items": [
            {
                "id": 466157049,
                "price": "199.00",
                "quantity": 1,
                "sku": "IPOD2008GREEN",
                "title": "IPod Nano - 8gb",
                "product_id": 632910392,
                "variant_id": 39072856,
            }
        ],
        "customer": {
            "email": "bob.norman@hostmail.com",
            "first_name": "Bob",
            "id": 207119551,
            "last_name": "Norman",
            "tags": "",
            "state": "disabled",
        },
    }
}


@pytest.fixture
def hub_config():
    return {"HUB_PLUGINS_CONFIG": {"shopify": {"api_key": "key", "api_secret": SECRET}}}


@pytest.fixture
def connection(hub, api):
    created = api.post(
        "/api/v1/connections",
        json={"connector": "shopify", "settings": {"shop": SHOP, "currency": "USD"}},
    )
    assert created.status_code == 201, created.json
    with hub.db.session() as session:
        return session.get(Connection, created.json["id"])


def signed(body: bytes, secret: str = SECRET, **extra) -> Headers:
    return Headers(
        {
            "X-Shopify-Hmac-Sha256": signing.body_hmac(secret, body),
            "X-Shopify-Shop-Domain": SHOP,
            **extra,
        }
    )


def test_the_published_oauth_query_hmac_vector_verifies():
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "shop": "some-shop.myshopify.com",
        "timestamp": "1337178173",
    }
    digest = "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"
    assert signing.query_hmac("hush", params) == digest
    assert signing.verify_query(["hush"], {**params, "hmac": digest}, now=1337178173)
    assert not signing.verify_query(
        ["hush"], {**params, "hmac": digest}, now=1337178173 + 2 * 86400
    )


@pytest.mark.parametrize(
    ("shop", "valid"),
    [
        ("hoa-mai.myshopify.com", True),
        ("Hoa-Mai.myshopify.com", True),
        ("evil.com", False),
        ("hoa-mai.myshopify.com.evil.com", False),
        ("hoa-mai.myshopify.com/admin", False),
        ("-bad.myshopify.com", False),
        ("", False),
    ],
)
def test_only_myshopify_domains_are_stores(shop, valid):
    assert signing.valid_shop(shop) is valid


@pytest.mark.parametrize(
    "shop",
    [
        "Hoa-Mai.myshopify.com",  # settings hold the lower-case domain Shopify gives
        "hoa_mai.myshopify.com",
        "10.0.0.1",
        "127.0.0.1:8443",
        "hoa-mai.myshopify.com:8443",
        "hoa-mai.myshopify.com.",
        "user@hoa-mai.myshopify.com",
        "hoa-mai.myshopify.com\n",
        None,
        ["hoa-mai.myshopify.com"],
    ],
)
def test_a_stored_shop_is_exactly_a_lower_case_myshopify_domain(shop):
    assert store.valid_shop(shop) is False
    assert store.valid_shop("hoa-mai.myshopify.com") is True


def test_the_shop_url_is_built_only_for_a_store_domain(hub):
    assert store.shop_base_url(hub, SHOP) == f"https://{SHOP}"
    with pytest.raises(PermanentError, match="not a Shopify store domain"):
        store.shop_base_url(hub, "169.254.169.254")


@pytest.mark.parametrize(
    ("pinned", "used"),
    [
        ("2025-10", "2025-10"),
        ("unstable", "unstable"),
        ("../../../x", API_VERSION),
        (7, API_VERSION),
    ],
)
def test_a_malformed_api_version_setting_falls_back_to_the_app_s(hub, pinned, used):
    assert store.api_version(hub, {"api_version": pinned}) == used


def test_the_app_proxy_signature_joins_sorted_params_without_separators():
    params = {
        "extra": ["1", "2"],
        "shop": SHOP,
        "logged_in_customer_id": "1",
        "path_prefix": "/apps/loyalty",
        "timestamp": str(int(time.time())),
    }
    from werkzeug.datastructures import MultiDict

    query = MultiDict(
        [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    )
    signature = signing.proxy_signature(SECRET, query)
    query["signature"] = signature
    assert signing.verify_proxy([SECRET], query)
    query["logged_in_customer_id"] = "2"
    assert not signing.verify_proxy([SECRET], query)


def test_connector_verify_webhook_checks_the_body_hmac_with_the_app_secret(hub, connection):
    body = json.dumps(DRAFT_ORDER).encode()
    good = hub.connector(connection.connector).verify_webhook(hub, connection, signed(body), body)
    forged = hub.connector(connection.connector).verify_webhook(
        hub, connection, signed(body, "wrong"), body
    )
    assert (good, forged) == (True, False)


def test_connector_read_webhook_answers_signature_delivery_id_and_topic_at_once(hub, connection):
    body = json.dumps(DRAFT_ORDER).encode()
    headers = signed(body)
    headers["X-Shopify-Event-Id"] = "evt-3"
    headers["X-Shopify-Topic"] = "orders/paid"
    read = hub.connector(connection.connector).read_webhook

    good = read(hub, connection, headers, body)
    forged = read(hub, connection, signed(body, "wrong"), body)

    assert (good.verified, good.delivery_id, good.topic) == (True, "evt-3", "orders/paid")
    assert forged.verified is False


def test_connector_delivery_id_prefers_the_event_id_shared_by_duplicates(hub, connection):
    both = Headers({"X-Shopify-Event-Id": "evt-1", "X-Shopify-Webhook-Id": "wh-9"})
    only_webhook = Headers({"X-Shopify-Webhook-Id": "wh-9"})
    ask = hub.connector("shopify").delivery_id
    assert ask(hub, connection, both, b"{}") == "evt-1"
    assert ask(hub, connection, only_webhook, b"{}") == "wh-9"


def test_connector_topic_is_the_topic_header(hub, connection):
    headers = Headers({"X-Shopify-Topic": "orders/paid"})
    topic = hub.connector(connection.connector).topic(hub, connection, headers, b"{}")
    assert topic == "orders/paid"


def test_connector_connection_for_finds_the_store_that_completed_oauth_even_after_uninstall(
    hub, connection
):
    headers = Headers({"X-Shopify-Shop-Domain": SHOP})
    with hub.db.transaction() as session:
        claim_install(
            session, ShopifyInstall, SHOP, connection.id
        )  # what the OAuth callback records
    found = hub.connector("shopify").connection_for(hub, headers, b"")
    assert found.id == connection.id
    with hub.db.transaction() as session:
        session.get(Connection, connection.id).status = "disabled"
    found = hub.connector("shopify").connection_for(hub, headers, b"")
    assert found.id == connection.id and found.status == "disabled"
    other = Headers({"X-Shopify-Shop-Domain": "someone-else.myshopify.com"})
    assert hub.connector("shopify").connection_for(hub, other, b"") is None
    assert hub.connector("custom").connection_for(hub, headers, b"") is None


def test_a_connection_that_only_names_a_shop_never_gets_its_app_wide_deliveries(
    hub, api, other_api, connection
):
    # Given the store's connection made through the API and another merchant's naming it too
    squatter = other_api.post(
        "/api/v1/connections", json={"connector": "shopify", "settings": {"shop": SHOP}}
    )
    assert squatter.status_code == 201, squatter.json
    headers = Headers({"X-Shopify-Shop-Domain": SHOP})
    # then neither is chosen before an OAuth completes
    assert hub.connector("shopify").connection_for(hub, headers, b"") is None
    # and after the owner's OAuth only the owner's is, however new the other one is
    with hub.db.transaction() as session:
        claim_install(session, ShopifyInstall, SHOP, connection.id)
    assert hub.connector("shopify").connection_for(hub, headers, b"").id == connection.id


def test_a_store_belongs_to_one_connection_and_a_new_oauth_takes_it_over(hub, api, connection):
    second = api.post(
        "/api/v1/connections", json={"connector": "shopify", "settings": {"shop": SHOP}}
    ).json["id"]
    with hub.db.transaction() as session:
        claim_install(session, ShopifyInstall, SHOP, connection.id)
    with hub.db.transaction() as session:
        claim_install(session, ShopifyInstall, SHOP, second)
    with hub.db.session() as session:
        rows = session.scalars(select(ShopifyInstall)).all()
    assert [(r.shop, r.connection_id) for r in rows] == [(SHOP, second)]
    # and the database itself refuses a second row for one store
    with pytest.raises(IntegrityError), hub.db.transaction() as session:
        session.add(ShopifyInstall(shop=SHOP, connection_id=connection.id))


def test_connector_records_maps_an_order_with_its_customer_and_codes(hub, connection):
    records = hub.connector(connection.connector).records(
        hub, connection, "orders/create", FIXTURE_ORDER["order"], Headers()
    )
    order, use = records
    assert isinstance(order, Order) and isinstance(use, VoucherUse)
    assert (order.external_id, order.total, order.tax) == (
        "450789469",
        Decimal("409.94"),
        Decimal("11.94"),
    )
    assert order.financial_status == "authorized" and order.paid_at is None
    assert order.customer.external_id == "207119551" and order.customer.name == "Bob Norman"
    assert use == VoucherUse(code="TENOFF", order_external_id="450789469")


def test_an_order_without_a_customer_or_email_has_no_customer(hub, connection):
    [order] = hub.connector(connection.connector).records(
        hub, connection, "orders/paid", DRAFT_ORDER, Headers()
    )
    assert order.customer is None and order.total == Decimal("2629.95")
    assert order.placed_at.utcoffset().total_seconds() == -4 * 3600


def test_a_refund_is_the_sum_of_its_successful_refund_transactions():
    payload = {
        "id": 509562969,
        "order_id": 450789469,
        "created_at": "2008-01-12T11:00:00-05:00",
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "41.94", "currency": "USD"},
            {"kind": "refund", "status": "failure", "amount": "99.00", "currency": "USD"},
        ],
    }
    [refund] = schemas.refund_records(payload)
    assert isinstance(refund, Refund)
    assert (refund.order_external_id, refund.amount, refund.currency) == (
        "450789469",
        Decimal("41.94"),
        "USD",
    )
    assert schemas.refund_records({**payload, "transactions": []}) == []


def test_privacy_and_uninstall_topics_become_their_records(hub, connection):
    redact = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [299938, 280263, 220458],
    }
    ask = hub.connector("shopify").records
    [record] = ask(
        hub,
        connection,
        "customers/redact",
        redact,
        Headers({"X-Shopify-Webhook-Id": "w-1"}),
    )
    assert isinstance(record, CustomerRedaction)
    assert record.customer.external_id == "191167" and record.order_external_ids[0] == "299938"
    [shop] = ask(
        hub,
        connection,
        "shop/redact",
        {"shop_id": 954889, "shop_domain": SHOP},
        Headers(),
    )
    assert shop == ShopRedaction(shop=SHOP)
    [gone] = ask(
        hub,
        connection,
        "app/uninstalled",
        {"id": 954889, "domain": SHOP},
        Headers(),
    )
    assert isinstance(gone, ConnectionUninstalled)


def test_a_disabled_store_s_late_orders_are_ignored_but_privacy_requests_are_not(hub, connection):
    with hub.db.transaction() as session:
        session.get(Connection, connection.id).status = "disabled"
    with hub.db.session() as session:
        disabled = session.get(Connection, connection.id)
    ask = hub.connector("shopify").records
    late = ask(hub, disabled, "orders/create", DRAFT_ORDER, Headers())
    redact = ask(
        hub,
        disabled,
        "shop/redact",
        {"shop_domain": SHOP},
        Headers(),
    )
    assert late is None and redact == [ShopRedaction(shop=SHOP)]


def test_an_unreadable_order_fails_with_the_fields_named(hub, connection):
    from hub import ValidationError

    with pytest.raises(ValidationError) as caught:
        hub.connector(connection.connector).records(
            hub, connection, "orders/create", {"id": 1}, Headers()
        )
    assert "total_price" in caught.value.details


def test_the_install_hit_without_a_configured_merchant_says_where_to_start(client):
    params = {"shop": SHOP, "timestamp": str(int(time.time()))}
    params["hmac"] = signing.query_hmac(SECRET, params)
    answer = client.get("/shopify/oauth/install", query_string=params)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "start_from_the_hub"
    forged = client.get("/shopify/oauth/install", query_string={**params, "hmac": "0" * 64})
    assert forged.status_code == 401


def test_connecting_refuses_what_is_not_a_shopify_domain(api, hub):
    hub.config["HUB_PUBLIC_URL"] = "https://hub.example"
    answer = api.post("/api/v1/shopify/connect", json={"shop": "evil.example.com"})
    assert answer.status_code == 422 and "shop" in answer.json["error"]["details"]


def test_the_widget_script_adds_the_loader_with_the_connection_and_proxy(client, hub, connection):
    hub.config["HUB_PUBLIC_URL"] = "https://hub.example"
    hub.config["HUB_PLUGINS_CONFIG"]["shopify"]["proxy_path"] = "/apps/loyalty"
    answer = client.get(f"/shopify/widget.js?connection={connection.id}")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.mimetype == "application/javascript"
    assert '"https://hub.example/widget/v1/loader.js"' in body
    assert f'"data-connection", "{connection.id}"' in body and '"/apps/loyalty"' in body
