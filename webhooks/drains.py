"""Queueing the drains of connections' inboxes: one scheduler, and a gatherer for requests.

A connection's inbox rows are worked by a drain job (``webhooks.inbox``).
With Redis, a mark per connection says a drain is queued and not yet
started: ``queue_drains`` sets the marks of the connections it is given
(``SET NX``, one pipelined round trip) and enqueues drains only for those
whose mark was missing; the drain clears its mark when it starts, before it
reads the inbox. So a row committed before a drain has started is read by
it, and a row committed after queues another. Without Redis every request
enqueues a drain (a job-table row, or a run inline): a drain that finds
nothing left changes nothing.

A delivery's answer waits for its inbox row's commit and nothing else: the
request hands its connection to the process's ``DrainRequests``, whose
thread calls ``queue_drains`` for every connection that stored rows since its
last turn. A mark is only set after the row's commit, so the order above
holds. What can go wrong leaves rows pending, never lost: Redis down (the
enqueue gate closes), or the process killed between the answer and the
thread's turn; the periodic sweep queues them. A process leaving normally
sends what it holds first.
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

#: After a failed enqueue, requests leave their rows to the sweep this long
#: instead of each trying an unreachable Redis again.
ENQUEUE_PAUSE_SECONDS = 5.0
#: How long a drain stays marked as queued: past it, a delivery queues another
#: even if the first was lost (a flushed Redis); the sweep covers the rest.
DRAIN_MARK_SECONDS = 60
#: How long the thread lets requests gather before a turn: a drain starts this much
#: later, and a busy process sends at most one batch per interval.
GATHER_SECONDS = 0.02
#: How long it lets them gather after a turn that found every drain it asked for still
#: queued, not started: those drains read whatever is committed before they start.
QUEUED_GATHER_SECONDS = 0.1
#: How often an idle thread looks whether its app still exists.
IDLE_CHECK_SECONDS = 30.0


class EnqueueGate:
    """Closed for a few seconds after Redis failed: requests then leave their rows to the sweep."""

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
    gate = hub.app.extensions.get("webhooks_enqueue_gate")
    if gate is None:
        gate = hub.app.extensions.setdefault("webhooks_enqueue_gate", EnqueueGate())
    return gate


def drain_mark(hub: Hub, connection_id: int) -> str:
    """The Redis key saying a drain of the connection's inbox is queued and not yet started."""
    return f"{hub.jobs.prefix}:inbox-drain:{connection_id}"


def drain_started(hub: Hub, connection_id: int) -> None:
    """Clear the connection's drain mark: a row committed from now on queues another drain."""
    if not hub.jobs.is_inline:
        hub.jobs.redis.delete(drain_mark(hub, connection_id))


def drain_job(hub: Hub, connection_id: int, connector: str) -> JobCall:
    """The job draining one connection's inbox."""
    return JobCall(
        "webhooks.inbox.drain_connection",
        (connection_id,),
        queue="inbound",
        retry=hub.jobs.default_retry(),
        meta={"plugin": "webhooks", "connector": connector, "connection_id": connection_id},
    )


def queue_drains(hub: Hub, connectors: dict[int, str]) -> list[int]:
    """Enqueue a drain of each connection (id to connector) that has none queued; return
    the connections whose drain this enqueued.

    Raises when Redis (or the job table) cannot be reached, after closing the
    enqueue gate and clearing the marks this call set: the rows wait for the sweep.
    """
    if hub.jobs.is_inline:
        hub.jobs.enqueue_many(drain_job(hub, i, name) for i, name in connectors.items())
        return list(connectors)
    marks = {connection_id: drain_mark(hub, connection_id) for connection_id in connectors}
    were_set: dict[int, bool] = {}
    try:
        pipe = hub.jobs.redis.pipeline(transaction=False)
        for mark in marks.values():
            pipe.set(mark, 1, nx=True, ex=DRAIN_MARK_SECONDS)
        were_set = dict(zip(marks, pipe.execute(), strict=True))
        # A connection whose mark was there has a drain queued that will read its rows.
        queued = [connection_id for connection_id, was_set in were_set.items() if was_set]
        if queued:
            hub.jobs.enqueue_many(drain_job(hub, i, connectors[i]) for i in queued)
    except Exception:
        enqueue_gate(hub).close()
        set_here = [marks[i] for i, was_set in were_set.items() if was_set]
        if set_here:
            with contextlib.suppress(Exception):
                hub.jobs.redis.delete(*set_here)
        raise
    return queued


def request_drain(hub: Hub, connection_id: int, connector: str) -> None:
    """See that a drain of the connection's inbox runs after this row's commit; never raises.

    With Redis the process's thread queues it after the answer has gone (none
    while the enqueue gate is closed); without, it is enqueued (or run) now.
    Rows it could not queue wait for the sweep.
    """
    if not hub.jobs.is_inline:
        drain_requests(hub).ask(connection_id, connector)
        return
    try:
        queue_drains(hub, {connection_id: connector})
    except Exception as exc:
        log.warning("no drain of connection %s queued (%s); the sweep will", connection_id, exc)


class DrainRequests:
    """The connections of one process waiting for their drain to be queued, and the
    thread that hands them to ``queue_drains``."""

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
        self._all_queued = False  # the last turn found every drain still queued

    def ask(self, connection_id: int, connector: str) -> None:
        """Have the connection's drain queued soon (its new row is committed)."""
        if self._pid != os.getpid():
            self._start()
        # Already waiting: its turn comes after this moment, so after this row's commit.
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
            except Exception as exc:  # the thread lives on: the sweep covers the rows
                log.warning("no drain queued for %s connection(s) (%s); the sweep will",
                            len(batch), exc)  # fmt: skip
            finally:
                with self._changed:
                    self._sending = False
                    self._changed.notify_all()

    def next_wait(self) -> float:
        """Seconds the thread lets requests gather before its next turn."""
        return self.queued_gather_seconds if self._all_queued else self.gather_seconds

    def _hub_alive(self) -> bool:
        try:
            return self._hub.app is not None
        except ReferenceError:
            return False

    def _send(self, batch: dict[int, str]) -> None:
        hub = self._hub
        if not enqueue_gate(hub).is_open():
            return  # Redis failed a moment ago: the sweep enqueues these rows
        self._all_queued = not queue_drains(hub, batch)


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
                # The Redis client (and the modules it imports) exists before a flush at
                # interpreter exit needs it: imports then can fail.
                hub.jobs.redis  # noqa: B018
                requests = DrainRequests(hub)
                hub.app.extensions["webhooks_drain_requests"] = requests
                hub.jobs.add_feeder(requests.flush)
    return requests


_CREATING = threading.Lock()
