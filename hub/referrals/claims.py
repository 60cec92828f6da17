"""A friend arrives with a referral code: tie them to its member, or say why not.

Every claim the hub can tie to a friend is kept, refused ones too (with the
reason), so the merchant sees attempts; a friend is referred at most once.
Refused: the member's own code, or a referrer who shares the friend's phone,
email, address or store customer id (``self``); a friend the store already
knew, with an order before the claim (``not_new``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict
from hub.errors import NotFound
from hub.events import emit
from hub.folding import fold
from hub.members.directory import identities_of
from hub.models import Member
from hub.models import Order
from hub.models import Referral
from hub.referrals.codes import referrer_by_code
from hub.referrals.terms import get_terms


def claim_referral(
    session: Session,
    friend: Member,
    code: str,
    *,
    connection_id: int | None,
    now: datetime,
) -> Referral:
    """Record that ``friend`` came through ``code``; a second claim answers the first one.

    :raise Conflict: the shop's referrals are off (``referrals_off``).
    :raise NotFound: no member of this shop has the code (``unknown_referral_code``).
    """
    merchant_id = friend.merchant_id
    if not get_terms(session, merchant_id)["enabled"]:
        raise Conflict("this shop has no referral programme", code="referrals_off")
    earlier = session.scalars(
        select(Referral).where(Referral.merchant_id == merchant_id, Referral.friend_id == friend.id)
    ).first()
    if earlier is not None:
        return earlier
    referrer = referrer_by_code(session, merchant_id, code)
    if referrer is None:
        raise NotFound(
            f"no member of this shop has the referral code {code[:32]!r}",
            code="unknown_referral_code",
        )
    reason = _refusal(session, referrer, friend)
    referral = Referral(
        merchant_id=merchant_id,
        referrer_id=referrer.id,
        friend_id=friend.id,
        connection_id=connection_id,
        code=code.strip().upper()[:32],
        status="rejected" if reason else "joined",
        reason=reason,
        rewards={},
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    emit(session, "referral.joined", merchant_id, referral_event(referral))
    return referral


def _refusal(session: Session, referrer: Member, friend: Member) -> str | None:
    if referrer.id == friend.id or _same_person(session, referrer, friend):
        return "self"
    known = session.scalar(select(exists().where(Order.member_id == friend.id)))
    return "not_new" if known else None


def _same_person(session: Session, referrer: Member, friend: Member) -> bool:
    """Whether the two share a phone, an email, an address or a store customer id."""
    for mine, theirs in (
        (referrer.phone, friend.phone),
        (referrer.email, friend.email),
        (_address(referrer), _address(friend)),
    ):
        if mine and theirs and mine == theirs:
            return True
    ours = {(i.connection_id, i.external_id) for i in identities_of(session, referrer.id)}
    return any((i.connection_id, i.external_id) in ours for i in identities_of(session, friend.id))


def _address(member: Member) -> str | None:
    """The street address with its ward, district and province, folded; None without a street."""
    if not member.address:
        return None
    parts = (member.address, member.ward, member.district, member.province)
    return " ".join(fold(p) for p in parts if p)


def referral_event(referral: Referral) -> dict:
    return {
        "referral_id": referral.id,
        "referrer_id": referral.referrer_id,
        "friend_id": referral.friend_id,
        "status": referral.status,
        "reason": referral.reason,
        "order_id": referral.order_id,
    }
