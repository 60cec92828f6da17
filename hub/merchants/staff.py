"""Staff users of a merchant: roles, argon2 passwords, and one-time links.

A link (first sign-in, invitation, password reset) is a random token shown
once; only its SHA-256 hash is stored, and it works once, before it expires.
Every function takes the caller's session and leaves the commit to it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2 import profiles
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models import Merchant
from hub.models import StaffLink
from hub.models import StaffSession
from hub.models import StaffUser
from hub.phones import normalize_email

#: Highest first; a role reaches every page of the roles below it.
ROLES = ("owner", "manager", "cashier")
LINK_PURPOSES = ("sign_in", "invite", "reset")
LINK_LIFETIME = {
    "sign_in": timedelta(days=2),
    "invite": timedelta(days=7),
    "reset": timedelta(hours=2),
}
MIN_PASSWORD = 10
#: ``HUB_PASSWORD_HASH_PROFILE``: argon2's RFC 9106 low-memory profile, or its cheapest for tests.
HASH_PROFILES = {"default": profiles.RFC_9106_LOW_MEMORY, "test": profiles.CHEAPEST}
_hashers: dict[str, PasswordHasher] = {}
_dummies: dict[int, str] = {}


def password_hasher(config: Mapping[str, Any]) -> PasswordHasher:
    """The argon2 hasher the app's ``HUB_PASSWORD_HASH_PROFILE`` names.

    :raise ValueError: the setting names no profile.
    """
    name = config.get("HUB_PASSWORD_HASH_PROFILE") or "default"
    if name not in HASH_PROFILES:
        raise ValueError(
            f"HUB_PASSWORD_HASH_PROFILE={name!r} is not a profile; use "
            + " or ".join(HASH_PROFILES)
        )
    if name not in _hashers:
        _hashers[name] = PasswordHasher.from_parameters(HASH_PROFILES[name])
    return _hashers[name]


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash verified against when no user has the email: a wrong email costs as long."""
    if id(hasher) not in _dummies:
        _dummies[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
    return _dummies[id(hasher)]


def role_rank(role: str) -> int:
    """Higher for a role that reaches more: owner 3, manager 2, cashier 1."""
    return len(ROLES) - ROLES.index(role) if role in ROLES else 0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(
            f"unknown role {role!r}", details={"role": [f"one of {', '.join(ROLES)}"]}
        )
    return role


def create_staff_user(
    session: Session,
    merchant_id: int,
    email: str,
    role: str,
    *,
    name: str = "",
    actor: str,
) -> StaffUser:
    """Add a staff user without a password; they set one through a link.

    :raise Conflict: the email already signs in somewhere in this hub.
    """
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} does not exist")
    address = normalize_email(email)
    if address is None:
        raise ValidationError("a staff user needs an email", details={"email": ["required"]})
    taken = session.scalar(select(StaffUser.id).where(StaffUser.email == address))
    if taken is not None:
        raise Conflict(
            f"{address} already has a staff account",
            code="duplicate_email",
            details={"email": ["already has a staff account"]},
        )
    user = StaffUser(
        merchant_id=merchant_id, email=address, role=_check_role(role), name=name.strip()[:200]
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="staff.created",
        object_type="staff_user",
        object_id=user.id,
        data={"role": role},
    )
    return user


def list_staff(session: Session, merchant_id: int) -> list[StaffUser]:
    return list(
        session.scalars(
            select(StaffUser).where(StaffUser.merchant_id == merchant_id).order_by(StaffUser.id)
        )
    )


def get_staff(session: Session, merchant_id: int, user_id: int) -> StaffUser:
    """The merchant's staff user; another merchant's id is simply not found."""
    user = session.get(StaffUser, user_id)
    if user is None or user.merchant_id != merchant_id:
        raise NotFound(f"staff user {user_id} not found", code="staff_not_found")
    return user


