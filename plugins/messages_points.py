"""Automatic messages about points: points earned, and points about to expire.

``points_earned`` follows each ``points.earned`` event (one message per
order, or per bonus). ``points_expiring`` runs hourly and, once a merchant's
``send_hour`` has come, writes to members whose points expire within
``days_before`` days: one message per first expiry date.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import MessageKind
from hub import PeriodicJob
from hub import current_hub
from hub import daily_runs
from hub import expiring_points
from hub import handles_events
from hub import hookimpl
from hub import kind_options
from hub import queue_message
from hub import wants_events
from hub import when_kind_enabled


class ExpiringOptions(Schema):
    days_before = fields.Int(load_default=7, validate=validate.Range(min=1, max=90))
    send_hour = fields.Int(load_default=9, validate=validate.Range(min=0, max=23))


POINTS_EARNED = MessageKind(
    name="points_earned",
    title="Points earned",
    category="transactional",
    description="Sent when a member earns points, once per order or bonus.",
    templates={
        "vi": (
            "{shop}: {first_name} vừa được cộng {points_earned} điểm. Tổng điểm hiện có: {points}."
        ),
        "en": "{shop}: {first_name}, you earned {points_earned} points. Your balance: {points}.",
    },
    variables=("points_earned",),
    sample={"points_earned": 45},
)

POINTS_EXPIRING = MessageKind(
    name="points_expiring",
    title="Points about to expire",
    category="transactional",
    description="Sent days before a member's points expire (days_before), at send_hour.",
    templates={
        "vi": (
            "{shop}: {expiring_points} điểm của {first_name} sẽ hết hạn vào {expiry_date}. "
            "Hãy dùng điểm trước khi hết hạn nhé!"
        ),
        "en": (
            "{shop}: {expiring_points} of your points expire on {expiry_date}. "
            "Use them before then!"
        ),
    },
    variables=("expiring_points", "expiry_date"),
    sample={"expiring_points": 300, "expiry_date": "30/11/2026"},
    options=ExpiringOptions,
    defaults={"days_before": 7, "send_hour": 9},
)


@hookimpl
def register_message_kinds(hub):
    return [POINTS_EARNED, POINTS_EXPIRING]


@hookimpl
def register_periodic_jobs(hub):
    return [
        PeriodicJob(
            name="messages.points_expiring",
            func="plugins.messages_points.send_expiring",
            interval=3600,
        )
    ]


@hookimpl
@handles_events("points.earned")
@wants_events(when_kind_enabled(POINTS_EARNED.name))
def handle_event(hub, event):
    """Queue a points-earned message for the member who earned."""
    if event.type != "points.earned" or not event.data.get("member_id"):
        return
    if kind_options(hub, event.merchant_id, POINTS_EARNED.name) is None:
        return
    order_id = event.data.get("order_id")
    queue_message(
        hub,
        merchant_id=event.merchant_id,
        member_id=event.data["member_id"],
        kind=POINTS_EARNED.name,
        key=f"order:{order_id}" if order_id else f"event:{event.id}",
        variables={"points_earned": int(event.data["points"])},
        event=event,
    )


def send_expiring(now: str | None = None) -> int:
    """Job: queue points-expiring messages for every merchant whose hour has come."""
    hub = current_hub()
    moment = datetime.fromisoformat(now) if now else None
    queued = 0
    for run in daily_runs(hub, POINTS_EXPIRING.name, now=moment):
        zone = ZoneInfo(run.timezone)
        for member_id, points, first_expiry in expiring_points(
            hub, run.merchant_id, days=run.options["days_before"], now=run.now
        ):
            day = first_expiry.astimezone(zone).date()
            queued += bool(
                queue_message(
                    hub,
                    merchant_id=run.merchant_id,
                    member_id=member_id,
                    kind=POINTS_EXPIRING.name,
                    key=day.isoformat(),
                    variables={"expiring_points": points, "expiry_date": first_expiry},
                    now=run.now,
                )
            )
    return queued
