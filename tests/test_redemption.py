"""Redeeming points: one transaction debits the ledger and issues a voucher."""

from __future__ import annotations

import uuid

import pytest

from hub import ledger
from hub.hookspecs import hookimpl
from hub.models import Member


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
