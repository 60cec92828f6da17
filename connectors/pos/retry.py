"""Write transactions that are tried again when the database picks them as a deadlock victim.

On PostgreSQL two counters writing for one member at once can, rarely, each
hold a lock the other wants; the server aborts one with a deadlock (or, under
stricter isolation, a serialization failure). Every counter write is
idempotent (receipts, refund ids, request ids, voucher references), so the
aborted one is simply run again.

Two counters creating the same row at once (an enrolment of one phone, a
link to one POS customer id) both find nothing and both insert; the second
insert fails on the unique constraint once the first commits. Run again, it
finds the first one's row and answers as for an existing one (an enrolment
answers ``200 created: false``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub import Hub

T = TypeVar("T")
#: PostgreSQL's deadlock_detected, serialization_failure and unique_violation.
RETRYABLE = frozenset({"40P01", "40001", "23505"})
ATTEMPTS = 3


def write(hub: Hub, work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in a write transaction; run it again after a deadlock or a
    unique violation (a row another transaction created meanwhile)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with hub.db.transaction() as session:
                return work(session)
        except (OperationalError, IntegrityError) as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRYABLE or attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")
