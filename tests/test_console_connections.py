"""The Connections page and its API twins: health, add and edit, installs, till keys, replays,
test messages; the connector methods and hooks they are built on."""

from __future__ import annotations

import json
import re

import pytest
from console_support import csrf
from console_support import make_staff
from console_support import sign_in
from sqlalchemy import select

from hub import NotFound
from hub import PermanentError
from hub import hookimpl
from hub.models import Connection
from hub.models import Order
from webhooks.testing import new_test_secret
from webhooks.testing import standard_headers

SECRET = new_test_secret("console-connections")
XSS = '"><img src=x onerror=alert(1)>'


def sign_in_english(client, person) -> None:
    """Sign in and read the pages in English (the shop's default is Vietnamese)."""
    assert sign_in(client, person.email).status_code == 302
    client.post("/console/language", data={"locale": "en", "csrf_token": csrf(client)})


@pytest.fixture
def owner(client, hub, merchant):
    person = make_staff(hub, merchant.id, "owner")
    sign_in_english(client, person)
    return person


@pytest.fixture
def custom(api):
    made = api.post(
        "/api/v1/connections",
        json={"connector": "custom", "name": "Web shop", "secrets": {"webhook_secret": SECRET}},
    )
    assert made.status_code == 201, made.json
    return made.json["id"]


def order_event(external_id: str, status: str = "paid") -> dict:
    return {
        "type": "order.created",
        "data": {
            "external_id": external_id,
            "currency": "VND",
            "subtotal": "500000",
            "total": "500000",
            "financial_status": status,
            "placed_at": "2026-11-01T10:15:00+07:00",
            "paid_at": "2026-11-01T10:16:00+07:00",
            "customer": {"external_id": "C-1", "phone": "0912345678", "name": "Lan"},
        },
    }


def deliver(client, connection_id: int, event: dict, message_id: str):
    body = json.dumps(event).encode()
    headers = standard_headers(SECRET, message_id, body)
    response = client.post(f"/webhooks/custom/{connection_id}", data=body, headers=headers)
    assert response.status_code == 200, response.data


class Outage:
    """Fails every member lookup for good while ``down``, as a broken identity plugin would."""

    def __init__(self):
        self.down = True

    @hookimpl(tryfirst=True)
    def member_for_customer(self):
        if self.down:
            raise PermanentError("identity service down")
        return None


def orders(hub) -> list[str]:
    with hub.db.session() as session:
        return sorted(session.scalars(select(Order.external_id)))


# -- the API and the hooks ------------------------------------------------------------


def test_hook_connection_health_reports_the_inbox_of_each_connection(client, api, custom):
    deliver(client, custom, order_event("W-1"), "ok-1")
    deliver(client, custom, order_event("W-2", status="maybe"), "bad-2")

    health = api.get(f"/api/v1/connections/{custom}/health")

    assert health.status_code == 200, health.json
    assert health.json["backlog"] == 0 and health.json["failed"] == 1
    assert "financial status" in health.json["last_error"]
    assert health.json["last_received_at"] is not None
    assert health.json["last_error_at"] is not None


def test_a_connection_nothing_reached_has_empty_health(api, custom):
    health = api.get(f"/api/v1/connections/{custom}/health").json
    assert health == {
        "connection_id": custom,
        "last_received_at": None,
        "backlog": 0,
        "failed": 0,
        "last_error": None,
        "last_error_at": None,
    }


def test_hook_replay_failed_deliveries_queues_them_and_the_order_arrives(client, hub, api, custom):
    outage = Outage()
    hub.pm.register(outage, name="outage")
    deliver(client, custom, order_event("W-1"), "w-1")
    assert orders(hub) == []
    assert api.get(f"/api/v1/connections/{custom}/health").json["failed"] == 1

    outage.down = False
    replayed = api.post(f"/api/v1/connections/{custom}/replay")

    assert replayed.status_code == 202 and replayed.json == {"connection_id": custom, "queued": 1}
    assert orders(hub) == ["W-1"]
    assert api.get(f"/api/v1/connections/{custom}/health").json["failed"] == 0
    again = api.post(f"/api/v1/connections/{custom}/replay")
    assert again.json["queued"] == 0 and orders(hub) == ["W-1"]


