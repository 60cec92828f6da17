"""The rewards catalog: each kind, its checks, and what editing or deleting does."""

from __future__ import annotations

import uuid

import pytest

from hub.models import Member
from hub.points import ledger

AMOUNT_OFF = {"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500}


def add_reward(api, **fields):
    response = api.post("/api/v1/rewards", json={**AMOUNT_OFF, **fields})
    assert response.status_code == 201, response.json
    return response.json


def give(hub, member_id, points):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}")


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "amount_off", "value": "50000", "min_order": "300000"},
        {"kind": "percent_off", "value": "10", "max_discount": "100000"},
        {"kind": "percent_off", "value": "15"},
        {"kind": "free_shipping", "max_discount": "30000"},
        {"kind": "free_product", "product_sku": "TUI-VAI-01"},
        {"kind": "store_credit", "value": "20000"},
    ],
)
def test_every_kind_of_reward_can_be_created(api, fields):
    body = {"name": "Quà", "points_cost": 300, **fields}

    response = api.post("/api/v1/rewards", json=body)

    assert response.status_code == 201, response.json
    reward = response.json
    assert reward["kind"] == fields["kind"] and reward["active"] is True
    assert reward["stock"] is None and reward["per_member_limit"] is None


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"kind": "amount_off", "value": None}, "value"),
        ({"kind": "amount_off", "value": "0"}, "value"),
        ({"kind": "percent_off", "value": "120"}, "value"),
        ({"kind": "free_product", "product_sku": None}, "product_sku"),
        ({"kind": "store_credit", "value": None}, "value"),
        ({"kind": "lottery"}, "kind"),
        ({"points_cost": 0}, "points_cost"),
        ({"points_cost": 10**13}, "points_cost"),
        ({"value": "1e20"}, "value"),
        ({"validity_days": 0}, "validity_days"),
        ({"stock": -1}, "stock"),
        ({"per_member_limit": 0}, "per_member_limit"),
        ({"min_order": "-5"}, "min_order"),
        ({"max_discount": "0"}, "max_discount"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_reward_that_does_not_fit_its_kind_is_refused_with_the_field_named(api, fields, field):
    response = api.post("/api/v1/rewards", json={**AMOUNT_OFF, **fields})

    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]


def test_the_catalog_lists_by_id_and_filters_active_rewards(api):
    first = add_reward(api, name="A")
    add_reward(api, name="B", active=False)
    third = add_reward(api, name="C")

    active = api.get("/api/v1/rewards?active=true").json["data"]
    page = api.get("/api/v1/rewards?limit=2").json
    rest = api.get(f"/api/v1/rewards?limit=2&cursor={page['next_cursor']}").json

    assert [r["id"] for r in active] == [first["id"], third["id"]]
    assert [r["name"] for r in page["data"] + rest["data"]] == ["A", "B", "C"]


def test_editing_a_reward_leaves_vouchers_already_issued_as_they_were(api, hub, member):
    reward = add_reward(api)
    give(hub, member["id"], 500)
    code = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    ).json["voucher"]["code"]

    response = api.patch(f"/api/v1/rewards/{reward['id']}", json={"value": "70000"})

    assert response.status_code == 200 and response.json["value"] == "70000"
    assert api.get(f"/api/v1/vouchers/{code}").json["value"] == "50000"


def test_a_reward_nobody_redeemed_can_be_deleted(api):
    reward = add_reward(api)

    assert api.delete(f"/api/v1/rewards/{reward['id']}").status_code == 204
    assert api.get(f"/api/v1/rewards/{reward['id']}").status_code == 404


def test_a_redeemed_reward_is_deactivated_not_deleted(api, hub, member):
    reward = add_reward(api)
    give(hub, member["id"], 500)
    api.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]})

    response = api.delete(f"/api/v1/rewards/{reward['id']}")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "reward_in_use"
    assert api.patch(f"/api/v1/rewards/{reward['id']}", json={"active": False}).status_code == 200


def test_a_tier_restriction_must_name_one_of_the_merchants_tiers(api, other_api):
    foreign = other_api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 1}).json

    response = api.post("/api/v1/rewards", json={**AMOUNT_OFF, "min_tier_id": foreign["id"]})

    assert response.status_code == 404


def test_a_reward_changed_to_a_tier_that_does_not_exist_answers_404_and_keeps_its_terms(api):
    reward = add_reward(api)

    response = api.patch(f"/api/v1/rewards/{reward['id']}", json={"min_tier_id": 3694})

    assert response.status_code == 404
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["min_tier_id"] is None


def test_a_tier_a_reward_requires_cannot_be_deleted(api):
    tier = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 1}).json
    reward = add_reward(api, min_tier_id=tier["id"])

    response = api.delete(f"/api/v1/tiers/{tier['id']}")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "tier_in_use"
    assert response.json["error"]["details"] == {"rewards": [reward["id"]]}


def test_another_merchants_reward_is_not_found(api, other_api):
    reward = add_reward(api)

    assert other_api.get(f"/api/v1/rewards/{reward['id']}").status_code == 404
    assert (
        other_api.patch(f"/api/v1/rewards/{reward['id']}", json={"active": False}).status_code
        == 404
    )
    assert other_api.delete(f"/api/v1/rewards/{reward['id']}").status_code == 404
    assert other_api.get("/api/v1/rewards").json["data"] == []
