"""The periodic sweep and hand replays: nothing accepted is left behind.

The database is the truth, rq only the way to a worker. The sweep finds
inbox rows still pending (it queues their connection's drain, or their own
job) and deliveries still due whose job is not queued, scheduled or running
(Redis was down at intake, a job was lost, a worker was killed and rq gave up
on it) and enqueues them again. It first lets rq
requeue abandoned jobs (rq's own started-registry cleanup), more often than
rq's 10-minute maintenance would.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy import update

from hub import Hub
from hub import NotFound
from hub import current_hub
from hub import utcnow
from webhooks.drains import queue_drains
from webhooks.inbox import enqueue_entry
from webhooks.inbox import inbox_job_id
from webhooks.models import InboxEntry
from webhooks.models import WebhookDelivery
from webhooks.outbound import delivery_job_id
from webhooks.outbound import enqueue_delivery

log = logging.getLogger(__name__)

#: A row younger than this may still have its first job on the way.
GRACE_SECONDS = 30
#: A scheduled retry this late means no scheduler is running for the queue.
SCHEDULER_GRACE_SECONDS = 60
#: An inbox row enqueued this many times without finishing is given up on.
MAX_ATTEMPTS = 20
#: A row no drain has finished after this long gets a job of its own.
DRAIN_PATIENCE_SECONDS = 600
_LIVE = ("queued", "started", "scheduled", "deferred")


def run_sweep(older_than_seconds: int = GRACE_SECONDS, limit: int = 500) -> dict[str, int]:
    """Periodic job: enqueue pending inbox rows and due deliveries that have no live job."""
    hub = current_hub()
    recover_abandoned(hub)
    return {
        "inbox": sweep_inbox(hub, older_than_seconds=older_than_seconds, limit=limit),
        "deliveries": sweep_deliveries(hub, older_than_seconds=older_than_seconds, limit=limit),
    }


def recover_abandoned(hub: Hub) -> None:
    """Get stuck rq jobs of the webhook queues moving again.

    Abandoned jobs (their worker died: OOM, ``kill -9``) are retried or failed
    by rq's own started-registry cleanup, run here every sweep rather than at
    rq's 10-minute maintenance. Retries overdue by more than a minute are
    enqueued directly: rq's scheduler may be gone with the worker that held
    its lock, and a surviving worker only takes the lock over at its next
    maintenance. A retry enqueued twice in a race runs twice harmlessly: the
    jobs are idempotent.
    """
    if hub.jobs.is_inline:
        return
    overdue = int(time.time()) - SCHEDULER_GRACE_SECONDS
    for name in ("inbound", "outbound"):
        try:
            queue = hub.jobs.queue(name)
            queue.started_job_registry.cleanup()
            scheduled = queue.scheduled_job_registry
            for job_id in scheduled.get_jobs_to_schedule(overdue):
                # Only the sweep that removed it enqueues it.
                job = queue.fetch_job(job_id) if scheduled.remove(job_id) else None
                if job is not None:
                    queue.enqueue_job(job)
        except Exception:
            log.exception("rq recovery of the %s queue failed", name)


def job_state(hub: Hub, job_id: str) -> str | None:
    """Return the rq status of a job of this hub, or None when there is no such job."""
    if hub.jobs.is_inline:
        return None
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(hub.jobs.job_id(job_id), connection=hub.jobs.redis)
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=False)
    return str(getattr(status, "value", status)) if status else None


def drop_job(hub: Hub, job_id: str) -> None:
    """Delete an ended job so its id can be enqueued again (failed registry included)."""
    if hub.jobs.is_inline:
        return
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    with contextlib.suppress(NoSuchJobError):
        Job.fetch(hub.jobs.job_id(job_id), connection=hub.jobs.redis).delete()


def sweep_inbox(hub: Hub, *, older_than_seconds: int, limit: int) -> int:
    """Put pending rows back on their way; return how many were.

    A row no job has tried yet goes back to a drain of its connection (one
    job for all such rows of a connection, as the intake would have queued).
    A row that has been tried, or that waited past ``DRAIN_PATIENCE_SECONDS``
    untried (something keeps killing the drains that take it), gets its own
    job, counted towards ``MAX_ATTEMPTS``.
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    patience = now - timedelta(seconds=DRAIN_PATIENCE_SECONDS)
    with hub.db.session() as session:
        rows = session.execute(
            select(
                InboxEntry.id,
                InboxEntry.connector,
                InboxEntry.attempts,
                InboxEntry.connection_id,
                InboxEntry.received_at,
            )
            .where(InboxEntry.status == "pending", InboxEntry.received_at < cutoff)
            .order_by(InboxEntry.received_at)
            .limit(limit)
        ).all()
    enqueued = 0
    drains: dict[int, str] = {}
    waiting: dict[int, int] = {}
    for entry_id, connector, attempts, connection_id, received_at in rows:
        if attempts == 0 and received_at >= patience and not hub.jobs.is_inline:
            drains.setdefault(connection_id, connector)
            waiting[connection_id] = waiting.get(connection_id, 0) + 1
            continue
        state = job_state(hub, inbox_job_id(entry_id))
        if state in _LIVE:
            continue
        if attempts >= MAX_ATTEMPTS:
            _give_up(hub, entry_id, attempts)
            continue
        drop_job(hub, inbox_job_id(entry_id))
        _count_sweep(hub, entry_id)
        if enqueue_entry(hub, entry_id, connector=connector):
            enqueued += 1
    enqueued += _queue_drains(hub, drains, waiting)
    if enqueued:
        log.info("sweep put %s inbox rows back on their way", enqueued)
    return enqueued


