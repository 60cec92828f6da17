"""The counter API (``/pos/v1``) as the OpenAPI document describes it (docs/counter-api.md)."""

from __future__ import annotations

from typing import Any

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
CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(example: Any, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"application/json": {"schema": schema or {"type": "object"}, "example": example}}


def _answers(ok: str, example: Any, *errors: tuple[str, str]) -> dict[str, Any]:
    answers = {ok: {"description": "Created" if ok == "201" else "OK", "content": _json(example)}}
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


def _post(summary: str, body: Any, ok: str, answer: Any, *errors: tuple[str, str]) -> dict:
    return {
        "post": {
            "summary": summary,
            "requestBody": {"required": True, "content": _json(body)},
            "responses": _answers(ok, answer, ("422", "a field is missing or invalid"), *errors),
        }
    }


def _member_paths() -> dict[str, Any]:
    """Looking members up and enrolling them."""
    lookup = {"member": MEMBER_EXAMPLE}
    missing = ("404", "`member_not_found`: offer to enrol the customer")
    return {
        "/pos/v1/members": {
            "get": {
                "summary": "Find a member by phone, member code or the QR's text.",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": _answers("200", lookup, missing),
            },
            **_post(
                "Enrol a member (a phone already a member's answers 200 with them).",
                {"phone": "0912 345 678", "name": "Nguyễn Thị Lan", "consents": {"sms": True}},
                "201",
                {"created": True, "member": MEMBER_EXAMPLE},
            ),
        },
        "/pos/v1/members/lookup": _post(
            "Find a member, the phone in the body (out of URLs and logs).",
            {"q": "0912345678"},
            "200",
            lookup,
            missing,
        ),
        "/pos/v1/members/{code}": {
            "get": {
                "summary": "A member by member code (a merged member's old code too).",
                "parameters": [CODE],
                "responses": _answers("200", lookup, missing),
            }
        },
    }


def counter_interface() -> ApiInterface:
    return ApiInterface(
        tag="Counter (POS)",
        description="What a till calls, with a POS key of its connection "
        "(`Authorization: Bearer pos_…`): look members up, enrol them, record sales, "
        "redeem points, validate and burn vouchers. A merchant's API key is refused here, "
        "and a POS key on `/api/v1`. See docs/counter-api.md.",
        paths={
            "/pos/v1/me": {
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
                        },
                    ),
                }
            },
            **_member_paths(),
            "/pos/v1/sales": _post(
                "Record a sale: its member earns; the same receipt again changes nothing.",
                SALE_EXAMPLE,
                "201",
                SALE_ANSWER,
            ),
            "/pos/v1/vouchers/validate": _post(
                "Check a voucher code before the sale: valid or not, and the discount.",
                {"code": "27A4-K6VJ-MV64", "amount": "200000"},
                "200",
                {"valid": True, "reason": None, "message": "", "discount": "50000"},
            ),
            "/pos/v1/vouchers/burn": _post(
                "Use a voucher on the receipt it pays for; the same burn again is replayed.",
                {"code": "27A4K6VJMV64", "receipt": "HD000125", "amount": "200000"},
                "200",
                {"replayed": False, "receipt": "HD000125", "discount": "50000"},
                ("409", "`voucher_already_used`, `voucher_expired` or `voucher_cancelled`"),
            ),
        },
    )
