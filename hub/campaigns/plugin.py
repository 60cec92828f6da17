"""Campaigns as a built-in plugin: the ``campaign`` message kind and the sweep."""

from __future__ import annotations

from hub.campaigns.kind import CAMPAIGN
from hub.jobs import PeriodicJob
from hub.markers import hookimpl


@hookimpl(trylast=True)
def register_message_kinds(hub):
    return [CAMPAIGN]


@hookimpl(trylast=True)
def register_periodic_jobs(hub):
    """Start campaign runs whose time has come and restart stalled sends, every minute."""
    return [
        PeriodicJob(
            name="campaigns.sweep",
            func="hub.campaigns.sweep.run_sweep",
            interval=60,
            queue="messages",
        )
    ]