def test_health_replay_and_test_message_of_another_merchants_connection_are_404(other_api, custom):
    for method, path, body in (
        ("get", "health", None),
        ("post", "replay", None),
        ("post", "test-message", {"to": "0912345678"}),
    ):
        answer = getattr(other_api, method)(f"/api/v1/connections/{custom}/{path}", json=body)
        assert answer.status_code == 404, path
        assert answer.json["error"]["code"] == "connection_not_found"


def test_a_test_message_goes_through_the_gateway(api):
    gateway = api.post("/api/v1/connections", json={"connector": "console"}).json["id"]
    sent = api.post(f"/api/v1/connections/{gateway}/test-message", json={"to": "0912 345 678"})
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "delivered" and sent.json["segments"] == 1
    assert sent.json["gateway_message_id"].startswith("console-")


def test_a_test_message_to_a_bad_number_or_through_a_store_is_a_clear_422(api, custom):
    gateway = api.post("/api/v1/connections", json={"connector": "console"}).json["id"]
    bad = api.post(f"/api/v1/connections/{gateway}/test-message", json={"to": "not a phone"})
    assert bad.status_code == 422 and "phone" in bad.json["error"]["message"]
    store = api.post(f"/api/v1/connections/{custom}/test-message", json={"to": "0912345678"})
    assert store.status_code == 422 and store.json["error"]["code"] == "not_a_gateway"


# -- the connector methods -------------------------------------------------------------


def test_connector_install_link_is_none_without_an_oauth_install(hub, merchant):
    assert hub.connectors["custom"].install_link(hub, merchant.id, {}) is None
    assert hub.connectors["shopify"].install_fields == ("shop",)


def test_connector_access_keys_issue_access_key_revoke_access_key_and_device_url(
    hub, merchant, api
):
    pos = api.post("/api/v1/connections", json={"connector": "pos"}).json["id"]
    connector = hub.connectors["pos"]
    with hub.db.transaction() as session:
        connection = session.get(Connection, pos)
        assert connector.access_keys(hub, session, connection) == []
        issued = connector.issue_access_key(hub, session, connection, "Till 1", "test")
        assert issued.secret.startswith("pos_") and issued.prefix in issued.secret
        [key] = connector.access_keys(hub, session, connection)
        assert (key.name, key.prefix, key.revoked_at) == ("Till 1", issued.prefix, None)
        connector.revoke_access_key(hub, session, connection, key.id, "test")
        [key] = connector.access_keys(hub, session, connection)
        assert key.revoked_at is not None
        assert connector.device_url(hub, connection) == "/pos/cashier"
        custom = hub.connectors["custom"]
        assert custom.access_keys(hub, session, connection) is None
        assert custom.device_url(hub, connection) is None
    listed = api.get(f"/api/v1/pos/connections/{pos}/keys").json
    assert [k["revoked_at"] is not None for k in listed] == [True]


def test_connector_issue_access_key_refuses_a_connector_without_keys(hub, custom):
    with hub.db.transaction() as session:
        connection = session.get(Connection, custom)
        with pytest.raises(PermanentError):
            hub.connectors["custom"].issue_access_key(hub, session, connection, "x", "test")


def test_connector_revoke_access_key_refuses_a_connector_without_keys_or_an_unknown_key(
    hub, api, custom
):
    pos = api.post("/api/v1/connections", json={"connector": "pos"}).json["id"]
    with hub.db.transaction() as session:
        connection = session.get(Connection, custom)
        with pytest.raises(PermanentError):
            hub.connectors["custom"].revoke_access_key(hub, session, connection, 1, "test")
        with pytest.raises(NotFound):
            hub.connectors["pos"].revoke_access_key(
                hub, session, session.get(Connection, pos), 999, "test"
            )


