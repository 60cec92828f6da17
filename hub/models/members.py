"""Members, their identities at outside systems, consents and merges."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow
from hub.folding import fold


def _folded_name(context) -> str:
    """The insert's ``search_name``: its ``name`` folded (ORM and Core inserts alike)."""
    return fold(context.get_current_parameters().get("name"))


class Member(Model):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("merchant_id", "phone"),
        UniqueConstraint("merchant_id", "email"),
        UniqueConstraint("merchant_id", "code"),
        Index("ix_members_merchant_name", "merchant_id", "name"),
        # Reports count a merchant's members by the day they joined.
        Index("ix_members_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    #: Short printable code for the counter and the QR.
    code: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))  # normalised
    name: Mapped[str] = mapped_column(String(200), default="")
    #: ``name`` folded for accent-insensitive search; kept by the default and the event below.
    search_name: Mapped[str] = mapped_column(String(200), default=_folded_name)
    birthday: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    province: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    ward: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: Sum of the member's ledger entries, kept in the same transaction as each entry.
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Lifetime money spent on paid orders (imported totals included).
    total_spent: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    #: active, merged (into ``merged_into_id``) or erased (personal data removed).
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: How the member joined: ``store`` (an online store's customer), ``pos`` (enrolled at a
    #: counter), ``import``, ``widget`` or ``api`` (by hand in the console or the API).
    #: Set once, when the member is created; reports count new members by it.
    joined_via: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    #: Indexed: a merge moves the members merged into the one it retires, and deleting a
    #: member clears the references to it; without the index each scans every member.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@event.listens_for(Member.name, "set")
def _keep_search_name(member: Member, value: str | None, _old, _initiator) -> None:
    member.search_name = fold(value)


class MemberIdentity(Model):
    """The id a connection's platform knows this member by."""

    __tablename__ = "member_identities"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberConsent(Model):
    """Current marketing consent of one member on one channel, as it can be shown.

    When (``changed_at``), how (``source``: the API, the console, a STOP
    reply, an unsubscribe link, a bounce), who recorded it (``actor``: the
    API key, the staff user, the gateway) and what the member agreed to
    (``evidence``: the form's wording, a receipt number). Every change is
    also in the audit log.
    """

    __tablename__ = "member_consents"
    __table_args__ = (UniqueConstraint("member_id", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # sms, zalo, email
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64), default="api")
    actor: Mapped[str | None] = mapped_column(String(100))
    evidence: Mapped[str | None] = mapped_column(String(500))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberMerge(Model):
    """Audit record of one merge: who was folded into whom, and what moved."""

    __tablename__ = "member_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    survivor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    actor: Mapped[str] = mapped_column(String(100))
    moved: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
