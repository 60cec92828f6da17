"""Before sending: how many members the campaign will reach, and what it will cost.

The count follows the rules the send applies (``hub.messaging.policy``),
in SQL over the audience: a phone number, consent on the channel (campaign
messages are marketing), no opt-out of the number on the channel, and under
the daily and weekly caps of marketing messages. The control group's
expected share is taken off. The cost is the gateway connection's price
(its ``price`` setting) per SMS part, the parts counted on the campaign's
wording as it reads with sample values, or per ZNS message.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.campaigns.audience import audience_members
from hub.campaigns.wording import sms_parts
from hub.messaging.models import Message
from hub.messaging.models import MessageOptOut
from hub.messaging.policy import SPENT
from hub.messaging.policy import marketing_kinds
from hub.messaging.policy import price
from hub.messaging.settings import Settings
from hub.messaging.settings import get_settings
from hub.models import Campaign
from hub.models import Connection
from hub.models import Member
from hub.models import MemberConsent

if TYPE_CHECKING:
    from hub.core import Hub


def connection_of(session: Session, campaign: Campaign, settings: Settings) -> Connection | None:
    connection_id = settings["connections"].get(campaign.channel)
    return session.get(Connection, connection_id) if connection_id else None


def unit_cost(hub: Hub, session: Session, campaign: Campaign, settings: Settings) -> Decimal:
    """The estimated price of one message: per ZNS, or per SMS part (the longest wording)."""
    connection = connection_of(session, campaign, settings)
    if connection is None:
        return Decimal(0)
    if campaign.channel == "sms":
        return price(connection) * max(sms_parts(campaign, settings).values() or [1])
    return price(connection)


def estimate(hub: Hub, session: Session, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """The campaign's reach and cost if it were sent now."""
    settings = get_settings(session, campaign.merchant_id)
    audience = audience_members(session, campaign, now).subquery()
    members = select(func.count()).select_from(Member).join(audience, audience.c.id == Member.id)
    total = session.scalar(members) or 0
    reachable = _reachable(hub, campaign, settings, now)
    counts = {}
    for name, clause in reachable:
        counts[name] = session.scalar(members.where(~clause)) or 0
    eligible = session.scalar(members.where(and_(*(clause for _, clause in reachable)))) or 0
    held = (Decimal(eligible) * campaign.holdout_percent / 100).to_integral_value(ROUND_HALF_UP)
    recipients = eligible - int(held)
    unit = unit_cost(hub, session, campaign, settings)
    connection = connection_of(session, campaign, settings)
    cost = unit * recipients
    if campaign.budget is not None and unit > 0:
        recipients_in_budget = min(recipients, int(campaign.budget // unit))
    else:
        recipients_in_budget = recipients
    return {
        "audience": total,
        "excluded": counts,
        "eligible": eligible,
        "held_out": int(held),
        "recipients": recipients,
        "recipients_within_budget": recipients_in_budget,
        "channel": campaign.channel,
        "gateway": connection.connector if connection else None,
        "sms_parts": sms_parts(campaign, settings) if campaign.channel == "sms" else {},
        "unit_cost": unit,
        "cost": cost,
        "currency": settings.currency,
    }


def _reachable(
    hub: Hub, campaign: Campaign, settings: Settings, now: datetime
) -> list[tuple[str, Any]]:
    """The send's rules as SQL over ``members``, each named for what it excludes."""
    channel = campaign.channel
    consent = exists().where(
        MemberConsent.member_id == Member.id,
        MemberConsent.channel == channel,
        MemberConsent.granted.is_(True),
    )
    opted_out = exists().where(
        MessageOptOut.merchant_id == campaign.merchant_id,
        MessageOptOut.channel == channel,
        MessageOptOut.address == Member.phone,
    )
    rules: list[tuple[str, Any]] = [
        ("no_phone", Member.phone.is_not(None)),
        ("no_consent", consent),
        ("opted_out", ~opted_out),
    ]
    marketing = marketing_kinds(hub)
    caps = settings["caps"]
    for limit, days, name in ((caps.get("per_day"), 1, "day"), (caps.get("per_week"), 7, "week")):
        if not limit:
            continue
        recent = (
            select(func.count())
            .where(
                Message.member_id == Member.id,
                Message.kind.in_(marketing),
                Message.status.in_(SPENT),
                Message.claimed_at >= now - timedelta(days=days),
            )
            .scalar_subquery()
        )
        rules.append((f"capped_{name}", recent < limit))
    return rules
