"""One way to run background work: rq on Redis, the job table, or inline.

With ``HUB_REDIS_URL`` jobs go to rq queues. Without it, a process that runs
the embedded runner (``hub serve``, ``hub demo``; see ``hub.runner``) keeps
them in the database's job table; any other process (tests, one-off CLI
commands) runs them inline, at once. Job functions are named by dotted path and
take plain JSON-able arguments, so they round-trip through Redis or the table
and can be replayed from the failed registry.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import event

from hub import job_table
from hub.errors import PermanentError
from hub.errors import RetryLater
from hub.rq_queues import RqQueues

if TYPE_CHECKING:
    from datetime import datetime

    import redis
    from rq import Queue
    from rq import Retry
    from sqlalchemy.orm import Session

    from hub.core import Hub

log = logging.getLogger(__name__)

QUEUES = ("default", "inbound", "events", "outbound", "messages")

#: Backoff for transient failures: 10 s, 1 min, 5 min, 30 min, 2 h.
DEFAULT_RETRY_INTERVALS = (10, 60, 300, 1800, 7200)


@dataclass(frozen=True)
class JobCall:
    """One job for ``Jobs.enqueue_many``: the same arguments ``Jobs.enqueue`` takes."""

    func: str
    args: tuple[Any, ...] = ()
    job_id: str | None = None
    queue: str = "default"
    retry: Retry | None = None
    meta: dict[str, Any] | None = None


@dataclass
class JobRef:
    """A job on the job table, or the one ``enqueue_on_commit`` queued: its id once known.

    The id stays None when the job ran inline.
    """

    id: str | None = None


@dataclass(frozen=True)
class PeriodicJob:
    """A job the cron scheduler enqueues every ``interval`` seconds or on a ``cron`` line."""

    name: str
    func: str
    interval: int | None = None
    cron: str | None = None
    queue: str = "default"
    kwargs: dict[str, Any] = field(default_factory=dict)


def is_transient(exc: BaseException) -> bool:
    """Whether a job's failure is worth a retry: ``RetryLater``, a timeout, a lost connection.

    Anything else (``PermanentError``, a bug, bad data) fails the job at once.
    The one classification for rq and the job table alike.
    """
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, (RetryLater, TimeoutError, ConnectionError, OperationalError))


def func_path(func: str | Callable) -> str:
    """The dotted path a job is stored under."""
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


def resolve(func: str | Callable) -> Callable:
    """Return the function a dotted path names."""
    if callable(func):
        return func
    module_name, _, attr = func.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


class Jobs:
    """Enqueue work for this hub: to rq queues when ``HUB_REDIS_URL`` is set."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.redis_url: str | None = hub.config["HUB_REDIS_URL"]
        self.prefix: str = hub.config["HUB_REDIS_PREFIX"]
        self.rq = RqQueues(self.redis_url or "", self.prefix, hub.config, run)
        self.inline_failures: list[dict[str, Any]] = []
        self._feeders: list[Callable[[float], bool]] = []
        self.uses_table = False
        self._wake: Callable[[], None] | None = None
        self._clock: Callable[[], datetime] | None = None

    def use_job_table(
        self,
        wake: Callable[[], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Keep jobs in the database's job table from now on (no Redis: the embedded runner).

        ``wake`` is called after each enqueue, so an idle runner starts at once;
        ``clock`` dates the rows (the runner's clock, so both agree on "due").
        """
        if not self.is_inline:
            raise RuntimeError("HUB_REDIS_URL is set: jobs go to rq, not the job table")
        self.uses_table = True
        self._wake = wake
        self._clock = clock

    def add_feeder(self, flush: Callable[[float], bool]) -> None:
        """Register work this process accepted and enqueues a moment later, from a thread.

        ``flush(timeout)`` waits until all of it is enqueued (False on timeout).
        The webhook intake's drain thread is one: its deliveries' drains are
        queued by that thread after the answer has gone.
        """
        self._feeders.append(flush)

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until what this process accepted so far is enqueued; False on timeout.

        Tests call it before they work the queues (``hub.testing.run_jobs`` does).
        """
        return all(flush(timeout) for flush in list(self._feeders))

    @property
    def is_inline(self) -> bool:
        return not self.redis_url

    @property
    def redis(self) -> redis.Redis:
        if self.redis_url is None:
            raise RuntimeError("no Redis configured: set HUB_REDIS_URL")
        return self.rq.redis

    def queue_name(self, queue: str) -> str:
        return self.rq.queue_name(queue)

    def queue(self, queue: str = "default") -> Queue:
        return self.rq.queue(queue)

    def job_id(self, job_id: str) -> str:
        """Return the job id as stored: prefixed, so two hubs on one Redis never clash."""
        return self.rq.job_id(job_id)

    def default_retry(self, max_retries: int = 5) -> Retry | None:
        if self.is_inline and not self.uses_table:
            return None
        from rq import Retry

        return Retry(max=max_retries, interval=list(DEFAULT_RETRY_INTERVALS[:max_retries]))

    def enqueue(
        self,
        func: str | Callable,
        *args: Any,
        job_id: str | None = None,
        queue: str = "default",
        retry: Retry | None = None,
        meta: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run ``func(*args, **kwargs)`` in a worker, or now when there is no Redis.

        With the job table (the embedded runner) the job becomes a row, and a
        ``JobRef`` to it comes back; with Redis, the rq job; inline, what the
        function returned. With a ``job_id`` the job is unique: enqueueing it
        again while it exists does nothing (and returns None); on the table, a
        job that has ended is queued again (``job_table.add_job``). Raises when Redis
        or the database cannot be reached, so the caller can leave its own
        record for the sweep.
        """
        if self.uses_table:
            call = JobCall(func_path(func), args, job_id, queue, retry, meta)
            row = self._add_rows([call], kwargs)[0]
            return None if row is None else JobRef(str(row))
        if self.is_inline:
            return self._run_inline(func, args, kwargs, meta)
        return self.rq.enqueue(
            func_path(func), args, kwargs, job_id=job_id, queue=queue, retry=retry, meta=meta
        )

    def enqueue_many(self, calls: Iterable[JobCall]) -> int:
        """Enqueue several unique jobs in one round trip to Redis; return how many were new.

        Each call is what ``enqueue(func, *args, job_id=..., queue=..., retry=...,
        meta=...)`` would do, with the same job ids and the same "enqueued once"
        rule, but written with one pipeline: rq's own unique-enqueue script, one
        call per job. Without Redis every call runs inline, in order. Raises when
        Redis cannot be reached (nothing is then known to be queued: the caller
        keeps its record for the sweep, and a second enqueue of what did get
        through is a no-op).
        """
        calls = list(calls)
        if self.uses_table:
            return sum(row is not None for row in self._add_rows(calls, {}))
        if self.is_inline:
            for call in calls:
                self._run_inline(call.func, call.args, {}, call.meta)
            return len(calls)
        return self.rq.enqueue_many(calls)

    def enqueue_on_commit(self, session: Session, call: JobCall) -> JobRef:
        """Enqueue ``call`` with ``session``'s transaction: nothing queued if it rolls back.

        On the job table the row is written in that transaction; elsewhere the
        job is enqueued (or run inline) once the transaction has committed, and
        the returned reference then holds its id. A failed enqueue after the
        commit is logged, never raised: the caller's writes stand.
        """
        if self.uses_table:
            row = self._new_rows(session, [call], {})[0]
            return JobRef(None if row is None else str(row))
        ref = JobRef()

        def enqueue_now(_session: Session) -> None:
            try:
                job = self.enqueue(
                    call.func,
                    *call.args,
                    job_id=call.job_id,
                    queue=call.queue,
                    retry=call.retry,
                    meta=call.meta,
                )
            except Exception:
                log.exception("job %s not enqueued after its transaction", call.func)
                return
            ref.id = getattr(job, "id", None)

        event.listen(session, "after_commit", enqueue_now, once=True)
        return ref

    def report_progress(self, done: int, total: int | None = None) -> None:
        """Let a running job say how far it is, for ``GET /api/v1/jobs/<id>``.

        Kept on the job's row (job table) or in its meta (rq); a no-op inline.
        """
        progress = {"done": done, "total": total}
        job_id = job_table.current_job_id.get()
        if job_id is not None:
            with self.hub.db.transaction() as session:
                job_table.set_progress(session, job_id, progress)
            return
        if not self.is_inline:
            self.rq.report_progress(progress)

    def _add_rows(self, calls: list[JobCall], kwargs: dict[str, Any]) -> list[int | None]:
        with self.hub.db.transaction() as session:
            rows = self._new_rows(session, calls, kwargs)
        if self._wake is not None:
            self._wake()
        return rows

    def _new_rows(
        self, session: Session, calls: list[JobCall], kwargs: dict[str, Any]
    ) -> list[int | None]:
        from hub.db import utcnow

        now = (self._clock or utcnow)()
        return [
            job_table.add_job(
                session,
                job_table.NewJob(
                    func=func_path(call.func),
                    args=call.args,
                    kwargs=kwargs,
                    key=call.job_id,
                    queue=call.queue,
                    meta=call.meta,
                    retry_intervals=call.retry.intervals if call.retry else (),
                ),
                now=now,
            )
            for call in calls
        ]

    def _run_inline(self, func: Any, args: tuple, kwargs: dict, meta: Any) -> Any:
        from flask import current_app
        from flask import has_app_context

        target = resolve(func)
        try:
            if has_app_context() and current_app.extensions.get("hub") is self.hub:
                return target(*args, **kwargs)
            with self.hub.app.app_context():
                return target(*args, **kwargs)
        except (RetryLater, PermanentError, Exception) as exc:
            # Inline mode has no retry queue: record and log, never break the caller.
            log.exception("inline job %s failed", getattr(target, "__name__", target))
            self.inline_failures.append({"func": str(func), "error": repr(exc), "meta": meta})
            return None


def run(path: str, *args: Any, **kwargs: Any) -> Any:
    """Job trampoline: run ``path`` and classify its failure once.

    ``PermanentError`` (and any error that is not ``RetryLater``, a timeout or a
    connection error) skips the remaining retries, so it lands in the failed
    registry at once with the reason and the plugin recorded in the job's meta.
    """
    from rq import get_current_job

    job = get_current_job()
    try:
        return resolve(path)(*args, **kwargs)
    except Exception as exc:
        if is_transient(exc):
            if job is not None:
                job.meta["last_error"] = repr(exc)
                job.save_meta()
            raise
        if job is not None:
            job.retries_left = 0
            job.meta["last_error"] = repr(exc)
            job.meta["permanent"] = True
            job.save_meta()
        raise
