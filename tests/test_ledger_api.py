"""A member's points over the API: summary and lots, the ledger explained, adjustments."""

from __future__ import annotations

from points_fixtures import assert_invariants
from points_fixtures import order
from points_fixtures import record
from sqlalchemy import select

from hub.models import AuditRecord


def test_member_resources_show_available_and_pending_points(api, hub, merchant, member):
    api.put("/api/v1/program", json={"pending_days": 5})
    record(hub, merchant.id, order())
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 40, "reason": "gift"})

    one = api.get(f"/api/v1/members/{member['id']}").json
    listed = api.get("/api/v1/members").json["data"][0]

    assert one["points"] == {"available": 40, "pending": 250}
    assert listed["points"] == {"available": 40, "pending": 250}


def test_points_show_each_lot_with_when_it_expires(api, hub, merchant, member):
    api.put("/api/v1/program", json={"expiry": {"policy": "days", "days": 30}})
    record(hub, merchant.id, order("a", total="100000"))
    record(hub, merchant.id, order("b", total="200000"))

    body = api.get(f"/api/v1/members/{member['id']}/points").json

    assert (body["available"], body["pending"], body["total"]) == (300, 0, 300)
    assert [(lot["remaining"], lot["rule"], lot["status"]) for lot in body["lots"]] == [
        (100, "base", "available"),
        (200, "base", "available"),
    ]
    assert body["next_expiry"]["points"] == 100
    assert body["lots"][0]["expires_at"] is not None


def test_the_ledger_explains_every_entry_newest_first_a_page_at_a_time(api, hub, merchant, member):
    record(hub, merchant.id, order(total="250000"))
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 10, "reason": "sorry"})
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": -5, "reason": "typo"})

    first = api.get(f"/api/v1/members/{member['id']}/ledger?limit=2").json
    rest = api.get(f"/api/v1/members/{member['id']}/ledger?cursor={first['next_cursor']}").json

    entries = first["data"] + rest["data"]
    assert [e["points"] for e in entries] == [-5, 10, 250]
    base = entries[-1]
    assert base["rule"] == "base" and base["program_version"] == 0
    assert base["explanation"].startswith("Base spend rule")
    assert "250,000 VND at 1 point per 1,000 VND" in base["explanation"]
    assert entries[0]["explanation"] == "Manual adjustment: typo"


def test_adjustments_record_who_made_them_and_why(api, hub, merchant, member, recorded_events):
    response = api.post(
        f"/api/v1/members/{member['id']}/adjustments",
        json={"points": 500, "reason": "points from the old paper card"},
    )

    assert response.status_code == 201, response.json
    assert response.json["actor"].startswith("api_key:")
    assert response.json["kind"] == "adjust"
    (event,) = [e for e in recorded_events.events if e.type == "points.adjusted"]
    assert event.data["points"] == 500 and event.data["actor"].startswith("api_key:")
    with hub.db.session() as session:
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "points.adjusted")
        ).one()
    assert audit.data["reason"] == "points from the old paper card"
    assert_invariants(hub, member["id"])


def test_adjustments_need_a_reason_and_cannot_remove_more_than_available(api, member):
    no_reason = api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 5})
    zero = api.post(
        f"/api/v1/members/{member['id']}/adjustments", json={"points": 0, "reason": "x"}
    )
    too_many = api.post(
        f"/api/v1/members/{member['id']}/adjustments", json={"points": -1, "reason": "x"}
    )

    assert no_reason.status_code == 422
    assert zero.status_code == 422
    assert too_many.status_code == 409
    assert too_many.json["error"]["code"] == "insufficient_points"


def test_another_merchants_member_points_are_not_found(other_api, member):
    assert other_api.get(f"/api/v1/members/{member['id']}/points").status_code == 404
    assert other_api.get(f"/api/v1/members/{member['id']}/ledger").status_code == 404
    assert (
        other_api.post(
            f"/api/v1/members/{member['id']}/adjustments", json={"points": 5, "reason": "x"}
        ).status_code
        == 404
    )


def test_adjustments_are_safe_to_retry_with_an_idempotency_key(api, member):
    headers = {"Idempotency-Key": "adj-0001"}
    body = {"points": 25, "reason": "apology"}

    first = api.post(f"/api/v1/members/{member['id']}/adjustments", json=body, headers=headers)
    again = api.post(f"/api/v1/members/{member['id']}/adjustments", json=body, headers=headers)

    assert first.json == again.json
    assert api.get(f"/api/v1/members/{member['id']}/points").json["total"] == 25