def test_connector_device_url_is_the_cashier_page(client, hub, api):
    pos = api.post("/api/v1/connections", json={"connector": "pos"}).json["id"]
    with hub.db.session() as session:
        path = hub.connectors["pos"].device_url(hub, session.get(Connection, pos))
    assert client.get(path).status_code == 200


# -- the console's pages ---------------------------------------------------------------


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def test_the_list_shows_each_connection_with_its_health(client, owner, custom):
    deliver(client, custom, order_event("W-2", status="maybe"), "bad-2")
    html = page(client, "/console/connections")
    assert "Web shop" in html and "unknown financial status" in html
    assert 'href="/console/connections"' in html  # in the navigation


def test_an_empty_list_says_what_to_connect(client, owner):
    html = page(client, "/console/connections")
    assert "Nothing connected yet" in html and "Add a connection" in html


def test_adding_a_gateway_stores_its_secrets_encrypted_and_never_shows_them(client, hub, owner):
    form = page(client, "/console/connections?connector=esms")
    assert 'name="secret.api_key"' in form and 'type="password"' in form
    made = client.post(
        "/console/connections",
        data={
            "csrf_token": csrf(client),
            "connector": "esms",
            "name": XSS,
            "setting.brandname": "TIEMBANH",
            "secret.api_key": "esms-key-123",
            "secret.secret_key": "esms-secret-456",
        },
    )
    assert made.status_code == 302, made.get_data(as_text=True)[:500]
    detail = page(client, made.headers["Location"])
    assert "esms-key-123" not in detail and "esms-secret-456" not in detail
    assert "saved; blank keeps it" in detail
    assert XSS not in detail and "&#34;&gt;&lt;img" in detail
    with hub.db.session() as session:
        row = session.scalars(select(Connection).where(Connection.connector == "esms")).one()
        assert "esms-key-123" not in row.secrets_encrypted
        assert hub.secrets.decrypt(row.secrets_encrypted)["api_key"] == "esms-key-123"


def test_saving_with_blank_secrets_keeps_them_and_bad_settings_are_explained(
    client, hub, owner, api
):
    made = api.post(
        "/api/v1/connections",
        json={"connector": "esms", "secrets": {"api_key": "k1", "secret_key": "s1"}},
    ).json["id"]
    token = csrf(client)
    saved = client.post(
        f"/console/connections/{made}",
        data={"csrf_token": token, "name": "SMS", "setting.sms_type": "2", "secret.api_key": ""},
    )
    assert saved.status_code == 302
    assert api.get(f"/api/v1/connections/{made}").json["settings"]["sms_type"] == 2
    with hub.db.session() as session:
        stored = hub.secrets.decrypt(session.get(Connection, made).secrets_encrypted)
    assert stored == {"api_key": "k1", "secret_key": "s1"}
    refused = client.post(
        f"/console/connections/{made}",
        data={"csrf_token": token, "name": "SMS", "setting.sms_type": "9999"},
    )
    assert refused.status_code == 422 and "sms_type" in refused.get_data(as_text=True)


def test_switching_a_connection_off_and_on(client, owner, api, custom):
    token = csrf(client)
    off = client.post(
        f"/console/connections/{custom}", data={"csrf_token": token, "action": "disable"}
    )
    assert off.status_code == 302
    assert api.get(f"/api/v1/connections/{custom}").json["status"] == "disabled"
    client.post(f"/console/connections/{custom}", data={"csrf_token": token, "action": "enable"})
    assert api.get(f"/api/v1/connections/{custom}").json["status"] == "active"


