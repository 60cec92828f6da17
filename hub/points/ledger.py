"""Post points to the ledger: one entry per change, keyed so it is written once.

Invariants, kept in the same transaction as every entry:

* ``members.points_balance`` equals the sum of the member's entries;
* the points remaining in the member's lots equal ``max(points_balance, 0)``:
  a balance below zero (a refund reversing points already spent) is a debt
  that the next credits pay off before they open a spendable lot.

Credits open a lot, spendable from ``available_at`` until ``expires_at``.
Debits draw from lots, soonest-expiring first, and record each draw, so a
cancelled redemption gives back exactly the points it took, with their
original expiry. Before a debit draws, lots whose expiry has passed are
expired (an ``expire`` entry keyed ``expire:<lot id>``, the same one the daily
expiry job writes), so expired points are never spent. Concurrent debits on
one member are serialised by a row lock on the member (PostgreSQL
``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``), so a balance can never be spent
twice.

Every function takes ``now`` for the moment it acts at (default: the clock),
so a job, a replay or a test can say which time it means.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from psycopg.rows import namedtuple_row
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from hub.db import insert_returning_ids
from hub.db import per_transaction
from hub.db import utcnow
from hub.errors import Conflict
from hub.events import emit
from hub.markers import hookimpl
from hub.models import Member
from hub.models import PointAllocation
from hub.models import PointEntry
from hub.models import PointLot
from hub.widget.invalidation import member_changed

CREDIT_KINDS = ("earn", "bonus", "adjust", "import", "reverse")
DEBIT_KINDS = ("redeem", "reverse", "expire", "adjust")


class InsufficientPoints(Conflict):
    code = "insufficient_points"


def _too_few(member: Member, available: int, needed: int) -> InsufficientPoints:
    return InsufficientPoints(
        f"member {member.id} has {available} points available, {needed} needed",
        details={"available": available, "needed": needed},
    )


@dataclass(frozen=True)
class Posted:
    """The entry a posting wrote, or the one already there (``created`` False)."""

    entry: PointEntry
    created: bool


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    total: int


@dataclass(frozen=True)
class Credit:
    """One credit of a batch given to ``credit_many``; fields as ``credit`` takes them."""

    points: int
    kind: str
    key: str
    rule: str | None = None
    order_id: int | None = None
    reference: str | None = None
    note: str = ""
    actor: str = "system"
    available_at: datetime | None = None
    expires_at: datetime | None = None
    program_version: int | None = None
    data: dict = field(default_factory=dict)


def existing_entry(session: Session, merchant_id: int, key: str) -> PointEntry | None:
    # Almost always none: ask for the id alone, load the entry only when there is one.
    found = session.scalar(
        select(PointEntry.id).where(PointEntry.merchant_id == merchant_id, PointEntry.key == key)
    )
    return None if found is None else session.get(PointEntry, found)


def existing_entries(session: Session, merchant_id: int, keys: Iterable[str]) -> dict:
    """Return the entries already written under any of ``keys``, by key."""
    keys = list(keys)
    if not keys:
        return {}
    # Almost always none: ask for the keys alone, load whole entries only when some exist.
    found = session.scalars(
        select(PointEntry.key).where(
            PointEntry.merchant_id == merchant_id, PointEntry.key.in_(keys)
        )
    ).all()
    if not found:
        return {}
    rows = session.scalars(
        select(PointEntry).where(PointEntry.merchant_id == merchant_id, PointEntry.key.in_(found))
    )
    return {row.key: row for row in rows}


def lock_member(session: Session, member: Member) -> Member:
    """Take the member's row lock for the rest of the transaction and refresh its totals.

    The totals kept on the row (``points_balance``, ``total_spent``) are read
    again under the lock: the object may have been loaded before it, and
    another transaction may have changed them since. Locking the same member
    again in the same transaction costs nothing.

    On PostgreSQL the lock is ``FOR NO KEY UPDATE``, the one an ``UPDATE`` of
    the row takes anyway. Unlike ``FOR UPDATE`` it does not wait for the key
    share locks that inserting a row referring to the member takes (an order,
    an entry, a lot), so two transactions that each inserted such a row before
    locking the member queue on this lock instead of deadlocking.
    """
    lock_members(session, [member])
    return member


_LOCK_MEMBERS = (
    select(Member.id, Member.points_balance, Member.total_spent)
    .where(Member.id.in_(bindparam("member_ids", expanding=True)))
    .order_by(Member.id)
    .with_for_update(key_share=True)
)


def lock_members(session: Session, members: Sequence[Member]) -> None:
    """``lock_member`` for several members with one statement, in id order.

    Taking the locks in id order means two transactions locking overlapping
    sets of members queue on each other instead of deadlocking.
    """
    held = _locks_held(session)
    wanted = {m.id: m for m in members if m.id not in held}
    if not wanted:
        return
    for member_id, balance, spent in session.execute(_LOCK_MEMBERS, {"member_ids": list(wanted)}):
        member = wanted[member_id]
        set_committed_value(member, "points_balance", balance)
        set_committed_value(member, "total_spent", spent)
        held.add(member_id)


def _locks_held(session: Session) -> set[int]:
    """The ids of the members whose row lock this session's transaction holds."""
    return per_transaction(session, "hub_member_locks", set)


