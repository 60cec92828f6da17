"""Redeeming points: one transaction debits the ledger and issues a voucher."""

from __future__ import annotations

import uuid

import pytest

from hub import hookimpl
from hub.models import Member
from hub.points import ledger


def give(hub, member_id, points):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}")


def add_reward(api, **fields):
    body = {"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500}
    response = api.post("/api/v1/rewards", json={**body, **fields})
    assert response.status_code == 201, response.json
    return response.json


def redeem(api, member_id, reward_id):
    return api.post(f"/api/v1/members/{member_id}/redemptions", json={"reward_id": reward_id})


def invariant_holds(hub, member_id) -> bool:
    with hub.db.session() as session:
        member = session.get(Member, member_id)
        return member.points_balance == ledger.balance_from_entries(
            session, member_id
        ) and ledger.lots_remaining(session, member_id) == max(member.points_balance, 0)


@pytest.fixture
def rich(hub, member):
    give(hub, member["id"], 1200)
    return member


def test_redeeming_debits_the_points_and_issues_a_voucher(api, hub, rich, recorded_events):
    reward = add_reward(api, validity_days=30)

    response = redeem(api, rich["id"], reward["id"])

    assert response.status_code == 201, response.json
    body = response.json
    assert (body["points_spent"], body["balance"]) == (500, 700)
    voucher = body["voucher"]
    assert voucher["status"] == "issued" and voucher["points"] == 500
    assert (voucher["kind"], voucher["value"], voucher["reward_name"]) == (
        "amount_off",
        "50000",
        "Giảm 50.000đ",
    )
    assert voucher["expires_at"] is not None
    assert api.get(f"/api/v1/members/{rich['id']}").json["points"]["available"] == 700
    assert recorded_events.types()[-2:] == ["points.redeemed", "voucher.issued"]
    issued = recorded_events.events[-1].data
    assert issued["code"] == voucher["code"] and issued["member_id"] == rich["id"]
    assert invariant_holds(hub, rich["id"])


def test_too_few_points_answer_409_and_change_nothing(api, hub, member):
    give(hub, member["id"], 499)
    reward = add_reward(api, stock=3)

    response = redeem(api, member["id"], reward["id"])

    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_points"
    assert response.json["error"]["details"] == {"available": 499, "needed": 500}
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["stock"] == 3
    assert api.get(f"/api/v1/members/{member['id']}/vouchers").json["data"] == []
    assert invariant_holds(hub, member["id"])


def test_an_inactive_reward_cannot_be_redeemed(api, rich):
    reward = add_reward(api, active=False)

    response = redeem(api, rich["id"], reward["id"])

    assert response.status_code == 422
    assert response.json["error"]["code"] == "reward_inactive"


def test_another_merchants_reward_is_not_found(api, other_api, rich):
    foreign = add_reward(other_api)

    assert redeem(api, rich["id"], foreign["id"]).status_code == 404


# -- the hook -----------------------------------------------------------------


class OnePerDay:
    """Refuses every redemption with a reason the member can read."""

    __name__ = "one-per-day"

    def __init__(self):
        self.seen = []

    @hookimpl
    def check_redemption(self, member, reward):
        self.seen.append((member.id, reward.id))
        return "Mỗi ngày chỉ đổi một phần quà."


def test_hook_check_redemption_reason_refuses_with_422_and_moves_no_points(api, hub, rich):
    plugin = OnePerDay()
    hub.pm.register(plugin, name="one-per-day")
    reward = add_reward(api)

    response = redeem(api, rich["id"], reward["id"])

    assert response.status_code == 422
    assert response.json["error"]["code"] == "redemption_refused"
    assert response.json["error"]["message"] == "Mỗi ngày chỉ đổi một phần quà."
    assert plugin.seen == [(rich["id"], reward["id"])]
    assert api.get(f"/api/v1/members/{rich['id']}").json["points"]["available"] == 1200


class Allows:
    __name__ = "allows"

    @hookimpl
    def check_redemption(self):
        return None


def test_hook_check_redemption_none_lets_the_redemption_through(api, hub, rich):
    hub.pm.register(Allows(), name="allows")

    assert redeem(api, rich["id"], add_reward(api)["id"]).status_code == 201


# -- limits ---------------------------------------------------------------------


def test_a_tier_restricted_reward_is_open_to_that_tier_and_those_above(api, hub, rich):
    gold = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 1000, "basis": "points"})
    diamond = api.post(
        "/api/v1/tiers", json={"name": "Kim Cương", "threshold": 5000, "basis": "points"}
    )
    reward = add_reward(api, min_tier_id=gold.json["id"])
    vip = api.post("/api/v1/members", json={"phone": "0987654321"}).json
    give(hub, vip["id"], 600)
    api.put(f"/api/v1/members/{vip['id']}/tier/override", json={"tier_id": diamond.json["id"]})

    assert api.get(f"/api/v1/members/{rich['id']}").json["tier"]["name"] == "Vàng"
    assert redeem(api, rich["id"], reward["id"]).status_code == 201
    assert redeem(api, vip["id"], reward["id"]).status_code == 201


