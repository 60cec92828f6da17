"""Process inbox rows: one processor, run by a connection's drain or by a row's own job.

The processor (``_take_and_apply``) takes rows, locked, asks the connector's
connector's ``records`` for each row's canonical records, applies them in
order (a run of orders with one ``record_orders``, set-based) and marks the
rows processed (or ignored), all in one transaction: a worker killed
half-way leaves the rows pending and nothing recorded, and the rerun does
the whole thing once. Recording is idempotent on its own too: orders are
unique per (source, external id) and ledger entries are keyed, so even a
second run of a processed row changes nothing.

``drain_connection``, queued by the intake (one per connection at a time),
takes the connection's waiting rows in batches. A batch that fails is rolled
back and each of its rows is tried alone, a batch of one; a row that fails
alone is handed to its own job (``process_entry``, the same processor on
that row), which retries transient failures with backoff and puts permanent
ones in the failed registry with the reason and the connector.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers

from hub import Connection
from hub import Hub
from hub import HubError
from hub import JobCall
from hub import Order
from hub import PermanentError
from hub import RetryLater
from hub import UnknownConnector
from hub import apply_record
from hub import current_hub
from hub import record_orders
from hub import utcnow
from webhooks.drains import drain_started
from webhooks.drains import queue_drains
from webhooks.models import InboxEntry

log = logging.getLogger(__name__)


def process_entry(entry_id: int) -> str:
    """Job: apply one inbox row, a batch of one; return its status.

    Transient failures (database busy, a unique race with a concurrent job)
    raise ``RetryLater`` so rq retries with backoff; anything else marks the
    row failed with the reason and fails the job for good.
    """
    hub = current_hub()
    try:
        try:
            return _apply_one(hub, entry_id)
        except IntegrityError:
            # A unique race with a concurrent job (two deliveries creating one member):
            # the other transaction has committed by now, so the rerun finds its row.
            # Once at once, not after rq's first 10 s backoff; the rollback undid everything.
            return _apply_one(hub, entry_id)
    except (RetryLater, OperationalError, IntegrityError) as exc:
        _note_attempt(hub, entry_id, status="pending", error=f"transient: {exc!r}"[:2000])
        raise RetryLater(f"inbox row {entry_id}: {exc}") from exc
    except Exception as exc:
        reason = _reason(exc)
        connector = _note_attempt(hub, entry_id, status="failed", error=reason)
        raise PermanentError(f"{connector or 'webhook'} inbox row {entry_id}: {reason}") from exc


def inbox_job_id(entry_id: int) -> str:
    """Return the job id of an inbox row's own job: the same for every enqueue of it."""
    return f"webhook-in-{entry_id}"


def enqueue_entry(hub: Hub, entry_id: int, *, connector: str) -> bool:
    """Enqueue the own job of one inbox row; False when it could not be (the sweep will)."""
    job = JobCall(
        "webhooks.inbox.process_entry",
        (entry_id,),
        job_id=inbox_job_id(entry_id),
        queue="inbound",
        retry=hub.jobs.default_retry(),
        meta={"plugin": "webhooks", "connector": connector, "inbox_id": entry_id},
    )
    try:
        # One round trip; a job already there (a replay racing the sweep) is left alone.
        hub.jobs.enqueue_many([job])
    except Exception as exc:
        log.warning("inbox row %s not enqueued (%s); the sweep will enqueue it", entry_id, exc)
        return False
    return True


#: Rows per drain transaction.
DRAIN_BATCH = 200
#: Batches per drain job: past them the drain queues its successor and ends, so a
#: worker takes its turn on the other queues under an endless stream of deliveries.
DRAIN_BATCHES_PER_JOB = 10


def drain_connection(connection_id: int) -> int:
    """Job: process the connection's waiting inbox rows in batches; return how many.

    Clears the connection's drain mark before reading anything, so a delivery
    stored from now on queues the next drain. Rows are taken in id order with
    ``SKIP LOCKED``: two drains of one connection share the rows between them.
    A row some job has already tried (``attempts`` above 0) is left to its own job.
    While batches come full, another drain is queued, so a second worker
    shares a backlog.
    """
    hub = current_hub()
    drain_started(hub, connection_id)
    done = 0
    for _ in range(DRAIN_BATCHES_PER_JOB):
        taken, connector = _drain_batch(hub, connection_id)
        if not taken:
            return done
        done += taken
        if taken == DRAIN_BATCH and not hub.jobs.is_inline:
            try:
                queue_drains(hub, {connection_id: connector})
            except Exception as exc:  # the rows wait for the next delivery or the sweep
                log.warning("no further drain of connection %s queued: %s", connection_id, exc)
    return done


def _drain_batch(hub: Hub, connection_id: int) -> tuple[int, str]:
    """Take and apply the connection's next batch; return how many rows and their connector."""
    taken: list[tuple[int, str]] = []
    try:
        try:
            _take_and_apply(hub, waiting_rows(connection_id), taken)
        except IntegrityError as exc:
            if not taken:
                raise
            # A unique race with a concurrent batch (both creating the member of a customer
            # whose orders fell on either side): the other one has committed by now, so the
            # batch again, at once, finds that member instead of going row by row.
            log.info("inbox batch of %s rows lost a race (%s); again", len(taken), _reason(exc))
            first = [entry_id for entry_id, _ in taken]
            taken.clear()
            _take_and_apply(hub, waiting_rows(connection_id).where(InboxEntry.id.in_(first)), taken)
        return len(taken), _connector(taken)
    except Exception as exc:
        if not taken:
            raise  # nothing taken: the job itself failed (the database is down)
        log.info("inbox batch of %s rows failed (%s); each row alone", len(taken), _reason(exc))
    for entry_id, _ in taken:
        _alone(hub, entry_id)
    return len(taken), _connector(taken)


