"""A merchant's connection settings and secrets are loaded by the connector's own schema.

Unknown keys (platform addresses among them), wrong types, NUL characters
and over-long strings answer 422 naming the key; keys stored before stay
where they are and keep working.
"""

from __future__ import annotations

import json
import pathlib

import pytest
from marshmallow import fields

from hub import Connector
from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText
from hub import StorefrontSettingsSchema
from hub import hookimpl
from hub.models import Connection

ROOT = pathlib.Path(__file__).parent.parent

#: Keys that name where the hub connects or writes: never a merchant's setting.
PLATFORM_KEYS = (
    "base_url",
    "api_base_url",
    "api_url",
    "webhook_api_url",
    "oauth_url",
    "token_url",
    "accounts_url",
    "shop_url",
    "api_version",
    "path",
)

BUILT_IN = (
    "api",
    "custom",
    "pos",
    "kiotviet",
    "shopify",
    "haravan",
    "console",
    "esms",
    "speedsms",
    "twilio",
    "zalo",
)


class PigeonSchema(GatewaySettingsSchema):
    loft = SettingText(max_length=20)


class PigeonSecrets(SecretsSchema):
    seed = Secret()


class Pigeon(Connector):
    name, title, kind = "pigeon", "Pigeon", "messaging"
    settings_schema = PigeonSchema
    secrets_schema = PigeonSecrets


class Parrot(Connector):
    name, title, kind = "parrot", "Parrot", "messaging"


class Kiosk(Connector):
    name, title, kind = "kiosk", "Kiosk", "store"


class ThirdPartyConnectors:
    """Two connectors of a plugin author: one declares its settings, one declares none."""

    @hookimpl
    def register_connectors(self, hub):
        return [Pigeon(), Parrot(), Kiosk()]


@pytest.fixture
def hub_plugins():
    return [ThirdPartyConnectors()]


def create(api, connector, settings=None, secrets=None):
    body = {"connector": connector, "settings": settings or {}, "secrets": secrets or {}}
    return api.post("/api/v1/connections", json=body)


def refused_settings(response) -> dict:
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_settings"
    return error["details"]["settings"]


def stored_settings(hub, connection_id) -> dict:
    with hub.db.session() as session:
        return dict(session.get(Connection, connection_id).settings)


def store_directly(hub, connection_id, **settings):
    """Write settings to the row as an older version of the hub could have stored them."""
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id)
        connection.settings = {**connection.settings, **settings}


@pytest.mark.parametrize("connector", BUILT_IN)
def test_an_unknown_setting_is_refused_with_422_naming_it(api, connector):
    response = create(api, connector, {"colour_of_the_day": "blue"})
    assert refused_settings(response) == {"colour_of_the_day": ["Unknown field."]}
    assert "colour_of_the_day" in response.json["error"]["message"]
    assert api.get("/api/v1/connections").json == []


@pytest.mark.parametrize(
    ("connector", "key"),
    [
        ("shopify", "api_base_url"),
        ("shopify", "api_version"),
        ("haravan", "api_url"),
        ("haravan", "webhook_api_url"),
        ("kiotviet", "api_url"),
        ("esms", "base_url"),
        ("speedsms", "base_url"),
        ("twilio", "base_url"),
        ("zalo", "base_url"),
        ("zalo", "oauth_url"),
        ("console", "path"),
        ("custom", "base_url"),
    ],
)
def test_a_platform_address_is_not_a_merchant_setting(api, connector, key):
    response = create(api, connector, {key: "http://169.254.169.254/latest/meta-data"})
    assert refused_settings(response) == {key: ["Unknown field."]}


def test_no_built_in_connector_schema_has_a_field_naming_an_address_or_a_file(hub):
    for name in BUILT_IN:
        info = hub.connectors[name]
        if name != "api":
            assert info.settings_schema is not None, f"{name} declares no settings schema"
        schema = info.settings_schema or StorefrontSettingsSchema
        assert not set(schema().fields) & set(PLATFORM_KEYS), name


