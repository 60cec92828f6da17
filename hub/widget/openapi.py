"""The storefront widget's JSON, as the OpenAPI document describes it (tag "Widget")."""

from __future__ import annotations

from typing import Any

from hub.registry import ApiInterface
from hub.widget import answers

VISITOR = {
    "name": "Authorization",
    "in": "header",
    "required": False,
    "description": "`Bearer <visitor token>`: an HS256 token the store's server signs with the "
    "connection's widget secret (`sub` the customer id, at most 5 minutes). Without "
    "it, or with a bad one, the answer is the guest view.",
    "schema": {"type": "string"},
}
CONNECTION = {
    "name": "connection_id",
    "in": "path",
    "required": True,
    "description": "the storefront's connection",
    "schema": {"type": "integer", "minimum": 1},
}

STATE_EXAMPLE: dict[str, Any] = {
    "shop": "Cửa hàng Hoa Mai",
    "currency": "VND",
    "locale": "vi",
    "theme": {"colour": "#0b6e4f", "position": "right", "launcher_text": None},
    "program": {"enabled": True, "pending_days": 0, "expiry": "never"},
    "ways_to_earn": [{"kind": "purchase", "amount": "1000", "points": 1}],
    "rewards": [
        {
            "id": 1,
            "name": "Giảm 50.000đ",
            "description": "",
            "kind": "amount_off",
            "value": "50000",
            "points_cost": 1000,
            "min_order": "0",
            "min_tier_id": None,
        }
    ],
    "tiers": [
        {
            "id": 1,
            "name": "Đồng",
            "threshold": "0",
            "basis": "points",
            "window": "lifetime",
            "benefits": "",
        }
    ],
    "join_url": "https://shop.example.vn/account/register",
    "sign_in_url": "https://shop.example.vn/account/login",
    "texts": {"title": "Khách hàng thân thiết"},
    "member": None,
}

GUEST = {"security": []}


STATE_PATH: dict[str, Any] = {
    "get": {
        **GUEST,
        "summary": "The panel's data: the guest view, or the member's with a token.",
        "parameters": [
            CONNECTION,
            VISITOR,
            {
                "name": "locale",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["vi", "en"]},
            },
        ],
        "responses": {
            "200": {
                "description": "the panel",
                "content": {
                    "application/json": {
                        "schema": answers.STATE,
                        "example": STATE_EXAMPLE,
                    }
                },
            },
            "304": {"description": "unchanged since the `ETag` sent"},
            "404": {"description": "no active storefront connection"},
            "429": {"description": "over the visitor's or the storefront's limit"},
        },
    }
}

REDEEM_PATH: dict[str, Any] = {
    "post": {
        **GUEST,
        "summary": "Redeem a reward for the signed-in member; answers the voucher.",
        "parameters": [CONNECTION, {**VISITOR, "required": True}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["reward_id"],
                        "properties": {"reward_id": {"type": "integer"}},
                    },
                    "example": {"reward_id": 1},
                }
            },
        },
        "responses": {
            "201": {
                "description": "the voucher issued, and the member's points left",
                "content": {
                    "application/json": {
                        "schema": answers.REDEEMED,
                        "example": {
                            "voucher": {
                                "code": "27A4K6VJMV64",
                                "name": "Giảm 50.000đ",
                                "expires_at": "2026-12-31T16:59:59+00:00",
                            },
                            "points": {"available": 500},
                        },
                    }
                },
            },
            "401": {"description": "no valid visitor token"},
            "404": {"description": "no active storefront connection, or no such reward"},
            "409": {"description": "too few points, out of stock, or over a limit"},
            "422": {"description": "the reward cannot be redeemed by this member"},
        },
    }
}


REFERRAL_PATH: dict[str, Any] = {
    "post": {
        **GUEST,
        "summary": "Tie the signed-in visitor, as a friend, to the referral code they came with.",
        "parameters": [CONNECTION, {**VISITOR, "required": True}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["code"],
                        "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 32}},
                    },
                    "example": {"code": "LAN2K7"},
                }
            },
        },
        "responses": {
            "200": {
                "description": "the claim: `joined`, or `rejected` with the reason (the "
                "referrer's own account, a customer not new to the store, a limit)",
                "content": {
                    "application/json": {
                        "schema": answers.REFERRAL,
                        "example": {"status": "joined", "reason": None},
                    }
                },
            },
            "401": {"description": "no valid visitor token"},
            "404": {"description": "no active storefront connection, or no such referral code"},
            "409": {"description": "`referrals_off`: the shop has no referral programme"},
            "422": {"description": "no code, or one longer than 32 characters"},
        },
    }
}


def widget_interface() -> ApiInterface:
    """The widget's JSON operations (the script itself is ``/widget/v1/loader.js``)."""
    return ApiInterface(
        tag="Widget",
        description="What the storefront widget calls from the visitor's browser, with CORS "
        "for the connection's storefront origins; a theme that draws its own panel can call "
        "it too (docs/widget.md). No API key: the visitor token names the member.",
        paths={
            "/widget/v1/c/{connection_id}/state": STATE_PATH,
            "/widget/v1/c/{connection_id}/redeem": REDEEM_PATH,
            "/widget/v1/c/{connection_id}/referral": REFERRAL_PATH,
        },
    )
