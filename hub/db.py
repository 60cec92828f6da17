"""Database engine, sessions and column types shared by every table.

PostgreSQL in production, SQLite as the embedded default: one schema through
SQLAlchemy 2. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``
so two writers queue on the lock instead of failing with SQLITE_BUSY when a
deferred read transaction tries to upgrade.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import TypeVar

from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import DateTime
from sqlalchemy import Engine
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import any_
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    """Base class of every table, the core's and plugins' alike."""

    metadata = MetaData(naming_convention=NAMING)


# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")

JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


#: The easternmost civil time (UTC+14): where a calendar day begins first.
EARLIEST_OFFSET = timedelta(hours=14)


def latest_today() -> date:
    """Today's date where it is latest on Earth (UTC+14).

    A date after this is in the future for everybody, whatever their timezone:
    the bound for "not in the future" checks on dates a person gives (a
    birthday), which come without a timezone.
    """
    return (utcnow() + EARLIEST_OFFSET).date()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite has no timezone type, so values are stored as naive UTC there and
    made aware again on the way out. Naive values are refused on the way in:
    a naive time is a bug waiting to show up in another timezone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator):
    """An exact decimal amount: NUMERIC(20, 4) on PostgreSQL, text on SQLite.

    SQLite's NUMERIC affinity would store floats; text keeps every digit.
    """

    impl = Numeric(20, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(20, 4, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, never float")
        amount = Decimal(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).normalize() if dialect.name == "sqlite" else Decimal(value)


class Database:
    """One engine and two session factories: reads, and writes that lock early."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        max_overflow: int = 20,
        pre_ping: bool = False,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pre_ping=pre_ping
        )
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(hub_write=True)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)
        self._idle: list[tuple[int, Any, float]] = []
        self._idle_size = pool_size
        self._idle_lock = threading.Lock()
        self._leases: dict[int, float] = {}

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session for reading; it is rolled back and closed afterwards."""
        session = self._reader()
        try:
            yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session inside a write transaction, committed on success.

        Anything raised inside rolls the whole transaction back: nothing is
        half-written.
        """
        session = self._writer()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def driver_connection(self) -> Iterator[Any]:
        """Yield a driver connection of the hub's own, in autocommit mode (PostgreSQL only).

        For a hot path that sends one statement, atomic alone, and wants none of
        the pool's checkout, reset and isolation-level work around it. The
        connections wait in a stack of their own, at most ``pool_size`` idle;
        one is replaced after an hour, and after any error of the driver (a
        dropped connection fails the statement that finds out, never the next).
        """
        if self.is_sqlite:
            raise RuntimeError("driver_connection is for PostgreSQL")
        connection = self._idle_connection() or self._connect()
        try:
            yield connection
        except self.driver_error:
            with contextlib.suppress(Exception):
                connection.close()
            raise
        finally:
            self._give_back(connection)

    def run_prepared(
        self, connection: Any, name: str, sql: str, args: Sequence[Any]
    ) -> list[tuple[bytes | None, ...]]:
        """Run ``sql`` on a ``driver_connection`` as the prepared statement ``name``;
        return its rows, each value as the server's text (None for NULL).

        For the hottest statements: the statement is prepared once per
        connection, then each call is one blocking round trip of the protocol
        (the driver releases the GIL while it waits), with none of the
        driver's cursor, adaptation and result-conversion work. ``sql`` has
        ``%s`` placeholders and should cast each one; values go as text,
        except ``bytes``, which go as ``bytea`` in binary. Values may be None,
        str, int, bool, Decimal, timezone-aware datetimes or bytes. A failed
        statement raises ``driver_error``, so ``driver_connection`` replaces
        the connection.
        """
        pgconn = connection.pgconn
        key = name.encode()
        params = [_wire(value) for value in args]
        formats = [1 if type(value) is bytes else 0 for value in args]
        prepared = _PREPARED.get(connection)
        if prepared is None:
            prepared = _PREPARED[connection] = set()
        if name not in prepared:
            types = [_BYTEA if type(value) is bytes else 0 for value in args]
            result = pgconn.prepare(key, _numbered(sql).encode(), types)
            self._check(result)
            prepared.add(name)
        result = pgconn.exec_prepared(key, params, formats)
        self._check(result)
        return [
            tuple(result.get_value(row, column) for column in range(result.nfields))
            for row in range(result.ntuples)
        ]

    def _check(self, result: Any) -> None:
        if result.status not in _SUCCESS:
            message = (result.error_message or b"the statement failed").decode(errors="replace")
            raise self.engine.dialect.loaded_dbapi.DatabaseError(message.strip())

    @property
    def driver_error(self) -> type[Exception]:
        """The driver's base exception: what a statement on ``driver_connection`` raises."""
        return self.engine.dialect.loaded_dbapi.Error

    def _idle_connection(self) -> Any | None:
        now = time.monotonic()
        with self._idle_lock:
            while self._idle:
                pid, connection, until = self._idle.pop()
                if pid != os.getpid():
                    # Opened before a fork: closing it here would end the parent's session.
                    _INHERITED.append(connection)
                    self._idle.clear()
                    return None
                if until > now and not connection.closed:
                    self._leases[id(connection)] = until
                    return connection
                with contextlib.suppress(Exception):
                    connection.close()
        return None

    def _connect(self) -> Any:
        dialect = self.engine.dialect
        args, kwargs = dialect.create_connect_args(self.engine.url)
        connection = dialect.loaded_dbapi.connect(*args, **kwargs)
        connection.autocommit = True
        with self._idle_lock:
            self._leases[id(connection)] = time.monotonic() + _RECYCLE
        return connection

    def _give_back(self, connection: Any) -> None:
        with self._idle_lock:
            until = self._leases.pop(id(connection), 0.0)
            reusable = (
                not connection.closed
                and connection.pgconn.transaction_status == _IDLE
                and len(self._idle) < self._idle_size
            )
            if reusable:
                self._idle.append((os.getpid(), connection, until))
                return
        with contextlib.suppress(Exception):
            connection.close()

    def refresh_statistics(self, table: Table) -> None:
        """Have the database sample ``table`` again (``ANALYZE``), for a table a bulk
        write has grown faster than the server's own sampling follows.

        PostgreSQL plans from these statistics: while they still count a merchant's
        rows as few, a lookup by phone reads every row of the merchant instead of
        the phone's index. SQLite plans from its indexes alone here, so it is left be.
        """
        if self.is_sqlite:
            return
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"ANALYZE {table.name}")
            connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for pid, connection, _ in idle:
            if pid == os.getpid():
                with contextlib.suppress(Exception):
                    connection.close()


