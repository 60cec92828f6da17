"""Automatic messages about tiers: congratulations on moving up, and nearly there.

``tier_up`` follows ``tier.changed`` events going up; its entry reward, a
voucher, is set per tier in its options (``rewards``: tier id to reward id;
``reward_id`` for any tier not named). ``tier_near`` follows ``tier.near``,
which the tier engine emits once per member and tier when the member comes
within reach of the next one (the tier policy's ``near_share``).
"""

from __future__ import annotations

from decimal import Decimal

from hub import MessageKind
from hub import handles_events
from hub import hookimpl
from hub import kind_options
from hub import queue_message
from hub import wants_events
from hub import when_kind_enabled

TIER_UP = MessageKind(
    name="tier_up",
    title="Tier up",
    category="transactional",
    description="Sent when a member moves up a tier; an entry voucher per tier in options.rewards.",
    templates={
        "vi": "Chúc mừng {first_name} đã lên hạng {tier} tại {shop}! Cảm ơn bạn đã luôn đồng hành.",
        "en": (
            "Congratulations {first_name}, you are now {tier} at {shop}! "
            "Thank you for being with us."
        ),
    },
    variables=("previous_tier",),
    sample={"previous_tier": "Bạc"},
    voucher_templates={
        "vi": (
            "Chúc mừng {first_name} đã lên hạng {tier} tại {shop}! "
            "Quà chào hạng mới: mã ưu đãi {voucher_code}."
        ),
        "en": (
            "Congratulations {first_name}, you are now {tier} at {shop}! "
            "A welcome gift for your new tier: code {voucher_code}."
        ),
    },
    voucher=True,
)

TIER_NEAR = MessageKind(
    name="tier_near",
    title="Near the next tier",
    category="marketing",
    description="Sent once when a member comes within reach of the next tier.",
    templates={
        "vi": "{first_name} ơi, chỉ còn {needed} nữa là bạn lên hạng {next_tier} tại {shop}!",
        "en": "{first_name}, just {needed} more to reach {next_tier} at {shop}!",
    },
    variables=("next_tier", "needed"),
    sample={"next_tier": "Kim cương", "needed": 250},
)


@hookimpl
def register_message_kinds(hub):
    return [TIER_UP, TIER_NEAR]


@hookimpl
@handles_events("tier.changed", "tier.near")
@wants_events(when_kind_enabled({"tier.changed": TIER_UP.name, "tier.near": TIER_NEAR.name}))
def handle_event(hub, event):
    """Queue tier-up and near-tier messages."""
    data = event.data
    if event.type == "tier.changed" and data.get("direction") == "up":
        if kind_options(hub, event.merchant_id, TIER_UP.name) is None:
            return
        previous = data.get("from_tier") or {}
        reached = data.get("to_tier") or {}
        queue_message(
            hub,
            merchant_id=event.merchant_id,
            member_id=data["member_id"],
            kind=TIER_UP.name,
            key=f"event:{event.id}",
            variables={"previous_tier": previous.get("name", "")},
            event=event,
            # The entry reward of the tier reached: options.rewards by tier id
            reward_key=str(reached.get("id")),
        )
    elif event.type == "tier.near":
        if kind_options(hub, event.merchant_id, TIER_NEAR.name) is None:
            return
        tier = data.get("tier") or {}
        queue_message(
            hub,
            merchant_id=event.merchant_id,
            member_id=data["member_id"],
            kind=TIER_NEAR.name,
            key=f"tier:{tier.get('id')}:event:{event.id}",
            variables={"next_tier": tier.get("name", ""), "needed": Decimal(data["delta"])},
            event=event,
        )
