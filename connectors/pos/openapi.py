"""The counter API (``/pos/v1``) as the OpenAPI document describes it (docs/counter-api.md).

Request bodies are described from the marshmallow schemas that load them
(``connectors.pos.schemas``), so the document and the checks cannot drift.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema
from marshmallow import fields

from connectors.pos import answers
from connectors.pos import schemas
from hub import ApiInterface

ERROR = {"$ref": "#/components/schemas/Error"}
MEMBER_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "code": "CYRG1150",
    "name": "Nguyễn Thị Lan",
    "phone_hint": "•••5678",
    "points": {"available": 1000, "pending": 0},
    "tier": {"id": 1, "name": "Bạc"},
    "vouchers": [],
    "redemption": {
        "enabled": True,
        "point_value": "100",
        "max_percent": "50",
        "min_points": 10,
        "max_points": 1000,
    },
    "qr_svg_url": "/pos/v1/members/CYRG1150/qr.svg",
}
SALE_EXAMPLE = {
    "receipt": "HD000123",
    "sold_at": "2026-11-20T10:15:00+07:00",
    "total": "350000",
    "member_code": "CYRG1150",
    "lines": [{"sku": "CF-1", "title": "Cà phê sữa", "quantity": 2, "price": "175000"}],
}
SALE_ANSWER = {
    "receipt": "HD000123",
    "created": True,
    "order_id": 1,
    "sold_at": "2026-11-20T03:15:00+00:00",
    "voided": False,
    "member": {"id": 1, "code": "CYRG1150", "name": "Nguyễn Thị Lan"},
    "points": {
        "earned": 350,
        "reversed": 0,
        "redeemed": 0,
        "discount": "0",
        "balance": {"available": 350, "pending": 0},
    },
}
SALE_READ = {k: v for k, v in SALE_ANSWER.items() if k != "created"}
REWARD_EXAMPLE = {
    "id": 1,
    "name": "Giảm 50.000đ",
    "kind": "amount_off",
    "value": "50000",
    "points_cost": 300,
    "min_order": "0",
    "min_tier_id": None,
    "stock": None,
}
CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
RECEIPT = {"name": "receipt", "in": "path", "required": True, "schema": {"type": "string"}}
VOUCHER_EXAMPLE = {
    "id": 1,
    "code": "27A4K6VJMV64",
    "name": "Giảm 50.000đ",
    "kind": "amount_off",
    "value": "50000",
    "max_discount": None,
    "product_sku": None,
    "min_order": "0",
    "currency": "VND",
    "expires_at": "2026-12-31T16:59:59+00:00",
}


def body_schema(schema: type[Schema]) -> dict[str, Any]:
    """The JSON Schema of a request body, from the marshmallow schema that loads it."""
    converter = OpenAPIConverter("3.1.0", lambda _: None, None)
    # Amounts are decimal strings ("350000") or JSON numbers; either becomes a Decimal.
    converter.map_to_openapi_type(fields.Decimal, ["string", "number"], None)
    return _plain(converter.schema2jsonschema(schema))


def _plain(node: Any) -> Any:
    """Defaults left out (the loader fills them); decimal bounds as JSON numbers."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items() if k != "default"}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, Decimal):
        return int(node) if node == node.to_integral_value() else float(node)
    return node


def _json(example: Any, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"application/json": {"schema": schema or {"type": "object"}, "example": example}}


