"""Vietnam's rules for advertising messages, built in rather than left to the merchant.

Decree 91/2020/ND-CP on spam messages, e-mails and calls (in force 2020-10-01)
sets them for every advertiser; a marketing kind (``MessageKind.marketing``)
is advertising, a transactional one (points earned, voucher issued, tier
change) is not, so none of these rules ever holds one back:

- advertising SMS only between 07:00 and 22:00 where the merchant is (a
  message queued outside is held until 07:00);
- at most three advertising SMS to one number in 24 hours (a fourth tries
  the merchant's next channel);
- the text starts with ``[QC]`` and ends with how to refuse (the merchant's
  wording, ``sms_opt_out`` in the settings); an e-mail's subject starts with
  ``[QC]`` too;
- a ZNS on a template tagged ``promotion`` (Zalo's tag 3) only within the
  Official Account's promotion quota (daily and monthly, as the merchant
  reads them in Zalo's console; without a monthly figure, Zalo's own rule:
  one sixth of the transaction and customer-care ZNS of the two months
  before, counted in the hub's log).

Prior consent and an opt-out honoured at once are checked for every
marketing message in ``policy``.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.messaging.models import Message

#: Advertising SMS may go out from 07:00 to 22:00, local time (Decree 91, art. 12).
SMS_WINDOW = (time(7, 0), time(22, 0))
#: Advertising SMS to one number in any 24 hours, at most (Decree 91, art. 12).
SMS_PER_24_HOURS = 3
#: The label an advertising SMS or e-mail subject starts with.
MARK = "[QC]"
#: Purpose tags of a ZNS template (Zalo, since 2024-04-16): 1, 2 and 3.
ZNS_TAGS = ("transaction", "customer_care", "promotion")
#: Statuses that mean the message went (or is going) out.
SPENT = ("sending", "sent", "delivered")


def sms_window_end(timezone: str, now: datetime) -> datetime | None:
    """When advertising SMS may go out again, if ``now`` is outside 07:00-22:00 there."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    opens, closes = SMS_WINDOW
    moment = local.time().replace(tzinfo=None)
    if opens <= moment < closes:
        return None
    day = local.date() if moment < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=zone).astimezone(now.tzinfo)


def sms_count(
    session: Session,
    message: Message,
    phone: str,
    marketing_kinds: set[str],
    now: datetime,
) -> int:
    """Advertising SMS the merchant sent this number in the 24 hours before ``now``."""
    if not marketing_kinds:
        return 0
    return session.scalar(
        select(func.count()).where(
            Message.member_id == message.member_id,
            Message.merchant_id == message.merchant_id,
            Message.id != message.id,
            Message.channel == "sms",
            Message.recipient == phone,
            Message.kind.in_(marketing_kinds),
            Message.status.in_(SPENT),
            Message.claimed_at > now - timedelta(hours=24),
        )
    )


def sms_cap_refusal(
    session: Session,
    message: Message,
    phone: str,
    marketing_kinds: set[str],
    now: datetime,
) -> str | None:
    """Why this number may get no more advertising SMS now, or None."""
    sent = sms_count(session, message, phone, marketing_kinds, now)
    if sent >= SMS_PER_24_HOURS:
        return (
            f"the number had {sent} advertising SMS in the last 24 hours "
            f"(the law allows {SMS_PER_24_HOURS})"
        )
    return None


def advertising_sms(text: str, opt_out: str) -> str:
    """The text with the ``[QC]`` mark first and the opt-out instructions last."""
    body = text.strip()
    if not body.upper().startswith(MARK):
        body = f"{MARK} {body}"
    opt_out = opt_out.strip()
    if opt_out and not body.endswith(opt_out):
        body = f"{body} {opt_out}"
    return body


def advertising_subject(subject: str) -> str:
    """An e-mail subject with the ``[QC]`` mark first."""
    subject = subject.strip()
    return subject if subject.upper().startswith(MARK) else f"{MARK} {subject}"


def _month_start(local: datetime, months_back: int) -> datetime:
    year, month = local.year, local.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return local.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _zns_count(session: Session, merchant_id: int, tags: tuple[str, ...], since, until) -> int:
    return session.scalar(
        select(func.count()).where(
            Message.merchant_id == merchant_id,
            Message.channel == "zalo",
            Message.tag.in_(tags),
            Message.status.in_(SPENT),
            Message.claimed_at >= since,
            Message.claimed_at < until,
        )
    )


def zns_promotion_refusal(
    session: Session,
    merchant_id: int,
    timezone: str,
    quota: dict[str, int | None],
    now: datetime,
) -> str | None:
    """Why the Official Account may send no more promotion ZNS now, or None.

    Days and months are the merchant's local ones. ``quota`` holds the
    ``daily`` and ``monthly`` figures the merchant copied from Zalo; a
    missing monthly figure is computed as Zalo does, from the hub's log.
    """
    local = now.astimezone(ZoneInfo(timezone))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = _month_start(local, 0)
    daily = quota.get("daily")
    if daily is not None:
        today = _zns_count(session, merchant_id, ("promotion",), day_start, now + timedelta(1))
        if today >= daily:
            return f"the Zalo account's daily promotion quota of {daily} is used up"
    monthly = quota.get("monthly")
    if monthly is None:
        earlier = _zns_count(
            session,
            merchant_id,
            ("transaction", "customer_care"),
            _month_start(local, 2),
            month_start,
        )
        monthly = earlier // 6
    month = _zns_count(session, merchant_id, ("promotion",), month_start, now + timedelta(1))
    if month >= monthly:
        return f"the Zalo account's monthly promotion quota of {monthly} is used up"
    return None
