"""Write one chunk of parsed rows in one transaction, with a few statements for the chunk.

The chunk's existing members are found with one query (by phone or email,
locked), new members go in with one multi-row insert, completed ones with one
executemany update, and their events with one insert each kind. Opening points
and the total spent go through the ledger, in one posting of the chunk
(``post_openings``): it is the one writer of members' totals.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.db import any_of
from hub.db import insert_returning_ids
from hub.db import utcnow
from hub.events import emit_many
from hub.folding import fold
from hub.members.directory import CODE_ALPHABET
from hub.models import Member
from hub.points import ledger

if TYPE_CHECKING:
    from hub.core import Hub

_MEMBERS = Member.__table__
_FILLED = ("phone", "email", "name", "birthday")
_LOOKUP = (
    _MEMBERS.c.id, _MEMBERS.c.status, _MEMBERS.c.phone, _MEMBERS.c.email, _MEMBERS.c.name,
    _MEMBERS.c.birthday, _MEMBERS.c.total_spent, _MEMBERS.c.attributes,
)  # fmt: skip
_COMPLETE = (
    update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id"))
    .values(
        phone=bindparam("phone"), email=bindparam("email"), name=bindparam("name"),
        birthday=bindparam("birthday"), attributes=bindparam("attributes"),
        updated_at=bindparam("now"),
        search_name=bindparam("search_name"),
    )
)  # fmt: skip


@dataclass
class Parsed:
    """A row that passed validation: its line, the fields as read, and as parsed."""

    line: int
    row: dict[str, str]
    data: dict[str, Any]


@dataclass
class Written:
    """What a chunk did: counts, opening points credited, and rows refused with the reason."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    points_credited: int = 0
    refused: list[tuple[Parsed, str]] = field(default_factory=list)


@dataclass
class _Plan:
    """The chunk's writes, decided before any is made."""

    new: list[tuple[Parsed, dict[str, Any]]] = field(default_factory=list)
    completed: list[dict[str, Any]] = field(default_factory=list)
    updated_events: list[tuple[str, dict]] = field(default_factory=list)
    #: (member id, opening points, is the member new) for members to credit.
    credits: list[tuple[int, int, bool]] = field(default_factory=list)
    #: (member id, total spent) for members whose spending the import adds.
    spent: list[tuple[int, Decimal]] = field(default_factory=list)
    #: Existing members the chunk changes nothing of, unless it credits them.
    unchanged: set[int] = field(default_factory=set)


def write_chunk(hub: Hub, merchant_id: int, chunk: list[Parsed]) -> Written:
    """Import ``chunk`` in one transaction; rows that clash with another member are refused."""
    written = Written()
    now = utcnow()
    with hub.db.transaction() as session:
        found = _existing(session, merchant_id, chunk)
        plan = _Plan()
        for parsed in chunk:
            refusal = _decide(parsed, found, plan, written, now)
            if refusal:
                written.refused.append((parsed, refusal))
        _insert_new(session, merchant_id, plan, now)
        if plan.completed:
            session.connection().execute(_COMPLETE, plan.completed)
        emit_many(session, merchant_id, plan.updated_events)
        credited = post_openings(session, merchant_id, plan.credits, plan.spent, now)
    written.points_credited = sum(credited.values())
    written.updated += len(plan.unchanged & credited.keys())
    written.unchanged += len(plan.unchanged - credited.keys())
    return written


def _existing(session: Session, merchant_id: int, chunk: list[Parsed]) -> dict[str, dict]:
    """The members (of any status) holding the chunk's phones and emails, keyed by each,
    locked until the chunk commits."""
    phones = [p.data["phone"] for p in chunk if p.data["phone"]]
    emails = [p.data["email"] for p in chunk if p.data["email"]]
    query = holders_query(session, merchant_id, phones, emails)
    found: dict[str, dict] = {}
    for row in session.execute(query).mappings():
        member = dict(row)
        for key in (member["phone"], member["email"]):
            if key:
                found[key] = member
    return found


def holders_query(
    session: Session, merchant_id: int, phones: list[str], emails: list[str]
) -> Select:
    """The merchant's members holding any of ``phones`` or ``emails``, locked, in id order."""
    return (
        select(*_LOOKUP)
        .where(
            _MEMBERS.c.merchant_id == merchant_id,
            or_(
                any_of(session, _MEMBERS.c.phone, phones),
                any_of(session, _MEMBERS.c.email, emails),
            ),
        )
        .order_by(_MEMBERS.c.id)
        .with_for_update(key_share=True)
    )


