"""Process inbox rows: drained in batches, or one idempotent job per row.

Deliveries are normally worked by ``drain_connection``, queued by the intake
(one per connection at a time): it takes the connection's waiting rows in
batches, applies each batch's records in one transaction (a run of orders
with one ``record_orders``, set-based) and marks the rows processed in the
same transaction. A batch that fails is rolled back and each of its rows is
tried alone; a row that fails alone is handed to its own job
(``process_entry``), which retries transient failures with backoff and puts
permanent ones in the failed registry with the reason and the connector.

``process_entry`` loads its row (locked, so two runs of it cannot interleave), asks the
connector's ``webhook_records`` hook for canonical records, records them, and
marks the row processed, all in one transaction: a worker killed half-way
leaves the row pending and nothing recorded, and the rerun (rq's
abandoned-job retry or the sweep) does the whole thing once. Recording is
idempotent on its own too: orders are unique per (source, external id) and
ledger entries are keyed, so even a second run of a processed row changes
nothing.
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
from hub import Order
from hub import PermanentError
from hub import RetryLater
from hub import UnknownConnector
from hub import apply_record as apply_canonical_record
from hub import current_hub
from hub import record_orders
from hub import utcnow
from webhooks.drains import drain_mark
from webhooks.drains import queue_drain
from webhooks.intake import enqueue_entry
from webhooks.models import InboxEntry

log = logging.getLogger(__name__)


def process_entry(entry_id: int) -> str:
    """Job: apply one inbox row; return its final status.

    Transient failures (database busy, a unique race with a concurrent job)
    raise ``RetryLater`` so rq retries with backoff; anything else marks the
    row failed with the reason and fails the job for good.
    """
    hub = current_hub()
    try:
        try:
            with hub.db.transaction() as session:
                return _process(hub, session, entry_id)
        except IntegrityError:
            # A unique race with a concurrent job (two deliveries creating one member):
            # the other transaction has committed by now, so the rerun finds its row.
            # Once at once, not after rq's first 10 s backoff; the rollback undid everything.
            with hub.db.transaction() as session:
                return _process(hub, session, entry_id)
    except (RetryLater, OperationalError, IntegrityError) as exc:
        _note_attempt(hub, entry_id, status="pending", error=f"transient: {exc!r}"[:2000])
        raise RetryLater(f"inbox row {entry_id}: {exc}") from exc
    except Exception as exc:
        reason = _reason(exc)
        connector = _note_attempt(hub, entry_id, status="failed", error=reason)
        raise PermanentError(f"{connector or 'webhook'} inbox row {entry_id}: {reason}") from exc


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
    if not hub.jobs.is_inline:
        hub.jobs.redis.delete(drain_mark(hub, connection_id))
    done = 0
    for _ in range(DRAIN_BATCHES_PER_JOB):
        taken, connector = _drain_batch(hub, connection_id)
        if not taken:
            return done
        done += taken
        if taken == DRAIN_BATCH and not hub.jobs.is_inline:
            try:
                queue_drain(hub, connection_id, connector=connector)
            except Exception as exc:  # the rows wait for the next delivery or the sweep
                log.warning("no further drain of connection %s queued: %s", connection_id, exc)
    return done


def _drain_batch(hub: Hub, connection_id: int) -> tuple[int, str]:
    ids: list[int] = []
    connector = "webhook"
    try:
        try:
            connector = _take_and_apply(hub, connection_id, ids)
            return len(ids), connector
        except IntegrityError as exc:
            if not ids:
                raise
            # A unique race with a concurrent batch (both creating the member of a customer
            # whose orders fell on either side): the other one has committed by now, so the
            # batch again, at once, finds that member instead of going row by row.
            log.info("inbox batch of %s rows lost a race (%s); again", len(ids), _reason(exc))
            first, ids = ids, []
            connector = _take_and_apply(hub, connection_id, ids, only=first)
            return len(ids), connector
    except Exception as exc:
        if not ids:
            raise  # nothing taken: the job itself failed (the database is down)
        log.info("inbox batch of %s rows failed (%s); each row alone", len(ids), _reason(exc))
    for entry_id in ids:
        _alone(hub, entry_id)
    return len(ids), connector


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


def _take_and_apply(
    hub: Hub, connection_id: int, taken: list[int], *, only: list[int] | None = None
) -> str:
    """Take the next waiting rows (or those of ``only`` still waiting) into ``taken`` and
    apply them in one transaction; return their connector. ``taken`` is filled before
    anything is applied, so a caller knows the rows of a batch that failed."""
    query = waiting_rows(connection_id)
    if only is not None:
        query = query.where(InboxEntry.id.in_(only))
    with hub.db.transaction() as session:
        rows = session.scalars(query).all()
        taken.extend(row.id for row in rows)
        if not rows:
            return "webhook"
        _apply_batch(hub, session, session.get_one(Connection, connection_id), rows)
        return rows[0].connector


def _apply_batch(hub: Hub, session: Session, connection: Connection, rows: list) -> None:
    """Apply the rows' records in order, runs of orders together, and mark the rows."""
    orders: list[Order] = []

    def flush() -> None:
        if orders:
            record_orders(hub, session, connection.merchant_id, orders, connection_id=connection.id)
            orders.clear()

    status: dict[str, list[int]] = {"processed": [], "ignored": []}
    for entry in rows:
        records = _records(hub, connection, entry)
        if records is None:
            status["ignored"].append(entry.id)
            continue
        for record in records:
            if type(record) is Order:
                orders.append(record)
            else:
                flush()
                apply_record(hub, session, connection, record)
        status["processed"].append(entry.id)
    flush()
    now = utcnow()
    for name, ids in status.items():
        if ids:
            session.execute(
                update(InboxEntry)
                .where(InboxEntry.id.in_(ids))
                .values(status=name, attempts=InboxEntry.attempts + 1, error=None, processed_at=now)
            )


