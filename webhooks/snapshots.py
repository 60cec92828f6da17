"""Connections the intake has read, kept per process: the one place it gets a connection.

Each process keeps the last row it read of each active connection it has
received for, and verifies deliveries against it. The inbox insert
(``webhooks.guarded_insert``) stores a row only when the connection's row in
the database is the very version the snapshot was read from (its ``xmin``
on PostgreSQL; every column equal on SQLite), in the same statement. A
snapshot is trusted for an hour at most. When the row has changed (the
connection was changed, disabled or deleted, its secret rotated), nothing is
stored and the intake reads the connection afresh (``snapshot_for``): a stale
snapshot never accepts a delivery the current connection would refuse.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import Connection
from hub import Hub
from hub import NotFound

log = logging.getLogger(__name__)

#: Connections remembered per process; the least recently used go first.
MAX_SNAPSHOTS = 1024
#: A snapshot is read afresh after this long, whatever happens: ``xmin`` values wrap
#: around after about four billion transactions, so none may be trusted forever.
MAX_AGE_SECONDS = 3600
#: The largest connection id a delivery's URL can name (a PostgreSQL bigint).
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Snapshot:
    """One connection as a process last read it: the object the hooks get, and its row.

    ``version`` is the row version's ``xmin`` on PostgreSQL, read in the same
    statement as the row: every update of the row makes a new version with
    its own ``xmin``, so an equal ``xmin`` proves the row unchanged.
    """

    connection: Connection
    row: dict[str, Any]
    version: str | None = None
    taken_at: float = field(default_factory=time.monotonic, compare=False)


class Snapshots:
    """The connections one process has seen, by (connector, connection id)."""

    def __init__(self, size: int = MAX_SNAPSHOTS) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], Snapshot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, connector: str, connection_id: int) -> Snapshot | None:
        with self._lock:
            snapshot = self._items.get((connector, connection_id))
            if snapshot is None:
                return None
            if time.monotonic() - snapshot.taken_at > MAX_AGE_SECONDS:
                del self._items[(connector, connection_id)]
                return None
            self._items.move_to_end((connector, connection_id))
            return snapshot

    def remember(self, connection: Connection, version: str | None = None) -> Snapshot:
        """Return the snapshot of a connection just read from the database, kept when the
        connection is active (another is forgotten).

        ``version``: the row's ``xmin``, read with it (``read_current``), on PostgreSQL.
        """
        key = (connection.connector, connection.id)
        values = {prop.key: getattr(connection, prop.key) for prop in _column_props()}
        # A copy of its own, in no session: a rollback of the request that read the row
        # (a refused delivery) expires the original, never this one.
        copy = Connection(**values)
        row = {prop.columns[0].name: values[prop.key] for prop in _column_props()}
        snapshot = Snapshot(copy, row, version)
        if connection.status != "active":
            self.forget(*key)
            return snapshot
        with self._lock:
            self._items[key] = snapshot
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return snapshot

    def forget(self, connector: str, connection_id: int) -> None:
        with self._lock:
            self._items.pop((connector, connection_id), None)


def snapshots_of(hub: Hub) -> Snapshots:
    """Return this app's snapshots (one set per app, so per process and per test app)."""
    snapshots = hub.app.extensions.get("webhooks_connection_snapshots")
    if snapshots is None:
        snapshots = hub.app.extensions.setdefault("webhooks_connection_snapshots", Snapshots())
    return snapshots


@functools.cache
def _column_props() -> tuple[Any, ...]:
    return tuple(inspect(Connection).column_attrs)


def read_current(session: Session, connection_id: int) -> tuple[Connection | None, str | None]:
    """Read a connection afresh, with its row version (``xmin``) on PostgreSQL, in one statement."""
    if session.get_bind().dialect.name != "postgresql":
        return session.get(Connection, connection_id, populate_existing=True), None
    row = session.execute(
        select(Connection, literal_column("connections.xmin::text").label("version"))
        .where(Connection.id == connection_id)
        .execution_options(populate_existing=True)
    ).first()
    return (None, None) if row is None else (row[0], row[1])


def snapshot_for(
    hub: Hub, connector: str, connection_id: int, *, app_wide: bool, afresh: bool = False
) -> tuple[Snapshot, bool]:
    """The connection as this process remembers it, else read afresh and remembered.

    Answers the snapshot and whether it was read afresh; ``afresh`` forgets the
    remembered one first. 404 (``read_afresh``) unless the connection takes the delivery.
    """
    snapshots = snapshots_of(hub)
    if afresh:
        snapshots.forget(connector, connection_id)
    else:
        snapshot = snapshots.get(connector, connection_id)
        if snapshot is not None:
            return snapshot, False
    return read_afresh(hub, connector, connection_id, app_wide=app_wide), True


def read_afresh(hub: Hub, connector: str, connection_id: int, *, app_wide: bool) -> Snapshot:
    """Read the connection afresh and remember it; 404 unless it takes this delivery.

    A connection's own URL takes deliveries while the connection is active; the
    app-wide URL also for a disabled one (a store that uninstalled still sends
    its privacy requests).
    """
    connection, version = None, None
    if connection_id <= MAX_ID and connector in hub.connectors:
        with hub.db.session() as session:
            connection, version = read_current(session, connection_id)
    usable = ("active", "disabled") if app_wide else ("active",)
    if connection is None or connection.connector != connector or connection.status not in usable:
        snapshots_of(hub).forget(connector, connection_id)
        if app_wide:
            raise NotFound(
                f"no {connector} connection for the store this delivery names; "
                "connect the store first",
                code="connection_not_found",
            )
        raise NotFound(
            f"no active {connector} connection {connection_id}; check the webhook URL",
            code="connection_not_found",
        )
    return snapshots_of(hub).remember(connection, version)
