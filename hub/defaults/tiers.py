"""Built-in tier policy: the highest tier whose threshold the member's progress reaches.

An ordinary plugin with ``trylast`` hooks: a plugin that answers
``tier_for_member`` first decides instead. Also keeps tiers right after a
merge and schedules the daily tier review.
"""

from __future__ import annotations

from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.tiers import settle_after_merge


@hookimpl(trylast=True)
def tier_for_member(stats):
    """The highest tier (by position) whose threshold the member's progress reaches."""
    earned = None
    for tier in stats.tiers:
        if stats.progress(tier) >= tier.threshold:
            earned = tier
    return earned


@hookimpl(trylast=True)
def member_merged(hub, session, survivor):
    """Keep the better of the two members' tiers, then re-evaluate on the combined numbers."""
    settle_after_merge(hub, session, survivor)


@hookimpl(trylast=True)
def register_periodic_jobs():
    """Review tiers once a day (moves down per policy, ends overrides)."""
    return [
        PeriodicJob(name="tiers.review", func="hub.tiers.review_due", cron="20 0 * * *"),
    ]
