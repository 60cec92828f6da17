"""Console sessions and sign-in throttling.

A session is a random token in an HttpOnly cookie; the table keeps its hash,
so signing out or changing the password revokes it on every web process.
Failed sign-ins are counted per account and per address over a window; past
the limit, sign-in is refused until the window moves on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.merchants.staff import token_hash
from hub.models import Merchant
from hub.models import SignInFailure
from hub.models import StaffSession
from hub.models import StaffUser

SESSION_LIFETIME = timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20


@dataclass(frozen=True)
class SignedIn:
    """Who a session belongs to, detached from the database session."""

    session_id: int
    user_id: int
    merchant_id: int
    role: str
    email: str
    name: str
    locale: str | None
    merchant_name: str
    merchant_locale: str
    timezone: str
    currency: str


def open_session(session: Session, user: StaffUser, *, now: datetime | None = None) -> str:
    """Start a new session for ``user``; return the cookie's token (shown once)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def signed_in(session: Session, token: str, *, now: datetime | None = None) -> SignedIn | None:
    """Who holds the live session ``token``, or None (unknown, revoked, expired, disabled)."""
    now = now or utcnow()
    row = session.execute(
        select(StaffSession, StaffUser, Merchant)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .join(Merchant, Merchant.id == StaffUser.merchant_id)
        .where(StaffSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    record, user, merchant = row
    if record.revoked_at is not None or record.expires_at <= now or user.status != "active":
        return None
    return SignedIn(
        session_id=record.id,
        user_id=user.id,
        merchant_id=user.merchant_id,
        role=user.role,
        email=user.email,
        name=user.name,
        locale=user.locale,
        merchant_name=merchant.name,
        merchant_locale=merchant.locale,
        timezone=merchant.timezone,
        currency=merchant.currency,
    )


def close_session(session: Session, token: str) -> None:
    """Revoke the session ``token`` (signing out); an unknown token changes nothing."""
    record = session.scalars(
        select(StaffSession).where(StaffSession.token_hash == token_hash(token))
    ).first()
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()


def throttled_for(
    session: Session, account: str, address: str, *, now: datetime | None = None
) -> timedelta | None:
    """How long sign-in stays refused for this account or address, or None when it is allowed."""
    now = now or utcnow()
    since = now - THROTTLE_WINDOW
    waits = []
    for column, value, limit in (
        (SignInFailure.account, account.strip().lower(), ACCOUNT_LIMIT),
        (SignInFailure.address, address, ADDRESS_LIMIT),
    ):
        recent = list(
            session.scalars(
                select(SignInFailure.at)
                .where(column == value, SignInFailure.at > since)
                .order_by(SignInFailure.at.desc())
                .limit(limit)
            )
        )
        if len(recent) >= limit:
            waits.append(recent[-1] + THROTTLE_WINDOW - now)
    return max(waits) if waits else None


def record_failure(
    session: Session, account: str, address: str, *, now: datetime | None = None
) -> None:
    """Count one failed sign-in; failures older than the window are dropped."""
    now = now or utcnow()
    session.add(SignInFailure(account=account.strip().lower()[:254], address=address[:64], at=now))
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - THROTTLE_WINDOW))


def forget_failures(session: Session, account: str) -> None:
    """A successful sign-in clears the account's failures (not the address's)."""
    session.execute(delete(SignInFailure).where(SignInFailure.account == account.strip().lower()))


def recent_failures(session: Session, account: str) -> int:
    return (
        session.scalar(select(func.count()).where(SignInFailure.account == account.strip().lower()))
        or 0
    )
