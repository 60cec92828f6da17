"""The inbox's backlog for ``/metrics``: deliveries waiting per connector, and the oldest's age."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func
from sqlalchemy import select

from hub import GaugeReading
from hub import Hub
from hub import utcnow
from webhooks.models import InboxEntry


def inbox_backlog(hub: Hub) -> Iterator[GaugeReading]:
    """Read the waiting rows through the partial index of pending rows: one small query."""
    query = (
        select(InboxEntry.connector, func.count(), func.min(InboxEntry.received_at))
        .where(InboxEntry.status == "pending")
        .group_by(InboxEntry.connector)
    )
    now = utcnow()
    with hub.db.session() as session:
        rows = session.execute(query).all()
    for connector, waiting, oldest in rows:
        labels = {"connector": connector}
        yield GaugeReading(
            "hub_webhook_inbox_backlog", "Inbound deliveries waiting to be processed",
            waiting, labels,
        )  # fmt: skip
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeReading(
            "hub_webhook_inbox_oldest_age_seconds",
            "Age of the oldest inbound delivery still waiting",
            max(age, 0.0),
            labels,
        )
