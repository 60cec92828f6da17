"""The API describes itself: OpenAPI 3 and a readable page, both offline."""

import re

from openapi_spec_validator import validate


def test_openapi_spec_is_valid_openapi_3(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_operation_has_a_summary_and_bearer_security(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert operation.get("summary"), f"{method.upper()} {path} has no summary"


def test_docs_page_lists_operations_without_outside_assets(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/members" in page and "MemberIn" in page
    # Nothing is loaded from elsewhere (curl examples name the hub's own address, as text).
    assert re.findall(r'(?:src|href)="(https?://[^"]*)"', page) == []


def test_the_webhooks_the_hub_sends_are_callbacks_of_the_endpoint_registration(client):
    import jsonschema

    spec = client.get("/api/v1/openapi.json").json
    callbacks = spec["paths"]["/api/v1/webhook-endpoints"]["post"]["callbacks"]
    sent = callbacks["event"]["{$request.body#/url}"]["post"]
    headers = {p["name"] for p in sent["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body = sent["requestBody"]["content"]["application/json"]
    jsonschema.validate(body["example"], body["schema"])
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "Webhooks it sends you" in page and "<code>webhook-signature</code>" in page


def test_the_example_payload_is_what_the_hub_sends(hub):
    from hub import Event
    from webhooks.openapi_callbacks import EVENT_EXAMPLE
    from webhooks.outbound import payload_of

    sent = payload_of(Event(type="order.received", merchant_id=1, data={"order_id": 42}))
    assert set(sent) == set(EVENT_EXAMPLE)
