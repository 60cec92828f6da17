"""The members list's filters on GET /api/v1/members: the console's conditions, one service."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from console_support import make_staff
from console_support import sign_in

from hub.db import utcnow


def add(api, name: str, phone: str, **fields) -> dict:
    response = api.post("/api/v1/members", json={"name": name, "phone": phone, **fields})
    assert response.status_code == 201, response.json
    return response.json


def order(api, phone: str, number: str, total: str, placed_at) -> None:
    body = {
        "source": "webshop",
        "external_id": number,
        "currency": "VND",
        "subtotal": total,
        "total": total,
        "financial_status": "paid",
        "placed_at": placed_at.isoformat(),
        "customer": {"phone": phone},
    }
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code in (200, 201, 202), response.json


@pytest.fixture
def shop(api):
    """Three members who differ in every condition the filters look at."""
    gold = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": "900000000"}).json
    lan = add(
        api,
        "Nguyễn Thị Lan",
        "0912345678",
        birthday="1990-03-14",
        province="Hà Nội",
        tags=["vip"],
        consents={"sms": True},
    )
    hung = add(
        api,
        "Trần Văn Hùng",
        "0987654321",
        birthday="1985-12-02",
        province="Đà Nẵng",
        consents={"sms": False},
    )
    anh = add(api, "Lê Hoàng Anh", "0905123456")
    api.post(f"/api/v1/members/{lan['id']}/adjustments", json={"points": 800, "reason": "quà"})
    api.post(f"/api/v1/members/{hung['id']}/adjustments", json={"points": 100, "reason": "quà"})
    until = (utcnow() + timedelta(days=30)).isoformat()
    override = {"tier_id": gold["id"], "until": until, "note": "khách quen"}
    assert api.put(f"/api/v1/members/{hung['id']}/tier/override", json=override).status_code == 200
    order(api, "0912345678", "DH-1", "3000000", utcnow() - timedelta(days=2))
    order(api, "0987654321", "DH-2", "900000", utcnow() - timedelta(days=90))
    connection = api.post(
        "/api/v1/connections", json={"connector": "console", "name": "Quầy", "settings": {}}
    ).json
    identity = {"connection_id": connection["id"], "external_id": "KH-7"}
    assert api.post(f"/api/v1/members/{anh['id']}/identities", json=identity).status_code < 300
    return {"lan": lan, "hung": hung, "anh": anh, "gold": gold, "connection": connection}


def names(api, query: str) -> set[str]:
    response = api.get(f"/api/v1/members?{query}")
    assert response.status_code == 200, response.json
    return {m["name"] for m in response.json["data"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=nguyen", {"Nguyễn Thị Lan"}),
        ("q=HUNG", {"Trần Văn Hùng"}),
        ("points_min=2000", {"Nguyễn Thị Lan"}),
        ("points_min=50&points_max=2000", {"Trần Văn Hùng"}),
        ("spent_min=1000000", {"Nguyễn Thị Lan"}),
        ("spent_max=1000000", {"Trần Văn Hùng", "Lê Hoàng Anh"}),
        ("birthday_month=12", {"Trần Văn Hùng"}),
        ("province=Hà Nội", {"Nguyễn Thị Lan"}),
        ("tag=vip", {"Nguyễn Thị Lan"}),
        ("consent=sms", {"Nguyễn Thị Lan"}),
        ("q=nguyen&points_max=10", set()),
    ],
)
def test_each_filter_of_the_console_narrows_the_api_list(api, shop, query, expected):
    assert names(api, query) == expected


def test_the_tier_and_source_connection_filters(api, shop):
    assert names(api, f"tier_id={shop['gold']['id']}") == {"Trần Văn Hùng"}
    assert names(api, f"connection_id={shop['connection']['id']}") == {"Lê Hoàng Anh"}


def test_the_last_order_date_filters_take_times_with_an_offset(api, shop):
    week_ago = utcnow() - timedelta(days=7)
    local = week_ago.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).isoformat()
    assert names(api, "ordered_after=" + quote(local)) == {"Nguyễn Thị Lan"}
    assert names(api, "ordered_before=" + quote(week_ago.isoformat())) == {"Trần Văn Hùng"}
    naive = api.get("/api/v1/members?ordered_after=" + week_ago.replace(tzinfo=None).isoformat())
    assert naive.status_code == 422 and "ordered_after" in naive.json["error"]["details"]


def test_another_merchants_tier_or_connection_finds_nothing(api, other_api, shop):
    foreign = other_api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 1}).json
    assert names(api, f"tier_id={foreign['id']}") == set()
    assert names(other_api, f"connection_id={shop['connection']['id']}") == set()


@pytest.mark.parametrize(
    "query",
    [
        "birthday_month=13",
        "points_min=abc",
        "spent_min=-1",
        "spent_min=NaN",
        "consent=pigeon",
        "ordered_after=yesterday",
        "tier_id=0",
        "connection_id=99999999999999999999",
    ],
)
def test_a_malformed_filter_is_a_clear_422(api, query):
    response = api.get(f"/api/v1/members?{query}")
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] and error["message"]
    assert query.split("=")[0] in str(error["details"])


def test_the_console_and_the_api_list_the_same_members(client, hub, merchant, api, shop):
    owner = make_staff(hub, merchant.id, "owner")
    sign_in(client, owner.email)
    for query, expected in (
        ("points_min=50&spent_max=1000000", {"Trần Văn Hùng"}),
        ("spent_min=1000000", {"Nguyễn Thị Lan"}),
        (f"connection_id={shop['connection']['id']}", {"Lê Hoàng Anh"}),
    ):
        html = client.get(f"/console/members?{query}").get_data(as_text=True)
        assert names(api, query) == expected, query
        for name in ("Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Hoàng Anh"):
            assert (name in html) == (name in expected), (query, name)
    assert "Quầy" in client.get("/console/members").get_data(as_text=True)


def test_sorting_by_total_spent_compares_amounts_not_digits(client, hub, merchant, shop):
    owner = make_staff(hub, merchant.id, "owner")
    sign_in(client, owner.email)
    html = client.get("/console/members?sort=-spent").get_data(as_text=True)
    assert html.index("Nguyễn Thị Lan") < html.index("Trần Văn Hùng") < html.index("Lê Hoàng Anh")


def test_the_openapi_document_lists_every_filter(client):
    spec = client.get("/api/v1/openapi.json").json
    parameters = {p["name"] for p in spec["paths"]["/api/v1/members"]["get"]["parameters"]}
    assert {
        "q",
        "tag",
        "tier_id",
        "points_min",
        "points_max",
        "spent_min",
        "spent_max",
        "ordered_after",
        "ordered_before",
        "birthday_month",
        "province",
        "connection_id",
        "consent",
    } <= parameters