def _answers(
    ok: str, example: Any, *errors: tuple[str, str], schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The success answer ``ok`` (``schema`` its shape, from ``answers``) and the errors."""
    ok_answer = {
        "description": "Created" if ok == "201" else "OK",
        "content": _json(example, schema),
    }
    answers = {ok: ok_answer}
    answers["401"] = {
        "description": "no POS key, or a key revoked",
        "content": {"application/json": {"schema": ERROR}},
    }
    for status, about in errors:
        answers[status] = {
            "description": about,
            "content": {"application/json": {"schema": ERROR}},
        }
    return answers


def _post(
    summary: str,
    body: tuple[type[Schema], Any],
    ok: str,
    answer: Any,
    *errors: tuple[str, str],
    parameters: tuple[dict[str, Any], ...] = (),
    replay: str | None = None,
    schema: dict[str, Any] | None = None,
) -> dict:
    """A POST whose body ``body[0]`` loads (``body[1]`` its example); ``replay`` describes
    the 200 a repeated request answers with the same body."""
    loader, example = body
    operation = {
        "summary": summary,
        "requestBody": {"required": True, "content": _json(example, body_schema(loader))},
        "responses": _answers(
            ok, answer, ("422", "a field is missing or invalid"), *errors, schema=schema
        ),
    }
    if replay:
        operation["responses"]["200"] = {"description": replay, "content": _json(answer, schema)}
    if parameters:
        operation["parameters"] = list(parameters)
    return {"post": operation}


def _member_paths() -> dict[str, Any]:
    """Looking members up and enrolling them."""
    lookup = {"member": MEMBER_EXAMPLE}
    missing = ("404", "`member_not_found`: offer to enrol the customer")
    unreadable = ("422", "neither a phone nor a member code")
    return {
        "/pos/v1/members": {
            "get": {
                "summary": "Find a member by phone, member code or the QR's text.",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": _answers("200", lookup, missing, unreadable, schema=answers.LOOKUP),
            },
            **_post(
                "Enrol a member (a phone already a member's answers 200 with them).",
                (
                    schemas.EnrolSchema,
                    {"phone": "0912 345 678", "name": "Nguyễn Thị Lan", "consents": {"sms": True}},
                ),
                "201",
                {"created": True, "member": MEMBER_EXAMPLE},
                replay="the phone is a member's already: that member, `created` false",
                schema=answers.ENROLMENT,
            ),
        },
        "/pos/v1/members/lookup": _post(
            "Find a member, the phone in the body (out of URLs and logs).",
            (LookupSchema, {"q": "0912345678"}),
            "200",
            lookup,
            missing,
            schema=answers.LOOKUP,
        ),
        "/pos/v1/members/{code}": {
            "get": {
                "summary": "A member by member code (a merged member's old code too).",
                "parameters": [CODE],
                "responses": _answers("200", lookup, missing, schema=answers.LOOKUP),
            }
        },
    }


class LookupSchema(Schema):
    """What ``POST /pos/v1/members/lookup`` reads (the view takes ``q`` alone)."""

    q = fields.Str(required=True, metadata={"description": "phone, member code or QR text"})


def _reward_paths() -> dict[str, Any]:
    """The counter's rewards, and redeeming one for a member."""
    return {
        "/pos/v1/members/{code}/qr.svg": {
            "get": {
                "summary": "The member's code as a QR code (SVG), for a card or a receipt.",
                "parameters": [CODE],
                "responses": {
                    **_answers("200", None, ("404", "`member_not_found`")),
                    "200": {
                        "description": "OK",
                        "content": {"image/svg+xml": {"schema": {"type": "string"}}},
                    },
                },
            }
        },
        "/pos/v1/members/{code}/redemptions": _post(
            "Spend the member's points on a reward: a voucher, once per `request_id`.",
            (schemas.RedemptionSchema, {"reward_id": 1, "request_id": "till-1-000042"}),
            "201",
            {"replayed": False, "points_spent": 300, "balance": 50, "voucher": VOUCHER_EXAMPLE},
            ("404", "`member_not_found` or `reward_not_found`"),
            ("409", "`insufficient_points`, `request_id_reused` or the reward is out of stock"),
            parameters=(CODE,),
            replay="the same `request_id` again: the same voucher, `replayed` true",
            schema=answers.REDEEMED,
        ),
        "/pos/v1/rewards": {
            "get": {
                "summary": "The active rewards, cheapest first.",
                "responses": _answers(
                    "200",
                    {"data": [{**REWARD_EXAMPLE}]},
                    schema=answers.REWARDS,
                ),
            }
        },
    }


def _sale_paths() -> dict[str, Any]:
    """Reading a sale back, voiding it and refunding part of it."""
    unknown = ("404", "`receipt_not_found`")
    voided = {**SALE_ANSWER, "created": True, "voided": True}
    voided["points"] = {**SALE_ANSWER["points"], "reversed": 350, "returned": 0}
    return {
        "/pos/v1/sales/{receipt}": {
            "get": {
                "summary": "A recorded sale: its member, the points it earned and redeemed.",
                "parameters": [RECEIPT],
                "responses": _answers("200", SALE_READ, unknown, schema=answers.SALE_READ),
            }
        },
        "/pos/v1/sales/{receipt}/void": _post(
            "Void a sale: points earned taken back, points redeemed returned; once.",
            (schemas.VoidSchema, {"reason": "khách đổi ý"}),
            "200",
            voided,
            unknown,
            schema=answers.VOIDED,
            parameters=(RECEIPT,),
        ),
        "/pos/v1/sales/{receipt}/refunds": _post(
            "Record money given back on a sale, once per `refund_id`; its points share goes.",
            (schemas.RefundSchema, {"refund_id": "TH-1", "amount": "175000"}),
            "201",
            {"receipt": "HD000123", "refund_id": "TH-1", "created": True, "points_reversed": 175},
            parameters=(RECEIPT,),
            replay="the same `refund_id` again: nothing changes, `created` false",
            schema=answers.REFUND,
        ),
    }


def _me_path() -> dict[str, Any]:
    """Who the key is."""
    return {
        "get": {
            "summary": "The connection this key opens: its location, shop and terms.",
            "responses": _answers(
                "200",
                {
                    "connection_id": 7,
                    "location": "Trà Sen Lê Lợi",
                    "shop": "Trà Sen",
                    "currency": "VND",
                    "timezone": "Asia/Ho_Chi_Minh",
                    "redemption": {
                        k: v for k, v in MEMBER_EXAMPLE["redemption"].items() if k != "max_points"
                    },
                },
                schema=answers.ME,
            ),
        }
    }


def _voucher_paths() -> dict[str, Any]:
    """Checking a voucher code, and using it on a receipt."""
    return {
        "/pos/v1/vouchers/validate": _post(
            "Check a voucher code before the sale: valid or not, and the discount.",
            (schemas.VoucherCheckSchema, {"code": "27A4-K6VJ-MV64", "amount": "200000"}),
            "200",
            {
                "valid": True,
                "reason": None,
                "message": "",
                "discount": "50000",
                "voucher": VOUCHER_EXAMPLE,
            },
            schema=answers.VOUCHER_CHECK,
        ),
        "/pos/v1/vouchers/burn": _post(
            "Use a voucher on the receipt it pays for; the same burn again is replayed.",
            (
                schemas.VoucherBurnSchema,
                {"code": "27A4K6VJMV64", "receipt": "HD000125", "amount": "200000"},
            ),
            "200",
            {
                "replayed": False,
                "receipt": "HD000125",
                "discount": "50000",
                "voucher": {**VOUCHER_EXAMPLE, "status": "used"},
            },
            ("404", "`voucher_not_found`"),
            ("409", "`voucher_already_used`, `voucher_expired` or `voucher_cancelled`"),
            schema=answers.BURNED,
        ),
    }


def counter_interface() -> ApiInterface:
    return ApiInterface(
        tag="Counter (POS)",
        description="What a till calls, with a POS key of its connection "
        "(`Authorization: Bearer pos_…`): look members up, enrol them, record sales, "
        "redeem points, validate and burn vouchers. A merchant's API key is refused here, "
        "and a POS key on `/api/v1`. See docs/counter-api.md.",
        paths={
            "/pos/v1/me": _me_path(),
            **_member_paths(),
            **_reward_paths(),
            "/pos/v1/sales": _post(
                "Record a sale: its member earns; the same receipt again changes nothing.",
                (schemas.SaleSchema, SALE_EXAMPLE),
                "201",
                SALE_ANSWER,
                ("409", "`insufficient_points`: too few points for `redeem_points`"),
                replay="the same receipt again: the same answer, `created` false",
                schema=answers.SALE,
            ),
            **_sale_paths(),
            **_voucher_paths(),
        },
    )