#: Seconds a pooled or a hub's own driver connection is used before it is replaced.
_RECYCLE = 3600
#: libpq's PQTRANS_IDLE: a driver connection in no transaction, fit to reuse.
_IDLE = 0
#: Driver connections a forked child found idle: its parent's, never closed here.
_INHERITED: list[Any] = []
#: The statements ``run_prepared`` has prepared, by driver connection.
_PREPARED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
#: libpq's PGRES_COMMAND_OK and PGRES_TUPLES_OK.
_SUCCESS = (1, 2)
#: PostgreSQL's type oid of ``bytea``.
_BYTEA = 17


@functools.cache
def _numbered(sql: str) -> str:
    """``sql`` with its ``%s`` placeholders numbered as the protocol wants: ``$1``, ``$2``..."""
    if "%%" in sql:
        raise ValueError("run_prepared takes no literal % in its SQL")
    parts = sql.split("%s")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


def _wire(value: Any) -> bytes | None:
    """One parameter of ``run_prepared`` as the bytes sent for it (``bytes`` as they are)."""
    kind = type(value)
    if kind is str:
        return value.encode()
    if value is None or kind is bytes:
        return value
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("run_prepared takes timezone-aware datetimes only")
        return value.isoformat().encode()
    if isinstance(value, str | int | Decimal):
        return str(value).encode()
    raise TypeError(f"run_prepared cannot send a {type(value).__name__}")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
    pre_ping: bool = False,
) -> Engine:
    """Create the engine, with the SQLite settings that make it a fair embedded default.

    Pooled PostgreSQL connections are tested before each checkout only with
    ``pre_ping``. Without it, a connection the
    server dropped (a restart, a failover) fails the one statement that finds
    out; SQLAlchemy then discards every connection of the pool opened before,
    and the caller's retry (a job, a platform's webhook redelivery) goes
    through. Connections are replaced after an hour in any case.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=_RECYCLE,
    )


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling issues BEGIN lazily and never
    # IMMEDIATE; take it over, as the SQLAlchemy docs recommend
    # (dialects/sqlite, "Serializable isolation / Savepoints / Transactional DDL").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("hub_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@functools.cache
def _insert_returning(table: Table) -> Any:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def insert_returning_ids(
    session: Session, table: Table, rows: list[dict[str, Any]], *, json: tuple[str, ...] = ()
) -> list[int]:
    """INSERT ``rows`` (all with the same columns) into ``table``; return their ids, in order.

    On PostgreSQL the rows go as one statement whatever their number, each
    column as one array (``_pg_insert``); on SQLite as multi-row INSERTs
    (``_sqlite_insert_ids``). ``json`` names the JSON columns.
    """
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        return _sqlite_insert_ids(session, table, rows)
    if dialect.name != "postgresql":
        return list(session.connection().execute(_insert_returning(table), rows).scalars())
    return _pg_insert(session, table, rows, json, returning=True)


def insert_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], *, json: tuple[str, ...] = ()
) -> None:
    """INSERT ``rows`` (all with the same columns) into ``table``, as few statements as
    ``insert_returning_ids`` sends, returning nothing."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _pg_insert(session, table, rows, json, returning=False)
    else:
        session.connection().execute(insert(table), rows)


