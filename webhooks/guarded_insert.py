"""The inbox insert that stores a delivery only while its connection is unchanged.

The insert stores a row only when the connection's row in the database is the
very version the intake's snapshot was read from (its ``xmin`` on PostgreSQL;
every column equal on SQLite), in the same statement, and at most once per
(connection, delivery id).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any

from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from hub import Connection
from hub import Hub
from hub import utcnow
from webhooks.models import InboxEntry
from webhooks.snapshots import Snapshot

log = logging.getLogger(__name__)

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
