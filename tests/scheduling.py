"""Which tests each lane of ``scripts/test`` runs, and in what order.

Two rules, applied to the collected tests:

- A test that asks for no database (no fixture of its reaches ``hub_database``)
  cannot see which database the run is on, so it is marked ``db_agnostic`` and
  only one lane runs it: the SQLite lane, unless it is also marked
  ``postgres_lane`` (a few long files, so that both lanes end about together).
- The longest tests (marked ``long`` with their seconds on an idle machine) go
  first, longest first, and are dealt out one per test process: a long test
  started last would keep its process busy after the others have finished.
  pytest-xdist's ``load`` scheduling hands each process a first run of
  consecutive tests, ``len(items) // processes // 4`` of them (at least 2), so
  the long tests are placed at the head of each process's first run.
"""

from __future__ import annotations

import os

import pytest

DATABASE_FIXTURE = "hub_database"


def mark_tests_without_a_database(items: list[pytest.Item]) -> None:
    """Mark ``db_agnostic`` every test whose fixtures never reach the test database."""
    for item in items:
        if DATABASE_FIXTURE not in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db_agnostic)


def check_lane_marks(items: list[pytest.Item]) -> None:
    """A test that only the PostgreSQL lane runs must be one the database cannot change."""
    wrong = [
        item.nodeid
        for item in items
        if item.get_closest_marker("postgres_lane") and not item.get_closest_marker("db_agnostic")
    ]
    if wrong:
        raise pytest.UsageError(f"marked postgres_lane but not db_agnostic: {', '.join(wrong)}")


def expected_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("long")
    return float(marker.args[0]) if marker and marker.args else 0.0


def first_run_length(total: int, processes: int) -> int:
    """How many consecutive tests xdist's ``load`` scheduling gives each process first."""
    return max(total // processes // 4, 2)


def long_tests_first(items: list[pytest.Item], processes: int) -> list[pytest.Item]:
    """Reorder ``items``: the long tests, longest first, at the head of each process's run."""
    long = sorted((i for i in items if expected_seconds(i) > 0), key=expected_seconds)
    long.reverse()
    if not long:
        return items
    rest = [i for i in items if expected_seconds(i) == 0]
    processes = max(processes, 1)
    run = first_run_length(len(items), processes)
    slots = {(n % processes) * run + n // processes: test for n, test in enumerate(long)}
    if len(slots) < len(long) or max(slots) >= len(items):
        return long + rest  # too few tests to deal out: the long ones simply go first
    ordered: list[pytest.Item] = []
    remaining = iter(rest)
    for position in range(len(items)):
        test = slots.get(position)
        ordered.append(test if test is not None else next(remaining))
    return ordered


def process_count() -> int:
    """How many test processes share the run (1 without pytest-xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)


class LongTestsFirst:
    """Puts the long tests first, once ``-m`` and ``-k`` have deselected what they will."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items[:] = long_tests_first(items, process_count())
