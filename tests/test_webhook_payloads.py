"""The events the hub sends, as the document's OpenAPI 3.1 ``webhooks``: each type, its data."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from hub.events import EVENT_TYPES

SIGNATURE_HEADERS = {"webhook-id", "webhook-timestamp", "webhook-signature"}


@pytest.fixture
def documented(client) -> dict:
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    return spec["webhooks"]


def _body(documented: dict, event_type: str) -> dict:
    return documented[event_type]["post"]["requestBody"]["content"]["application/json"]


def test_every_event_type_the_core_emits_is_a_documented_signed_webhook(documented):
    assert set(documented) == set(EVENT_TYPES)
    for event_type, item in documented.items():
        sent = item["post"]
        assert sent["summary"] and sent["tags"] == ["Webhooks it sends you"]
        assert {p["name"] for p in sent["parameters"] if p["in"] == "header"} == SIGNATURE_HEADERS
        body = _body(documented, event_type)
        jsonschema.validate(body["example"], body["schema"])
        assert body["example"]["type"] == event_type


def test_a_payload_of_another_type_or_with_a_number_for_money_does_not_fit(documented):
    body = _body(documented, "order.received")
    wrong_type = {**body["example"], "type": "order.updated"}
    money_as_number = {**body["example"], "data": {**body["example"]["data"], "total": 350000}}
    for payload in (wrong_type, money_as_number):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(payload, body["schema"])


def test_a_shops_day_sends_events_that_fit_their_documented_data(
    api, member, recorded_events, documented
):
    """Given a shop with a tier and a reward, when a member buys, redeems, refunds and merges,
    then every event's webhook body fits the schema its type documents."""
    from webhooks.outbound import payload_of

    connection = api.post("/api/v1/connections", json={"connector": "custom"}).json
    api.post("/api/v1/tiers", json={"name": "Bạc", "threshold": "10"})
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 10},
    ).json
    api.patch(f"/api/v1/members/{member['id']}", json={"name": "Lan Nguyễn"})
    placed = {
        "connection_id": connection["id"],
        "external_id": "W-1",
        "subtotal": "1000000",
        "total": "1000000",
        "financial_status": "pending",
        "placed_at": "2026-01-05T10:00:00+07:00",
        "customer": {"phone": member["phone"]},
    }
    api.post("/api/v1/orders", json=placed)
    order = api.post("/api/v1/orders", json={**placed, "financial_status": "paid"}).json
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 50, "reason": "quà"})
    used = api.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]})
    kept = api.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]})
    api.post("/api/v1/vouchers/use", json={"code": used.json["voucher"]["code"], "reference": "P1"})
    api.post(f"/api/v1/vouchers/{kept.json['voucher']['code']}/cancel", json={"note": "nhầm"})
    api.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"external_id": "R-1", "amount": "1000000"}
    )
    twin = api.post("/api/v1/members", json={"email": "lan2@example.vn"}).json
    api.post(f"/api/v1/members/{member['id']}/merge", json={"from_member_id": twin["id"]})
    api.delete(f"/api/v1/members/{member['id']}")

    for event in recorded_events.events:
        jsonschema.validate(payload_of(event), _body(documented, event.type)["schema"])
    assert set(recorded_events.types()) >= {
        "member.created", "member.updated", "member.merged", "member.deleted",
        "order.received", "order.updated", "points.earned", "points.reversed",
        "points.adjusted", "points.redeemed", "tier.changed", "voucher.issued",
        "voucher.used", "voucher.cancelled",
    }  # fmt: skip
