"""Move a campaign along: schedule, pause, resume, cancel.

Each change takes the campaign's row lock, so it orders with the send's
jobs, which claim their chunks under the same lock: after ``pause`` or
``cancel`` returns, no job claims another chunk, and each running job stops
before its next message. What was sent stays sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.campaigns.audience import audience_count
from hub.campaigns.drafts import audit_campaign
from hub.campaigns.drafts import check_channel
from hub.campaigns.drafts import get_campaign
from hub.campaigns.sending import job_calls
from hub.campaigns.sending import start_run
from hub.db import utcnow
from hub.errors import Conflict
from hub.messaging.delivery import note
from hub.messaging.models import Message
from hub.models import Campaign
from hub.models import CampaignRecipient
from hub.models import Voucher

if TYPE_CHECKING:
    from hub.core import Hub

#: From which states each change may be made.
ALLOWED = {
    "schedule": ("draft",),
    "pause": ("scheduled", "sending"),
    "resume": ("paused",),
    "cancel": ("draft", "scheduled", "sending", "paused"),
}


def _locked(session: Session, merchant_id: int, campaign_id: int, action: str) -> Campaign:
    campaign = get_campaign(session, merchant_id, campaign_id, lock=True)
    if campaign.state not in ALLOWED[action]:
        allowed = " or ".join(ALLOWED[action])
        raise Conflict(
            f"campaign {campaign.id} is {campaign.state}; only a campaign that is {allowed} "
            f"can be {'cancelled' if action == 'cancel' else action + 'd'}",
            code="campaign_state",
            details={"state": campaign.state},
        )
    return campaign


def schedule_campaign(
    hub: Hub, merchant_id: int, campaign_id: int, *, actor: str, now: datetime | None = None
) -> None:
    """Schedule a draft: at its ``send_at``, or now (its run then starts at once)."""
    given, now = now, now or utcnow()
    with hub.db.transaction() as session:
        campaign = _locked(session, merchant_id, campaign_id, "schedule")
        check_channel(hub, session, campaign)
        if audience_count(session, campaign, now) == 0:
            raise Conflict(
                f"campaign {campaign.id} has no one to write to: its audience is empty",
                code="campaign_audience_empty",
            )
        if campaign.send_at is None or (campaign.send_at <= now and not campaign.repeat_days):
            campaign.send_at = now
        campaign.state = "scheduled"
        audit_campaign(session, campaign, "campaign.scheduled", actor)
        due = campaign.send_at <= now
    if due:
        start_run(hub, campaign_id, now=given)


def pause_campaign(
    hub: Hub, merchant_id: int, campaign_id: int, *, actor: str, now: datetime | None = None
) -> None:
    """Stop sending; what was sent stays sent, the rest waits for ``resume``."""
    with hub.db.transaction() as session:
        campaign = _locked(session, merchant_id, campaign_id, "pause")
        campaign.state = "paused"
        campaign.progress_at = now or utcnow()
        audit_campaign(session, campaign, "campaign.paused", actor)


def resume_campaign(
    hub: Hub, merchant_id: int, campaign_id: int, *, actor: str, now: datetime | None = None
) -> None:
    """Go on where the campaign paused: its run's jobs start again, or it waits its time."""
    given, now = now, now or utcnow()
    with hub.db.transaction() as session:
        campaign = _locked(session, merchant_id, campaign_id, "resume")
        in_run = campaign.run > 0 and campaign.finished_at is None
        campaign.state = "sending" if in_run else "scheduled"
        campaign.progress_at = now
        calls = []
        if in_run:
            campaign.generation += 1
            calls = job_calls(campaign, given)
        audit_campaign(session, campaign, "campaign.resumed", actor)
        due = not in_run and campaign.send_at is not None and campaign.send_at <= now
    if calls:
        hub.jobs.enqueue_many(calls)
    if due:
        start_run(hub, campaign_id, now=given)


def cancel_campaign(
    hub: Hub, merchant_id: int, campaign_id: int, *, actor: str, now: datetime | None = None
) -> None:
    """Stop for good: unsent recipients are cancelled, their written vouchers withdrawn."""
    now = now or utcnow()
    with hub.db.transaction() as session:
        campaign = _locked(session, merchant_id, campaign_id, "cancel")
        campaign.state = "cancelled"
        campaign.finished_at = now
        campaign.stop_reason = f"cancelled by {actor}"
        session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.run == campaign.run,
                CampaignRecipient.status == "pending",
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        _skip_unsent(session, campaign, now, actor)
        audit_campaign(session, campaign, "campaign.cancelled", actor)


def _skip_unsent(session: Session, campaign: Campaign, now: datetime, actor: str) -> None:
    """Messages written but not sent are skipped, and their unused vouchers cancelled."""
    from hub.rewards.vouchers import cancel_voucher

    unsent = session.scalars(
        select(Message)
        .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.run == campaign.run,
            Message.status.in_(("queued", "held")),
        )
        .with_for_update()
    ).all()
    for message in unsent:
        note(message, now, "skipped", reason="the campaign was cancelled")
        message.status, message.reason = "skipped", "the campaign was cancelled"
        voucher = session.get(Voucher, message.voucher_id) if message.voucher_id else None
        if voucher is not None and voucher.status == "issued":
            cancel_voucher(session, voucher, actor=actor, note="campaign cancelled")
