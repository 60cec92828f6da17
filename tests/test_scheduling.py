"""The lanes of scripts/test: a test that only the PostgreSQL lane runs is db_agnostic."""

import pytest
import scheduling

pytestmark = pytest.mark.db_agnostic


class _Item:
    def __init__(self, nodeid: str, *marks: str) -> None:
        self.nodeid = nodeid
        self.marks = set(marks)

    def get_closest_marker(self, name: str):
        return getattr(pytest.mark, name) if name in self.marks else None


def test_a_test_marked_for_the_postgres_lane_alone_must_be_db_agnostic():
    scheduling.check_lane_marks([_Item("a", "db_agnostic", "postgres_lane"), _Item("b")])
    with pytest.raises(pytest.UsageError, match=r"test_x\.py::c"):
        scheduling.check_lane_marks([_Item("test_x.py::c", "postgres_lane")])
