"""Birthday month: more points on orders placed in the member's birthday month.

Program settings, section ``rules.birthday``::

    {"multiplier": 2, "points": 100}

``multiplier``: orders placed in the birthday month (merchant's local time)
earn base points times (multiplier - 1) extra, rule ``birthday``.
``points``: a fixed gift on the member's first paid order of the birthday
month each year, rule ``birthday_gift``. Give either or both. Members
without a birthday, and previews without a member, get neither.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from hub import Award
from hub import ProgramRule
from hub import hookimpl
from hub import rule_awarded

RULE = "birthday"
GIFT = "birthday_gift"


class BirthdaySchema(Schema):
    enabled = fields.Bool(load_default=True)
    multiplier = fields.Decimal(
        as_string=True, validate=validate.Range(min=1, min_inclusive=False, max=100)
    )
    points = fields.Int(validate=validate.Range(min=1, max=1_000_000))

    @validates_schema
    def _something(self, data, **_):
        if "multiplier" not in data and "points" not in data:
            raise ValidationError("give a multiplier, points, or both")


@hookimpl
def register_program_rules(hub):
    return [
        ProgramRule(
            name=RULE,
            title="Birthday month",
            schema=BirthdaySchema,
            description="A multiplier and/or a gift on orders in the member's birthday month",
        )
    ]


@hookimpl
def points_for_order(session, member, order, program):
    settings = program.rule(RULE)
    if settings is None or member is None or member.birthday is None:
        return None
    placed = program.local(order.placed_at)
    if placed.month != member.birthday.month:
        return None
    awards = []
    if "multiplier" in settings:
        extra = int(program.points_for(program.earning_base(order)) * (settings["multiplier"] - 1))
        if extra > 0:
            awards.append(Award(extra, RULE, f"birthday month: x{settings['multiplier']}"))
    if "points" in settings:
        month_start = datetime.combine(placed.date().replace(day=1), time(), placed.tzinfo)
        if rule_awarded(session, member.id, GIFT, since=month_start) == 0:
            awards.append(Award(settings["points"], GIFT, "birthday month gift"))
    return awards
