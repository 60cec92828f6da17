"""The embedded runner's job table: enqueue, claim, finish, retry, list and replay.

Every function runs inside the caller's transaction (``hub.db.transaction()``),
so a job enqueued beside other writes commits or rolls back with them: nothing
accepted lives only in memory. A claim is a lease: a row whose runner died is
claimed again once ``lease_until`` has passed, so a job in flight when its
process was killed runs again (jobs are idempotent: once in effect).

On PostgreSQL claimers skip rows another claimer holds (``FOR UPDATE SKIP
LOCKED``); on SQLite the write transaction's ``BEGIN IMMEDIATE`` lets one
claimer at a time in.
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from hub.models.jobs import JobRecord

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

#: Claims of a row whose runner stopped mid-job, beyond its retries, before it is failed.
ABANDON_GRACE = 2

#: The table row of the job this thread runs, for ``report_progress``.
current_job_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "hub_current_job_id", default=None
)


@dataclass(frozen=True)
class NewJob:
    """One job to add: what ``Jobs.enqueue`` takes, in the table's terms."""

    func: str
    args: Sequence[Any] = ()
    kwargs: dict[str, Any] | None = None
    key: str | None = None
    queue: str = "default"
    meta: dict[str, Any] | None = None
    retry_intervals: Sequence[int] = ()
    run_at: datetime | None = None


@dataclass(frozen=True)
class Claimed:
    """What a runner needs of a claimed row, readable after its transaction ends."""

    id: int
    func: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempts: int


def add_job(
    session: Session, job: NewJob, *, now: datetime, requeue_done: bool = True
) -> int | None:
    """Add ``job`` to the table; return its row id, or None when its key is taken.

    A keyed job is enqueued once: while a row with its key waits or runs, this
    does nothing. A row of that key that has ended (done or failed) is queued
    again with the new arguments and its retries afresh, unless
    ``requeue_done`` is False (the schedule's one row per period). That is
    what the sweeps do on rq by deleting an ended job before enqueueing its id
    again: on the table they enqueue, and an ended job runs once more.
    """
    values = {
        "key": job.key,
        "func": job.func,
        "args": list(job.args),
        "kwargs": dict(job.kwargs or {}),
        "queue": job.queue,
        "meta": dict(job.meta or {}),
        "merchant_id": (job.meta or {}).get("merchant_id"),
        "status": QUEUED,
        "attempts": 0,
        "retry_intervals": [int(i) for i in job.retry_intervals],
        "run_at": job.run_at or now,
        "created_at": now,
    }
    if job.key is not None and requeue_done:
        again = session.scalar(
            update(JobRecord)
            .where(JobRecord.key == job.key, JobRecord.status.in_((DONE, FAILED)))
            .values(
                {k: v for k, v in values.items() if k not in ("key", "created_at")}
                | {
                    "last_error": None,
                    "progress": None,
                    "claimed_by": None,
                    "started_at": None,
                    "ended_at": None,
                }
            )
            .returning(JobRecord.id)
        )
        if again is not None:
            return again
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(JobRecord).values(values)
    if job.key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    return session.scalar(statement.returning(JobRecord.id))


def _due(now: datetime) -> Any:
    return or_(
        and_(JobRecord.status == QUEUED, JobRecord.run_at <= now),
        and_(JobRecord.status == RUNNING, JobRecord.lease_until < now),
    )


def has_due(session: Session, *, now: datetime) -> bool:
    """Whether any job is due at ``now``: a read, so an idle runner takes no write lock."""
    return session.scalar(select(JobRecord.id).where(_due(now)).limit(1)) is not None


