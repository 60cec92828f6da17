"""The rules a real sender keeps, checked right before each message goes out.

In order: the member is still there and the kind still on; some channel can
reach the member (a gateway connected, a phone or an e-mail, consent where
needed, no opt-out, a ZNS template for Zalo; for advertising, Vietnam's
caps on SMS and Zalo's promotion quota, see ``advertising``); it is not
quiet hours in the merchant's timezone, nor, for an advertising SMS, outside
07:00-22:00 there (else the message is held until then); a marketing message
is within the merchant's caps (transactional ones never count nor wait for
them); the merchant's daily budget and limit allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.messaging import advertising
from hub.messaging.callbacks import public_base_url
from hub.messaging.email_text import EmailContent
from hub.messaging.email_text import compose_email
from hub.messaging.gateways import Gateway
from hub.messaging.gateways import gateways
from hub.messaging.kinds import MessageKind
from hub.messaging.kinds import message_kinds
from hub.messaging.models import Message
from hub.messaging.optouts import is_opted_out
from hub.messaging.optouts import member_address
from hub.messaging.settings import KindSettings
from hub.messaging.settings import Settings
from hub.messaging.sms_text import SmsText
from hub.messaging.sms_text import prepare_sms
from hub.messaging.templates import render
from hub.models import Connection
from hub.models import Member
from hub.models import MemberConsent

if TYPE_CHECKING:
    from hub.core import Hub

#: Statuses that count against caps and budgets: the message went (or is going) out.
SPENT = ("sending", "sent", "delivered")
#: How long a message its kind holds (a paused campaign) waits before it is looked at again.
HOLD_RECHECK = timedelta(minutes=5)


@dataclass
class Decision:
    """What to do with a message now: ``send``, ``hold`` (until ``due_at``) or ``skip``."""

    action: str
    reason: str | None = None
    due_at: datetime | None = None
    channel: str | None = None
    connection: Connection | None = None
    gateway: Gateway | None = None
    recipient: str | None = None
    sms: SmsText | None = None
    email: EmailContent | None = None
    tag: str | None = None
    template_id: str | None = None
    template_data: dict[str, str] = field(default_factory=dict)
    estimated_cost: Decimal | None = None


@dataclass(frozen=True)
class Route:
    channel: str
    connection: Connection
    gateway: Gateway
    recipient: str


def decide(
    hub: Hub,
    session: Session,
    message: Message,
    settings: Settings,
    kind: MessageKind | None,
    now: datetime,
    *,
    failed_channels: set[str] = frozenset(),
) -> Decision:
    """Apply the rules to a message about to be sent (the caller holds the settings lock)."""
    member = session.get(Member, message.member_id)
    if member is None or member.status != "active":
        return Decision("skip", "the member was erased or merged away")
    if kind is None:
        return Decision("skip", f"no installed plugin sends {message.kind!r} messages")
    kind_settings = settings.kind(kind)
    if kind.resolve is not None:
        kind_settings = kind.resolve(session, message, kind_settings)
    if kind_settings.refusal:
        return Decision("skip", kind_settings.refusal)
    if not kind_settings.enabled:
        return Decision("skip", f"the merchant switched {kind.name!r} messages off")
    if kind_settings.hold:
        return Decision("hold", kind_settings.hold, due_at=now + HOLD_RECHECK)
    route, refusals = choose_route(
        hub,
        session,
        settings,
        kind_settings,
        member,
        failed_channels=failed_channels,
        message=message,
        now=now,
    )
    if route is None:
        return Decision("skip", "no channel can reach this member: " + "; ".join(refusals))
    quiet_until = quiet_hours_end(settings, now)
    if quiet_until is not None:
        return Decision("hold", "quiet hours", due_at=quiet_until)
    if kind.marketing and route.channel == "sms":
        window_end = advertising.sms_window_end(settings.timezone, now)
        if window_end is not None:
            return Decision("hold", "advertising SMS go out 07:00-22:00", due_at=window_end)
    if kind.marketing:
        refusal = over_caps(session, settings, message, now, marketing_kinds(hub))
        if refusal:
            return Decision("skip", refusal)
    decision = _content(hub, route, message, settings, kind_settings)
    refusal = over_budget(session, settings, decision.estimated_cost or Decimal(0), now)
    if refusal:
        return Decision("skip", refusal)
    return decision


def choose_route(
    hub: Hub,
    session: Session,
    settings: Settings,
    kind_settings: KindSettings,
    member: Member,
    *,
    failed_channels: set[str] = frozenset(),
    message: Message | None = None,
    now: datetime | None = None,
) -> tuple[Route | None, list[str]]:
    """Return the first channel in the merchant's order that can reach the member.

    Also returns, for the log, why each channel before it could not. With
    the ``message`` about to go and ``now``, the counted rules (advertising
    SMS per number, the Zalo promotion quota) are checked too.
    """
    refusals = []
    known = gateways(hub)
    for channel in kind_settings.channels or settings["channel_order"]:
        if channel in failed_channels:
            refusals.append(f"{channel}: failed")
            continue
        connection_id = settings["connections"].get(channel)
        connection = session.get(Connection, connection_id) if connection_id else None
        if connection is None or connection.status != "active":
            refusals.append(f"{channel}: no active gateway connection")
            continue
        gateway = known.get(connection.connector)
        if gateway is None or channel not in gateway.channels:
            refusals.append(f"{channel}: connector {connection.connector} is not installed")
            continue
        if channel == "email" and public_base_url(hub) is None:
            refusals.append(f"{channel}: set HUB_PUBLIC_URL, the unsubscribe link needs it")
            continue
        refusal = _refusal(session, settings, kind_settings, member, channel)
        if refusal is None and message is not None and now is not None:
            refusal = _advertising_refusal(
                hub, session, settings, kind_settings, message, now, channel, member.phone
            )
        if refusal:
            refusals.append(f"{channel}: {refusal}")
            continue
        return Route(channel, connection, gateway, member_address(member, channel)), refusals
    return None, refusals


def _refusal(
    session: Session,
    settings: Settings,
    kind_settings: KindSettings,
    member: Member,
    channel: str,
) -> str | None:
    address = member_address(member, channel)
    if not address:
        missing = "e-mail address" if channel == "email" else "phone number"
        return f"the member has no {missing}"
    if channel == "zalo" and not kind_settings.zalo_template_id:
        return "no ZNS template set for this kind"
    if is_opted_out(session, member.merchant_id, channel, address):
        return "the address opted out" if channel == "email" else "the number opted out"
    needs_consent = kind_settings.kind.marketing or settings["transactional_needs_consent"]
    if needs_consent and not has_consent(session, member.id, channel):
        return "no consent"
    return None


def zns_tag(kind_settings: KindSettings) -> str:
    """The purpose tag of the kind's ZNS template; untagged, promotion for marketing."""
    if kind_settings.zalo_tag:
        return kind_settings.zalo_tag
    return "promotion" if kind_settings.kind.marketing else "transaction"


