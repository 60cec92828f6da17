"""``hub.client``: every method is an operation of the document, and it works against a live hub."""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Any

import pytest

from hub.client import OPERATIONS
from hub.client import ApiError
from hub.client import HubClient
from hub.client import Operation

JSON_TYPES = {int: "integer", str: "string", bool: "boolean", list: "array", dict: "object"}


def _resolve(spec: dict, schema: dict) -> dict:
    """The schema a reference, a lone ``allOf`` or a "null or X" ``anyOf`` stands for, with
    ``nullable`` true when null is allowed (OpenAPI 3.1 says so with JSON Schema's null type)."""
    nullable = False
    while True:
        kinds = schema.get("type")
        if isinstance(kinds, list) and "null" in kinds:
            nullable = True
            rest = [k for k in kinds if k != "null"]
            schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif len(schema.get("allOf", ())) == 1:
            schema = schema["allOf"][0]
        elif "anyOf" in schema:
            branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
            nullable = nullable or len(branches) < len(schema["anyOf"])
            if len(branches) != 1:
                return {**schema, "nullable": nullable}
            schema = branches[0]
        else:
            return {**schema, "nullable": nullable}


def _type_mismatch(spec: dict, where: str, annotation: Any, schema: dict, sent: bool) -> list[str]:
    """Why ``annotation`` does not describe values of ``schema`` (nothing when it does).

    What the client ``sent`` may be narrower than the document allows (never null
    where null is allowed); what it reads must allow everything the document says.
    """
    schema = _resolve(spec, schema)
    args = typing.get_args(annotation)
    optional = typing.get_origin(annotation) in (types.UnionType, typing.Union)
    if optional:
        annotation = next(arg for arg in args if arg is not type(None))
    nullable = bool(schema.get("nullable"))
    if (optional and not nullable) if sent else (nullable and not optional):
        return [f"{where}: the client says nullable={optional}, the document the opposite"]
    if annotation is Decimal:
        if schema.get("format") != "decimal":
            return [f"{where}: Decimal in the client, not a decimal string in the document"]
        return []
    if typing.is_typeddict(annotation):
        return _fields_mismatch(spec, where, annotation, schema, sent)
    base = typing.get_origin(annotation) or annotation
    if schema.get("type") != JSON_TYPES.get(base):
        return [f"{where}: {annotation} in the client, {schema.get('type')} in the document"]
    return []


def _fields_mismatch(spec: dict, where: str, kind: type, schema: dict, sent: bool) -> list[str]:
    properties = _resolve(spec, schema).get("properties", {})
    problems = []
    for name, annotation in typing.get_type_hints(kind).items():
        if name not in properties:
            problems.append(f"{where}.{name} is not in the document")
        else:
            problems += _type_mismatch(spec, f"{where}.{name}", annotation, properties[name], sent)
    return problems


def mismatches(spec: dict, name: str, operation: Operation) -> list[str]:
    """Everything ``operation`` names that the document does not have."""
    documented = spec["paths"].get(operation.path, {}).get(operation.method)
    if documented is None:
        return [f"{name}: {operation.method.upper()} {operation.path} is not in the document"]
    parameters = [_resolve_parameter(spec, p) for p in documented.get("parameters", ())]
    query = {p["name"] for p in parameters if p["in"] == "query"}
    problems = [f"{name}: no query parameter {q}" for q in operation.query if q not in query]
    if operation.body is not None:
        body = documented["requestBody"]["content"]["application/json"]["schema"]
        problems += _fields_mismatch(spec, f"{name} body", operation.body, body, True)
    success = next(v for k, v in documented["responses"].items() if k.startswith("2"))
    answer = success["content"]["application/json"]["schema"]
    if operation.paged:
        answer = _resolve(spec, answer)["properties"]["data"]["items"]
    problems += _fields_mismatch(spec, f"{name} answer", operation.answer, answer, False)
    return problems


def _resolve_parameter(spec: dict, parameter: dict) -> dict:
    if "$ref" in parameter:
        return spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
    return parameter


def test_every_client_operation_is_in_the_served_document(client):
    spec = client.get("/api/v1/openapi.json").json
    problems = [p for name, op in OPERATIONS.items() for p in mismatches(spec, name, op)]
    assert problems == []


def test_the_check_finds_a_wrong_path_parameter_field_and_type(client):
    spec = client.get("/api/v1/openapi.json").json

    class Wrong(typing.TypedDict):
        id: str
        nickname: str
        phone: str

    class WrongBody(typing.TypedDict):
        points: int | None

    class WrongAnswer(typing.TypedDict):
        balance: int

    wrong = [
        Operation("get", "/api/v1/member", Wrong),
        Operation("post", "/api/v1/members/{member_id}/adjustments", WrongAnswer, body=WrongBody),
        Operation("get", "/api/v1/members", Wrong, query=("colour",), paged=True),
    ]
    found = [p for operation in wrong for p in mismatches(spec, "wrong", operation)]
    assert found == [
        "wrong: GET /api/v1/member is not in the document",
        "wrong body.points: the client says nullable=True, the document the opposite",
        "wrong answer.balance is not in the document",
        "wrong: no query parameter colour",
        "wrong answer.id: <class 'str'> in the client, integer in the document",
        "wrong answer.nickname is not in the document",
        "wrong answer.phone: the client says nullable=False, the document the opposite",
    ]


@pytest.fixture
def remote(hub_server, merchant) -> HubClient:
    return HubClient(hub_server.base_url, merchant.api_key)


def test_a_member_earns_and_redeems_through_the_client_on_a_live_hub(remote, api):
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
    ).json
    member = remote.create_member({"phone": "0912 345 678", "name": "Nguyễn Thị Lan"})
    assert member["phone"] == "+84912345678"

    entry = remote.adjust_points(member["id"], 150, "khai trương", idempotency_key="open-1")
    again = remote.adjust_points(member["id"], 150, "khai trương", idempotency_key="open-1")
    done = remote.redeem(member["id"], reward["id"])

    assert again["id"] == entry["id"]
    assert done["points_spent"] == 100 and done["balance"] == 50
    assert done["voucher"]["value"] == Decimal("50000")
    assert remote.points(member["id"])["available"] == 50
    assert [e["points"] for e in remote.ledger(member["id"]).data] == [-100, 150]
    assert remote.list_rewards(active=True).data[0]["min_order"] == Decimal("0")


def test_iter_members_follows_the_cursor_to_the_last_page(remote, make):
    made = {make.member(phone=f"+8490000000{i}").id for i in range(5)}
    first = remote.list_members(limit=2)
    assert len(first.data) == 2 and first.next_cursor
    assert {m["id"] for m in remote.iter_members(limit=2)} == made


def test_errors_carry_the_apis_status_and_code(remote, hub_server):
    with pytest.raises(ApiError) as missing:
        remote.get_member(999999)
    assert (missing.value.status, missing.value.code) == (404, "member_not_found")
    with pytest.raises(ApiError) as invalid:
        remote.adjust_points(999999, 0, "")
    assert invalid.value.status in (404, 422)
    with pytest.raises(ApiError) as refused:
        HubClient(hub_server.base_url, "hub_wrong").merchant()
    assert refused.value.status == 401


def test_a_filter_the_operation_does_not_take_is_refused_before_sending(remote):
    with pytest.raises(TypeError, match="list_members takes no colour"):
        remote.list_members(colour="red")
