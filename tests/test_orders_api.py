"""Orders sent directly through the API: canonical, idempotent, tied to members."""

from decimal import Decimal

import pytest

ORDER = {
    "source": "webshop",
    "external_id": "1001",
    "number": "#1001",
    "currency": "VND",
    "subtotal": "350000",
    "total_discounts": "50000",
    "shipping": "30000",
    "tax": "0",
    "total": "330000",
    "discount_codes": ["WELCOME"],
    "financial_status": "paid",
    "placed_at": "2026-11-01T10:00:00+07:00",
    "paid_at": "2026-11-01T10:05:00+07:00",
    "lines": [
        {"sku": "TEA-01", "product_id": "p1", "title": "Trà sen", "quantity": 2,
         "price": "100000", "collections": ["tea"]},
        {"sku": "CUP-02", "product_id": "p2", "title": "Tách", "quantity": 1,
         "price": "150000", "total_discount": "50000"},
    ],
    "customer": {"external_id": "c-7", "phone": "0912 345 678", "email": "Lan@Example.vn",
                 "name": "Nguyễn Thị Lan"},
}  # fmt: skip


def test_order_is_stored_canonically_with_decimal_totals_and_utc_times(api):
    response = api.post("/api/v1/orders", json=ORDER)

    assert response.status_code == 201, response.json
    body = response.json
    assert body["source"] == "api:webshop"
    assert Decimal(body["total"]) == Decimal("330000")
    assert body["placed_at"] == "2026-11-01T03:00:00+00:00"
    assert [line["sku"] for line in body["lines"]] == ["TEA-01", "CUP-02"]
    assert Decimal(body["lines"][1]["total_discount"]) == Decimal("50000")


def test_order_customer_becomes_a_member_matched_by_phone(api, member):
    body = api.post("/api/v1/orders", json=ORDER).json
    assert body["member_id"] == member["id"]


def test_order_customer_without_a_member_creates_one(api):
    body = api.post("/api/v1/orders", json=ORDER).json
    created = api.get(f"/api/v1/members/{body['member_id']}").json
    assert created["phone"] == "+84912345678"
    assert created["email"] == "lan@example.vn"


def test_order_without_customer_is_stored_with_no_member(api):
    response = api.post("/api/v1/orders", json={**ORDER, "customer": None})
    assert response.status_code == 201
    assert response.json["member_id"] is None


def test_customer_with_a_broken_phone_and_email_still_records_the_order(api):
    customer = {"phone": "123", "email": "not-an-email", "name": "?"}
    response = api.post("/api/v1/orders", json={**ORDER, "customer": customer})
    assert response.status_code == 201
    assert response.json["member_id"] is None


def test_the_same_order_twice_is_stored_once_and_answers_200(api, recorded_events):
    first = api.post("/api/v1/orders", json=ORDER)
    second = api.post("/api/v1/orders", json=ORDER)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["id"] == first.json["id"]
    assert len(api.get("/api/v1/orders").json["data"]) == 1
    assert recorded_events.types().count("order.received") == 1


def test_external_ids_are_unique_per_source(api):
    a = api.post("/api/v1/orders", json=ORDER).json
    b = api.post("/api/v1/orders", json={**ORDER, "source": "popup-store"}).json
    assert a["id"] != b["id"]


def test_a_later_status_updates_the_order_and_emits_order_updated(api, recorded_events):
    pending = {**ORDER, "financial_status": "pending", "paid_at": None}
    api.post("/api/v1/orders", json=pending)

    response = api.post("/api/v1/orders", json=ORDER)

    assert response.status_code == 200
    assert response.json["financial_status"] == "paid"
    core = [t for t in recorded_events.types() if t.split(".")[0] in ("member", "order")]
    assert core == ["member.created", "order.received", "order.updated"]
    updated = [e for e in recorded_events.events if e.type == "order.updated"][-1]
    assert set(updated.data["changed"]) == {"financial_status", "paid_at"}


def test_a_late_older_delivery_never_unpays_an_order(api):
    api.post("/api/v1/orders", json=ORDER)
    stale = {**ORDER, "paid_at": None}
    body = api.post("/api/v1/orders", json=stale).json
    assert body["paid_at"] is not None


def test_orders_can_be_listed_by_member(api, member):
    api.post("/api/v1/orders", json=ORDER)
    api.post("/api/v1/orders", json={**ORDER, "external_id": "1002", "customer": None})

    mine = api.get("/api/v1/orders", query_string={"member_id": member["id"]}).json["data"]

    assert [o["external_id"] for o in mine] == ["1001"]


def test_an_order_needs_a_source_or_a_connection(api):
    body = {k: v for k, v in ORDER.items() if k != "source"}
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"source": ["required without connection_id"]}


@pytest.mark.parametrize("status", ["shipped", "", "PAID"])
def test_unknown_financial_status_is_refused(api, status):
    response = api.post("/api/v1/orders", json={**ORDER, "financial_status": status})
    assert response.status_code == 422
    assert "financial_status" in response.json["error"]["details"]


def test_order_from_a_connection_links_the_customer_id(api):
    connection = api.post("/api/v1/connections", json={"connector": "api"}).json
    body = {k: v for k, v in ORDER.items() if k != "source"}
    body["connection_id"] = connection["id"]
    order = api.post("/api/v1/orders", json=body).json

    member = api.get(f"/api/v1/members/{order['member_id']}").json
    assert member["identities"] == [{"connection_id": connection["id"], "external_id": "c-7"}]

    # A later order with only the customer id finds the same member.
    customer = {"external_id": "c-7", "name": "Lan"}
    again = api.post("/api/v1/orders", json={**body, "external_id": "1002", "customer": customer})
    assert again.json["member_id"] == member["id"]
