"""Send a campaign's run: batch jobs that write its messages a chunk at a time and send them.

A run starts by fixing its audience (``audience.assign_run``); then a few
``send_batch`` jobs work side by side. Each claims a chunk of pending
recipients under the campaign's row lock (so two jobs never take the same
member, and the budget is checked against everything already committed),
writes one message per recipient (once per campaign, run and member: the
message's dedupe key), and sends them through ``hub.messaging.delivery``,
which claims each message before calling the gateway, so a message goes out
at most once whatever happens to the worker.

Before each message the job reads the campaign's state: a pause or a cancel
stops it at the next message. Messages a stopped job wrote but did not send
stay queued; the messaging policy holds them while the campaign is paused
and skips them once it is cancelled, and a resumed run sends them first.
A job that dies leaves pending recipients behind; the sweep (``sweep``)
starts new jobs for a run whose progress has stalled.

No job outlives its time: after half of ``HUB_JOB_TIMEOUT`` a job finishes
its chunk and hands the rest of its share to a fresh job, so a large run is
never killed by the queue's timeout in the middle of a send (which would
leave a message neither sent nor known unsent).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.campaigns.audience import assign_run
from hub.campaigns.estimate import unit_cost
from hub.campaigns.kind import CAMPAIGN
from hub.campaigns.kind import KIND
from hub.campaigns.kind import resolve
from hub.campaigns.wording import template_for
from hub.db import utcnow
from hub.jobs import JobCall
from hub.messaging.delivery import deliver_message
from hub.messaging.models import Message
from hub.messaging.outbox import gift_voucher
from hub.messaging.policy import choose_route
from hub.messaging.policy import quiet_hours_end
from hub.messaging.settings import Settings
from hub.messaging.settings import get_settings
from hub.messaging.templates import render
from hub.messaging.variables import format_values
from hub.messaging.variables import member_locale
from hub.messaging.variables import member_values
from hub.models import Campaign
from hub.models import CampaignRecipient
from hub.models import Member

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

JOB = "hub.campaigns.sending.send_batch"
#: Recipients one job claims and writes in one transaction.
CHUNK = 50
#: Jobs that send one run side by side (each on the ``messages`` queue).
PARALLEL_JOBS = 2
#: The share of ``HUB_JOB_TIMEOUT`` a job sends for before handing the rest to a fresh job.
HAND_OFF_SHARE = 0.5
#: Messages of a run that count against its budget: written, and not refused or failed.
COMMITTED = ("queued", "held", "sending", "sent", "delivered")


@dataclass(frozen=True)
class Chunk:
    """What one claim gave a job: the messages to send now, or why to stop."""

    message_ids: list[int]
    stop: str | None = None


def _parse(now: str | datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now if isinstance(now, datetime) else datetime.fromisoformat(now)


def start_run(hub: Hub, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Start the next run of a scheduled campaign whose time has come; False if it is not.

    Writes the run's recipients and moves the campaign to ``sending`` in one
    transaction, then queues its jobs (inline without Redis: they run now).
    ``now`` fixes the clock of the run and its jobs (tests).
    """
    moment = now or utcnow()
    with hub.db.transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or campaign.state != "scheduled":
            return False
        if campaign.send_at is not None and campaign.send_at > moment:
            return False
        campaign.run += 1
        campaign.generation += 1
        campaign.state = "sending"
        campaign.started_at = campaign.progress_at = moment
        campaign.finished_at = None
        campaign.stop_reason = None
        session.flush()
        assign_run(session, campaign, moment)
        calls = job_calls(campaign, now)
    hub.jobs.enqueue_many(calls)
    return True


def job_calls(campaign: Campaign, now: datetime | None = None) -> list[JobCall]:
    """The jobs of the campaign's run, with ids of this generation (a restart gets new ones).

    With ``now`` the jobs keep that clock (tests); without, they read the time as they go.
    """
    clock = now.isoformat() if now is not None else None
    return [_call(campaign, clock, slot, 0) for slot in range(PARALLEL_JOBS)]


