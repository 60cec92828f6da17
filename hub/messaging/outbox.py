"""Queue an automatic message: render it, record it once, hand it to a worker.

The row is written once per (merchant, dedupe key), so the same event
delivered twice, or a periodic run repeated, queues nothing new. Messages no
channel can reach (no consent, opted out, no phone) are logged as skipped at
once, without a voucher and without a job. Everything else is decided again
by the worker right before sending (see ``policy``), so an opt-out between
now and then still counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.events import Event
from hub.events import emit
from hub.messaging.delivery import schedule
from hub.messaging.kinds import message_kinds
from hub.messaging.models import Message
from hub.messaging.policy import choose_route
from hub.messaging.settings import KindSettings
from hub.messaging.settings import Settings
from hub.messaging.settings import get_settings
from hub.messaging.templates import render
from hub.messaging.variables import format_values
from hub.messaging.variables import member_locale
from hub.messaging.variables import member_values
from hub.models import Member

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)


def queue_message(
    hub: Hub,
    *,
    merchant_id: int,
    member_id: int,
    kind: str,
    key: str,
    variables: dict[str, Any] | None = None,
    event: Event | None = None,
    now: datetime | None = None,
    reward_key: str | None = None,
) -> int | None:
    """Queue the automatic message ``kind`` for a member, once per ``key``; return its id.

    ``key`` names the cause: an event id, an order id, a period (``2026``
    for a birthday). ``variables`` are the kind's own template values: ints,
    Decimals, dates and datetimes are formatted for the member's locale (and
    datetimes shown in the merchant's timezone); an ``(amount, currency)``
    pair is formatted as money (``450.000 VND``). ``reward_key`` chooses the
    voucher of a kind whose gift depends on its cause (``options.rewards``;
    tier-up passes the tier's id).
    Returns None, changing nothing, when the merchant has the kind off, the
    member is gone, or a message for this key exists already.
    :raise ValueError: no installed plugin registers ``kind``.
    """
    spec = message_kinds(hub).get(kind)
    if spec is None:
        raise ValueError(f"unknown message kind {kind!r}; register it with register_message_kinds")
    now = now or utcnow()
    dedupe_key = f"{kind}:{member_id}:{key}"[:200]
    with hub.db.transaction() as session:
        settings = get_settings(session, merchant_id)
        kind_settings = settings.kind(spec)
        if not kind_settings.enabled or _exists(session, merchant_id, dedupe_key):
            return None
        member = session.get(Member, member_id)
        if member is None or member.merchant_id != merchant_id or member.status != "active":
            return None
        message = _record(session, settings, kind_settings, member, dedupe_key, event, now)
        if message is None:
            return None
        route, refusals = choose_route(hub, session, settings, kind_settings, member)
        # A voucher goes only with a message that can go out.
        reward_id = kind_settings.reward_for(reward_key) if route is not None else None
        _fill(session, settings, kind_settings, member, message, variables or {}, reward_id)
        if route is None:
            message.status = "skipped"
            message.reason = "no channel can reach this member: " + "; ".join(refusals)
        message_id, status = message.id, message.status
    if status == "queued":
        schedule(hub, message_id, now, now=now)
    return message_id


def kind_options(hub: Hub, merchant_id: int, kind: str) -> dict[str, Any] | None:
    """Return the merchant's options for ``kind`` (defaults filled in), or None when it is off.

    A handler asks first, to skip the work of a message the merchant does not want.
    """
    spec = message_kinds(hub).get(kind)
    if spec is None:
        return None
    with hub.db.session() as session:
        kind_settings = get_settings(session, merchant_id).kind(spec)
    return dict(kind_settings.options) if kind_settings.enabled else None


def when_kind_enabled(kinds: str | Mapping[str, str]) -> Callable[[Hub, list[Event]], list[str]]:
    """A ``wants_events`` chooser: the events of merchants who have the message kind on.

    ``kinds`` is one kind for every event, or the kind of each event type
    (``{"tier.changed": "tier_up", "tier.near": "tier_near"}``). Kinds are
    off until a merchant switches them on, so most events of most merchants
    then cost no job. One settings read per merchant of the dispatch.
    """

    def choose(hub: Hub, events: list[Event]) -> list[str]:
        specs = message_kinds(hub)
        on: dict[tuple[int, str], bool] = {}
        chosen = []
        with hub.db.session() as session:
            for event in events:
                kind = kinds if isinstance(kinds, str) else kinds.get(event.type)
                spec = specs.get(kind) if kind else None
                if spec is None:
                    continue
                key = (event.merchant_id, spec.name)
                if key not in on:
                    on[key] = get_settings(session, event.merchant_id).kind(spec).enabled
                if on[key]:
                    chosen.append(event.id)
        return chosen

    return choose


def _exists(session: Session, merchant_id: int, dedupe_key: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(Message.merchant_id == merchant_id, Message.dedupe_key == dedupe_key)
            )
        )
    )


def _record(
    session: Session,
    settings: Settings,
    kind_settings: KindSettings,
    member: Member,
    dedupe_key: str,
    event: Event | None,
    now: datetime,
) -> Message | None:
    message = Message(
        merchant_id=settings.merchant_id,
        member_id=member.id,
        kind=kind_settings.kind.name,
        dedupe_key=dedupe_key,
        event_id=event.id if event else None,
        event_type=event.type if event else None,
        status="queued",
        locale=member_locale(member, settings),
        body="",
        variables={},
        history=[],
        attempts=0,
        due_at=now,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None  # the same cause, queued by a concurrent job
    return message


def _fill(
    session: Session,
    settings: Settings,
    kind_settings: KindSettings,
    member: Member,
    message: Message,
    variables: dict[str, Any],
    reward_id: int | None,
) -> None:
    """Render the message's text and values (for the log, even when it is skipped)."""
    values = {**member_values(session, member, settings), **variables}
    voucher = None
    if reward_id:
        voucher = gift_voucher(session, member, reward_id, kind=kind_settings.kind.name)
        if voucher is not None:
            message.voucher_id = voucher.id
            values["voucher_code"] = voucher.code
            values["voucher_expiry_date"] = voucher.expires_at
    formatted = format_values(values, message.locale, settings.timezone)
    message.variables = formatted
    template = kind_settings.template(message.locale, voucher=voucher is not None)
    message.body = render(template, formatted)


def gift_voucher(session: Session, member: Member, reward_id: int, *, kind: str) -> Any:
    """Issue the reward's voucher as a gift (no points taken, no stock used); None if gone.

    The voucher keeps the reward's terms and name but no link to it, so it
    neither counts against the reward's per-member limit nor restocks it
    when cancelled. Its ``voucher.issued`` event carries ``source`` =
    ``message:<kind>`` so the voucher-issued message does not repeat it.
    """
    from hub.models import Reward
    from hub.rewards.vouchers import issue_voucher
    from hub.rewards.vouchers import voucher_event

    reward = session.get(Reward, reward_id)
    if reward is None or reward.merchant_id != member.merchant_id or not reward.active:
        log.warning("reward %s for %s messages is gone; sending without a voucher", reward_id, kind)
        return None
    voucher = issue_voucher(session, member, reward, actor=f"message:{kind}")
    voucher.points = 0
    voucher.reward_id = None
    session.flush()
    emit(
        session,
        "voucher.issued",
        member.merchant_id,
        {**voucher_event(voucher), "source": f"message:{kind}"},
    )
    return voucher
