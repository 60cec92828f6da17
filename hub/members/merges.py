"""Merge two members: everything of the merged one moves to the survivor."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Table
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.db import Model
from hub.errors import ValidationError
from hub.events import emit
from hub.members.directory import PROFILE_FIELDS
from hub.members.directory import consents_of
from hub.members.directory import get_member
from hub.models import Member
from hub.models import MemberConsent
from hub.models import MemberMerge
from hub.points import ledger

if TYPE_CHECKING:
    from hub.core import Hub

# Tables whose member_id is not ownership: the merge record itself and
# consents (handled by hand, one row per channel).
# Moved otherwise: consents one by one, the ledger's own rows by the ledger.
_SKIP = {"member_merges", "member_consents", "members", "point_entries", "point_lots"}


def member_tables() -> list[Table]:
    """Every table, core or plugin, with a ``member_id`` column pointing at members."""
    tables = []
    for table in Model.metadata.sorted_tables:
        column = table.c.get("member_id")
        if table.name in _SKIP or column is None:
            continue
        if any(fk.column.table.name == "members" for fk in column.foreign_keys):
            tables.append(table)
    return tables


def merge_members(
    hub: Hub,
    session: Session,
    merchant_id: int,
    survivor_id: int,
    merged_id: int,
    *,
    actor: str,
) -> Member:
    """Fold member ``merged_id`` into ``survivor_id`` and record the merge.

    Identities, orders, ledger entries and every other row that belongs to the
    merged member move to the survivor; the survivor keeps its own profile
    values and takes the merged member's where it has none. The merged member
    stays as an empty row pointing at the survivor, so old references resolve.
    """
    if survivor_id == merged_id:
        raise ValidationError(
            "a member cannot be merged into itself",
            details={"from_member_id": ["same as the survivor"]},
        )
    survivor = get_member(session, merchant_id, survivor_id)
    merged = get_member(session, merchant_id, merged_id)
    # Both rows locked (in id order) before anything moves: the totals added up below
    # are then the committed ones, not what a concurrent accrual is about to change,
    # and a concurrent merge of either member waits and then sees it merged.
    ledger.lock_members(session, [survivor, merged])
    session.refresh(survivor, ["status"])
    session.refresh(merged, ["status"])
    if merged.status != "active" or survivor.status != "active":
        raise ValidationError("only active members can be merged", code="member_not_active")
    snapshot = _snapshot(merged)
    moved = ledger.merge(session, survivor, merged)
    for table in member_tables():
        result = session.execute(
            update(table).where(table.c.member_id == merged.id).values(member_id=survivor.id)
        )
        if result.rowcount:
            moved[table.name] = result.rowcount
    moved["member_consents"] = _merge_consents(session, survivor, merged)
    _merge_profile(session, survivor, merged)
    session.add(
        MemberMerge(
            merchant_id=merchant_id,
            survivor_id=survivor.id,
            merged_id=merged.id,
            actor=actor,
            moved=moved,
            snapshot=snapshot,
        )
    )
    session.flush()
    hub.pm.hook.member_merged(hub=hub, session=session, survivor=survivor, merged=merged)
    emit(
        session,
        "member.merged",
        merchant_id,
        {"member_id": survivor.id, "merged_member_id": merged.id, "moved": moved},
    )
    return survivor


def _merge_consents(session: Session, survivor: Member, merged: Member) -> int:
    have = {c.channel for c in consents_of(session, survivor.id)}
    count = 0
    for consent in consents_of(session, merged.id):
        if consent.channel in have:
            continue
        consent.member_id = survivor.id
        count += 1
    session.flush()
    session.execute(delete(MemberConsent).where(MemberConsent.member_id == merged.id))
    return count


def _merge_profile(session: Session, survivor: Member, merged: Member) -> None:
    taken = {f: getattr(merged, f) for f in ("phone", "email")}
    # Free the unique phone and email before the survivor takes them.
    merged.phone = merged.email = None
    merged.status = "merged"
    merged.merged_into_id = survivor.id
    session.flush()
    for field, value in taken.items():
        if getattr(survivor, field) is None and value is not None:
            setattr(survivor, field, value)
    for field in PROFILE_FIELDS:
        if field == "tags":
            survivor.tags = sorted(set(survivor.tags or []) | set(merged.tags or []))
        elif field == "attributes":
            survivor.attributes = {
                **(merged.attributes or {}),
                **(survivor.attributes or {}),
            }
        elif not getattr(survivor, field) and getattr(merged, field):
            setattr(survivor, field, getattr(merged, field))
    # Members who were merged into the merged member now point at the survivor.
    session.execute(
        update(Member).where(Member.merged_into_id == merged.id).values(merged_into_id=survivor.id)
    )


def _snapshot(member: Member) -> dict[str, Any]:
    row = {c.name: getattr(member, c.name) for c in Member.__table__.columns}
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else str(v) if isinstance(v, Decimal) else v
        for k, v in row.items()
    }


def merged_survivor(session: Session, member_id: int) -> int:
    """Return the id a merged member's references now resolve to."""
    seen = set()
    while member_id not in seen:
        seen.add(member_id)
        target = session.scalar(select(Member.merged_into_id).where(Member.id == member_id))
        if target is None:
            return member_id
        member_id = target
    return member_id
