"""Members' referral codes: made the first time a member's link is shown, then kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.members.directory import new_member_code
from hub.models import Member
from hub.models import ReferralCode

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.core import Hub


def code_of(session: Session, member_id: int) -> str | None:
    return session.scalar(select(ReferralCode.code).where(ReferralCode.member_id == member_id))


def ensure_code(hub: Hub, merchant_id: int, member_id: int) -> str | None:
    """The member's referral code, made in a transaction of its own when they have none.

    None when the shop's referrals are off. Two requests racing to make it
    both answer the one that was stored.
    """
    from hub.referrals.terms import get_terms

    with hub.db.session() as session:
        if not get_terms(session, merchant_id)["enabled"]:
            return None
        found = code_of(session, member_id)
    for _attempt in range(3):
        if found is not None:
            return found
        try:
            with hub.db.transaction() as session:
                code = new_member_code()
                session.add(ReferralCode(member_id=member_id, merchant_id=merchant_id, code=code))
            return code
        except IntegrityError:
            with hub.db.session() as session:
                found = code_of(session, member_id)  # made by the other request, or a clash
    raise RuntimeError(f"could not make a referral code for member {member_id}")


def referrer_by_code(session: Session, merchant_id: int, code: str) -> Member | None:
    """The active member whose referral code this is, in this shop."""
    normal = (code or "").strip().upper()[:32]
    row = session.scalars(
        select(ReferralCode).where(
            ReferralCode.merchant_id == merchant_id, ReferralCode.code == normal
        )
    ).first()
    if row is None:
        return None
    member = session.get(Member, row.member_id)
    return member if member is not None and member.status == "active" else None
