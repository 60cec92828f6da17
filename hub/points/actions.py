"""Points for actions, not only purchases: earning rules on events a merchant reports.

A merchant's server reports that a member did something (``review.published``,
``social.followed``, ``profile.completed``, ``birthday.added``, or a kind of
its own) with an idempotency key. The rule for that kind says how many points
it earns, at most how many times per day, week, month or year (in the
merchant's timezone), or only the first time. Each event is kept once per key
with its outcome; replaying a key answers the first outcome and writes nothing.
A member's events are decided under their row lock, so two at once cannot
both slip under a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.errors import Conflict
from hub.models import ActionRule
from hub.models import Member
from hub.models import MemberAction
from hub.models import Merchant
from hub.points import ledger

PERIODS = ("day", "week", "month", "year")
#: Dotted lower-case names: ``review.published``, ``social.followed``.
KIND_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
#: Kinds the widget has words for; any other kind shows the rule's title.
KNOWN_KINDS = ("review.published", "social.followed", "profile.completed", "birthday.added")


@dataclass(frozen=True)
class ActionOutcome:
    action: MemberAction
    replayed: bool


def list_rules(session: Session, merchant_id: int) -> list[ActionRule]:
    return list(
        session.scalars(
            select(ActionRule).where(ActionRule.merchant_id == merchant_id).order_by(ActionRule.id)
        )
    )


def replace_rules(
    session: Session, merchant_id: int, rules: list[dict[str, Any]], *, actor: str
) -> list[ActionRule]:
    """Make ``rules`` (loaded by the API's schema, kinds unique) the merchant's whole set."""
    session.execute(delete(ActionRule).where(ActionRule.merchant_id == merchant_id))
    session.add_all(ActionRule(merchant_id=merchant_id, **rule) for rule in rules)
    session.flush()
    audit.record(
        session, merchant_id, actor=actor, action="action_rules.replace",
        object_type="merchant", object_id=merchant_id, data={"rules": rules},
    )  # fmt: skip
    return list_rules(session, merchant_id)


def record_action(
    session: Session,
    member: Member,
    kind: str,
    key: str,
    *,
    occurred_at: datetime,
    data: dict[str, Any] | None = None,
) -> ActionOutcome:
    """Record one event for ``member`` and award its rule's points if it still earns.

    :raise Conflict: the key was used for another member or kind (``idempotency_key_reused``).
    """
    earlier = _by_key(session, member.merchant_id, key)
    if earlier is None:
        ledger.lock_member(session, member)  # a second event of this member waits here
        earlier = _by_key(session, member.merchant_id, key)
    if earlier is not None:
        if (earlier.member_id, earlier.kind) != (member.id, kind):
            raise Conflict(
                f"idempotency key {key!r} was used for another event; send a new key",
                code="idempotency_key_reused",
            )
        return ActionOutcome(earlier, replayed=True)
    rule = session.scalars(
        select(ActionRule).where(
            ActionRule.merchant_id == member.merchant_id,
            ActionRule.kind == kind,
            ActionRule.enabled.is_(True),
        )
    ).first()
    outcome = _outcome(session, member, rule, occurred_at)
    action = MemberAction(
        merchant_id=member.merchant_id, member_id=member.id, kind=kind, idempotency_key=key,
        occurred_at=occurred_at, outcome=outcome,
        points=rule.points if outcome == "earned" else 0, data=data or {},
    )  # fmt: skip
    session.add(action)
    session.flush()
    if action.points:
        ledger.credit(
            session, member, action.points, kind="bonus", rule="event", key=f"action:{action.id}",
            reference=f"action:{action.id}", note=kind, actor="events", data={"kind": kind},
        )  # fmt: skip
    return ActionOutcome(action, replayed=False)


def _by_key(session: Session, merchant_id: int, key: str) -> MemberAction | None:
    return session.scalars(
        select(MemberAction).where(
            MemberAction.merchant_id == merchant_id, MemberAction.idempotency_key == key
        )
    ).first()


def _outcome(session: Session, member: Member, rule: ActionRule | None, at: datetime) -> str:
    if rule is None:
        return "no_rule"
    earned = (
        select(func.count())
        .select_from(MemberAction)
        .where(
            MemberAction.member_id == member.id,
            MemberAction.kind == rule.kind,
            MemberAction.outcome == "earned",
        )
    )
    if rule.first_time_only and session.scalar(earned):
        return "first_time_only"
    if rule.limit_count and rule.limit_period:
        start, end = period_of(rule.limit_period, at, _timezone(session, member))
        within = earned.where(MemberAction.occurred_at >= start, MemberAction.occurred_at < end)
        if session.scalar(within) >= rule.limit_count:
            return "limit"
    return "earned"


def _timezone(session: Session, member: Member) -> ZoneInfo:
    zone = session.scalar(select(Merchant.timezone).where(Merchant.id == member.merchant_id))
    return ZoneInfo(zone or "Asia/Ho_Chi_Minh")


def period_of(period: str, at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The [start, end) of the day, week (from Monday), month or year holding ``at``."""
    local = at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start, end = local, local + timedelta(days=1)
    elif period == "week":
        start = local - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = local.replace(day=1)
        end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    else:
        start = local.replace(month=1, day=1)
        end = start.replace(year=start.year + 1)
    return start, end


def action_states(session: Session, member: Member, now: datetime) -> dict[str, str]:
    """Per enabled rule, whether the member can still earn it now (``open``) or not (``done``)."""
    states = {}
    for rule in list_rules(session, member.merchant_id):
        if rule.enabled:
            states[rule.kind] = (
                "open" if _outcome(session, member, rule, now) == "earned" else "done"
            )
    return states
