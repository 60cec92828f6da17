"""Where PostgreSQL and SQLite differ for segment conditions: money, JSON lists, JSON values.

Every condition kind builds its SQL through these functions, so the same
condition means the same on both databases.

Money on SQLite is stored as text (``hub.db.Money``); it is compared and
summed there as whole ten-thousandths (``ROUND(amount * 10000)`` as an
integer), which is exact for amounts below 10^11 with four decimals. On
PostgreSQL it is ``NUMERIC`` throughout.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy.dialects import postgresql

from hub.segments.conditions import SegmentContext

#: Ten-thousandths in one unit of money: the four decimals ``hub.db.Money`` keeps.
MONEY_SCALE = 10_000


def money(context: SegmentContext, amount: ColumnElement[Any]) -> ColumnElement[Any]:
    """An amount column as a value both databases compare and sum exactly."""
    if context.dialect == "sqlite":
        return cast(func.round(cast(amount, Float) * MONEY_SCALE), Integer)
    return amount


def money_value(context: SegmentContext, amount: Decimal) -> ColumnElement[Any]:
    """A literal amount to compare with ``money(...)``."""
    if context.dialect == "sqlite":
        return literal(int((amount * MONEY_SCALE).to_integral_value()), Integer)
    return literal(amount, Numeric(20, 4))


def money_total(context: SegmentContext, amount: ColumnElement[Any]) -> ColumnElement[Any]:
    """The sum of an amount column over a group, 0 when empty."""
    return func.coalesce(func.sum(money(context, amount)), 0)


def tags_match(
    context: SegmentContext, tags: ColumnElement[Any], wanted: list[str], match: str
) -> ColumnElement[bool]:
    """The JSON list ``tags`` holds any, all or none of ``wanted``."""
    if context.dialect == "postgresql":
        values = bindparam(None, list(wanted), type_=postgresql.ARRAY(Text))
        column = type_coerce(tags, postgresql.JSONB)
        if match == "all":
            return func.coalesce(column.op("?&", is_comparison=True)(values), false())
        found = func.coalesce(column.op("?|", is_comparison=True)(values), false())
    else:
        items = func.json_each(tags).table_valued("value")
        hits = select(func.count(func.distinct(items.c.value))).where(items.c.value.in_(wanted))
        if match == "all":
            return hits.scalar_subquery() == len(set(wanted))
        found = hits.scalar_subquery() > 0
    return not_(found) if match == "none" else found


def attribute(context: SegmentContext, column: ColumnElement[Any], key: str, kind: str):
    """One member attribute as ``kind`` (number, string or boolean); NULL when of another type.

    ``key`` must be a checked attribute name (letters, digits, ``_``, ``-``).
    """
    if context.dialect == "postgresql":
        document = type_coerce(column, postgresql.JSONB)
        value = document[key]
        kinds = {"number": "number", "string": "string", "boolean": "boolean"}
        typed = func.jsonb_typeof(value) == kinds[kind]
        text = value.astext
        if kind == "number":
            return case((typed, cast(text, Numeric)))
        if kind == "boolean":
            return case((typed, text == "true"))
        return case((typed, text))
    path = f'$."{key}"'
    json_type = func.json_type(column, path)
    extracted = func.json_extract(column, path)
    if kind == "number":
        return case((json_type.in_(("integer", "real")), extracted))
    if kind == "boolean":
        return case((json_type.in_(("true", "false")), json_type == "true"))
    return case((json_type == "text", cast(extracted, String)))


def attribute_present(
    context: SegmentContext, column: ColumnElement[Any], key: str
) -> ColumnElement[bool]:
    """The member's attributes hold ``key`` with a value other than null."""
    if context.dialect == "postgresql":
        value = type_coerce(column, postgresql.JSONB)[key]
        return func.coalesce(func.jsonb_typeof(value), "null") != "null"
    return func.coalesce(func.json_type(column, f'$."{key}"'), "null") != "null"


def number_value(context: SegmentContext, value: Decimal) -> ColumnElement[Any]:
    """A literal number to compare with an ``attribute(..., "number")``."""
    if context.dialect == "sqlite":
        return literal(float(value), Float)
    return literal(value, Numeric)


def both(*clauses: ColumnElement[bool]) -> ColumnElement[bool]:
    """``and_`` of the clauses given (at least one)."""
    return and_(*clauses) if len(clauses) > 1 else clauses[0]
