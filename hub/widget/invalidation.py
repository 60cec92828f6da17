"""Keep the widget's cache true: every committed change drops what it makes stale.

Listens to every write session of the hub. After a commit:

- a change to a merchant, its connections, program, rewards or tiers bumps
  the merchant's stamp (web processes reload that storefront's settings);
- a change to a member, their ledger, vouchers, tier or identities drops the
  member's panel (and, for identities, who the visitor is).

This covers any write made through the ORM, by any code path. The ledger
writes with Core statements and keeps the set of members it changed
(``hub.points.ledger.changed_members``); the events a transaction emits name
members too, for other set-based writes. Their panels are dropped as well:
all of it in one Redis round trip per commit, never one per event.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from hub.models import ActionRule
from hub.models import Connection
from hub.models import Member
from hub.models import MemberAction
from hub.models import MemberIdentity
from hub.models import MemberTier
from hub.models import Merchant
from hub.models import PointEntry
from hub.models import PointLot
from hub.models import ProgramVersion
from hub.models import Referral
from hub.models import ReferralCode
from hub.models import ReferralSettings
from hub.models import Reward
from hub.models import Tier
from hub.models import TierSettings
from hub.models import Voucher
from hub.points import ledger

if TYPE_CHECKING:
    from hub.core import Hub

_MERCHANT_WIDE = (
    Connection,
    ProgramVersion,
    Reward,
    Tier,
    TierSettings,
    ReferralSettings,
    ActionRule,
)
_MEMBER_OWNED = (
    PointEntry,
    PointLot,
    Voucher,
    MemberTier,
    MemberIdentity,
    ReferralCode,
    MemberAction,
)
_KEY = "hub_widget_stale"
# Every event whose data names a member can change what that member's panel shows.
_MEMBER_EVENTS = ("points.", "tier.", "voucher.", "member.", "order.")


def install(hub: Hub) -> None:
    """Drop the cached panels a committed session changed.

    The hub is held weakly (see ``hub.events.install``): a listener holding it
    would keep every hub the process made alive.
    """
    writer = hub.db._writer
    hub_ref = weakref.ref(hub)

    @sa_event.listens_for(writer, "after_flush")
    def _after_flush(session: Session, _context: Any) -> None:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, _MEMBER_OWNED):
                _stale(session).members.add((obj.merchant_id, obj.member_id))
                if isinstance(obj, MemberIdentity):
                    _stale(session).visitors.add((obj.connection_id, obj.external_id))
            elif isinstance(obj, Referral):  # the referrer's results
                _stale(session).members.add((obj.merchant_id, obj.referrer_id))
            elif isinstance(obj, Member):
                _stale(session).members.add((obj.merchant_id, obj.id))
            elif isinstance(obj, _MERCHANT_WIDE):
                _stale(session).merchants.add(obj.merchant_id)
            elif isinstance(obj, Merchant):
                _stale(session).merchants.add(obj.id)

    @sa_event.listens_for(writer, "before_commit")
    def _before_commit(session: Session) -> None:
        _stale(session).members.update(ledger.changed_members(session))
        for event in session.info.get("hub_events", ()):
            if event.type.startswith(_MEMBER_EVENTS):
                for key in ("member_id", "merged_member_id"):
                    member_id = event.data.get(key)
                    if isinstance(member_id, int):
                        _stale(session).members.add((event.merchant_id, member_id))

    @sa_event.listens_for(writer, "after_commit")
    def _after_commit(session: Session) -> None:
        stale = session.info.pop(_KEY, None)
        live_hub = hub_ref()
        if stale is None or live_hub is None or not hasattr(live_hub, "widget_cache"):
            return
        live_hub.widget_cache.invalidate(
            merchants=stale.merchants,
            members={m for m in stale.members if None not in m},
            visitors=stale.visitors,
        )

    @sa_event.listens_for(writer, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop(_KEY, None)


def _stale(session: Session) -> _Stale:
    """What this session's transaction has made stale so far."""
    stale = session.info.get(_KEY)
    if stale is None:
        stale = session.info[_KEY] = _Stale()
    return stale


class _Stale:
    __slots__ = ("members", "merchants", "visitors")

    def __init__(self) -> None:
        self.merchants: set[int] = set()
        self.members: set[tuple[int, int]] = set()
        self.visitors: set[tuple[int, str]] = set()