def _call(campaign: Campaign, clock: str | None, slot: int, part: int) -> JobCall:
    """The job for one slot of the run; ``part`` counts the hand-offs before it."""
    job_id = f"campaign-{campaign.id}-{campaign.run}-{campaign.generation}-{slot}"
    return JobCall(
        JOB,
        (campaign.id, campaign.run, clock, slot, part),
        job_id=job_id if part == 0 else f"{job_id}-{part}",
        queue="messages",
    )


def send_batch(
    campaign_id: int, run: int, now: str | None = None, slot: int = 0, part: int = 0
) -> int:
    """Job: send the run's messages, a chunk at a time, until none are left; return how many.

    ``now`` fixes the clock (tests); otherwise each step reads the time.
    Past its time (``HAND_OFF_SHARE`` of the job timeout) the job queues the
    next ``part`` of its ``slot`` and returns, after at least one chunk.
    """
    from hub.core import current_hub

    hub = current_hub()
    deadline = time.monotonic() + hub.config["HUB_JOB_TIMEOUT"] * HAND_OFF_SHARE
    sent = 0
    while True:
        moment = _parse(now)
        chunk = claim_chunk(hub, campaign_id, run, moment)
        if chunk.stop is not None:
            log.info("campaign %s run %s: %s", campaign_id, run, chunk.stop)
            return sent
        for message_id in chunk.message_ids:
            if not still_sending(hub, campaign_id, run):
                return sent
            deliver_message(message_id, now)
            sent += 1
        if time.monotonic() >= deadline:
            hand_off(hub, campaign_id, run, now, slot, part + 1)
            return sent


def hand_off(hub: Hub, campaign_id: int, run: int, now: str | None, slot: int, part: int) -> None:
    """Queue the next part of a slot's sending, unless the run has stopped meanwhile."""
    with hub.db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.state != "sending" or campaign.run != run:
            return
        call = _call(campaign, now, slot, part)
    log.info("campaign %s run %s: slot %s hands over to part %s", campaign_id, run, slot, part)
    hub.jobs.enqueue_many([call])


def still_sending(hub: Hub, campaign_id: int, run: int) -> bool:
    with hub.db.session() as session:
        row = session.execute(
            select(Campaign.state, Campaign.run).where(Campaign.id == campaign_id)
        ).first()
    return row is not None and row.state == "sending" and row.run == run


def claim_chunk(hub: Hub, campaign_id: int, run: int, now: datetime) -> Chunk:
    """Under the campaign's lock: the messages to send next, written if need be, or a stop."""
    with hub.db.transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or campaign.state != "sending" or campaign.run != run:
            return Chunk([], stop="the campaign is not sending this run")
        settings = get_settings(session, campaign.merchant_id)
        if quiet_hours_end(settings, now) is not None:
            return Chunk([], stop="quiet hours: the sweep starts the run again after them")
        leftover = _leftover(session, campaign, now)
        if leftover:
            return Chunk(leftover)
        room = _budget_room(hub, session, campaign, settings)
        pending = list(
            session.scalars(
                select(CampaignRecipient)
                .where(
                    CampaignRecipient.campaign_id == campaign.id,
                    CampaignRecipient.run == run,
                    CampaignRecipient.status == "pending",
                )
                .order_by(CampaignRecipient.id)
                .limit(CHUNK)
            )
        )
        if not pending:
            _finish(session, campaign, now, None)
            return Chunk([], stop="done")
        if room is not None and room < 1:
            _over_budget(session, campaign, now)
            return Chunk([], stop="budget spent")
        if room is not None:
            pending = pending[:room]
        campaign.progress_at = now
        return Chunk(write_messages(hub, session, campaign, settings, pending, now))


def _leftover(session: Session, campaign: Campaign, now: datetime) -> list[int]:
    """Messages of the run written but not sent yet (a stopped job's, a paused run's).

    A message held until later (an advertising SMS after 22:00) is not due: the
    delivery's own schedule sends it then, and picking it again now would spin.
    """
    return list(
        session.scalars(
            select(Message.id)
            .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.run == campaign.run,
                CampaignRecipient.status == "queued",
                Message.status.in_(("queued", "held")),
                or_(Message.due_at.is_(None), Message.due_at <= now),
            )
            .order_by(Message.id)
            .limit(CHUNK)
        )
    )


