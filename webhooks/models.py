"""The webhook tables: the inbound inbox, and outbound endpoints, deliveries and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub import JSONType
from hub import Model
from hub import UTCDateTime
from hub import utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: Inbox statuses: waiting for its job, done, stored but not for us, given up on.
INBOX_STATUSES = ("pending", "processed", "ignored", "failed")


class InboxEntry(Model):
    """One delivery a platform sent to a connection's webhook URL, stored before the answer.

    Unique on ``(connection_id, delivery_id)``: a platform's retry of the same
    delivery finds its row already there and changes nothing.

    ``merchant_id`` and ``connection_id`` carry no foreign keys, on purpose. On
    PostgreSQL a foreign key locks the referenced row (``FOR KEY SHARE``) on every
    insert: every delivery of a store would lock that store's connection and
    merchant rows, and deliveries inserted at once would share those locks
    through a MultiXact, about one per delivery. Without the keys the intake's
    inserts take no lock on either row. The intake's insert proves the
    connection exists in the same statement (``webhooks.snapshots``), and the hub
    never deletes connections or merchants (they are marked deleted), so the keys
    would only guard against deletes made by hand; a row whose connection is gone
    fails its job with the reason.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("connection_id", "delivery_id"),
        # The sweep looks only at rows still waiting; the index stays as small as they are.
        Index(
            "ix_webhook_inbox_pending",
            "received_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # A drain takes a connection's waiting rows in id order: without this it would
        # read the store's whole history or every store's waiting rows.
        Index(
            "ix_webhook_inbox_waiting",
            "connection_id",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # The Connections page counts a connection's failed rows and reads the latest
        # reason; only failed rows enter this index, so a delivery that succeeds never does.
        Index(
            "ix_webhook_inbox_failed",
            "connection_id",
            "id",
            postgresql_where=text("status = 'failed'"),
            sqlite_where=text("status = 'failed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(BigId)  # merchants.id, no key, no index
    connection_id: Mapped[int] = mapped_column(BigId)  # connections.id, no key
    connector: Mapped[str] = mapped_column(String(64))
    #: The platform's delivery id, or ``sha256:<hex>`` of the body when it sends none.
    delivery_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200), default="")
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(Model):
    """A merchant's URL that receives the hub's events, signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    #: Event types to send, or ``["*"]`` for every one.
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    description: Mapped[str] = mapped_column(String(500), default="")
    #: ``{"secret": "whsec_..."}``, plus the previous secret while it still signs.
    secrets_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: active or disabled.
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    #: When the first of the current run of failed attempts happened; None while healthy.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookDelivery(Model):
    """One event for one endpoint. Its ``message_id`` is the ``webhook-id`` on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        UniqueConstraint("message_id"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
        Index(
            "ix_webhook_deliveries_pending",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``msg_`` and 27 characters derived from (event, endpoint): the same on every retry.
    message_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    #: pending (attempts left), succeeded, failed (gave up) or abandoned (endpoint gone off).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookAttempt(Model):
    """One HTTP attempt of one delivery: what was answered, how fast."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    #: auto (the schedule) or replay (by hand).
    trigger: Mapped[str] = mapped_column(String(16), default="auto")
    succeeded: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    #: At most 1 KB of the answer's body, for the merchant to see what went wrong.
    response_snippet: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
