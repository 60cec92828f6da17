"""Post points to the ledger: one entry per change, keyed so it is written once.

``post`` is the one way points, lots, allocations and members' totals
(``points_balance``, ``total_spent``) are written: it takes a batch of
postings (a batch of one is the single case), and ``credit``, ``debit``,
``give_back``, ``expire_lot``, ``absorb_debt`` and ``merge`` are postings of
one kind. Invariants, kept in the same transaction as every entry:

* ``members.points_balance`` equals the sum of the member's entries;
* the points remaining in the member's lots equal ``max(points_balance, 0)``:
  a balance below zero (a refund reversing points already spent) is a debt
  that the next credits pay off before they open a spendable lot.

Credits open a lot, spendable from ``available_at`` until ``expires_at``.
Debits draw from lots, soonest-expiring first, and record each draw, so a
cancelled redemption gives back exactly the points it took, with their
original expiry. Before a debit draws, lots whose expiry has passed are
expired (an ``expire`` entry keyed ``expire:<lot id>``, the same one the daily
expiry job writes), so expired points are never spent. Concurrent postings on
one member are serialised by a row lock on the member (PostgreSQL
``FOR NO KEY UPDATE``; SQLite's ``BEGIN IMMEDIATE``), so a balance can never
be spent twice.

The ledger keeps the set of members a transaction changed
(``changed_members``), for caches that must drop what they hold about them,
and when it wrote entries (``posted_moments``), for figures kept by day.
Every function takes ``now`` for the moment it acts at (default: the clock),
so a job, a replay or a test can say which time it means.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import any_of
from hub.db import utcnow
from hub.errors import Conflict
from hub.events import emit
from hub.models import Member
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import ledger_pg
from hub.points.ledger_writer import LiveLot
from hub.points.ledger_writer import Totals
from hub.points.ledger_writer import Writer
from hub.points.ledger_writer import expire_totals
from hub.points.ledger_writer import ledgers
from hub.points.ledger_writer import move_rows

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
class Credit:
    """Add ``points`` (> 0) as a new lot; a debt the member owes is paid from it first."""

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


@dataclass(frozen=True)
class Debit:
    """Take ``points`` (> 0) from the member's lots, soonest-expiring first.

    ``prefer_lots`` are drawn first, pending or not (a reversal takes back the
    lot its order opened). With ``allow_debt`` pending lots are drawn too and
    the balance may go below zero (reversals); otherwise too few available
    points raise ``InsufficientPoints``.
    """

    points: int
    kind: str
    key: str
    rule: str | None = None
    order_id: int | None = None
    reference: str | None = None
    note: str = ""
    actor: str = "system"
    allow_debt: bool = False
    prefer_lots: tuple[int, ...] = ()
    program_version: int | None = None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GiveBack:
    """Undo the debit ``debit``: its points return to the lots they came from, with their expiry.

    Points drawn from a lot that has expired since are not returned; they are
    gone, as they would have been had they never been spent. A debt the
    member owes is paid from the returned points first.
    """

    debit: PointEntry
    key: str
    note: str = ""
    actor: str = "system"


@dataclass(frozen=True)
class Expire:
    """Expire what is left in lot ``lot_id`` if its expiry has passed (key ``expire:<lot id>``)."""

    lot_id: int

    @property
    def key(self) -> str:
        return f"expire:{self.lot_id}"


@dataclass(frozen=True)
class Spent:
    """Add ``amount`` (may be negative) to the member's ``total_spent``.

    It writes no entry and has no key: the order's accrual row, written in the
    same transaction, is what keeps it from being counted twice.
    """

    amount: Decimal


@dataclass(frozen=True)
class MemberRef:
    """A member named by id, for a batch that holds no object of it (an import).

    The ledger locks the member and reads its totals itself, so a posting
    needs the member's id and merchant alone; no object is made or loaded.
    """

    id: int
    merchant_id: int


@dataclass(frozen=True)
class Posting:
    """One change to one member's ledger."""

    member: Member | MemberRef
    change: Credit | Debit | GiveBack | Expire | Spent


@dataclass(frozen=True)
class Posted:
    """What a posting wrote, or the entry already there under its key (``created`` False).

    ``entry`` is None for a ``Spent`` and for an ``Expire`` with nothing to
    expire. ``balance`` is the member's balance right after the posting.
    """

    entry: PointEntry | None
    created: bool
    balance: int


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    total: int


def changed_members(session: Session) -> set[tuple[int, int]]:
    """``(merchant id, member id)`` of each member whose ledger the transaction changed so far."""
    return ledgers(session).changed