def _add_to_balance(member: Member, points: int) -> None:
    # The row is locked (lock_member), so a plain read-modify-write is safe;
    # it is flushed in the same UPDATE as any other change to the member.
    member.points_balance = member.points_balance + points


# The writes of a credit or a debit, as Core statements built once: the member's
# lock is held while they run, and the ORM's unit of work costs several times
# the statements themselves. The objects the session holds are kept true with
# ``set_committed_value``, and the widget is told the member changed.
_ENTRY_COLUMNS = (
    "merchant_id", "member_id", "kind", "points", "key", "rule", "order_id", "reference",
    "note", "actor", "program_version", "data", "created_at",
)  # fmt: skip
_INSERT_ENTRY = insert(PointEntry.__table__).returning(PointEntry.__table__.c.id)
_INSERT_LOT = insert(PointLot.__table__)
_INSERT_ALLOCATION = insert(PointAllocation.__table__)
_SAVE_TOTALS = (
    update(Member.__table__)
    .where(Member.__table__.c.id == bindparam("member_id"))
    .values(points_balance=bindparam("balance"), total_spent=bindparam("spent"),
            updated_at=bindparam("now"))
)  # fmt: skip
_SET_REMAINING = (
    update(PointLot.__table__)
    .where(PointLot.__table__.c.id == bindparam("lot_id"))
    .values(remaining=bindparam("left"))
)


def _insert_entries(session: Session, entries: list[PointEntry]) -> None:
    """Write new entries in one statement; they become persistent objects of the session."""
    rows = [{name: getattr(e, name) for name in _ENTRY_COLUMNS} for e in entries]
    if len(rows) == 1:
        ids = [session.connection().execute(_INSERT_ENTRY, rows[0]).scalar_one()]
    else:
        ids = insert_returning_ids(session, PointEntry.__table__, rows, json=("data",))
    for entry, entry_id in zip(entries, ids, strict=True):
        entry.id = entry_id
        make_transient_to_detached(entry)
        session.add(entry)


def _save_totals(session: Session, member: Member) -> None:
    """Write the member's totals as they stand on the object, with one UPDATE; the row is locked."""
    save_totals(session, [member])


def save_totals(session: Session, members: Iterable[Member], now: datetime | None = None) -> None:
    """Write each member's totals as they stand on its object (the rows are locked), keep
    the objects true, and tell the widget the members changed."""
    now = now or utcnow()
    members = list(members)
    session.connection().execute(
        _SAVE_TOTALS,
        [
            {"member_id": m.id, "balance": m.points_balance, "spent": m.total_spent, "now": now}
            for m in members
        ],
    )
    for member in members:
        set_committed_value(member, "points_balance", member.points_balance)
        set_committed_value(member, "total_spent", member.total_spent)
        set_committed_value(member, "updated_at", now)
        member_changed(session, member.merchant_id, member.id)


