"""Bearer API keys: missing, malformed, unknown and revoked keys answer 401."""

import pytest

from hub.merchants.accounts import revoke_api_key


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer hub_nope_nope", "Bearer not-a-key"],
)
def test_requests_without_a_valid_key_are_401(client, merchant, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/members", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_with_a_known_prefix_but_wrong_secret_is_401(client, merchant):
    _, prefix, _secret = merchant.api_key.split("_", 2)
    response = client.get(
        "/api/v1/members", headers={"Authorization": f"Bearer hub_{prefix}_wrongsecret"}
    )
    assert response.status_code == 401


def test_a_revoked_key_stops_working_at_once(client, hub, merchant, api):
    assert api.get("/api/v1/merchant").status_code == 200
    with hub.db.transaction() as session:
        revoke_api_key(session, merchant.api_key.split("_")[1])
    assert api.get("/api/v1/merchant").status_code == 401


def test_only_a_hash_of_the_key_is_stored(hub, merchant):
    from sqlalchemy import select

    from hub.models import ApiKey

    with hub.db.session() as session:
        stored = session.scalars(select(ApiKey)).one()
    secret = merchant.api_key.split("_", 2)[2]
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64


def test_the_openapi_spec_and_docs_need_no_key(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_merchant_endpoint_shows_the_keys_merchant(api, merchant):
    body = api.get("/api/v1/merchant").json
    assert body["id"] == merchant.id
    assert (body["currency"], body["timezone"], body["locale"]) == (
        "VND",
        "Asia/Ho_Chi_Minh",
        "vi",
    )


def test_merchant_timezone_must_be_a_real_zone(api):
    response = api.patch("/api/v1/merchant", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "timezone" in response.json["error"]["details"]
