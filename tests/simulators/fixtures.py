"""Fixtures and steps the messaging tests share: a served hub, simulators, a configured merchant.

Import the fixtures into a test module (``from simulators.fixtures import hub_server``).
"""

from __future__ import annotations

from typing import Any

import pytest

from hub import Connection
from hub import testing
from hub.testing import daytime_zone
from simulators.brevo import BrevoSimulator
from simulators.esms import EsmsSimulator
from simulators.smtp import SmtpSimulator
from simulators.speedsms import SpeedSmsSimulator
from simulators.twilio import TwilioSimulator
from simulators.zalo import ZaloSimulator

PHONE = "0912345678"
E164 = "+84912345678"


# The test's app on loopback, where gateways call back: hub.testing's own fixture.
hub_server = testing.hub_server


def operate(app, connector: str, **settings: Any) -> None:
    """Point a connector at a simulator the way an operator would: its plugin config,
    and private targets allowed (the simulator listens on loopback)."""
    config = app.extensions["hub"].config
    plugins = dict(config.get("HUB_PLUGINS_CONFIG") or {})
    plugins[connector] = {**(plugins.get(connector) or {}), **settings}
    config["HUB_PLUGINS_CONFIG"] = plugins
    config["HUB_ALLOW_PRIVATE_TARGETS"] = True


def move_merchant(api, zone: str) -> None:
    """Set the test merchant's time zone through the API."""
    response = api.patch("/api/v1/merchant", json={"timezone": zone})
    assert response.status_code == 200, response.json


@pytest.fixture
def daytime(api) -> str:
    """Move the test's merchant to ``daytime_zone()``, where advertising SMS may go now.

    Advertising SMS go out only 07:00-22:00 where the merchant is, by law and with
    no switch: a test that sends one "now" and is not about that window uses this.
    """
    zone = daytime_zone()
    move_merchant(api, zone)
    return zone


def in_hanoi(api) -> None:
    """Put the test's merchant back in Asia/Ho_Chi_Minh (a test about local hours there)."""
    move_merchant(api, "Asia/Ho_Chi_Minh")


@pytest.fixture
def esms(app):
    simulator = EsmsSimulator()
    operate(app, "esms", base_url=simulator.base_url)
    yield simulator
    simulator.close()


@pytest.fixture
def speedsms(app):
    simulator = SpeedSmsSimulator()
    operate(app, "speedsms", base_url=simulator.base_url)
    yield simulator
    simulator.close()


@pytest.fixture
def twilio(app):
    simulator = TwilioSimulator()
    operate(app, "twilio", base_url=simulator.base_url)
    yield simulator
    simulator.close()


@pytest.fixture
def zalo(app):
    simulator = ZaloSimulator()
    operate(app, "zalo", base_url=simulator.base_url, oauth_url=simulator.base_url)
    yield simulator
    simulator.close()


@pytest.fixture
def brevo(app):
    simulator = BrevoSimulator()
    operate(app, "brevo", base_url=simulator.base_url)
    yield simulator
    simulator.close()


def connect_brevo(api, simulator: BrevoSimulator, **settings: Any) -> int:
    return connect(
        api,
        "brevo",
        settings={"sender_email": "tin@hoamai.vn", "sender_name": "Cửa hàng Hoa Mai", **settings},
        secrets={"api_key": simulator.api_key, "webhook_token": simulator.webhook_token},
    )


@pytest.fixture
def smtp(app):
    """A local SMTP server; loopback allowed as an operator would for a relay on the host."""
    simulator = SmtpSimulator()
    app.extensions["hub"].config["HUB_ALLOW_PRIVATE_TARGETS"] = True
    yield simulator
    simulator.close()


def connect_smtp(api, simulator: SmtpSimulator, **settings: Any) -> int:
    return connect(
        api,
        "smtp",
        settings={
            "host": "localhost",
            "port": simulator.port,
            "security": "none",
            "from_email": "tin@hoamai.vn",
            "from_name": "Cửa hàng Hoa Mai",
            **settings,
        },
        secrets={},
    )


#: Gateway addresses the simulators stand in for: not merchant settings (the API refuses them).
SIMULATOR_ADDRESSES = ("base_url", "oauth_url")


def connect(api, connector: str, *, settings: dict[str, Any], secrets: dict[str, str]) -> int:
    """Create a gateway connection through the API; return its id.

    The merchant's settings go through the API; the simulator's address is
    written straight to the connection's row, as no merchant can set it.
    """
    addresses = {k: settings[k] for k in SIMULATOR_ADDRESSES if k in settings}
    merchant_settings = {k: v for k, v in settings.items() if k not in addresses}
    response = api.post(
        "/api/v1/connections",
        json={
            "connector": connector,
            "name": connector,
            "settings": merchant_settings,
            "secrets": secrets,
        },
    )
    assert response.status_code == 201, response.json
    connection_id = response.json["id"]
    if addresses:
        hub = api.client.application.extensions["hub"]
        with hub.db.transaction() as session:
            connection = session.get(Connection, connection_id)
            connection.settings = {**connection.settings, **addresses}
    return connection_id


def connect_esms(api, simulator: EsmsSimulator, **settings: Any) -> int:
    return connect(
        api,
        "esms",
        settings={
            "brandname": "HOAMAI",
            "price": "770",
            **settings,
        },
        secrets={"api_key": simulator.api_key, "secret_key": simulator.secret_key},
    )


def connect_zalo(
    api, simulator: ZaloSimulator, *, access: str, refresh: str, expires_at: str
) -> int:
    return connect(
        api,
        "zalo",
        settings={
            "app_id": simulator.app_id,
            "price": "300",
        },
        secrets={
            "app_secret": simulator.app_secret,
            "oa_secret_key": simulator.oa_secret_key,
            "access_token": access,
            "refresh_token": refresh,
            "access_token_expires_at": expires_at,
        },
    )


def configure(api, *, kinds: dict[str, dict] | None = None, **settings: Any) -> dict:
    """Save messaging settings; quiet hours are off unless a test turns them on."""
    body = {"quiet_hours": {"enabled": False}, **settings, "kinds": kinds or {}}
    response = api.put("/api/v1/messaging/settings", json=body)
    assert response.status_code == 200, response.json
    return response.json


def sms_only(connection_id: int, **kinds: dict) -> dict[str, Any]:
    """Settings that send every kind given by SMS through one connection."""
    return {
        "channel_order": ["sms"],
        "connections": {"sms": connection_id},
        "kinds": {name: {"enabled": True, **options} for name, options in kinds.items()},
    }


def add_member(
    api, phone: str = PHONE, *, consents: dict[str, bool] | None = None, **fields
) -> dict:
    body = {"phone": phone, "name": "Nguyễn Thị Lan", **fields}
    if consents is not None:
        body["consents"] = consents
    response = api.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.json
    return response.json


def message(api, message_id: int) -> dict:
    response = api.get(f"/api/v1/messages/{message_id}")
    assert response.status_code == 200, response.json
    return response.json


def messages_of(api, member_id: int) -> list[dict]:
    response = api.get(f"/api/v1/members/{member_id}/messages")
    assert response.status_code == 200, response.json
    return response.json["data"]