def _queue_drains(hub: Hub, drains: dict[int, str], waiting: dict[int, int]) -> int:
    """Queue the drains of ``drains`` that have none queued; return how many rows they take."""
    if not drains:
        return 0
    try:
        queued = queue_drains(hub, drains)
    except Exception as exc:
        log.warning("no drain of %s connection(s) queued (%s); next sweep", len(drains), exc)
        return 0
    return sum(waiting[connection_id] for connection_id in queued)


def sweep_deliveries(hub: Hub, *, older_than_seconds: int, limit: int) -> int:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with hub.db.session() as session:
        rows = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.attempts)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at < cutoff)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        ).all()
    enqueued = 0
    for delivery_id, attempts in rows:
        if job_state(hub, delivery_job_id(delivery_id)) in _LIVE:
            continue
        drop_job(hub, delivery_job_id(delivery_id))
        try:
            enqueue_delivery(hub, delivery_id, attempts_done=attempts)
        except Exception as exc:
            log.warning("delivery %s not enqueued (%s); next sweep", delivery_id, exc)
            continue
        enqueued += 1
    return enqueued


def _count_sweep(hub: Hub, entry_id: int) -> None:
    with hub.db.transaction() as session:
        session.execute(
            update(InboxEntry)
            .where(InboxEntry.id == entry_id)
            .values(attempts=InboxEntry.attempts + 1)
        )


def _give_up(hub: Hub, entry_id: int, attempts: int) -> None:
    with hub.db.transaction() as session:
        session.execute(
            update(InboxEntry)
            .where(InboxEntry.id == entry_id, InboxEntry.status == "pending")
            .values(status="failed", error=f"gave up after {attempts} attempts")
        )


def failed_entries(hub: Hub, limit: int = 100) -> list[InboxEntry]:
    """Return inbox rows that failed for good, newest first."""
    with hub.db.session() as session:
        return list(
            session.scalars(
                select(InboxEntry)
                .where(InboxEntry.status == "failed")
                .order_by(InboxEntry.id.desc())
                .limit(limit)
            )
        )


def replay_entry(hub: Hub, entry_id: int) -> dict[str, Any]:
    """Process an inbox row again, whatever its status; a processed row changes nothing."""
    with hub.db.transaction() as session:
        entry = session.get(InboxEntry, entry_id)
        if entry is None:
            raise NotFound(f"no inbox row {entry_id}", code="inbox_row_not_found")
        entry.status = "pending"
        entry.error = None
        connector = entry.connector
    drop_job(hub, inbox_job_id(entry_id))
    queued = enqueue_entry(hub, entry_id, connector=connector)
    return {"id": entry_id, "connector": connector, "queued": queued}
