"""The campaigns' periodic job: start runs whose time has come, restart stalled sends.

A send is stalled when no job has claimed a chunk for ``STALLED_AFTER``:
its workers died (or quiet hours stopped them). The restart queues jobs of
a new generation; they pick up the run's pending recipients and the
messages written but not sent, never a message already claimed.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from hub.campaigns.sending import job_calls
from hub.campaigns.sending import start_run
from hub.db import utcnow
from hub.models import Campaign

if TYPE_CHECKING:
    from hub.core import Hub

STALLED_AFTER = timedelta(minutes=2)


def sweep(hub: Hub, *, now: datetime | None = None) -> dict[str, int]:
    """Start due runs and restart stalled ones; return how many of each.

    ``now`` fixes the clock of the runs and jobs it starts (tests); without it they
    read the time as they go.
    """
    given, now = now, now or utcnow()
    with hub.db.session() as session:
        due = list(
            session.scalars(
                select(Campaign.id).where(Campaign.state == "scheduled", Campaign.send_at <= now)
            )
        )
        stalled = list(
            session.scalars(
                select(Campaign.id).where(
                    Campaign.state == "sending", Campaign.progress_at < now - STALLED_AFTER
                )
            )
        )
    started = sum(start_run(hub, campaign_id, now=given) for campaign_id in due)
    restarted = sum(restart(hub, campaign_id, now=now, clock=given) for campaign_id in stalled)
    return {"started": started, "restarted": restarted}


def restart(hub: Hub, campaign_id: int, *, now: datetime, clock: datetime | None = None) -> bool:
    """Queue new jobs for a stalled run (checked again under the campaign's lock)."""
    with hub.db.transaction() as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or campaign.state != "sending":
            return False
        if campaign.progress_at is not None and campaign.progress_at >= now - STALLED_AFTER:
            return False
        campaign.generation += 1
        campaign.progress_at = now
        calls = job_calls(campaign, clock)
    hub.jobs.enqueue_many(calls)
    return True


def run_sweep(now: str | None = None) -> dict[str, int]:
    """Periodic job: see ``sweep``."""
    from hub.core import current_hub

    return sweep(current_hub(), now=datetime.fromisoformat(now) if now else None)
