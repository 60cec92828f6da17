"""Condition kinds about who a member is: tier, place, tags, consent, birthday, attributes."""

from __future__ import annotations

import calendar
import re
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
from sqlalchemy import extract
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select

from hub.members.directory import CHANNELS
from hub.models import Member
from hub.models import MemberConsent
from hub.models import MemberIdentity
from hub.models import MemberTier
from hub.segments import dialect
from hub.segments.conditions import SegmentCondition
from hub.segments.conditions import SegmentContext
from hub.segments.ranges import CountRange
from hub.segments.ranges import DateRange
from hub.segments.ranges import in_dates
from hub.segments.ranges import in_range

MAX_VALUES = 200
ATTRIBUTE_NAME = re.compile(r"^[\w-]{1,64}$")


def _ids(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.Int(strict=True, validate=validate.Range(min=1, max=2**63 - 1)),
        validate=validate.Length(min=1, max=MAX_VALUES),
        **kwargs,
    )


def _texts(length: int, **kwargs: Any) -> fields.List:
    return fields.List(
        fields.Str(validate=validate.Length(min=1, max=length)),
        validate=validate.Length(min=1, max=MAX_VALUES),
        **kwargs,
    )


class TierFields(Schema):
    tier_ids = _ids(required=True)


def _tier(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    current = select(MemberTier.member_id).where(
        MemberTier.merchant_id == context.merchant_id,
        MemberTier.ended_at.is_(None),
        MemberTier.tier_id.in_(data["tier_ids"]),
    )
    return Member.id.in_(current)


def _points_balance(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    return in_range(Member.points_balance, data.get("min"), data.get("max"))


class LocationFields(Schema):
    provinces = _texts(100)
    districts = _texts(100)

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError('give "provinces", "districts" or both')


def _location(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    clauses = []
    if "provinces" in data:
        clauses.append(Member.province.in_(data["provinces"]))
    if "districts" in data:
        clauses.append(Member.district.in_(data["districts"]))
    return and_(*clauses)


class SourceFields(Schema):
    connection_ids = _ids(required=True)


def _source(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    linked = select(MemberIdentity.member_id).where(
        MemberIdentity.merchant_id == context.merchant_id,
        MemberIdentity.connection_id.in_(data["connection_ids"]),
    )
    return Member.id.in_(linked)


class TagFields(Schema):
    match = fields.Str(load_default="any", validate=validate.OneOf(("any", "all", "none")))
    tags = _texts(64, required=True)


def _tags(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    return dialect.tags_match(context, Member.tags, data["tags"], data["match"])


class ConsentFields(Schema):
    channel = fields.Str(required=True, validate=validate.OneOf(CHANNELS))
    granted = fields.Bool(load_default=True)


def _consent(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    consenting = select(MemberConsent.member_id).where(
        MemberConsent.merchant_id == context.merchant_id,
        MemberConsent.channel == data["channel"],
        MemberConsent.granted.is_(True),
    )
    found = Member.id.in_(consenting)
    return found if data["granted"] else not_(found)


class BirthdayFields(Schema):
    months = fields.List(
        fields.Int(strict=True, validate=validate.Range(min=1, max=12)),
        validate=validate.Length(min=1, max=12),
    )
    within_days = fields.Int(strict=True, validate=validate.Range(min=0, max=365))

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("months" in data) == ("within_days" in data):
            raise ValidationError('give either "months" or "within_days"')


def _birthday(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    if "months" in data:
        return and_(
            Member.birthday.is_not(None), extract("month", Member.birthday).in_(data["months"])
        )
    day_numbers = set()
    for offset in range(data["within_days"] + 1):
        day = context.today + timedelta(days=offset)
        day_numbers.add(day.month * 100 + day.day)
        # Born on 29 February: the birthday falls on the 28th in other years.
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            day_numbers.add(229)
    month_day = extract("month", Member.birthday) * 100 + extract("day", Member.birthday)
    return and_(Member.birthday.is_not(None), month_day.in_(sorted(day_numbers)))


def _member_since(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    return in_dates(context, Member.created_at, data)


class AttributeFields(Schema):
    name = fields.Str(
        required=True,
        validate=validate.Regexp(
            ATTRIBUTE_NAME, error="letters, digits, _ and -, at most 64 characters"
        ),
    )
    op = fields.Str(
        required=True,
        validate=validate.OneOf(("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists", "absent")),
    )
    value = fields.Raw(allow_none=True)

    @validates_schema
    def _value_fits(self, data: dict[str, Any], **kwargs: Any) -> None:
        op, value = data["op"], data.get("value")
        if op in ("exists", "absent"):
            if value is not None:
                raise ValidationError(f'"{op}" takes no "value"', "value")
            return
        if op == "in":
            if not isinstance(value, list) or not 1 <= len(value) <= MAX_VALUES:
                raise ValidationError(f'"in" takes a list of 1 to {MAX_VALUES} values', "value")
            kinds = {_value_kind(item) for item in value}
            if len(kinds) != 1 or kinds & {None, "boolean"}:
                raise ValidationError('"in" takes strings only or numbers only', "value")
            return
        kind = _value_kind(value)
        if kind is None:
            raise ValidationError("a string, a number or true/false", "value")
        if op in ("gt", "gte", "lt", "lte") and kind == "boolean":
            raise ValidationError(f'"{op}" compares numbers or strings', "value")


def _value_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float) and value == value and abs(value) < 1e15:
        return "number"
    if isinstance(value, str) and len(value) <= 200:
        return "string"
    return None


def _attribute(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    name, op, value = data["name"], data["op"], data.get("value")
    if op in ("exists", "absent"):
        present = dialect.attribute_present(context, Member.attributes, name)
        return present if op == "exists" else not_(present)
    sample = value[0] if op == "in" else value
    kind = _value_kind(sample)
    assert kind is not None  # the schema checked it
    stored = dialect.attribute(context, Member.attributes, name, kind)

    def literal(item: Any) -> Any:
        if kind == "number":
            return dialect.number_value(context, Decimal(str(item)))
        return item

    if op == "in":
        return stored.in_([literal(item) for item in value])
    if op == "ne":
        return or_(stored.is_(None), stored != literal(value))
    compare = {"eq": "__eq__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}
    return getattr(stored, compare[op])(literal(value))


PROFILE_KINDS = [
    SegmentCondition("tier", "Current tier", TierFields, _tier, references={"tier_ids": "tiers"}),
    SegmentCondition("points_balance", "Points balance", CountRange, _points_balance),
    SegmentCondition("location", "Province or district", LocationFields, _location),
    SegmentCondition(
        "source_connection",
        "Known to a connection",
        SourceFields,
        _source,
        references={"connection_ids": "connections"},
    ),
    SegmentCondition("tags", "Tags", TagFields, _tags),
    SegmentCondition("consent", "Marketing consent", ConsentFields, _consent),
    SegmentCondition("birthday", "Birthday", BirthdayFields, _birthday),
    SegmentCondition("member_since", "Member since", DateRange, _member_since),
    SegmentCondition("attribute", "Custom attribute", AttributeFields, _attribute),
]
