"""Every widget JSON operation's success answer matches the schema the OpenAPI document gives it.

The guest panel, a signed-in member's panel, a redemption and a referral claim
are each made once with valid input and validated against the document's
schema (JSON Schema 2020-12, as OpenAPI 3.1 writes it); the documented
examples are checked too, and a schema made wrong on purpose fails.
"""

from __future__ import annotations

import copy

import pytest
from test_counter_answers import answer_schema
from test_counter_answers import problems
from widget_setup import set_up_storefront

from hub.referrals.codes import ensure_code
from hub.widget.tokens import sign_visitor

TERMS = {"enabled": True, "referrer": {"points": 200}, "friend": {"points": 100}}
STATE = "/widget/v1/c/{connection_id}/state"


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def calls(api, hub, client) -> list[tuple[str, str, object]]:
    """Each widget operation called once with valid input: (method, documented path, answer)."""
    store = set_up_storefront(api, hub)
    assert api.patch("/api/v1/referrals/settings", json=TERMS).status_code == 200
    code = ensure_code(hub, api.merchant.id, store.member_id)
    base = f"/widget/v1/c/{store.connection_id}"
    signed = {"Authorization": f"Bearer {sign_visitor(store.customer_id, store.widget_secret)}"}
    made = []

    def call(method, path, expected, **kwargs):
        answer = client.open(base + path, method=method, **kwargs)
        assert answer.status_code == expected, (path, answer.get_json())
        made.append((method, "/widget/v1/c/{connection_id}" + path, answer))

    call("GET", "/state", 200)
    call("GET", "/state", 200, headers=signed, query_string={"locale": "en"})
    call("POST", "/redeem", 201, headers=signed, json={"reward_id": store.reward_ids[0]})
    call("GET", "/state", 200, headers=signed)  # with a voucher
    friend = api.post("/api/v1/members", json={"name": "Bạn", "phone": "0987000008"}).json
    api.post(
        f"/api/v1/members/{friend['id']}/identities",
        json={"connection_id": store.connection_id, "external_id": "cust-friend"},
    )
    friendly = {"Authorization": f"Bearer {sign_visitor('cust-friend', store.widget_secret)}"}
    call("POST", "/referral", 200, headers=friendly, json={"code": code})
    call("POST", "/referral", 200, headers=signed, json={"code": code})  # their own: rejected
    return made


def test_every_widget_answer_matches_its_documented_schema(document, calls):
    found = {
        f"{answer.status_code} {method} {path}": problems(
            answer_schema(document, method, path, answer.status_code), answer.get_json()
        )
        for method, path, answer in calls
    }
    assert {label: errors for label, errors in found.items() if errors} == {}
    statuses = {answer.get_json()["status"] for _, p, answer in calls if p.endswith("referral")}
    assert statuses == {"joined", "rejected"}
    widget = {(m, p) for p, item in document["paths"].items() if "/widget/" in p for m in item}
    assert widget == {(m.lower(), p) for m, p, _ in calls}


def test_every_widget_example_fits_its_schema(document):
    for path, item in document["paths"].items():
        if "/widget/" not in path:
            continue
        for method, operation in item.items():
            status = "201" if "201" in operation["responses"] else "200"
            media = operation["responses"][status]["content"]["application/json"]
            assert problems(media["schema"], media["example"]) == [], (method, path)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda s: s["properties"]["member"]["properties"]["points"].__setitem__("type", "array"),
        lambda s: s["required"].append("loyalty"),
        lambda s: s["properties"]["member"].__setitem__("type", "object"),
        lambda s: s["properties"]["member"]["properties"].pop("vouchers"),
    ],
    ids=["wrong type", "missing field", "null refused", "field not described"],
)
def test_a_wrong_schema_fails_on_the_real_answer(document, calls, spoil):
    signed, guest = calls[1][2].get_json(), calls[0][2].get_json()
    schema = copy.deepcopy(answer_schema(document, "GET", STATE, 200))
    assert problems(schema, signed) == problems(schema, guest) == []
    spoil(schema)
    assert problems(schema, signed) + problems(schema, guest) != []