def test_till_keys_are_shown_once_and_revoked(client, owner, api):
    pos = api.post("/api/v1/connections", json={"connector": "pos", "name": "Quầy 1"}).json["id"]
    token = csrf(client)
    made = client.post(
        f"/console/connections/{pos}/keys", data={"csrf_token": token, "name": "Till A"}
    )
    html = made.get_data(as_text=True)
    secret = re.search(r'id="new-key" class="secret" readonly value="([^"]+)"', html).group(1)
    assert secret.startswith("pos_") and 'href="/pos/cashier"' in html
    again = page(client, f"/console/connections/{pos}")
    assert secret not in again and "Till A" in again
    [key] = api.get(f"/api/v1/pos/connections/{pos}/keys").json
    revoked = client.post(
        f"/console/connections/{pos}/keys/{key['id']}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 200 and "Key revoked" in revoked.get_data(as_text=True)
    assert api.get(f"/api/v1/pos/connections/{pos}/keys").json[0]["revoked_at"] is not None


def test_a_store_connection_has_no_till_keys(client, owner, custom):
    answer = client.post(f"/console/connections/{custom}/keys", data={"csrf_token": csrf(client)})
    assert answer.status_code == 404


def test_the_test_message_button_sends_through_the_gateway_or_says_why_not(client, owner, api):
    gateway = api.post("/api/v1/connections", json={"connector": "console"}).json["id"]
    html = page(client, f"/console/connections/{gateway}")
    assert "Send a test message" in html
    token = csrf(client)
    sent = client.post(
        f"/console/connections/{gateway}/test-message",
        data={"csrf_token": token, "to": "0912345678"},
    )
    assert sent.status_code == 200 and "handed to the gateway" in sent.get_data(as_text=True)
    bad = client.post(
        f"/console/connections/{gateway}/test-message", data={"csrf_token": token, "to": "abc"}
    )
    assert bad.status_code == 422 and "not a valid phone number" in bad.get_data(as_text=True)


def test_the_replay_button_queues_the_failed_deliveries(client, hub, owner, custom):
    outage = Outage()
    hub.pm.register(outage, name="outage")
    deliver(client, custom, order_event("W-9"), "w-9")
    html = page(client, f"/console/connections/{custom}")
    assert "identity service down" in html and "Replay the failed deliveries" in html
    outage.down = False
    replayed = client.post(
        f"/console/connections/{custom}/replay", data={"csrf_token": csrf(client)}
    )
    assert "1 failed deliveries queued again" in replayed.get_data(as_text=True)
    assert orders(hub) == ["W-9"]


def test_the_install_button_says_what_to_configure(client, owner):
    html = page(client, "/console/connections")
    assert "Connect Shopify" in html and "Connect Haravan" in html
    answer = client.post(
        "/console/connections/install/shopify",
        data={"csrf_token": csrf(client), "shop": "tiem.myshopify.com"},
    )
    assert answer.status_code == 422
    assert "app is not configured" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "hub_config",
    [
        {
            "HUB_PUBLIC_URL": "https://hub.example",
            "HUB_PLUGINS_CONFIG": {"shopify": {"api_key": "k", "api_secret": "s"}},
        }
    ],
)
def test_the_install_button_opens_the_stores_oauth_install(client, owner, hub_config):
    token = csrf(client)
    bad = client.post(
        "/console/connections/install/shopify", data={"csrf_token": token, "shop": "evil.example"}
    )
    assert bad.status_code == 422 and "myshopify.com" in bad.get_data(as_text=True)
    answer = client.post(
        "/console/connections/install/shopify",
        data={"csrf_token": token, "shop": "tiem.myshopify.com"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("https://hub.example/shopify/oauth/start?state=")


def test_a_manager_sees_and_replays_but_does_not_change(client, hub, merchant, custom):
    person = make_staff(hub, merchant.id, "manager")
    sign_in_english(client, person)
    html = page(client, f"/console/connections/{custom}")
    assert "Web shop" in html and 'name="secret.' not in html
    token = csrf(client)
    for path in ("/console/connections", f"/console/connections/{custom}"):
        refused = client.post(path, data={"csrf_token": token, "connector": "custom"})
        assert refused.status_code == 403, path
    assert (
        client.post(f"/console/connections/{custom}/replay", data={"csrf_token": token}).status_code
        == 200
    )


def test_a_cashier_cannot_open_connections(client, hub, merchant, custom):
    person = make_staff(hub, merchant.id, "cashier")
    sign_in(client, person.email)
    assert client.get("/console/connections").status_code == 403
    assert client.get(f"/console/connections/{custom}").status_code == 403


def test_another_merchants_connection_is_404_on_every_console_route(
    client, hub, other_merchant, custom
):
    person = make_staff(hub, other_merchant.id, "owner")
    sign_in(client, person.email)
    assert client.get(f"/console/connections/{custom}").status_code == 404
    token = csrf(client)
    for suffix in ("", "/keys", "/keys/1/revoke", "/replay", "/test-message"):
        answer = client.post(
            f"/console/connections/{custom}{suffix}", data={"csrf_token": token, "to": "0912345678"}
        )
        assert answer.status_code == 404, suffix
        assert "Web shop" not in answer.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(client, owner, custom):
    answer = client.post(f"/console/connections/{custom}", data={"action": "disable"})
    assert answer.status_code == 400


def test_an_smtp_and_a_brevo_connection_are_added_in_the_console(client, hub, owner, api):
    # The SMTP form names its fields in the staff's language
    client.post("/console/language", data={"locale": "vi", "csrf_token": csrf(client)})
    form = page(client, "/console/connections?connector=smtp")
    assert "Máy chủ thư (SMTP host)" in form and 'name="secret.password"' in form
    client.post("/console/language", data={"locale": "en", "csrf_token": csrf(client)})
    token = csrf(client)
    smtp = client.post(
        "/console/connections",
        data={
            "csrf_token": token,
            "connector": "smtp",
            "name": "Thư của shop",
            "setting.host": "smtp.hoamai.vn",
            "setting.port": "587",
            "setting.security": "starttls",
            "setting.username": "tin@hoamai.vn",
            "setting.from_email": "tin@hoamai.vn",
            "setting.from_name": "Cửa hàng Hoa Mai",
            "secret.password": "mat-khau-smtp",
        },
    )
    assert smtp.status_code == 302, smtp.get_data(as_text=True)[:500]
    brevo = client.post(
        "/console/connections",
        data={
            "csrf_token": token,
            "connector": "brevo",
            "name": "Brevo",
            "setting.sender_email": "tin@hoamai.vn",
            "secret.api_key": "xkeysib-123",
            "secret.webhook_token": "brevo-hook",
        },
    )
    assert brevo.status_code == 302, brevo.get_data(as_text=True)[:500]
    made = {c["connector"]: c for c in api.get("/api/v1/connections").json}
    assert made["smtp"]["settings"]["host"] == "smtp.hoamai.vn"
    assert made["smtp"]["settings"]["port"] == 587
    assert made["brevo"]["settings"]["sender_email"] == "tin@hoamai.vn"
    with hub.db.session() as session:
        stored = hub.secrets.decrypt(session.get(Connection, made["smtp"]["id"]).secrets_encrypted)
    assert stored == {"password": "mat-khau-smtp"}
    # The page shows the secrets as saved, never their values
    detail = page(client, brevo.headers["Location"])
    assert "xkeysib-123" not in detail and "Webhook bearer token" in detail


def test_an_smtp_connection_to_a_bad_host_is_explained_not_saved(client, owner, api):
    refused = client.post(
        "/console/connections",
        data={
            "csrf_token": csrf(client),
            "connector": "smtp",
            "name": "Thư",
            "setting.host": "not a host!",
            "setting.from_email": "not-an-address",
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "host" in html and "from_email" in html
    assert api.get("/api/v1/connections").json == []
