"""Bad input answers 400/413/422 with field details: never a 500, nothing half-written."""

import pytest
from sqlalchemy import func
from sqlalchemy import select

from hub.models import Member
from hub.models import Order


def count(hub, model):
    with hub.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_malformed_json_is_a_400_with_the_stable_shape(api, hub):
    response = api.post(
        "/api/v1/members", data='{"phone": "0912', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    assert set(response.json["error"]) == {"code", "message", "details"}
    assert count(hub, Member) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": 912345678}, "phone"),
        ({"name": ["Lan"]}, "name"),
        ({"birthday": "02/05/1990"}, "birthday"),
        ({"gender": "robot"}, "gender"),
        ({"consents": {"fax": True}}, "consents"),
        ({"tags": "vip"}, "tags"),
    ],
)
def test_wrong_types_are_422_naming_the_field(api, hub, body, field):
    response = api.post("/api/v1/members", json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["details"]
    assert count(hub, Member) == 0


def test_unknown_fields_are_refused(api, hub):
    response = api.post("/api/v1/members", json={"phone": "0912345678", "points": 5000})
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"points": ["Unknown field."]}
    assert count(hub, Member) == 0


def test_a_json_list_instead_of_an_object_is_422(api):
    response = api.post("/api/v1/members", json=["0912345678"])
    assert response.status_code == 422


def test_bad_phone_number_is_422_on_the_phone_field(api, hub):
    response = api.post("/api/v1/members", json={"phone": "12345"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_phone"
    assert "phone" in response.json["error"]["details"]
    assert count(hub, Member) == 0


def test_oversized_body_is_413(api, hub):
    big = "x" * (hub.config["HUB_MAX_BODY_BYTES"] + 10)
    response = api.post("/api/v1/members", json={"name": big})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"
    assert count(hub, Member) == 0


def test_order_with_a_bad_line_writes_neither_order_nor_member(api, hub):
    body = {
        "source": "shop",
        "external_id": "1001",
        "subtotal": "100000",
        "total": "100000",
        "financial_status": "paid",
        "placed_at": "2026-11-01T10:00:00+07:00",
        "customer": {"phone": "0912345678"},
        "lines": [{"sku": "A", "quantity": 1, "price": "-5"}],
    }
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code == 422
    assert "lines" in response.json["error"]["details"]
    assert count(hub, Order) == 0
    assert count(hub, Member) == 0


def test_naive_timestamps_are_refused(api):
    body = {
        "source": "shop",
        "external_id": "1001",
        "subtotal": "1",
        "total": "1",
        "financial_status": "paid",
        "placed_at": "2026-11-01T10:00:00",
    }
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code == 422
    assert "placed_at" in response.json["error"]["details"]


def test_unknown_route_under_the_api_answers_the_error_shape(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_answers_405_in_the_error_shape(api, member):
    response = api.put(f"/api/v1/members/{member['id']}", json={})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
