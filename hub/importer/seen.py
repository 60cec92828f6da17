"""The phones and emails an import has read so far, and the line each was first on.

Kept in a private SQLite database on disk, not in a dict: a file of a million
rows has two million of them, and the import's memory stays the same whatever
the file's length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

#: Keys asked about in one statement (SQLite's limit on parameters is far above it).
_PER_QUERY = 500


class SeenKeys:
    """First lines of keys (a phone or an email), asked about and added a batch at a time."""

    def __init__(self) -> None:
        # An empty name opens a temporary database that SQLite deletes when it is closed;
        # it lives in SQLite's page cache until that is full, then on disk.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def first_lines(self, keys: Iterable[str]) -> dict[str, int]:
        """The line each of ``keys`` was first added on, for those added before."""
        keys = list(keys)
        found: dict[str, int] = {}
        for start in range(0, len(keys), _PER_QUERY):
            part = keys[start : start + _PER_QUERY]
            marks = ",".join("?" * len(part))
            found.update(
                self._db.execute(f"SELECT key, line FROM seen WHERE key IN ({marks})", part)
            )
        return found

    def add(self, lines: Iterable[tuple[str, int]]) -> None:
        """Remember each (key, line); a key already there keeps its first line."""
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO seen (key, line) VALUES (?, ?)", lines)
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