def waiting_rows(connection_id: int) -> Any:
    """The query of a drain's next batch: the connection's waiting rows no job has tried,
    in id order, skipping rows another drain holds (index ``ix_webhook_inbox_waiting``)."""
    return (
        select(InboxEntry)
        .where(
            InboxEntry.connection_id == connection_id,
            InboxEntry.status == "pending",
            InboxEntry.attempts == 0,
        )
        .order_by(InboxEntry.id)
        .limit(DRAIN_BATCH)
        .with_for_update(skip_locked=True)
    )


def pending_row(entry_id: int) -> Any:
    """The query of a row's own job: the row while it is pending, waiting for any other
    run of it to end (so two runs cannot interleave)."""
    return (
        select(InboxEntry)
        .where(InboxEntry.id == entry_id, InboxEntry.status == "pending")
        .with_for_update()
    )


def _take_and_apply(hub: Hub, query: Any, taken: list[tuple[int, str]]) -> dict[int, str]:
    """The processor: take the rows of ``query``, apply them in one transaction and
    return each one's new status.

    ``taken`` gets each row's (id, connector) before anything is applied, so a
    caller knows the rows of a batch that failed.
    """
    with hub.db.transaction() as session:
        rows = list(session.scalars(query))
        taken.extend((row.id, row.connector) for row in rows)
        if not rows:
            return {}
        connection = session.get(Connection, rows[0].connection_id)
        if connection is None:  # deleted by hand: the hub only ever marks connections deleted
            raise PermanentError(
                f"connection {rows[0].connection_id} of this delivery no longer exists in the "
                "database; nothing can be applied"
            )
        return _apply_rows(hub, session, connection, rows)


def _apply_rows(
    hub: Hub, session: Session, connection: Connection, rows: list[InboxEntry]
) -> dict[int, str]:
    """Apply the rows' records in order, runs of orders together, and mark the rows."""
    orders: list[Order] = []

    def flush() -> None:
        if orders:
            record_orders(hub, session, connection.merchant_id, orders, connection_id=connection.id)
            orders.clear()

    status: dict[int, str] = {}
    for entry in rows:
        records = _records(hub, connection, entry)
        status[entry.id] = "ignored" if records is None else "processed"
        for record in records or []:
            if type(record) is Order:
                orders.append(record)
            else:
                flush()
                apply_record(hub, session, connection, record)
    flush()
    now = utcnow()
    for name in ("processed", "ignored"):
        ids = [entry_id for entry_id, value in status.items() if value == name]
        if ids:
            session.execute(
                update(InboxEntry)
                .where(InboxEntry.id.in_(ids))
                .values(status=name, attempts=InboxEntry.attempts + 1, error=None, processed_at=now)
            )
    return status


def _apply_one(hub: Hub, entry_id: int) -> str:
    """Apply one row as a batch of one; return its status after."""
    status = _take_and_apply(hub, pending_row(entry_id), [])
    if entry_id in status:
        return status[entry_id]
    with hub.db.session() as session:  # done by an earlier run, or gone: nothing to do
        entry = session.get(InboxEntry, entry_id)
    return entry.status if entry is not None else "gone"


def _alone(hub: Hub, entry_id: int) -> None:
    """Try one row of a failed batch as a batch of one; if it fails, its own job."""
    try:
        _take_and_apply(hub, pending_row(entry_id), [])
        return
    except Exception as exc:
        reason = f"handed to its own job: {_reason(exc)}"
    connector = _note_attempt(hub, entry_id, status="pending", error=reason[:2000])
    enqueue_entry(hub, entry_id, connector=connector or "webhook")


def _connector(taken: list[tuple[int, str]]) -> str:
    return taken[0][1] if taken else "webhook"


def _records(hub: Hub, connection: Connection, entry: InboxEntry) -> list | None:
    """The canonical records the connector reads from a row, or None for a topic it ignores."""
    try:
        payload = json.loads(entry.body) if entry.body else None
    except ValueError as exc:
        raise PermanentError(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise PermanentError("the body nests too deep to read as JSON") from None
    try:
        connector = hub.connector(connection.connector)
    except UnknownConnector as exc:
        raise PermanentError(exc.message) from None
    return connector.records(hub, connection, entry.topic, payload, Headers(entry.headers or {}))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, HubError):
        details = f" {exc.details}" if exc.details else ""
        return f"{exc.message}{details}"[:2000]
    return (str(exc) or repr(exc))[:2000]


def _note_attempt(hub: Hub, entry_id: int, *, status: str, error: str) -> str | None:
    """Record a failed attempt on the row in a transaction of its own; never raise."""
    try:
        with hub.db.transaction() as session:
            entry = session.get(InboxEntry, entry_id)
            if entry is None or entry.status != "pending":
                return entry.connector if entry else None
            session.execute(
                update(InboxEntry)
                .where(InboxEntry.id == entry_id)
                .values(status=status, attempts=InboxEntry.attempts + 1, error=error)
            )
            return entry.connector
    except Exception:
        log.exception("could not record the failed attempt of inbox row %s", entry_id)
        return None
