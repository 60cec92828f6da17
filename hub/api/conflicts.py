"""A unique constraint met by racing requests answers 409, as if the loser had come second.

Every create checks for the row it would duplicate before inserting it, and
answers a clear 409 when it finds one. Two requests at the same moment both
find nothing; on PostgreSQL the second insert then waits for the first
transaction and fails on the unique constraint. That failure is the same
conflict the check reports, so it gets the same code and field.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError

from hub.db import Model
from hub.errors import Conflict

#: PostgreSQL's unique_violation.
_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")

#: (table, columns) of a unique constraint → the code and field the check before it reports.
KNOWN: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {
    ("members", ("merchant_id", "phone")): ("duplicate_phone", "phone"),
    ("members", ("merchant_id", "email")): ("duplicate_email", "email"),
    ("member_identities", ("connection_id", "external_id")): ("identity_taken", "external_id"),
    ("tiers", ("merchant_id", "name")): ("duplicate_tier_name", "name"),
}


def unique_columns(error: IntegrityError) -> tuple[str, tuple[str, ...]] | None:
    """Return ``(table, columns)`` of the unique constraint ``error`` broke, or None."""
    original: Any = error.orig
    if getattr(original, "sqlstate", None) == _UNIQUE_VIOLATION:
        name = getattr(getattr(original, "diag", None), "constraint_name", None)
        for table in Model.metadata.tables.values():
            for constraint in table.constraints:
                if constraint.name == name:
                    return table.name, tuple(c.name for c in constraint.columns)  # type: ignore[attr-defined]
            for index in table.indexes:
                if index.unique and index.name == name:
                    return table.name, tuple(c.name for c in index.columns)
        return None
    found = _SQLITE_UNIQUE.search(str(original))
    if found is None:
        return None
    qualified = [part.strip().split(".", 1) for part in found.group(1).split(",")]
    if not qualified or any(len(part) != 2 for part in qualified):
        return None
    return qualified[0][0], tuple(column for _, column in qualified)


def as_conflict(error: IntegrityError) -> Conflict | None:
    """The 409 for a unique constraint two requests raced to; None for any other failure."""
    found = unique_columns(error)
    if found is None:
        return None
    table, columns = found
    code, field = KNOWN.get(found, ("conflict", columns[-1]))
    return Conflict(
        f"another request created the same {table} row ({', '.join(columns)}) at the same "
        f"moment; read it, or retry",
        details={field: ["already used"]},
        code=code,
    )