def _alone(hub: Hub, entry_id: int) -> None:
    """Try one row of a failed batch in its own transaction; if it fails, its own job."""
    try:
        with hub.db.transaction() as session:
            _process(hub, session, entry_id)
        return
    except Exception as exc:
        reason = f"handed to its own job: {_reason(exc)}"
    connector = _note_attempt(hub, entry_id, status="pending", error=reason[:2000])
    enqueue_entry(hub, entry_id, connector=connector or "webhook", force=True)


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


def _process(hub: Hub, session: Session, entry_id: int) -> str:
    # The row (locked, so two runs cannot interleave) and its connection in one round trip.
    found = session.execute(
        select(InboxEntry, Connection)
        .outerjoin(Connection, Connection.id == InboxEntry.connection_id)
        .where(InboxEntry.id == entry_id)
        .with_for_update(of=InboxEntry)
    ).first()
    if found is None:
        log.info("inbox row %s is gone; nothing to do", entry_id)
        return "gone"
    entry, connection = found
    if entry.status != "pending":
        return entry.status  # done by an earlier run: a rerun changes nothing
    if connection is None:  # deleted by hand: the hub only ever marks connections deleted
        raise PermanentError(
            f"connection {entry.connection_id} of this delivery no longer exists in the "
            "database; nothing can be applied"
        )
    records = _records(hub, connection, entry)
    if records is None:
        status = "ignored"
    else:
        for record in records:
            apply_record(hub, session, connection, record)
        status = "processed"
    entry.status = status
    entry.attempts += 1
    entry.error = None
    entry.processed_at = utcnow()
    return status


def apply_record(hub: Hub, session: Session, connection: Connection, record: Any) -> None:
    """Record one canonical record a connector returned, for the connection's merchant.

    The core's ``hub.apply_record`` knows every record type (orders, refunds,
    customers, voucher uses, uninstalls, privacy requests), so a delivery is
    applied exactly as a backfill or a reconciliation would apply it.
    """
    apply_canonical_record(hub, session, connection, record)


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
