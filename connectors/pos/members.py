"""Members at the counter: find one by phone, code or scanned QR, show the card, enrol.

A counter waits on these answers, so each is built in at most two queries:
the member with their balance and tier in one, their usable vouchers in the
other. The balance follows the ledger's rules (``hub`` ledger ``balance``):
lots with points left, not past their expiry; available once ``available_at``
has passed, pending before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.pos.keys import Counter
from connectors.pos.redemption import redemption_terms
from hub import Conflict
from hub import Member
from hub import MemberTier
from hub import NotFound
from hub import PointLot
from hub import Tier
from hub import ValidationError
from hub import Voucher
from hub import add_identity
from hub import create_member
from hub import normalize_phone
from hub import set_consent
from hub import utcnow

#: Member codes: Crockford's alphabet without I, L, O, U, as ``hub`` makes them.
_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4,16}$")
_PHONE = re.compile(r"^\+?\d{8,15}$")
_SEPARATORS = re.compile(r"[\s.\-()/]")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Prefixes a QR payload may carry before the code (``HUB:7K3M9Q2A``, ``member:...``).
_QR_PREFIXES = ("HUB:", "MEMBER:", "HUBMEMBER:")
VOUCHERS_SHOWN = 20
CONSENT_CHANNELS = ("sms", "zalo", "email")


@dataclass(frozen=True)
class Lookup:
    """What a counter typed or scanned, read as a phone and/or a member code."""

    phone: str | None
    code: str | None

    @property
    def empty(self) -> bool:
        return not (self.phone or self.code)


def read_lookup(text: str | None, region: str) -> Lookup:
    """Read a phone, a member code, or a QR scan (the code, perhaps with a prefix).

    A scanner types the QR's text and Enter; cashiers type phones with spaces
    or dashes. Eight digits could be either a code or a short phone, so both
    are tried.
    """
    raw = (text or "").strip()
    compact = _SEPARATORS.sub("", raw)
    upper = compact.upper()
    for prefix in _QR_PREFIXES:
        if upper.startswith(prefix):
            upper = upper[len(prefix) :]
            compact = compact[len(prefix) :]
    phone = None
    if _PHONE.match(compact):
        try:
            phone = normalize_phone(compact, region)
        except ValidationError:
            phone = None
    # Crockford's reading: an O typed for a zero, an I or L for a one.
    upper = upper.translate(_LOOK_ALIKES)
    code = upper if _CODE.match(upper) else None
    return Lookup(phone=phone, code=code)


def _balance_columns(now: datetime) -> tuple[Any, Any]:
    live = or_(PointLot.expires_at.is_(None), PointLot.expires_at > now)

    def summed(available: bool) -> Any:
        ready = PointLot.available_at <= now if available else PointLot.available_at > now
        return (
            select(func.coalesce(func.sum(PointLot.remaining), 0))
            .where(PointLot.member_id == Member.id, PointLot.remaining > 0, live, ready)
            .correlate(Member)
            .scalar_subquery()
        )

    return summed(True).label("available"), summed(False).label("pending")


def _card_query(now: datetime) -> Any:
    available, pending = _balance_columns(now)
    return (
        select(Member, available, pending, Tier.id.label("tier_id"), Tier.name.label("tier"))
        .outerjoin(
            MemberTier, and_(MemberTier.member_id == Member.id, MemberTier.ended_at.is_(None))
        )
        .outerjoin(Tier, Tier.id == MemberTier.tier_id)
    )


@dataclass(frozen=True)
class Found:
    """A member as the counter sees them, with points and tier, from one query."""

    member: Member
    available: int
    pending: int
    tier_id: int | None
    tier: str | None


def _found(row: Any) -> Found:
    return Found(
        member=row[0],
        available=int(row.available or 0),
        pending=int(row.pending or 0),
        tier_id=row.tier_id,
        tier=row.tier,
    )


def find(session: Session, counter: Counter, lookup: Lookup) -> Found:
    """Return the member a lookup names, with balance and tier: one query.

    A code of a member merged into another finds the one they were merged
    into (one more query, only then).
    :raise NotFound: nobody matches (``member_not_found``).
    """
    if lookup.empty:
        raise ValidationError(
            "type or scan a phone number or a member code",
            details={"q": ["a phone number or a member code"]},
            code="lookup_empty",
        )
    now = utcnow()
    clauses = []
    if lookup.phone:
        clauses.append(Member.phone == lookup.phone)
    if lookup.code:
        clauses.append(Member.code == lookup.code)
    code_first = case((Member.code == (lookup.code or ""), 0), else_=1)
    row = session.execute(
        _card_query(now)
        .where(
            Member.merchant_id == counter.merchant_id,
            Member.status.in_(("active", "merged")),
            or_(*clauses),
        )
        .order_by(code_first, MemberTier.id.desc())
        .limit(1)
    ).first()
    if row is not None and row[0].status == "merged" and row[0].merged_into_id:
        row = _by_id(session, counter, row[0].merged_into_id, now)
    if row is None or row[0].status != "active":
        raise NotFound(
            "no member has this phone number or code; check it, or enrol the customer",
            code="member_not_found",
        )
    return _found(row)


def _by_id(session: Session, counter: Counter, member_id: int, now: datetime) -> Any:
    return session.execute(
        _card_query(now)
        .where(Member.merchant_id == counter.merchant_id, Member.id == member_id)
        .order_by(MemberTier.id.desc())
        .limit(1)
    ).first()


def find_by_code(session: Session, counter: Counter, code: str) -> Found:
    """Return the member with this member code (or scanned QR text)."""
    lookup = read_lookup(code, "VN")
    if lookup.code is None:
        raise NotFound(f"{code[:20]!r} is not a member code", code="member_not_found")
    return find(session, counter, Lookup(phone=None, code=lookup.code))


def balance_of(session: Session, member_id: int) -> tuple[int, int]:
    """The member's (available, pending) points now: one query."""
    available, pending = _balance_columns(utcnow())
    row = session.execute(select(available, pending).where(Member.id == member_id)).first()
    return (int(row.available or 0), int(row.pending or 0)) if row else (0, 0)


