"""Automatic message: happy birthday, with a voucher if the merchant names a reward.

Runs hourly; on each merchant's local date, once its ``send_hour`` has come,
members born on that day (29 February: on the 28th in other years) get one
message a year.
"""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import MessageKind
from hub import PeriodicJob
from hub import birthday_members
from hub import current_hub
from hub import daily_runs
from hub import hookimpl
from hub import queue_message


class BirthdayOptions(Schema):
    send_hour = fields.Int(load_default=9, validate=validate.Range(min=0, max=23))


BIRTHDAY = MessageKind(
    name="birthday",
    title="Happy birthday",
    category="marketing",
    description="Sent on the member's birthday at send_hour, with a voucher if reward_id is set.",
    templates={
        "vi": "{shop} chúc mừng sinh nhật {first_name}! Chúc bạn một tuổi mới thật nhiều niềm vui.",
        "en": "Happy birthday, {first_name}! Best wishes from everyone at {shop}.",
    },
    voucher_templates={
        "vi": "{shop} chúc mừng sinh nhật {first_name}! Quà tặng bạn: mã ưu đãi {voucher_code}.",
        "en": "Happy birthday, {first_name}! {shop} has a gift for you: code {voucher_code}.",
    },
    options=BirthdayOptions,
    defaults={"send_hour": 9},
    voucher=True,
)


@hookimpl
def register_message_kinds(hub):
    return [BIRTHDAY]


@hookimpl
def register_periodic_jobs(hub):
    return [
        PeriodicJob(
            name="messages.birthday", func="plugins.messages_birthday.send_birthdays", interval=3600
        )
    ]


def send_birthdays(now: str | None = None) -> int:
    """Job: queue birthday messages for every merchant whose hour has come."""
    hub = current_hub()
    moment = datetime.fromisoformat(now) if now else None
    queued = 0
    for run in daily_runs(hub, BIRTHDAY.name, now=moment):
        for member_id in birthday_members(hub, run.merchant_id, run.today):
            queued += bool(
                queue_message(
                    hub,
                    merchant_id=run.merchant_id,
                    member_id=member_id,
                    kind=BIRTHDAY.name,
                    key=str(run.today.year),
                    now=run.now,
                )
            )
    return queued
