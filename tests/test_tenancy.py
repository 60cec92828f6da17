"""Every endpoint, walked with a second merchant's key, shows nothing of the first."""

import io
import re

import pytest

# Endpoint arguments we know how to fill with the first merchant's objects.
# A new endpoint with a new argument fails test_every_endpoint_argument_is_known
# until it is added here, so no endpoint escapes the walk.
KNOWN_ARGUMENTS = {
    "member_id",
    "order_id",
    "connection_id",
    "endpoint_id",
    "delivery_id",
    "tier_id",
    "reward_id",
    "code",
    "key_id",
    "message_id",
    "channel",
    "job_id",
    "segment_id",
    "campaign_id",
    "import_id",
    "what",  # the action of a connector's own route (setup, backfill), not an object
}


@pytest.fixture
def first_merchant_objects(api, hub):
    # An outbound webhook endpoint that gets one delivery: the member.created below.
    endpoint = api.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.invalid/hub", "event_types": ["member.created"]},
    ).json
    member = api.post(
        "/api/v1/members", json={"phone": "0912345678", "email": "lan@example.vn", "name": "Lan"}
    ).json
    connection = api.post(
        "/api/v1/connections", json={"connector": "api", "secrets": {"token": "s3cr3t"}}
    ).json
    # An automatic message (points earned on the order below) through the console gateway.
    console = api.post("/api/v1/connections", json={"connector": "console"}).json
    api.put(
        "/api/v1/messaging/settings",
        json={
            "channel_order": ["sms"],
            "connections": {"sms": console["id"]},
            "quiet_hours": {"enabled": False},
            "kinds": {"points_earned": {"enabled": True}},
        },
    )
    order = api.post(
        "/api/v1/orders",
        json={
            "connection_id": connection["id"],
            "external_id": "A-1001",
            "subtotal": "250000",
            "total": "250000",
            "financial_status": "paid",
            "placed_at": "2026-11-01T10:00:00+07:00",
            "customer": {"phone": "0912345678"},
        },
    ).json
    deliveries = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").json
    tier = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": "100"}).json
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Quà", "kind": "amount_off", "value": "50000", "points_cost": 100},
    ).json
    redeemed = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    )
    pos = api.post("/api/v1/connections", json={"connector": "pos"}).json
    pos_key = api.post(f"/api/v1/pos/connections/{pos['id']}/keys").json
    segment = api.post(
        "/api/v1/segments",
        json={"name": "VIP", "conditions": {"all": [{"kind": "tags", "tags": ["vip"]}]}},
    ).json
    campaign = api.post(
        "/api/v1/campaigns",
        json={
            "name": "Tuần lễ vàng",
            "segment_id": segment["id"],
            "channel": "sms",
            "templates": {"vi": "Chào {name}"},
        },
    ).json
    # A members import with a refused row, so its error file exists too.
    imported = api.client.post(
        "/api/v1/members/imports",
        headers=api.merchant.headers,
        data={"file": (io.BytesIO(b"sdt,ho_ten\nnot a phone,X\n"), "m.csv")},
        content_type="multipart/form-data",
    ).json
    # A tier review waiting in the job table, as under ``hub serve`` without Redis.
    hub.jobs.use_job_table()
    review = api.post("/api/v1/tiers", json={"name": "Kim Cương", "threshold": "500"}).json
    return {
        "job_id": review["review_job_id"],
        "segment_id": segment["id"],
        "campaign_id": campaign["id"],
        "import_id": imported["id"],
        "tier_id": tier["id"],
        "reward_id": reward["id"],
        "code": redeemed.json["voucher"]["code"],
        "key_id": pos_key["id"],
        "member_id": member["id"],
        "order_id": order["id"],
        "connection_id": connection["id"],
        "endpoint_id": endpoint["id"],
        "delivery_id": deliveries["data"][0]["id"],
        "message_id": api.get(f"/api/v1/members/{member['id']}/messages").json["data"][0]["id"],
        "channel": "sms",
    }


def api_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        and rule.endpoint != "api-docs.openapi_json"
        and rule.rule not in ("/api/v1/docs",)
    ]


def fill(rule, values):
    values = {"what": "setup", **values}
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_every_endpoint_argument_is_known(app):
    unknown = {arg for rule in api_rules(app) for arg in rule.arguments} - KNOWN_ARGUMENTS
    assert unknown == set(), f"add these to the tenancy walk: {sorted(unknown)}"


def test_second_merchant_gets_404_for_every_object_of_the_first(
    app, api, other_api, first_merchant_objects
):
    secrets = ["0912345678", "lan@example.vn", "A-1001", "s3cr3t", "250000"]
    walked = 0
    for rule in api_rules(app):
        if not rule.arguments:
            continue
        path = fill(rule, first_merchant_objects)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = other_api._call(method, path, json={})
            walked += 1
            text = response.get_data(as_text=True)
            assert not any(s in text for s in secrets), f"{method} {path} leaked: {text[:200]}"
            allowed = {404} if method in ("GET", "DELETE") else {404, 422}
            assert response.status_code in allowed, f"{method} {path}: {response.status_code}"
    assert walked >= 8

    # And the first merchant's objects are untouched.
    member = api.get(f"/api/v1/members/{first_merchant_objects['member_id']}")
    assert member.status_code == 200 and member.json["phone"] == "+84912345678"
    assert api.get(f"/api/v1/orders/{first_merchant_objects['order_id']}").status_code == 200


#: Lists that hold rows of the merchant's own from its creation (its API key's record).
OWN_FROM_THE_START = {"/api/v1/audit"}


def test_second_merchant_lists_show_none_of_the_first(app, api, other_api, first_merchant_objects):
    for rule in api_rules(app):
        if rule.arguments or "GET" not in rule.methods:
            continue
        response = other_api.get(rule.rule)
        assert response.status_code == 200, rule.rule
        body = response.json
        items = body["data"] if isinstance(body, dict) and "data" in body else body
        if rule.rule in OWN_FROM_THE_START:
            first = {row["id"] for row in api.get(rule.rule).json["data"]}
            assert first and first.isdisjoint(row["id"] for row in items), rule.rule
        elif isinstance(items, list):
            assert items == [], f"GET {rule.rule} shows another merchant's rows"
        else:
            assert "0912345678" not in response.get_data(as_text=True)


def test_second_merchant_cannot_attach_the_first_merchants_connection(
    other_api, first_merchant_objects
):
    member = other_api.post("/api/v1/members", json={"phone": "0987654321"}).json
    response = other_api.post(
        f"/api/v1/members/{member['id']}/identities",
        json={"connection_id": first_merchant_objects["connection_id"], "external_id": "x"},
    )
    assert response.status_code == 404

    order = other_api.post(
        "/api/v1/orders",
        json={
            "connection_id": first_merchant_objects["connection_id"],
            "external_id": "B-1",
            "subtotal": "1",
            "total": "1",
            "financial_status": "paid",
            "placed_at": "2026-11-01T10:00:00+07:00",
        },
    )
    assert order.status_code == 404


def test_merging_another_merchants_member_is_404(api, other_api, first_merchant_objects):
    mine = other_api.post("/api/v1/members", json={"phone": "0987654321"}).json
    response = other_api.post(
        f"/api/v1/members/{mine['id']}/merge",
        json={"from_member_id": first_merchant_objects["member_id"]},
    )
    assert response.status_code == 404
    assert api.get(f"/api/v1/members/{first_merchant_objects['member_id']}").status_code == 200
