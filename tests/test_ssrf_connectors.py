"""A merchant cannot point any connector at an internal service through the API.

Every test runs with ``HUB_ALLOW_PRIVATE_TARGETS`` on, the most open setting an
operator can choose (simulators and the internal service share loopback), so
only the connector's own rules stand between a merchant's settings and the
internal service. The operator's plugin config points each connector at its
platform (a simulator, or a counting stand-in); the merchant's settings name
the internal service; afterwards the internal service has received nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect
from simulators.fixtures import operate
from simulators.fixtures import sms_only
from simulators.internal import InternalService

from hub import queue_message
from hub import utcnow

SHOP = "hoa-mai.myshopify.com"
METADATA_PATH = "/latest/meta-data"
ZNS_TEMPLATE = {"template_id": "375847", "params": {"point": "{points_earned}"}}

esms = fixtures.esms
speedsms = fixtures.speedsms
twilio = fixtures.twilio
zalo = fixtures.zalo
hub_server = fixtures.hub_server


@pytest.fixture
def hub_config():
    return {"HUB_ALLOW_PRIVATE_TARGETS": True, "HUB_PUBLIC_URL": "https://hub.example.com"}


@pytest.fixture
def internal():
    with InternalService() as service:
        yield service


@pytest.fixture
def platform():
    """The operator's stand-in for a store platform: answers ``{}`` and counts calls."""
    with InternalService() as service:
        yield service


# -- stores ---------------------------------------------------------------------------


def shopify_connection(api, **settings) -> int | None:
    created = api.post(
        "/api/v1/connections",
        json={"connector": "shopify", "settings": settings, "secrets": {"access_token": "t"}},
    )
    assert created.status_code in (201, 422), created.json
    return created.json["id"] if created.status_code == 201 else None


def test_shopify_setup_ignores_an_api_base_url_in_the_settings(app, api, hub, internal, platform):
    operate(app, "shopify", shop_url=platform.url)
    connection_id = shopify_connection(
        api, shop=SHOP, api_base_url=f"{internal.url}{METADATA_PATH}"
    )
    if connection_id is not None:  # the settings were accepted: the URL must be ignored
        queued = api.post(f"/api/v1/shopify/connections/{connection_id}/setup")
        assert queued.status_code == 202, queued.json
        assert platform.count >= 1 and platform.paths[0].startswith("POST /admin/api/")
    assert internal.count == 0


@pytest.mark.parametrize("shop", ["{internal}", "10.0.0.1", "hoa-mai.myshopify.com.{internal}"])
def test_a_shopify_shop_that_is_not_a_myshopify_domain_is_never_called(
    api, hub, internal, shop, caplog
):
    # Without an operator template the hub calls https://{shop}: the shop must be a store.
    shop = shop.format(internal=f"127.0.0.1:{internal.port}")
    connection_id = shopify_connection(api, shop=shop)
    if connection_id is not None:
        api.post(f"/api/v1/shopify/connections/{connection_id}/setup")
        api.post(f"/api/v1/shopify/connections/{connection_id}/backfill")
        assert f"Shopify connection {connection_id} names no store" in caplog.text
        assert hub.jobs.inline_failures == []
    assert internal.count == 0


def test_the_periodic_shopify_reconcile_calls_only_the_stores_platform(
    app, api, hub, internal, platform
):
    from connectors.shopify.sync import reconcile_all

    operate(app, "shopify", shop_url=platform.url)
    assert shopify_connection(api, shop=SHOP) is not None
    shopify_connection(api, shop=SHOP, api_base_url=internal.url)
    shopify_connection(api, shop=f"127.0.0.1:{internal.port}")

    with app.app_context():
        reconcile_all()

    assert internal.count == 0
    assert platform.count >= 1


def test_haravan_calls_ignore_api_urls_in_the_settings(app, api, hub, internal, platform):
    operate(app, "haravan", api_url=platform.url, webhook_api_url=platform.url)
    created = api.post(
        "/api/v1/connections",
        json={
            "connector": "haravan",
            "settings": {
                "org_id": "1000114691",
                "api_url": internal.url,
                "webhook_api_url": internal.url,
                "accounts_url": internal.url,
            },
            "secrets": {"access_token": "t"},
        },
    )
    assert created.status_code in (201, 422), created.json
    if created.status_code == 201:
        for what in ("setup", "backfill"):
            queued = api.post(f"/api/v1/haravan/connections/{created.json['id']}/{what}")
            assert queued.status_code == 202, queued.json
        assert platform.count >= 1
    assert internal.count == 0


def test_kiotviet_calls_ignore_urls_in_the_settings(app, api, hub, internal, platform):
    operate(app, "kiotviet", token_url=f"{platform.url}/connect/token", api_url=platform.url)
    created = api.post(
        "/api/v1/connections",
        json={
            "connector": "kiotviet",
            "settings": {
                "retailer": "hoamai",
                "api_url": internal.url,
                "token_url": f"{internal.url}/connect/token",
            },
            "secrets": {"client_id": "id", "client_secret": "secret"},
        },
    )
    assert created.status_code in (201, 422), created.json
    if created.status_code == 201:
        queued = api.post(f"/api/v1/kiotviet/connections/{created.json['id']}/webhooks")
        assert queued.status_code == 202, queued.json
        assert platform.paths[:1] == ["POST /connect/token"]
    assert internal.count == 0


