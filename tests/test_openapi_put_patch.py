"""A PUT or PATCH names what it changes: no body changes nothing; a PATCH, only its fields."""

import pytest

EMPTY_BODIES = [
    pytest.param({}, id="no-body"),
    pytest.param({"data": "{}", "content_type": "application/json"}, id="empty-object"),
    pytest.param({"data": " \n", "content_type": "application/json"}, id="whitespace"),
    pytest.param({"data": "{" + " " * 500 + "}", "content_type": "application/json"}, id="wide"),
]


@pytest.fixture
def hub_config():
    return {"HUB_WEBHOOKS_ALLOW_LOOPBACK": True}


@pytest.fixture
def saved_program(api):
    body = {"earn_rate": {"amount": "1000", "points": 5}, "pending_days": 3}
    response = api.put("/api/v1/program", json=body)
    assert response.status_code == 200, response.json
    return response.json


def _refused_as_empty(response) -> None:
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "empty_body"


@pytest.mark.parametrize("send", EMPTY_BODIES)
def test_a_put_of_the_program_without_a_body_is_refused_and_changes_nothing(
    api, saved_program, send
):
    _refused_as_empty(api.put("/api/v1/program", **send))

    program = api.get("/api/v1/program").json
    assert program["version"] == saved_program["version"]
    assert program["settings"]["earn_rate"] == {"amount": "1000", "points": 5}
    assert program["settings"]["pending_days"] == 3


@pytest.mark.parametrize("send", EMPTY_BODIES)
def test_a_patch_of_the_program_without_a_body_is_refused(api, saved_program, send):
    _refused_as_empty(api.patch("/api/v1/program", **send))
    assert api.get("/api/v1/program").json["version"] == saved_program["version"]


def test_a_patch_of_the_program_changes_only_the_fields_it_names(api, saved_program):
    response = api.patch("/api/v1/program", json={"earn_rate": {"amount": "2000"}})

    assert response.status_code == 200, response.json
    settings = response.json["settings"]
    assert settings["earn_rate"] == {"amount": "2000", "points": 5}
    assert settings["pending_days"] == 3
    assert response.json["version"] == saved_program["version"] + 1
    assert api.get("/api/v1/program").json["settings"] == settings


def test_a_patch_of_the_program_keeps_the_rules_it_does_not_name(api):
    api.put("/api/v1/program", json={"rules": {"first_order": {"points": 200}}})

    api.patch("/api/v1/program", json={"pending_days": 7})

    settings = api.get("/api/v1/program").json["settings"]
    assert settings["rules"]["first_order"]["points"] == 200
    assert settings["pending_days"] == 7


def test_a_patch_of_the_program_is_validated_as_a_whole(api, saved_program):
    response = api.patch("/api/v1/program", json={"expiry": {"policy": "days"}})

    assert response.status_code == 422
    assert api.get("/api/v1/program").json["version"] == saved_program["version"]


def test_a_put_of_the_program_replaces_it_and_says_so(api, saved_program):
    response = api.put("/api/v1/program", json={"pending_days": 1})

    assert response.status_code == 200
    assert response.json["settings"]["earn_rate"] == {"amount": "1000", "points": 1}


@pytest.mark.parametrize("send", EMPTY_BODIES)
def test_tier_settings_without_a_body_are_refused(api, send):
    before = api.get("/api/v1/tiers/settings").json
    _refused_as_empty(api.put("/api/v1/tiers/settings", **send))
    _refused_as_empty(api.patch("/api/v1/tiers/settings", **send))
    assert api.get("/api/v1/tiers/settings").json == before


def test_a_put_of_tier_settings_needs_both_fields_and_changes_nothing_without_them(api):
    response = api.put("/api/v1/tiers/settings", json={"near_share": "0.5"})

    assert response.status_code == 422
    assert "downgrade_policy" in response.json["error"]["details"]
    assert api.get("/api/v1/tiers/settings").json["near_share"] == "0.9"


def test_a_patch_of_tier_settings_changes_only_the_field_it_names(api):
    api.put("/api/v1/tiers/settings", json={"downgrade_policy": "review", "near_share": "0.8"})

    response = api.patch("/api/v1/tiers/settings", json={"near_share": "0.5"})

    assert response.status_code == 200
    assert response.json == {"downgrade_policy": "review", "near_share": "0.5"}


@pytest.mark.parametrize("send", EMPTY_BODIES)
def test_a_patch_of_the_merchant_without_a_body_is_refused(api, send):
    before = api.get("/api/v1/merchant").json
    _refused_as_empty(api.patch("/api/v1/merchant", **send))
    assert api.get("/api/v1/merchant").json == before


def test_a_patch_of_the_merchant_changes_only_the_field_it_names(api):
    before = api.get("/api/v1/merchant").json

    response = api.patch("/api/v1/merchant", json={"name": "Cửa hàng Mới"})

    assert response.status_code == 200
    assert response.json == {**before, "name": "Cửa hàng Mới"}


@pytest.fixture
def reward(api):
    body = {"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 500}
    response = api.post("/api/v1/rewards", json=body)
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("send", EMPTY_BODIES)
def test_a_patch_of_a_reward_without_a_body_is_refused(api, reward, send):
    _refused_as_empty(api.patch(f"/api/v1/rewards/{reward['id']}", **send))
    assert api.get(f"/api/v1/rewards/{reward['id']}").json == reward


def test_a_patch_of_a_reward_changes_only_the_field_it_names(api, reward):
    response = api.patch(f"/api/v1/rewards/{reward['id']}", json={"points_cost": 700})

    assert response.status_code == 200
    changed = {k: v for k, v in response.json.items() if response.json[k] != reward[k]}
    assert set(changed) <= {"points_cost", "updated_at"}
    assert changed["points_cost"] == 700


@pytest.fixture
def endpoint(api):
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["member.created"]}
    response = api.post("/api/v1/webhook-endpoints", json=body)
    assert response.status_code == 201, response.json
    return {k: v for k, v in response.json.items() if k != "secret"}


@pytest.mark.parametrize("send", EMPTY_BODIES)
def test_a_patch_of_a_webhook_endpoint_without_a_body_is_refused(api, endpoint, send):
    _refused_as_empty(api.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}", **send))
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}").json == endpoint


def test_a_patch_of_a_webhook_endpoint_changes_only_the_field_it_names(api, endpoint):
    path = f"/api/v1/webhook-endpoints/{endpoint['id']}"

    response = api.patch(path, json={"description": "CRM"})

    assert response.status_code == 200
    changed = {k for k, v in response.json.items() if v != endpoint[k]}
    assert changed <= {"description", "updated_at"}
    assert response.json["description"] == "CRM"


def test_an_empty_body_on_a_missing_resource_is_still_refused_before_it_is_looked_up(api):
    _refused_as_empty(api.patch("/api/v1/rewards/424242", json={}))


def test_the_document_says_put_and_patch_bodies_name_a_field(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, item in spec["paths"].items():
        for method in ("put", "patch"):
            if method in item and "requestBody" in item[method]:
                body = item[method]["requestBody"]
                assert body["required"] is True, f"{method} {path}"
                schema = body["content"]["application/json"]["schema"]
                assert schema["minProperties"] == 1, f"{method} {path}"
