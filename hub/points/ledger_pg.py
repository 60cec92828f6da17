"""The ledger's PostgreSQL statements, behind ``hub.points.ledger.post``.

``debit`` is a debit in one statement. It locks the member's row, then
their live lots (the order every writer takes them in), draws from the
spendable lots soonest-expiring first, and writes the entry, its
allocations, the lots' new remainders and the member's balance; or nothing
at all when the key is already written, too few points are spendable, or
some lot must be expired first. The member's lock is then held for this one
round trip and the commit, which is what a member redeeming from several
places at once waits on.

``save_totals`` writes the totals of a batch's members in one statement,
one array per column, where SQLite runs one UPDATE per member.

Only ``hub.points.ledger`` and its writer call them; the SQLite lane runs the
same public operations through the ledger's statement-by-statement path.
"""

from __future__ import annotations

import re
from typing import Any
from typing import NamedTuple

from psycopg.rows import namedtuple_row
from sqlalchemy.orm import Session

_DEBIT = """
WITH prior AS (
    SELECT id FROM point_entries
    WHERE merchant_id = CAST(:merchant_id AS bigint) AND key = CAST(:key AS text)
), m AS (
    SELECT id, points_balance, total_spent FROM members
    WHERE id = CAST(:member_id AS bigint)
    FOR NO KEY UPDATE
), live AS (
    SELECT id, remaining, available_at, expires_at FROM point_lots
    WHERE member_id = (SELECT id FROM m) AND remaining > 0
    ORDER BY expires_at IS NULL, expires_at, id
    FOR NO KEY UPDATE
), spendable AS (
    SELECT id, remaining, CAST(coalesce(sum(remaining) OVER (
        ORDER BY expires_at IS NULL, expires_at, id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS bigint) AS before
    FROM live
    WHERE available_at <= CAST(:now AS timestamptz)
      AND (expires_at IS NULL OR expires_at > CAST(:now AS timestamptz))
), draws AS (
    SELECT id AS lot_id, least(remaining, CAST(:points AS bigint) - before) AS take
    FROM spendable WHERE before < :points
), verdict AS (
    SELECT NOT EXISTS (SELECT 1 FROM prior) AS new,
           NOT EXISTS (
        SELECT 1 FROM live WHERE expires_at <= CAST(:now AS timestamptz)) AS fresh,
           (SELECT coalesce(sum(take), 0) FROM draws) = CAST(:points AS bigint) AS enough
), entry AS (
    INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id,
                               reference, note, actor, program_version, data, created_at)
    SELECT CAST(:merchant_id AS bigint), CAST(:member_id AS bigint), CAST(:kind AS text),
           CAST(:entry_points AS bigint), CAST(:key AS text), CAST(:rule AS text),
           CAST(:order_id AS bigint), CAST(:reference AS text), CAST(:note AS text),
           CAST(:actor AS text), CAST(:program_version AS integer), CAST(:data AS jsonb),
           CAST(:created_at AS timestamptz)
    FROM verdict WHERE new AND fresh AND enough
    RETURNING id
), allocations AS (
    INSERT INTO point_allocations (entry_id, lot_id, points)
    SELECT entry.id, draws.lot_id, draws.take FROM entry, draws
), drawn AS (
    UPDATE point_lots SET remaining = point_lots.remaining - draws.take
    FROM draws, entry WHERE point_lots.id = draws.lot_id
), totals AS (
    UPDATE members SET points_balance = m.points_balance - CAST(:points AS bigint),
                       updated_at = CAST(:now AS timestamptz)
    FROM m, entry WHERE members.id = m.id
)
SELECT (SELECT id FROM prior) AS prior_id,
       (SELECT id FROM entry) AS entry_id,
       (SELECT coalesce(sum(remaining), 0) FROM spendable) AS available,
       (SELECT fresh FROM verdict) AS fresh,
       (SELECT array_agg(lot_id ORDER BY lot_id) FROM draws) AS lot_ids,
       (SELECT points_balance FROM m) AS balance,
       (SELECT total_spent FROM m) AS spent
"""

#: The statement in the driver's own parameter style: it goes straight to psycopg.
_DEBIT_DRIVER = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", _DEBIT)


class Outcome(NamedTuple):
    """What the statement did. ``balance`` and ``spent`` are the totals before it."""

    prior_id: int | None
    entry_id: int | None
    available: int
    fresh: bool
    lot_ids: list[int] | None
    balance: int
    spent: Any


def debit(session: Session, params: dict[str, Any]) -> Outcome:
    """Run the one-statement debit with ``params`` (the entry's columns, ``points``, ``now``).

    The member's row lock is taken whatever the outcome and held to the end of
    the transaction. ``params["data"]`` is the entry's data as JSON text.
    """
    driver = session.connection().connection.driver_connection
    with driver.cursor(row_factory=namedtuple_row) as cursor:
        row = cursor.execute(_DEBIT_DRIVER, params).fetchone()
    return Outcome(
        prior_id=row.prior_id,
        entry_id=row.entry_id,
        available=int(row.available),
        fresh=row.fresh,
        lot_ids=row.lot_ids,
        balance=row.balance,
        spent=row.spent,
    )


_SAVE_TOTALS = """
UPDATE members AS m
SET points_balance = u.balance, total_spent = u.spent, updated_at = %s
FROM unnest(%b::bigint[], %b::bigint[], %b::numeric[]) AS u(id, balance, spent)
WHERE m.id = u.id
"""


def save_totals(session: Session, totals: dict[int, tuple[int, Any]], now: Any) -> None:
    """Write members' totals, ``{member id: (balance, spent)}``, in one statement."""
    ids = list(totals)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(
            _SAVE_TOTALS,
            [now, ids, [totals[i][0] for i in ids], [totals[i][1] for i in ids]],
            prepare=True,
        )