@pytest.mark.parametrize(
    ("connector", "settings", "key"),
    [
        ("esms", {"sandbox": "false"}, "sandbox"),
        ("esms", {"sms_type": "two"}, "sms_type"),
        ("esms", {"price": "cheap"}, "price"),
        ("esms", {"price": "-1"}, "price"),
        ("speedsms", {"sms_type": 7}, "sms_type"),
        ("twilio", {"account_sid": "AC../../Accounts/x"}, "account_sid"),
        ("twilio", {"from_number": "0912345678"}, "from_number"),
        ("zalo", {"mode": "live"}, "mode"),
        ("zalo", {"app_id": ["1"]}, "app_id"),
        ("kiotviet", {"timezone": "../../etc/passwd"}, "timezone"),
        ("kiotviet", {"retailer": "hoa mai\r\nX-Evil: 1"}, "retailer"),
        ("pos", {"location": {"name": "x"}}, "location"),
        ("pos", {"redeem_points": {"max_percent": "150"}}, "redeem_points"),
        ("api", {"storefront_origins": "https://shop.example.vn"}, "storefront_origins"),
        ("api", {"widget_rate_limits": {"visitor_per_minute": "3"}}, "widget_rate_limits"),
        ("api", {"widget": {"colour": "red; background: url(x)"}}, "widget"),
        ("custom", {"join_url": 5}, "join_url"),
        ("custom", {"join_url": "javascript:alert(1)"}, "join_url"),
        ("api", {"referral_url": "data:text/html,x"}, "referral_url"),
    ],
)
def test_a_setting_of_the_wrong_type_or_shape_is_refused(api, connector, settings, key):
    assert list(refused_settings(create(api, connector, settings))) == [key]


@pytest.mark.parametrize(
    "shop",
    ["hoa-mai.myshopify.com", "shop1.myshopify.com"],
)
def test_a_shopify_shop_must_be_a_myshopify_domain(api, shop):
    response = create(api, "shopify", {"shop": shop})
    assert response.status_code == 201, response.json
    assert response.json["settings"]["shop"] == shop


@pytest.mark.parametrize(
    "shop",
    [
        "10.0.0.1",
        "localhost",
        "evil.example.com",
        "hoa-mai.myshopify.com.evil.example.com",
        "hoa-mai.myshopify.com:8443",
        "hoa-mai.myshopify.com/admin",
        "HOA-MAI.myshopify.com",
        "-x.myshopify.com",
        ".myshopify.com",
        "hoa-mai.myharavan.com",
    ],
)
def test_a_shopify_shop_elsewhere_is_refused(api, shop):
    assert refused_settings(create(api, "shopify", {"shop": shop})) == {
        "shop": ["must look like name.myshopify.com"]
    }


@pytest.mark.parametrize(
    ("shop", "status"),
    [
        ("tra-sen.myharavan.com", 201),
        ("10.0.0.1", 422),
        ("tra-sen.myharavan.com.evil.example.com", 422),
        ("tra-sen.myshopify.com", 422),
    ],
)
def test_a_haravan_shop_must_be_a_myharavan_domain(api, shop, status):
    response = create(api, "haravan", {"shop": shop, "org_id": "1000114691"})
    assert response.status_code == status, response.json


@pytest.mark.parametrize(
    "settings",
    [
        {"brandname": "HOA\x00MAI"},
        {"brand\x00name": "HOAMAI"},
        {"price": "770\x00"},
    ],
)
def test_a_nul_character_in_a_setting_key_or_value_is_refused(api, settings):
    response = create(api, "esms", settings)
    assert response.status_code == 422, response.json
    assert api.get("/api/v1/connections").json == []


def test_a_nul_character_deep_in_a_storefront_setting_is_refused(api):
    # The request's input guard refuses it before any schema, naming where it stands.
    response = create(api, "api", {"storefront_origins": ["https://shop.example.vn\x00"]})
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"] == {
        "settings.storefront_origins.0": [
            "must not contain the NUL character or an unpaired surrogate"
        ]
    }
    assert api.get("/api/v1/connections").json == []


def test_a_setting_string_holds_at_most_a_thousand_characters(api):
    url = "https://shop.example.vn/" + "a" * (1000 - len("https://shop.example.vn/"))
    assert create(api, "api", {"join_url": url}).status_code == 201
    assert refused_settings(create(api, "api", {"join_url": url + "a"})) == {
        "join_url": ["Longer than maximum length 1000."]
    }


def test_settings_are_stored_as_the_schema_loads_them(api):
    response = create(
        api,
        "esms",
        {"brandname": "HOAMAI", "sms_type": "8", "sandbox": True, "price": 770},
    )
    assert response.status_code == 201, response.json
    assert response.json["settings"] == {
        "brandname": "HOAMAI",
        "sms_type": 8,
        "sandbox": True,
        "price": "770",
    }


def test_an_update_checks_the_settings_it_names_and_changes_nothing_when_refused(api, hub):
    connection_id = create(api, "esms", {"brandname": "HOAMAI"}).json["id"]
    response = api.patch(
        f"/api/v1/connections/{connection_id}",
        json={"settings": {"brandname": "TRASEN", "base_url": "http://10.0.0.1/esms"}},
    )
    assert refused_settings(response) == {"base_url": ["Unknown field."]}
    assert stored_settings(hub, connection_id) == {"brandname": "HOAMAI"}


