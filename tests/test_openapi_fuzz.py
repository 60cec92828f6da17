"""Every operation in the served OpenAPI document answers as the document says, whatever is sent.

schemathesis generates requests from ``/api/v1/openapi.json`` and checks each
answer: never a 5xx, a status the operation documents, and a body that matches
the documented schema. Requests that fit the document are sent to objects that
exist (a member, an order, a tier, a reward, a voucher, a connection, a segment), so the
success answers are checked too; requests that do not fit go anywhere. The storefront
widget's JSON and the counter (POS) API are fuzzed the same way with their own keys (a
signed-in visitor's token, a till's POS key), on a storefront and a till with a member
and a recorded sale. The
run is deterministic; ``HUB_FUZZ_SEED`` picks another seed (or replays the one
a failure printed) and ``HUB_FUZZ_EXAMPLES`` the cases per operation and kind.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import seed
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

SEED = int(os.environ.get("HUB_FUZZ_SEED", "16"))
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def existing(api, member) -> dict[str, object]:
    """One of each object the API reaches by path, made through the API: their path values."""

    def made(method: str, path: str, body: dict) -> dict:
        response = api.client.open(path, method=method, headers=api.merchant.headers, json=body)
        assert response.status_code in (200, 201), (path, response.json)
        return response.json

    connection = made("POST", "/api/v1/connections", {"connector": "custom", "name": "Web"})
    order = made(
        "POST",
        "/api/v1/orders",
        {
            "connection_id": connection["id"],
            "external_id": "fuzz-1",
            "subtotal": "1000000",
            "total": "1000000",
            "financial_status": "paid",
            "placed_at": "2026-01-05T10:00:00+07:00",
            "customer": {"phone": member["phone"]},
        },
    )
    tier = made("POST", "/api/v1/tiers", {"name": "Bạc", "threshold": "100"})
    reward = made(
        "POST",
        "/api/v1/rewards",
        {"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
    )
    redeemed = made(
        "POST", f"/api/v1/members/{member['id']}/redemptions", {"reward_id": reward["id"]}
    )
    segment = made(
        "POST",
        "/api/v1/segments",
        {"name": "VIP", "conditions": {"all": [{"kind": "tier", "tier_ids": [tier["id"]]}]}},
    )
    return {
        "member_id": member["id"],
        "segment_id": segment["id"],
        "connection_id": connection["id"],
        "order_id": order["id"],
        "tier_id": tier["id"],
        "reward_id": reward["id"],
        "code": redeemed["voucher"]["code"],
    }


def _fuzz(operation, mode: GenerationMode, headers: dict, path_parameters: dict) -> None:
    """Send ``EXAMPLES`` generated requests to one operation; raise on the first failed check."""

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.long(60)
def test_every_operation_answers_as_the_document_says(app, api, existing):
    print(f"schemathesis seed {SEED}: replay with HUB_FUZZ_SEED={SEED}")
    config = SchemathesisConfig.from_dict({"seed": SEED})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    documented = app.test_client().get("/api/v1/openapi.json").json["paths"]
    failures: list[str] = []
    tried = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/"):
            continue  # the widget, the counter API and the intake: the tests below
        tried.add((operation.method.lower(), operation.path))
        names = re.findall(r"{(\w+)}", operation.path)
        known = {name: existing[name] for name in names if name in existing}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Deleting the shared objects would leave the operations after it only 404s.
            fixed = (
                known if mode is GenerationMode.POSITIVE and operation.method != "delete" else {}
            )
            try:
                _fuzz(operation, mode, api.merchant.headers, fixed)
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} ({mode.value}): {error}")
    every = {
        (m, p)
        for p, item in documented.items()
        if p.startswith("/api/v1/")
        for m in item
        if m != "parameters"
    }
    assert tried == every
    assert not failures, f"seed {SEED}, {len(failures)} failures:\n\n" + "\n\n".join(failures)


@pytest.fixture
def outside(api, hub, client) -> dict[str, object]:
    """A storefront with a signed-in visitor, and a till with a member and a recorded sale."""
    from widget_setup import set_up_storefront

    from connectors.pos.testing import open_counter
    from hub.widget.tokens import sign_visitor

    storefront = set_up_storefront(api, hub)
    till = open_counter(client, api.merchant.headers)
    enrolled = till.post("/pos/v1/members", json={"phone": "0987654321", "name": "Minh"})
    sale = till.sale("HD-FUZZ-1", "350000", member_code=enrolled.json["member"]["code"])
    assert (enrolled.status_code, sale.status_code) == (201, 201), (enrolled.json, sale.json)
    visitor = sign_visitor(storefront.customer_id, storefront.widget_secret)
    return {
        "/widget/": (
            {"Authorization": f"Bearer {visitor}"},
            {"connection_id": storefront.connection_id},
        ),
        "/pos/": (till.headers, {"code": enrolled.json["member"]["code"], "receipt": "HD-FUZZ-1"}),
    }


@pytest.mark.long(40)
def test_the_widget_and_counter_answer_as_the_document_says(app, outside):
    """The same checks on the storefront widget's JSON and the counter API, with their keys."""
    config = SchemathesisConfig.from_dict({"seed": SEED})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    failures: list[str] = []
    tried = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        prefix = next((p for p in outside if operation.path.startswith(p)), None)
        if prefix is None:
            continue
        headers, known = outside[prefix]
        tried.add(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fixed = known if mode is GenerationMode.POSITIVE else {}
            names = set(re.findall(r"{(\w+)}", operation.path))
            try:
                _fuzz(operation, mode, headers, {k: v for k, v in fixed.items() if k in names})
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert "POST /pos/v1/sales/{receipt}/refunds" in tried
    assert "GET /widget/v1/c/{connection_id}/state" in tried
    assert not failures, f"seed {SEED}, {len(failures)} failures:\n\n" + "\n\n".join(failures)


SHOPIFY_SECRET = "shopify-app-secret"


@pytest.fixture
def stores(api) -> dict[str, object]:
    """A Shopify and a Haravan connection whose webhooks the intake takes (signed with secrets
    the fuzz does not know, so a made-up delivery is refused as the document says)."""
    shopify = api.post(
        "/api/v1/connections",
        json={"connector": "shopify", "settings": {"shop": "fuzz.myshopify.com"}},
    )
    haravan = api.post(
        "/api/v1/connections",
        json={"connector": "haravan", "settings": {"shop": "fuzz.myharavan.com"}},
    )
    assert (shopify.status_code, haravan.status_code) == (201, 201), (shopify.json, haravan.json)
    return {"shopify": shopify.json["id"], "haravan": haravan.json["id"]}


@pytest.mark.long(20)
def test_the_webhook_intake_answers_as_the_document_says(app, stores):
    """Made-up deliveries to each store connector's intake: never a 5xx, only documented answers."""
    config = SchemathesisConfig.from_dict({"seed": SEED})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/webhooks/"):
            continue
        for connector, connection_id in stores.items():
            fixed = {"connector": connector, "connection_id": connection_id}
            for mode, known in ((GenerationMode.POSITIVE, fixed), (GenerationMode.NEGATIVE, {})):
                tried += 1
                try:
                    _fuzz(operation, mode, {}, known)
                except (Exception, BaseExceptionGroup) as error:
                    failures.append(f"{operation.label} {connector} ({mode.value}): {error}")
    assert tried == 4
    assert not failures, f"seed {SEED}, {len(failures)} failures:\n\n" + "\n\n".join(failures)