def posted_moments(session: Session) -> set[tuple[int, datetime]]:
    """``(merchant id, time)`` at which the transaction wrote entries so far."""
    return ledgers(session).posted


def existing_entry(session: Session, merchant_id: int, key: str) -> PointEntry | None:
    return existing_entries(session, merchant_id, [key]).get(key)


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


def lock_members(session: Session, members: Sequence[Member]) -> None:
    """``lock_member`` for several members with one statement, in id order.

    Taking the locks in id order means two transactions locking overlapping
    sets of members queue on each other instead of deadlocking. The members'
    objects are loaded afresh under the lock.
    """
    held = ledgers(session).held
    wanted = sorted({m.id for m in members if m.id not in held})
    if not wanted:
        return
    locked = session.scalars(
        select(Member)
        .where(Member.id.in_(bindparam("member_ids", expanding=True)))
        .order_by(Member.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True),
        {"member_ids": wanted},
    )
    for member in locked:
        held[member.id] = Totals(member.points_balance, member.total_spent)


def _lock_totals(session: Session, members: Sequence[Member]) -> None:
    """``lock_members`` as a posting needs it: the locks, in id order, and the totals alone.

    The session's objects of these members are not loaded again; their totals
    are expired instead, so reading them after the posting loads what the
    ledger wrote.
    """
    held = ledgers(session).held
    wanted = sorted({m.id for m in members if m.id not in held})
    if not wanted:
        return
    locked = (
        select(Member.id, Member.points_balance, Member.total_spent)
        .where(any_of(session, Member.id, wanted))
        .order_by(Member.id)
        .with_for_update(key_share=True)
    )
    for member_id, balance, spent in session.execute(locked):
        held[member_id] = Totals(balance, spent)
    expire_totals(session, wanted)


def _balance(session: Session, member: Member | MemberRef) -> int:
    if isinstance(member, MemberRef):
        return session.get_one(Member, member.id).points_balance
    return member.points_balance


def post(
    session: Session,
    postings: Sequence[Posting],
    *,
    now: datetime | None = None,
    known_new: bool = False,
) -> list[Posted]:
    """Write ``postings`` in the order given, as one batch; return what each one did.

    A posting whose key is already written (before or earlier in the batch)
    changes nothing and returns that entry with ``created`` False.
    ``known_new`` skips looking the keys up, for a caller that knows none can
    be written yet (the unique key still guards). The members are locked
    first, in id order. Raises ``InsufficientPoints`` (a debit without
    ``allow_debt`` and too few points available) or ``Conflict`` (a give-back
    of points that have all expired); the caller's transaction is then to be
    rolled back.
    """
    postings = list(postings)
    for posting in postings:
        _check(posting.change)
    now = now or utcnow()
    if len(postings) == 1 and _at_once(session, postings[0]):
        posted = _debit_at_once(session, postings[0].member, postings[0].change, now)
        if posted is not None:
            return [posted]
        known_new = True  # the statement looked the key up; a lot must be expired first
    found = {} if known_new else _found(session, postings)
    if all(getattr(posting.change, "key", None) in found for posting in postings):
        # Nothing to write (a replay): no lock either; the balances are the committed ones.
        return [Posted(found[p.change.key], False, _balance(session, p.member)) for p in postings]
    _lock_totals(session, [posting.member for posting in postings])
    writer = Writer(session, now)
    results = []
    for posting in postings:
        member, change = posting.member, posting.change
        key = getattr(change, "key", None)
        if key in found:
            entry, created = found[key], False
        else:
            entry = _apply(writer, member, change)
            created = entry is not None or isinstance(change, Spent)
            if key is not None and entry is not None:
                found[key] = entry
        results.append(Posted(entry, created, writer.totals(member).balance))
    writer.write()
    return results


def _check(change) -> None:
    if isinstance(change, Credit) and (change.points <= 0 or change.kind not in CREDIT_KINDS):
        raise ValueError(f"a credit needs points > 0 and a kind in {CREDIT_KINDS}")
    if isinstance(change, Debit) and (change.points <= 0 or change.kind not in DEBIT_KINDS):
        raise ValueError(f"a debit needs points > 0 and a kind in {DEBIT_KINDS}")


def _found(session: Session, postings: list[Posting]) -> dict[str, PointEntry]:
    """The entries already written under the postings' keys, by key."""
    keys: dict[int, list[str]] = {}
    for posting in postings:
        key = getattr(posting.change, "key", None)
        if key is not None:
            keys.setdefault(posting.member.merchant_id, []).append(key)
    found = {}
    for merchant_id, merchant_keys in keys.items():
        found.update(existing_entries(session, merchant_id, merchant_keys))
    return found


