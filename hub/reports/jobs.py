"""The periodic refresh of the rollups: every merchant's stale days, every five minutes.

Reports refresh their merchant's stale days before they read anyway; this
keeps the work small when they do. A built-in plugin (``trylast``).
"""

from __future__ import annotations

import logging

from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.reports import staleness

log = logging.getLogger(__name__)


def refresh_all() -> int:
    """Job: recompute every merchant's stale days; return how many days were recomputed."""
    from hub.core import current_hub

    hub = current_hub()
    with hub.db.session() as session:
        merchants = staleness.merchants_with_stale_days(session)
    done = 0
    for merchant_id in merchants:
        with hub.db.transaction() as session:
            done += staleness.refresh(session, merchant_id)
    if done:
        log.info("recomputed %d report days of %d merchants", done, len(merchants))
    return done


@hookimpl(trylast=True)
def register_periodic_jobs(hub):
    """Refresh the reports' stale days every five minutes."""
    return [
        PeriodicJob(name="reports.refresh", func="hub.reports.jobs.refresh_all", cron="*/5 * * * *")
    ]
