"""Ranges shared by condition kinds: numbers and amounts (min/max), dates (absolute or relative).

Dates are the merchant's local days. ``within_days: N`` is the last N days,
today included (from local midnight N - 1 days ago); ``before_days: N`` is
anything earlier than that; ``from``/``to`` are local dates, both included.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema
from sqlalchemy import ColumnElement
from sqlalchemy import and_

from hub.segments.conditions import SegmentContext

#: The longest window a condition may look back or ahead: ten years of days.
MAX_DAYS = 3650
#: The largest amount or count a condition may name (as the API's amounts).
MAX_AMOUNT = Decimal(10**15)


def days_field(**kwargs: Any) -> fields.Int:
    return fields.Int(strict=True, validate=validate.Range(min=1, max=MAX_DAYS), **kwargs)


class Amount(fields.Decimal):
    """An amount given as a string or a number, kept exact; dumped as a plain string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            places=4,
            as_string=True,
            allow_nan=False,
            validate=validate.Range(min=0, max=MAX_AMOUNT),
            **kwargs,
        )

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(Decimal(value).normalize(), "f")


class _Bounded(Schema):
    @validates_schema
    def _one_bound(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("min"), data.get("max")
        if low is None and high is None:
            raise ValidationError('give "min", "max" or both')
        if low is not None and high is not None and low > high:
            raise ValidationError('"min" is more than "max"')


class CountRange(_Bounded):
    """A whole number from ``min`` to ``max`` (both included; either may be left out)."""

    min = fields.Int(strict=True, validate=validate.Range(min=0, max=10**15))
    max = fields.Int(strict=True, validate=validate.Range(min=0, max=10**15))


class AmountRange(_Bounded):
    """An amount of money from ``min`` to ``max`` (both included; either may be left out)."""

    min = Amount()
    max = Amount()


class DateRange(Schema):
    """A span of the merchant's local days: ``from``/``to``, ``within_days``, ``before_days``."""

    from_ = fields.Date(data_key="from")
    to = fields.Date()
    within_days = days_field()
    before_days = days_field()

    @validates_schema
    def _some_bound(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError('give "from", "to", "within_days" or "before_days"')
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError('"from" is after "to"')


def in_range(value: ColumnElement[Any], low: Any, high: Any) -> ColumnElement[bool]:
    """``low <= value <= high``, an absent bound left out."""
    clauses = []
    if low is not None:
        clauses.append(value >= low)
    if high is not None:
        clauses.append(value <= high)
    return and_(*clauses)


def zero_in(low: Any, high: Any) -> bool:
    """Whether 0 lies in the range: members with nothing counted then belong to it."""
    return (low is None or low <= 0) and (high is None or high >= 0)


def in_dates(
    context: SegmentContext, moment: ColumnElement[Any], span: dict[str, Any]
) -> ColumnElement[bool]:
    """``moment`` (a UTC timestamp) falls on the merchant's local days ``span`` names."""
    clauses = []
    if span.get("from_") is not None:
        clauses.append(moment >= context.day_start(span["from_"]))
    if span.get("to") is not None:
        clauses.append(moment < context.day_start(span["to"] + timedelta(days=1)))
    if span.get("within_days") is not None:
        clauses.append(moment >= context.window_start(span["within_days"]))
    if span.get("before_days") is not None:
        clauses.append(moment < context.window_start(span["before_days"]))
    return and_(*clauses)
