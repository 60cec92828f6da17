"""Property: hostile values in any field of the main create and update calls never answer 5xx.

Hypothesis puts huge and negative integers, NUL characters, lone surrogates,
deep nesting, infinities, long strings and values of the wrong type into the
real fields of each endpoint's body, one or several at a time, over a valid
body; every answer must be below 500 and every error must have the error
shape. Run on SQLite by default and on PostgreSQL with HUB_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from connectors.pos.testing import open_counter

huge_ints = st.one_of(
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2),
    st.sampled_from([10**20, 10**30, -(10**30), 101088180886190653440]),
)
hostile_text = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "\ud800x", "x\udfff", "%", "_", "\\", "'; --"]),
    st.text(max_size=20),
    st.text(min_size=300, max_size=400),
    st.sampled_from(["1e400", "-1e400", "10000000000000000", "NaN", "Infinity", "0x10"]),
)
odd_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=False).map(str)
)


def deeply_nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


scalars = st.one_of(huge_ints, hostile_text, odd_numbers, st.booleans(), st.none())
hostile = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(hostile_text, scalars, max_size=3),
    st.integers(min_value=30, max_value=60).map(deeply_nested),
)

MEMBER_FIELDS = ["phone", "email", "name", "birthday", "gender", "tags", "attributes", "consents"]
ORDER_FIELDS = ["connection_id", "external_id", "subtotal", "total", "shipping", "tax"]
LINE_FIELDS = ["sku", "title", "quantity", "price", "total_discount"]
TIER_FIELDS = ["name", "threshold", "basis", "window", "earn_multiplier", "position"]
REWARD_FIELDS = ["name", "kind", "value", "points_cost", "min_order", "stock", "min_tier_id"]
CONNECTION_FIELDS = ["name", "settings", "secrets", "connector"]

ORDER = {
    "source": "shop",
    "external_id": "1001",
    "subtotal": "100000",
    "total": "100000",
    "financial_status": "paid",
    "placed_at": "2026-11-01T10:00:00+07:00",
    "customer": {"phone": "0912345678"},
    "lines": [{"sku": "A", "quantity": 1, "price": "100000"}],
}


def bodies(base: dict, names: list[str]):
    """A valid ``base`` with one to three of ``names`` set to hostile values."""
    return st.dictionaries(st.sampled_from(names), hostile, min_size=1, max_size=3).map(
        lambda changes: {**base, **changes}
    )


PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)


def no_server_error(response):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[:300]
    if response.status_code >= 400:
        assert set(json.loads(body)["error"]) == {"code", "message", "details"}


def send(api, method, path, body):
    """Post ``body`` as JSON the way a client would, surrogates escaped, NaN as written."""
    data = json.dumps(body, ensure_ascii=True, allow_nan=True)
    return getattr(api, method)(path, data=data, headers={"Content-Type": "application/json"})


@pytest.mark.long(5)
@PROPERTY
@given(body=bodies({"name": "Lan"}, MEMBER_FIELDS))
def test_creating_a_member_never_answers_5xx(api, body):
    no_server_error(send(api, "post", "/api/v1/members", body))


@PROPERTY
@given(body=bodies({}, MEMBER_FIELDS))
def test_changing_a_member_never_answers_5xx(api, member, body):
    no_server_error(send(api, "patch", f"/api/v1/members/{member['id']}", body))


@PROPERTY
@given(body=bodies(ORDER, ORDER_FIELDS), line=bodies(ORDER["lines"][0], LINE_FIELDS))
def test_recording_an_order_never_answers_5xx(api, body, line):
    no_server_error(send(api, "post", "/api/v1/orders", {**body, "lines": [line]}))


@PROPERTY
@given(body=bodies({"name": "Vàng", "threshold": "5000000"}, TIER_FIELDS))
def test_creating_a_tier_never_answers_5xx(api, body):
    no_server_error(send(api, "post", "/api/v1/tiers", body))


@PROPERTY
@given(
    body=bodies(
        {"name": "Giảm", "kind": "amount_off", "value": "50000", "points_cost": 500},
        REWARD_FIELDS,
    )
)
def test_creating_a_reward_never_answers_5xx(api, body):
    no_server_error(send(api, "post", "/api/v1/rewards", body))


@PROPERTY
@given(body=bodies({"connector": "custom", "name": "Web"}, CONNECTION_FIELDS))
def test_creating_a_connection_never_answers_5xx(api, body):
    no_server_error(send(api, "post", "/api/v1/connections", body))


@PROPERTY
@given(body=bodies({"points": 5, "reason": "gift"}, ["points", "reason"]))
def test_adjusting_points_never_answers_5xx(api, member, body):
    no_server_error(send(api, "post", f"/api/v1/members/{member['id']}/adjustments", body))


@PROPERTY
@given(body=bodies({"reward_id": 1}, ["reward_id"]))
def test_redeeming_never_answers_5xx(api, member, body):
    no_server_error(send(api, "post", f"/api/v1/members/{member['id']}/redemptions", body))


@PROPERTY
@given(value=hostile_text, name=st.sampled_from(["q", "phone", "email", "tag", "cursor", "limit"]))
def test_searching_members_never_answers_5xx(api, value, name):
    raw = quote(value.encode("utf-8", "surrogatepass"))
    no_server_error(api.get(f"/api/v1/members?{name}={raw}"))


@pytest.fixture
def till(client, merchant):
    return open_counter(client, merchant.headers)


@PROPERTY
@given(body=bodies({"phone": "0912345678", "name": "Lan"}, ["phone", "name", "email", "consents"]))
def test_enrolling_at_the_counter_never_answers_5xx(till, body):
    data = json.dumps(body, ensure_ascii=True, allow_nan=True)
    answer = till.post("/pos/v1/members", data=data, headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, answer.json


@PROPERTY
@given(
    body=bodies(
        {"receipt": "R-1", "total": "100000", "sold_at": "2026-11-01T10:00:00+07:00"},
        ["receipt", "total", "sold_at", "redeem_points", "lines", "discount_codes"],
    )
)
def test_recording_a_counter_sale_never_answers_5xx(till, body):
    data = json.dumps(body, ensure_ascii=True, allow_nan=True)
    answer = till.post("/pos/v1/sales", data=data, headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, answer.json
