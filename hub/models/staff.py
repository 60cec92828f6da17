"""Staff users of a merchant, their one-time links, console sessions and sign-in failures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import Model
from hub.db import UTCDateTime
from hub.db import utcnow


class StaffUser(Model):
    """A person who signs in to the console for one merchant, with one role."""

    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    #: Lower-cased; the sign-in name, unique across the hub.
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    #: owner, manager or cashier.
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id hash; None until the person sets a password through a link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: vi or en; None follows the merchant's locale.
    locale: Mapped[str | None] = mapped_column(String(8))
    #: active or disabled (a disabled user cannot sign in; their sessions are revoked).
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffLink(Model):
    """A one-time link: first sign-in, an invitation or a password reset. Only a hash is kept."""

    __tablename__ = "staff_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    #: sign_in, invite or reset.
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Model):
    """A signed-in browser: the cookie holds a random token, the table its hash."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(Model):
    """One failed sign-in, counted per account and per address to throttle guessing."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_account_at", "account", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
