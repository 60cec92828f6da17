"""The custom storefront connector: Standard Webhooks in, canonical records out."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from werkzeug.datastructures import Headers

from connectors.custom import signature
from hub import Connection
from hub import Customer
from hub import Order
from hub import Refund
from hub import Unauthorized
from webhooks.models import InboxEntry
from webhooks.testing import new_test_secret
from webhooks.testing import standard_headers

# The reference vector of the Standard Webhooks Python library's tests.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = new_test_secret("custom-connector")


def order_event(external_id="W-1001", **changes):
    data = {
        "external_id": external_id,
        "number": "#1001",
        "currency": "VND",
        "subtotal": "350000",
        "total": "350000",
        "financial_status": "paid",
        "placed_at": "2026-11-01T10:15:00+07:00",
        "paid_at": "2026-11-01T10:16:00+07:00",
        "lines": [{"sku": "CF-1", "title": "Cà phê", "quantity": 2, "price": "175000"}],
        "customer": {"external_id": "C-7", "phone": "0912345678", "name": "Nguyễn Thị Lan"},
    }
    data.update(changes)
    return {"type": "order.created", "timestamp": "2026-11-01T03:16:00Z", "data": data}


@pytest.fixture
def connection_id(api):
    response = api.post(
        "/api/v1/connections",
        json={"connector": "custom", "name": "Web shop", "secrets": {"webhook_secret": SECRET}},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def connection(hub, connection_id):
    with hub.db.session() as session:
        return session.get(Connection, connection_id)


def send(client, connection_id, event, *, message_id="msg_1", secret=SECRET, timestamp=None):
    body = json.dumps(event).encode()
    headers = standard_headers(secret, message_id, body, timestamp=timestamp)
    return client.post(f"/webhooks/custom/{connection_id}", data=body, headers=headers)


def inbox(hub):
    with hub.db.session() as session:
        return session.query(InboxEntry).order_by(InboxEntry.id).all()


def test_the_standard_webhooks_reference_vector_verifies():
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    assert signature.verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TS)
    assert not signature.verify([VECTOR_SECRET], headers, VECTOR_BODY + b" ", now=VECTOR_TS)


def test_one_matching_signature_among_several_is_enough():
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": f"v1,bm90IGl0 v1a,ignored {VECTOR_SIGNATURE}",
    }
    assert signature.verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TS)


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_more_than_five_minutes_off_is_refused(skew):
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    with pytest.raises(Unauthorized):
        signature.verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TS + skew)


def test_connector_verify_webhook_accepts_a_signature_made_with_the_connection_secret(
    hub, connection
):
    body = json.dumps(order_event()).encode()
    good = Headers(standard_headers(SECRET, "msg_a", body))
    forged = Headers(standard_headers(new_test_secret("attacker"), "msg_a", body))
    assert hub.connector(connection.connector).verify_webhook(hub, connection, good, body)
    verdict = hub.connector(connection.connector).verify_webhook(hub, connection, forged, body)
    assert verdict is False


def test_connector_verify_webhook_is_none_for_a_connector_that_takes_no_webhooks(hub, api):
    other = api.post("/api/v1/connections", json={"connector": "api"}).json
    with hub.db.session() as session:
        connection = session.get(Connection, other["id"])
    verdict = hub.connector(connection.connector).verify_webhook(hub, connection, Headers(), b"{}")
    assert verdict is None


def test_connector_delivery_id_is_the_webhook_id_header(hub, connection):
    headers = Headers({"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"})
    delivery_id = hub.connector(connection.connector).delivery_id(hub, connection, headers, b"{}")
    assert delivery_id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def test_connector_topic_is_the_event_type(hub, connection):
    body = json.dumps(order_event()).encode()
    topic = hub.connector(connection.connector).topic(hub, connection, Headers(), body)
    assert topic == "order.created"
    garbled = hub.connector(connection.connector).topic(hub, connection, Headers(), b"not json")
    assert garbled == ""


def test_connector_records_turns_an_order_event_into_a_canonical_order(hub, connection):
    records = hub.connector(connection.connector).records(
        hub, connection, "order.created", order_event(), Headers()
    )
    [order] = records
    assert isinstance(order, Order)
    assert order.total == Decimal("350000") and isinstance(order.total, Decimal)
    assert order.placed_at.utcoffset().total_seconds() == 7 * 3600
    assert order.lines[0].price == Decimal("175000")
    assert order.customer.phone == "0912345678"


def test_connector_records_ignores_event_types_it_does_not_know(hub, connection):
    event = {"type": "cart.abandoned", "data": {"id": 1}}
    records = hub.connector(connection.connector).records(
        hub, connection, "cart.abandoned", event, Headers()
    )
    assert records is None


def test_a_customer_event_becomes_a_customer(hub, connection):
    event = {
        "type": "customer.created",
        "data": {"external_id": "C-9", "phone": "0987654321", "name": "Trần Văn Minh"},
    }
    [customer] = hub.connector(connection.connector).records(
        hub, connection, event["type"], event, Headers()
    )
    assert customer == Customer(external_id="C-9", phone="0987654321", name="Trần Văn Minh")


def test_a_signed_order_event_is_recorded_with_its_member(hub, api, connection_id):
    response = send(api.client, connection_id, order_event())
    assert response.status_code == 200, response.json

    orders = api.get("/api/v1/orders").json["data"]
    assert [(o["external_id"], Decimal(o["total"])) for o in orders] == [("W-1001", 350000)]
    member = api.get(f"/api/v1/members/{orders[0]['member_id']}").json
    assert member["phone"] == "+84912345678"
    assert member["identities"] == [{"connection_id": connection_id, "external_id": "C-7"}]
    [entry] = inbox(hub)
    assert (entry.status, entry.topic, entry.delivery_id) == ("processed", "order.created", "msg_1")


def test_a_stale_timestamp_is_refused_with_401_and_nothing_stored(hub, api, connection_id):
    response = send(api.client, connection_id, order_event(), timestamp=int(time.time()) - 600)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "stale_timestamp"
    future = send(api.client, connection_id, order_event(), timestamp=int(time.time()) + 600)
    assert future.status_code == 401
    assert inbox(hub) == []


def test_an_invalid_order_fails_the_delivery_with_the_reason(hub, api, connection_id):
    event = order_event(total="-5", financial_status="paid")
    response = send(api.client, connection_id, event)
    assert response.status_code == 200  # accepted: the platform must not resend it forever

    [entry] = inbox(hub)
    assert entry.status == "failed"
    assert "total" in entry.error
    assert api.get("/api/v1/orders").json["data"] == []


def test_a_previous_secret_still_verifies_during_a_rotation(hub, api, connection_id):
    new = new_test_secret("rotated")
    api.patch(
        f"/api/v1/connections/{connection_id}",
        json={"secrets": {"webhook_secret": new, "previous_webhook_secret": SECRET}},
    )
    assert send(api.client, connection_id, order_event("W-1"), message_id="a").status_code == 200
    late = send(api.client, connection_id, order_event("W-2"), message_id="b", secret=new)
    assert late.status_code == 200
    assert len(api.get("/api/v1/orders").json["data"]) == 2


def test_a_refund_event_becomes_a_refund(hub, connection):
    event = {
        "type": "refund.created",
        "data": {
            "external_id": "R-1",
            "order_external_id": "W-1001",
            "amount": "175000",
            "currency": "vnd",
            "created_at": "2026-11-02T09:00:00+07:00",
        },
    }
    [refund] = hub.connector(connection.connector).records(
        hub, connection, event["type"], event, Headers()
    )
    assert isinstance(refund, Refund)
    assert (refund.order_external_id, refund.amount, refund.currency) == (
        "W-1001",
        Decimal("175000"),
        "VND",
    )