def _decide(
    parsed: Parsed, found: dict[str, dict], plan: _Plan, written: Written, now: datetime
) -> str | None:
    """Plan one row's writes; return why it is refused, or None."""
    data = parsed.data
    by_phone = found.get(data["phone"]) if data["phone"] else None
    by_email = found.get(data["email"]) if data["email"] else None
    for holder, kind in ((by_phone, "phone"), (by_email, "email")):
        if holder is not None and holder["status"] != "active":
            return f"another member (id {holder['id']}) already has this {kind}"
    member = by_phone or by_email
    if member is None:
        _plan_new(parsed, plan)
        written.created += 1
        return None
    fill = {k: data[k] for k in _FILLED if data[k] and not member[k]}
    if "email" in fill and by_email is not None and by_email["id"] != member["id"]:
        return f"another member (id {by_email['id']}) already has this email"
    spent = data["total_spent"]
    adds_spent = bool(spent) and not (member["attributes"] or {}).get("imported_total_spent")
    if data["opening_points"]:
        plan.credits.append((member["id"], data["opening_points"], False))
    if fill or adds_spent:
        _plan_completion(member, fill, spent if adds_spent else None, plan, now)
        written.updated += 1
    else:
        plan.unchanged.add(member["id"])
    return None


def _plan_new(parsed: Parsed, plan: _Plan) -> None:
    data = parsed.data
    spent = data["total_spent"]
    values = {
        "phone": data["phone"],
        "email": data["email"],
        "name": data["name"],
        "search_name": fold(data["name"]),
        "birthday": data["birthday"],
        "attributes": {"imported_total_spent": str(spent)} if spent else {},
    }
    plan.new.append((parsed, values))


def _plan_completion(
    member: dict, fill: dict[str, Any], spent: Decimal | None, plan: _Plan, now: datetime
) -> None:
    member.update(fill)  # a later row of the chunk sees the member as completed
    if spent is not None:
        plan.spent.append((member["id"], spent))
        member["attributes"] = {**(member["attributes"] or {}), "imported_total_spent": str(spent)}
    plan.completed.append(
        {
            "member_id": member["id"],
            **{k: member[k] for k in (*_FILLED, "attributes")},
            "search_name": fold(member["name"]),
            "now": now,
        }
    )
    if fill:
        plan.updated_events.append(
            ("member.updated", {"member_id": member["id"], "fields": sorted(fill)})
        )


def _insert_new(session: Session, merchant_id: int, plan: _Plan, now: datetime) -> None:
    if not plan.new:
        return
    rows = [
        {
            **values,
            "merchant_id": merchant_id,
            "code": code,
            "gender": None,
            "tags": [],
            "points_balance": 0,
            "total_spent": Decimal(0),
            "status": "active",
            "joined_via": "import",
            "created_at": now,
            "updated_at": now,
        }
        for (_, values), code in zip(plan.new, member_codes(len(plan.new)), strict=True)
    ]
    # A code taken meanwhile fails the insert, and the chunk is written again with new codes.
    ids = insert_returning_ids(session, _MEMBERS, rows, json=("tags", "attributes"))
    for (parsed, _), member_id in zip(plan.new, ids, strict=True):
        if parsed.data["opening_points"]:
            plan.credits.append((member_id, parsed.data["opening_points"], True))
        if parsed.data["total_spent"]:
            plan.spent.append((member_id, parsed.data["total_spent"]))
    emit_many(
        session,
        merchant_id,
        [("member.created", {"member_id": i, "source": "import"}) for i in ids],
    )


def member_codes(count: int) -> list[str]:
    """``count`` random member codes as ``hub.members.directory.new_member_code`` draws them (eight
    letters of its alphabet of 32), from one read of the system's random source."""
    drawn = secrets.token_bytes(5 * count)
    codes = []
    for start in range(0, 5 * count, 5):
        value = int.from_bytes(drawn[start : start + 5])
        codes.append("".join(CODE_ALPHABET[(value >> shift) & 31] for shift in range(0, 40, 5)))
    return codes


def post_openings(
    session: Session,
    merchant_id: int,
    credits: list[tuple[int, int, bool]],
    spent: list[tuple[int, Decimal]],
    now: datetime,
) -> dict[int, int]:
    """Post the chunk's opening points and spending to the ledger, as one batch.

    Each member's opening points are credited once (key
    ``import:opening:<member id>``): members known new cannot have the key
    yet; the others are looked up in one query. The spending (a ``Spent``
    posting) is added once because the member's ``imported_total_spent``
    attribute, written in the same transaction, says it was. Returns the
    points credited, by member id.
    """
    keys = {member_id: f"import:opening:{member_id}" for member_id, _, _ in credits}
    written_before = ledger.existing_entries(
        session, merchant_id, [keys[m] for m, _, new in credits if not new]
    )
    due = [(m, points) for m, points, _ in credits if keys[m] not in written_before]
    postings = [
        ledger.Posting(ledger.MemberRef(member_id, merchant_id), ledger.Spent(amount))
        for member_id, amount in spent
    ]
    postings += [
        ledger.Posting(ledger.MemberRef(member_id, merchant_id), ledger.Credit(
            points=points, kind="import", key=keys[member_id], rule="opening_balance",
            note="opening balance (import)", actor="import",
        ))
        for member_id, points in due
    ]  # fmt: skip
    ledger.post(session, postings, now=now, known_new=True)
    return dict(due)
