"""The console's Outbound webhooks page (a page of the webhooks plugin): endpoints with their
secret shown once, switching off and on, rotation, deliveries and their replay."""

from __future__ import annotations

import re

import pytest
from console_support import csrf
from console_support import make_staff
from sqlalchemy import select
from test_console_connections import XSS
from test_console_connections import sign_in_english

from webhooks.models import WebhookAttempt
from webhooks.models import WebhookDelivery

HOOK = "http://127.0.0.1:9/hook"  # the discard port: nothing listens, every attempt fails


@pytest.fixture
def hub_config():
    return {"HUB_WEBHOOKS_ALLOW_LOOPBACK": True}


@pytest.fixture
def owner(client, hub, merchant):
    person = make_staff(hub, merchant.id, "owner")
    sign_in_english(client, person)
    return person


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def add(client, **fields):
    data = {"csrf_token": csrf(client), "url": HOOK, "event_types": "order.received, points.earned"}
    data.update(fields)
    return client.post("/console/settings/webhooks", data=data)


def failed_delivery(hub, merchant_id: int, endpoint_id: int) -> int:
    with hub.db.transaction() as session:
        row = WebhookDelivery(
            message_id=f"msg_test{endpoint_id}", merchant_id=merchant_id, endpoint_id=endpoint_id,
            event_id="evt_1", event_type="order.received", payload={"type": "order.received"},
            status="failed", attempts=6, last_status_code=500, last_error="server error",
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_an_empty_page_says_what_endpoints_are_for(client, owner):
    html = page(client, "/console/settings/webhooks")
    assert "No endpoints yet" in html and 'href="/console/settings/webhooks"' in html


def test_adding_an_endpoint_shows_its_secret_once_and_lists_it(client, api, owner):
    made = add(client, description=XSS)
    html = made.get_data(as_text=True)
    secret = re.search(r'id="signing-secret" class="secret" readonly value="([^"]+)"', html)
    assert made.status_code == 200 and secret.group(1).startswith("whsec_")
    [endpoint] = api.get("/api/v1/webhook-endpoints").json["data"]
    assert endpoint["url"] == HOOK and endpoint["event_types"] == [
        "order.received",
        "points.earned",
    ]
    listed = page(client, "/console/settings/webhooks")
    assert HOOK in listed and secret.group(1) not in listed
    assert XSS not in listed and "&#34;&gt;&lt;img" in listed


def test_a_refused_address_is_explained(client, owner):
    refused = add(client, url="http://10.0.0.7/hook")
    assert refused.status_code == 422 and "10.0.0.7" in refused.get_data(as_text=True)


def test_switching_off_on_and_rotating_the_secret(client, api, owner):
    add(client)
    [endpoint] = api.get("/api/v1/webhook-endpoints").json["data"]
    path = f"/console/settings/webhooks/{endpoint['id']}"
    token = csrf(client)
    assert client.post(path, data={"csrf_token": token, "action": "disable"}).status_code == 302
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}").json["status"] == "disabled"
    client.post(path, data={"csrf_token": token, "action": "enable"})
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}").json["status"] == "active"
    rotated = client.post(path, data={"csrf_token": token, "action": "rotate"})
    html = rotated.get_data(as_text=True)
    assert "still signs for 24 hours" in html and 'id="signing-secret"' in html
    after = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}").json
    assert after["previous_secret_expires_at"] is not None


def test_deliveries_are_listed_and_a_failed_one_sent_again(client, hub, api, merchant, owner):
    add(client)
    [endpoint] = api.get("/api/v1/webhook-endpoints").json["data"]
    delivery_id = failed_delivery(hub, merchant.id, endpoint["id"])
    path = f"/console/settings/webhooks/{endpoint['id']}"
    html = page(client, path)
    assert "order.received" in html and "HTTP 500" in html and "Send again" in html
    again = client.post(
        f"{path}/deliveries/{delivery_id}/replay", data={"csrf_token": csrf(client)}
    )
    assert again.status_code == 302
    with hub.db.session() as session:
        triggers = session.scalars(
            select(WebhookAttempt.trigger).where(WebhookAttempt.delivery_id == delivery_id)
        ).all()
    assert triggers == ["replay"]  # attempted once more, now, by hand
    assert "Delivery queued for another attempt" in page(client, again.headers["Location"])


def test_another_merchants_endpoint_and_deliveries_are_404(
    client, hub, api, merchant, other_merchant, owner
):
    add(client)
    [endpoint] = api.get("/api/v1/webhook-endpoints").json["data"]
    delivery_id = failed_delivery(hub, merchant.id, endpoint["id"])
    client.post("/console/sign-out", data={"csrf_token": csrf(client)})
    sign_in_english(client, make_staff(hub, other_merchant.id, "owner"))
    path = f"/console/settings/webhooks/{endpoint['id']}"
    assert client.get(path).status_code == 404
    token = csrf(client)
    assert client.post(path, data={"csrf_token": token, "action": "disable"}).status_code == 404
    replay = client.post(f"{path}/deliveries/{delivery_id}/replay", data={"csrf_token": token})
    assert replay.status_code == 404
    assert HOOK not in page(client, "/console/settings/webhooks")


def test_a_delivery_of_another_endpoint_is_404(client, hub, api, merchant, owner):
    add(client)
    add(client, url="http://127.0.0.1:9/other")
    first, second = api.get("/api/v1/webhook-endpoints").json["data"]
    delivery_id = failed_delivery(hub, merchant.id, second["id"])
    wrong = f"/console/settings/webhooks/{first['id']}/deliveries/{delivery_id}/replay"
    assert client.post(wrong, data={"csrf_token": csrf(client)}).status_code == 404


def test_managers_and_signed_out_visitors_are_kept_out(client, hub, merchant):
    assert client.get("/console/settings/webhooks").status_code == 302
    sign_in_english(client, make_staff(hub, merchant.id, "manager"))
    assert client.get("/console/settings/webhooks").status_code == 403
    assert add(client).status_code == 403


def test_a_form_without_its_csrf_token_is_refused(client, owner):
    assert add(client, csrf_token="").status_code == 400
