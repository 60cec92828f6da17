"""Every counter API operation's success answer matches the schema the OpenAPI document gives it.

Each operation is called once with valid input, as a till would; its answer is
validated against the document's schema for that status (JSON Schema 2020-12,
as OpenAPI 3.1 writes it). The documented examples are checked against the
same schemas, and a schema made wrong on purpose is shown to fail.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connectors.pos.testing import open_counter

TERMS = {"enabled": True, "point_value": "100", "max_percent": "50", "min_points": 10}


def answer_schema(document: dict, method: str, path: str, status: int) -> dict[str, Any]:
    operation = document["paths"][path][method.lower()]
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]


def problems(schema: dict[str, Any], body: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def calls(api, client, merchant) -> list[tuple[str, str, Any]]:
    """Each counter operation called once with valid input: (method, documented path, answer)."""
    till = open_counter(client, merchant.headers, redemption=TERMS)
    made: list[tuple[str, str, Any]] = []

    def call(method: str, path: str, documented: str, expected: int, **kwargs: Any) -> Any:
        answer = till.call(method, path, **kwargs)
        assert answer.status_code == expected, (path, answer.json)
        made.append((method, documented, answer))
        return answer.json

    call("GET", "/pos/v1/me", "/pos/v1/me", 200)
    body = {"phone": "0912345678", "name": "Nguyễn Thị Lan", "consents": {"sms": True}}
    code = call("POST", "/pos/v1/members", "/pos/v1/members", 201, json=body)["member"]["code"]
    call("POST", "/pos/v1/members", "/pos/v1/members", 200, json=body)
    call("GET", "/pos/v1/members", "/pos/v1/members", 200, params={"q": "0912345678"})
    call("POST", "/pos/v1/members/lookup", "/pos/v1/members/lookup", 200, json={"q": code})
    call("GET", f"/pos/v1/members/{code}", "/pos/v1/members/{code}", 200)
    sale = {"receipt": "HD-1", "total": "600000", "sold_at": "2026-11-01T10:00:00+07:00"}
    call("POST", "/pos/v1/sales", "/pos/v1/sales", 201, json={**sale, "member_code": code})
    call("POST", "/pos/v1/sales", "/pos/v1/sales", 200, json={**sale, "member_code": code})
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 100},
    )
    assert reward.status_code == 201, reward.json
    call("GET", "/pos/v1/rewards", "/pos/v1/rewards", 200)
    redemption = {"reward_id": reward.json["id"], "request_id": "till-1-1"}
    path = f"/pos/v1/members/{code}/redemptions"
    documented = "/pos/v1/members/{code}/redemptions"
    voucher = call("POST", path, documented, 201, json=redemption)["voucher"]["code"]
    call("POST", path, documented, 200, json=redemption)
    call("GET", f"/pos/v1/members/{code}", "/pos/v1/members/{code}", 200)  # with a voucher
    check = {"code": voucher, "amount": "200000"}
    call("POST", "/pos/v1/vouchers/validate", "/pos/v1/vouchers/validate", 200, json=check)
    call("POST", "/pos/v1/vouchers/validate", "/pos/v1/vouchers/validate", 200, json={"code": "NO"})
    burn = {**check, "receipt": "HD-2"}
    call("POST", "/pos/v1/vouchers/burn", "/pos/v1/vouchers/burn", 200, json=burn)
    call("GET", "/pos/v1/sales/HD-1", "/pos/v1/sales/{receipt}", 200)
    refund = {"refund_id": "TH-1", "amount": "100000"}
    documented = "/pos/v1/sales/{receipt}/refunds"
    call("POST", "/pos/v1/sales/HD-1/refunds", documented, 201, json=refund)
    call("POST", "/pos/v1/sales/HD-1/refunds", documented, 200, json=refund)
    void = {"reason": "khách đổi ý"}
    call("POST", "/pos/v1/sales/HD-1/void", "/pos/v1/sales/{receipt}/void", 200, json=void)
    call("POST", "/pos/v1/sales", "/pos/v1/sales", 201, json={**sale, "receipt": "HD-3"})
    call("GET", "/pos/v1/sales/HD-3", "/pos/v1/sales/{receipt}", 200)  # no member
    return made


def test_every_counter_answer_matches_its_documented_schema(document, calls):
    found = {
        f"{answer.status_code} {method} {path}": problems(
            answer_schema(document, method, path, answer.status_code), answer.json
        )
        for method, path, answer in calls
    }
    assert {label: errors for label, errors in found.items() if errors} == {}
    json_operations = {
        (method, path)
        for path, item in document["paths"].items()
        if path.startswith("/pos/v1/")
        for method, operation in item.items()
        if "application/json"
        in operation["responses"]
        .get("200", operation["responses"].get("201", {}))
        .get("content", {})
    }
    assert json_operations == {(m.lower(), p) for m, p, _ in calls}


def test_every_counter_schema_describes_its_answer_fully(document):
    for path, item in document["paths"].items():
        if not path.startswith("/pos/v1/"):
            continue
        for method, operation in item.items():
            for status in ("200", "201"):
                content = operation["responses"].get(status, {}).get("content", {})
                if "application/json" not in content:
                    continue
                media = content["application/json"]
                assert media["schema"].get("properties"), (method, path, status)
                assert problems(media["schema"], media["example"]) == [], (method, path, status)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda s: s["properties"]["member"]["properties"].__setitem__("points", {"type": "string"}),
        lambda s: s["properties"]["member"]["required"].append("birthday"),
        lambda s: s["properties"]["member"]["properties"]["tier"].__setitem__("type", "object"),
        lambda s: s["properties"]["member"]["properties"].pop("qr_svg_url"),
    ],
    ids=["wrong type", "missing field", "null refused", "field not described"],
)
def test_a_wrong_schema_fails_on_the_real_answer(document, calls, spoil):
    method, path, answer = next(c for c in calls if c[1] == "/pos/v1/members/{code}")
    schema = copy.deepcopy(answer_schema(document, method, path, 200))
    assert problems(schema, answer.json) == []
    spoil(schema)
    assert problems(schema, answer.json) != []
