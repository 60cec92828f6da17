"""The tier multiplier plugin: a tier's members earn its multiplier on the base points."""

from __future__ import annotations

from sqlalchemy import select

from hub.db import utcnow
from hub.models import PointEntry


def add_tier(api, name, threshold, **fields):
    response = api.post("/api/v1/tiers", json={"name": name, "threshold": threshold, **fields})
    assert response.status_code == 201, response.json
    return response.json


def send_order(api, external_id, total):
    now = utcnow().isoformat()
    response = api.post(
        "/api/v1/orders",
        json={
            "source": "pos",
            "external_id": external_id,
            "subtotal": str(total),
            "total": str(total),
            "financial_status": "paid",
            "placed_at": now,
            "paid_at": now,
            "customer": {"phone": "0912345678"},
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def awards(hub, order_id):
    with hub.db.session() as session:
        rows = session.scalars(
            select(PointEntry).where(PointEntry.order_id == order_id).order_by(PointEntry.id)
        )
        return {row.rule: row.points for row in rows}


def test_the_plugin_is_installed_through_the_entry_point(hub):
    assert hub.pm.get_plugin("tier_multiplier") is not None


def test_a_member_of_a_tier_earns_its_multiplier_on_the_base_points(api, hub, member):
    add_tier(api, "Vàng", 0, earn_multiplier="1.5")
    api.post("/api/v1/tiers/reevaluate")

    order = send_order(api, "A-1", 1_000_000)  # 1,000 base points at 1 per 1,000đ

    assert awards(hub, order["id"]) == {"base": 1000, "tier_multiplier": 500}


def test_the_order_that_lifts_a_member_earns_at_the_old_tiers_rate(api, hub, member):
    add_tier(api, "Vàng", 1000, basis="points", earn_multiplier=2)

    first = send_order(api, "A-1", 1_200_000)
    second = send_order(api, "A-2", 100_000)

    assert awards(hub, first["id"]) == {"base": 1200}
    assert awards(hub, second["id"]) == {"base": 100, "tier_multiplier": 100}


def test_a_multiplier_of_one_adds_nothing(api, hub, member):
    add_tier(api, "Đồng", 0)
    api.post("/api/v1/tiers/reevaluate")

    order = send_order(api, "A-1", 500_000)

    assert awards(hub, order["id"]) == {"base": 500}


def test_extra_points_are_rounded_down(api, hub, member):
    add_tier(api, "Bạc", 0, earn_multiplier="1.25")
    api.post("/api/v1/tiers/reevaluate")

    order = send_order(api, "A-1", 7_000)  # 7 base points: 1.75 extra

    assert awards(hub, order["id"]) == {"base": 7, "tier_multiplier": 1}


def test_the_merchant_can_switch_it_off_in_the_program(api, hub, member):
    add_tier(api, "Vàng", 0, earn_multiplier=2)
    api.post("/api/v1/tiers/reevaluate")
    response = api.put("/api/v1/program", json={"rules": {"tier_multiplier": {"enabled": False}}})
    assert response.status_code in (200, 201), response.json

    order = send_order(api, "A-1", 1_000_000)

    assert awards(hub, order["id"]) == {"base": 1000}
