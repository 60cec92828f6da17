"""The JSON Schemas of the counter API's success answers, for the OpenAPI document.

Each mirrors the function that builds the answer (``members.card``,
``members.voucher_view``, ``api.sale_view``, ``rewards.check_voucher``...);
tests/test_counter_answers.py calls every operation and validates its answer
against the schema written here, so a field added or renamed in one place
fails there until the other follows. Amounts are decimal strings, as on ``/api/v1``.
"""

from __future__ import annotations

from typing import Any

INT = {"type": "integer"}
TEXT = {"type": "string"}
MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "an amount, in digits"}
NULL_TEXT = {"type": ["string", "null"]}
NULL_MONEY = {**MONEY, "type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
BOOL = {"type": "boolean"}
WHEN = {"type": "string", "format": "date-time"}


def shape(properties: dict[str, Any], *, nullable: bool = False, **more: Any) -> dict[str, Any]:
    """An object with exactly these properties, every one always present."""
    return {
        "type": ["object", "null"] if nullable else "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
        **more,
    }


VOUCHER = shape(
    {
        "id": INT,
        "code": TEXT,
        "name": NULL_TEXT,
        "kind": TEXT,
        "value": NULL_MONEY,
        "max_discount": NULL_MONEY,
        "product_sku": NULL_TEXT,
        "min_order": NULL_MONEY,
        "currency": NULL_TEXT,
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
    }
)
REDEMPTION_TERMS = {
    "type": "object",
    "required": ["enabled"],
    "description": "what the member may redeem at this counter; only `enabled` when off",
    "properties": {
        "enabled": BOOL,
        "point_value": MONEY,
        "max_percent": MONEY,
        "min_points": INT,
        "max_points": INT,
    },
    "additionalProperties": False,
}
BALANCE = shape({"available": INT, "pending": INT})
CARD = shape(
    {
        "id": INT,
        "code": TEXT,
        "name": NULL_TEXT,
        "phone_hint": NULL_TEXT,
        "points": BALANCE,
        "tier": shape({"id": INT, "name": TEXT}, nullable=True),
        "vouchers": {"type": "array", "items": VOUCHER},
        "redemption": REDEMPTION_TERMS,
        "qr_svg_url": TEXT,
    }
)
LOOKUP = shape({"member": CARD})
ENROLMENT = shape({"created": BOOL, "member": CARD})
ME = shape(
    {
        "connection_id": INT,
        "location": TEXT,
        "shop": TEXT,
        "currency": TEXT,
        "timezone": TEXT,
        # The counter's terms, without a member's ``max_points``.
        "redemption": {
            **REDEMPTION_TERMS,
            "properties": {
                k: v for k, v in REDEMPTION_TERMS["properties"].items() if k != "max_points"
            },
        },
    }
)
REWARDS = shape(
    {
        "data": {
            "type": "array",
            "items": shape(
                {
                    "id": INT,
                    "name": TEXT,
                    "kind": TEXT,
                    "value": NULL_MONEY,
                    "points_cost": INT,
                    "min_order": NULL_MONEY,
                    "min_tier_id": NULL_INT,
                    "stock": NULL_INT,
                }
            ),
        }
    }
)
REDEEMED = shape({"replayed": BOOL, "voucher": VOUCHER, "points_spent": INT, "balance": INT})
SALE_POINTS = {
    "earned": INT,
    "reversed": INT,
    "redeemed": INT,
    "discount": MONEY,
    "balance": shape({"available": INT, "pending": INT}, nullable=True),
}
_SALE = {
    "receipt": TEXT,
    "order_id": INT,
    "sold_at": WHEN,
    "voided": BOOL,
    "member": shape({"id": INT, "code": TEXT, "name": NULL_TEXT}, nullable=True),
}
SALE_READ = shape({**_SALE, "points": shape(SALE_POINTS)})
SALE = shape({**_SALE, "created": BOOL, "points": shape(SALE_POINTS)})
VOIDED = shape({**_SALE, "created": BOOL, "points": shape({**SALE_POINTS, "returned": INT})})
REFUND = shape({"receipt": TEXT, "refund_id": TEXT, "created": BOOL, "points_reversed": INT})
VOUCHER_CHECK = shape(
    {
        "valid": BOOL,
        "reason": NULL_TEXT,
        "message": TEXT,
        "discount": NULL_MONEY,
        "voucher": {**VOUCHER, "type": ["object", "null"]},
    }
)
BURNED = shape(
    {
        "replayed": BOOL,
        "receipt": TEXT,
        "discount": NULL_MONEY,
        "voucher": {
            **VOUCHER,
            "required": [*VOUCHER["required"], "status"],
            "properties": {**VOUCHER["properties"], "status": TEXT},
        },
    }
)
