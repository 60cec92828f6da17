"""Which members a segment's conditions pick: as a select to stream, a count, a sample.

Conditions compile to one SQL statement over ``members`` (no member is
loaded to be filtered in Python); every statement is limited to the
merchant's active members, and every table a condition reads is filtered on
the merchant too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError as SchemaError
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session

from hub.core import current_hub
from hub.db import utcnow
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models import Connection
from hub.models import Member
from hub.models import Merchant
from hub.models import Reward
from hub.models import Tier
from hub.segments.conditions import Condition
from hub.segments.conditions import Group
from hub.segments.conditions import SegmentContext
from hub.segments.conditions import condition_kinds
from hub.segments.conditions import dump_group
from hub.segments.conditions import load_group

#: The most members a sample shows.
MAX_SAMPLE = 50
_REFERENCED = {"tiers": Tier, "connections": Connection, "rewards": Reward}


def load_conditions(conditions: Any) -> Group:
    """Load a conditions tree with the registered kinds; bad input raises a 422 naming the path."""
    try:
        return load_group(condition_kinds(current_hub()), conditions)
    except SchemaError as exc:
        raise ValidationError(
            "the segment's conditions are not valid; see details",
            details={"conditions": exc.messages},
        ) from exc


def check_conditions(session: Session, merchant_id: int, conditions: Any) -> dict[str, Any]:
    """Return the normalised JSON of ``conditions``: they load, and name only the shop's rows."""
    group = load_conditions(conditions)
    problems = {}
    for path, condition in _walk(group, ""):
        for field, table in condition.kind.references.items():
            wanted = set(condition.fields.get(field) or ())
            if not wanted:
                continue
            model = _REFERENCED[table]
            found = set(
                session.scalars(
                    select(model.id).where(model.merchant_id == merchant_id, model.id.in_(wanted))
                )
            )
            if missing := sorted(wanted - found):
                names = ", ".join(str(item) for item in missing)
                problems[f"{path}.{field}"] = [f"no {table} with the id {names} in this shop"]
    if problems:
        raise ValidationError(
            "the segment's conditions name rows that do not exist; see details",
            details={"conditions": problems},
        )
    return dump_group(group)


def segment_members(
    session: Session, merchant_id: int, conditions: Any, *, now: datetime | None = None
) -> Select:
    """A select of the ids of the merchant's active members the conditions pick.

    Stream it in batches by adding ``.where(Member.id > last).order_by(Member.id).limit(n)``.
    ``now`` fixes the clock that "the last N days" and birthdays count from.
    """
    context = _context(session, merchant_id, now)
    where = _compile(context, load_conditions(conditions))
    return select(Member.id).where(
        Member.merchant_id == merchant_id, Member.status == "active", where
    )


def count_members(
    session: Session, merchant_id: int, conditions: Any, *, now: datetime | None = None
) -> int:
    """How many of the merchant's active members the conditions pick."""
    query = segment_members(session, merchant_id, conditions, now=now)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def sample_members(
    session: Session,
    merchant_id: int,
    conditions: Any,
    *,
    limit: int = 10,
    now: datetime | None = None,
) -> list[Member]:
    """Up to ``limit`` members the conditions pick, newest first."""
    ids = segment_members(session, merchant_id, conditions, now=now)
    query = (
        select(Member)
        .where(Member.id.in_(ids.order_by(Member.id.desc()).limit(min(limit, MAX_SAMPLE))))
        .order_by(Member.id.desc())
    )
    return list(session.scalars(query))


def _context(session: Session, merchant_id: int, now: datetime | None) -> SegmentContext:
    timezone = session.scalar(select(Merchant.timezone).where(Merchant.id == merchant_id))
    if timezone is None:
        raise NotFound(f"merchant {merchant_id} not found", code="merchant_not_found")
    return SegmentContext(
        merchant_id=merchant_id,
        dialect=session.get_bind().dialect.name,
        now=now or utcnow(),
        timezone=timezone,
    )


def _compile(context: SegmentContext, group: Group) -> ColumnElement[bool]:
    clauses = [
        _compile(context, item)
        if isinstance(item, Group)
        else item.kind.compile(context, item.fields)
        for item in group.items
    ]
    if not clauses:
        return true()
    return and_(*clauses) if group.op == "all" else or_(*clauses)


def _walk(group: Group, path: str):
    for index, item in enumerate(group.items):
        item_path = f"{path}.{group.op}[{index}]" if path else f"{group.op}[{index}]"
        if isinstance(item, Condition):
            yield item_path, item
        else:
            yield from _walk(item, item_path)
