"""Queueing the drains of connections' inboxes, with no Redis wait on a request.

A connection's inbox rows are worked by a drain job. Its Redis mark says a
drain is queued and not yet started: a delivery whose row is committed sets
the mark if it is missing and only then enqueues a drain; the drain clears
the mark when it starts, before it reads the inbox. So a row committed
before a drain has started is read by it, and a row committed after queues
another.

A delivery's answer waits for its inbox row's commit and nothing else. The
drain mark (see ``webhooks.intake.queue_drain``) is set by one thread per
process shortly after: it collects the connections that stored rows in the
last few milliseconds and, per batch, sets their marks in one round trip to
Redis and enqueues the drains that were missing in another. A Redis round
trip per delivery, which a request used to wait on, becomes one per batch.

The order that makes it safe holds: a mark is only set after the row's
commit. What can go wrong leaves rows pending, never lost: Redis down (the
enqueue gate closes), or the process killed
between the answer and the batch; the periodic sweep enqueues them. A
process leaving normally sends what it holds first.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
import weakref

from hub import Hub
from hub import JobCall

log = logging.getLogger(__name__)

#: After a failed enqueue, rows wait for the sweep this long instead of each
#: request trying an unreachable Redis again.
ENQUEUE_PAUSE_SECONDS = 5.0
#: How long a drain stays marked as queued: past it, a delivery queues another
#: even if the first was lost (a flushed Redis); the sweep covers the rest.
DRAIN_MARK_SECONDS = 60
#: How long the thread lets requests gather before a batch: a drain starts this much
#: later, and a busy process sends at most one batch per interval.
GATHER_SECONDS = 0.02
#: How long it lets them gather after a batch that found every drain it asked for still
#: queued, not started: those drains read whatever is committed before they start, so
#: asking again sooner would only cost round trips (workers are behind, or none run).
QUEUED_GATHER_SECONDS = 0.1
#: How often an idle thread looks whether its app still exists.
IDLE_CHECK_SECONDS = 30.0


class EnqueueGate:
    """Stop trying Redis for a few seconds after it failed, so intake stays fast."""

    def __init__(self) -> None:
        self.closed_until = 0.0
        self.lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() >= self.closed_until

    def close(self) -> None:
        with self.lock:
            self.closed_until = time.monotonic() + ENQUEUE_PAUSE_SECONDS


def enqueue_gate(hub: Hub) -> EnqueueGate:
    """Return the app's gate (one per app, so per process and per test app)."""
    return hub.app.extensions.setdefault("webhooks_enqueue_gate", EnqueueGate())


def drain_mark(hub: Hub, connection_id: int) -> str:
    """The Redis key saying a drain of the connection's inbox is queued and not yet started."""
    return f"{hub.jobs.prefix}:inbox-drain:{connection_id}"


def drain_job(hub: Hub, connection_id: int, connector: str) -> JobCall:
    """The job draining one connection's inbox."""
    return JobCall(
        "webhooks.inbox.drain_connection",
        (connection_id,),
        queue="inbound",
        retry=hub.jobs.default_retry(),
        meta={"plugin": "webhooks", "connector": connector, "connection_id": connection_id},
    )


def queue_drain(hub: Hub, connection_id: int, *, connector: str) -> bool:
    """Enqueue a drain of the connection's inbox unless one is queued; True if this one did.

    At once, from the caller's thread (a drain queueing its successor, the
    sweep). Raises when Redis cannot be reached.
    """
    mark = drain_mark(hub, connection_id)
    if not hub.jobs.redis.set(mark, 1, nx=True, ex=DRAIN_MARK_SECONDS):
        return False  # a drain is queued and will read what is waiting
    try:
        hub.jobs.enqueue_many([drain_job(hub, connection_id, connector)])
    except Exception:
        with contextlib.suppress(Exception):
            hub.jobs.redis.delete(mark)
        raise
    return True


