"""First-order bonus: fixed points on a member's first paid order.

Program settings, section ``rules.first_order``: ``{"points": 200}``. The
order is the member's first when the points engine has counted no other
paid, not cancelled order of theirs. The award's rule is ``first_order``.
"""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import Award
from hub import ProgramRule
from hub import counted_orders
from hub import hookimpl

RULE = "first_order"


class FirstOrderSchema(Schema):
    enabled = fields.Bool(load_default=True)
    points = fields.Int(required=True, validate=validate.Range(min=1, max=1_000_000))


@hookimpl
def register_program_rules(hub):
    return [
        ProgramRule(
            name=RULE,
            title="First order bonus",
            schema=FirstOrderSchema,
            description="Fixed points on a member's first paid order",
        )
    ]


@hookimpl
def points_for_order(session, member, program):
    settings = program.rule(RULE)
    if settings is None or member is None:
        return None
    if counted_orders(session, member.id) > 0:
        return None
    return [Award(settings["points"], RULE, "first order")]