def _budget_room(hub: Hub, session: Session, campaign: Campaign, settings: Settings) -> int | None:
    """How many more messages the budget allows at the estimated price; None: no budget."""
    if campaign.budget is None:
        return None
    unit = unit_cost(hub, session, campaign, settings)
    committed = session.scalar(
        select(func.coalesce(func.sum(func.coalesce(Message.cost, Message.estimated_cost)), 0))
        .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
        .where(CampaignRecipient.campaign_id == campaign.id, Message.status.in_(COMMITTED))
    )
    unpriced = session.scalar(
        select(func.count())
        .select_from(Message)
        .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            Message.status.in_(COMMITTED),
            Message.cost.is_(None),
            Message.estimated_cost.is_(None),
        )
    )
    spent = Decimal(committed or 0) + unit * (unpriced or 0)
    if unit <= 0:
        return None if spent <= campaign.budget else 0
    return int((campaign.budget - spent) // unit)


def _finish(session: Session, campaign: Campaign, now: datetime, reason: str | None) -> None:
    """End the run: done, or scheduled again for a recurring campaign's next run."""
    campaign.finished_at = now
    campaign.stop_reason = reason
    if campaign.repeat_days and campaign.send_at is not None:
        step = timedelta(days=campaign.repeat_days)
        next_at = campaign.send_at + step
        while next_at <= now:
            next_at += step
        campaign.send_at = next_at
        campaign.state = "scheduled"
    else:
        campaign.state = "done"


def _over_budget(session: Session, campaign: Campaign, now: datetime) -> None:
    session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.run == campaign.run,
            CampaignRecipient.status == "pending",
        )
        .values(status="over_budget")
        .execution_options(synchronize_session=False)
    )
    _finish(session, campaign, now, f"the budget of {campaign.budget.normalize():f} is spent")


def write_messages(
    hub: Hub,
    session: Session,
    campaign: Campaign,
    settings: Settings,
    recipients: list[CampaignRecipient],
    now: datetime,
) -> list[int]:
    """Write one message per recipient (a voucher with those a channel can reach)."""
    members = {
        member.id: member
        for member in session.scalars(
            select(Member).where(Member.id.in_([r.member_id for r in recipients]))
        )
    }
    base = settings.kind(CAMPAIGN)
    queued = []
    for recipient in recipients:
        member = members.get(recipient.member_id)
        message = _message(campaign, recipient, member, settings, now)
        session.add(message)
        session.flush()
        kind_settings = resolve(session, message, base)
        route = None
        if member is not None and member.status == "active":
            route, refusals = choose_route(hub, session, settings, kind_settings, member)
        else:
            refusals = ["the member was erased or merged away"]
        _fill(session, campaign, settings, member, message, route is not None)
        if route is None:
            message.status = "skipped"
            message.reason = "no channel can reach this member: " + "; ".join(refusals)
        else:
            queued.append(message.id)
        recipient.status, recipient.message_id = "queued", message.id
    return queued


def _message(
    campaign: Campaign,
    recipient: CampaignRecipient,
    member: Member | None,
    settings: Settings,
    now: datetime,
) -> Message:
    return Message(
        merchant_id=campaign.merchant_id,
        member_id=recipient.member_id,
        kind=KIND,
        dedupe_key=f"{KIND}:{recipient.member_id}:{campaign.id}-{campaign.run}",
        event_id=str(campaign.id),
        event_type=KIND,
        status="queued",
        locale=member_locale(member, settings) if member is not None else settings.locale,
        body="",
        variables={},
        history=[],
        attempts=0,
        due_at=now,
        created_at=now,
        updated_at=now,
    )


def _fill(
    session: Session,
    campaign: Campaign,
    settings: Settings,
    member: Member | None,
    message: Message,
    with_voucher: bool,
) -> None:
    if member is None:
        return
    values = member_values(session, member, settings)
    if with_voucher and campaign.reward_id:
        voucher = gift_voucher(session, member, campaign.reward_id, kind=KIND)
        if voucher is not None:
            message.voucher_id = voucher.id
            values["voucher_code"] = voucher.code
            values["voucher_expiry_date"] = voucher.expires_at
    formatted = format_values(values, message.locale, settings.timezone)
    message.variables = formatted
    message.body = render(template_for(campaign, message.locale, settings.locale), formatted)
