"""The messaging tables: the message log, each merchant's settings, opt-outs.

A message row is written once per (merchant, dedupe key): the key names the
kind, the member and the event or period that caused it, so a replayed event
or a retried job finds the row and sends nothing new. The key is a string
rather than a constraint over ``member_id``, so merging two members (which
moves rows to the survivor) can never collide on it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow


class Message(Model):
    """One automatic message to one member, from its cause to the gateway's last receipt.

    ``status``: queued (waiting for a worker), held (until ``due_at``: quiet
    hours or a retry), sending (a worker has it), sent (the gateway accepted
    it), delivered (a receipt says so), failed, or skipped (a rule said no;
    ``reason`` says which).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("merchant_id", "dedupe_key"),
        Index("ix_messages_merchant", "merchant_id", "id"),
        # The daily budget sums a merchant's messages claimed since local midnight.
        Index("ix_messages_merchant_claimed", "merchant_id", "claimed_at"),
        Index("ix_messages_member", "member_id", "id"),
        Index("ix_messages_gateway_id", "connection_id", "gateway_message_id"),
        # The sweep looks for messages waiting on the clock.
        Index(
            "ix_messages_waiting",
            "due_at",
            postgresql_where=text("status IN ('queued', 'held', 'sending')"),
            sqlite_where=text("status IN ('queued', 'held', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    #: ``<kind>:<member id>:<event id or period>``: one message per cause.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(40))
    event_type: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(String(500))
    locale: Mapped[str] = mapped_column(String(8))
    #: The rendered text, with diacritics; an SMS may go out without them.
    body: Mapped[str] = mapped_column(Text, default="")
    #: Template values as rendered (for ZNS parameters and the log).
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    channel: Mapped[str | None] = mapped_column(String(16))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL")
    )
    gateway: Mapped[str | None] = mapped_column(String(64))
    #: The phone number (E.164) or the e-mail address it went to.
    recipient: Mapped[str | None] = mapped_column(String(254))
    #: A ZNS template's purpose tag (transaction, customer_care, promotion).
    tag: Mapped[str | None] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None] = mapped_column(Integer)
    gateway_message_id: Mapped[str | None] = mapped_column(String(100))
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: What happened on the way: each attempt, hold, fallback and receipt.
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MessagingSettings(Model):
    """A merchant's messaging settings: kinds, templates, channels, limits (JSON)."""

    __tablename__ = "messaging_settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), unique=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MessageOptOut(Model):
    """An address that asked for no more messages on one channel (STOP, unsubscribe, API,
    a hard bounce or a complaint): a phone number, or an e-mail address for e-mail.

    Keyed by the address, not the member: the number is what opted out, and
    a reply from a number comes without a member attached.
    """

    __tablename__ = "message_opt_outs"
    __table_args__ = (UniqueConstraint("merchant_id", "channel", "address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))  # E.164 phone or e-mail
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