def _entry(member: Member, points: int, now: datetime, **fields) -> PointEntry:
    fields["data"] = fields.get("data") or {}
    return PointEntry(
        merchant_id=member.merchant_id,
        member_id=member.id,
        points=points,
        created_at=now,
        **fields,
    )


def credit(
    session: Session,
    member: Member,
    points: int,
    *,
    kind: str,
    key: str,
    rule: str | None = None,
    order_id: int | None = None,
    reference: str | None = None,
    note: str = "",
    actor: str = "system",
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
    program_version: int | None = None,
    data: dict | None = None,
    now: datetime | None = None,
) -> Posted:
    """Add ``points`` (> 0) as a new lot; a second call with the same key changes nothing.

    When the member owes points, the debt is paid first and the lot holds the rest.
    """
    one = Credit(
        points=points, kind=kind, key=key, rule=rule, order_id=order_id, reference=reference,
        note=note, actor=actor, available_at=available_at, expires_at=expires_at,
        program_version=program_version, data=data or {},
    )  # fmt: skip
    return credit_many(session, member, [one], now=now)[0]


def credit_many(
    session: Session,
    member: Member,
    credits: Sequence[Credit],
    *,
    now: datetime | None = None,
    known_new: bool = False,
) -> list[Posted]:
    """Write several credits for one member at once: one lock, one balance update.

    Credits whose key is already written are skipped and returned with
    ``created`` False; the others open a lot each, in the order given (a debt
    is paid from the first ones). ``known_new`` skips looking the keys up,
    for a caller that knows none can exist yet (the unique key still guards).
    """
    for one in credits:
        if one.points <= 0 or one.kind not in CREDIT_KINDS:
            raise ValueError(f"a credit needs points > 0 and a kind in {CREDIT_KINDS}")
    now = now or utcnow()
    found = (
        {} if known_new else existing_entries(session, member.merchant_id, [c.key for c in credits])
    )
    fresh = [c for c in credits if c.key not in found]
    if not fresh:
        return [Posted(found[c.key], False) for c in credits]
    entries = {}
    for one in fresh:
        entries[one.key] = _entry(
            member, one.points, now, kind=one.kind, key=one.key, rule=one.rule,
            order_id=one.order_id, reference=one.reference, note=one.note, actor=one.actor,
            program_version=one.program_version, data=one.data,
        )  # fmt: skip
    lock_member(session, member)
    debt = max(0, -member.points_balance)
    _insert_entries(session, list(entries.values()))
    lots = []
    for one in fresh:
        paid = min(debt, one.points)
        debt -= paid
        lots.append(
            {
                "merchant_id": member.merchant_id,
                "member_id": member.id,
                "entry_id": entries[one.key].id,
                "points": one.points,
                "remaining": one.points - paid,
                "available_at": one.available_at or now,
                "expires_at": one.expires_at,
                "created_at": now,
            }
        )
    session.connection().execute(_INSERT_LOT, lots)
    _add_to_balance(member, sum(c.points for c in fresh))
    _save_totals(session, member)
    return [
        Posted(found[c.key], False) if c.key in found else Posted(entries[c.key], True)
        for c in credits
    ]


_LIVE_LOTS = (
    select(PointLot)
    .where(PointLot.member_id == bindparam("member_id"), PointLot.remaining > 0)
    .order_by(case((PointLot.expires_at.is_(None), 1), else_=0), PointLot.expires_at, PointLot.id)
    .with_for_update(key_share=True)
)


def _live_lots(session: Session, member: Member) -> list[PointLot]:
    """The member's lots with points left, locked, soonest-expiring first, never-expiring last."""
    return list(session.scalars(_LIVE_LOTS, {"member_id": member.id}))