def _apply(writer: Writer, member: Member, change) -> PointEntry | None:
    if isinstance(change, Spent):
        writer.spend(member, change.amount)
        return None
    if isinstance(change, Credit):
        return _credit(writer, member, change)
    if isinstance(change, Debit):
        return _debit(writer, member, change)
    if isinstance(change, GiveBack):
        return _give_back(writer, member, change)
    return _expire_one(writer, member, change.lot_id)


def _credit(writer: Writer, member: Member, one: Credit) -> PointEntry:
    debt = max(0, -writer.totals(member).balance)
    entry = writer.entry(
        member, one.points, kind=one.kind, key=one.key, rule=one.rule, order_id=one.order_id,
        reference=one.reference, note=one.note, actor=one.actor,
        program_version=one.program_version, data=one.data,
    )  # fmt: skip
    paid = min(debt, one.points)
    writer.open_lot(member, entry, one.points, one.points - paid, one.available_at, one.expires_at)
    return entry


def _debit(writer: Writer, member: Member, one: Debit) -> PointEntry:
    now, preferred = writer.now, set(one.prefer_lots)
    lots = []
    for lot in writer.live_lots(member):
        if lot.expired(now):
            _expire(writer, member, lot)
        elif lot.id in preferred or one.allow_debt or lot.available_at <= now:
            lots.append(lot)
    lots.sort(key=lambda lot: lot.id not in preferred)  # stable: keeps expiry order
    available = sum(lot.remaining for lot in lots)
    if not one.allow_debt and available < one.points:
        writer.write()  # the expiries stand whatever the caller does with the refusal
        raise _too_few(member, available, one.points)
    entry = writer.entry(
        member, -one.points, kind=one.kind, key=one.key, rule=one.rule, order_id=one.order_id,
        reference=one.reference, note=one.note, actor=one.actor,
        program_version=one.program_version, data=one.data,
    )  # fmt: skip
    left = one.points
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.remaining)
        left -= take
        writer.draw(entry, lot, take)
    return entry


def _expire(writer: Writer, member: Member, lot: LiveLot) -> PointEntry:
    """Write the expiry of what is left in ``lot``; the member's row is locked."""
    points = lot.remaining
    entry = writer.entry(
        member, -points, kind="expire", key=f"expire:{lot.id}", rule="expiry",
        reference=str(lot.id), note=f"expired {lot.expires_at:%Y-%m-%d %H:%M} UTC",
    )  # fmt: skip
    writer.draw(entry, lot, points)
    emit(
        writer.session,
        "points.expired",
        member.merchant_id,
        {
            "member_id": member.id,
            "points": points,
            "lot_id": lot.id,
            "expired_at": lot.expires_at.isoformat(),
            "balance": writer.totals(member).balance,
        },
    )
    return entry


def _expire_one(writer: Writer, member: Member, lot_id: int) -> PointEntry | None:
    lot = next((lot for lot in writer.live_lots(member) if lot.id == lot_id), None)
    if lot is None or not lot.expired(writer.now):
        return None
    return _expire(writer, member, lot)


def _give_back(writer: Writer, member: Member, one: GiveBack) -> PointEntry:
    now = writer.now
    for lot in writer.live_lots(member):
        if lot.expired(now):
            _expire(writer, member, lot)
    returns = [(lot, points) for lot, points in writer.drawn_by(one.debit.id)
               if not lot.expired(now)]  # fmt: skip
    returned = sum(points for _, points in returns)
    if returned == 0:
        writer.write()  # the expiries stand whatever the caller does with the refusal
        raise Conflict("nothing to give back: the points have expired", code="points_expired")
    debt = max(0, -writer.totals(member).balance)
    for lot, points in returns:
        paid = min(debt, points)
        debt -= paid
        writer.set_remaining(lot, lot.remaining + points - paid)
    return writer.entry(
        member, returned, kind="reverse", key=one.key, rule=one.debit.rule,
        order_id=one.debit.order_id, reference=str(one.debit.id), note=one.note, actor=one.actor,
    )  # fmt: skip


def _at_once(session: Session, posting: Posting) -> bool:
    """Whether the posting is a debit the one-statement PostgreSQL path can take."""
    change = posting.change
    return (
        isinstance(change, Debit)
        and not change.allow_debt
        and not change.prefer_lots
        and session.get_bind().dialect.name == "postgresql"
    )


