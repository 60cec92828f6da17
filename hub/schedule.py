"""The periodic schedule on the job table: what ``hub cron`` does with rq, without Redis.

Each periodic job is due at the start of its periods: every ``interval``
seconds counted from the epoch, or at each time its ``cron`` line names (in
UTC). ``schedule_due`` adds one row per (job, latest period begun), keyed by
both, so however many processes run the schedule, and however often, a period
is enqueued once. A period missed while no process ran is enqueued once when
one starts again (the jobs look at the time they run, so one late run catches
up); older missed periods are not.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from croniter import croniter

from hub import job_table
from hub.jobs import PeriodicJob

if TYPE_CHECKING:
    from hub.core import Hub


def period_start(job: PeriodicJob, now: datetime) -> datetime:
    """The start of the job's latest period begun at or before ``now``."""
    if job.cron:
        # A cron line names minutes: a time it names is due for that whole minute.
        base = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return croniter(job.cron, base).get_prev(datetime).astimezone(UTC)
    if not job.interval or job.interval <= 0:
        raise ValueError(f"periodic job {job.name} has neither a cron line nor an interval")
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % job.interval, UTC)


def next_start(job: PeriodicJob, now: datetime) -> datetime:
    """When the job's next period begins, after ``now``."""
    if job.cron:
        return croniter(job.cron, now.astimezone(UTC)).get_next(datetime).astimezone(UTC)
    return period_start(job, now) + timedelta(seconds=job.interval or 0)


def period_key(job: PeriodicJob, start: datetime) -> str:
    """The job table key of one period of a periodic job."""
    return f"periodic:{job.name}:{start.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def schedule_due(hub: Hub, jobs: list[PeriodicJob], now: datetime) -> list[str]:
    """Enqueue each job's latest period begun by ``now``, unless already there; return new keys.

    One transaction: the rows of one pass commit together.
    """
    added = []
    with hub.db.transaction() as session:
        for job in jobs:
            key = period_key(job, period_start(job, now))
            row = job_table.add_job(
                session,
                job_table.NewJob(
                    func=job.func,
                    kwargs=job.kwargs,
                    key=key,
                    queue=job.queue,
                    meta={"periodic": job.name},
                ),
                now=now,
                requeue_done=False,
            )
            if row is not None:
                added.append(key)
    return added


def seconds_until_next(jobs: list[PeriodicJob], now: datetime) -> float:
    """How long until the first of the jobs' next periods begins."""
    if not jobs:
        return 60.0
    soonest = min(next_start(job, now) for job in jobs)
    return max((soonest - now).total_seconds(), 0.0)
