"""The JSON Schemas of the widget's success answers, for the OpenAPI document.

Each mirrors the code that builds the answer (``state.program_view``,
``state.member_view``, ``views._redeem``, ``views.referral``);
tests/test_widget_answers.py calls every widget operation and validates its
answer against these, so the two cannot drift apart unnoticed. Amounts are
decimal strings, as on ``/api/v1``; a day shown to the visitor (``*_on``) is
text in the shop's language and timezone.
"""

from __future__ import annotations

from typing import Any

INT = {"type": "integer"}
TEXT = {"type": "string"}
BOOL = {"type": "boolean"}
MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "an amount, in digits"}
NULL_MONEY = {**MONEY, "type": ["string", "null"]}
NULL_TEXT = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
NULL_WHEN = {"type": ["string", "null"], "format": "date-time"}


def shape(properties: dict[str, Any], *, nullable: bool = False, **more: Any) -> dict[str, Any]:
    """An object whose properties are all present (and no others, unless ``more`` says)."""
    return {
        "type": ["object", "null"] if nullable else "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
        **more,
    }


def listing(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


REWARD = shape(
    {
        "id": INT,
        "name": TEXT,
        "description": NULL_TEXT,
        "kind": TEXT,
        "value": NULL_MONEY,
        "points_cost": INT,
        "min_order": NULL_MONEY,
        "min_tier_id": NULL_INT,
    }
)
TIER = shape(
    {
        "id": INT,
        "name": TEXT,
        "threshold": MONEY,
        "basis": TEXT,
        "window": NULL_TEXT,
        "benefits": NULL_TEXT,
    }
)
# A way to earn names its kind; the rest depends on it (purchase, action, referral...).
WAY_TO_EARN = {"type": "object", "required": ["kind"], "properties": {"kind": TEXT}}
MEMBER_TIER = shape(
    {
        "name": NULL_TEXT,
        "benefits": NULL_TEXT,
        "basis": TEXT,
        "next": shape({"name": TEXT, "threshold": MONEY}, nullable=True),
        "progress": NULL_MONEY,
        "delta_to_next": NULL_MONEY,
        "threshold": NULL_MONEY,
        "retain_by": NULL_WHEN,
        "retain_on": NULL_TEXT,
        "delta_to_retain": NULL_MONEY,
    },
    nullable=True,
)
MEMBER_VOUCHER = {
    "type": "object",
    "required": ["code", "name", "kind", "value", "status", "expires_at", "expires_on"],
    "properties": {
        "code": TEXT,
        "name": NULL_TEXT,
        "kind": TEXT,
        "value": NULL_MONEY,
        "status": TEXT,
        "expires_at": NULL_WHEN,
        "expires_on": NULL_TEXT,
    },
}
MEMBER = shape(
    {
        "name": NULL_TEXT,
        "code": TEXT,
        "qr_svg": {"type": "string", "description": "the member code's QR, an SVG document"},
        "points": shape({"available": INT, "pending": INT, "total": INT}),
        "expiring": listing(
            shape(
                {
                    "points": INT,
                    "expires_at": {**TEXT, "format": "date-time"},
                    "expires_on": NULL_TEXT,
                }
            )
        ),
        "tier": MEMBER_TIER,
        "vouchers": listing(MEMBER_VOUCHER),
        "referral_url": NULL_TEXT,
        "referrals": {
            "type": ["object", "null"],
            "required": ["code"],
            "properties": {"code": TEXT, "joined": INT, "pending": INT, "rewarded": INT},
        },
        "activity": listing({"type": "object"}),
        "actions": {
            "type": "object",
            "description": "per action rule, `open` (can still earn) or `done`",
            "additionalProperties": {"type": "string", "enum": ["open", "done"]},
        },
        "extra": {
            "type": "object",
            "description": "what plugins add to the panel (the `widget_data` hook), by key",
        },
    },
    nullable=True,
    description="the signed-in member's panel; null for a guest",
)
STATE = shape(
    {
        "shop": TEXT,
        "currency": TEXT,
        "locale": {"type": "string", "enum": ["vi", "en"]},
        "theme": shape({"colour": TEXT, "position": TEXT, "launcher_text": NULL_TEXT}),
        "program": shape({"enabled": BOOL, "pending_days": INT, "expiry": TEXT}),
        "ways_to_earn": listing(WAY_TO_EARN),
        "rewards": listing(REWARD),
        "tiers": listing(TIER),
        "join_url": NULL_TEXT,
        "sign_in_url": NULL_TEXT,
        "texts": {
            "type": "object",
            "description": "the panel's words in its language, from the widget's catalogues",
            "additionalProperties": {"type": ["string", "object"]},
        },
        "member": MEMBER,
    }
)
REDEEMED = shape(
    {
        "voucher": shape({"code": TEXT, "name": NULL_TEXT, "expires_at": NULL_WHEN}),
        "points": shape({"available": INT}),
    }
)
REFERRAL = shape(
    {
        "status": {"type": "string", "enum": ["joined", "rejected"]},
        "reason": NULL_TEXT,
    }
)