class DrainRequests:
    """The connections of one process waiting for their drain to be queued."""

    def __init__(
        self,
        hub: Hub,
        gather_seconds: float = GATHER_SECONDS,
        queued_gather_seconds: float = QUEUED_GATHER_SECONDS,
    ) -> None:
        self._hub = weakref.proxy(hub)
        self.gather_seconds = gather_seconds
        self.queued_gather_seconds = queued_gather_seconds
        self._start()

    def _start(self) -> None:
        """(Re)make the state: at first, and in a child process after a fork."""
        self._pid = os.getpid()
        self._waiting: dict[int, str] = {}
        self._sending = False
        self._changed = threading.Condition(threading.Lock())
        self._hurry = threading.Event()  # set by flush: send without gathering longer
        self._thread: threading.Thread | None = None
        self._all_queued = False  # the last batch found every drain still queued

    def ask(self, connection_id: int, connector: str) -> None:
        """Have the connection's drain queued soon (its new row is committed)."""
        if self._pid != os.getpid():
            self._start()
        # Already waiting: its batch is sent after this moment, so after this row's commit.
        # (A batch taken by the thread is replaced first, then sent.)
        if connection_id in self._waiting:
            return
        with self._changed:
            self._waiting[connection_id] = connector
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hub-drain-requests", daemon=True
                )
                self._thread.start()
                _LIVE.add(self)
            self._changed.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Send what waits now and wait until it is sent; False on timeout."""
        deadline = time.monotonic() + timeout
        self._hurry.set()
        with self._changed:
            while self._waiting or self._sending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._waiting:
                    if not self._changed.wait(IDLE_CHECK_SECONDS) and not self._hub_alive():
                        return  # the app is gone (a test's): nothing will be asked again
            self._hurry.wait(self.next_wait())
            with self._changed:
                self._hurry.clear()
                batch, self._waiting = self._waiting, {}
                self._sending = True
            try:
                self._send(batch)
            except ReferenceError:
                return  # the hub is gone (a test's app): nothing is left to send to
            except Exception:  # never let the thread die: the sweep covers the rows
                log.exception("drains of %s connection(s) not queued", len(batch))
            finally:
                with self._changed:
                    self._sending = False
                    self._changed.notify_all()

    def next_wait(self) -> float:
        """Seconds the thread lets requests gather before its next batch."""
        return self.queued_gather_seconds if self._all_queued else self.gather_seconds

    def _hub_alive(self) -> bool:
        try:
            return self._hub.app is not None
        except ReferenceError:
            return False

    def _send(self, batch: dict[int, str]) -> None:
        hub = self._hub
        gate = enqueue_gate(hub)
        if not gate.is_open():
            return  # Redis failed a moment ago: the sweep enqueues these rows
        ids = list(batch)
        marks = [drain_mark(hub, connection_id) for connection_id in ids]
        try:
            pipe = hub.jobs.redis.pipeline(transaction=False)
            for mark in marks:
                pipe.set(mark, 1, nx=True, ex=DRAIN_MARK_SECONDS)
            were_set = pipe.execute()
        except Exception as exc:
            gate.close()
            log.warning("no drain queued for %s connection(s) (%s); the sweep will", len(ids), exc)
            return
        calls: list[JobCall] = []
        new_marks: list[str] = []
        for connection_id, mark, was_set in zip(ids, marks, were_set, strict=True):
            if was_set:  # else a drain is queued, not yet started, and will read the rows
                calls.append(drain_job(hub, connection_id, batch[connection_id]))
                new_marks.append(mark)
        self._all_queued = not calls
        if not calls:
            return
        try:
            hub.jobs.enqueue_many(calls)
        except Exception as exc:
            gate.close()
            log.warning(
                "no drain queued for %s connection(s) (%s); the sweep will", len(calls), exc
            )
            with contextlib.suppress(Exception):
                hub.jobs.redis.delete(*new_marks)


#: Every process's live requesters, flushed when the process leaves normally.
_LIVE: weakref.WeakSet[DrainRequests] = weakref.WeakSet()


#: Longest a process leaving normally waits for its drain thread to queue what it holds.
EXIT_FLUSH_SECONDS = 2.0


@atexit.register
def _flush_at_exit() -> None:
    for requests in list(_LIVE):
        if requests._pid == os.getpid():
            requests.flush(timeout=EXIT_FLUSH_SECONDS)


def drain_requests(hub: Hub) -> DrainRequests:
    """Return the app's requester (one per app, so per process and per test app)."""
    requests = hub.app.extensions.get("webhooks_drain_requests")
    if requests is None:
        with _CREATING:
            requests = hub.app.extensions.get("webhooks_drain_requests")
            if requests is None:
                if not hub.jobs.is_inline:
                    # The Redis client (and the modules it imports) exists before a flush
                    # at interpreter exit needs it: imports then can fail.
                    hub.jobs.redis  # noqa: B018
                requests = DrainRequests(hub)
                hub.app.extensions["webhooks_drain_requests"] = requests
                hub.jobs.add_feeder(requests.flush)
    return requests


_CREATING = threading.Lock()
