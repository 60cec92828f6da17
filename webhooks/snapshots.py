"""Connections the intake has read, kept per process, and the insert that proves one current.

Each process keeps the last row it read of each active connection it has
received for, and verifies deliveries against it. The inbox insert stores a
row only when the connection's row in the database is the very version the
snapshot was read from (its ``xmin`` on PostgreSQL; every column equal on
SQLite), in the same statement. A snapshot is trusted for an hour at most.
When the row has changed (the connection was changed, disabled or deleted,
its secret rotated), nothing is stored and the intake reads the connection
afresh (``webhooks.intake``): a stale snapshot never accepts a delivery the
current connection would refuse.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import inspect
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from hub import Connection
from hub import Hub
from hub import utcnow
from webhooks.models import InboxEntry

log = logging.getLogger(__name__)

#: Connections remembered per process; the least recently used go first.
MAX_SNAPSHOTS = 1024
#: A snapshot is read afresh after this long, whatever happens: ``xmin`` values wrap
#: around after about four billion transactions, so none may be trusted forever.
MAX_AGE_SECONDS = 3600
#: The inbox columns the intake writes, in the order of the insert.
_INBOX_COLUMNS = (
    "merchant_id",
    "connection_id",
    "connector",
    "delivery_id",
    "topic",
    "headers",
    "body",
    "status",
    "attempts",
    "received_at",
)


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


def store_if_current(hub: Hub, snapshot: Snapshot, values: dict[str, Any]) -> int | None:
    """Insert an inbox row if the connection is still exactly ``snapshot``; return its id.

    Returns None when nothing was inserted: the connection changed since the
    snapshot, or the delivery is already in the inbox, or the thread's own
    connection failed (it is replaced for the next statement). On PostgreSQL
    the insert is one autocommitted statement on the thread's own driver
    connection: alone it is atomic, with no BEGIN and COMMIT round trips and no
    pool checkout around it.
    """
    if hub.db.is_sqlite:
        params = {f"new_{name}": values[name] for name in _INBOX_COLUMNS if name != "received_at"}
        params["new_received_at"] = utcnow()
        params.update({f"seen_{name}": value for name, value in snapshot.row.items()})
        with hub.db.transaction() as session:
            return session.execute(_guarded_insert("sqlite"), params).scalar_one_or_none()
    # The statement is compiled once and run as a prepared statement of the protocol
    # (``run_prepared``), with no per-execution work of SQLAlchemy or of the driver's
    # cursor. The casts in the text type every value; JSON goes as JSON text. The guard
    # is the row's version, not its columns.
    sql, new_columns = _positional_sql(hub.db.engine.dialect)
    new = {**values, "headers": json.dumps(values["headers"]), "received_at": utcnow()}
    args = (*(new[name] for name in new_columns), snapshot.row["id"], snapshot.version)
    try:
        with hub.db.driver_connection() as connection:
            rows = hub.db.run_prepared(connection, "hub_intake_insert", sql, args)
    except hub.db.driver_error as exc:
        # A connection the server dropped, say: the caller reads the connection and stores again.
        log.warning("the intake's own connection failed (%s)", exc)
        return None
    return int(rows[0][0]) if rows else None  # no row: changed connection or duplicate


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


@functools.cache
def _positional_sql(dialect: Any) -> tuple[str, tuple[str, ...]]:
    """The guarded insert's SQL with ``%s`` placeholders and the inbox columns its first
    parameters come from; the last two are the connection's id and row version."""
    compiled = str(_guarded_insert("postgresql").compile(dialect=dialect))
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "%s"

    sql = re.sub(r"%\((\w+)\)s", positional, compiled)
    new = [name for name in names if name.startswith("new_")]
    if names != [*new, "seen_id", "seen_version"]:
        raise RuntimeError(f"unexpected parameters in the guarded insert: {names}")
    return sql, tuple(name[4:] for name in new)


@functools.cache
def _guarded_insert(dialect_name: str) -> Any:
    """``INSERT INTO webhook_inbox ... SELECT <values> FROM connections WHERE <row unchanged>
    ON CONFLICT DO NOTHING RETURNING id``, built once per dialect.

    On PostgreSQL "unchanged" is the row version (``xmin``) the snapshot was read
    with; on SQLite, which has none, every column equal to the snapshot's.
    """
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    inbox = InboxEntry.__table__
    connections = Connection.__table__
    if dialect_name == "postgresql":
        unchanged = [
            text("connections.xmin = CAST(:seen_version AS xid)").bindparams(
                bindparam("seen_version", type_=String)
            )
        ]
    else:
        unchanged = [
            column.is_not_distinct_from(bindparam(f"seen_{column.name}", type_=column.type))
            for column in connections.c
            if column.name != "id"
        ]
    values = select(
        *(bindparam(f"new_{name}", type_=inbox.c[name].type).label(name) for name in _INBOX_COLUMNS)
    ).where(connections.c.id == bindparam("seen_id", type_=connections.c.id.type), *unchanged)
    return (
        dialect.insert(inbox)
        .from_select(list(_INBOX_COLUMNS), values)
        .on_conflict_do_nothing(index_elements=["connection_id", "delivery_id"])
        .returning(inbox.c.id)
    )
