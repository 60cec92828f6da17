"""Process inbox rows: one idempotent job per row, records applied in one transaction.

The job loads its row (locked, so two runs of it cannot interleave), asks the
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
from hub import PermanentError
from hub import RetryLater
from hub import apply_record as apply_canonical_record
from hub import current_hub
from hub import utcnow
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


def _process(hub: Hub, session: Session, entry_id: int) -> str:
    # The row (locked, so two runs cannot interleave) and its connection in one round trip.
    found = session.execute(
        select(InboxEntry, Connection)
        .join(Connection, Connection.id == InboxEntry.connection_id)
        .where(InboxEntry.id == entry_id)
        .with_for_update(of=InboxEntry)
    ).first()
    if found is None:
        log.info("inbox row %s is gone; nothing to do", entry_id)
        return "gone"
    entry, connection = found
    if entry.status != "pending":
        return entry.status  # done by an earlier run: a rerun changes nothing
    try:
        payload = json.loads(entry.body) if entry.body else None
    except ValueError as exc:
        raise PermanentError(f"the body is not JSON: {exc}") from None
    records = hub.pm.hook.webhook_records(
        hub=hub,
        connection=connection,
        topic=entry.topic,
        payload=payload,
        headers=Headers(entry.headers or {}),
    )
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