def claim(session: Session, worker: str, *, now: datetime, lease: timedelta) -> Claimed | None:
    """Claim the job due first: a queued row whose time has come, or one whose lease ran out.

    The claim holds until ``now + lease``; the runner renews it while the job runs.
    A row abandoned more often than its retries allow is failed here instead.
    """
    query = select(JobRecord).where(_due(now)).order_by(JobRecord.run_at, JobRecord.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    while (row := session.scalar(query)) is not None:
        if row.status == RUNNING and row.attempts > len(row.retry_intervals) + ABANDON_GRACE:
            row.status, row.ended_at, row.lease_until = FAILED, now, None
            row.last_error = f"its runner stopped during each of {row.attempts} attempts"
            session.flush()
            continue
        row.status = RUNNING
        row.claimed_by = worker
        row.lease_until = now + lease
        row.attempts += 1
        row.started_at = now
        session.flush()
        return Claimed(row.id, row.func, list(row.args), dict(row.kwargs), row.attempts)
    return None


def finish(session: Session, job_id: int, worker: str, *, now: datetime) -> bool:
    """Mark the job done; False when this runner's claim on it was lost meanwhile."""
    result = session.execute(
        update(JobRecord)
        .where(JobRecord.id == job_id, JobRecord.claimed_by == worker, JobRecord.status == RUNNING)
        .values(status=DONE, ended_at=now, lease_until=None)
    )
    return result.rowcount == 1


def record_failure(
    session: Session,
    job_id: int,
    worker: str,
    *,
    error: str,
    transient: bool,
    now: datetime,
) -> str | None:
    """Note a failed attempt: queue the next retry, or fail the job; return the new status.

    A transient failure waits the next of the row's retry intervals; a
    permanent one, or a transient one with no retry left, fails the job at
    once with the reason kept. None when this runner's claim was lost.
    """
    row = session.get(JobRecord, job_id, with_for_update=True)
    if row is None or row.claimed_by != worker or row.status != RUNNING:
        return None
    row.last_error = error
    row.lease_until = None
    retries_done = row.attempts - 1
    if transient and retries_done < len(row.retry_intervals):
        row.status = QUEUED
        row.run_at = now + timedelta(seconds=row.retry_intervals[retries_done])
    else:
        row.status = FAILED
        row.ended_at = now
        row.meta = {**(row.meta or {}), "last_error": error, "permanent": not transient}
    return row.status


def renew(session: Session, worker: str, *, now: datetime, lease: timedelta) -> int:
    """Extend the lease of every row this runner holds; return how many."""
    result = session.execute(
        update(JobRecord)
        .where(JobRecord.claimed_by == worker, JobRecord.status == RUNNING)
        .values(lease_until=now + lease)
    )
    return result.rowcount


def set_progress(session: Session, job_id: int, progress: dict[str, Any]) -> None:
    """Keep what a running job reported of its progress."""
    session.execute(update(JobRecord).where(JobRecord.id == job_id).values(progress=progress))


def failed_jobs(session: Session) -> list[JobRecord]:
    """Every failed job, oldest first."""
    return list(
        session.scalars(select(JobRecord).where(JobRecord.status == FAILED).order_by(JobRecord.id))
    )


def replay(session: Session, job_id: int, *, now: datetime) -> bool:
    """Queue a failed job again, with its retries afresh; False when no such failed job."""
    result = session.execute(
        update(JobRecord)
        .where(JobRecord.id == job_id, JobRecord.status == FAILED)
        .values(status=QUEUED, attempts=0, run_at=now, claimed_by=None, ended_at=None)
    )
    return result.rowcount == 1


def prune(session: Session, *, before: datetime) -> int:
    """Delete done jobs that ended before ``before``; return how many."""
    result = session.execute(
        delete(JobRecord).where(JobRecord.status == DONE, JobRecord.ended_at < before)
    )
    return result.rowcount


def get_job(session: Session, job_id: int, merchant_id: int | None = None) -> JobRecord | None:
    """The job of that id (of that merchant, when given), or None."""
    row = session.get(JobRecord, job_id)
    if row is None or (merchant_id is not None and row.merchant_id != merchant_id):
        return None
    return row
