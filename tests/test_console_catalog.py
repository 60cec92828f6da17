"""The console's Tiers and Rewards pages: the ladder and the catalog, with their counts."""

from __future__ import annotations

import pytest
from console_support import csrf
from console_support import make_staff
from console_support import sign_in

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def send(client, path, **data):
    return client.post(path, data={**data, "csrf_token": csrf(client, "/console/tiers")})


def a_tier(api, name, threshold, position=None):
    body = {"name": name, "threshold": threshold, "basis": "spend"}
    if position is not None:
        body["position"] = position
    response = api.post("/api/v1/tiers", json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_with_no_tiers_the_page_says_how_to_start(client, manager):
    page = client.get("/console/tiers").get_data(as_text=True)
    assert "No tiers yet" in page or "Chưa có hạng" in page


def test_adding_a_tier_creates_it_as_the_api_would(client, manager, api):
    response = send(
        client,
        "/console/tiers",
        name="Bạc",
        threshold="2000000",
        basis="spend",
        window="lifetime",
        earn_multiplier="1.5",
    )
    assert response.status_code == 302
    (tier,) = api.get("/api/v1/tiers").json["data"]
    assert (tier["name"], tier["threshold"], tier["earn_multiplier"]) == ("Bạc", "2000000", "1.5")


def test_the_ladder_counts_the_members_in_each_tier(client, manager, api, member):
    a_tier(api, "Đồng", "0")
    page = client.get("/console/tiers").get_data(as_text=True)
    assert page.count('<td class="num">1</td>') == 1


@pytest.mark.parametrize(
    "form",
    [
        {"name": "", "threshold": "10"},
        {"name": "Vàng", "threshold": "abc"},
        {"name": "Vàng", "threshold": "10", "earn_multiplier": "0.5"},
        {"name": "Vàng", "threshold": "10", "basis": "likes"},
    ],
)
def test_a_bad_tier_is_refused_with_the_field_named(client, manager, api, form):
    response = send(client, "/console/tiers", **form)
    assert response.status_code == 422
    assert 'class="note bad errors"' in response.get_data(as_text=True)
    assert api.get("/api/v1/tiers").json["data"] == []


def test_a_tier_named_twice_is_refused(client, manager, api):
    a_tier(api, "Bạc", "100")
    response = send(client, "/console/tiers", name="Bạc", threshold="500")
    assert response.status_code == 409


def test_editing_a_tier_saves_its_fields(client, manager, api):
    tier = a_tier(api, "Bạc", "100")
    page = client.get(f"/console/tiers/{tier['id']}").get_data(as_text=True)
    assert 'value="100"' in page
    response = send(
        client,
        f"/console/tiers/{tier['id']}",
        action="save",
        name="Bạc+",
        threshold="150",
        basis="spend",
        window="lifetime",
        earn_multiplier="2",
    )
    assert response.status_code == 302
    saved = api.get(f"/api/v1/tiers/{tier['id']}").json
    assert (saved["name"], saved["threshold"], saved["earn_multiplier"]) == ("Bạc+", "150", "2")


def test_tiers_move_when_the_ladder_still_rises(client, manager, api):
    low = a_tier(api, "Thường", "0")
    api.post("/api/v1/tiers", json={"name": "Điểm", "threshold": "100", "basis": "points"})
    response = send(client, f"/console/tiers/{low['id']}", action="up")
    assert response.status_code == 302
    names = [t["name"] for t in api.get("/api/v1/tiers").json["data"]]
    assert names == ["Điểm", "Thường"]


def test_a_move_that_breaks_the_ladder_is_refused(client, manager, api):
    low = a_tier(api, "Bạc", "100")
    a_tier(api, "Vàng", "500")
    response = send(client, f"/console/tiers/{low['id']}", action="up")
    assert response.status_code == 422
    assert [t["name"] for t in api.get("/api/v1/tiers").json["data"]] == ["Bạc", "Vàng"]
    top = send(client, f"/console/tiers/{low['id']}", action="down")
    assert top.status_code == 422


def test_deleting_a_tier(client, manager, api):
    tier = a_tier(api, "Bạc", "100")
    assert send(client, f"/console/tiers/{tier['id']}", action="delete").status_code == 302
    assert api.get("/api/v1/tiers").json["data"] == []


def a_reward(api, name="Giảm 50k", **extra):
    body = {"name": name, "kind": "amount_off", "value": "50000", "points_cost": 500, **extra}
    response = api.post("/api/v1/rewards", json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_with_no_rewards_the_page_says_how_to_start(client, manager):
    page = client.get("/console/rewards").get_data(as_text=True)
    assert "No rewards yet" in page or "Chưa có quà" in page


def test_adding_a_reward(client, manager, api):
    response = send(
        client,
        "/console/rewards",
        name="Giảm 50k",
        kind="amount_off",
        value="50000",
        points_cost="500",
        stock="",
        active="on",
    )
    assert response.status_code == 302
    (reward,) = api.get("/api/v1/rewards").json["data"]
    assert (reward["value"], reward["points_cost"], reward["stock"]) == ("50000", 500, None)
    assert reward["active"] is True


@pytest.mark.parametrize(
    "form",
    [
        {"name": "X", "kind": "amount_off", "points_cost": "0", "value": "1"},
        {"name": "X", "kind": "gift", "points_cost": "10"},
        {"name": "X", "kind": "free_product", "points_cost": "10"},
    ],
)
def test_a_bad_reward_is_refused(client, manager, api, form):
    response = send(client, "/console/rewards", **form)
    assert response.status_code == 422
    assert api.get("/api/v1/rewards").json["data"] == []


def test_the_catalog_counts_redemptions_and_switches_rewards_off(client, manager, api, member):
    reward = a_reward(api, points_cost=10)
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 100, "reason": "x"})
    redeemed = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    )
    assert redeemed.status_code == 201, redeemed.json
    page = client.get("/console/rewards").get_data(as_text=True)
    assert '<td class="num">1</td>' in page
    assert send(client, f"/console/rewards/{reward['id']}", action="off").status_code == 302
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["active"] is False
    assert send(client, f"/console/rewards/{reward['id']}", action="on").status_code == 302
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["active"] is True


