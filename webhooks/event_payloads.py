"""What each event the hub sends your endpoint carries in ``data``: a schema and an example.

The OpenAPI document lists every event type as an OpenAPI 3.1 webhook
(``webhooks.openapi.event_webhooks``); the suite checks that every type the
core emits has one here, that each example fits its schema, and that the
events a shop's ordinary day produces fit theirs. Every ``data`` may gain
fields later (``additionalProperties``): read the ones you need.
"""

from __future__ import annotations

from typing import Any

INTEGER: dict[str, Any] = {"type": "integer"}
INTEGER_OR_NULL: dict[str, Any] = {"type": ["integer", "null"]}
TEXT: dict[str, Any] = {"type": "string"}
TEXT_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
TIME_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
#: Money and other decimals travel as text, never as a JSON number: ``"350000"``.
MONEY: dict[str, Any] = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
MONEY_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$"}
TIER_OR_NULL: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["id", "name"],
    "properties": {"id": INTEGER, "name": TEXT},
}


def data(about: str, **properties: dict[str, Any]) -> dict[str, Any]:
    """An event's ``data`` object: every named property is always present."""
    return {
        "type": "object",
        "description": about,
        "required": sorted(properties),
        "properties": properties,
    }


def sometimes(schema: dict[str, Any], **properties: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with properties present only on some events of the type."""
    return {**schema, "properties": {**schema["properties"], **properties}}


ORDER = {
    "order_id": INTEGER,
    "external_id": TEXT,
    "source": TEXT,
    "connection_id": INTEGER_OR_NULL,
    "member_id": INTEGER_OR_NULL,
    "financial_status": TEXT,
    "total": MONEY,
    "currency": TEXT,
}
VOUCHER = {
    "voucher_id": INTEGER,
    "code": TEXT,
    "member_id": INTEGER,
    "reward_id": INTEGER_OR_NULL,
    "kind": {
        "type": "string",
        "enum": ["amount_off", "percent_off", "free_shipping", "free_product", "store_credit"],
    },
    "value": MONEY_OR_NULL,
    "max_discount": MONEY_OR_NULL,
    "product_sku": TEXT_OR_NULL,
    "min_order": MONEY_OR_NULL,
    "currency": TEXT,
    "expires_at": TIME_OR_NULL,
}
AWARDS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["rule", "points", "note"],
        "properties": {"rule": TEXT, "points": INTEGER, "note": TEXT_OR_NULL},
    },
}
REFERRAL = {
    "referral_id": INTEGER,
    "referrer_id": INTEGER,
    "friend_id": INTEGER,
    "status": {
        "type": "string",
        "enum": ["joined", "pending", "rewarded", "rejected", "reversed"],
    },
    "reason": TEXT_OR_NULL,
    "order_id": INTEGER_OR_NULL,
}

VOUCHER_EXAMPLE = {
    "voucher_id": 31,
    "code": "HM7Q2X9KRT4B",
    "member_id": 7,
    "reward_id": 3,
    "kind": "amount_off",
    "value": "50000",
    "max_discount": None,
    "product_sku": None,
    "min_order": "200000",
    "currency": "VND",
    "expires_at": "2026-12-31T16:59:59+00:00",
}
ORDER_EXAMPLE = {
    "order_id": 42,
    "external_id": "W-1001",
    "source": "shopify",
    "connection_id": 2,
    "member_id": 7,
    "financial_status": "paid",
    "total": "350000",
    "currency": "VND",
}
REFERRAL_EXAMPLE = {
    "referral_id": 5,
    "referrer_id": 7,
    "friend_id": 19,
    "status": "rewarded",
    "reason": None,
    "order_id": 42,
}

#: Every event type: (summary, schema of ``data``, an example ``data``).
EVENT_PAYLOADS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "member.created": (
        "A member joined (by the API, an import, a store, the widget or the counter).",
        data("the new member", member_id=INTEGER, source=TEXT),
        {"member_id": 7, "source": "api"},
    ),
    "member.updated": (
        "A member's details or consents changed.",
        data(
            "the member, and the fields and consent channels that changed",
            member_id=INTEGER,
            fields={"type": "array", "items": TEXT},
        ),
        {"member_id": 7, "fields": ["name", "sms"]},
    ),
    "member.merged": (
        "Two members were merged into one.",
        data(
            "the member kept, the one merged into it, and how many records moved, by kind",
            member_id=INTEGER,
            merged_member_id=INTEGER,
            moved={"type": "object", "additionalProperties": INTEGER},
        ),
        {"member_id": 7, "merged_member_id": 19, "moved": {"orders": 3, "vouchers": 1}},
    ),
    "member.deleted": (
        "A member was erased (their personal data is gone; the id stays in your records).",
        data("the erased member", member_id=INTEGER),
        {"member_id": 7},
    ),
    "member.data_requested": (
        "A store asked for what the hub holds about one of its customers (privacy law).",
        data(
            "the store's request and the hub's export of the member (null when none matched)",
            request_id=TEXT,
            connection_id=INTEGER,
            member_id=INTEGER_OR_NULL,
            customer_external_id=TEXT_OR_NULL,
            export={"type": ["object", "null"]},
        ),
        {
            "request_id": "9001",
            "connection_id": 2,
            "member_id": 7,
            "customer_external_id": "207119551",
            "export": {"member": {"id": 7, "name": "Nguyễn Thị Lan"}},
        },
    ),
    "order.received": (
        "An order reached the hub for the first time.",
        data("the order as recorded", **ORDER),
        ORDER_EXAMPLE,
    ),
    "order.updated": (
        "A recorded order changed (paid, cancelled, refunded, its total).",
        data(
            "the order as recorded now, and the fields that changed",
            **ORDER,
            changed={"type": "array", "items": TEXT},
        ),
        {**ORDER_EXAMPLE, "financial_status": "refunded", "changed": ["financial_status"]},
    ),
    "points.earned": (
        "A member earned points, for an order or an action (`order_id` null).",
        sometimes(
            data(
                "the points, the rules that gave them and the balance after; for an order, "
                "`available_at`, when they can be spent",
                member_id=INTEGER,
                order_id=INTEGER_OR_NULL,
                points=INTEGER,
                awards=AWARDS,
                program_version=INTEGER_OR_NULL,
                balance=INTEGER,
            ),
            available_at=TIME,
        ),
        {
            "member_id": 7,
            "order_id": 42,
            "points": 35,
            "awards": [{"rule": "base", "points": 35, "note": "1 point per 10,000 VND"}],
            "program_version": 4,
            "available_at": "2026-11-08T03:16:00+00:00",
            "balance": 185,
        },
    ),
    "points.reversed": (
        "Points an order earned were taken back (a refund or a cancellation).",
        data(
            "the points taken back and the balance after",
            member_id=INTEGER,
            order_id=INTEGER,
            points=INTEGER,
            reason=TEXT,
            note=TEXT_OR_NULL,
            balance=INTEGER,
        ),
        {
            "member_id": 7,
            "order_id": 42,
            "points": 35,
            "reason": "refund",
            "note": None,
            "balance": 150,
        },
    ),
    "points.adjusted": (
        "Staff added or took points by hand.",
        data(
            "the points (negative when taken), why, who, the ledger entry and the balance",
            member_id=INTEGER,
            points=INTEGER,
            reason=TEXT,
            actor=TEXT,
            entry_id=INTEGER,
            balance=INTEGER,
        ),
        {
            "member_id": 7,
            "points": 200,
            "reason": "quà khai trương",
            "actor": "key:3",
            "entry_id": 88,
            "balance": 385,
        },
    ),
    "points.expired": (
        "Points reached their expiry date unspent.",
        data(
            "the points that expired, their lot and the balance after",
            member_id=INTEGER,
            points=INTEGER,
            lot_id=INTEGER,
            expired_at=TIME,
            balance=INTEGER,
        ),
        {
            "member_id": 7,
            "points": 40,
            "lot_id": 12,
            "expired_at": "2026-12-31T16:59:59+00:00",
            "balance": 345,
        },
    ),
    "points.redeemed": (
        "A member spent points on a reward (a `voucher.issued` follows).",
        data(
            "the reward, the voucher issued, the points spent and the balance after",
            member_id=INTEGER,
            reward_id=INTEGER,
            voucher_id=INTEGER,
            points=INTEGER,
            entry_id=INTEGER,
            balance=INTEGER,
        ),
        {
            "member_id": 7,
            "reward_id": 3,
            "voucher_id": 31,
            "points": 100,
            "entry_id": 90,
            "balance": 245,
        },
    ),
    "tier.changed": (
        "A member moved up or down a tier (or into or out of every tier: null).",
        data(
            "the tiers before and after, the direction and why",
            member_id=INTEGER,
            from_tier=TIER_OR_NULL,
            to_tier=TIER_OR_NULL,
            direction={"type": "string", "enum": ["up", "down"]},
            reason=TEXT,
        ),
        {
            "member_id": 7,
            "from_tier": {"id": 1, "name": "Bạc"},
            "to_tier": {"id": 2, "name": "Vàng"},
            "direction": "up",
            "reason": "qualified",
        },
    ),
    "tier.near": (
        "A member came close to the next tier (once per tier and window).",
        data(
            "the tier in reach, what it counts, the member's progress and what is missing",
            member_id=INTEGER,
            tier={**TIER_OR_NULL, "type": "object"},
            basis={"type": "string", "enum": ["points", "spend"]},
            window={"type": "string", "enum": ["lifetime", "calendar_year", "rolling_12m"]},
            progress=MONEY,
            threshold=MONEY,
            delta=MONEY,
        ),
        {
            "member_id": 7,
            "tier": {"id": 2, "name": "Vàng"},
            "basis": "spend",
            "window": "rolling_12m",
            "progress": "4500000",
            "threshold": "5000000",
            "delta": "500000",
        },
    ),
    "voucher.issued": (
        "A voucher was issued: push its code to the store.",
        data("the voucher, enough to create the discount code", **VOUCHER),
        VOUCHER_EXAMPLE,
    ),
    "voucher.used": (
        "A voucher was used on an order.",
        data(
            "the voucher, the order and the discount it gave",
            **VOUCHER,
            used_reference=TEXT_OR_NULL,
            order_id=INTEGER_OR_NULL,
            discount=MONEY_OR_NULL,
        ),
        {**VOUCHER_EXAMPLE, "used_reference": "POS-77", "order_id": 43, "discount": "50000"},
    ),
    "voucher.expired": (
        "A voucher passed its expiry date unused.",
        data("the voucher", **VOUCHER),
        VOUCHER_EXAMPLE,
    ),
    "voucher.cancelled": (
        "A voucher was cancelled; the points it cost went back, unless they had expired.",
        data("the voucher and the points returned", **VOUCHER, points_returned=INTEGER),
        {**VOUCHER_EXAMPLE, "points_returned": 100},
    ),
    "webhook_endpoint.disabled": (
        "The hub stopped sending to one of your endpoints after it failed for too long.",
        data("the endpoint and why", endpoint_id=INTEGER, url=TEXT, reason=TEXT),
        {
            "endpoint_id": 4,
            "url": "https://shop.example.vn/hooks",
            "reason": "failing for 5 days",
        },
    ),
}

for _status, _about in (
    ("joined", "A friend joined through a member's referral link."),
    ("pending", "A referred friend's first order is waiting for its return window."),
    ("rewarded", "A referral was rewarded, on both sides as the programme says."),
    ("rejected", "A referral was refused (self-referral, a known customer, a limit)."),
    ("reversed", "A rewarded referral was taken back (the order was refunded)."),
):
    EVENT_PAYLOADS[f"referral.{_status}"] = (
        _about,
        data("the referral: who referred whom, its status, why and its order", **REFERRAL),
        {**REFERRAL_EXAMPLE, "status": _status},
    )