def _pg_insert(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    json: tuple[str, ...],
    *,
    returning: bool,
) -> list[int]:
    """INSERT the rows as one ``INSERT ... SELECT FROM unnest(arrays)`` statement.

    Planned once per column set and sent with one array per column: the
    statement's text is the same whatever the number of rows. The rows are
    inserted in their order (``ORDER BY`` their ordinal), so the ids the
    table's sequence gives them rise with it, whatever other transactions
    draw meanwhile, and the ids returned, sorted, are the rows' ids in order.
    Values go through their columns' bind processors; all go in binary.
    """
    from psycopg.types.json import Jsonb

    columns = tuple(rows[0])
    json_columns = frozenset(json) & frozenset(columns)
    one = len(rows) == 1
    sql = _pg_insert_sql(table, columns, json_columns, returning, one)
    processors = _pg_bind_processors(table, columns, json_columns)
    arrays = [
        [Jsonb(row[c]) for row in rows]
        if c in json_columns
        else [process(row[c]) for row in rows]
        if process
        else [row[c] for row in rows]
        for c, process in zip(columns, processors, strict=True)
    ]
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(sql, [a[0] for a in arrays] if one else arrays, prepare=True)
        return sorted(row[0] for row in cursor.fetchall()) if returning else []


@functools.cache
def _pg_bind_processors(
    table: Table, columns: tuple[str, ...], json: frozenset[str]
) -> list[Callable[[Any], Any] | None]:
    """Each column's own bind processor (the hub's types check their values: a naive
    time or a float amount is refused here as in any other statement), None for JSON."""
    dialect = postgresql.psycopg.dialect()
    return [
        None if c in json else table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
        for c in columns
    ]


@functools.cache
def _pg_insert_sql(
    table: Table, columns: tuple[str, ...], json: frozenset[str], returning: bool, one: bool
) -> str:
    """The INSERT of ``_pg_insert``; for one row (``one``), a plain VALUES list of it."""
    dialect = postgresql.dialect()
    types = [table.c[c].type.dialect_impl(dialect).compile(dialect) for c in columns]
    into = f"INSERT INTO {table.name} ({', '.join(columns)}) "
    back = " RETURNING id" if returning else ""
    if one:
        return into + f"VALUES ({', '.join(f'%b::{t}' for t in types)})" + back
    names = ", ".join(f"c{n}" for n in range(len(columns)))
    arrays = ", ".join(f"%b::{t}[]" for t in types)
    return (
        into + f"SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS u({names}, n) "
        "ORDER BY u.n" + back
    )


def any_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` as a condition: on PostgreSQL ``column = ANY(array)``, one
    parameter whatever the number of values (the statement is planned once and its
    text stays short); on SQLite an expanding ``IN``."""
    if session.get_bind().dialect.name == "postgresql":
        array = ARRAY(column.type)
        return column == any_(cast(bindparam(None, list(values), type_=array), array))
    return column.in_(list(values))


def _sqlite_insert_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT the rows with as few multi-row statements as SQLite's variable limit allows.

    SQLAlchemy would send one statement per row here, since SQLite does not
    promise the order of RETURNING. The ids are put in order instead: SQLite
    has one writer at a time, so the rows of one statement take consecutive
    rowids in the order of its VALUES, and sorting the returned ids gives the
    rows' order. Values go through each column's own bind processor, as
    SQLAlchemy would pass them.
    """
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    driver = session.connection().connection.driver_connection
    per_statement = max(1, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns))
    one_row = f"({', '.join(['?'] * len(columns))})"
    ids: list[int] = []
    cursor = driver.cursor()
    try:
        for start in range(0, len(rows), per_statement):
            page = rows[start : start + per_statement]
            values = [
                (process(row[name]) if process else row[name])
                for row in page
                for name, process in zip(columns, processors, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES {', '.join([one_row] * len(page))} RETURNING id",
                values,
            )
            ids.extend(sorted(row[0] for row in cursor.fetchall()))
    finally:
        cursor.close()
    return ids


def per_transaction(session: Session, key: str, factory: Callable[[], T]) -> T:
    """An object kept in ``session.info`` under ``key`` for the current transaction only:
    a new one from ``factory`` once that transaction has ended."""
    transaction = session.get_transaction()
    kept = session.info.get(key)
    if kept is None or kept[0] is not transaction:
        kept = session.info[key] = (transaction, factory())
    return kept[1]