def _expired(lot: PointLot, now: datetime) -> bool:
    return lot.expires_at is not None and lot.expires_at <= now


def _expire(session: Session, member: Member, lot: PointLot, now: datetime) -> PointEntry:
    """Write the expiry of what is left in ``lot``; the caller holds the member's lock."""
    points = lot.remaining
    entry = _entry(
        member, -points, now, kind="expire", key=f"expire:{lot.id}", rule="expiry",
        reference=str(lot.id), note=f"expired {lot.expires_at:%Y-%m-%d %H:%M} UTC",
    )  # fmt: skip
    session.add(entry)
    session.flush()
    lot.remaining = 0
    session.add(PointAllocation(entry_id=entry.id, lot_id=lot.id, points=points))
    _add_to_balance(member, -points)
    emit(
        session,
        "points.expired",
        member.merchant_id,
        {
            "member_id": member.id,
            "points": points,
            "lot_id": lot.id,
            "expired_at": lot.expires_at.isoformat(),
            "balance": member.points_balance,
        },
    )
    return entry


def settle_expired(
    session: Session, member: Member, *, now: datetime | None = None
) -> list[PointEntry]:
    """Expire every lot of the member whose expiry has passed; return the entries written."""
    now = now or utcnow()
    lock_member(session, member)
    written = [_expire(session, member, lot, now) for lot in _live_lots(session, member)
               if _expired(lot, now)]  # fmt: skip
    session.flush()
    return written


def expire_lot(
    session: Session, member: Member, lot_id: int, *, now: datetime | None = None
) -> PointEntry | None:
    """Expire what is left in one lot if its expiry has passed; None when there is nothing to do.

    The entry's key is ``expire:<lot id>``, so running this twice expires nothing twice.
    """
    now = now or utcnow()
    lock_member(session, member)
    lot = session.scalars(
        select(PointLot).where(PointLot.id == lot_id).with_for_update(key_share=True)
    ).first()
    if lot is None or lot.member_id != member.id or lot.remaining <= 0 or not _expired(lot, now):
        return None
    if existing_entry(session, member.merchant_id, f"expire:{lot.id}") is not None:
        return None
    entry = _expire(session, member, lot, now)
    session.flush()
    return entry


def debit(
    session: Session,
    member: Member,
    points: int,
    *,
    kind: str,
    key: str,
    rule: str | None = None,
    order_id: int | None = None,
    reference: str | None = None,
    note: str = "",
    actor: str = "system",
    allow_debt: bool = False,
    prefer_lots: Sequence[int] = (),
    program_version: int | None = None,
    data: dict | None = None,
    now: datetime | None = None,
    known_new: bool = False,
) -> Posted:
    """Take ``points`` (> 0) from the member's available lots, soonest-expiring first.

    ``prefer_lots`` are drawn first, pending or not (a reversal takes back the
    lot its order opened). With ``allow_debt`` pending lots are drawn too and
    the balance may go below zero (reversals); otherwise too few available
    points raise ``InsufficientPoints`` and nothing is written. Lots past
    their expiry are expired first. A second call with the same key changes
    nothing; ``known_new`` skips looking the key up, for a caller that knows
    it cannot be written yet (the unique key still guards).
    """
    if points <= 0 or kind not in DEBIT_KINDS:
        raise ValueError(f"a debit needs points > 0 and a kind in {DEBIT_KINDS}")
    now = now or utcnow()
    entry = _entry(
        member, -points, now, kind=kind, key=key, rule=rule, order_id=order_id,
        reference=reference, note=note, actor=actor, program_version=program_version, data=data,
    )  # fmt: skip
    preferred = set(prefer_lots)
    if not allow_debt and not preferred and session.get_bind().dialect.name == "postgresql":
        # One statement looks the key up as well.
        posted = _debit_at_once(session, member, entry, points, now)
        if posted is not None:
            return posted
        # Some lot is past its expiry: the long way below writes the expiry first.
    elif not known_new:
        found = existing_entry(session, member.merchant_id, key)
        if found is not None:
            return Posted(found, False)
    lock_member(session, member)  # from here on, as few statements as can be
    lots = []
    expired = False
    for lot in _live_lots(session, member):
        if _expired(lot, now):
            _expire(session, member, lot, now)
            expired = True
        elif lot.id in preferred or allow_debt or lot.available_at <= now:
            lots.append(lot)
    lots.sort(key=lambda lot: lot.id not in preferred)  # stable: keeps expiry order
    available = sum(lot.remaining for lot in lots)
    if not allow_debt and available < points:
        raise _too_few(member, available, points)
    if expired:
        session.flush()  # the expiries first, through the ORM as they were written
    _insert_entries(session, [entry])
    draws, lefts = [], []
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        left -= take
        set_committed_value(lot, "remaining", lot.remaining - take)
        draws.append({"entry_id": entry.id, "lot_id": lot.id, "points": take})
        lefts.append({"lot_id": lot.id, "left": lot.remaining})
    if draws:
        connection = session.connection()
        connection.execute(_INSERT_ALLOCATION, draws)
        connection.execute(_SET_REMAINING, lefts)
    _add_to_balance(member, -points)
    _save_totals(session, member)
    return Posted(entry, True)


