"""Values no column can hold answer 4xx in the error shape, never 500, and store nothing.

Each case is a reproduction from a hostile run against the hub. Run on SQLite
by default and on PostgreSQL with HUB_TEST_DATABASE_URL: PostgreSQL refuses
NUL in text and numbers beyond its columns, so both must be covered.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlalchemy import select
from widget_setup import set_up_storefront

from connectors.pos.testing import open_counter
from hub.input_guard import MAX_JSON_DEPTH
from hub.models import Connection
from hub.models import Member
from hub.models import Order
from hub.models import Tier
from hub.widget.tokens import sign_visitor

BEYOND_64_BITS = 101088180886190653440


def count(hub, model):
    with hub.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_error_shape(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def order(**fields):
    body = {
        "source": "shop",
        "external_id": "1001",
        "subtotal": "100000",
        "total": "100000",
        "financial_status": "paid",
        "placed_at": "2026-11-01T10:00:00+07:00",
        "customer": {"phone": "0912345678"},
    }
    return {**body, **fields}


# -- numbers beyond their columns -------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/members/99999999999999999999",
        "/api/v1/rewards/99999999999999999999",
        "/api/v1/orders/18446744073709551616",
        "/api/v1/members/9223372036854775808/points",
    ],
)
def test_an_id_beyond_64_bits_in_the_path_is_no_objects_404(api, path):
    error = assert_error_shape(api.get(path), 404)
    assert error["code"] == "not_found"


def test_the_largest_64_bit_id_is_looked_up_and_not_found(api):
    error = assert_error_shape(api.get("/api/v1/members/9223372036854775807"), 404)
    assert error["code"] == "member_not_found"


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/orders?member_id=-18446744073709551617",
        "/api/v1/orders?member_id=18446744073709551617",
        "/api/v1/messages?member_id=99999999999999999999",
    ],
)
def test_a_query_integer_beyond_64_bits_is_422_naming_it(api, query):
    error = assert_error_shape(api.get(query), 422)
    assert "member_id" in error["details"]


def test_a_reward_id_beyond_64_bits_is_422_naming_it(api, member):
    response = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": BEYOND_64_BITS}
    )
    error = assert_error_shape(response, 422)
    assert "reward_id" in error["details"]


def test_an_identity_link_to_a_connection_id_beyond_64_bits_is_422(api, member):
    response = api.post(
        f"/api/v1/members/{member['id']}/identities",
        json={"connection_id": BEYOND_64_BITS, "external_id": "c-1"},
    )
    assert_error_shape(response, 422)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"total": "10000000000000000"}, "total"),
        ({"total": "1e400"}, "total"),
        ({"total": 10**30}, "total"),
        ({"subtotal": "1E+400"}, "subtotal"),
        ({"shipping": "-1e400"}, "shipping"),
        ({"connection_id": BEYOND_64_BITS}, "connection_id"),
        ({"lines": [{"sku": "A", "quantity": 10**20, "price": "1"}]}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 2**31, "price": "1"}]}, "lines"),
    ],
)
def test_an_order_with_a_number_beyond_its_column_is_422_and_stores_nothing(
    api, hub, fields, field
):
    error = assert_error_shape(api.post("/api/v1/orders", json=order(**fields)), 422)
    assert any(key.split(".")[0] == field for key in error["details"])
    assert count(hub, Order) == 0
    assert count(hub, Member) == 0


def test_an_order_at_the_largest_amount_is_stored_exactly(api, hub):
    response = api.post("/api/v1/orders", json=order(total="1000000000000000", subtotal="1"))
    assert response.status_code in (200, 201), response.json
    with hub.db.session() as session:
        assert session.scalar(select(Order.total)) == Decimal("1000000000000000")


@pytest.mark.parametrize("value", ["1e400", 10**30, "10000000000000000"])
def test_a_tier_threshold_beyond_any_amount_is_422(api, hub, value):
    response = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": value})
    error = assert_error_shape(response, 422)
    assert "threshold" in error["details"]
    assert count(hub, Tier) == 0


# -- text no database keeps ---------------------------------------------------------


@pytest.mark.parametrize("text", ["Lan\x00", "\ud800x", "x\udfff"])
@pytest.mark.parametrize(
    "body",
    [
        lambda t: {"name": t},
        lambda t: {"name": "Lan", "tags": [t]},
        lambda t: {"name": "Lan", "attributes": {t: "1"}},
        lambda t: {"name": "Lan", "attributes": {"note": t}},
    ],
    ids=["name", "tag", "attribute-key", "attribute-value"],
)
def test_a_member_with_nul_or_a_lone_surrogate_is_422_and_not_stored(api, hub, text, body):
    response = api.post("/api/v1/members", json=body(text))
    assert_error_shape(response, 422)
    assert count(hub, Member) == 0


def test_the_error_names_where_the_bad_text_was(api):
    response = api.post("/api/v1/members", json={"name": "Lan", "tags": ["vip", "a\x00"]})
    error = assert_error_shape(response, 422)
    assert list(error["details"]) == ["tags.1"]


@pytest.mark.parametrize(
    "body",
    [
        {"connector": "custom", "name": "Web\x00"},
        {"connector": "custom", "name": "Web", "settings": {"k\x00": "v"}},
        {"connector": "custom", "name": "Web", "settings": {"k": "v\x00"}},
        {"connector": "custom", "name": "Web", "settings": {"k": ["\ud800"]}},
    ],
    ids=["name", "settings-key", "settings-value", "settings-surrogate"],
)
def test_a_connection_with_nul_in_its_name_or_settings_is_422(api, hub, body):
    assert_error_shape(api.post("/api/v1/connections", json=body), 422)
    assert count(hub, Connection) == 0


def test_a_points_adjustment_reason_with_nul_is_422(api, member):
    response = api.post(
        f"/api/v1/members/{member['id']}/adjustments", json={"points": 5, "reason": "gift\x00"}
    )
    assert_error_shape(response, 422)
    assert api.get(f"/api/v1/members/{member['id']}/points").json["total"] == 0


def test_a_tier_name_with_nul_is_422(api, hub):
    assert_error_shape(api.post("/api/v1/tiers", json={"name": "V\x00", "threshold": "1"}), 422)
    assert count(hub, Tier) == 0


@pytest.mark.parametrize("query", ["q=%00", "q=Lan%00", "tag=%00", "email=%00", "%00=1"])
def test_a_nul_in_the_query_string_is_422(api, member, query):
    assert_error_shape(api.get(f"/api/v1/members?{query}"), 422)


def test_a_nul_in_a_path_segment_is_404(api):
    error = assert_error_shape(api.get("/api/v1/vouchers/AB%00CD"), 404)
    assert error["code"] == "not_found"


def test_a_lone_surrogate_escaped_in_raw_json_is_422(api, hub):
    response = api.post(
        "/api/v1/members",
        data='{"name": "\\ud800x"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error_shape(response, 422)
    assert count(hub, Member) == 0


def test_ordinary_vietnamese_text_and_emoji_pass(api):
    response = api.post(
        "/api/v1/members", json={"name": "Nguyễn Thị Lan 🌸", "tags": ["khách quen"]}
    )
    assert response.status_code == 201, response.json
    assert response.json["name"] == "Nguyễn Thị Lan 🌸"


# -- nesting ------------------------------------------------------------------------


def test_a_10000_deep_json_body_is_400_body_too_deep(api, hub):
    body = "[" * 10_000 + "]" * 10_000
    response = api.post("/api/v1/members", data=body, headers={"Content-Type": "application/json"})
    error = assert_error_shape(response, 400)
    assert error["code"] == "body_too_deep"
    assert count(hub, Member) == 0


def test_a_body_just_past_the_depth_limit_is_400_and_one_within_it_is_read(api, hub):
    def nested(depth):
        value: object = "x"
        for _ in range(depth - 1):
            value = {"a": value}
        return value

    too_deep = {"name": "Lan", "attributes": nested(MAX_JSON_DEPTH + 1)}
    assert assert_error_shape(api.post("/api/v1/members", json=too_deep), 400)["code"] == (
        "body_too_deep"
    )
    fine = {"name": "Lan", "attributes": {"a": nested(4)}}
    assert api.post("/api/v1/members", json=fine).status_code == 201


def test_malformed_json_still_answers_malformed_json(api):
    response = api.post(
        "/api/v1/members", data='{"name": "Lan"', headers={"Content-Type": "application/json"}
    )
    assert assert_error_shape(response, 400)["code"] == "malformed_json"


# -- the counter API and the widget -------------------------------------------------


@pytest.fixture
def till(client, merchant):
    return open_counter(client, merchant.headers, location="Quầy Lê Lợi")


def test_the_counter_refuses_a_deep_body_with_400(till):
    answer = till.post(
        "/pos/v1/members",
        data="[" * 10_000 + "]" * 10_000,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "body_too_deep"


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "0912345678", "name": "Lan\ud800"},
        {"phone": "0912345678", "name": "Lan", "customer_id": "c\x00"},
        {"phone": "0912345678", "name": "Lan", "consents": {"sms\x00": True}},
    ],
)
def test_the_counter_refuses_unstorable_text_at_enrolment(till, hub, body):
    answer = till.post("/pos/v1/members", json=body)
    assert answer.status_code == 422
    assert set(answer.json["error"]) == {"code", "message", "details"}
    assert count(hub, Member) == 0


def test_the_counter_refuses_a_reward_id_beyond_64_bits(till, api, member):
    answer = till.post(
        f"/pos/v1/members/{member['code']}/redemptions", json={"reward_id": BEYOND_64_BITS}
    )
    assert answer.status_code == 422


def test_the_counter_refuses_a_sale_total_beyond_any_amount(till, hub):
    answer = till.sale("R-1", "1e400")
    assert answer.status_code == 422
    assert count(hub, Order) == 0


def test_the_widget_refuses_a_reward_id_beyond_64_bits(client, api, hub):
    store = set_up_storefront(api, hub)
    token = sign_visitor(store.customer_id, store.widget_secret)
    response = client.post(
        f"/widget/v1/c/{store.connection_id}/redeem",
        json={"reward_id": BEYOND_64_BITS},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_error_shape(response, 422)


def test_the_widget_answers_404_for_a_connection_id_beyond_64_bits(client):
    response = client.get("/widget/v1/c/99999999999999999999/state")
    assert_error_shape(response, 404)


def test_a_body_that_is_json_but_says_it_is_not_passes_untouched(api):
    """Form or text bodies are not parsed as JSON; the view answers as it always has."""
    response = api.post(
        "/api/v1/members", data=json.dumps({"name": "Lan"}), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code < 500


# -- search wildcards ---------------------------------------------------------------


@pytest.mark.parametrize(("q", "found"), [("%", ["Giảm 100%"]), ("_", ["an_nguyen"])])
def test_a_search_for_a_like_wildcard_matches_it_literally(api, q, found):
    for name in ("Lan", "Giảm 100%", "an_nguyen", "Bình"):
        assert api.post("/api/v1/members", json={"name": name}).status_code == 201
    response = api.get("/api/v1/members", query_string={"q": q})
    assert response.status_code == 200, response.json
    assert [m["name"] for m in response.json["data"]] == found


def test_a_search_still_finds_a_part_of_a_name_in_any_case(api):
    for name in ("Nguyễn Thị Lan", "Trần Văn Bình"):
        assert api.post("/api/v1/members", json={"name": name}).status_code == 201
    response = api.get("/api/v1/members", query_string={"q": "thị"})
    assert [m["name"] for m in response.json["data"]] == ["Nguyễn Thị Lan"]


# -- over-long URLs and headers -----------------------------------------------------

LONG = "A" * 20_000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/v1/vouchers/{LONG}"),
        ("post", f"/api/v1/vouchers/{LONG}/cancel"),
        ("delete", f"/api/v1/members/1/opt-outs/{LONG}"),
        ("get", f"/api/v1/{LONG}"),
        ("get", f"/api/v1/members?q={LONG}"),
        ("get", f"/api/v1/members?cursor={LONG}"),
        ("post", f"/webhooks/{LONG}/1"),
        ("post", f"/webhooks/{LONG}"),
        ("get", f"/widget/v1/{LONG}"),
    ],
)
def test_an_over_long_url_answers_4xx_in_the_error_shape(api, member, method, path):
    response = getattr(api, method)(path)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:200]
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Authorization", "Bearer " + LONG),
        ("Authorization", LONG),
        ("Idempotency-Key", LONG),
        ("Origin", LONG),
        ("If-None-Match", LONG),
        ("Content-Type", "application/json; charset=" + LONG),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/members", "/widget/v1/c/1/state", "/webhooks/shopify"])
def test_an_over_long_header_answers_in_the_error_shape(client, merchant, header, value, path):
    headers = {**merchant.headers, header: value}
    for method in (client.get, client.post):
        response = method(path, headers=headers, json={"name": "Lan"})
        assert response.status_code < 500, response.get_data(as_text=True)[:200]
        if response.status_code >= 400:
            assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_the_counter_answers_over_long_codes_and_receipts_with_4xx(till):
    for path in (
        f"/pos/v1/members/{LONG}",
        f"/pos/v1/sales/{LONG}",
        f"/pos/v1/members/{LONG}/qr.svg",
    ):
        answer = till.get(path)
        assert 400 <= answer.status_code < 500
    assert 400 <= till.post(f"/pos/v1/sales/{LONG}/void", json={}).status_code < 500


# -- amounts in settings and refunds ------------------------------------------------


def program_with_earn_rate(api, amount):
    settings = api.get("/api/v1/program").json["settings"]
    settings["earn_rate"] = {"amount": amount, "points": 1_000_000}
    return api.put("/api/v1/program", json=settings)


@pytest.mark.parametrize("amount", ["1e-400", "0.00001", "1e400", "10000000000000000"])
def test_an_earn_rate_beyond_what_money_is_kept_to_is_422(api, amount):
    error = assert_error_shape(program_with_earn_rate(api, amount), 422)
    assert "earn_rate" in error["details"]


def test_an_order_that_would_earn_more_points_than_any_balance_holds_is_422(api, hub):
    assert program_with_earn_rate(api, "0.0001").status_code == 200
    response = api.post("/api/v1/orders", json=order(total="1000000000000000"))
    error = assert_error_shape(response, 422)
    assert error["code"] == "too_many_points"
    assert count(hub, Order) == 0


@pytest.mark.parametrize("amount", ["1e400", "10000000000000000", 10**30])
def test_a_refund_beyond_any_amount_is_422(api, amount):
    created = api.post("/api/v1/orders", json=order())
    assert created.status_code == 201, created.json
    response = api.post(
        f"/api/v1/orders/{created.json['id']}/refunds", json={"amount": amount, "external_id": "r1"}
    )
    error = assert_error_shape(response, 422)
    assert "amount" in error["details"]