def _advertising_refusal(
    hub: Hub,
    session: Session,
    settings: Settings,
    kind_settings: KindSettings,
    message: Message,
    now: datetime,
    channel: str,
    phone: str,
) -> str | None:
    """Why Vietnam's caps or Zalo's promotion quota keep this message off ``channel``."""
    if channel == "sms" and kind_settings.kind.marketing:
        return advertising.sms_cap_refusal(session, message, phone, marketing_kinds(hub), now)
    if channel == "zalo" and zns_tag(kind_settings) == "promotion":
        return advertising.zns_promotion_refusal(
            session,
            settings.merchant_id,
            settings.timezone,
            settings["zns_promotion_quota"],
            now,
        )
    return None


def marketing_kinds(hub: Hub) -> set[str]:
    """The names of the registered kinds that advertise."""
    return {name for name, kind in message_kinds(hub).items() if kind.marketing}


def has_consent(session: Session, member_id: int, channel: str) -> bool:
    granted = session.scalar(
        select(MemberConsent.granted).where(
            MemberConsent.member_id == member_id, MemberConsent.channel == channel
        )
    )
    return bool(granted)


def quiet_hours_end(settings: Settings, now: datetime) -> datetime | None:
    """When the merchant's quiet hours end, if ``now`` falls in them; else None."""
    window = settings.quiet_window()
    if window is None:
        return None
    start, end = window
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    quiet = start <= moment < end if start < end else (moment >= start or moment < end)
    if not quiet:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return ends.astimezone(now.tzinfo)


