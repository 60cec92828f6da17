"""Hostile bodies at the webhook intake and the API: deep nesting and chunked bodies over the limit.

A platform retries a 500 for a long time, so the intake answers every body
it cannot take with a 4xx that says why: 400 for a signed body nested too
deep to read, 413 for a body over ``HUB_MAX_BODY_BYTES`` however it is sent.
The chunked cases run against a real HTTP server, which is what dechunks.
"""

from __future__ import annotations

import http.client
import json

import pytest
from browser_support import ServerThread

from connectors.shopify import signing
from webhooks.models import InboxEntry
from webhooks.testing import new_test_secret
from webhooks.testing import standard_headers

SECRET = new_test_secret("intake-hostile")
SHOPIFY_SECRET = "shpss_intake_hostile"
SHOP = "hoa-mai.myshopify.com"
LIMIT = 64 * 1024
DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.fixture
def hub_config():
    return {
        "HUB_MAX_BODY_BYTES": LIMIT,
        "HUB_PLUGINS_CONFIG": {"shopify": {"api_key": "key", "api_secret": SHOPIFY_SECRET}},
    }


@pytest.fixture
def custom(api):
    response = api.post(
        "/api/v1/connections",
        json={"connector": "custom", "name": "Web shop", "secrets": {"webhook_secret": SECRET}},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def live(app):
    server = ServerThread(app)
    yield server
    server.stop()


def inbox(hub):
    with hub.db.session() as session:
        return session.query(InboxEntry).order_by(InboxEntry.id).all()


def send_chunked(server, path, body, headers, chunk=512):
    """POST ``body`` with ``Transfer-Encoding: chunked`` and no Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", path)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), chunk):
        part = body[start : start + chunk]
        connection.send(b"%x\r\n%s\r\n" % (len(part), part))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    answer = response.status, json.loads(response.read() or b"null")
    connection.close()
    return answer


def order_event(name="Lan"):
    return {
        "type": "order.created",
        "timestamp": "2026-11-01T03:16:00Z",
        "data": {
            "external_id": "W-1",
            "currency": "VND",
            "subtotal": "350000",
            "total": "350000",
            "financial_status": "paid",
            "placed_at": "2026-11-01T10:15:00+07:00",
            "customer": {"phone": "0912345678", "name": name},
        },
    }


def test_a_signed_deep_body_at_the_custom_intake_is_400_and_not_stored(client, hub, custom):
    # The second delivery meets the remembered connection: the same answer.
    for message_id in ("msg_deep_1", "msg_deep_2"):
        headers = standard_headers(SECRET, message_id, DEEP)
        response = client.post(f"/webhooks/custom/{custom}", data=DEEP, headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.json["error"]["code"] == "body_too_deep"
    assert inbox(hub) == []


def test_an_unsigned_deep_body_is_still_refused_as_unsigned(client, hub, custom):
    response = client.post(
        f"/webhooks/custom/{custom}",
        data=DEEP,
        headers=standard_headers("whsec_" + "A" * 32, "msg_1", DEEP),
    )
    assert response.status_code == 401
    assert inbox(hub) == []


def test_a_signed_deep_body_a_connector_stores_unread_fails_its_row_clearly(client, api, hub):
    created = api.post(
        "/api/v1/connections",
        json={"connector": "shopify", "settings": {"shop": SHOP, "currency": "VND"}},
    )
    assert created.status_code == 201, created.json
    headers = {
        "X-Shopify-Hmac-Sha256": signing.body_hmac(SHOPIFY_SECRET, DEEP),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "deep-1",
        "Content-Type": "application/json",
    }
    response = client.post(f"/webhooks/shopify/{created.json['id']}", data=DEEP, headers=headers)
    assert response.status_code == 200
    [row] = inbox(hub)
    assert row.status == "failed"
    assert "nests too deep" in row.error


def test_a_chunked_delivery_over_the_limit_is_413_not_401(live, hub, custom):
    body = json.dumps(order_event(name="x" * (2 * LIMIT))).encode()
    headers = {**standard_headers(SECRET, "msg_big", body), "Content-Type": "application/json"}
    status, answer = send_chunked(live, f"/webhooks/custom/{custom}", body, headers)
    assert status == 413
    assert answer["error"]["code"] == "body_too_large"
    assert inbox(hub) == []


def test_a_chunked_delivery_within_the_limit_is_stored(live, hub, custom):
    body = json.dumps(order_event()).encode()
    headers = {**standard_headers(SECRET, "msg_small", body), "Content-Type": "application/json"}
    status, answer = send_chunked(live, f"/webhooks/custom/{custom}", body, headers, chunk=64)
    assert (status, answer) == (200, {"received": True, "duplicate": False})
    assert [row.delivery_id for row in inbox(hub)] == ["msg_small"]


def test_a_chunked_api_body_over_the_limit_is_413_not_malformed_json(live, merchant):
    body = json.dumps({"name": "x" * (2 * LIMIT)}).encode()
    headers = {**merchant.headers, "Content-Type": "application/json"}
    status, answer = send_chunked(live, "/api/v1/members", body, headers)
    assert status == 413
    assert answer["error"]["code"] == "body_too_large"


def test_a_chunked_api_body_of_exactly_the_limit_is_read(live, merchant):
    body = json.dumps({"name": "Lan", "address": "x" * 200}).encode()
    body += b" " * (LIMIT - len(body))
    assert len(body) == LIMIT
    headers = {**merchant.headers, "Content-Type": "application/json"}
    status, answer = send_chunked(live, "/api/v1/members", body, headers)
    assert status == 201, answer
