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
    from webhooks.openapi import EVENT_EXAMPLE
    from webhooks.outbound import payload_of

    sent = payload_of(Event(type="order.received", merchant_id=1, data={"order_id": 42}))
    assert set(sent) == set(EVENT_EXAMPLE)


OUTSIDE_THE_API = ("/widget/v1/", "/pos/v1/", "/webhooks/")


def test_hook_register_api_interfaces_adds_the_widget_counter_and_intake(client, app):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    tags = [tag["name"] for tag in spec["tags"]]
    assert {"Widget", "Counter (POS)", "Webhook intake"} <= set(tags)
    outside = [path for path in spec["paths"] if path.startswith(OUTSIDE_THE_API)]
    assert "/pos/v1/sales" in outside and "/widget/v1/c/{connection_id}/state" in outside
    # every documented operation of the widget and the counter is a route the app serves
    urls = app.url_map.bind("hub.test")
    for path in outside:
        for method in spec["paths"][path]:
            assert spec["paths"][path][method]["summary"]
            assert spec["paths"][path][method]["tags"][0] in tags
            if not path.startswith("/webhooks/"):
                urls.match(re.sub(r"\{[^}]+\}", "1", path), method=method.upper())


def test_the_documented_intake_answers_an_unsigned_delivery_401(api, client):
    # The intake sits in front of Flask's routes; a real delivery shows it is where documented.
    connection = api.post("/api/v1/connections", json={"connector": "custom"}).json
    answer = client.post(f"/webhooks/custom/{connection['id']}", json={"type": "order.created"})
    assert answer.status_code == 401


def test_the_widget_answers_as_its_document_says(api, hub, client):
    import jsonschema
    from widget_setup import set_up_storefront

    storefront = set_up_storefront(api, hub)
    spec = client.get("/api/v1/openapi.json").json
    documented = spec["paths"]["/widget/v1/c/{connection_id}/state"]["get"]
    answer = documented["responses"]["200"]["content"]["application/json"]
    state = client.get(f"/widget/v1/c/{storefront.connection_id}/state?locale=vi")
    assert state.status_code == 200
    schema = {**answer["schema"], "additionalProperties": False}
    jsonschema.validate(state.json, _nullable_as_31(schema))
    jsonschema.validate(answer["example"], _nullable_as_31(schema))


def _nullable_as_31(schema):
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type, for jsonschema."""
    if isinstance(schema, list):
        return [_nullable_as_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: _nullable_as_31(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    return converted


def test_the_counter_docs_list_every_counter_operation_of_the_document(client):
    import pathlib

    spec = client.get("/api/v1/openapi.json").json
    documented = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        if path.startswith("/pos/v1/")
        for method in item
    }
    page = (pathlib.Path(__file__).parent.parent / "docs" / "counter-api.md").read_text()
    listed = set(re.findall(r"^\| `((?:GET|POST|PUT|PATCH|DELETE) /pos/v1/[^`]*)` \|", page, re.M))
    assert listed == documented
    for name in documented:
        method, path = name.lower().split(" ")
        operation = spec["paths"][path][method]
        row = re.search(rf"^\| `{re.escape(name)}` \|.*\| (.*) \|$", page, re.M).group(1)
        answers = set(re.findall(r"`(\d{3})`", row)) | {"401"}
        assert answers == set(operation["responses"]), name
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            import jsonschema

            jsonschema.validate(body["example"], body["schema"])