def change_role(session: Session, user: StaffUser, role: str, *, actor: str) -> StaffUser:
    """Give a user another role; the merchant always keeps one active owner."""
    _check_role(role)
    if user.role == "owner" and role != "owner":
        _keep_an_owner(session, user)
    user.role = role
    audit.record(
        session,
        user.merchant_id,
        actor=actor,
        action="staff.role_changed",
        object_type="staff_user",
        object_id=user.id,
        data={"role": role},
    )
    return user


def disable_staff(session: Session, user: StaffUser, *, actor: str) -> StaffUser:
    """Stop a user signing in and end their sessions; the last owner cannot be disabled."""
    if user.role == "owner":
        _keep_an_owner(session, user)
    user.status = "disabled"
    revoke_sessions(session, user.id)
    audit.record(
        session,
        user.merchant_id,
        actor=actor,
        action="staff.disabled",
        object_type="staff_user",
        object_id=user.id,
    )
    return user


def _keep_an_owner(session: Session, user: StaffUser) -> None:
    owners = session.scalar(
        select(func.count()).where(
            StaffUser.merchant_id == user.merchant_id,
            StaffUser.role == "owner",
            StaffUser.status == "active",
            StaffUser.id != user.id,
        )
    )
    if not owners:
        raise Conflict(
            "the shop needs at least one owner: make someone else owner first",
            code="last_owner",
        )


def issue_link(
    session: Session, user: StaffUser, purpose: str, *, now: datetime | None = None
) -> str:
    """Make a one-time link token for ``user``; the token is returned once, never stored."""
    if purpose not in LINK_PURPOSES:
        raise ValueError(purpose)
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        StaffLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + LINK_LIFETIME[purpose],
        )
    )
    session.flush()
    return token


def find_link(
    session: Session, token: str, *, now: datetime | None = None
) -> tuple[StaffLink, StaffUser]:
    """The unused, unexpired link ``token`` is and its active user.

    :raise NotFound: the link is unknown, used, expired, or its user is disabled.
    """
    now = now or utcnow()
    link = session.scalars(
        select(StaffLink).where(StaffLink.token_hash == token_hash(token))
    ).first()
    user = session.get(StaffUser, link.user_id) if link else None
    if link is None or link.used_at is not None or link.expires_at <= now or user is None:
        raise NotFound("this link is used or expired; ask for a new one", code="link_expired")
    if user.status != "active":
        raise NotFound("this account is disabled", code="link_expired")
    return link, user


def use_link(
    session: Session,
    token: str,
    password: str,
    *,
    hasher: PasswordHasher,
    name: str | None = None,
    now: datetime | None = None,
) -> StaffUser:
    """Set the password through a link and spend the link; other sessions end."""
    link, user = find_link(session, token, now=now)
    set_password(session, user, password, hasher=hasher)
    if name is not None and name.strip():
        user.name = name.strip()[:200]
    link.used_at = now or utcnow()
    return user


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"the password needs at least {MIN_PASSWORD} characters",
            details={"password": [f"at least {MIN_PASSWORD} characters"]},
            code="password_too_short",
        )


def set_password(
    session: Session, user: StaffUser, password: str, *, hasher: PasswordHasher
) -> None:
    """Store the new password's argon2 hash and end every session of the user."""
    check_password_rules(password)
    user.password_hash = hasher.hash(password)
    revoke_sessions(session, user.id)


def check_password(
    session: Session, email: str, password: str, *, hasher: PasswordHasher
) -> StaffUser | None:
    """The active user whose email and password these are, or None."""
    try:
        address = normalize_email(email)
    except ValidationError:
        address = None
    user = (
        session.scalars(select(StaffUser).where(StaffUser.email == address)).first()
        if address
        else None
    )
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.status != "active" or not user.password_hash:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def revoke_sessions(session: Session, user_id: int, *, keep: int | None = None) -> None:
    """End every open session of the user (but ``keep``)."""
    now = utcnow()
    query = select(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None)
    )
    for row in session.scalars(query):
        if row.id != keep:
            row.revoked_at = now
