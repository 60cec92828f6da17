"""Program settings over the API: read, save as versions, list versions, preview earning."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from points_fixtures import record
from sqlalchemy import func
from sqlalchemy import select

from hub.models import AuditRecord
from hub.models import EventRecord
from hub.models import PointEntry
from hub.models import ProgramVersion

ORDER = {
    "external_id": "web-1",
    "source": "web",
    "subtotal": "480000",
    "shipping": "30000",
    "total": "510000",
    "financial_status": "paid",
    "placed_at": "2026-03-10T10:00:00+07:00",
    "customer": {"phone": "0912345678", "name": "Lan"},
}


def test_a_new_program_shows_the_defaults_as_version_0(api):
    response = api.get("/api/v1/program")

    assert response.status_code == 200
    body = response.json
    assert body["version"] == 0 and body["created_at"] is None
    assert body["settings"]["earn_rate"] == {"amount": "1000", "points": 1}
    assert body["settings"]["rounding"] == "floor"
    assert body["settings"]["earn_on"] == {"shipping": False, "tax": False}
    assert body["settings"]["pending_days"] == 0
    assert body["settings"]["expiry"]["policy"] == "never"
    assert "tiers" not in body["settings"]
    names = {rule["name"] for rule in body["rules_available"]}
    assert {"product_bonus", "special_days", "birthday", "first_order", "signup"} <= names


def test_saving_settings_creates_a_version_with_who_saved_it(api, hub, merchant):
    response = api.put(
        "/api/v1/program",
        json={"earn_rate": {"amount": "10000", "points": 3}, "pending_days": 7},
    )

    assert response.status_code == 200, response.json
    assert response.json["version"] == 1
    assert response.json["actor"].startswith("api_key:")
    assert response.json["settings"]["earn_rate"] == {"amount": "10000", "points": 3}
    assert response.json["settings"]["rounding"] == "floor"  # defaults fill the rest
    with hub.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)) >= 1


def test_saving_the_same_settings_again_creates_no_version(api):
    body = {"earn_rate": {"amount": "2000"}}
    api.put("/api/v1/program", json=body)
    again = api.put("/api/v1/program", json=body)

    assert again.json["version"] == 1


def test_versions_are_listed_newest_first_and_never_rewritten(api):
    api.put("/api/v1/program", json={"earn_rate": {"amount": "2000"}})
    api.put("/api/v1/program", json={"earn_rate": {"amount": "3000"}})
    api.put("/api/v1/program", json={"earn_rate": {"amount": "4000"}})

    first_page = api.get("/api/v1/program/versions?limit=2").json
    second_page = api.get(f"/api/v1/program/versions?limit=2&cursor={first_page['next_cursor']}")

    assert [v["version"] for v in first_page["data"]] == [3, 2]
    assert [v["version"] for v in second_page.json["data"]] == [1]
    assert second_page.json["data"][0]["settings"]["earn_rate"]["amount"] == "2000"


def test_invalid_settings_are_refused_with_field_details(api, hub, merchant):
    response = api.put(
        "/api/v1/program",
        json={
            "earn_rate": {"amount": "-5"},
            "rounding": "sideways",
            "expiry": {"policy": "end_of_month"},
            "tiers": [{"name": "Gold"}],
        },
    )

    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert {"earn_rate", "rounding", "expiry", "tiers"} <= set(details)
    with hub.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProgramVersion)) == 0


def test_settings_of_one_merchant_are_not_anothers(api, other_api):
    api.put("/api/v1/program", json={"earn_rate": {"amount": "2000"}})

    assert other_api.get("/api/v1/program").json["version"] == 0


def test_preview_says_what_an_order_would_earn_and_writes_nothing(api, hub, merchant):
    api.put("/api/v1/program", json={"pending_days": 3, "expiry": {"policy": "days", "days": 90}})
    with hub.db.session() as session:
        events_before = session.scalar(select(func.count()).select_from(EventRecord))

    response = api.post("/api/v1/program/preview", json=ORDER)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["points"] == 480
    assert body["earning_base"] == "480000"
    assert body["program_version"] == 1
    assert body["reason"] is None
    assert body["awards"][0]["rule"] == "base"
    assert body["available_at"] and body["expires_at"]
    with hub.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PointEntry)) == 0
        assert session.scalar(select(func.count()).select_from(EventRecord)) == events_before


def test_preview_with_a_member_lets_member_rules_answer(api, hub, merchant, member):
    api.put("/api/v1/program", json={"rules": {"first_order": {"points": 200}}})

    with_member = api.post("/api/v1/program/preview", json={**ORDER, "member_id": member["id"]})
    without = api.post("/api/v1/program/preview", json=ORDER)

    assert with_member.json["points"] == 680
    assert without.json["points"] == 480


def test_preview_says_why_an_order_earns_nothing(api):
    api.put("/api/v1/program", json={"minimum_order": "500000"})

    response = api.post("/api/v1/program/preview", json=ORDER)

    assert response.json["points"] == 0
    assert response.json["reason"] == "below_minimum"
    assert response.json["awards"] == []


def test_preview_of_another_merchants_member_is_not_found(api, other_api, member):
    response = other_api.post("/api/v1/program/preview", json={**ORDER, "member_id": member["id"]})

    assert response.status_code == 404


def test_new_settings_apply_to_orders_placed_after_them(api, hub, merchant):
    record(hub, merchant.id, order("before"))
    api.put("/api/v1/program", json={"earn_rate": {"amount": "100"}})
    record(hub, merchant.id, order("after", placed_at=datetime.now(UTC)))

    assert points(hub, member_id(hub, merchant.id)).total == 250 + 2500