def test_editing_a_reward(client, manager, api):
    reward = a_reward(api)
    response = send(
        client,
        f"/console/rewards/{reward['id']}",
        action="save",
        name="Giảm 60k",
        kind="amount_off",
        value="60000",
        points_cost="600",
        active="on",
    )
    assert response.status_code == 302
    saved = api.get(f"/api/v1/rewards/{reward['id']}").json
    assert (saved["name"], saved["value"], saved["points_cost"]) == ("Giảm 60k", "60000", 600)


@pytest.mark.parametrize("payload", XSS)
def test_reward_and_tier_names_are_escaped(client, manager, api, payload):
    a_reward(api, name=payload)
    a_tier(api, payload, "10")
    for path in ("/console/rewards", "/console/tiers"):
        page = client.get(path).get_data(as_text=True)
        assert payload not in page
        assert "&lt;" in page


def test_another_merchants_tier_and_reward_are_not_found(client, hub, api, other_merchant):
    tier = a_tier(api, "Titan riêng", "100")
    reward = a_reward(api)
    stranger = make_staff(hub, other_merchant.id, "owner")
    sign_in(client, stranger.email)
    for path in (f"/console/tiers/{tier['id']}", f"/console/rewards/{reward['id']}"):
        assert client.get(path).status_code == 404
        assert send(client, path, action="delete" if "tiers" in path else "off").status_code == 404
    assert "Titan riêng" not in client.get("/console/tiers").get_data(as_text=True)
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["active"] is True
    assert len(api.get("/api/v1/tiers").json["data"]) == 1


def test_a_cashier_reaches_neither_page(client, hub, merchant, api):
    tier = a_tier(api, "Bạc", "100")
    cashier = make_staff(hub, merchant.id, "cashier")
    sign_in(client, cashier.email)
    for path in ("/console/tiers", "/console/rewards", f"/console/tiers/{tier['id']}"):
        assert client.get(path).status_code == 403
    token = csrf(client, "/console/counter")
    response = client.post(
        f"/console/tiers/{tier['id']}", data={"action": "delete", "csrf_token": token}
    )
    assert response.status_code == 403
    assert len(api.get("/api/v1/tiers").json["data"]) == 1


def test_the_forms_need_their_csrf_token(client, manager, api):
    response = client.post(
        "/console/rewards",
        data={"name": "X", "kind": "amount_off", "value": "1", "points_cost": "5"},
    )
    assert response.status_code == 400
    assert api.get("/api/v1/rewards").json["data"] == []
