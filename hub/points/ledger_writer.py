"""The rows of one ledger posting, gathered and written with a few Core statements.

``hub.points.ledger`` decides what a posting does (debt payoff, which lots a debit
draws from, expiry); a ``Writer`` holds the rows that follows from it and
writes them together: the entries, the lots and the allocations in one
INSERT each whatever their number (``hub.db.insert_returning_ids``,
``insert_rows``), then the lots' new remainders and the members' totals. Nothing else
writes these tables. The members' totals the ledger works from are the ones
read under the member's row lock, kept per transaction and moved only here.

After writing, the ORM objects the session holds for the rows written (the
members' totals, the lots' remainders) are expired, so reading them loads
what the database now holds; the new entries join the session as persistent
objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from hub.db import insert_returning_ids
from hub.db import insert_rows
from hub.db import per_transaction
from hub.models import Member
from hub.models import PointAllocation
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import ledger_pg

_ENTRIES = PointEntry.__table__
_LOTS = PointLot.__table__
_ALLOCATIONS = PointAllocation.__table__
_MEMBERS = Member.__table__
_ENTRY_COLUMNS = (
    "merchant_id", "member_id", "kind", "points", "key", "rule", "order_id", "reference",
    "note", "actor", "program_version", "data", "created_at",
)  # fmt: skip
_TOTALS = ("points_balance", "total_spent", "updated_at")

_SAVE_TOTALS = (
    update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id"))
    .values(points_balance=bindparam("balance"), total_spent=bindparam("spent"),
            updated_at=bindparam("now"))
)  # fmt: skip
_SET_REMAINING = (
    update(_LOTS).where(_LOTS.c.id == bindparam("lot_id")).values(remaining=bindparam("left"))
)
_LOT_COLUMNS = (_LOTS.c.id, _LOTS.c.remaining, _LOTS.c.available_at, _LOTS.c.expires_at)
_LIVE_LOTS = (
    select(*_LOT_COLUMNS)
    .where(_LOTS.c.member_id == bindparam("member_id"), _LOTS.c.remaining > 0)
    .order_by(case((_LOTS.c.expires_at.is_(None), 1), else_=0), _LOTS.c.expires_at, _LOTS.c.id)
    .with_for_update(key_share=True)
)
_DRAWN_LOTS = (
    select(*_LOT_COLUMNS, _ALLOCATIONS.c.points)
    .join(_ALLOCATIONS, _ALLOCATIONS.c.lot_id == _LOTS.c.id)
    .where(_ALLOCATIONS.c.entry_id == bindparam("entry_id"))
    .order_by(_ALLOCATIONS.c.id)
    .with_for_update(key_share=True, of=_LOTS)
)


@dataclass
class Totals:
    """A member's totals as the ledger last wrote or read them under the member's lock."""

    balance: int
    spent: Decimal


@dataclass
class LiveLot:
    """A lot as a posting sees it: ``remaining`` moves as the posting draws from it."""

    id: int
    remaining: int
    available_at: datetime
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass
class Ledgers:
    """What the ledger knows in one transaction: locked members' totals, members changed.

    ``posted`` holds ``(merchant id, time)`` of the entries written, for
    listeners that keep figures by day (reports).
    """

    held: dict[int, Totals] = field(default_factory=dict)
    changed: set[tuple[int, int]] = field(default_factory=set)
    posted: set[tuple[int, datetime]] = field(default_factory=set)


def ledgers(session: Session) -> Ledgers:
    """The ledger's state for the session's current transaction."""
    return per_transaction(session, "hub_ledger", Ledgers)


class Writer:
    """The rows one posting writes, and the members' totals as they stand after them."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.state = ledgers(session)
        self._totals: dict[int, Totals] = {}
        self._members: dict[int, Member] = {}
        self._entries: list[tuple[PointEntry, dict[str, Any]]] = []
        self._lots: list[tuple[PointEntry, dict[str, Any]]] = []
        self._draws: list[tuple[PointEntry, int, int]] = []
        self._remaining: dict[int, int] = {}

    def totals(self, member: Member) -> Totals:
        """The member's totals so far in this posting; the member's row is locked."""
        if member.id not in self._totals:
            self._totals[member.id] = replace(self.state.held[member.id])
            self._members[member.id] = member
        return self._totals[member.id]

    def entry(self, member: Member, points: int, **fields: Any) -> PointEntry:
        """A new entry of ``points`` for the member (written with the others)."""
        row = {name: None for name in _ENTRY_COLUMNS}
        row.update(fields, merchant_id=member.merchant_id, member_id=member.id, points=points)
        row["data"] = row["data"] or {}
        row["note"] = row["note"] or ""
        row["actor"] = row["actor"] or "system"
        row["created_at"] = self.now
        entry = PointEntry(**row)
        self._entries.append((entry, row))
        self.totals(member).balance += points
        return entry

    def open_lot(self, member: Member, entry: PointEntry, points: int, remaining: int,
                 available_at: datetime | None, expires_at: datetime | None) -> None:  # fmt: skip
        """A new lot of ``points`` opened by ``entry``, ``remaining`` of them spendable."""
        lot = {
            "merchant_id": member.merchant_id, "member_id": member.id, "points": points,
            "remaining": remaining, "available_at": available_at or self.now,
            "expires_at": expires_at, "created_at": self.now,
        }  # fmt: skip
        self._lots.append((entry, lot))

    def draw(self, entry: PointEntry, lot: LiveLot, points: int) -> None:
        """Record that ``entry`` took ``points`` from ``lot``."""
        lot.remaining -= points
        self._remaining[lot.id] = lot.remaining
        self._draws.append((entry, lot.id, points))

    def set_remaining(self, lot: LiveLot, remaining: int) -> None:
        lot.remaining = remaining
        self._remaining[lot.id] = remaining

    def spend(self, member: Member, amount: Decimal) -> None:
        self.totals(member).spent += amount

    def live_lots(self, member: Member) -> list[LiveLot]:
        """The member's lots with points left, locked, soonest-expiring first."""
        self.write()  # lots opened or drawn so far are read back as written
        rows = self.session.connection().execute(_LIVE_LOTS, {"member_id": member.id})
        return [LiveLot(*row) for row in rows]

    def drawn_by(self, entry_id: int) -> list[tuple[LiveLot, int]]:
        """The lots a debit drew from, locked, each with the points it took, in draw order."""
        self.write()
        rows = self.session.connection().execute(_DRAWN_LOTS, {"entry_id": entry_id})
        return [(LiveLot(*row[:4]), row[4]) for row in rows]

    def written_at_once(
        self, member: Member, entry: PointEntry, entry_id: int, lot_ids: Any
    ) -> None:
        """Take in a debit ``ledger_pg`` wrote in one statement, with its draws and totals."""
        entry.id = entry_id
        make_transient_to_detached(entry)
        self.session.add(entry)
        self.state.held[member.id].balance += entry.points
        self.state.changed.add((member.merchant_id, member.id))
        self.state.posted.add((member.merchant_id, self.now))
        self._expire_loaded(PointLot, lot_ids, ("remaining",))
        self._expire_loaded(Member, (member.id,), _TOTALS)

    def write(self) -> None:
        """Write every row gathered so far, then the members' totals."""
        if self._entries:
            self._write_entries()
        if self._lots:
            insert_rows(self.session, _LOTS, [{**row, "entry_id": e.id} for e, row in self._lots])
        if self._draws:
            insert_rows(
                self.session,
                _ALLOCATIONS,
                [{"entry_id": e.id, "lot_id": lot, "points": p} for e, lot, p in self._draws],
            )
        if self._remaining:
            self.session.connection().execute(
                _SET_REMAINING, [{"lot_id": i, "left": n} for i, n in self._remaining.items()]
            )
            self._expire_loaded(PointLot, self._remaining, ("remaining",))
        if self._totals:
            self._write_totals()
        self._lots, self._draws, self._remaining = [], [], {}

    def _write_entries(self) -> None:
        rows = [row for _, row in self._entries]
        self.state.posted.update((row["merchant_id"], self.now) for row in rows)
        ids = insert_returning_ids(self.session, _ENTRIES, rows, json=("data",))
        for (entry, _), entry_id in zip(self._entries, ids, strict=True):
            entry.id = entry_id
            make_transient_to_detached(entry)
            self.session.add(entry)
        self._entries = []

    def _write_totals(self) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            ledger_pg.save_totals(
                self.session, {i: (t.balance, t.spent) for i, t in self._totals.items()}, self.now
            )
        else:
            self.session.connection().execute(
                _SAVE_TOTALS,
                [
                    {"member_id": i, "balance": t.balance, "spent": t.spent, "now": self.now}
                    for i, t in self._totals.items()
                ],
            )
        self.state.held.update(self._totals)
        self.state.changed.update((m.merchant_id, m.id) for m in self._members.values())
        self._expire_loaded(Member, self._totals, _TOTALS)
        self._totals, self._members = {}, {}

    def _expire_loaded(self, model: type, ids: Any, attributes: tuple[str, ...]) -> None:
        _expire_loaded(self.session, model, ids, attributes)


def expire_totals(session: Session, member_ids: Any) -> None:
    """Expire the totals of the session's objects of these members: read again when used."""
    _expire_loaded(session, Member, member_ids, _TOTALS)


def _expire_loaded(session: Session, model: type, ids: Any, attributes: tuple[str, ...]) -> None:
    """Expire ``attributes`` of the session's objects of ``model`` with these ids."""
    for object_id in ids:
        loaded = session.identity_map.get(identity_key(model, object_id))
        if loaded is not None:
            session.expire(loaded, attributes)


def move_rows(session: Session, survivor_id: int, merged_id: int) -> dict[str, int]:
    """Move the merged member's entries and lots to the survivor; return the rows moved."""
    moved = {}
    for table in (_ENTRIES, _LOTS):
        result = session.connection().execute(
            update(table).where(table.c.member_id == merged_id).values(member_id=survivor_id)
        )
        if result.rowcount:
            moved[table.name] = result.rowcount
    return moved
