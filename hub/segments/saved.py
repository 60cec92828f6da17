"""Saved segments: create, list, read, change and delete a merchant's segments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import NotFound
from hub.models import Segment
from hub.segments.members import check_conditions


def list_segments(session: Session, merchant_id: int) -> list[Segment]:
    """The merchant's segments, by name."""
    return list(
        session.scalars(
            select(Segment).where(Segment.merchant_id == merchant_id).order_by(Segment.name)
        )
    )


def get_segment(session: Session, merchant_id: int, segment_id: int) -> Segment:
    """One of the merchant's segments; another merchant's is not found."""
    segment = session.get(Segment, segment_id)
    if segment is None or segment.merchant_id != merchant_id:
        raise NotFound(f"segment {segment_id} not found", code="segment_not_found")
    return segment


def create_segment(
    session: Session, merchant_id: int, data: dict[str, Any], *, actor: str
) -> Segment:
    """Save a segment after checking its conditions; names are unique per merchant."""
    _check_name(session, merchant_id, data["name"], None)
    now = utcnow()
    segment = Segment(
        merchant_id=merchant_id,
        name=data["name"],
        description=data.get("description", ""),
        conditions=check_conditions(session, merchant_id, data["conditions"]),
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    _audit(session, segment, "segment.created", actor)
    return segment


def update_segment(
    session: Session, segment: Segment, data: dict[str, Any], *, actor: str
) -> Segment:
    """Change the fields given; new conditions are checked like a new segment's."""
    if "name" in data:
        _check_name(session, segment.merchant_id, data["name"], segment.id)
        segment.name = data["name"]
    if "description" in data:
        segment.description = data["description"]
    if "conditions" in data:
        segment.conditions = check_conditions(session, segment.merchant_id, data["conditions"])
    segment.updated_at = utcnow()
    session.flush()
    _audit(session, segment, "segment.updated", actor)
    return segment


def delete_segment(session: Session, segment: Segment, *, actor: str) -> None:
    _audit(session, segment, "segment.deleted", actor)
    session.delete(segment)
    session.flush()


def _check_name(session: Session, merchant_id: int, name: str, segment_id: int | None) -> None:
    clash = session.scalar(
        select(Segment.id).where(Segment.merchant_id == merchant_id, Segment.name == name)
    )
    if clash is not None and clash != segment_id:
        raise Conflict(
            f"a segment named {name!r} already exists (id {clash}); choose another name",
            code="segment_name_taken",
        )


def _audit(session: Session, segment: Segment, action: str, actor: str) -> None:
    audit.record(
        session,
        segment.merchant_id,
        actor=actor,
        action=action,
        object_type="segment",
        object_id=segment.id,
        data={"name": segment.name},
    )
