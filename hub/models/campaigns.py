"""Campaigns: a message (and maybe a voucher) for a chosen set of members, and who got it.

A campaign's audience is fixed when a run starts: one recipient row per
(campaign, run, member), in the target group or held out as the control
group. The rows are the send's progress: a worker claims pending rows in
chunks, so a worker that dies leaves the rest pending for the next, and the
message each row points to is written once per (campaign, run, member).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import utcnow


class Campaign(Model):
    """One campaign of a merchant, from draft to done.

    ``state``: draft (being written), scheduled (waiting for ``send_at``),
    sending (workers are at it), paused (kept where it stopped), done (every
    recipient handled, or the budget spent: ``stop_reason``) or cancelled.
    A recurring campaign (``repeat_days``) goes back to scheduled after each
    run, with the next ``send_at``.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("merchant_id", "name"),
        # The sweep looks for campaigns whose time has come and sends that stalled.
        Index("ix_campaigns_state_send_at", "state", "send_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: ``segment`` (``segment_id``) or ``list`` (``member_ids``, from an uploaded list).
    audience: Mapped[str] = mapped_column(String(16))
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("segments.id", ondelete="SET NULL"), index=True
    )
    member_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    #: What the uploaded list held that matched no member (for the merchant to see).
    unmatched: Mapped[list[str]] = mapped_column(JSONType, default=list)
    channel: Mapped[str] = mapped_column(String(16))
    #: The message per locale (``vi``, ``en``), placeholders as in automatic messages.
    templates: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    #: For Zalo: ``{"template_id": ..., "params": {name: template}}``.
    zalo_template: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id", ondelete="SET NULL"))
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repeat_days: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0)
    attribution_days: Mapped[int] = mapped_column(Integer, default=7)
    #: The run being sent or last sent (a recurring campaign counts up).
    run: Mapped[int] = mapped_column(Integer, default=0)
    #: Counts the starts of the send's jobs, so a restart gets job ids of its own.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    stop_reason: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a worker last finished a chunk; a sending campaign quiet for long is restarted.
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CampaignRecipient(Model):
    """One member of one run of a campaign: in the target group or held out.

    ``status``: pending (not yet handled), queued (its message is written:
    the message says what became of it), held_out (control group: gets
    nothing), cancelled (the campaign was cancelled first) or over_budget.
    """

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "run", "member_id"),
        Index("ix_campaign_recipients_todo", "campaign_id", "run", "status", "id"),
        Index("ix_campaign_recipients_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    run: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    #: ``target`` or ``control``.
    group: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
