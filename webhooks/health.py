"""What a merchant sees of a connection's inbound deliveries: when, how many wait, what failed.

``connection_health`` reads the inbox with one small query per kind of figure,
each through an index: the waiting rows and the failed rows through their
partial indexes, the latest delivery through the primary key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import DeliveryHealth
from hub import Hub
from webhooks.models import InboxEntry
from webhooks.sweep import replay_entry

#: The most failed rows one replay queues; a merchant presses again for more.
REPLAY_LIMIT = 500


def _counts(session: Session, ids: list[int], status: str) -> dict[int, int]:
    rows = session.execute(
        select(InboxEntry.connection_id, func.count())
        .where(InboxEntry.connection_id.in_(ids), InboxEntry.status == status)
        .group_by(InboxEntry.connection_id)
    )
    return dict(rows.all())


def _last_failures(session: Session, ids: list[int]) -> dict[int, tuple[str | None, datetime]]:
    latest = (
        select(func.max(InboxEntry.id))
        .where(InboxEntry.connection_id.in_(ids), InboxEntry.status == "failed")
        .group_by(InboxEntry.connection_id)
    )
    rows = session.execute(
        select(InboxEntry.connection_id, InboxEntry.error, InboxEntry.received_at).where(
            InboxEntry.id.in_(latest)
        )
    )
    return {connection_id: (error, at) for connection_id, error, at in rows}


def _last_received(session: Session, connection_id: int) -> datetime | None:
    return session.scalar(
        select(InboxEntry.received_at)
        .where(InboxEntry.connection_id == connection_id)
        .order_by(InboxEntry.id.desc())
        .limit(1)
    )


def inbox_health(
    session: Session, merchant_id: int, connection_ids: list[int]
) -> dict[int, DeliveryHealth]:
    """Return the inbox's figures for the merchant's connections among ``connection_ids``."""
    ids = list(connection_ids)
    if not ids:
        return {}
    waiting = _counts(session, ids, "pending")
    failed = _counts(session, ids, "failed")
    failures = _last_failures(session, ids)
    health = {}
    for connection_id in ids:
        error, error_at = failures.get(connection_id, (None, None))
        health[connection_id] = DeliveryHealth(
            last_received_at=_last_received(session, connection_id),
            backlog=waiting.get(connection_id, 0),
            failed=failed.get(connection_id, 0),
            last_error=error,
            last_error_at=error_at,
        )
    return health


def replay_failed(hub: Hub, merchant_id: int, connection_id: int) -> int:
    """Queue the connection's failed rows again, oldest first; return how many."""
    with hub.db.session() as session:
        ids = list(
            session.scalars(
                select(InboxEntry.id)
                .where(
                    InboxEntry.connection_id == connection_id,
                    InboxEntry.merchant_id == merchant_id,
                    InboxEntry.status == "failed",
                )
                .order_by(InboxEntry.id)
                .limit(REPLAY_LIMIT)
            )
        )
    for entry_id in ids:
        replay_entry(hub, entry_id)
    return len(ids)
