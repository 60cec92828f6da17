"""Tier multiplier: members of a tier earn its ``earn_multiplier`` times the base points.

A tier's multiplier is set on the tier itself (``PATCH /api/v1/tiers/<id>``
``{"earn_multiplier": "1.5"}``). An order of a member standing in a tier with
a multiplier above 1 earns (multiplier - 1) x its base points extra, as the
rule ``tier_multiplier``, rounded down; base points are the program's earn
rate on the order's earning base, what the built-in ``base`` rule gives. The
tier is the one the member is in when the order earns: an order that lifts
the member into a tier earns at the old one's rate.

On wherever tiers have multipliers; a merchant switches it off with the
program setting ``rules.tier_multiplier = {"enabled": false}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from marshmallow import Schema
from marshmallow import fields
from sqlalchemy import exists
from sqlalchemy import select

from hub import Award
from hub import ProgramRule
from hub import Tier
from hub import current_tier
from hub import hookimpl
from hub import per_transaction

RULE = "tier_multiplier"


class TierMultiplierSchema(Schema):
    enabled = fields.Bool(load_default=True)


@hookimpl
def register_program_rules(hub):
    return [
        ProgramRule(
            name=RULE,
            title="Tier multiplier",
            schema=TierMultiplierSchema,
            description="Members earn their tier's earn multiplier times the base points",
        )
    ]


@hookimpl
def points_for_order(session, member, order, program):
    """Award (multiplier - 1) x base points to a member of a tier with a multiplier above 1."""
    if member is None or not _enabled(program) or not _any_multiplier(session, member.merchant_id):
        return None
    tier = current_tier(session, member)
    if tier is None or Decimal(tier.earn_multiplier) <= 1:
        return None
    base = program.points_for(program.earning_base(order))
    multiplier = Decimal(tier.earn_multiplier).normalize()
    extra = int(base * (multiplier - 1))
    if extra <= 0:
        return None
    return [Award(extra, RULE, f"tier {tier.name}: x{multiplier:f} on {base} base points")]


def _enabled(program) -> bool:
    section = program.rules.get(RULE)
    return not (isinstance(section, Mapping) and section.get("enabled", True) is False)


def _any_multiplier(session, merchant_id: int) -> bool:
    """Whether any of the merchant's tiers has a multiplier above 1: asked once per
    transaction, so a merchant without such tiers costs no query per order."""
    answers = per_transaction(session, "tier_multiplier_merchants", dict)
    if merchant_id not in answers:
        answers[merchant_id] = bool(
            session.scalar(
                select(exists().where(Tier.merchant_id == merchant_id, Tier.earn_multiplier > 1))
            )
        )
    return answers[merchant_id]
