"""Merchants (tenants) and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import Model
from hub.db import UTCDateTime
from hub.db import utcnow


class Merchant(Model):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Model):
    """A bearer key. Only a SHA-256 hash of the secret part is stored.

    Keys are 256-bit random tokens, so a fast hash is enough: there is no
    dictionary to guess from (unlike passwords, which need a slow KDF).
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(String(32), default="merchant")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventSigningSecret(Model):
    """A merchant's secret for signing ``POST /api/v1/events`` (Standard Webhooks).

    Kept encrypted (``hub.secrets``): verifying an HMAC needs the secret itself.
    A rotation gives the earlier secrets an ``expires_at``, so senders can move
    to the new one while both are accepted.
    """

    __tablename__ = "event_signing_secrets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    secret_encrypted: Mapped[str] = mapped_column(Text)
    #: The secret's first characters, to tell secrets apart in lists.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