def _debit_at_once(session: Session, member: Member, one: Debit, now: datetime) -> Posted | None:
    """A debit in one statement (``ledger_pg``); None when a lot must be expired first."""
    writer = Writer(session, now)
    entry = PointEntry(
        merchant_id=member.merchant_id, member_id=member.id, kind=one.kind, points=-one.points,
        key=one.key, rule=one.rule, order_id=one.order_id, reference=one.reference,
        note=one.note, actor=one.actor, program_version=one.program_version,
        data=one.data or {}, created_at=now,
    )  # fmt: skip
    params = {
        "merchant_id": member.merchant_id, "member_id": member.id, "kind": one.kind,
        "entry_points": -one.points, "key": one.key, "rule": one.rule,
        "order_id": one.order_id, "reference": one.reference, "note": one.note,
        "actor": one.actor, "program_version": one.program_version,
        "data": json.dumps(one.data or {}), "created_at": now, "now": now, "points": one.points,
    }  # fmt: skip
    outcome = ledger_pg.debit(session, params)
    state = writer.state
    state.held[member.id] = Totals(outcome.balance, outcome.spent)
    if outcome.prior_id is not None:
        return Posted(session.get_one(PointEntry, outcome.prior_id), False, outcome.balance)
    if outcome.entry_id is None:
        if not outcome.fresh:
            return None
        raise _too_few(member, outcome.available, one.points)
    writer.written_at_once(member, entry, outcome.entry_id, outcome.lot_ids or ())
    return Posted(entry, True, outcome.balance - one.points)


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
    """Post one ``Credit``; a second call with the same key changes nothing."""
    one = Credit(
        points=points, kind=kind, key=key, rule=rule, order_id=order_id, reference=reference,
        note=note, actor=actor, available_at=available_at, expires_at=expires_at,
        program_version=program_version, data=data or {},
    )  # fmt: skip
    return post(session, [Posting(member, one)], now=now)[0]


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
    """Post one ``Debit``; a second call with the same key changes nothing.

    Too few available points raise ``InsufficientPoints`` and write nothing
    but the expiry of lots found past it.
    """
    one = Debit(
        points=points, kind=kind, key=key, rule=rule, order_id=order_id, reference=reference,
        note=note, actor=actor, allow_debt=allow_debt, prefer_lots=tuple(prefer_lots),
        program_version=program_version, data=data or {},
    )  # fmt: skip
    return post(session, [Posting(member, one)], now=now, known_new=known_new)[0]


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
    """Post one ``GiveBack`` of ``debit_entry``; a second call with the same key changes nothing.

    :raise Conflict: every point the debit took has expired since (``points_expired``).
    """
    return post(session, [Posting(member, GiveBack(debit_entry, key, note, actor))], now=now)[0]


def expire_lot(
    session: Session, member: Member, lot_id: int, *, now: datetime | None = None
) -> PointEntry | None:
    """Expire what is left in one lot if its expiry has passed; None when there is nothing to do.

    The entry's key is ``expire:<lot id>``, so running this twice expires nothing twice.
    """
    posted = post(session, [Posting(member, Expire(lot_id))], now=now)[0]
    return posted.entry if posted.created else None


def absorb_debt(session: Session, member: Member, *, now: datetime | None = None) -> int:
    """Let the member's lots pay what the member owes, until lots equal ``max(balance, 0)``.

    Needed when two ledgers join (a merge): one member's debt and the other's
    lots. The debt is already in the balance, so no entry is written; live
    lots pay first (soonest-expiring first), then lots already past expiry.
    Returns the points taken from lots.
    """
    lock_member(session, member)
    writer = Writer(session, now or utcnow())
    taken = _absorb(writer, member)
    writer.write()
    return taken


def _absorb(writer: Writer, member: Member) -> int:
    lots = writer.live_lots(member)
    lots.sort(key=lambda lot: lot.expired(writer.now))  # stable: keeps expiry order
    excess = sum(lot.remaining for lot in lots) - max(writer.totals(member).balance, 0)
    taken = 0
    for lot in lots:
        if excess <= 0:
            break
        take = min(excess, lot.remaining)
        writer.set_remaining(lot, lot.remaining - take)
        excess -= take
        taken += take
    return taken


def merge(
    session: Session, survivor: Member, merged: Member, *, now: datetime | None = None
) -> dict[str, int]:
    """Join the merged member's ledger to the survivor's: entries, lots and totals.

    The merged member is left with no entries, no lots and zero totals; the
    survivor's lots then pay any debt either member had (``absorb_debt``).
    Returns the number of rows moved, by table.
    """
    lock_members(session, [survivor, merged])
    writer = Writer(session, now or utcnow())
    moved = move_rows(session, survivor.id, merged.id)
    joined, emptied = writer.totals(survivor), writer.totals(merged)
    joined.balance += emptied.balance
    joined.spent += emptied.spent
    emptied.balance, emptied.spent = 0, Decimal(0)
    _absorb(writer, survivor)
    writer.write()
    return moved


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