# A debit on PostgreSQL in one statement: lock the member's row, then their live
# lots (the order every writer takes them in), draw from the spendable lots
# soonest-expiring first, and write the entry, its allocations, the lots' new
# remainders and the member's balance; or nothing at all when too few points
# are spendable or some lot must be expired first. The member's lock is then
# held for this one round trip and the commit, which is what a member
# redeeming from several places at once waits on.
_DEBIT_AT_ONCE = text("""
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
       (SELECT array_agg(take ORDER BY lot_id) FROM draws) AS takes,
       (SELECT points_balance FROM m) AS balance,
       (SELECT total_spent FROM m) AS spent
""")


#: The same statement in the driver's own parameter style.
_DEBIT_AT_ONCE_DRIVER = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", _DEBIT_AT_ONCE.text)


def _debit_at_once(
    session: Session, member: Member, entry: PointEntry, points: int, now: datetime
) -> Posted | None:
    """``debit`` on PostgreSQL in one statement; None when a lot must be expired first.

    Takes the member's lock (kept to the end of the transaction) either way. An
    entry already written under the key is returned as it is, not created.
    """
    params = {name: getattr(entry, name) for name in _ENTRY_COLUMNS}
    params["entry_points"] = params.pop("points")
    params["data"] = json.dumps(params["data"] or {})
    params.update(now=now, points=points)
    # Straight to the driver: the statement is fixed, and SQLAlchemy's execution
    # machinery costs a fair share of a redemption's time under the member's lock.
    driver = session.connection().connection.driver_connection
    with driver.cursor(row_factory=namedtuple_row) as cursor:
        row = cursor.execute(_DEBIT_AT_ONCE_DRIVER, params).fetchone()
    _locks_held(session).add(member.id)
    set_committed_value(member, "points_balance", row.balance)
    set_committed_value(member, "total_spent", row.spent)
    if row.prior_id is not None:
        return Posted(session.get_one(PointEntry, row.prior_id), False)
    if row.entry_id is None:
        if not row.fresh:
            return None
        raise _too_few(member, int(row.available), points)
    entry.id = row.entry_id
    make_transient_to_detached(entry)
    session.add(entry)
    for lot_id, take in zip(row.lot_ids, row.takes, strict=True):
        lot = session.identity_map.get(identity_key(PointLot, lot_id))
        if lot is not None:  # keep a lot the session holds true
            set_committed_value(lot, "remaining", lot.remaining - take)
    set_committed_value(member, "points_balance", row.balance - points)
    set_committed_value(member, "updated_at", now)
    member_changed(session, member.merchant_id, member.id)
    return Posted(entry, True)