def test_a_connection_stored_with_now_unknown_keys_keeps_them_and_takes_updates(api, hub):
    # Given an eSMS connection stored with keys no schema knows any more
    connection_id = create(api, "esms", {"brandname": "HOAMAI"}).json["id"]
    store_directly(hub, connection_id, note="from 2025", sms_type="2")
    # When the merchant changes one setting
    response = api.patch(
        f"/api/v1/connections/{connection_id}", json={"settings": {"price": "800"}}
    )
    # Then only that setting is checked; the stored ones stay as they were
    assert response.status_code == 200, response.json
    assert stored_settings(hub, connection_id) == {
        "brandname": "HOAMAI",
        "note": "from 2025",
        "sms_type": "2",
        "price": "800",
    }
    assert api.get(f"/api/v1/connections/{connection_id}").json["settings"]["note"] == "from 2025"


def test_a_settings_body_that_is_not_an_object_is_refused(api):
    response = api.post("/api/v1/connections", json={"connector": "esms", "settings": ["x"]})
    assert response.status_code == 422, response.json


@pytest.mark.parametrize(
    ("connector", "secrets", "name"),
    [
        ("esms", {"api_key": "k", "password": "p"}, "password"),
        ("twilio", {"auth_token": "t", "api_key": "k"}, "api_key"),
        ("shopify", {"access_tokn": "t"}, "access_tokn"),
    ],
)
def test_an_unknown_secret_of_a_connector_that_declares_its_secrets_is_refused(
    api, connector, secrets, name
):
    response = create(api, connector, secrets=secrets)
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["secrets"] == {name: ["Unknown field."]}


@pytest.mark.parametrize(
    ("secrets", "code"),
    [
        # NUL is refused by the request's input guard, before the secrets are read.
        ({"api_key": "k\x00"}, "validation_error"),
        ({"api\x00key": "k"}, "validation_error"),
        ({"api_key": "k" * 10_001}, "invalid_secrets"),
        ({"": "k"}, "invalid_secrets"),
    ],
)
def test_a_secret_with_nul_an_empty_name_or_ten_thousand_characters_is_refused(api, secrets, code):
    response = create(api, "api", secrets=secrets)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == code
    assert api.get("/api/v1/connections").json == []


def test_every_connection_may_hold_a_widget_secret(api):
    connection_id = create(api, "esms").json["id"]
    response = api.post(f"/api/v1/connections/{connection_id}/widget-secret")
    assert response.status_code == 201, response.json
    secret_names = api.get(f"/api/v1/connections/{connection_id}").json["secret_names"]
    assert secret_names == ["widget_secret"]


def test_a_plugin_connector_takes_the_settings_and_secrets_its_schemas_declare(api):
    response = create(api, "pigeon", {"loft": "Hà Nội", "price": "100"}, {"seed": "s"})
    assert response.status_code == 201, response.json
    assert response.json["settings"] == {"loft": "Hà Nội", "price": "100"}
    assert refused_settings(create(api, "pigeon", {"loft": "x" * 21})) == {
        "loft": ["Longer than maximum length 20."]
    }
    refused = create(api, "pigeon", secrets={"other": "s"})
    assert refused.json["error"]["details"]["secrets"] == {"other": ["Unknown field."]}


def test_a_plugin_connector_without_a_schema_takes_only_the_hubs_settings_for_its_kind(api):
    assert create(api, "parrot", {"price": "300"}).status_code == 201
    assert refused_settings(create(api, "parrot", {"base_url": "http://10.0.0.1"})) == {
        "base_url": ["Unknown field."]
    }
    assert refused_settings(create(api, "parrot", {"join_url": "https://x.vn"})) == {
        "join_url": ["Unknown field."]
    }
    kiosk = create(api, "kiosk", {"join_url": "https://shop.example.vn/join"})
    assert kiosk.status_code == 201, kiosk.json
    assert refused_settings(create(api, "kiosk", {"price": "1"})) == {"price": ["Unknown field."]}


def test_the_description_of_a_connector_is_documented():
    docs = (ROOT / "docs" / "connector-contract.md").read_text()
    fields = ("name", "title", "kind", "description", "settings_schema", "secrets_schema")
    for field in fields:
        assert hasattr(Connector, field)
        assert f"`{field}`" in docs, f"Connector.{field} is not in connector-contract.md"


# -- the console gateway writes where the operator says, never where a merchant does