# -- gateways -------------------------------------------------------------------------


def _points_message(hub, merchant, member):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind="points_earned",
        key="ssrf",
        variables={"points_earned": 45},
    )


def _gateway(api, connector, settings, secrets):
    created = api.post(
        "/api/v1/connections",
        json={"connector": connector, "name": connector, "settings": settings, "secrets": secrets},
    )
    assert created.status_code in (201, 422), created.json
    return created.json["id"] if created.status_code == 201 else None


def _paid_order(api):
    now = utcnow().isoformat()
    body = {
        "source": "webshop",
        "external_id": "ssrf-1",
        "currency": "VND",
        "subtotal": "450000",
        "total": "450000",
        "financial_status": "paid",
        "placed_at": now,
        "paid_at": now,
        "customer": {"phone": fixtures.PHONE, "name": "Lan"},
    }
    answer = api.post("/api/v1/orders", json=body)
    assert answer.status_code in (200, 201), answer.json


def test_esms_on_a_paid_order_sends_only_to_esms_whatever_base_url_the_settings_name(
    api, esms, internal, hub_server
):
    settings = {"base_url": f"{internal.url}/esms", "brandname": "HOAMAI"}
    secrets = {"api_key": esms.api_key, "secret_key": esms.secret_key}
    connection_id = _gateway(api, "esms", settings, secrets)
    if connection_id is None:
        connection_id = connect(api, "esms", settings={"brandname": "HOAMAI"}, secrets=secrets)
    configure(api, **sms_only(connection_id, points_earned={}))
    add_member(api)

    _paid_order(api)

    assert internal.count == 0
    assert len(esms.sent) == 1


def test_speedsms_sends_only_to_speedsms(api, hub, merchant, speedsms, internal, hub_server):
    settings = {"base_url": internal.url, "sender": "HOAMAI"}
    connection_id = _gateway(api, "speedsms", settings, {"access_token": speedsms.access_token})
    if connection_id is not None:
        configure(api, **sms_only(connection_id, points_earned={}))
        _points_message(hub, merchant, add_member(api))
        assert len(speedsms.sent) == 1
    assert internal.count == 0


def test_twilio_sends_only_to_twilio(api, hub, merchant, twilio, internal, hub_server):
    settings = {
        "account_sid": twilio.account_sid,
        "from_number": "+15005550006",
        "base_url": internal.url,
    }
    connection_id = _gateway(api, "twilio", settings, {"auth_token": twilio.auth_token})
    if connection_id is not None:
        configure(api, **sms_only(connection_id, points_earned={}))
        _points_message(hub, merchant, add_member(api))
        assert len(twilio.sent) == 1
    assert internal.count == 0


def test_zalo_refreshes_and_sends_only_at_zalo(api, hub, merchant, zalo, internal, hub_server):
    access, refresh = zalo.issue_tokens()
    settings = {"app_id": zalo.app_id, "base_url": internal.url, "oauth_url": internal.url}
    secrets = {
        "app_secret": zalo.app_secret,
        "oa_secret_key": zalo.oa_secret_key,
        "access_token": access,
        "refresh_token": refresh,
        "access_token_expires_at": (utcnow() - timedelta(hours=1)).isoformat(),
    }
    connection_id = _gateway(api, "zalo", settings, secrets)
    if connection_id is not None:
        configure(
            api,
            channel_order=["zalo"],
            connections={"zalo": connection_id},
            kinds={"points_earned": {"enabled": True, "zalo_template": ZNS_TEMPLATE}},
        )
        _points_message(hub, merchant, add_member(api))
        assert zalo.refresh_calls == 1 and len(zalo.sent) == 1
    assert internal.count == 0


# -- the operator's own addresses -------------------------------------------------------


def test_a_gateway_redirecting_to_an_internal_service_is_not_followed(
    app, api, hub, merchant, esms, internal, hub_server
):
    with InternalService(redirect_to=f"{internal.url}{METADATA_PATH}") as redirector:
        operate(app, "esms", base_url=redirector.url)
        connection_id = connect(
            api,
            "esms",
            settings={"brandname": "HOAMAI"},
            secrets={"api_key": esms.api_key, "secret_key": esms.secret_key},
        )
        configure(api, **sms_only(connection_id, points_earned={}))
        _points_message(hub, merchant, add_member(api))
        assert redirector.count >= 1
    assert internal.count == 0 and esms.sent == []


def test_without_the_operator_setting_even_the_operator_s_loopback_address_is_refused(
    app, api, hub, merchant, esms, internal, hub_server
):
    operate(app, "esms", base_url=internal.url)
    hub.config["HUB_ALLOW_PRIVATE_TARGETS"] = False
    connection_id = connect(
        api,
        "esms",
        settings={"brandname": "HOAMAI"},
        secrets={"api_key": esms.api_key, "secret_key": esms.secret_key},
    )
    configure(api, **sms_only(connection_id, points_earned={}))
    _points_message(hub, merchant, add_member(api))
    assert internal.count == 0
