"""Automatic message: tell the member the code of a voucher they just got.

Follows ``voucher.issued``. Vouchers that an automatic message brought
itself (a birthday gift: the event's ``source`` is ``message:<kind>``) are
skipped: that message already carries the code.
"""

from __future__ import annotations

from datetime import datetime

from hub import MessageKind
from hub import handles_events
from hub import hookimpl
from hub import kind_options
from hub import queue_message
from hub import wants_events
from hub import when_kind_enabled

VOUCHER_ISSUED = MessageKind(
    name="voucher_issued",
    title="Voucher issued",
    category="transactional",
    description="Sent with the code when a member redeems points for a voucher.",
    templates={
        "vi": "{shop}: {first_name} nhận được mã ưu đãi {voucher_code}. Cảm ơn bạn!",
        "en": "{shop}: {first_name}, here is your voucher code: {voucher_code}. Thank you!",
    },
    variables=("voucher_code", "voucher_expiry_date"),
    sample={"voucher_code": "HM7Q2X9KRT4B", "voucher_expiry_date": "31/12/2026"},
)


@hookimpl
def register_message_kinds(hub):
    return [VOUCHER_ISSUED]


@hookimpl
@handles_events("voucher.issued")
@wants_events(when_kind_enabled(VOUCHER_ISSUED.name))
def handle_event(hub, event):
    """Queue the voucher's code for its member."""
    data = event.data
    if event.type != "voucher.issued" or str(data.get("source", "")).startswith("message:"):
        return
    if (
        not data.get("member_id")
        or kind_options(hub, event.merchant_id, VOUCHER_ISSUED.name) is None
    ):
        return
    expires = data.get("expires_at")
    queue_message(
        hub,
        merchant_id=event.merchant_id,
        member_id=data["member_id"],
        kind=VOUCHER_ISSUED.name,
        key=f"voucher:{data['voucher_id']}",
        variables={
            "voucher_code": data["code"],
            "voucher_expiry_date": datetime.fromisoformat(expires) if expires else None,
        },
        event=event,
    )