def test_a_member_below_the_required_tier_is_refused_with_422(api, rich):
    gold = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 5000, "basis": "points"})
    reward = add_reward(api, min_tier_id=gold.json["id"])

    response = redeem(api, rich["id"], reward["id"])

    assert response.status_code == 422
    assert response.json["error"]["code"] == "tier_required"
    assert "Vàng" in response.json["error"]["message"]


def test_stock_runs_out(api, hub, member):
    give(hub, member["id"], 5000)
    reward = add_reward(api, stock=2)

    statuses = [redeem(api, member["id"], reward["id"]).status_code for _ in range(3)]

    assert statuses == [201, 201, 409]
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["stock"] == 0
    assert api.get(f"/api/v1/members/{member['id']}").json["points"]["available"] == 4000


def test_a_cancelled_voucher_does_not_count_towards_the_per_member_limit(api, hub, member):
    give(hub, member["id"], 5000)
    reward = add_reward(api, per_member_limit=1)
    first = redeem(api, member["id"], reward["id"]).json["voucher"]

    refused = redeem(api, member["id"], reward["id"])
    api.post(f"/api/v1/vouchers/{first['code']}/cancel", json={})
    again = redeem(api, member["id"], reward["id"])

    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "redemption_limit_reached"
    assert again.status_code == 201


def test_pending_points_cannot_be_spent_yet(api, hub, member):
    from datetime import timedelta

    from hub.db import utcnow

    with hub.db.transaction() as session:
        ledger.credit(
            session,
            session.get(Member, member["id"]),
            800,
            kind="earn",
            key="pending-1",
            available_at=utcnow() + timedelta(days=7),
        )
    reward = add_reward(api)

    response = redeem(api, member["id"], reward["id"])

    assert response.status_code == 409
    assert response.json["error"]["details"]["available"] == 0


def test_a_merged_member_cannot_redeem(api, hub, rich):
    other = api.post("/api/v1/members", json={"phone": "0987654321"}).json
    api.post(f"/api/v1/members/{other['id']}/merge", json={"from_member_id": rich["id"]})
    reward = add_reward(api)

    response = redeem(api, rich["id"], reward["id"])

    assert response.status_code == 422
    assert response.json["error"]["code"] == "member_not_active"


def test_a_retried_redemption_with_the_same_idempotency_key_issues_one_voucher(api, rich):
    reward = add_reward(api)
    headers = {"Idempotency-Key": "widget-7f3a"}

    first = api.post(
        f"/api/v1/members/{rich['id']}/redemptions",
        json={"reward_id": reward["id"]},
        headers=headers,
    )
    retry = api.post(
        f"/api/v1/members/{rich['id']}/redemptions",
        json={"reward_id": reward["id"]},
        headers=headers,
    )

    assert (first.status_code, retry.status_code) == (201, 201)
    assert first.json["voucher"]["code"] == retry.json["voucher"]["code"]
    assert len(api.get(f"/api/v1/members/{rich['id']}/vouchers").json["data"]) == 1
