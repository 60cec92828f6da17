"""Automatic message: win back a member who has not ordered for ``days`` days.

Runs hourly; once a merchant's ``send_hour`` has come, members whose last
paid order is ``days`` old (and at most 30 days more) get one message per
lapse: the last order's id is the key, so a member who comes back and
lapses again gets another, and nobody gets two for one lapse.
"""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import MessageKind
from hub import PeriodicJob
from hub import current_hub
from hub import daily_runs
from hub import hookimpl
from hub import lapsed_members
from hub import queue_message


class WinBackOptions(Schema):
    days = fields.Int(load_default=60, validate=validate.Range(min=7, max=730))
    send_hour = fields.Int(load_default=10, validate=validate.Range(min=0, max=23))


WIN_BACK = MessageKind(
    name="win_back",
    title="Win back",
    category="marketing",
    description="Sent when a member's last order is `days` old; a voucher if reward_id is set.",
    templates={
        "vi": (
            "{shop} nhớ {first_name}! Đã {days} ngày bạn chưa ghé, "
            "quay lại mua sắm cùng chúng tôi nhé."
        ),
        "en": (
            "We miss you, {first_name}! It has been {days} days. "
            "Come back and see what's new at {shop}."
        ),
    },
    voucher_templates={
        "vi": (
            "{shop} nhớ {first_name}! Tặng bạn mã {voucher_code} cho lần mua tới, hẹn gặp lại nhé."
        ),
        "en": (
            "We miss you, {first_name}! Here is code {voucher_code} for your next order at {shop}."
        ),
    },
    variables=("days", "last_order_date"),
    sample={"days": 60, "last_order_date": "24/09/2026"},
    options=WinBackOptions,
    defaults={"days": 60, "send_hour": 10},
    voucher=True,
)


@hookimpl
def register_message_kinds(hub):
    return [WIN_BACK]


@hookimpl
def register_periodic_jobs(hub):
    return [
        PeriodicJob(
            name="messages.win_back", func="plugins.messages_winback.send_win_backs", interval=3600
        )
    ]


def send_win_backs(now: str | None = None) -> int:
    """Job: queue win-back messages for every merchant whose hour has come."""
    hub = current_hub()
    moment = datetime.fromisoformat(now) if now else None
    queued = 0
    for run in daily_runs(hub, WIN_BACK.name, now=moment):
        days = run.options["days"]
        for member_id, order_id, placed_at in lapsed_members(
            hub, run.merchant_id, days=days, now=run.now
        ):
            queued += bool(
                queue_message(
                    hub,
                    merchant_id=run.merchant_id,
                    member_id=member_id,
                    kind=WIN_BACK.name,
                    key=f"order:{order_id}",
                    variables={
                        "days": (run.now - placed_at).days,
                        "last_order_date": placed_at,
                    },
                    now=run.now,
                )
            )
    return queued
