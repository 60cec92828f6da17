"""The OpenAPI document describes errors as the API answers them: ``{"error": {...}}``."""

import jsonschema
import pytest

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _operations(spec):
    # The REST API's operations; the interfaces outside /api/v1 document their own answers.
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method in OPERATIONS:
                yield method, path, operation


def _matches(spec, body, ref) -> bool:
    document = {"$ref": ref, "components": spec["components"]}
    try:
        jsonschema.validate(body, document)
    except jsonschema.ValidationError:
        return False
    return True


def test_the_documented_error_is_the_error_object_the_api_answers(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["additionalProperties"] is False
    body = spec["components"]["schemas"]["ErrorBody"]
    assert sorted(body["required"]) == ["code", "details", "message"]

    answered = {"error": {"code": "not_found", "message": "x", "details": {}}}
    flat = {"code": "not_found", "message": "x", "details": {}}
    assert _matches(spec, answered, "#/components/schemas/Error")
    assert not _matches(spec, flat, "#/components/schemas/Error")


def test_every_operation_lists_its_error_statuses_with_the_error_shape_and_no_catch_all(spec):
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        assert "default" not in responses, f"{method} {path}"
        assert "401" in responses, f"{method} {path} does not say a key is needed"
        if "{" in path:
            assert "404" in responses, f"{method} {path}"
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses), f"{method} {path}"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                name = response["$ref"].rsplit("/", 1)[-1]
                content = spec["components"]["responses"][name]["content"]
                schema = content["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path}"


def test_real_error_answers_match_the_documented_error(spec, client, api):
    answers = [
        client.get("/api/v1/members"),
        api.get("/api/v1/members/424242"),
        api.post("/api/v1/members", json={"nickname": "x"}),
        api.post("/api/v1/members", data="{not json", content_type="application/json"),
    ]
    assert [a.status_code for a in answers] == [401, 404, 422, 400]
    for answer in answers:
        assert _matches(spec, answer.json, "#/components/schemas/Error"), answer.json


def test_mutating_operations_document_the_idempotency_key_header(spec):
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"]) == ("Idempotency-Key", "header")
    assert parameter["schema"]["maxLength"] == 255
    for method, path, operation in _operations(spec):
        refs = [p.get("$ref") for p in operation.get("parameters", [])]
        documented = "#/components/parameters/IdempotencyKey" in refs
        assert documented == (method != "get"), f"{method} {path}"


def test_an_id_beyond_64_bits_in_a_path_answers_404_in_the_error_shape(api, spec):
    response = api.get("/api/v1/members/99999999999999999999/messages")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    parameter = spec["paths"]["/api/v1/members/{member_id}"]["parameters"][0]
    assert parameter["schema"]["maximum"] == 2**63 - 1
