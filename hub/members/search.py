"""Filters and orders for searching members, the same SQL on SQLite and PostgreSQL.

``hub.members.directory.search_members`` applies them; the REST API's query arguments
and the console's filter form both fill a ``MemberFilters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric
from sqlalchemy import Select
from sqlalchemy import cast
from sqlalchemy import exists
from sqlalchemy import extract
from sqlalchemy import func
from sqlalchemy import select

from hub.errors import ValidationError
from hub.models import Member
from hub.models import MemberConsent
from hub.models import MemberIdentity
from hub.models import MemberTier
from hub.models import Order

#: Total spent as a number on both databases: SQLite keeps money as text
#: (``hub.db.Money``), which would compare and sort digit by digit ("200000" >
#: "1000000"); the cast is a no-op on PostgreSQL's NUMERIC column.
spent_number = cast(Member.total_spent, Numeric(20, 4))

#: The orders a member list may be sorted by: name -> (column, descending).
SORTS: dict[str, tuple[Any, bool]] = {
    "id": (Member.id, False),
    "-id": (Member.id, True),
    "name": (Member.search_name, False),
    "-name": (Member.search_name, True),
    "points": (Member.points_balance, False),
    "-points": (Member.points_balance, True),
    "spent": (spent_number, False),
    "-spent": (spent_number, True),
    "joined": (Member.created_at, False),
    "-joined": (Member.created_at, True),
}


@dataclass(frozen=True)
class MemberFilters:
    """Conditions a member must all meet; a field left None does not filter."""

    tier_id: int | None = None
    points_min: int | None = None
    points_max: int | None = None
    spent_min: Decimal | None = None
    spent_max: Decimal | None = None
    ordered_after: datetime | None = None
    ordered_before: datetime | None = None
    birthday_month: int | None = None
    province: str | None = None
    connection_id: int | None = None
    consent: str | None = None

    def any(self) -> bool:
        return any(v is not None for v in self.__dict__.values())


def apply_filters(query: Select, filters: MemberFilters) -> Select:
    """Narrow a ``select(Member)`` to the members that meet ``filters``."""
    f = filters
    if f.points_min is not None:
        query = query.where(Member.points_balance >= f.points_min)
    if f.points_max is not None:
        query = query.where(Member.points_balance <= f.points_max)
    if f.spent_min is not None:
        query = query.where(spent_number >= f.spent_min)
    if f.spent_max is not None:
        query = query.where(spent_number <= f.spent_max)
    if f.birthday_month is not None:
        if not 1 <= f.birthday_month <= 12:
            raise ValidationError(
                "birthday_month is a month number", details={"birthday_month": ["1 to 12"]}
            )
        query = query.where(extract("month", Member.birthday) == f.birthday_month)
    if f.province:
        query = query.where(func.lower(Member.province) == f.province.strip().lower())
    if f.tier_id is not None:
        query = query.where(
            exists().where(
                MemberTier.member_id == Member.id,
                MemberTier.ended_at.is_(None),
                MemberTier.tier_id == f.tier_id,
            )
        )
    if f.connection_id is not None:
        query = query.where(
            exists().where(
                MemberIdentity.member_id == Member.id,
                MemberIdentity.connection_id == f.connection_id,
            )
        )
    if f.consent:
        query = query.where(
            exists().where(
                MemberConsent.member_id == Member.id,
                MemberConsent.channel == f.consent,
                MemberConsent.granted.is_(True),
            )
        )
    return _order_dates(query, f)


def _order_dates(query: Select, f: MemberFilters) -> Select:
    if f.ordered_after is None and f.ordered_before is None:
        return query
    last = (
        select(func.max(Order.placed_at))
        .where(Order.member_id == Member.id)
        .correlate(Member)
        .scalar_subquery()
    )
    if f.ordered_after is not None:
        query = query.where(last >= f.ordered_after)
    if f.ordered_before is not None:
        query = query.where(last < f.ordered_before)
    return query


def order_by(query: Select, sort: str) -> Select:
    """Order by one of ``SORTS``, then by id so pages never overlap."""
    if sort not in SORTS:
        raise ValidationError(
            f"unknown sort {sort!r}", details={"sort": [f"one of {', '.join(SORTS)}"]}
        )
    column, descending = SORTS[sort]
    if column is Member.id:
        return query.order_by(Member.id.desc() if descending else Member.id)
    return query.order_by(column.desc() if descending else column, Member.id)
