"""Special days: a points multiplier on dates or weekdays, in the merchant's timezone.

Program settings, section ``rules.special_days``::

    {"periods": [
        {"name": "Women's Day", "from": "2026-03-08", "to": "2026-03-08", "multiplier": 2},
        {"name": "Weekend", "weekdays": [5, 6], "multiplier": 1.5}
    ]}

A period matches an order placed (merchant's local time) on a day between
``from`` and ``to`` (both included) and, if ``weekdays`` is given, on one of
them (0 Monday ... 6 Sunday); it needs dates, weekdays or both. When several
match, the highest multiplier applies. The award (rule ``special_days``) is
the extra part: base points times (multiplier - 1), rounded down.
"""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from hub import Award
from hub import ProgramRule
from hub import hookimpl

RULE = "special_days"


class PeriodSchema(Schema):
    name = fields.Str(load_default="", validate=validate.Length(max=100))
    start = fields.Date(data_key="from", load_default=None, allow_none=True)
    end = fields.Date(data_key="to", load_default=None, allow_none=True)
    weekdays = fields.List(
        fields.Int(validate=validate.Range(min=0, max=6)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=7),
    )
    multiplier = fields.Decimal(
        as_string=True, required=True, validate=validate.Range(min=1, min_inclusive=False, max=100)
    )

    @validates_schema
    def _when(self, data, **_):
        if not (data.get("start") or data.get("end") or data.get("weekdays")):
            raise ValidationError("give from/to dates, weekdays, or both")
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("'to' is before 'from'", "to")


class SpecialDaysSchema(Schema):
    enabled = fields.Bool(load_default=True)
    periods = fields.List(
        fields.Nested(PeriodSchema), required=True, validate=validate.Length(min=1, max=366)
    )


def matches(period: dict, day) -> bool:
    """Whether ``period`` covers the local date ``day``."""
    if period.get("start") and day < period["start"]:
        return False
    if period.get("end") and day > period["end"]:
        return False
    return not period.get("weekdays") or day.weekday() in period["weekdays"]


@hookimpl
def register_program_rules(hub):
    return [
        ProgramRule(
            name=RULE,
            title="Special days",
            schema=SpecialDaysSchema,
            description="A points multiplier on chosen dates or weekdays",
        )
    ]


@hookimpl
def points_for_order(order, program):
    settings = program.rule(RULE)
    if settings is None:
        return None
    day = program.local(order.placed_at).date()
    found = [p for p in settings["periods"] if matches(p, day)]
    if not found:
        return None
    best = max(found, key=lambda p: p["multiplier"])
    extra = int(program.points_for(program.earning_base(order)) * (best["multiplier"] - 1))
    if extra <= 0:
        return None
    label = best["name"] or day.isoformat()
    return [Award(points=extra, rule=RULE, note=f"{label}: x{best['multiplier']}")]