def over_caps(
    session: Session, settings: Settings, message: Message, now: datetime, marketing: set[str]
) -> str | None:
    """Say why the member has had enough marketing messages for now, or None.

    Only marketing messages (kinds named in ``marketing``) count: points
    earned, a voucher issued or a tier change never use up the caps.
    """
    caps = settings["caps"]
    for limit, days, label in ((caps.get("per_day"), 1, "day"), (caps.get("per_week"), 7, "week")):
        if not limit:
            continue
        count = session.scalar(
            select(func.count()).where(
                Message.member_id == message.member_id,
                Message.id != message.id,
                Message.kind.in_(marketing),
                Message.status.in_(SPENT),
                Message.claimed_at >= now - timedelta(days=days),
            )
        )
        if count >= limit:
            return (
                f"the member has had {count} marketing messages in the last {label} (cap {limit})"
            )
    return None


def local_day_start(settings: Settings, now: datetime) -> datetime:
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)


def over_budget(
    session: Session, settings: Settings, estimate: Decimal, now: datetime
) -> str | None:
    """Say why the merchant's day is spent (budget or message limit), or None."""
    budget, limit = settings.daily_budget, settings["daily_limit"]
    if budget is None and limit is None:
        return None
    rows = session.execute(
        select(Message.cost, Message.cost_currency, Message.estimated_cost).where(
            Message.merchant_id == settings.merchant_id,
            Message.status.in_(SPENT),
            Message.claimed_at >= local_day_start(settings, now),
        )
    ).all()
    if limit is not None and len(rows) >= limit:
        return f"the merchant's daily limit of {limit} messages is reached"
    if budget is not None:
        spent = sum((_charge(row, settings.currency) for row in rows), Decimal(0))
        if spent + estimate > budget:
            return (
                f"the merchant's daily budget of {budget} {settings.currency} is spent "
                f"({spent} so far)"
            )
    return None


def _charge(row, currency: str) -> Decimal:
    cost, cost_currency, estimated = row
    if cost is not None and (cost_currency or currency) == currency:
        return abs(cost)
    return estimated or Decimal(0)


def price(connection: Connection) -> Decimal:
    """What the merchant says one SMS part or one ZNS costs on this connection (``price``)."""
    try:
        return Decimal(str((connection.settings or {}).get("price") or 0))
    except InvalidOperation:
        return Decimal(0)


def _content(
    hub: Hub, route: Route, message: Message, settings: Settings, kind_settings: KindSettings
) -> Decision:
    decision = Decision(
        "send",
        channel=route.channel,
        connection=route.connection,
        gateway=route.gateway,
        recipient=route.recipient,
    )
    marketing = kind_settings.kind.marketing
    body = message.body
    if route.channel == "sms" and marketing:
        body = advertising.advertising_sms(body, settings.sms_opt_out(message.locale))
    unicode = (settings["unicode"] and route.gateway.unicode) or route.channel == "email"
    decision.sms = prepare_sms(body, unicode=unicode)
    if route.channel == "zalo":
        decision.template_id = kind_settings.zalo_template_id
        decision.template_data = {
            param: render(template, message.variables or {})
            for param, template in kind_settings.zalo_params.items()
        }
        decision.tag = zns_tag(kind_settings)
        decision.estimated_cost = price(route.connection)
    elif route.channel == "email":
        decision.email = compose_email(hub, message, settings, kind_settings, route.recipient)
        decision.estimated_cost = price(route.connection)
    else:
        decision.estimated_cost = price(route.connection) * decision.sms.segments
    return decision