def usable_vouchers(session: Session, member_id: int, limit: int = VOUCHERS_SHOWN) -> list[Voucher]:
    """The member's vouchers a till can take now, soonest-expiring first: one query."""
    now = utcnow()
    never = case((Voucher.expires_at.is_(None), 1), else_=0)
    return list(
        session.scalars(
            select(Voucher)
            .where(
                Voucher.member_id == member_id,
                Voucher.status == "issued",
                or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
            )
            .order_by(never, Voucher.expires_at, Voucher.id)
            .limit(limit)
        )
    )


def money(value: Decimal | None) -> str | None:
    """An amount as a plain decimal string (``"50000"``, ``"0.5"``)."""
    return None if value is None else format(Decimal(value).normalize(), "f")


def phone_hint(phone: str | None) -> str | None:
    """The last digits only: enough for a cashier to confirm, not to copy."""
    return f"•••{phone[-4:]}" if phone else None


def voucher_view(voucher: Voucher) -> dict[str, Any]:
    return {
        "id": voucher.id,
        "code": voucher.code,
        "name": voucher.reward_name,
        "kind": voucher.kind,
        "value": money(voucher.value),
        "max_discount": money(voucher.max_discount),
        "product_sku": voucher.product_sku,
        "min_order": money(voucher.min_order),
        "currency": voucher.currency,
        "expires_at": voucher.expires_at.isoformat() if voucher.expires_at else None,
    }


def card(counter: Counter, found: Found, vouchers: list[Voucher]) -> dict[str, Any]:
    """The member as the counter API answers: who, points, tier, vouchers, what may be redeemed."""
    member = found.member
    return {
        "id": member.id,
        "code": member.code,
        "name": member.name,
        "phone_hint": phone_hint(member.phone),
        "points": {"available": found.available, "pending": found.pending},
        "tier": {"id": found.tier_id, "name": found.tier} if found.tier_id else None,
        "vouchers": [voucher_view(v) for v in vouchers],
        "redemption": redemption_terms(counter, found.available),
        "qr_svg_url": f"/pos/v1/members/{member.code}/qr.svg",
    }


def _active_member(session: Session, counter: Counter, phone: str) -> Member | None:
    return session.scalars(
        select(Member).where(
            Member.merchant_id == counter.merchant_id,
            Member.phone == phone,
            Member.status == "active",
        )
    ).first()


@dataclass(frozen=True)
class Enrolment:
    member: Member
    created: bool


def enrol(session: Session, counter: Counter, data: dict[str, Any], region: str) -> Enrolment:
    """Enrol a customer at the counter, or return the member who already has this phone.

    The phone is required. Consents given are recorded with the source
    ``pos:<location>``, also for a member who existed already (the customer
    said so at the counter, now). ``customer_id`` links the member to the
    POS's own customer record.
    """
    for name in ("name", "email", "customer_id"):
        if isinstance(data.get(name), str) and _CONTROL.search(data[name]):
            raise ValidationError(
                f"the {name} contains control characters", details={name: ["control characters"]}
            )
    phone = normalize_phone(data.get("phone"), region)
    if not phone:
        raise ValidationError(
            "a phone number is required to enrol at the counter",
            details={"phone": ["required"]},
        )
    consents = {k: bool(v) for k, v in (data.get("consents") or {}).items()}
    existing = _active_member(session, counter, phone)
    if existing is not None:
        for channel, granted in consents.items():
            set_consent(session, existing, channel, granted, source=counter.consent_source)
        member, created = existing, False
    else:
        profile = {
            k: data[k] for k in ("name", "email", "birthday", "gender") if data.get(k) is not None
        }
        try:
            member = create_member(
                session,
                counter.merchant_id,
                {**profile, "phone": phone, "consents": consents},
                source=counter.consent_source,
                region=region,
            )
            created = True
        except Conflict as conflict:
            # Another till enrolled this phone since the lookup above: that member is the answer.
            member = _active_member(session, counter, phone)
            if conflict.code != "duplicate_phone" or member is None:
                raise
            for channel, granted in consents.items():
                set_consent(session, member, channel, granted, source=counter.consent_source)
            created = False
    if data.get("customer_id"):
        add_identity(session, member, counter.connection_id, str(data["customer_id"]))
    return Enrolment(member=member, created=created)
