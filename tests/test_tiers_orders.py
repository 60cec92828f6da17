"""Tiers follow orders: paid orders move members up at once, refunds wait for the review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.db import utcnow


def add_tier(api, name, threshold, **fields):
    response = api.post("/api/v1/tiers", json={"name": name, "threshold": threshold, **fields})
    assert response.status_code == 201, response.json
    return response.json


def send_order(api, external_id, total, *, status="paid", paid_at=None, **fields):
    paid_at = paid_at or utcnow()
    body = {
        "source": "pos",
        "external_id": external_id,
        "subtotal": str(total),
        "total": str(total),
        "financial_status": status,
        "placed_at": paid_at.isoformat(),
        "paid_at": paid_at.isoformat() if status != "pending" else None,
        "customer": {"phone": "0912345678", "name": "Lan"},
        **fields,
    }
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code in (200, 201), response.json
    return response.json


def tier_of(api, member_id):
    status = api.get(f"/api/v1/members/{member_id}/tier").json
    return status["tier"]["name"] if status["tier"] else None


@pytest.fixture
def spend_ladder(api):
    """HaraLoyalty-style ladder on lifetime spend."""
    return [
        add_tier(api, "Đồng", 0),
        add_tier(api, "Bạc", 2_000_000),
        add_tier(api, "Vàng", 5_000_000),
        add_tier(api, "Kim Cương", 10_000_000),
    ]


def test_a_paid_order_moves_the_member_up_at_once(api, member, spend_ladder, recorded_events):
    send_order(api, "A-1", 2_500_000)

    assert tier_of(api, member["id"]) == "Bạc"
    changed = [e.data for e in recorded_events.events if e.type == "tier.changed"]
    assert changed[-1]["to_tier"]["name"] == "Bạc"


def test_the_first_order_puts_a_new_customer_in_the_entry_tier(api, spend_ladder):
    send_order(api, "A-1", 100_000)

    member_id = api.get("/api/v1/members?phone=0912345678").json["data"][0]["id"]
    assert tier_of(api, member_id) == "Đồng"


def test_a_pending_order_counts_for_nothing_until_it_is_paid(api, member, spend_ladder):
    send_order(api, "A-1", 6_000_000, status="pending")
    assert tier_of(api, member["id"]) == "Đồng"  # everyone stands on a threshold of 0

    send_order(api, "A-1", 6_000_000)

    assert tier_of(api, member["id"]) == "Vàng"


def test_replaying_an_order_changes_the_tier_once(api, member, spend_ladder, recorded_events):
    send_order(api, "A-1", 2_500_000)
    send_order(api, "A-1", 2_500_000)

    assert recorded_events.types().count("tier.changed") == 1


def test_status_shows_the_spend_left_to_the_next_tier(api, member, spend_ladder):
    send_order(api, "A-1", 2_500_000)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json

    assert (status["next_tier"]["name"], status["delta_to_next"]) == ("Vàng", "2500000")


def test_a_cancelled_order_lowers_progress_but_not_the_tier_before_a_review(
    api, member, spend_ladder
):
    send_order(api, "A-1", 2_500_000)

    send_order(api, "A-1", 2_500_000, status="voided", cancelled_at=utcnow().isoformat())

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["tier"]["name"] == "Bạc"
    assert status["progress"] == "0"
    assert status["delta_to_retain"] == "2000000"


def test_points_earned_on_orders_move_a_points_tier(api, member):
    add_tier(api, "Bạc", 1000, basis="points")

    send_order(api, "A-1", 1_200_000)  # 1 point per 1,000đ by default

    assert tier_of(api, member["id"]) == "Bạc"


def test_a_yearly_spend_tier_counts_orders_paid_this_year_only(api, member):
    add_tier(api, "Vàng", 5_000_000, window="calendar_year")
    send_order(api, "OLD-1", 4_000_000, paid_at=utcnow() - timedelta(days=400))

    send_order(api, "NEW-1", 2_000_000)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["tier"] is None
    assert status["progress"] == "2000000"


def test_an_order_paid_without_a_payment_time_counts_when_it_was_placed(api, member):
    add_tier(api, "Vàng", 1_000_000, window="calendar_year")
    now = utcnow().isoformat()
    response = api.post(
        "/api/v1/orders",
        json={
            "source": "pos",
            "external_id": "COD-1",
            "subtotal": "1200000",
            "total": "1200000",
            "financial_status": "paid",
            "placed_at": now,
            "customer": {"phone": "0912345678"},
        },
    )
    assert response.status_code == 201, response.json

    assert tier_of(api, member["id"]) == "Vàng"