@pytest.fixture
def console_folder(hub, tmp_path):
    folder = tmp_path / "console-messages"
    hub.config["HUB_PLUGINS_CONFIG"] = {
        **hub.config.get("HUB_PLUGINS_CONFIG", {}),
        "console": {"directory": str(folder)},
    }
    return folder


@pytest.fixture
def hub_cfg(app):
    """The instance's own configuration file, which no merchant may write to."""
    path = pathlib.Path(app.instance_path) / "hub.cfg.py"
    path.write_text('HUB_LOG_LEVEL = "INFO"\n')
    return path


def paid_order_with_a_message(api, console_id: int, external_id: str) -> None:
    """Send points-earned messages through the console gateway, then record a paid order."""
    response = api.put(
        "/api/v1/messaging/settings",
        json={
            "channel_order": ["sms"],
            "connections": {"sms": console_id},
            "quiet_hours": {"enabled": False},
            "kinds": {"points_earned": {"enabled": True}},
        },
    )
    assert response.status_code == 200, response.json
    store = api.post("/api/v1/connections", json={"connector": "api"}).json
    response = api.post(
        "/api/v1/orders",
        json={
            "connection_id": store["id"],
            "external_id": external_id,
            "subtotal": "250000",
            "total": "250000",
            "financial_status": "paid",
            "placed_at": "2026-11-01T10:00:00+07:00",
            "customer": {"phone": "0912345678", "name": "Lan"},
        },
    )
    assert response.status_code in (200, 201), response.json


def test_a_merchant_cannot_point_the_console_gateway_at_a_file(api, hub_cfg):
    response = create(api, "console", {"path": str(hub_cfg)})
    assert refused_settings(response) == {"path": ["Unknown field."]}
    console_id = create(api, "console").json["id"]
    response = api.patch(
        f"/api/v1/connections/{console_id}", json={"settings": {"path": str(hub_cfg)}}
    )
    assert refused_settings(response) == {"path": ["Unknown field."]}


def test_the_console_gateway_writes_to_the_operators_folder_and_ignores_a_stored_path(
    api, hub, merchant, console_folder, hub_cfg
):
    # Given a console connection stored with a path from before, naming hub.cfg.py
    console_id = create(api, "console").json["id"]
    store_directly(hub, console_id, path=str(hub_cfg))
    # When a paid order sends the member a message through it
    paid_order_with_a_message(api, console_id, "A-1001")
    # Then hub.cfg.py is as it was, and the operator's folder has the message
    assert hub_cfg.read_text() == 'HUB_LOG_LEVEL = "INFO"\n'
    written = console_folder / f"merchant-{merchant.id}.jsonl"
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    assert [(line["channel"], line["to"]) for line in lines] == [("sms", "+84912345678")]
    assert sorted(p.name for p in console_folder.iterdir()) == [written.name]


def test_without_an_operator_folder_the_console_gateway_writes_only_to_the_log(
    api, hub, hub_cfg, caplog, tmp_path
):
    console_id = create(api, "console").json["id"]
    store_directly(hub, console_id, path=str(tmp_path / "merchant-chosen.jsonl"))
    with caplog.at_level("INFO", logger="connectors.console.plugin"):
        paid_order_with_a_message(api, console_id, "A-1002")
    assert any("console sms to +84912345678" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "merchant-chosen.jsonl").exists()
    assert hub_cfg.read_text() == 'HUB_LOG_LEVEL = "INFO"\n'


def test_settings_schemas_refuse_what_marshmallow_fields_would_coerce():
    """The flag field takes JSON booleans only: "false" as a string would read as true."""
    from hub import SettingFlag

    class Schema(GatewaySettingsSchema):
        on = SettingFlag()
        count = fields.Integer()

    assert Schema().validate({"on": "false"}) == {"on": ["Not a valid boolean."]}
    assert Schema().validate({"on": False}) == {}


def test_a_connection_name_with_a_nul_character_is_refused(api):
    response = api.post("/api/v1/connections", json={"connector": "api", "name": "Trà\x00Sen"})
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"] == {
        "name": ["must not contain the NUL character or an unpaired surrogate"]
    }
    connection_id = create(api, "api").json["id"]
    response = api.patch(f"/api/v1/connections/{connection_id}", json={"name": "x\x00"})
    assert response.status_code == 422, response.json


def test_a_nested_setting_answers_422_naming_the_unknown_key(api):
    depth = 30  # within the request guard's 32 levels; deeper bodies answer 400 before this
    body = '{"connector": "api", "settings": {"widget": ' + '{"a": ' * depth + '"x"'
    body += "}" * depth + "}}"
    response = api.post("/api/v1/connections", data=body, content_type="application/json")
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["settings"] == {"widget": {"a": ["Unknown field."]}}