def give_back(
    session: Session,
    member: Member,
    debit_entry: PointEntry,
    *,
    key: str,
    note: str = "",
    actor: str = "system",
    now: datetime | None = None,
) -> Posted:
    """Undo a debit: its points return to the lots they came from, with their expiry.

    Points drawn from a lot that has expired since are not returned to it; they
    are gone, as they would have been had they never been spent. When the
    member owes points, the returned points pay the debt first.
    """
    found = existing_entry(session, member.merchant_id, key)
    if found is not None:
        return Posted(found, False)
    now = now or utcnow()
    settle_expired(session, member, now=now)  # takes the member's lock
    allocations = session.scalars(
        select(PointAllocation)
        .where(PointAllocation.entry_id == debit_entry.id)
        .order_by(PointAllocation.id)
    ).all()
    returns = []
    for allocation in allocations:
        lot = session.get(PointLot, allocation.lot_id, with_for_update={"key_share": True})
        if not _expired(lot, now):
            returns.append((lot, allocation.points))
    returned = sum(points for _, points in returns)
    if returned == 0:
        raise Conflict("nothing to give back: the points have expired", code="points_expired")
    debt = max(0, -member.points_balance)
    for lot, points in returns:
        paid = min(debt, points)
        debt -= paid
        lot.remaining += points - paid
    entry = _entry(
        member, returned, now, kind="reverse", key=key, rule=debit_entry.rule,
        order_id=debit_entry.order_id, reference=str(debit_entry.id), note=note, actor=actor,
    )  # fmt: skip
    session.add(entry)
    _add_to_balance(member, returned)
    session.flush()
    return Posted(entry, True)


def absorb_debt(session: Session, member: Member, *, now: datetime | None = None) -> int:
    """Let the member's lots pay what the member owes, until lots equal ``max(balance, 0)``.

    Needed when two ledgers join (a merge): one member's debt and the other's
    lots. The debt is already in the balance, so no entry is written; live
    lots pay first (soonest-expiring first), then lots already past expiry.
    Returns the points taken from lots.
    """
    now = now or utcnow()
    lock_member(session, member)
    lots = _live_lots(session, member)
    lots.sort(key=lambda lot: _expired(lot, now))  # stable: keeps expiry order
    excess = sum(lot.remaining for lot in lots) - max(member.points_balance, 0)
    taken = 0
    for lot in lots:
        if excess <= 0:
            break
        take = min(excess, lot.remaining)
        lot.remaining -= take
        excess -= take
        taken += take
    session.flush()
    return taken


def balance(session: Session, member_id: int, at: datetime | None = None) -> Balance:
    """Available, pending and total points of a member at ``at`` (default now).

    Lots past their expiry count in neither available nor pending, even before
    the expiry job has written them off.
    """
    now = at or utcnow()
    live = or_(PointLot.expires_at.is_(None), PointLot.expires_at > now)
    available, pending = session.execute(
        select(
            func.coalesce(
                func.sum(case((PointLot.available_at <= now, PointLot.remaining), else_=0)), 0
            ),
            func.coalesce(
                func.sum(case((PointLot.available_at > now, PointLot.remaining), else_=0)), 0
            ),
        ).where(PointLot.member_id == member_id, PointLot.remaining > 0, live)
    ).one()
    total = session.scalar(select(Member.points_balance).where(Member.id == member_id)) or 0
    return Balance(available=int(available), pending=int(pending), total=int(total))


def balance_from_entries(session: Session, member_id: int) -> int:
    """The member's balance computed from scratch: the invariant's right-hand side."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.member_id == member_id
            )
        )
    )


def lots_remaining(session: Session, member_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                PointLot.member_id == member_id
            )
        )
    )


@hookimpl(trylast=True)
def member_merged(session, survivor, merged):
    """Two ledgers became one: let the survivor's lots pay any debt either member had."""
    absorb_debt(session, survivor)
