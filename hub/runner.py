"""The embedded runner: background jobs and the periodic schedule in the web process.

Without Redis, ``hub serve`` and ``hub demo`` start it: job threads claim rows
of the job table (``hub.job_table``) and run them in the app's context, with
rq's classification of failures (``hub.jobs.is_transient``) and backoff; a
clock thread enqueues the periodic schedule (``hub.schedule``), renews the
leases of running jobs and prunes old finished ones. Everything it works from
is in the database, so a restart resumes where the last process stopped.

Tests drive it without threads: ``run_due(now=...)`` and ``tick(now=...)``
take the time as an argument.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from hub import job_table
from hub import schedule
from hub.jobs import is_transient
from hub.jobs import resolve

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.jobs import PeriodicJob

log = logging.getLogger(__name__)

#: How long finished jobs stay in the table, for their status and progress.
KEEP_DONE = timedelta(days=7)


def _utcnow() -> datetime:
    from hub import db

    return db.utcnow()


class EmbeddedRunner:
    """Claim and run the job table's due jobs; enqueue the periodic schedule.

    ``clock`` gives the time every decision is taken at (the hub's ``utcnow``
    by default). A claim lasts ``lease`` and is renewed every third of it
    while the job runs; a process killed mid-job leaves a claim that expires,
    and the job runs again in whichever runner comes next.
    """

    def __init__(
        self,
        hub: Hub,
        *,
        clock: Callable[[], datetime] = _utcnow,
        lease: timedelta | None = None,
        threads: int | None = None,
    ) -> None:
        self.hub = hub
        self.clock = clock
        self.lease = lease or timedelta(seconds=max(int(hub.config["HUB_JOB_TIMEOUT"]), 60))
        # More than one, so a long job (a tier review of every member) holds up no other.
        # On SQLite the threads still claim one at a time: a claim takes the write lock.
        self.threads = max(threads or int(hub.config.get("HUB_RUNNER_THREADS") or 2), 1)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._work = threading.Condition()
        self._pending = False
        self._started: list[threading.Thread] = []
        self._periodic: list[PeriodicJob] | None = None

    # --- one step at a time (tests, and the threads below) ---------------------------

    def run_one(self, now: datetime | None = None) -> bool:
        """Claim and run the job due first; False when none is due.

        With ``now`` given, the claim and the outcome are both dated then (a
        retry's wait counts from it); otherwise each reads the clock.
        """
        with self.hub.db.session() as session:
            if not job_table.has_due(session, now=now or self.clock()):
                return False
        with self.hub.db.transaction() as session:
            job = job_table.claim(session, self.name, now=now or self.clock(), lease=self.lease)
        if job is None:
            return False
        token = job_table.current_job_id.set(job.id)
        try:
            with self.hub.app.app_context():
                resolve(job.func)(*job.args, **job.kwargs)
        except Exception as exc:
            transient = is_transient(exc)
            if transient:
                log.warning("job %s (%s) failed, may retry: %r", job.id, job.func, exc)
            else:
                log.exception("job %s (%s) failed", job.id, job.func)
            with self.hub.db.transaction() as session:
                job_table.record_failure(
                    session,
                    job.id,
                    self.name,
                    error=repr(exc),
                    transient=transient,
                    now=now or self.clock(),
                )
        else:
            with self.hub.db.transaction() as session:
                job_table.finish(session, job.id, self.name, now=now or self.clock())
        finally:
            job_table.current_job_id.reset(token)
        return True

    def run_due(self, now: datetime | None = None, *, limit: int | None = None) -> int:
        """Run due jobs until none is left (or ``limit`` ran); return how many ran."""
        ran = 0
        while (limit is None or ran < limit) and not self._stop.is_set() and self.run_one(now):
            ran += 1
        return ran

    def periodic_jobs(self) -> list[PeriodicJob]:
        """The schedule: the core's and every plugin's periodic jobs (read once)."""
        if self._periodic is None:
            from hub.worker import periodic_jobs

            self._periodic = periodic_jobs(self.hub)
        return self._periodic

    def tick(self, now: datetime | None = None) -> list[str]:
        """Enqueue the periods begun by now, renew this runner's leases, prune; return new keys."""
        now = now or self.clock()
        added = schedule.schedule_due(self.hub, self.periodic_jobs(), now)
        with self.hub.db.transaction() as session:
            job_table.renew(session, self.name, now=now, lease=self.lease)
            job_table.prune(session, before=now - KEEP_DONE)
        if added:
            self.wake()
        return added

    # --- threads (hub serve, hub demo) ------------------------------------------------

    def start(self) -> None:
        """Keep jobs in the table from now on, and run them and the schedule in threads."""
        self.hub.jobs.use_job_table(wake=self.wake, clock=self.clock)
        self._pending = True
        for number in range(self.threads):
            self._spawn(self._work_loop, f"hub-jobs-{number + 1}")
        self._spawn(self._clock_loop, "hub-schedule")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads; a job in progress finishes first (up to ``timeout`` in all)."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._started:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wake(self) -> None:
        """Tell idle job threads that there is work."""
        with self._work:
            self._pending = True
            self._work.notify_all()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._started.append(thread)

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            with self._work:
                self._pending = False
            try:
                self.run_due()
            except Exception:
                log.exception("the job runner failed to claim; trying again shortly")
                self._stop.wait(5)
            with self._work:
                # A retry or a job enqueued for later becomes due without a wake: look again soon.
                if not self._pending and not self._stop.is_set():
                    self._work.wait(1.0)

    def _clock_loop(self) -> None:
        renew_every = self.lease.total_seconds() / 3
        while not self._stop.is_set():
            try:
                self.tick()
                wait = schedule.seconds_until_next(self.periodic_jobs(), self.clock())
            except Exception:
                log.exception("the periodic schedule failed; trying again shortly")
                wait = 5.0
            self._stop.wait(min(wait + 0.01, renew_every))


def start_embedded(hub: Hub) -> EmbeddedRunner | None:
    """Without Redis, start a runner for this process's jobs and schedule; None with Redis.

    ``hub serve`` starts one, and so does each gunicorn worker (``gunicorn.conf.py``):
    the claim rule lets any number of runners share the job table, and a
    period of the schedule is enqueued once, whichever runner sees it first.
    """
    if not hub.jobs.is_inline:
        return None
    runner = EmbeddedRunner(hub)
    runner.start()
    return runner
