"""Member import throughput and memory, beside a bare bulk insert of the same rows in the same run.

    .venv/bin/python -m bench.importer [--database postgresql|sqlite] [--rows N]
                                       [--points-share 0.1]

Generates N rows (default 1,000,000 on PostgreSQL, 200,000 on SQLite) of
phone, email, name, birthday, opening points (on ``--points-share`` of the
rows) and total spent, written to a CSV file as Vietnamese Excel users name
the columns (``sdt``, ``email``, ``ho_ten``, ``ngay_sinh``, ``diem``,
``tong_chi_tieu``), and imports it with ``hub.importer.import_members``
(the file checked and counted, then read again, rows parsed and phones
normalised, members written, events, opening points through the ledger).
The baseline inserts the same members, already normalised, into the members
table with the driver's ``executemany`` in chunks of the same size, and
nothing else. Peak memory is the growth of the process's peak resident set
(``ru_maxrss``) over the import: run it at 100,000 and at 1,000,000 rows to
see that it does not grow with the file.

Only the core's plugins are loaded (no ``handle_event`` runs; events are
written and marked dispatched as in production). PostgreSQL is the server in
HUB_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test);
the benchmark creates its own database there and drops it at the end.
Targets on a 2-core machine: 1,000,000 rows in at most 60 s on PostgreSQL,
at least 20,000 rows/s on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from hub.folding import fold
from hub.importer import import_members
from hub.importer.running import CHUNK
from hub.merchants.accounts import create_merchant
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = {
    "HUB_LOAD_ENTRYPOINTS": False,
    "HUB_DISABLE_PLUGINS": "hub.messaging.plugin",
    "HUB_LOG_LEVEL": "WARNING",
}
HEADERS = ["sdt", "email", "ho_ten", "ngay_sinh", "diem", "tong_chi_tieu"]
NAMES = ("Nguyễn Thị Lan", "Trần Văn Đức", "Lê Ánh Dương", "Phạm Minh Châu", "Võ Thị Hồng")


def rows(count: int, points_share: float) -> Iterator[list[str]]:
    """The same ``count`` rows on every call: unique mobile numbers and emails."""
    draw = random.Random(19)
    for n in range(count):
        points = str(draw.randrange(1, 5000)) if draw.random() < points_share else ""
        yield [
            f"09{10_000_000 + n}",
            f"khach{n}@example.vn",
            draw.choice(NAMES),
            f"{draw.randrange(1, 29):02d}/{draw.randrange(1, 13):02d}/{draw.randrange(1960, 2005)}",
            points,
            str(draw.randrange(0, 50) * 10_000),
        ]


def write_file(path: Path, count: int, points_share: float) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows(count, points_share))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_import(url: str, path: Path, count: int) -> tuple[float, float]:
    """Import the file; return (seconds, peak RSS growth in MiB)."""
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    with hub.db.transaction() as session:
        merchant_id = create_merchant(session, "Import bench").id
    before = peak_rss_mib()
    started = time.perf_counter()
    with app.app_context():
        report = import_members(hub, merchant_id, path, errors_path=path.with_suffix(".err"))
    seconds = time.perf_counter() - started
    growth = peak_rss_mib() - before
    assert report.created == count and report.rejected == 0, report
    hub.db.dispose()
    return seconds, growth


def bare_rows(count: int, points_share: float, merchant_id: int) -> Iterator[tuple]:
    for n, row in enumerate(rows(count, points_share)):
        day, month, year = row[3].split("/")
        yield (
            merchant_id, f"B{n:07d}", "+84" + row[0][1:], row[1], row[2], fold(row[2]),
            f"{year}-{month}-{day}", "[]", "{}", 0, row[5], "active",
        )  # fmt: skip


BARE_INSERT = (
    "INSERT INTO members (merchant_id, code, phone, email, name, search_name, birthday, tags, "
    "attributes, points_balance, total_spent, status, created_at, updated_at) "
    "VALUES ({0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {1}, {1})"
)


def run_bare(url: str, count: int, points_share: float) -> float:
    """Insert the same members with the driver alone, in chunks; return seconds."""
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    with hub.db.transaction() as session:
        merchant_id = create_merchant(session, "Bare bench").id
    hub.db.dispose()
    started = time.perf_counter()
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database, isolation_level=None)
        connection.execute("PRAGMA synchronous=NORMAL")
        sql = BARE_INSERT.format("?", "datetime('now')")
    else:
        connection = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        sql = BARE_INSERT.format("%s", "now()")
    chunk: list[tuple] = []
    for values in bare_rows(count, points_share, merchant_id):
        chunk.append(values)
        if len(chunk) == CHUNK:
            _commit_chunk(connection, sql, chunk)
            chunk = []
    _commit_chunk(connection, sql, chunk)
    connection.close()
    return time.perf_counter() - started


def _commit_chunk(connection, sql: str, chunk: list[tuple]) -> None:
    if isinstance(connection, sqlite3.Connection):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(sql, chunk)
        connection.execute("COMMIT")
    else:
        with connection.transaction(), connection.cursor() as cursor:
            cursor.executemany(sql, chunk)


def report(database: str, count: int, share: float, seconds: float, bare: float, rss: float):
    print(
        f"{database}: {count:,} rows ({share:.0%} with opening points) imported in "
        f"{seconds:.1f} s = {count / seconds:,.0f} rows/s; bare bulk insert "
        f"{count / bare:,.0f} rows/s; import/bare ratio {bare / seconds:.2f}; "
        f"peak RSS growth {rss:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rows", type=int, help="default 1,000,000 (PostgreSQL), 200,000")
    parser.add_argument("--points-share", type=float, default=0.1)
    args = parser.parse_args()
    count = args.rows or (1_000_000 if args.database == "postgresql" else 200_000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members.csv"
        write_file(path, count, args.points_share)
        if args.database == "sqlite":
            url = f"sqlite:///{folder}/bench.db"
            admin = name = None
        else:
            admin = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
            name = f"bench_import_{uuid.uuid4().hex[:8]}"
            url = create_postgres_database(admin, name)
        try:
            migrate(url)
            seconds, rss = run_import(url, path, count)
            bare = run_bare(url, count, args.points_share)
        finally:
            if name is not None:
                drop_postgres_database(admin, name)
    report(args.database, count, args.points_share, seconds, bare, rss)


if __name__ == "__main__":
    main()
