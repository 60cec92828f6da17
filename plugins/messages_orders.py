"""Automatic message: thank the member after a paid order.

Sent once per order, when the order first shows up paid (on ``order.received``
or on the ``order.updated`` that makes it paid). Orders placed long ago, as an
import of order history brings them, are thanked by nobody: see
``max_age_hours``. With ``reward_id`` in its options, each thank-you carries
a gift voucher for the next purchase.
"""

from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import MessageKind
from hub import handles_events
from hub import hookimpl
from hub import kind_options
from hub import order_facts
from hub import queue_message
from hub import utcnow
from hub import wants_events
from hub import when_kind_enabled

PAID = ("paid", "partially_refunded")


class ThankYouOptions(Schema):
    #: Orders placed longer ago than this get no thank-you (imports, late webhooks).
    max_age_hours = fields.Int(load_default=48, validate=validate.Range(min=1, max=24 * 30))


THANK_YOU = MessageKind(
    name="thank_you",
    title="Thank you after a purchase",
    category="transactional",
    description="Sent once per paid order to its member; with a voucher if reward_id is set.",
    templates={
        "vi": (
            "{shop} cảm ơn {first_name} đã mua hàng! Đơn {order_number} ({order_total}) "
            "đã được ghi nhận. Điểm của bạn: {points}."
        ),
        "en": (
            "Thank you for shopping at {shop}, {first_name}! Order {order_number} "
            "({order_total}) is confirmed. Your points: {points}."
        ),
    },
    variables=("order_number", "order_total"),
    sample={"order_number": "#1001", "order_total": "450.000 VND"},
    options=ThankYouOptions,
    defaults={"max_age_hours": 48},
    voucher_templates={
        "vi": (
            "{shop} cảm ơn {first_name} đã mua hàng! Đơn {order_number} ({order_total}) "
            "đã được ghi nhận. Quà cho lần sau: mã {voucher_code}."
        ),
        "en": (
            "Thank you for shopping at {shop}, {first_name}! Order {order_number} "
            "({order_total}) is confirmed. For next time: code {voucher_code}."
        ),
    },
    voucher=True,
)


@hookimpl
def register_message_kinds(hub):
    return [THANK_YOU]


@hookimpl
@handles_events("order.received", "order.updated")
@wants_events(when_kind_enabled(THANK_YOU.name))
def handle_event(hub, event):
    """Queue a thank-you for an order that is (now) paid."""
    if event.type not in ("order.received", "order.updated"):
        return
    data = event.data
    if not data.get("member_id") or data.get("financial_status") not in PAID:
        return
    if event.type == "order.updated" and "financial_status" not in data.get("changed", ()):
        return
    options = kind_options(hub, event.merchant_id, THANK_YOU.name)
    if options is None:
        return
    order = order_facts(hub, event.merchant_id, data["order_id"])
    if order is None or not order["paid"] or order["member_id"] is None:
        return
    if utcnow() - order["placed_at"] > timedelta(hours=options["max_age_hours"]):
        return
    queue_message(
        hub,
        merchant_id=event.merchant_id,
        member_id=order["member_id"],
        kind=THANK_YOU.name,
        key=f"order:{order['id']}",
        variables={
            "order_number": order["number"],
            "order_total": (order["total"], order["currency"]),
        },
        event=event,
    )
